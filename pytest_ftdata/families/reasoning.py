"""`reasoning`: the arithmetic a target writes holds, and its final answer comes from it.

"If the target answer includes reasoning, make sure the reasoning is actually valid
and not a polished hallucination." A fine-tune learns a wrong `48/2 = 25` as readily
as a right one, and a final answer that nothing before it computes teaches it to
guess. `pytest_ftdata.arithmetic` recomputes the equations of each answer exactly
(never with `eval`, with bounded numbers) and looks for the answer's origin; this
family turns what it finds into findings:

- a calculator annotation (`<<48/2=25>>`) whose result is wrong, or the number right
  after a right annotation that does not repeat it, is an `arithmetic-error`: the
  equation is written for a machine, so the verdict is certain;
- an equation written in prose (`18 + 25 = 44`) whose result is wrong is a
  `prose-arithmetic-error` warning: it was read from free text, which can be misread;
- where most targets of a file end in one final-answer shape (`#### 72`, `\\boxed{72}`,
  "The answer is 72."), a target that does not is a `missing-final-answer`, and a
  final answer that appears nowhere among the numbers computed or written before it
  (nor in the question, allowing cents for dollars) is `final-answer-not-derived`.

Every answer turn is checked (all assistant turns of a conversation, the chosen answer
of a preference pair; never the rejected one, which is meant to be wrong). A text
with neither `=` nor a final-answer marker costs two substring tests, and a target
met again in the file is judged once: its report is kept (within `MEMO_TARGETS` and
`MEMO_CHARS`), keyed by the answer's text, or by the answer and its question for the
few answers whose final answer only the question derives (`check_reasoning_noting_question`
says which), so its findings at every line where it occurs are the same as if it had
been checked there.
"""

from __future__ import annotations

from array import array

from ..arithmetic import MARKERS, ReasoningReport, WrongResult, check_reasoning_noting_question, has_reasoning
from ..findings import Finding, FindingList, example, rule
from ..formats import TARGET_ROLES, Example
from ..redact import display, display_span
from .base import FileContext, FileFamily
from .turns import turn_label

_SOLVED = """
    {"question": "Natalia sold clips to 48 of her friends in April, and then half as many in May. How many clips did she sell in April and May?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\\nNatalia sold 48+24 = <<48+24=72>>72 clips in April and May.\\n#### 72"}
    {"question": "Weng earns $12 an hour for babysitting. Yesterday she babysat for 50 minutes. How much did she earn?", "answer": "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\\nWorking 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\\n#### 10"}
    {"question": "A baker makes 3 trays of 12 muffins and sells 29. How many are left?", "answer": "He makes 3 * 12 = <<3*12=36>>36 muffins.\\nHe has 36 - 29 = <<36-29=7>>7 left.\\n#### 7"}
    {"question": "A train travels 60 km an hour for 2.5 hours. How far does it go?", "answer": "It goes 60 * 2.5 = <<60*2.5=150>>150 km.\\n#### 150"}
    {"question": "Betty has $50 and buys a book for $18 and a pen for $25. How much money does she have left?", "answer": "She spent 18 + 25 = $<<18+25=43>>43.\\nShe has 50 - 43 = $<<50-43=7>>7 left.\\n#### 7"}
"""

ARITHMETIC_ERROR = rule(
    code="RSN001", name="arithmetic-error", family="reasoning", severity="error",
    summary="A calculator annotation in a target computes a wrong result, or the text after it disagrees.",
    why="""The target writes `<<48/2=25>>` (GSM8K's calculator annotations) and 48/2 is 24, or
    writes a number right after a right annotation that does not repeat its result
    (`<<48/2=24>>26`). An annotation is written for a machine, so recomputing it is
    exact (integers and fractions, never floating point, never `eval`), and a written
    rounding such as `<<10/3=3.33>>` holds. A model tuned on it learns to write wrong
    steps with confidence: "make sure the reasoning is actually valid and not a
    polished hallucination".""",
    fix="""Correct the result (the message gives the right value) and every later step and the
    final answer that used the wrong one, or drop the example.""",
    bad=example(_SOLVED.replace("<<48/2=24>>24", "<<48/2=25>>25").replace("48+24 = <<48+24=72>>72", "48+25 = <<48+25=73>>73").replace("#### 72", "#### 73")),
    good=example(_SOLVED),
)
PROSE_ARITHMETIC_ERROR = rule(
    code="RSN002", name="prose-arithmetic-error", family="reasoning", severity="warning",
    summary="An equation written in a target's prose does not hold.",
    why="""The target writes an equation in its text (`18 + 25 = 44`, `$1,200 x 2 = $2,500`,
    each step of `50 - 18 - 25 = 7`) and its exact value differs from the written
    result beyond any written rounding. Prose is read with care (algebra, times,
    units and words inside an expression and `=` used as "is" are not judged), but it
    is free text and can be misread, so this is a warning, not an error. On the
    original GSM8K every one of these findings (20) is a real slip in the published
    solution.""",
    fix="""Correct the equation and what follows from it. If the text is not arithmetic (a
    notation the reader mistook), leave it, and say so for the file with `ignore`.""",
    bad=example(_SOLVED.replace("She spent 18 + 25 = $<<18+25=43>>43.", "She spent 18 + 25 = $44.").replace("50 - 43 = $<<50-43=7>>7", "50 - 44 = $<<50-44=6>>6").replace("#### 7", "#### 6")),
    good=example(_SOLVED.replace("She spent 18 + 25 = $<<18+25=43>>43.", "She spent 18 + 25 = $43.")),
)
MISSING_FINAL_ANSWER = rule(
    code="RSN003", name="missing-final-answer", family="reasoning", severity="error",
    summary="A target lacks the final-answer marker that the other targets of its file end in.",
    why="""Most targets of the file (at least `DOMINANT_SHARE`, 80%, of at least
    `MIN_TARGETS`, 5) end in one final-answer shape: `#### 72`, `\\boxed{72}` or
    "The answer is 72.". This one ends in none, or in another shape. The evaluation
    that reads the model's answer looks for that marker; a model tuned on targets that
    sometimes omit it sometimes omits it too, and an answer cut short (a truncated
    export) looks just like this.""",
    fix="""End the target with the file's marker and the answer, as the others do; if the
    target was cut short, restore or drop it.""",
    bad=example(_SOLVED.replace("\\n#### 10", "")),
    good=example(_SOLVED),
)
FINAL_ANSWER_NOT_DERIVED = rule(
    code="RSN004", name="final-answer-not-derived", family="reasoning", severity="warning",
    summary="A final answer appears nowhere in the reasoning before it, nor in the question.",
    why="""The target ends in a final answer (`#### 66`) whose value is not among the numbers
    the reasoning computes or writes before it, nor in the question, even allowing the
    unit scaling real data uses (dollars to cents, x100) and rounding up or down (13
    buses for 12.5). Either the reasoning stops short of the answer, or the answer was
    copied from elsewhere: a "polished hallucination" that teaches a model to give
    answers its work does not support. A weak test by design: it asks only whether
    the number came from somewhere, so a flagged answer deserves a look and a passed
    one may still be wrong. Checked in files whose targets end in a final-answer
    marker (see RSN003).""",
    fix="""Read the reasoning: add the missing last step, or correct the answer to the value
    it derives.""",
    bad=example(_SOLVED.replace("#### 72", "#### 66")),
    good=example(_SOLVED),
)

#: A final-answer shape holds for a file when this share of its targets end in it...
DOMINANT_SHARE = 0.8
#: ... out of at least this many targets.
MIN_TARGETS = 5
#: Lines of targets kept per final-answer shape (and without one), for the findings.
MAX_SHAPE_LINES = 1000
#: Characters of the target shown around an equation.
EXCERPT_WIDTH = 100
#: Reports kept per file for targets met again (a duplicated record, an answer
#: repeated for paraphrased prompts...): at most this many, kept under at most this
#: many characters of answers (and of the questions of answers whose report depends
#: on them) in all, each at most MEMO_TARGET_CHARS long: some 40 MB at the most.
MEMO_TARGETS = 16_384
MEMO_CHARS = 6_000_000
MEMO_TARGET_CHARS = 20_000

#: What the memo keeps for an answer with nothing to report: its marker (one shared
#: string per marker, so that a hit reads nothing but the key), or `_NO_MARKER`.
_NO_MARKER = object()
_CLEAN = {**{marker: marker for marker in MARKERS}, None: _NO_MARKER}



class _ByQuestion(dict):
    """question -> outcome, for an answer whose report depends on its question."""

    __slots__ = ()


_SHAPES = {"####": "`#### <answer>`", "boxed": "`\\boxed{<answer>}`", "answer-is": "`The answer is <answer>.`"}


class ReasoningFamily(FileFamily):
    family = "reasoning"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.findings = FindingList(self.path)
        #: final-answer shape (None: no marker) -> targets, first lines
        self.shape_counts: dict[str | None, int] = {}
        self.shape_lines: dict[str | None, array] = {}
        #: `final-answer-not-derived` findings, kept until the file shows it ends answers in a marker
        self.underived: list[Finding] = []
        self.underived_unlisted = array("I")
        self.underived_count = 0
        #: answer -> its report, or for an answer with nothing to report the marker it
        #: ends in (`_NO_MARKER` for none), or for the few answers whose report depends
        #: on the question, a `_ByQuestion` of them: a target met again is judged once
        self.reports: dict[str, ReasoningReport | str | object] = {}
        self.remembered = 0
        self.remembered_chars = 0
        #: (text, where, error or final answer) -> the message and excerpt of its finding:
        #: a target met again is shown once. At most one entry per finding listed one by
        #: one (`FindingList.limit` per rule), the only ones whose text is built, and
        #: texts of `MEMO_TARGET_CHARS` and `MEMO_CHARS` in all, as for `reports` (and off
        #: with it: `MEMO_TARGETS` = 0).
        self.rendered: dict[tuple, tuple[str, str]] = {}
        self.rendered_chars = 0

    def _remember(self, text: str, question: str | None, asks: bool, outcome: ReasoningReport | str | object) -> None:
        """Keep the outcome of an answer met again, keyed by its text, or by its text
        and its question when the report depends on the question (`asks`), within
        `MEMO_TARGETS` outcomes and `MEMO_CHARS` characters of the texts and questions
        they are kept under; when full, start afresh."""
        chars = len(text) + (len(question) if asks and question else 0)
        if chars > MEMO_TARGET_CHARS or not MEMO_TARGETS:
            return
        if self.remembered >= MEMO_TARGETS or self.remembered_chars + chars > MEMO_CHARS:
            self.reports.clear()
            self.remembered = self.remembered_chars = 0
        if asks:
            by_question = self.reports.get(text)
            if type(by_question) is not _ByQuestion:
                by_question = self.reports[text] = _ByQuestion()
            by_question[question] = outcome
        else:
            self.reports[text] = outcome
        self.remembered += 1
        self.remembered_chars += chars

    def visit(self, example: Example) -> None:
        target = example.target_text
        fmt = example.format
        if fmt == "sharegpt" or (fmt == "chat" and not (example.plain and len(example.record["messages"]) <= 3)):
            self._visit_turns(example, target)
            return
        # The target is the only answer turn to check: every single-answer layout, and
        # a plain chat record of up to three messages (most of them). This runs once
        # per example, so the common case reads the memo inline: a clean answer met
        # before costs one lookup of its text.
        if not target:
            return
        if "=" in target or has_reasoning(target):  # the first test is the common case, inline
            outcome = self.reports.get(target)
            if type(outcome) is str:
                final_shape = outcome
            elif outcome is _NO_MARKER:
                final_shape = None
            else:
                final_shape = self._judge(example, None, target, True, outcome)
        elif target.isspace():
            return
        else:
            final_shape = None
        if not example.target_is_tool_call:  # `_count_shape`, inline
            counts = self.shape_counts
            seen = counts.get(final_shape, 0)
            counts[final_shape] = seen + 1
            if seen < MAX_SHAPE_LINES:
                self._shape_line(final_shape, example.line)

    def _visit_turns(self, example: Example, target: str) -> None:
        """Every answer turn of a conversation (all assistant turns) is checked."""
        answers = [(index, turn.text) for index, turn in enumerate(example.turns)
                   if turn.role in TARGET_ROLES and turn.text]
        last = answers[-1][0] if answers else None
        final_shape = None
        for index, text in answers:
            if has_reasoning(text):
                shape = self._judge(example, index, text, index == last, self.reports.get(text))
                if index == last:
                    final_shape = shape
        if target and not example.target_is_tool_call and not target.isspace():
            self._count_shape(final_shape, example.line)

    def _count_shape(self, final_shape: str | None, line: int) -> None:
        seen = self.shape_counts.get(final_shape, 0)
        self.shape_counts[final_shape] = seen + 1
        if seen < MAX_SHAPE_LINES:
            self._shape_line(final_shape, line)

    def _shape_line(self, final_shape: str | None, line: int) -> None:
        lines = self.shape_lines.get(final_shape)
        if lines is None:
            lines = self.shape_lines[final_shape] = array("I")
        lines.append(line)

    def _judge(self, example: Example, index: int | None, text: str, last: bool, outcome) -> str | None:
        """Report what one answer turn with reasoning holds (`index` None: the target,
        whose turn is looked up only for a finding), given what the memo holds for its
        text (None: nothing); the marker of its final answer when `last`."""
        if outcome is None or type(outcome) is _ByQuestion:
            question = example.input_text or None
            if outcome is not None:
                outcome = outcome.get(question)
            if outcome is None:
                report, asks = check_reasoning_noting_question(text, question)
                final = report.final_answer
                if report.errors or (final is not None and report.final_answer_derived is False):
                    outcome = report
                else:  # nothing to report: all that is kept is the marker, shared by every such target
                    outcome = _CLEAN[final.marker if final is not None else None]
                self._remember(text, question, asks, outcome)
        if type(outcome) is str:
            return outcome if last else None
        if outcome is _NO_MARKER:
            return None
        report = outcome
        if report.errors:
            if index is None:
                index = _target_index(example)
            for error in report.errors:
                self._report_error(example, index, text, error)
        final = report.final_answer
        if not last or final is None:
            return None
        if report.final_answer_derived is False:
            self._underived(example, _target_index(example) if index is None else index, text, final)
        return final.marker

    def _where(self, example: Example, index: int) -> str:
        return turn_label(example, index, "assistant")

    def _report_error(self, example: Example, index: int, text: str, error: WrongResult) -> None:
        rule_ = PROSE_ARITHMETIC_ERROR if error.kind == "prose" else ARITHMETIC_ERROR
        if not self.findings.room(rule_, example.line):
            return
        where = self._where(example, index)
        key = (text, where, error)
        shown = self.rendered.get(key)
        if shown is None:
            shown = self._error_text(where, text, error)
            self._keep_rendered(key, shown)
        message, excerpt = shown
        self.findings.append(rule_.at(self.path, example.line, message, excerpt=excerpt))

    def _keep_rendered(self, key: tuple, shown: tuple[str, str]) -> None:
        chars = len(key[0])
        if MEMO_TARGETS and chars <= MEMO_TARGET_CHARS and self.rendered_chars + chars <= MEMO_CHARS:
            self.rendered[key] = shown
            self.rendered_chars += chars

    @staticmethod
    def _error_text(where: str, text: str, error: WrongResult) -> tuple[str, str]:
        """The message and the excerpt of an error's finding."""
        equation, stated = display(error.equation, 80), display(error.stated, 30)
        if error.kind == "annotation":
            message = (
                f"The calculator annotation `<<{equation}>>` in {where} gives {stated}, but the exact result "
                f"is {error.correct}; correct it and every step that uses it."
            )
        elif error.kind == "after-annotation":
            message = (
                f"{where[0].upper()}{where[1:]} writes {stated} right after the annotation `{equation}`, whose "
                f"result is {error.correct}; write the annotated result (or correct the annotation)."
            )
        else:
            message = (
                f"The equation `{equation}` in {where} does not hold: the exact result is {error.correct}, not "
                f"{stated}. It was read from prose, which can be misread: correct it if it is arithmetic."
            )
        return message, display_span(text, error.start, error.end, EXCERPT_WIDTH)

    def _underived(self, example: Example, index: int, text: str, answer) -> None:
        self.underived_count += 1
        if len(self.underived) >= MAX_SHAPE_LINES:
            if len(self.underived_unlisted) < 20:
                self.underived_unlisted.append(example.line)
            return
        where = self._where(example, index)
        key = (text, where, answer)
        shown = self.rendered.get(key)
        if shown is None:
            written = display(text[answer.start : answer.end], 40)
            message = (
                f"The final answer `{written}` of {where} is not computed or written anywhere "
                "before it, nor in the question (allowing dollars as cents and rounding): check that the reasoning "
                "derives it, and add the missing step or correct the answer. Certain that the number appears "
                "nowhere; whether the answer is wrong needs a person."
            )
            shown = (message, display_span(text, answer.start, answer.end, EXCERPT_WIDTH))
            self._keep_rendered(key, shown)
        message, excerpt = shown
        self.underived.append(FINAL_ANSWER_NOT_DERIVED.at(self.path, example.line, message, excerpt=excerpt))

    def finish(self) -> list[Finding]:
        dominant = self._dominant_shape()
        if dominant is not None:
            self._missing_markers(dominant)
            for finding in self.underived:
                self.findings.append(finding)
            unlisted = self.underived_count - len(self.underived)
            if unlisted:
                self.findings.count_unlisted(FINAL_ANSWER_NOT_DERIVED, unlisted, self.underived_unlisted)
        return self.findings.finish()

    def _dominant_shape(self) -> str | None:
        total = sum(self.shape_counts.values())
        marked = [(count, shape) for shape, count in self.shape_counts.items() if shape is not None]
        if total < MIN_TARGETS or not marked:
            return None
        count, shape = max(marked, key=lambda item: (item[0], -MARKERS.index(item[1])))
        return shape if count >= DOMINANT_SHARE * total else None

    def _missing_markers(self, dominant: str) -> None:
        total = sum(self.shape_counts.values())
        ending = self.shape_counts[dominant]
        for shape, lines in self.shape_lines.items():
            if shape == dominant:
                continue
            what = "ends in no final answer" if shape is None else f"ends in {_SHAPES[shape]}"
            for line in lines:
                if not self.findings.room(MISSING_FINAL_ANSWER, line):
                    continue
                self.findings.append(
                    MISSING_FINAL_ANSWER.at(
                        self.path, line,
                        f"The target {what}, while {ending} of the file's {total} targets end in "
                        f"{_SHAPES[dominant]}; end it the same way, or restore it if it was cut short.",
                    )
                )
            unlisted = self.shape_counts[shape] - len(lines)
            if unlisted:
                self.findings.count_unlisted(MISSING_FINAL_ANSWER, unlisted, ())


def _target_index(example: Example) -> int:
    """The turn index of the target of an example `_target_alone` accepts."""
    if example.format == "chat":
        messages = example.record["messages"]
        return next((i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] in TARGET_ROLES), 0)
    return len(example.turns) - 1
