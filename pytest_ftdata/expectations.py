"""`assert_all`: an expectation over examples that fails like the built-in checks.

    def test_refunds_cite_the_policy(ftdata):
        refunds = ftdata.split("train").where(lambda ex: ex.label == "refund")
        assert_all(refunds, lambda ex: "POL-" in ex.target_text, "every refund answer cites the policy id")

A failure is one sentence (how many examples, where, why), then one
`path:line: CODE message` line per offending example with its excerpt, capped at
20 (all with -v). Excerpts and messages are redacted: a test failure never prints
a secret or an e-mail address in full. Nothing here imports pytest.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .findings import CUSTOM, Finding, Rule
from .redact import display
from .render import MAX_SHOWN, render_findings

__all__ = ["DatasetAssertionError", "assert_all", "set_verbosity"]

#: The code shown on the lines of a failed `assert_all` that names no rule of its own.
EXPECTATION = Rule(code="EXPECT", name="expectation", family=CUSTOM, severity="error", summary="An expectation of a dataset test failed.")

#: pytest's -v level, set by the plugin for the session: -v shows every offending example.
_verbosity = 0


def verbosity() -> int:
    return _verbosity


def set_verbosity(level: int) -> int:
    """Set the verbosity failures are rendered with; returns the previous one."""
    global _verbosity
    previous, _verbosity = _verbosity, level
    return previous


class DatasetAssertionError(AssertionError):
    """A dataset assertion failed; `.findings` holds the offending examples as findings."""

    def __init__(self, message: str, findings: Iterable[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


def describe(examples: Any) -> str:
    return getattr(examples, "description", None) or "the given examples"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def assert_all(
    examples: Iterable[Any],
    predicate: Callable[[Any], Any],
    why: str,
    *,
    rule: Rule | None = None,
    allow_empty: bool = False,
) -> None:
    """Fail unless `predicate(example)` is true for every example.

    `why` says what every example should do ("every refund answer cites the policy
    id"); it titles the failure and follows each offending `path:line`. A predicate
    that raises (a missing key, a target that is not JSON) counts as a failure of
    that example and says what it raised. Pass `rule=` (from `pytest_ftdata.rule`)
    to show your rule code on each line. An empty selection fails too, since
    an expectation nothing was checked against proves nothing; pass
    `allow_empty=True` when empty is fine.
    """
    __tracebackhide__ = True  # pytest shows the user's test line, not this function
    shown = _verbosity > 0
    used = rule or EXPECTATION
    kept: list[Finding] = []
    failed = total = 0
    for example in examples:
        total += 1
        try:
            ok = predicate(example)
            message = why
        except Exception as exc:  # the predicate's own error is a finding about this example
            ok = False
            detail = display(str(exc), 60)
            message = f"{why} (the check raised {type(exc).__name__}{': ' + detail if detail else ''})"
        if ok:
            continue
        failed += 1
        if shown or len(kept) < MAX_SHOWN:
            kept.append(used.at(example.path, example.line, message, excerpt=example.excerpt()))
    if total == 0 and not allow_empty:
        raise DatasetAssertionError(
            f"No examples to check in {describe(examples)}, so the expectation proves nothing: {_sentence(why)} "
            "Pass allow_empty=True if an empty selection is expected."
        )
    if not failed:
        return
    noun = "example" if total == 1 else "examples"
    verb = "fails" if failed == 1 else "fail"
    lines = [f"{failed} of {total} {noun} in {describe(examples)} {verb} the expectation: {_sentence(why)}", ""]
    lines.extend(render_findings(kept, verbose=1))
    if failed > len(kept):
        lines.append(f"... and {failed - len(kept)} more (run with -v to see all)")
    raise DatasetAssertionError("\n".join(lines), kept)
