"""Mechanical checks of the arithmetic written in a reasoning answer.

A reasoning target (a GSM8K solution, a chain of thought) teaches a model to write
equations. A fine-tune learns a wrong `48/2 = 25` as readily as a right one, and a
final answer that nothing above it computes teaches it to guess. This module reads
the equations in a target, recomputes them exactly, and says which results are
wrong and whether the final answer follows from the work. It imports only the
standard library; a check family wraps it.

API
---
`check_reasoning(text, question=None) -> ReasoningReport`
    `errors`: the `WrongResult`s, each with its span in `text`, the equation as
    written, the stated and the correct result, and its kind: `annotation` for a
    GSM8K calculator annotation `<<48/2=24>>`, `after-annotation` when the number
    written right after an annotation disagrees with it (`<<48/2=24>>25`), `prose`
    for an equation in the text (`18 + 25 = 43`, `$1,200 x 2 = $2,400`, each step of
    `a = b = c`). `final_answer`: the `FinalAnswer` the text ends with, or None.
    `values`: the numbers stated or computed before the final answer.
    `final_answer_derived`: whether the final answer is among them (see below), None
    when there is no numeric final answer or no number before it. Counters say how
    much was checked.
`find_final_answer(text) -> FinalAnswer | None`, `final_answer_marker(text) -> str | None`
    The answer a text ends with and its marker shape: `####` (`#### 72`), `boxed`
    (`\\boxed{72}`), `answer-is` (`The answer is 72.`, `the answer is: $72.`,
    `Answer: 72`). A caller computes the dominant shape of a file from the second.
`evaluate(expression) -> int | Fraction | None`
    The exact value of an arithmetic expression, None when it cannot be verified.

Invariants
----------
- Nothing is ever evaluated with eval, exec or ast: a tokenizer and a
  recursive-descent parser accept numbers, `+ - * / x × ÷ ^ **`, parentheses, unary
  signs, postfix `%`, `of` after a percentage or a fraction (`20% of 50`), implicit
  multiplication before a parenthesis (`86(2)`) and mixed numbers (`1 1/2`).
  Arithmetic is exact (`int` and `fractions.Fraction`).
- Unsure means unverifiable, never wrong. Division by zero, a literal of more than
  `MAX_LITERAL_DIGITS` digits, a power whose exponent or result is too large
  (`9^9^9`), nesting deeper than `MAX_NESTING`, or anything the parser does not
  accept makes an equation unverifiable: it is counted, not reported. A prose
  equation is only read when both ends are clearly delimited: `3 apples + 2 = 5`,
  `2x = 10`, `x = 5`, `3:30`, `5 km/h = ...`, `half of 20 = 10`, `= 2 million`
  are not equations this module judges.
- Written rounding is accepted. A stated result with d decimals holds when
  `floor(v * 10^d) <= stated * 10^d <= ceil(v * 10^d)` for the exact value v: the
  exact value rounded half up, half even, or truncated (`10/3=3.33`, `2/3=0.67`,
  `2/3=0.66`, `1/3 = .333`); a repeating decimal is judged like any other, at the
  number of decimals written. An integer result must equal the exact value when
  the exact value is an integer, and may be its floor or ceiling otherwise
  (`<<25/2=12.5>>` then "13 buses" is not an arithmetic claim this module can
  refute). A fraction written as a result (`<<3/4=3/4>>`) must be exact.
- A percentage is read both ways, as `/100` and as the bare number, and an
  equation holds when either reading does: real solutions write `20% = 0.2`,
  `1/2 = 50%` and `(75/100)*100 = 75%` alike.
- In a chain `a = b = c` each `=` must hold, except that a step whose right side
  starts with the left side's value (`20 - 5 = 15 - 3 = 12`, '=' used as "then") is
  not judged; the next step is.
- A prose equation that ends in an annotation (`12/60 = $<<12/60=0.2>>0.2`) is one
  claim: it is reported once, as the annotation or the text after it, unless the
  prose side agrees with neither.
- Work is bounded: at most `MAX_EQUATIONS` equations per text are checked (the
  report says `truncated`), every regular expression is linear (bounded repeats,
  no nested quantifiers over the same characters), and a text without `=` and
  without a final-answer marker returns after two substring tests.

Derivation
----------
The final answer is derived when its value, or that value under one of the unit
scalings in `UNIT_SCALES` (each justified by GSM8K solutions), equals a number
stated or computed before it, or one given in `question`, allowing the rounding
the answer was written with (a final `13` for a computed `12.5`). This is a weak
test by design: it asks only whether the number came from somewhere, so a final
answer it flags deserves a look, and one it passes may still be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from math import ceil, floor, gcd
from typing import Union

#: An exact number: ints stay ints (fast), everything else is a Fraction.
Rational = Union[int, Fraction]

#: Digits in one literal; a longer run is an id or a hostile input, not arithmetic.
MAX_LITERAL_DIGITS = 30
#: Characters in one expression (an annotation's left side, one prose side).
MAX_EXPRESSION_CHARS = 200
#: Parenthesis depth and tokens the parser accepts in one expression.
MAX_NESTING = 16
MAX_TOKENS = 80
#: The largest exponent of a power, and the largest number (in bits of numerator
#: or denominator) any step may produce: 2^64 and 2^1024 are plenty for school
#: arithmetic and cost nothing, 9^9^9 is refused.
MAX_EXPONENT = 64
MAX_BITS = 1024
#: Equations (annotations and prose `=` signs) checked per text.
MAX_EQUATIONS = 1000
#: Numbers collected as `values` per text.
MAX_VALUES = 2000
#: How far from a prose `=` the tokenizer looks for the sides of a chain.
PROSE_WINDOW = 100
#: The final-answer marker must be in the last this-many characters.
FINAL_ANSWER_TAIL = 400

#: Unit changes under which a final answer still counts as derived: the answer may be
#: a computed value times one of these. Only what GSM8K needs: 100, for the
#: questions that ask "in cents" (train 124: `.50-.25 = $<<0.50-.25=0.25>>0.25`
#: then `#### 25`; also train 344, 1618, 3518 and test 494, 608, 1244). Minutes,
#: hours, thousands, dozens and weeks never are: GSM8K writes those conversions out,
#: and every extra factor lets more wrong answers pass (a planted `#### 36` for 3
#: dozen would count as derived under 12).
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
    equation: str  # as written, e.g. "48/2=25" or "18 + 25 = 44"
    stated: str  # the result as written
    correct: str  # the exact value for display: "24", "0.2", "3.3333"

    def __str__(self) -> str:
        return f"{self.kind} {self.equation!r}: {self.stated} should be {self.correct}"


@dataclass(frozen=True)
class FinalAnswer:
    """The answer a text ends with."""

    marker: str  # one of MARKERS
    text: str  # the answer as written after the marker, e.g. "1,200" or "\\frac{1}{2}"
    value: Rational | None  # None for a non-numeric answer ("#### Yes")
    start: int  # span of marker and answer in the text
    end: int


@dataclass(frozen=True)
class ReasoningReport:
    """What `check_reasoning` found in one text (spans index `text`)."""

    errors: tuple[WrongResult, ...]
    final_answer: FinalAnswer | None
    final_answer_derived: bool | None
    annotations_checked: int  # annotations whose expression was evaluated
    prose_checked: int  # prose `=` steps that were evaluated
    unverifiable: int  # annotations and prose steps seen but not judged
    truncated: bool  # more than MAX_EQUATIONS equations: the rest were not checked
    computed: tuple[Rational, ...] = ()  # exact values of the equations checked
    text: str = field(default="", repr=False, compare=False)

    @cached_property
    def values(self) -> tuple[Rational, ...]:
        """The numbers computed or written before the final answer (all of the text
        when it has none), at most MAX_VALUES: what derivation looks among. Parsed on
        first access, as parsing every number of a text costs more than checking it."""
        limit = self.final_answer.start if self.final_answer else len(self.text)
        return (self.computed + tuple(_numbers_in(self.text, 0, limit, MAX_VALUES)))[:MAX_VALUES]


_EMPTY = ReasoningReport((), None, None, 0, 0, 0, False)

# -- numbers and expressions ---------------------------------------------------------------

# A number as written: `1,200` (groups of exactly three, or it is a list), `3.5`,
# `.25`. ASCII digits only: `\d` would accept other scripts' digits.
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
# A plain number without separators, the shape of almost every calculator result.
_FLAT_NUMBER = r"(?:[0-9]{1,30}(?:\.[0-9]{1,30})?|\.[0-9]{1,30})"
_CURRENCY = "$£€"
_MINUS = "-−–"  # hyphen, minus sign and the en dash GSM8K writes for minus
_TIMES = "*x×X"
_EXPRESSION_TOKEN = re.compile(
    rf"\s*(?:[{_CURRENCY}]\s?)?({_NUMBER})|\s*(\*\*|[-+*/x×X÷^()%−–])|\s*(\S)"
)


def _divide(left: Rational, right: Rational) -> Rational:
    if right == 0:
        raise Unverifiable("division by zero")
    if type(left) is int and type(right) is int:
        quotient, remainder = divmod(left, right)
        return quotient if remainder == 0 else Fraction(left, right)
    return Fraction(left) / right


# The evaluator works on unreduced (numerator, denominator) pairs of ints and reduces
# once at the end: Fraction's pure-Python arithmetic reduces after every operation
# and costs several times more. Denominators stay positive.
_BINARY_PRECEDENCE = {
    "+": 1, "-": 1, "−": 1, "–": 1,
    "*": 2, "x": 2, "×": 2, "X": 2, "/": 2, "÷": 2, "of": 2,
    "^": 4, "**": 4,
}
_NEGATE = "neg"  # unary minus: binds tighter than * and looser than ^ (-2^2 = -4)
_PLUS = "pos"
_UNARY_PRECEDENCE = 3
_RIGHT_ASSOCIATIVE = frozenset(("^", "**", _NEGATE, _PLUS))


def _pair(text: str) -> tuple[int, int]:
    """A literal as (numerator, denominator): `1,200.50` -> (120050, 100)."""
    text = text.replace(",", "")
    if len(text) > MAX_LITERAL_DIGITS + 1:
        raise Unverifiable("literal too long")
    if len(text) > 1 and text[0] == "0" and text[1] != ".":
        raise Unverifiable("a leading zero: a time (0930) or a code, not a quantity")
    whole, dot, decimals = text.partition(".")
    if not dot:
        return int(text), 1
    return int(whole + decimals) if whole or decimals else 0, 10 ** len(decimals)


def _literal(text: str) -> Rational:
    """`1,200.50` -> Fraction(2401, 2), `9.00` -> 9; refuses 30+ digit and `0930`-style literals."""
    numerator, denominator = _pair(text)
    if denominator == 1:
        return numerator
    if numerator % denominator == 0:
        return numerator // denominator
    return Fraction(numerator, denominator)


def _reduce_if_large(numerator: int, denominator: int) -> tuple[int, int]:
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
            values[-1] = (left_n * right_d + right_n * left_d, left_d * right_d)
        return
    if operator == "/" or operator == "÷":
        if right_n == 0:
            raise Unverifiable("division by zero")
        if right_n < 0:
            right_n, right_d = -right_n, -right_d
        values[-1] = _reduce_if_large(left_n * right_d, left_d * right_n)
        return
    if operator == "^" or operator == "**":
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
        return
    values[-1] = _reduce_if_large(left_n * right_n, left_d * right_d)  # * x × X of


def _evaluate_tokens(tokens: list[tuple[str, str]], percent: tuple[int, int] = (1, 100)) -> Rational:
    """Shunting-yard over (kind, text) tokens, kind "n" (number) or "o" (operator).

    Accepts binary `+ - * x × / ÷ of ^ **` (power right-associative), unary `-`/`+`,
    postfix `%` (times `percent`), parentheses, implicit multiplication before a
    parenthesis (`86(2)`, `(1+2)(3)`), and mixed numbers (`1 1/2`: an integer, then a
    proper fraction of integers)."""
    count = len(tokens)
    if count > MAX_TOKENS:
        raise Unverifiable("expression too long")
    values: list[tuple[int, int]] = []
    operators: list[str] = []
    expect_operand = True
    depth = 0
    unary_run = 0
    index = 0
    while index < count:
        kind, text = tokens[index]
        index += 1
        if expect_operand:
            if kind == "n":
                value = _pair(text)
                if (
                    index + 2 < count + 0
                    and tokens[index][0] == "n"
                    and tokens[index + 1][1] == "/"
                    and tokens[index + 2][0] == "n"
                    and value[1] == 1
                ):
                    numerator, denominator = _pair(tokens[index][1]), _pair(tokens[index + 2][1])
                    if numerator[1] == 1 and denominator[1] == 1 and 0 < numerator[0] < denominator[0]:
                        value = (value[0] * denominator[0] + numerator[0], denominator[0])
                        index += 3
                values.append(value)
                expect_operand = False
                unary_run = 0
            elif text == "(":
                depth += 1
                if depth > MAX_NESTING:
                    raise Unverifiable("nested too deep")
                operators.append("(")
            elif text == "+" or text in _MINUS:
                unary_run += 1
                if unary_run > MAX_NESTING:
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
        if text == "(":  # implicit multiplication
            text = "*"
            index -= 1  # read the parenthesis again, as an operand
        precedence = _BINARY_PRECEDENCE.get(text)
        if precedence is None or kind != "o":
            raise Unverifiable(f"unexpected {text!r}")
        right_associative = text in _RIGHT_ASSOCIATIVE
        while operators:
            top = operators[-1]
            if top == "(":
                break
            top_precedence = _UNARY_PRECEDENCE if top == _NEGATE or top == _PLUS else _BINARY_PRECEDENCE[top]
            if top_precedence > precedence or (top_precedence == precedence and not right_associative):
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
    numerator, denominator = values[0]
    if denominator == 1:
        return numerator
    common = gcd(numerator, denominator)
    numerator, denominator = numerator // common, denominator // common
    return numerator if denominator == 1 else Fraction(numerator, denominator)


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
    """The exact value of `expression` (percent as /100), or None if unverifiable.

    >>> evaluate("$1,200 x 2"), evaluate("12/60"), evaluate("9^9^9")
    (2400, Fraction(1, 5), None)
    """
    try:
        return _evaluate_tokens(_tokenize(expression))
    except Unverifiable:
        return None


def _group_divisors(tokens: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """`25 / 1/3` read as `25 / (1/3)`, as people write division by a fraction; None
    when the expression has no `/ a/b`."""
    grouped = None
    index = 0
    while index + 3 < len(tokens):
        mixed = index >= 2 and tokens[index - 1][0] == "n" and tokens[index - 2][0] == "n"  # `1 1/2 / 1/2`
        if (
            not mixed
            and tokens[index][1] in ("/", "÷")
            and tokens[index + 1][0] == "n"
            and tokens[index + 2][1] == "/"
            and tokens[index + 3][0] == "n"
        ):
            if grouped is None:
                grouped = list(tokens[:index + 1])
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
    """The values of an expression: more than one when a `%` can be read as /100 or as
    the bare number, or (in prose) when `a / b/c` can mean `a / (b/c)`."""
    variants = [tokens]
    if prose:
        grouped = _group_divisors(tokens)
        if grouped is not None:
            variants.append(grouped)
    percent = any(text == "%" for _, text in tokens)
    values = [_evaluate_tokens(tokens)]  # the plain reading decides verifiability
    for variant in variants:
        for scale in ((1, 100), (1, 1)) if percent else ((1, 100),):
            if variant is tokens and scale == (1, 100):
                continue
            try:
                values.append(_evaluate_tokens(variant, scale))
            except Unverifiable:
                pass
    return tuple(values)


# -- comparing a stated result with an exact value ----------------------------------------------

#: A stated result read one way: its value and the decimals it was written with
#: (None for an exact form such as `3/4`, which must match exactly).
Reading = tuple[Rational, Union[int, None]]

_RESULT = re.compile(rf"[{_CURRENCY}]?\s?(-?)({_NUMBER})(%?)")


def _decimals(written: str) -> int:
    _, dot, decimals = written.partition(".")
    return len(decimals) if dot else 0


def _agrees(stated: Rational, decimals: int | None, exact: Rational) -> bool:
    """Whether `stated`, written with `decimals` decimals, is `exact` as people write
    it: exact, or truncated or rounded to nearest at that precision. An integer stands for a
    non-integer only when the value has no finite decimal form (`10/3 = 3`): `25/2 =
    13` is a wrong result, though "13 buses" may be a right answer. None: an exact
    form such as `3/4`, equal or wrong."""
    if stated == exact:
        return True
    if decimals is None or type(exact) is int:
        return False
    if decimals == 0 and _terminates(exact):
        return False
    return _rounds_to(stated, decimals, exact)


def _rounds_to(stated: Rational, decimals: int, exact: Rational) -> bool:
    """Whether `stated` is `exact` truncated or rounded to nearest (ties either way)
    at `decimals` places: 2/3 is 0.66 or 0.67, 10/3 is 3.33 and never 3.34."""
    scale = 10**decimals
    scaled = exact * scale
    target = stated * scale
    if target == int(scaled):  # truncation, towards zero
        return True
    low = floor(scaled)
    remainder = scaled - low
    if remainder * 2 <= 1 and target == low:
        return True
    return remainder * 2 >= 1 and target == low + 1


def _within_rounding(stated: Rational, decimals: int, exact: Rational) -> bool:
    """Looser, for final answers only: rounded down or up (`13` buses for 12.5)."""
    scale = 10**decimals
    scaled = exact * scale
    return floor(scaled) <= stated * scale <= ceil(scaled)


def _terminates(value: Fraction) -> bool:
    """Whether a fraction has a finite decimal form (its denominator is 2^a 5^b)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


_FLAT_NUMBER_ONLY = re.compile(_FLAT_NUMBER)


def _stated(written: str) -> tuple[Reading, ...]:
    """A result as written -> its readings. `35%` reads as 0.35 (two more decimals)
    and as 35; `3/4` and `1 1/2` are exact forms."""
    if _FLAT_NUMBER_ONLY.fullmatch(written):  # `24`, `0.2`, `.4`, `9.00`: most results
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
    for exponent in range(1, 7):
        if (10**exponent) % value.denominator == 0:
            scaled = abs(value.numerator) * (10**exponent // value.denominator)
            digits = str(scaled).rjust(exponent + 1, "0")
            sign = "-" if value < 0 else ""
            return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"
    return f"{float(value):.4f}"


# -- annotations ------------------------------------------------------------------------------

# One scan finds every annotation (with the number written right after it) and every
# prose `=` that is not followed by an annotation. `[^<>=\n]{1,200}` cannot run past
# the next `<`, `>`, `=` or newline, so an attempt costs at most 200 steps.
# After the annotation: group 3 the number, 4 a `%`, 5 what makes the number unsafe
# to compare (`2:00`, `3/4`, `1.2.3`, `240k`).
_SCAN = re.compile(
    rf"<<([^<>=\n]{{1,{MAX_EXPRESSION_CHARS}}})=([^<>=\n]{{1,60}})>>"
    rf"(?:[{_CURRENCY}]?(-?(?:{_NUMBER}))(%?)([:/.,][0-9]|[kKmMbB](?![A-Za-z]))?)?"
    rf"|=(?![ \t]{{0,3}}[{_CURRENCY}]?[ \t]{{0,3}}<<)"
)
_SUFFIX_SCALES = {"k": 1000, "m": 1000000, "b": 1000000000}
# All but a few hundred of GSM8K's annotations are flat: numbers joined by + - * /.
_FLAT = re.compile(rf"{_FLAT_NUMBER}(?:[-+*/]{_FLAT_NUMBER})*")
_FLAT_SPLIT = re.compile(r"([-+*/])")


def _flat_value(expression: str) -> Rational:
    """The value of a flat expression (`100-50-30-15`, `18*.5`, `12/60`), precedence
    by hand: a faster twin of `_evaluate_tokens` for the common case (tests keep the
    two equal)."""
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
            total_n, total_d = (total_n + term_n, total_d) if total_d == term_d else (total_n * term_d + term_n * total_d, total_d * term_d)
            negative = operator == "-"
            term_n, term_d = numerator, denominator
    if negative:
        term_n = -term_n
    total_n, total_d = (total_n + term_n, total_d) if total_d == term_d else (total_n * term_d + term_n * total_d, total_d * term_d)
    if total_d == 1:
        return total_n
    common = gcd(total_n, total_d)
    total_n, total_d = total_n // common, total_d // common
    return total_n if total_d == 1 else Fraction(total_n, total_d)


def _annotation_value(expression: str) -> tuple[Rational, ...]:
    """The exact readings of an annotation's left side (a calculator's: `a / b/c`
    is `(a / b) / c`, as Python evaluated GSM8K's)."""
    if _FLAT.fullmatch(expression):
        return (_flat_value(expression),)
    return _readings(_tokenize(expression))


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
_OPERATOR_WORDS = frozenset(("x", "X", "of"))
_ARITHMETIC = frozenset((_NUM, _OP, _PAREN, _CUR))

#: Words that continue an expression. Before a side: the equation began before them
#: (`half 20 + 4`, `3 times 4 = 12`, `¾ x 3/3 = 9/12`). `of` and `by` only after a
#: word that makes them operators (`half of 20 + 4 = 14`, `divided by 2 + 3`): after
#: any other word they start the quantity (`a total of 4*5 = 20`, `increased by
#: 684*.25 = 171`). After a side: the expression goes on (`= 5 times 3`), while
#: `= 4 more squirrels` and `= 20 of them` end where the number does.
_CONNECTORS_BEFORE = frozenset(
    "times plus minus per over than less more and half twice double triple thrice "
    "quarter third thirds fourth fifth squared cubed divided multiplied into from x".split()
)
_OPERATOR_BEFORE_OF_OR_BY = frozenset(
    "half halves third thirds quarter quarters fourth fourths fifth fifths sixth sixths eighth eighths "
    "tenth tenths percent twice double triple divided multiplied divide multiply times".split()
)
_CONNECTORS_AFTER = frozenset("times plus minus divided multiplied over squared cubed percent x".split())
#: Scale words after a result: `= 2 million` is not the number 2.
_SCALE_WORDS = frozenset("hundred thousand million billion trillion dozen k bn mil".split())
#: Single letters that are units when glued to a number (`30000m`, `5g`, `2h`).
_UNIT_LETTERS = frozenset("mghsltc")
#: Punctuation that may touch a side without joining it to anything.
_SAFE_BEFORE = frozenset("\"'([{")
_SAFE_AFTER = frozenset(".,;:!?\"')]}")


class _Side:
    """One side of a prose `=`: its readings, its stated readings when it is a single
    number, and its span."""

    __slots__ = ("readings", "stated", "start", "end")

    def __init__(self, readings, stated, start, end):
        self.readings = readings
        self.stated = stated
        self.start = start
        self.end = end


def _prose_tokens(text: str, start: int, end: int) -> list[tuple[int, str, int, int]]:
    """Tokens of text[start:end] as (kind, text, start, end), spaces dropped; `x` and
    `of` become operators where they stand between operands (`3 x 4`, `20% of 50`)."""
    tokens = []
    operator_words = False
    for match in _PROSE_TOKEN.finditer(text, start, end):
        kind = match.lastindex
        word = match.group(kind)
        if kind == _WORD and word in _OPERATOR_WORDS:
            operator_words = True
        tokens.append((kind, word, match.start(kind), match.end()))
    if not operator_words:
        return tokens
    for index in range(1, len(tokens) - 1):
        kind, word, begin, finish = tokens[index]
        if kind != _WORD or word not in ("x", "X", "of"):
            continue
        before, after = tokens[index - 1], tokens[index + 1]
        if not (after[0] == _NUM or after[0] == _CUR or after[1] == "("):
            continue
        if word == "of":
            # `20% of 50` and `1/2 of 20`; not `half of 20` or `3 of 5 boxes`.
            fraction = before[0] == _NUM and index >= 3 and tokens[index - 2][1] == "/" and tokens[index - 3][0] == _NUM
            if before[1] == "%" or fraction:
                tokens[index] = (_OP, "of", begin, finish)
        elif before[0] == _NUM or before[1] in (")", "%"):
            tokens[index] = (_OP, "*", begin, finish)
    return tokens


def _depth_change(tokens) -> int:
    return sum(1 if token[1] == "(" else -1 if token[1] == ")" else 0 for token in tokens)


class _ProseChecker:
    """Checks the prose equations of one text; collects errors, values and counts."""

    def __init__(self, text: str, annotations: dict):
        self.text = text
        self.annotations = annotations  # annotation start -> (exact readings or None, stated readings, result text)
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
            left_start = index
            while left_start > 0 and tokens[left_start - 1][0] in _ARITHMETIC:
                left_start -= 1
            sides = [tokens[left_start:index]]
            before = tokens[left_start - 1] if left_start else None
            ahead = tokens[left_start - 2] if left_start > 1 else None
            left_cut = open_left and left_start == 0
            position = index
            annotation = None
            while position < count and tokens[position][0] == _EQ:
                cursor = position + 1
                while cursor < count and tokens[cursor][0] == _CUR:
                    cursor += 1
                if cursor < count and tokens[cursor][0] == _ANN:  # `= $<<12/60=0.2>>`
                    annotation = tokens[cursor]
                    position = cursor + 1
                    break
                cursor = position + 1
                while cursor < count and tokens[cursor][0] in _ARITHMETIC:
                    cursor += 1
                sides.append(tokens[position + 1 : cursor])
                position = cursor
            after = tokens[position] if position < count and annotation is None else None
            following = tokens[position + 1] if after is not None and position + 1 < count else None
            right_cut = open_right and position >= count and annotation is None
            self.check_chain(sides, before, ahead, left_cut, after, following, right_cut, annotation)
            index = position if position > index else index + 1

    def left_is_delimited(self, side, before, ahead) -> bool:
        """Whether the first side of a chain starts where its expression starts.
        `ahead` is the token before `before`."""
        if side[0][0] == _OP:
            return False  # `3 apples + 2 = 5`: the expression began before the side
        if before is None:
            return True
        kind, word, begin, finish = before
        glued = finish == side[0][2]
        if kind == _WORD:
            lowered = word.lower()
            if glued or lowered in _CONNECTORS_BEFORE:
                return False
            if lowered == "of" or lowered == "by":
                return not (ahead is not None and (ahead[0] == _NUM or ahead[1].lower() in _OPERATOR_BEFORE_OF_OR_BY))
            # `Week 1 + Week 2 = 35 + 35`: words inside the expression (a `%`
            # before the word ends a quantity: `20% is $14 + $42 = $56`).
            return ahead is None or ahead[0] != _OP or ahead[1] == "%"
        if kind == _ANN:
            return True  # the number written after an annotation
        if word == ":":
            # `Fords:3+2` is a label; `3:30` is a time, `2:1` a ratio, `7,980 : 420` a division.
            return not (ahead is not None and ahead[0] == _NUM)
        if glued:
            return word in _SAFE_BEFORE
        return True

    def right_is_delimited(self, side, after, following) -> bool:
        """Whether the last side of a chain ends where its expression ends.
        `following` is the token after `after`."""
        if after is None:
            return True
        kind, word, begin, finish = after
        glued = begin == side[-1][3]
        if kind == _WORD:
            lowered = word.lower()
            if lowered in _SCALE_WORDS or lowered in _CONNECTORS_AFTER:
                return False
            if lowered in ("m", "b") and side[0][0] == _CUR:
                return False  # `$5m`, `$2b`
            if glued and len(word) == 1 and (len(side) > 1 or lowered not in _UNIT_LETTERS):
                return False  # `150 = 10+4c`, `= 2J`: algebra, not a unit
            if following is not None and following[1] == "^":
                return True  # `30000m^2`: a unit's power
            # `= 12 hours * 5`: the expression goes on after its unit.
            return following is None or (following[0] != _OP and following[0] != _NUM)
        if glued:
            if word in _SAFE_AFTER:
                return not self.text[finish : finish + 1].isdigit()  # `1.2.3`, `3:30`
            return kind == _ANN
        return True

    def side(self, tokens, first: bool, last: bool) -> _Side:
        # An unmatched parenthesis at the outer edge of a chain belongs to the
        # sentence (`(3 * 4 = 12)`); anywhere else it means the side is not a whole
        # expression (`600/(3+1=4) = 150`).
        if first:
            while tokens and tokens[0][1] == "(" and _depth_change(tokens) > 0:
                tokens = tokens[1:]
        if last:
            while tokens and tokens[-1][1] == ")" and _depth_change(tokens) < 0:
                tokens = tokens[:-1]
        if not tokens:
            raise Unverifiable("empty side")
        first_token, last_token = tokens[0], tokens[-1]
        if (first_token[0] == _OP and first_token[1] not in _MINUS) or (last_token[0] == _OP and last_token[1] != "%"):
            raise Unverifiable("dangling operator")  # `12/hour`, `* 5`
        parsed = [("n", token[1]) if token[0] == _NUM else ("o", token[1]) for token in tokens if token[0] != _CUR]
        readings = _readings(parsed, prose=True)
        count = len(parsed)
        offset = 1 if parsed[0][1] in _MINUS else 0  # a signed number `-3` is still one number
        stated = None
        if count > offset and parsed[offset][0] == "n" and (count == offset + 1 or (count == offset + 2 and parsed[-1][1] == "%")):
            written = self.text[first_token[2] : last_token[3]].replace("−", "-").replace("–", "-")
            try:
                stated = _stated(written)
            except Unverifiable:
                stated = None
        return _Side(readings, stated, first_token[2], last_token[3])

    def check_chain(self, sides, before, ahead, left_cut, after, following, right_cut, annotation) -> None:
        parsed: list[_Side | None] = []
        last = len(sides) - 1
        for number, tokens in enumerate(sides):
            try:
                if not tokens:
                    raise Unverifiable("empty side")
                if number == 0 and (left_cut or not self.left_is_delimited(tokens, before, ahead)):
                    raise Unverifiable("left side not delimited")
                if number == last and annotation is None:
                    if right_cut or not self.right_is_delimited(tokens, after, following):
                        raise Unverifiable("right side not delimited")
                    if any(token[1] == "of" for token in tokens):
                        raise Unverifiable("`= 1/3 of $150`: a phrase, not a result")
                parsed.append(self.side(tokens, number == 0, number == last and annotation is None))
            except Unverifiable:
                parsed.append(None)
        for side in parsed:
            if side is not None:
                self.values.append(side.readings[0])
        for number in range(last):
            self.judge(parsed[number], parsed[number + 1], sides[number + 1], number == 0)
        if annotation is not None:
            self.judge_annotation(parsed[-1], annotation)

    def judge(self, left: _Side | None, right: _Side | None, right_tokens, opens_chain: bool) -> None:
        if left is None or right is None:
            self.unverifiable += 1
            return
        if right.stated is not None:
            holds = _holds(right.stated, left.readings)
            stated, correct = right, left
        elif left.stated is not None:
            holds = _holds(left.stated, right.readings)
            stated, correct = left, right
        else:
            holds = any(a == b for a in left.readings for b in right.readings)
            stated, correct = right, left
        if holds:
            self.checked += 1
            return
        if not self.refutes(left, right, right_tokens, opens_chain):
            self.unverifiable += 1
            return
        self.checked += 1
        self.errors.append(
            WrongResult("prose", left.start, right.end, self.text[left.start : right.end],
                        self.text[stated.start : stated.end], _display(correct.readings[0]))
        )

    def refutes(self, left: _Side, right: _Side, right_tokens, opens_chain: bool) -> bool:
        """Whether a failed prose step is an arithmetic claim, not another use of `=`."""
        if left.stated is not None and opens_chain:
            # A bare number opening a chain states a quantity (`Week 2 = 35 hours`,
            # `100 = 5A`, `Remaining 10 = 62,300/10`); only a computed left side
            # makes the right side its claimed result. Inside a chain the number
            # is the previous step's result, and `2 + 2 = 4 = 5` is wrong.
            return False
        if left.readings[0] < 0 and self.is_range(left):
            return False  # `Weeks 1-2 = 96 - 70`: a range names the quantity
        first = next((token for token in right_tokens if token[0] != _CUR), None)
        if right.stated is None and first is not None and first[0] == _NUM:
            # `20 - 5 = 15 - 3 = 12`: '=' as "then"; the next step is judged on its own.
            try:
                if _literal(first[1]) in left.readings:
                    return False
            except Unverifiable:
                pass
        # Off by exactly 100, 1000 or a million: a unit change the words carry
        # (`$1 / 2 = 50 cents`, `5 * 3 = $15,000` after "5 thousand dollars").
        for value in left.readings:
            for result in right.readings:
                if value and result:
                    ratio = abs(Fraction(result) / value)
                    if ratio in _UNIT_RATIOS:
                        return False
        return True

    def is_range(self, side: _Side) -> bool:
        """`1-2`, `5-7`: two integers joined by a bare hyphen."""
        written = self.text[side.start : side.end]
        low, hyphen, high = written.partition("-")
        return bool(hyphen) and low.isdigit() and high.isdigit()

    def judge_annotation(self, left: _Side | None, annotation) -> None:
        """`12/60 = $<<12/60=0.2>>`: the prose side must agree with the annotation's
        result or its exact value; a wrong annotation is the annotation pass's report."""
        facts = self.annotations.get(annotation[2])
        if left is None or facts is None:
            self.unverifiable += 1
            return
        exact, stated, result_text = facts
        self.checked += 1
        if _holds(stated, left.readings) or (exact is not None and any(value in exact for value in left.readings)):
            return
        if left.stated is not None:
            self.checked -= 1
            self.unverifiable += 1
            return
        self.errors.append(
            WrongResult("prose", left.start, annotation[3], self.text[left.start : annotation[3]],
                        result_text, _display(left.readings[0]))
        )


_UNIT_RATIOS = frozenset((100, 1000, 1000000, Fraction(1, 100), Fraction(1, 1000), Fraction(1, 1000000)))


def _prose_windows(text: str, positions: list[int], limit: int):
    """(start, end, open_left, open_right) around each prose `=`, within its line and
    at most PROSE_WINDOW characters away, overlapping windows merged."""
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
    r"(?i)(?:\bthe\s+(?:final\s+)?answer\s+is\b\s*:?|\b(?:final\s+)?answer\s*:)[ \t]*([^\n]{1,80}?)[ \t.!]*\Z"
)
_FRACTION = re.compile(r"(-?)\\[dt]?frac\{\s*(-?[0-9]{1,30})\s*\}\{\s*([0-9]{1,30})\s*\}")
_PLAIN_FRACTION = re.compile(r"(-?[0-9]{1,30})\s?/\s?([0-9]{1,30})")
_BOXED_TRAILER = re.compile(r"[\s$.!)\]\\]*")


def _answer_value(written: str) -> Rational | None:
    """The number a final answer states: `72`, `$1,200`, `-3.5`, `\\frac{1}{2}`, `3/4`
    (a percentage as its bare number, as GSM8K answers are written)."""
    if written.isdigit() and written.isascii() and (written[0] != "0" or len(written) == 1):
        return int(written)  # `#### 72`
    written = written.strip().replace("\\!", "").replace("\\,", "")
    try:
        match = _ANSWER_NUMBER.fullmatch(written)
        if match:
            value = _literal(match.group(2))
            return -value if match.group(1) else value
        match = _FRACTION.fullmatch(written)
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
    """The answer `text` ends with: `#### 72`, `\\boxed{72}`, `The answer is 72.`.

    Only the last FINAL_ANSWER_TAIL characters are read, and the marker must be on
    the last line with nothing but the answer (and closing punctuation) after it.
    """
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
                        return FinalAnswer("boxed", written, _answer_value(written), boxed, position + 1)
                    break
    hashes = text.rfind("####", tail_start, end)
    if hashes >= 0:
        written = text[hashes + 4 : end].strip()
        if written and "\n" not in written:
            return FinalAnswer("####", written, _answer_value(written), hashes, end)
    line_start = text.rfind("\n", tail_start, end) + 1
    match = _ANSWER_IS.search(text, max(line_start, tail_start), end)
    if match:
        written = match.group(1).strip().rstrip(".!").rstrip()
        if written.startswith("\\boxed"):
            return None
        return FinalAnswer("answer-is", written, _answer_value(written), match.start(), end)
    return None


def final_answer_marker(text: str) -> str | None:
    """The marker shape `text` ends with (one of MARKERS), or None."""
    answer = find_final_answer(text) if _may_have_marker(text) else None
    return answer.marker if answer else None


def _may_have_marker(text: str) -> bool:
    tail = text[-FINAL_ANSWER_TAIL - 64 :]
    return "####" in tail or "boxed" in tail or "nswer" in tail


# -- derivation --------------------------------------------------------------------------------

_NUMBER_IN_TEXT = re.compile(rf"(?<![0-9.,])(-?)({_NUMBER})")
# `$80 000`, `5 650 000`: thousands grouped by spaces, as some GSM8K solutions write.
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


def _stated_number(written: str) -> Rational | None:
    """A number as stated in text, for derivation only: lenient (`0730` is 730)."""
    digits = written.replace(",", "").replace(" ", "")
    if len(digits) > MAX_LITERAL_DIGITS + 1:
        return None
    whole, dot, decimals = digits.partition(".")
    if not dot:
        return int(digits)
    return Fraction(int(whole or "0") * 10 ** len(decimals) + int(decimals or "0"), 10 ** len(decimals))


def _numbers_in(text: str, start: int, end: int, limit: int) -> list[Rational]:
    """Every number written in text[start:end] (at most `limit`)."""
    values: list[Rational] = []
    for sign, number in _NUMBER_IN_TEXT.findall(text, start, end)[:limit]:
        value = _stated_number(number)
        if value is not None:
            values.append(-value if sign else value)
    return values


def _numbers_in_words(text: str, start: int, end: int, limit: int) -> list[Rational]:
    """Numbers written in ways `_numbers_in` does not read: `80 000`, `three`, `dozen`."""
    values: list[Rational] = []
    for number in _SPACED_NUMBER.findall(text, start, end)[:limit]:
        value = _stated_number(number)
        if value is not None:
            values.append(value)
    for word in _WORD_RUN.findall(text, start, end)[:limit]:
        value = _NUMBER_WORDS.get(word.lower())
        if value is not None:
            values.append(value)
    return values


def _is_among(target: Rational, decimals: int, known: set, scales: tuple[int, ...]) -> bool:
    if target in known or -target in known:
        return True
    for scale in scales:
        if _divide(target, scale) in known:
            return True
    # Rounding to what was written, either way: a final `13` (buses) or `12` (full
    # boxes) for a computed 12.5.
    for value in known:
        if type(value) is not int:
            if _within_rounding(target, decimals, value):
                return True
            for scale in scales:
                if _within_rounding(target, decimals, value * scale):
                    return True
    return False


def _written_before(target: Rational, text: str, limit: int) -> bool:
    """Whether the integer `target` is written as a whole number in text[:limit]:
    a substring search, so the common case parses no number at all."""
    if type(target) is not int:
        return False
    digits = str(abs(target))
    position = text.find(digits, 0, limit)
    while position >= 0:
        end = position + len(digits)
        before = text[position - 1 : position] if position else ""
        after = text[end : end + 2]
        if not (before.isdigit() or before in (".", ",")) and not (
            after[:1].isdigit() or (after[:1] in ".," and after[1:2].isdigit())
        ):
            return True
        position = text.find(digits, end, limit)
    return False


def _is_derived(final: FinalAnswer, computed: list[Rational], text: str, limit: int, question: str | None,
                scales: tuple[int, ...]) -> bool | None:
    target = final.value
    if target in computed or _written_before(target, text, limit):
        return True
    stated = _numbers_in(text, 0, limit, MAX_VALUES)
    if not stated and not computed:
        return None  # no reasoning to derive from
    match = _RESULT.search(final.text)
    decimals = _decimals(match.group(2)) if match else 0
    if _is_among(target, decimals, set(computed) | set(stated), scales):
        return True
    # The slower readings only for the few answers the fast ones do not find.
    extra = _numbers_in_words(text, 0, limit, MAX_VALUES)
    if question:
        extra += _numbers_in(question, 0, len(question), MAX_VALUES)
        extra += _numbers_in_words(question, 0, len(question), MAX_VALUES)
    return bool(extra) and _is_among(target, decimals, set(extra), scales)


# -- the entry point ---------------------------------------------------------------------------


def check_reasoning(text: str, question: str | None = None, unit_scales: tuple[int, ...] | None = None) -> ReasoningReport:
    """Check the equations and the final answer of one reasoning text.

    `question`, when given, supplies numbers a final answer may merely repeat;
    `unit_scales` replaces UNIT_SCALES. Never raises on a string; the work is
    bounded by the MAX_* constants."""
    if unit_scales is None:
        unit_scales = UNIT_SCALES
    has_equals = "=" in text
    final = find_final_answer(text) if _may_have_marker(text) else None
    if not has_equals and final is None:
        return _EMPTY
    limit = final.start if final else len(text)

    errors: list[WrongResult] = []
    computed: list[Rational] = []
    annotations: dict[int, tuple] = {}
    prose_positions: list[int] = []
    annotations_checked = 0
    unverifiable = 0
    truncated = False

    if has_equals:
        seen = 0
        for match in _SCAN.finditer(text, 0, limit):
            seen += 1
            if seen > MAX_EQUATIONS:
                truncated = True
                break
            expression, result_text, after, percent, suffix = match.groups()
            if expression is None:
                prose_positions.append(match.start())
                continue
            try:
                exact = _annotation_value(expression)
            except Unverifiable:
                exact = None
            try:
                stated = _stated(result_text)
            except Unverifiable:
                unverifiable += 1
                continue
            annotations[match.start()] = (exact, stated, result_text)
            if exact is None:
                unverifiable += 1
                holds = True
            else:
                annotations_checked += 1
                computed.append(exact[0])
                holds = _holds(stated, exact)
                if not holds:
                    errors.append(WrongResult("annotation", match.start(), match.end(2) + 2,
                                              f"{expression}={result_text}", result_text, _display(exact[0])))
            if after != result_text or percent or suffix:  # else the text repeats the result
                _check_after(text, match, stated, exact, holds, errors)

    prose_checked = 0
    if prose_positions:
        checker = _ProseChecker(text, annotations)
        for start, end, open_left, open_right in _prose_windows(text, prose_positions, limit):
            checker.check_window(start, end, open_left, open_right)
        errors.extend(checker.errors)
        computed.extend(checker.values)
        prose_checked = checker.checked
        unverifiable += checker.unverifiable
        errors.sort(key=lambda error: error.start)

    derived = None
    if final is not None and final.value is not None:
        derived = _is_derived(final, computed, text, limit, question, unit_scales)
    return ReasoningReport(tuple(errors), final, derived, annotations_checked, prose_checked, unverifiable,
                           truncated, tuple(computed[:MAX_VALUES]), text)


def _check_after(text: str, match: re.Match, stated: tuple[Reading, ...], exact: tuple[Rational, ...] | None,
                 holds: bool, errors: list[WrongResult]) -> None:
    """The number written right after an annotation must repeat its result (or the
    exact value, when the annotation itself is the wrong one)."""
    after, percent, suffix = match.group(3), match.group(4), match.group(5)
    if after is None or (suffix and not suffix.isalpha()):  # nothing after it, or `2:00`, `3/4`
        return
    try:
        readings = _stated(after + percent)
    except Unverifiable:
        return
    if suffix:  # `240k`, `5m` (million or metres): the bare number or its scaled value
        scale = _SUFFIX_SCALES[suffix.lower()]
        readings += tuple((value * scale, decimals) for value, decimals in readings)
    references = tuple(value for value, _ in stated) + (exact or ())
    if not _holds(readings, references):
        start, end = match.start(3), match.end(4)
        correct = match.group(2) if holds else _display(exact[0])
        errors.append(WrongResult("after-annotation", start, end, text[match.start() : end], text[start:end], correct))
