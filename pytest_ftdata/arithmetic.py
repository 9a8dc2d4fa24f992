"""Mechanical checks of the arithmetic written in a reasoning answer.

A reasoning target (a GSM8K solution, a chain of thought) teaches a model to write
equations, and a fine-tune learns a wrong `48/2 = 25` as readily as a right one; a
final answer that nothing before it computes teaches it to guess. This module finds
the equations in a target, recomputes them exactly and reports the results that are
wrong, and says whether the final answer comes from the work. It is a leaf of the
package (standard library only, no pytest); a check family wraps it.

API
---
`check_reasoning(text, question=None, unit_scales=None) -> ReasoningReport`
    `errors`: `WrongResult`s in text order, each with its span in `text`, the
    equation as written, the stated result, the correct value and its kind:

    - `annotation`: a GSM8K calculator annotation whose result is wrong,
      `<<48/2=25>>`;
    - `after-annotation`: the number written right after a right annotation that
      does not repeat it, `<<48/2=24>>25`;
    - `prose`: a step of an equation in the text, `18 + 25 = 44`,
      `$1,200 x 2 = $2,500`, each `=` of `a = b = c`.

    `final_answer`: the `FinalAnswer` the text ends with, or None.
    `final_answer_derived`: see Derivation. `values`: the numbers computed or written
    before the final answer. Counters: `annotations_checked`, `prose_checked`,
    `unverifiable`, and `truncated` when the text has more than `MAX_EQUATIONS`.
`check_reasoning_noting_question(text, question=None, unit_scales=None) -> (ReasoningReport, bool)`
    The same report, and whether it depends on the question (a function of the
    text alone): a caller may remember the reports of the others by text.
`find_final_answer(text) -> FinalAnswer | None`, `final_answer_marker(text) -> str | None`
    The answer a text ends with, and its marker shape (one of `MARKERS`): `####`
    (`#### 72`), `boxed` (`\\boxed{72}`), `answer-is` (`The answer is 72.`,
    `the answer is: $72.`, `Answer: 72`). A caller finds the dominant shape of a
    file from the second and flags targets that end in none.
`evaluate(expression) -> int | Fraction | None`
    The exact value of an arithmetic expression; None when it is unverifiable.

Invariants
----------
- Nothing is evaluated with eval, exec or ast. A tokenizer and a shunting-yard
  evaluator accept numbers (`1,200`, `.25`, `$2.50`), `+ - * / x × ÷ // ^ **` (power
  right-associative, unary minus below it: `-2^2 = -4`), parentheses, unary signs,
  postfix `%` (`50 * 20%`), `of` after a percentage or a fraction (`20% of 50`,
  `1/2 of 20`, as GSM8K writes them), implicit multiplication before a parenthesis
  (`86(2)`) and mixed numbers (`1 1/2`). Arithmetic is exact (int and Fraction).
- Unsure is unverifiable, never wrong: counted, not reported. That covers division by
  zero, a literal of more than `MAX_LITERAL_DIGITS` digits or with a leading zero
  (`0930` is a time), a power with an exponent over `MAX_EXPONENT` or a result over
  `MAX_BITS` (`9^9^9`), nesting deeper than `MAX_NESTING`, anything the evaluator
  rejects, and every prose equation whose ends are not clearly delimited: algebra
  (`2x = 10`, `x = 5`, `100 = 5A`), times and ratios (`3:30`, `2:1`), units inside
  the expression (`5 km/h`, `3 weeks * 4 days/week`), words inside it
  (`3 apples + 2 = 5`, `half of 20 + 4`). A scale word after a result gives it a
  second reading (`= 2 million` holds for 2 and for 2,000,000, `= 1 dozen` for 12).
- Written rounding is accepted. A result with d decimals holds when it is the exact
  value truncated or rounded to nearest at d decimals (`10/3 = 3.33`, `2/3 = 0.67`,
  `2/3 = 0.66`, `1/3 = .333`; never `10/3 = 3.34`). Repeating decimals follow the
  same rule; an integer may stand for a non-integer only when the value has no
  finite decimal form (`10/3 = 3`, but `25/2 = 13` is wrong). A fraction written as
  a result (`<<3/4=3/4>>`) must be exact.
- A percentage is read both as /100 and as its bare number, and holds when either
  reading does: GSM8K writes `20% = 0.2`, `1/2 = 50%` and `(75/100)*100 = 75%`.
  Prose `a / b/c` is also read as `a / (b/c)` (`25 / 1/3 = 75`).
- A prose step that fails is reported only when it is a claim about arithmetic: not
  when a bare number opens the chain (`Week 2 = 35 hours`: `=` as "is"), not when
  the right side starts with the left side's value (`20 - 5 = 15 - 3 = 12`: `=` as
  "then"; the next step is still judged), not for a range (`Weeks 1-2 = 96 - 70`),
  and not when it is off by exactly 100, 1000 or a million (`$1 / 2 = 50 cents`).
- A prose side followed by an annotation (`12/60 = $<<12/60=0.2>>0.2`) is one claim
  with it: the annotation and the number after it are checked, the prose side is
  not, so nothing is reported twice.
- Work is bounded and close to linear in the length of the text: at most
  `MAX_EQUATIONS` equations per text, prose tokenized only within `PROSE_WINDOW`
  characters of a prose `=`, final answers looked for in the last
  `FINAL_ANSWER_TAIL` characters, every regular expression without nested
  unbounded repeats, and a text with neither `=` nor a marker costs two substring
  tests.
- Verdicts are remembered, never guessed: an annotation (keyed by its matched text)
  and a prose window (keyed by its text, the character after it and whether it
  cuts its line) met again reuse the verdict computed the first time, with spans
  moved to where they are now. A verdict depends on nothing else, so a report is
  the same with the memos on or off (`MEMO_ENTRIES`, `WINDOW_MEMO_ENTRIES`; tests
  compare the two on random text). Each memo is bounded in entries and key length.

Derivation
----------
`final_answer_derived` is None without a numeric final answer or without any number
before it. Otherwise it is True when the answer's value (or its negation) equals a
number written or computed before it, or one in `question`; or equals such a number
times one of the `UNIT_SCALES`; or is such a non-integer rounded up or down to the
decimals the answer was written with (`13` buses for a computed 12.5). Numbers count
as digits, with space-grouped thousands (`80 000`) and common number words. This is
a weak test by design: it asks only whether the number came from somewhere, so an
answer it flags deserves a look and one it passes may still be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import islice
from math import ceil, floor, gcd
from typing import Union

#: An exact number: ints stay ints, everything else is a Fraction.
Rational = Union[int, Fraction]

#: Digits in one literal; a longer run is an id or a hostile input, not arithmetic.
MAX_LITERAL_DIGITS = 30
#: Characters of an annotation's expression; tokens of any expression.
MAX_EXPRESSION_CHARS = 200
MAX_TOKENS = 256
#: Parenthesis depth and run of unary signs.
MAX_NESTING = 16
#: The largest exponent of a power, and the largest number (bits of numerator or
#: denominator) any step may produce: plenty for school arithmetic, nothing to
#: compute; 9^9^9 is refused.
MAX_EXPONENT = 64
MAX_BITS = 1024
#: Annotations and prose `=` signs looked at per text.
MAX_EQUATIONS = 1000
#: Numbers collected per text for `values` and derivation.
MAX_VALUES = 2000
#: How far from a prose `=` its chain is looked for (a chain is within one line).
PROSE_WINDOW = 100
#: The final answer must be within this many characters of the end.
FINAL_ANSWER_TAIL = 400

#: Factors under which a final answer still counts as derived: the answer may be a
#: computed value times one of these. Only what GSM8K needs: 100, for the questions
#: that ask "in cents" (train.jsonl:124 computes `$<<0.50-.25=0.25>>0.25` and
#: answers `#### 25`; also train 344, 1618, 3518 and test 494, 608, 1244). Minutes,
#: hours, thousands, dozens and weeks are not needed: GSM8K writes those conversions
#: out, and every extra factor lets more wrong answers pass (under 12, a wrong
#: `#### 36` after a computed 3 would count as derived).
UNIT_SCALES: tuple[int, ...] = (100,)

MARKERS = ("####", "boxed", "answer-is")


class Unverifiable(Exception):
    """An expression this module will not judge (not an error in the text)."""


@dataclass(frozen=True)
class WrongResult:
    """A stated result that the exact value of its expression refutes."""

    kind: str  # "annotation", "after-annotation" or "prose"
    start: int  # span in the checked text
    end: int
    equation: str  # as written: "48/2=25", "<<48/2=24>>25", "18 + 25 = 44"
    stated: str  # the result as written: "25", "$2,500"
    correct: str  # what it should be: "24", "0.2", "3.3333" (rounded for display)

    def __str__(self) -> str:
        return f"{self.equation!r}: {self.stated} should be {self.correct} ({self.kind})"


@dataclass(frozen=True)
class FinalAnswer:
    """The answer a text ends with."""

    marker: str  # one of MARKERS
    text: str  # the answer as written after the marker: "1,200", "\\frac{1}{2}", "Yes"
    value: Rational | None  # None when it is not a number
    start: int  # span of the marker and the answer
    end: int


@dataclass(frozen=True)
class ReasoningReport:
    """What `check_reasoning` found in one text; spans index `text`."""

    errors: tuple[WrongResult, ...]
    final_answer: FinalAnswer | None
    final_answer_derived: bool | None
    annotations_checked: int  # annotations whose expression was evaluated
    prose_checked: int  # prose `=` steps judged (right or wrong)
    unverifiable: int  # annotations and prose steps seen but not judged
    truncated: bool  # over MAX_EQUATIONS: the rest of the text was not checked
    computed: tuple[Rational, ...] = ()  # exact values of the equations evaluated
    text: str = field(default="", repr=False, compare=False)

    @cached_property
    def values(self) -> tuple[Rational, ...]:
        """The numbers computed or written before the final answer (in the whole text
        when there is none), at most MAX_VALUES: what derivation looks among (with
        the question's). Read on first access, because reading every number of a
        text costs more than checking its equations and most callers never ask."""
        limit = self.final_answer.start if self.final_answer else len(self.text)
        return (self.computed + tuple(_numbers_in(self.text, 0, limit, MAX_VALUES)))[:MAX_VALUES]


_NOTHING = ReasoningReport((), None, None, 0, 0, 0, False)


# The generated `__init__` of a frozen dataclass calls `object.__setattr__` once per
# field, and a generic constructor (`dict(zip(names, values))`) is little faster: each
# costs over a microsecond, as much as reading a whole GSM8K answer's annotations from
# the memo. These two fill the instance dictionary field by field, in the order the
# dataclass declares; instances made either way are the same (equality, hashing,
# pickling, `cached_property`), which a test checks field by field.
_object_new = object.__new__


def _new_report(errors, final_answer, final_answer_derived, annotations_checked, prose_checked, unverifiable,
                truncated, computed, text) -> ReasoningReport:
    report = _object_new(ReasoningReport)
    fields = report.__dict__
    fields["errors"] = errors
    fields["final_answer"] = final_answer
    fields["final_answer_derived"] = final_answer_derived
    fields["annotations_checked"] = annotations_checked
    fields["prose_checked"] = prose_checked
    fields["unverifiable"] = unverifiable
    fields["truncated"] = truncated
    fields["computed"] = computed
    fields["text"] = text
    return report


def _new_final_answer(marker, text, value, start, end) -> FinalAnswer:
    answer = _object_new(FinalAnswer)
    fields = answer.__dict__
    fields["marker"] = marker
    fields["text"] = text
    fields["value"] = value
    fields["start"] = start
    fields["end"] = end
    return answer


# -- numbers and expressions -------------------------------------------------------------------

# A number as written: `1,200` (groups of exactly three, else it is a list), `3.5`,
# `.25`. ASCII digits only: `\d` would accept digits of other scripts.
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
# A number without separators: what almost every calculator result looks like.
_PLAIN_NUMBER = r"(?:[0-9]{1,30}(?:\.[0-9]{1,30})?|\.[0-9]{1,30})"
_CURRENCY = "$£€"
_MINUS = "-−–"  # hyphen, minus sign, and the en dash GSM8K writes for minus
_EXPRESSION_TOKEN = re.compile(
    rf"\s*(?:[{_CURRENCY}]\s?)?({_NUMBER})|\s*(\*\*|//|[-+*/x×X÷^()%−–])|\s*(\S)"
)


def _pair(text: str) -> tuple[int, int]:
    """A literal as an unreduced (numerator, denominator): `1,200.50` -> (120050, 100).
    Callers pass what a `[0-9]` pattern matched, so `isdigit` means ASCII digits."""
    if text.isdigit():
        if len(text) > MAX_LITERAL_DIGITS or (text[0] == "0" and len(text) > 1):
            raise Unverifiable("too many digits, or a leading zero (a time such as 0930, a code)")
        return int(text), 1
    text = text.replace(",", "")
    if len(text) - ("." in text) > MAX_LITERAL_DIGITS:
        raise Unverifiable("literal too long")
    if len(text) > 1 and text[0] == "0" and text[1] != ".":
        raise Unverifiable("a leading zero: a time (0930) or a code, not a quantity")
    whole, dot, decimals = text.partition(".")
    if not dot:
        return int(text), 1
    return int(whole + decimals), 10 ** len(decimals)


def _literal(text: str) -> Rational:
    """`1,200.50` -> Fraction(2401, 2), `9.00` -> 9."""
    numerator, denominator = _pair(text)
    if denominator == 1:
        return numerator
    if numerator % denominator == 0:
        return numerator // denominator
    return Fraction(numerator, denominator)


def _reduced(numerator: int, denominator: int) -> Rational:
    if denominator == 1:
        return numerator
    common = gcd(numerator, denominator)
    numerator, denominator = numerator // common, denominator // common
    return numerator if denominator == 1 else Fraction(numerator, denominator)


def _divide(left: Rational, right: Rational) -> Rational:
    if right == 0:
        raise Unverifiable("division by zero")
    if type(left) is int and type(right) is int:
        return _reduced(left, right) if right > 0 else _reduced(-left, -right)
    return Fraction(left) / right


# The evaluator works on unreduced (numerator, denominator) pairs and reduces once
# at the end: Fraction's pure-Python arithmetic reduces after every operation and
# costs several times more. Denominators stay positive.
_BINARY_PRECEDENCE = {
    "+": 1, "-": 1, "−": 1, "–": 1,
    "*": 2, "x": 2, "×": 2, "X": 2, "/": 2, "÷": 2, "//": 2, "of": 2,
    "^": 4, "**": 4,
}
_NEGATE, _PLUS = "negate", "plus"  # unary signs: above * and /, below ^
_UNARY_PRECEDENCE = 3


def _check_size(numerator: int, denominator: int) -> tuple[int, int]:
    if numerator.bit_length() > MAX_BITS or denominator.bit_length() > MAX_BITS:
        common = gcd(numerator, denominator)
        numerator, denominator = numerator // common, denominator // common
        if numerator.bit_length() > MAX_BITS or denominator.bit_length() > MAX_BITS:
            raise Unverifiable("number too large")
    return numerator, denominator


def _apply(operator: str, values: list[tuple[int, int]]) -> None:
    if operator == _NEGATE:
        numerator, denominator = values[-1]
        values[-1] = (-numerator, denominator)
        return
    if operator == _PLUS:
        return
    if len(values) < 2:
        raise Unverifiable("missing operand")
    right_n, right_d = values.pop()
    left_n, left_d = values[-1]
    if operator == "+" or operator in _MINUS:
        if operator != "+":
            right_n = -right_n
        if left_d == right_d:
            values[-1] = (left_n + right_n, left_d)
        else:
            values[-1] = _check_size(left_n * right_d + right_n * left_d, left_d * right_d)
    elif operator == "/" or operator == "÷":
        if right_n == 0:
            raise Unverifiable("division by zero")
        if right_n < 0:
            right_n, right_d = -right_n, -right_d
        values[-1] = _check_size(left_n * right_d, left_d * right_n)
    elif operator == "//":  # Python's floor division: GSM8K train 395 has `<<560//10=56>>`
        if right_n == 0:
            raise Unverifiable("division by zero")
        values[-1] = ((left_n * right_d) // (left_d * right_n), 1)
    elif operator == "^" or operator == "**":
        if right_n % right_d:
            raise Unverifiable("a fractional exponent")
        exponent = right_n // right_d
        if abs(exponent) > MAX_EXPONENT:
            raise Unverifiable("exponent too large")
        common = gcd(left_n, left_d)
        left_n, left_d = left_n // common, left_d // common
        if max(left_n.bit_length(), left_d.bit_length()) * abs(exponent) > MAX_BITS:
            raise Unverifiable("power too large")
        if exponent < 0:
            if left_n == 0:
                raise Unverifiable("division by zero")
            left_n, left_d, exponent = left_d, left_n, -exponent
            if left_d < 0:
                left_n, left_d = -left_n, -left_d
        values[-1] = (left_n**exponent, left_d**exponent)
    else:  # * x × X of
        values[-1] = _check_size(left_n * right_n, left_d * right_d)


def _evaluate_tokens(tokens: list[tuple[str, str]], percent: tuple[int, int] = (1, 100)) -> Rational:
    """Shunting-yard over (kind, text) tokens, kind "n" (a number) or "o"; `%`
    multiplies by `percent` (1/100, or 1 for the bare reading)."""
    count = len(tokens)
    if count > MAX_TOKENS:
        raise Unverifiable("expression too long")
    values: list[tuple[int, int]] = []
    operators: list[str] = []
    expect_operand = True
    depth = signs = index = 0
    while index < count:
        kind, text = tokens[index]
        index += 1
        if expect_operand:
            if kind == "n":
                value = _pair(text)
                # `1 1/2`: an integer, then a proper fraction of integers.
                if (
                    value[1] == 1
                    and index + 2 < count
                    and tokens[index][0] == "n"
                    and tokens[index + 1][1] == "/"
                    and tokens[index + 2][0] == "n"
                ):
                    numerator, denominator = _pair(tokens[index][1]), _pair(tokens[index + 2][1])
                    if numerator[1] == denominator[1] == 1 and 0 < numerator[0] < denominator[0]:
                        value = (value[0] * denominator[0] + numerator[0], denominator[0])
                        index += 3
                values.append(value)
                expect_operand = False
                signs = 0
            elif text == "(":
                depth += 1
                if depth > MAX_NESTING:
                    raise Unverifiable("nested too deep")
                operators.append("(")
            elif text == "+" or text in _MINUS:
                signs += 1
                if signs > MAX_NESTING:
                    raise Unverifiable("too many signs")
                operators.append(_PLUS if text == "+" else _NEGATE)
            else:
                raise Unverifiable(f"unexpected {text!r}")
            continue
        if text == ")":
            while operators and operators[-1] != "(":
                _apply(operators.pop(), values)
            if not operators:
                raise Unverifiable("unbalanced parenthesis")
            operators.pop()
            depth -= 1
            continue
        if text == "%":
            numerator, denominator = values[-1]
            values[-1] = (numerator * percent[0], denominator * percent[1])
            continue
        if text == "(":  # `86(2)`: multiply, then read the parenthesis as an operand
            text = "*"
            index -= 1
        precedence = _BINARY_PRECEDENCE.get(text)
        if precedence is None or kind != "o":
            raise Unverifiable(f"unexpected {text!r}")
        power = precedence == 4  # right-associative
        while operators and operators[-1] != "(":
            top = operators[-1]
            top_precedence = _UNARY_PRECEDENCE if top == _NEGATE or top == _PLUS else _BINARY_PRECEDENCE[top]
            if top_precedence > precedence or (top_precedence == precedence and not power):
                _apply(operators.pop(), values)
            else:
                break
        operators.append(text)
        expect_operand = True
    if expect_operand:
        raise Unverifiable("missing operand")
    while operators:
        operator = operators.pop()
        if operator == "(":
            raise Unverifiable("unbalanced parenthesis")
        _apply(operator, values)
    if len(values) != 1:
        raise Unverifiable("malformed expression")
    return _reduced(*values[0])


def _tokenize(expression: str) -> list[tuple[str, str]]:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise Unverifiable("expression too long")
    tokens = []
    for number, operator, other in _EXPRESSION_TOKEN.findall(expression):
        if other:
            raise Unverifiable(f"unexpected {other!r}")
        tokens.append(("n", number) if number else ("o", operator))
    return tokens


def evaluate(expression: str) -> Rational | None:
    """The exact value of `expression` (a percent is /100), or None if unverifiable.

    >>> evaluate("$1,200 x 2"), evaluate("12/60"), evaluate("9^9^9")
    (2400, Fraction(1, 5), None)
    """
    try:
        return _evaluate_tokens(_tokenize(expression))
    except Unverifiable:
        return None


def _group_divisors(tokens: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """`25 / 1/3` as `25 / (1/3)`, the way people divide by a fraction; None when the
    expression has no `/ a/b` (a mixed number's own `/` does not count)."""
    grouped = None
    index = 0
    while index + 3 < len(tokens):
        mixed = index >= 2 and tokens[index - 1][0] == "n" and tokens[index - 2][0] == "n"
        if (
            not mixed
            and tokens[index][1] in ("/", "÷")
            and tokens[index + 1][0] == "n"
            and tokens[index + 2][1] == "/"
            and tokens[index + 3][0] == "n"
        ):
            if grouped is None:
                grouped = list(tokens[: index + 1])
            grouped += [("o", "("), tokens[index + 1], tokens[index + 2], tokens[index + 3], ("o", ")")]
            index += 4
            continue
        if grouped is not None:
            grouped.append(tokens[index])
        index += 1
    if grouped is not None:
        grouped.extend(tokens[index:])
    return grouped


def _readings(tokens: list[tuple[str, str]], prose: bool = False) -> tuple[Rational, ...]:
    """The values of an expression, the plain reading first: more than one when a `%`
    can be read as /100 or as the bare number, or (in prose) `a / b/c` as `a / (b/c)`.
    Raises Unverifiable when the plain reading is."""
    values = [_evaluate_tokens(tokens)]
    variants = [tokens]
    if prose:
        grouped = _group_divisors(tokens)
        if grouped is not None:
            variants.append(grouped)
    percents = ((1, 100), (1, 1)) if ("o", "%") in tokens else ((1, 100),)  # only an operator is `%`
    for variant in variants:
        for percent in percents:
            if variant is tokens and percent == (1, 100):
                continue
            try:
                values.append(_evaluate_tokens(variant, percent))
            except Unverifiable:
                pass
    return tuple(values)


# -- stated results ----------------------------------------------------------------------------

#: A stated result read one way: its value and the decimals it was written with
#: (None for an exact form such as `3/4`, which must match exactly).
Reading = tuple[Rational, Union[int, None]]

_PLAIN_RESULT = re.compile(_PLAIN_NUMBER)
_RESULT = re.compile(rf"[{_CURRENCY}]?\s?(-?)({_NUMBER})(%?)")


def _decimals(written: str) -> int:
    _, dot, decimals = written.partition(".")
    return len(decimals) if dot else 0


def _stated(written: str) -> tuple[Reading, ...]:
    """A result as written -> its readings: `0.2` -> (1/5, 1 decimal); `35%` -> 0.35
    (two more decimals) and 35; `3/4`, `1 1/2` -> exact forms."""
    if written.isdigit() and written.isascii():
        return ((_literal(written), 0),)
    if _PLAIN_RESULT.fullmatch(written):
        return ((_literal(written), _decimals(written)),)
    match = _RESULT.fullmatch(written.strip())
    if match:
        sign, number, percent = match.groups()
        value = _literal(number)
        if sign:
            value = -value
        decimals = _decimals(number)
        if percent:
            return ((_divide(value, 100), decimals + 2), (value, decimals))
        return ((value, decimals),)
    return tuple((value, None) for value in _readings(_tokenize(written)))


def _agrees(stated: Rational, decimals: int | None, exact: Rational) -> bool:
    """Whether `stated`, written with `decimals` decimals, is `exact` as people write
    it: equal, or truncated or rounded to nearest at that precision, where an integer
    stands for a non-integer only when the value has no finite decimal form."""
    if stated == exact:
        return True
    if decimals is None or type(exact) is int:
        return False
    if decimals == 0 and _terminates(exact):
        return False
    scale = 10**decimals
    scaled = exact * scale
    target = stated * scale
    truncated = int(scaled)  # towards zero
    if target == truncated:
        return True
    low = floor(scaled)
    twice_remainder = (scaled - low) * 2
    return (target == low and twice_remainder <= 1) or (target == low + 1 and twice_remainder >= 1)


def _terminates(value: Fraction) -> bool:
    """Whether a fraction has a finite decimal form (its denominator is 2^a 5^b)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def _holds(stated: tuple[Reading, ...], exact: tuple[Rational, ...]) -> bool:
    for value, decimals in stated:
        for candidate in exact:
            if _agrees(value, decimals, candidate):
                return True
    return False


def _display(value: Rational) -> str:
    """An exact value for a person: `24`, `0.2`, `-1.5`; a value with no decimal form
    of at most six places is rounded to four (`3.3333`)."""
    if type(value) is int:
        return str(value)
    for places in range(1, 7):
        if (10**places) % value.denominator == 0:
            digits = str(abs(value.numerator) * (10**places // value.denominator)).rjust(places + 1, "0")
            sign = "-" if value < 0 else ""
            return f"{sign}{digits[:-places]}.{digits[-places:]}"
    return f"{float(value):.4f}"


# -- annotations -------------------------------------------------------------------------------

_ANNOTATION = rf"<<([^<>=\n]{{1,{MAX_EXPRESSION_CHARS}}})=([^<>=\n]{{1,60}})>>"
# One scan finds every annotation, with the number written right after it, and every
# prose `=` that an annotation does not follow. `[^<>=\n]{1,200}` cannot run past the
# next `<`, `>`, `=` or newline, so each attempt is short and a failed one hands the
# scan on. Groups: 1 expression, 2 result, 3 the number after, 4 its `%`, 5 what
# follows the number: `:00` (`<<6-4=2>>2:00`, the hour), `3/4`, `1.2.3`, `3:30` (not
# comparable), `240k`, `5m` (also read scaled).
_SCAN = re.compile(
    _ANNOTATION
    + rf"(?:[{_CURRENCY}]?(-?(?:{_NUMBER}))(%?)(:00(?![0-9])|[:/.,][0-9]|[kKmMbB](?![A-Za-z]))?)?"
    + rf"|=(?![ \t]{{0,3}}[{_CURRENCY}]?[ \t]{{0,3}}<<)"
)
_SUFFIX_SCALES = {"k": 1000, "m": 1000000, "b": 1000000000}
# All but a few hundred of GSM8K's 27,998 annotations are flat: numbers joined by
# + - * /, with no parentheses, signs or percentages.
_FLAT = re.compile(rf"{_PLAIN_NUMBER}(?:[-+*/]{_PLAIN_NUMBER})*")
_FLAT_SPLIT = re.compile(r"([-+*/])")
# The commonest of them, `48/2`, `3*12`: two integers that `_pair` accepts (no leading
# zero, at most MAX_LITERAL_DIGITS digits) and one operator.
_INTEGER = rf"(?:[1-9][0-9]{{0,{MAX_LITERAL_DIGITS - 1}}}|0)"
_SIMPLE = re.compile(rf"({_INTEGER})([-+*/])({_INTEGER})")


def _flat_value(expression: str) -> Rational:
    """The value of a flat expression (`100-50-30-15`, `18*.5`, `12/60`), precedence
    by hand: a faster twin of `_evaluate_tokens` (tests keep the two equal). Sizes
    need no check: MAX_EXPRESSION_CHARS digits cannot make a number much over 2^1300."""
    parts = _FLAT_SPLIT.split(expression)
    total_n, total_d = 0, 1
    term_n, term_d = _pair(parts[0])
    negative = False
    for index in range(1, len(parts), 2):
        operator = parts[index]
        numerator, denominator = _pair(parts[index + 1])
        if operator == "*":
            term_n, term_d = term_n * numerator, term_d * denominator
        elif operator == "/":
            if numerator == 0:
                raise Unverifiable("division by zero")
            term_n, term_d = term_n * denominator, term_d * numerator
        else:
            if negative:
                term_n = -term_n
            total_n, total_d = total_n * term_d + term_n * total_d, total_d * term_d
            negative = operator == "-"
            term_n, term_d = numerator, denominator
    if negative:
        term_n = -term_n
    return _reduced(total_n * term_d + term_n * total_d, total_d * term_d)


def _annotation_value(expression: str) -> tuple[Rational, ...]:
    """The readings of an annotation's expression, read as a calculator does: `a / b/c`
    is `(a / b) / c`, as Python evaluated GSM8K's annotations."""
    if _FLAT.fullmatch(expression):
        return (_flat_value(expression),)
    return _readings(_tokenize(expression))


def _check_after(match: re.Match, stated: tuple[Reading, ...], exact: tuple[Rational, ...] | None,
                 holds: bool, errors: list[WrongResult]) -> None:
    """The number written right after an annotation must repeat its result, or give
    the exact value when the annotation is the wrong one (then it is the
    annotation's error, not a second one). Spans are relative to the match."""
    after, percent, suffix = match.group(3), match.group(4), match.group(5)
    if suffix == ":00":
        suffix = None
    elif after is None or (suffix and not suffix.isalpha()):
        return
    try:
        readings = _stated(after + percent)
    except Unverifiable:
        return
    if suffix:
        scale = _SUFFIX_SCALES[suffix.lower()]
        readings += tuple((value * scale, decimals) for value, decimals in readings)
    references = tuple(value for value, _ in stated) + (exact or ())
    if not _holds(readings, references):
        base = match.start()
        start, end = match.start(3), match.end(4)
        correct = match.group(2) if holds else _display(exact[0])
        errors.append(WrongResult("after-annotation", start - base, end - base, match.string[base:end],
                                  match.string[start:end], correct))


#: The verdict on one annotation match, as `check_reasoning` counts it: (annotations
#: checked, unverifiable, its exact value or None, errors with spans relative to the
#: start of the match).
_Verdict = tuple[int, int, Union[Rational, None], tuple[WrongResult, ...]]
_UNVERIFIABLE_RESULT: _Verdict = (0, 1, None, ())


def _annotation_verdict(match: re.Match, fast: bool = True) -> _Verdict:
    """Judge one annotation match of `_SCAN`: a function of the matched text alone,
    which is what lets `check_reasoning` remember it. With `fast`, the common case
    (a flat expression with an integer value, a plain integer result, the same
    number or none after it) skips the general reading of results; tests keep the
    two paths equal."""
    expression, result, after, percent, suffix = match.groups()
    if (
        fast
        and (after is None or (after == result and not percent and not suffix))  # nothing after, or the same
        and result.isdigit()
        and result.isascii()
        and len(result) <= MAX_LITERAL_DIGITS
        and (result[0] != "0" or len(result) == 1)
    ):
        simple = _SIMPLE.fullmatch(expression)
        if simple is not None:  # `a op b` in integers: the value `_flat_value` gives, when it is an integer
            left, operator, right = simple.groups()
            a, b, stated = int(left), int(right), int(result)
            if operator == "*":
                value = a * b
            elif operator == "+":
                value = a + b
            elif operator == "-":
                value = a - b
            else:
                value = a // b if b and a % b == 0 else None
            if value == stated:
                return (1, 0, value, ())
        elif _FLAT.fullmatch(expression):
            try:
                value = _flat_value(expression)
            except Unverifiable:
                value = None
            # An integer value holds only for an equal integer result (see `_agrees`).
            if type(value) is int and value == int(result):
                return (1, 0, value, ())
    try:
        exact = _annotation_value(expression)
    except Unverifiable:
        exact = None
    try:
        stated = _stated(result)
    except Unverifiable:
        return _UNVERIFIABLE_RESULT
    errors: list[WrongResult] = []
    if exact is None:
        checked, unverifiable, value = 0, 1, None
        holds = True  # nothing to say about the annotation; the text after it still must repeat it
    else:
        checked, unverifiable, value = 1, 0, exact[0]
        holds = _holds(stated, exact)
        if not holds:
            errors.append(WrongResult("annotation", 0, match.end(2) + 2 - match.start(),
                                      f"{expression}={result}", result, _display(exact[0])))
    if after != result or percent or suffix:  # else the text repeats the result
        _check_after(match, stated, exact, holds, errors)
    return (checked, unverifiable, value, tuple(errors))


# -- prose equations ---------------------------------------------------------------------------

_PROSE_TOKEN = re.compile(
    r"[ \t]*(?:"  # spaces are skipped, not tokens: adjacency is read from the spans
    rf"(<<[^<>=\n]{{1,{MAX_EXPRESSION_CHARS}}}=[^<>=\n]{{1,60}}>>)"  # 1 annotation
    rf"|({_NUMBER})"  # 2 number
    r"|(\*\*|[-+*/×÷^%−–])"  # 3 operator
    r"|(=)"  # 4
    r"|([()])"  # 5 parenthesis
    r"|([^\W\d_]+)"  # 6 word
    rf"|([{_CURRENCY}])"  # 7 currency
    r"|(\S))"  # 8 anything else
)
_ANN, _NUM, _OP, _EQ, _PAREN, _WORD, _CUR, _OTHER = range(1, 9)
_ARITHMETIC = frozenset((_NUM, _OP, _PAREN, _CUR))

#: Words that continue an expression. Before a side, the equation began before them
#: (`3 times 4 + 1 = 13`, `¾ x 3/3 = 9/12`); `of` and `by` only after a word or
#: number that makes them operators (`half of 20 + 4`, `divided by 2 + 3`), as after
#: any other word they open the quantity (`a total of 4*5 = 20`, `increased by
#: 684*.25 = 171`); `and` only after a number that is not a result (`1 and 1/4`).
#: After a side, the expression goes on only if an operand follows (`= 5 times 3`;
#: `= 26 times` ends), and `= 4 more squirrels`, `= 20 of them` end with the number.
_CONNECTORS_BEFORE = frozenset(
    "times plus minus per over less more half twice double triple thrice "
    "quarter third thirds fourth fifth squared cubed divided multiplied into from x".split()
)
_MAKE_OF_AND_BY_OPERATORS = frozenset(
    "half halves third thirds quarter quarters fourth fourths fifth fifths sixth sixths eighth "
    "eighths tenth tenths percent twice double triple divided multiplied divide multiply times".split()
)
_CONNECTORS_AFTER = frozenset("times plus minus divided multiplied over x".split())
#: Words after a result that change what it means: never judged.
_MODIFIERS_AFTER = frozenset("percent squared cubed".split())
#: Scale words after a result: `= 2 million` and `= 1 dozen` hold for 2,000,000 and
#: 12 as well as for 2 and 1.
_SCALE_WORDS = {
    "hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12,
    "dozen": 12, "k": 1000, "bn": 10**9, "mil": 10**6,
}
#: Words after a result that end the expression even when a number follows them.
_CONJUNCTIONS = frozenset("and or but so then because since while which when if".split())
#: Units that make a quantity of two numbers: `5 feet 3 inches`, `2 hours 30 minutes`.
_COMPOUND_UNITS = frozenset(
    "feet foot ft yards yard miles mile meters meter metres metre km hours hour hr hrs minutes minute min "
    "mins seconds second years year months month weeks week days day pounds pound lb lbs dollars dollar "
    "gallons gallon".split()
)
#: Single letters that are units, not variables, when glued to a number (`30000m`).
_UNIT_LETTERS = frozenset("mghsltc")
#: Punctuation that may touch a side without joining it to anything.
_SAFE_BEFORE = frozenset("\"'([{")
_SAFE_AFTER = frozenset(".,;:!?\"')]}")
#: A failed step off by exactly one of these is a unit change (cents, thousands).
_UNIT_RATIOS = frozenset((100, 1000, 1000000, Fraction(1, 100), Fraction(1, 1000), Fraction(1, 1000000)))


def _prose_tokens(text: str, start: int, end: int) -> list[tuple[int, str, int, int]]:
    """Tokens of text[start:end] as (kind, text, start, end); `x` and `of` become
    operators where they stand between operands (`3 x 4`, `20% of 50`, `1/2 of 20`)."""
    tokens = []
    append = tokens.append
    for match in _PROSE_TOKEN.finditer(text, start, end):
        kind = match.lastindex
        begin, finish = match.span(kind)  # the group ends where the match does
        append((kind, match.group(kind), begin, finish))
    # Only a window with an `x`, `X` or `of` in it can hold such a word.
    if text.find("x", start, end) < 0 and text.find("X", start, end) < 0 and text.find("of", start, end) < 0:
        return tokens
    for index in range(1, len(tokens) - 1):
        kind, word, begin, finish = tokens[index]
        if kind != _WORD or word not in ("x", "X", "of"):
            continue
        before, after = tokens[index - 1], tokens[index + 1]
        if not (after[0] == _NUM or after[0] == _CUR or after[1] == "("):
            continue
        if word == "of":
            fraction = before[0] == _NUM and index >= 3 and tokens[index - 2][1] == "/" and tokens[index - 3][0] == _NUM
            if before[1] == "%" or fraction:
                tokens[index] = (_OP, "of", begin, finish)
        elif before[0] == _NUM or before[1] in (")", "%"):
            tokens[index] = (_OP, "*", begin, finish)
    return tokens


def _depth_change(tokens) -> int:
    texts = [token[1] for token in tokens]
    return texts.count("(") - texts.count(")")


class _Side:
    """One side of a prose `=`: its readings, its stated readings when it is a single
    (signed) number, and its span."""

    __slots__ = ("readings", "stated", "start", "end", "opens_aside")

    def __init__(self, readings: tuple[Rational, ...], stated: tuple[Reading, ...] | None, start: int, end: int,
                 opens_aside: bool = False):
        self.readings = readings
        self.stated = stated
        self.start = start
        self.end = end
        self.opens_aside = opens_aside  # the side began after an unmatched `(`: `600/(3+1 = 4)`


class _ProseChecker:
    """Checks the prose equations of one text, window by window."""

    def __init__(self, text: str):
        self.text = text
        self.errors: list[WrongResult] = []
        self.values: list[Rational] = []
        self.checked = 0
        self.unverifiable = 0

    def check_window(self, start: int, end: int, open_left: bool, open_right: bool) -> None:
        """Check the chains in text[start:end], a line or (when open) a cut of one."""
        tokens = _prose_tokens(self.text, start, end)
        count = len(tokens)
        index = 0
        while index < count:
            if tokens[index][0] != _EQ:
                index += 1
                continue
            first = index
            while first > 0 and tokens[first - 1][0] in _ARITHMETIC:
                first -= 1
            sides = [tokens[first:index]]
            before = tokens[first - 1] if first else None
            ahead = tokens[first - 2] if first > 1 else None
            # Whether `ahead` ends the result of an earlier equation: `= 241 and 241 - 153`.
            back = first - 2
            while back >= 0 and tokens[back][0] in _ARITHMETIC:
                back -= 1
            ahead_is_result = back >= 0 and tokens[back][0] == _EQ
            position = index
            ends_in_annotation = False
            while position < count and tokens[position][0] == _EQ:
                cursor = position + 1
                while cursor < count and tokens[cursor][0] == _CUR:
                    cursor += 1
                if cursor < count and tokens[cursor][0] == _ANN:  # `= $<<12/60=0.2>>`
                    ends_in_annotation = True
                    position = cursor + 1
                    break
                cursor = position + 1
                while cursor < count and tokens[cursor][0] in _ARITHMETIC:
                    cursor += 1
                sides.append(tokens[position + 1 : cursor])
                position = cursor
            after = None
            following = (None, None)
            if not ends_in_annotation and position < count:
                after = tokens[position]
                following = (tokens[position + 1] if position + 1 < count else None,
                             tokens[position + 2] if position + 2 < count else None)
            left_cut = open_left and first == 0
            right_cut = open_right and position >= count and not ends_in_annotation
            self.check_chain(sides, (before, ahead, ahead_is_result), left_cut, after, following, right_cut, ends_in_annotation)
            index = max(position, index + 1)

    def check_chain(self, sides, context, left_cut, after, following, right_cut, ends_in_annotation) -> None:
        last = len(sides) - 1
        parsed: list[_Side | None] = []
        aside = False
        for number, tokens in enumerate(sides):
            if aside:
                # `600/(3+1 = 4) = 150`: the aside ends at the `)` that closes it, and
                # what follows belongs to the larger expression, which is not judged.
                last = number
                try:
                    if not tokens or tokens[-1][1] != ")" or _depth_change(tokens) >= 0:
                        raise Unverifiable("the aside does not close here")
                    side = self.side(tokens, False, True)
                    parsed.append(side)
                    self.values.append(side.readings[0])
                except Unverifiable:
                    parsed.append(None)
                break
            try:
                if not tokens:
                    raise Unverifiable("empty side")
                if number == 0 and (left_cut or not self.left_is_delimited(tokens, *context)):
                    raise Unverifiable("the expression may start before this side")
                closes = number == last and not ends_in_annotation
                if closes:
                    if self.ends_in_compound_adjective(tokens, after):
                        tokens = tokens[:-2]  # `48/4=12 5-minute intervals`
                    elif right_cut or not self.right_is_delimited(tokens, after, *following):
                        raise Unverifiable("the expression may go on after this side")
                    if any(token[1] == "of" for token in tokens):
                        raise Unverifiable("`= 1/3 of $150`: a phrase, not a result")
                side = self.side(tokens, number == 0, closes)
                if closes and after is not None and after[0] == _WORD and side.stated is not None:
                    scale = _SCALE_WORDS.get(after[1].lower())
                    if scale is not None:  # `= 1 dozen` is 1 or 12
                        side.stated += tuple((value * scale, decimals) for value, decimals in side.stated)
                        side.readings += tuple(value * scale for value in side.readings)
                parsed.append(side)
                self.values.append(side.readings[0])
                aside = number == 0 and side.opens_aside
            except Unverifiable:
                parsed.append(None)
        for number in range(last):
            self.judge(parsed[number], parsed[number + 1], sides[number + 1], number == 0)

    @staticmethod
    def ends_in_compound_adjective(side, after) -> bool:
        """`= 12 5-minute intervals`, `= 3 2-liter bottles`: a number glued by a hyphen
        to the word after the side, apart from the result before it."""
        return (
            len(side) >= 3
            and after is not None
            and after[0] == _WORD
            and side[-1][1] == "-"
            and side[-2][0] == _NUM
            and side[-3][3] < side[-2][2]
            and side[-2][3] == side[-1][2]
            and side[-1][3] == after[2]
        )

    def left_is_delimited(self, side, before, ahead, ahead_is_result: bool) -> bool:
        """Whether the first side of a chain starts where its expression starts;
        `before` is the token before it, `ahead` the one before that."""
        if side[0][0] == _OP:
            return False  # `3 apples + 2 = 5`
        if before is None:
            return True
        kind, word, begin, finish = before
        glued = finish == side[0][2]
        if kind == _WORD:
            lowered = word.lower()
            if glued or lowered in _CONNECTORS_BEFORE:
                return False
            if lowered == "of" or lowered == "by":
                return ahead is None or not (ahead[0] == _NUM or ahead[1].lower() in _MAKE_OF_AND_BY_OPERATORS)
            if lowered == "and":
                # `12 x 1 and 1/4 = 15` (a mixed number in words) and `the sum of 5 and
                # 3 + 2` join a number to the side; `= 241 and 241 - 153 = 88` does not.
                return ahead is None or ahead[0] != _NUM or ahead_is_result
            # `Week 1 + Week 2 = 35 + 35`: words inside the expression; a `%` ends a
            # quantity instead (`20% is $14 + $42 = $56`).
            return ahead is None or ahead[0] != _OP or ahead[1] == "%"
        if kind == _ANN:
            return True  # the number written after an annotation
        if word == ":":
            # `Fords:3+2` and `Under 30: 40(.10)` are labels; `3:30`, `2:1` and
            # `7,980 : 420` are a time, a ratio and a division.
            if ahead is None or ahead[0] != _NUM:
                return True
            return ahead[3] == begin and finish < side[0][2]
        if glued:
            return word in _SAFE_BEFORE
        return True

    def right_is_delimited(self, side, after, following, beyond) -> bool:
        """Whether the last side of a chain ends where its expression ends; `after` is
        the token after it, `following` and `beyond` the two after that."""
        if after is None:
            return True
        kind, word, begin, finish = after
        glued = begin == side[-1][3]
        if kind == _WORD:
            lowered = word.lower()
            if lowered in _MODIFIERS_AFTER:
                return False
            if lowered in _CONNECTORS_AFTER:
                # `= 5 times 3` goes on; `= 26 times` (occurrences) ends.
                return following is None or not (
                    following[0] == _NUM or following[0] == _CUR or following[1] == "(" or following[1] == "by"
                )
            if lowered in _SCALE_WORDS:
                return True  # the side's readings include the scaled value
            if lowered in _CONJUNCTIONS:
                return True  # `= 241 and 241 - 153 = 88`
            if (lowered == "m" or lowered == "b") and side[0][0] == _CUR:
                return False  # `$5m`
            if glued and len(word) == 1 and (len(side) > 1 or lowered not in _UNIT_LETTERS):
                return False  # `150 = 10+4c`, `= 2J`: algebra, not a unit
            if following is not None and following[1] == "^":
                return True  # `30000m^2`: a unit's power
            if following is None:
                return True
            if following[1] == "/" and beyond is not None and beyond[0] == _WORD:
                return True  # `= 6 min/km`: a unit of a rate
            # `= 12 hours * 5`: the expression goes on after its unit; `= 5 feet 3
            # inches` is one quantity in two units; `= 4 have 2 pockets` ends.
            return following[0] != _OP and not (following[0] == _NUM and lowered in _COMPOUND_UNITS)
        if glued:
            if word in _SAFE_AFTER:
                return not self.text[finish : finish + 1].isdigit()  # `1.2.3`, `3:30`
            return kind == _ANN
        return True

    def side(self, tokens, first: bool, last: bool) -> _Side:
        if len(tokens) == 1 and tokens[0][0] == _NUM:  # `= 24`: what the general reading below gives
            _, written, begin, finish = tokens[0]
            value = _literal(written)  # Unverifiable as the evaluator's `_pair` would be
            try:
                stated = _stated(written)
            except Unverifiable:
                stated = None
            return _Side((value,), stated, begin, finish)
        # An unmatched parenthesis at the outer edge of a chain belongs to the
        # sentence or to a larger expression; anywhere else the side is not a whole
        # expression and the evaluator refuses it.
        excess = _depth_change(tokens)
        opens_aside = False
        if first and excess > 0:
            # `(3 * 4 = 12)`, `600/(3+1 = 4)`: the equation starts after the last
            # unmatched `(`; in the second case it is an aside inside a larger one.
            depth = 0
            for position in range(len(tokens) - 1, -1, -1):
                text = tokens[position][1]
                if text == ")":
                    depth += 1
                elif text == "(":
                    if depth == 0:
                        opens_aside = any(token[1] != "(" for token in tokens[:position])
                        tokens = tokens[position + 1 :]
                        break
                    depth -= 1
            excess = 0
        if last and excess < 0:
            strip = 0
            while strip < len(tokens) and strip < -excess and tokens[-1 - strip][1] == ")":
                strip += 1
            tokens = tokens[: len(tokens) - strip]
        if not tokens:
            raise Unverifiable("empty side")
        first_token, last_token = tokens[0], tokens[-1]
        if (first_token[0] == _OP and first_token[1] not in _MINUS) or (last_token[0] == _OP and last_token[1] != "%"):
            raise Unverifiable("dangling operator")  # `12/hour`, `* 5`
        parsed = [("n", token[1]) if token[0] == _NUM else ("o", token[1]) for token in tokens if token[0] != _CUR]
        readings = _readings(parsed, prose=True)
        count = len(parsed)
        offset = 1 if parsed[0][1] in _MINUS else 0  # `-3` is a single number too
        stated = None
        if count > offset and parsed[offset][0] == "n" and (count == offset + 1 or (count == offset + 2 and parsed[-1][1] == "%")):
            written = self.text[first_token[2] : last_token[3]].replace("−", "-").replace("–", "-")
            try:
                stated = _stated(written)
            except Unverifiable:
                stated = None
        return _Side(readings, stated, first_token[2], last_token[3], opens_aside)

    def judge(self, left: _Side | None, right: _Side | None, right_tokens, opens_chain: bool) -> None:
        if left is None or right is None:
            self.unverifiable += 1
            return
        if right.stated is not None:  # `... = 24`: the right side is the result
            holds, stated, correct = _holds(right.stated, left.readings), right, left
        elif left.stated is not None:  # `24 = ...`
            holds, stated, correct = _holds(left.stated, right.readings), left, right
        else:  # two expressions
            holds, stated, correct = any(a == b for a in left.readings for b in right.readings), right, left
        if not holds and not self.is_arithmetic_claim(left, right, right_tokens, opens_chain):
            self.unverifiable += 1
            return
        self.checked += 1
        if not holds:
            self.errors.append(
                WrongResult("prose", left.start, right.end, self.text[left.start : right.end],
                            self.text[stated.start : stated.end], _display(correct.readings[0]))
            )

    def is_arithmetic_claim(self, left: _Side, right: _Side, right_tokens, opens_chain: bool) -> bool:
        """Whether a failed step claims arithmetic, rather than using `=` otherwise."""
        if left.stated is not None and opens_chain:
            # A bare number opening a chain states a quantity (`Week 2 = 35 hours`,
            # `100 = 5A`, `Remaining 10 = 62,300/10`); inside a chain it is the
            # previous step's result, and `2 + 2 = 4 = 5` is wrong.
            return False
        if left.readings[0] < 0 and self.is_range(left):
            return False  # `Weeks 1-2 = 96 - 70`
        first = next((token for token in right_tokens if token[0] != _CUR), None)
        if right.stated is None and first is not None and first[0] == _NUM:
            try:
                if _literal(first[1]) in left.readings:
                    return False  # `20 - 5 = 15 - 3 = 12`: `=` as "then"
            except Unverifiable:
                pass
        for value in left.readings:  # `$1 / 2 = 50 cents`: a unit change in words
            for result in right.readings:
                if value and result and abs(Fraction(result) / value) in _UNIT_RATIOS:
                    return False
        return True

    def is_range(self, side: _Side) -> bool:
        """`1-2`, `5-7`: two integers joined by a bare hyphen."""
        low, hyphen, high = self.text[side.start : side.end].partition("-")
        return bool(hyphen) and low.isdigit() and high.isdigit()


def _window_verdict(window: str, length: int, open_left: bool, open_right: bool):
    """(steps judged, unverifiable, values, errors) of the prose chains in
    window[:length]; `window` may hold one more character, the one after the window
    in the text. Spans are relative to the window. Tokens are read from the window
    alone: `_PROSE_TOKEN` has no lookbehind, and a lookahead cannot see past the end
    of a window, in the text as here."""
    checker = _ProseChecker(window)
    checker.check_window(0, length, open_left, open_right)
    return (checker.checked, checker.unverifiable, tuple(checker.values), tuple(checker.errors))


def _prose_windows(text: str, positions: list[int], limit: int) -> list[list]:
    """[start, end, open_left, open_right] around each prose `=`: within its line and
    PROSE_WINDOW characters, overlapping windows merged; `open` when the window cuts
    the line, so that a side touching the cut is not judged."""
    windows: list[list] = []
    for at in positions:
        low = max(0, at - PROSE_WINDOW)
        newline = text.rfind("\n", low, at)
        start = newline + 1 if newline >= 0 else low
        open_left = newline < 0 and low > 0
        high = min(limit, at + PROSE_WINDOW)
        newline = text.find("\n", at, high)
        end = newline if newline >= 0 else high
        open_right = newline < 0 and high < limit
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
            windows[-1][3] = open_right
        else:
            windows.append([start, end, open_left, open_right])
    return windows


# -- final answers -----------------------------------------------------------------------------

_ANSWER_NUMBER = re.compile(
    rf"(?:\\?[{_CURRENCY}]\s?)?(-?)\s?({_NUMBER})\s?(?:\\?%)?(?:\s+[^\W\d_]+){{0,3}}[\s.!]*"
)
_ANSWER_IS = re.compile(
    r"(?i)(?:\bthe\s+(?:final\s+)?answer\s+is\b\s*:?|\b(?:final\s+)?answer\s*:)[ \t]*([^\n]{1,40}?)[ \t.!]*\Z"
)
_LATEX_FRACTION = re.compile(r"(-?)\\[dt]?frac\{\s*(-?[0-9]{1,30})\s*\}\{\s*([0-9]{1,30})\s*\}")
_PLAIN_FRACTION = re.compile(r"(-?[0-9]{1,30})\s?/\s?([0-9]{1,30})")
_BOXED_TRAILER = re.compile(r"[\s$.!)\]\\]*")


def _answer_value(written: str) -> Rational | None:
    """The number a final answer states: `72`, `$1,200`, `-3.5`, `25%` (as 25, the way
    GSM8K answers percentages), `\\frac{1}{2}`, `3/4`; None for anything else."""
    if written.isdigit() and written.isascii() and (written[0] != "0" or len(written) == 1):
        return int(written)  # `#### 72`
    written = written.strip().replace("\\!", "").replace("\\,", "")
    try:
        match = _ANSWER_NUMBER.fullmatch(written)
        if match:
            value = _literal(match.group(2))
            return -value if match.group(1) else value
        match = _LATEX_FRACTION.fullmatch(written)
        if match:
            value = _divide(int(match.group(2)), int(match.group(3)))
            return -value if match.group(1) else value
        match = _PLAIN_FRACTION.fullmatch(written)
        if match:
            return _divide(int(match.group(1)), int(match.group(2)))
    except Unverifiable:
        pass
    return None


def find_final_answer(text: str) -> FinalAnswer | None:
    """The answer `text` ends with: `#### 72`, `\\boxed{72}`, `The answer is 72.`;
    None when the text does not end with one (or it is not within the last
    FINAL_ANSWER_TAIL characters)."""
    end = len(text.rstrip())
    if end == 0:
        return None
    tail_start = max(0, end - FINAL_ANSWER_TAIL)
    boxed = text.rfind("\\boxed{", tail_start, end)
    if boxed >= 0:
        depth = 0
        for position in range(boxed + 6, end):
            character = text[position]
            if character == "{":
                depth += 1
            elif character == "}":
                depth -= 1
                if depth == 0:
                    if _BOXED_TRAILER.fullmatch(text, position + 1, end):
                        written = text[boxed + 7 : position]
                        return _new_final_answer("boxed", written, _answer_value(written), boxed, position + 1)
                    break
    hashes = text.rfind("####", tail_start, end)
    if hashes >= 0:
        written = text[hashes + 4 : end].strip()
        if written and "\n" not in written:
            return _new_final_answer("####", written, _answer_value(written), hashes, end)
    line_start = text.rfind("\n", tail_start, end) + 1
    match = _ANSWER_IS.search(text, max(line_start, tail_start), end)
    if match:
        written = match.group(1).strip().rstrip(".!").rstrip()
        if written.startswith("\\boxed") or ", " in written or ". " in written:
            return None  # a box with text after it, or a sentence rather than an answer
        return _new_final_answer("answer-is", written, _answer_value(written), match.start(), end)
    return None


def _may_have_marker(text: str) -> bool:
    tail = max(0, len(text) - FINAL_ANSWER_TAIL - 64)  # searched in place: no copy of the tail
    return text.find("####", tail) >= 0 or text.find("boxed", tail) >= 0 or text.find("nswer", tail) >= 0


def has_reasoning(text: str) -> bool:
    """False when `check_reasoning(text)` is sure to find nothing (no `=`, no final-answer
    marker near the end): two substring tests, cheaper than remembering the text."""
    return "=" in text or _may_have_marker(text)


def final_answer_marker(text: str) -> str | None:
    """The marker shape `text` ends with (one of MARKERS), or None."""
    answer = find_final_answer(text) if _may_have_marker(text) else None
    return answer.marker if answer else None


# -- derivation --------------------------------------------------------------------------------

_NUMBER_IN_TEXT = re.compile(rf"(?<![0-9.,])(-?)({_NUMBER})")
# `$80 000`, `5 650 000`: thousands grouped by spaces, as a few GSM8K solutions write.
_SPACED_NUMBER = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?: [0-9]{3})+(?![0-9])")
_NUMBER_WORDS: dict[str, Rational] = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update(
    thirty=30, forty=40, fifty=50, sixty=60, seventy=70, eighty=80, ninety=90, hundred=100,
    thousand=1000, million=1000000, dozen=12, half=Fraction(1, 2), twice=2, double=2, triple=3,
    quarter=Fraction(1, 4),
)
_WORD_RUN = re.compile(r"[A-Za-z]{3,12}")
#: Occurrences of a final answer's digits examined by the substring test.
_MAX_OCCURRENCES = 1000


def _stated_number(written: str) -> Rational | None:
    """A number as written in text, for derivation only: lenient (`0730` is 730)."""
    digits = written.replace(",", "").replace(" ", "")
    if len(digits) - ("." in digits) > MAX_LITERAL_DIGITS:
        return None
    whole, dot, decimals = digits.partition(".")
    if not dot:
        return int(digits)
    return _reduced(int(whole + decimals), 10 ** len(decimals))


def _numbers_in(text: str, start: int, end: int, limit: int) -> list[Rational]:
    """The numbers written in text[start:end], at most `limit`."""
    values: list[Rational] = []
    for match in islice(_NUMBER_IN_TEXT.finditer(text, start, end), limit):
        value = _stated_number(match.group(2))
        if value is not None:
            values.append(-value if match.group(1) else value)
    return values


def _numbers_in_words(text: str, start: int, end: int, limit: int) -> list[Rational]:
    """Numbers `_numbers_in` does not read: `80 000`, `three`, `dozen`, `half`."""
    values: list[Rational] = []
    for match in islice(_SPACED_NUMBER.finditer(text, start, end), limit):
        value = _stated_number(match.group())
        if value is not None:
            values.append(value)
    for match in islice(_WORD_RUN.finditer(text, start, end), 20 * limit):
        value = _NUMBER_WORDS.get(match.group().lower())
        if value is not None:
            values.append(value)
    return values


def _written_before(target: Rational, text: str, limit: int) -> bool:
    """Whether the integer `target` is written as a whole number in text[:limit]: a
    substring search, so the common case reads no number at all."""
    if type(target) is not int:
        return False
    digits = str(abs(target))
    position = text.find(digits, 0, limit)
    for _ in range(_MAX_OCCURRENCES):
        if position < 0:
            return False
        end = position + len(digits)
        before = text[position - 1 : position]
        after = text[end : end + 2]
        if not (before.isdigit() or before == "." or before == ",") and not (
            after[:1].isdigit() or (after[:1] in (".", ",") and after[1:2].isdigit())
        ):
            return True
        position = text.find(digits, end, limit)
    return False


def _is_among(target: Rational, decimals: int, known: set, scales: tuple[int, ...]) -> bool:
    if target in known or -target in known:
        return True
    for scale in scales:
        if _divide(target, scale) in known:
            return True
    # Rounded either way to what the answer was written with: `13` buses or `12`
    # full boxes for a computed 12.5.
    for value in known:
        if type(value) is int:
            continue
        for candidate in (value, *(value * scale for scale in scales)):
            scaled = candidate * 10**decimals
            if floor(scaled) <= target * 10**decimals <= ceil(scaled):
                return True
    return False


def _is_derived(final: FinalAnswer, computed: list[Rational], text: str, limit: int, question: str | None,
                scales: tuple[int, ...]) -> tuple[bool | None, bool]:
    """(whether the final answer is derived, whether that depends on the question):
    the second is a function of the text alone, true when the text by itself neither
    derives the answer nor lacks numbers to derive it from, whatever the question."""
    target = final.value
    if target in computed or _written_before(target, text, limit):
        return True, False
    written = _numbers_in(text, 0, limit, MAX_VALUES)
    match = _RESULT.search(final.text)
    decimals = _decimals(match.group(2)) if match else 0
    if _is_among(target, decimals, set(computed) | set(written), scales):
        return True, False
    # The slower readings, only for the few answers the others do not find.
    in_words = _numbers_in_words(text, 0, limit, MAX_VALUES)
    if not (written or computed or in_words):
        return None, False  # no reasoning to derive the answer from
    if question:
        in_words += _numbers_in(question, 0, len(question), MAX_VALUES)
        in_words += _numbers_in_words(question, 0, len(question), MAX_VALUES)
    return _is_among(target, decimals, set(in_words), scales), True


# -- the entry point ---------------------------------------------------------------------------

#: Verdicts remembered per distinct annotation (keyed by its matched text, at most
#: `_MEMO_KEY_CHARS` long; at most `MEMO_ENTRIES` of them) and per distinct prose
#: window (keyed by its text, at most `_MEMO_WINDOW_CHARS` long, and whether it cuts
#: its line; at most `WINDOW_MEMO_ENTRIES`). A memo is emptied when full. A verdict
#: is a function of its key alone (tests check it against fresh computation), and
#: reasoning data repeats its steps: GSM8K's 27,998 annotations are 12,530 distinct
#: ones (`<<48/2=24>>24`, `<<3*12=36>>36` again and again). Bounded at some 30 MB
#: however hostile the texts; 0 entries turns a memo off.
MEMO_ENTRIES = 1 << 16
WINDOW_MEMO_ENTRIES = 1 << 14
_MEMO_KEY_CHARS = 64
_MEMO_WINDOW_CHARS = 2 * PROSE_WINDOW + 1
_ANNOTATION_MEMO: dict[str, _Verdict] = {}
_WINDOW_MEMO: dict[tuple[str, bool, bool], tuple] = {}


def _remember(memo: dict, key, verdict, entries: int) -> None:
    if len(memo) >= entries:
        memo.clear()
        if not entries:
            return
    memo[key] = verdict


def clear_memos() -> None:
    """Forget every remembered verdict (for measurements of the cold cost, and tests)."""
    _ANNOTATION_MEMO.clear()
    _WINDOW_MEMO.clear()


def _shifted(error: WrongResult, offset: int) -> WrongResult:
    return WrongResult(error.kind, error.start + offset, error.end + offset, error.equation, error.stated,
                       error.correct)



def check_reasoning(text: str, question: str | None = None,
                    unit_scales: tuple[int, ...] | None = None) -> ReasoningReport:
    """Check the equations and the final answer of one reasoning text.

    `question`, when given, holds numbers a final answer may merely repeat;
    `unit_scales` replaces UNIT_SCALES for derivation. Never raises on a string;
    the work is bounded by the MAX_* constants."""
    return check_reasoning_noting_question(text, question, unit_scales)[0]


def check_reasoning_noting_question(text: str, question: str | None = None,
                                    unit_scales: tuple[int, ...] | None = None) -> tuple[ReasoningReport, bool]:
    """`check_reasoning`, and whether its report depends on the question at all: a
    function of `text` (and `unit_scales`) alone, false for all but the few texts
    whose final answer only the question could derive. A caller that remembers
    reports may then key them by the text alone."""
    if unit_scales is None:
        unit_scales = UNIT_SCALES
    has_equals = "=" in text
    final = find_final_answer(text) if _may_have_marker(text) else None
    if not has_equals and final is None:
        return _NOTHING, False
    limit = final.start if final else len(text)

    errors: list[WrongResult] = []
    computed: list[Rational] = []
    prose_positions: list[int] = []
    annotations_checked = unverifiable = 0
    truncated = False
    if has_equals:
        annotation_memo = _ANNOTATION_MEMO
        for seen, match in enumerate(_SCAN.finditer(text, 0, limit)):
            if seen == MAX_EQUATIONS:
                truncated = True
                break
            if match.group(1) is None:
                prose_positions.append(match.start())
                continue
            key = match.group()
            verdict = annotation_memo.get(key)
            if verdict is None:
                verdict = _annotation_verdict(match)
                if len(key) <= _MEMO_KEY_CHARS:
                    _remember(annotation_memo, key, verdict, MEMO_ENTRIES)
            checked, unsure, value, found = verdict
            annotations_checked += checked
            unverifiable += unsure
            if value is not None:
                computed.append(value)
            if found:
                base = match.start()
                errors.extend(_shifted(error, base) for error in found)

    prose_checked = 0
    if prose_positions:
        window_memo = _WINDOW_MEMO
        prose_errors = False
        for start, end, open_left, open_right in _prose_windows(text, prose_positions, limit):
            # The verdict depends on the window and the one character after it
            # (`right_is_delimited` looks at it): that is the key.
            key = (text[start : end + 1], open_left, open_right)
            verdict = window_memo.get(key)
            if verdict is None:
                verdict = _window_verdict(key[0], end - start, open_left, open_right)
                if end - start <= _MEMO_WINDOW_CHARS:  # a merged window can be a whole long line
                    _remember(window_memo, key, verdict, WINDOW_MEMO_ENTRIES)
            checked, unsure, values, found = verdict
            prose_checked += checked
            unverifiable += unsure
            computed.extend(values)
            if found:
                prose_errors = True
                errors.extend(_shifted(error, start) for error in found)
        if prose_errors:
            errors.sort(key=lambda error: error.start)

    derived, asks = None, False
    if final is not None and final.value is not None:
        derived, asks = _is_derived(final, computed, text, limit, question, unit_scales)
    return _new_report(tuple(errors), final, derived, annotations_checked, prose_checked, unverifiable,
                       truncated, tuple(computed[:MAX_VALUES]), text), asks
