"""Assertions for a project's own dataset tests, failing like the built-in checks.

    def test_refunds_cite_the_policy(ftdata):
        refunds = ftdata.split("train").where(lambda ex: ex.label == "refund")
        assert_all(refunds, lambda ex: "POL-" in ex.target_text, "every refund answer cites the policy id")

A failure is one sentence (how many examples, where, why), then one
`path:line: CODE message` line per offending example with its excerpt, capped at
20 (all with -v). Excerpts and messages go through `redact()`: a test failure never
prints a secret or an e-mail address in full.

The `assert_<check>` helpers run a real built-in check family through the engine on
a dataset (or a split), optionally with config overrides, and fail with its findings.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from .api import CheckNotAvailable, run_check
from .findings import Finding, Rule
from .redact import display
from .render import MAX_SHOWN, failure_title, render_failure, render_findings

__all__ = [
    "DatasetAssertionError",
    "assert_all",
    "assert_check",
    "assert_format",
    "assert_label_coverage",
    "assert_length",
    "assert_no_duplicates",
    "assert_no_leakage",
    "assert_no_pii",
    "assert_policy",
    "assert_schema",
    "assert_splits",
    "assert_subgroup_coverage",
]

#: The code shown on the lines of a failed `assert_all` that names no rule of its own.
EXPECTATION = Rule("EXPECT", "expectation", "custom", "error", "An expectation of a dataset test failed.")

#: pytest's -v level, set by the plugin for the session: -v shows every offending example.
_verbosity = 0


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


def _describe(examples: Any) -> str:
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
            f"No examples to check in {_describe(examples)}, so the expectation proves nothing: {_sentence(why)} "
            "Pass allow_empty=True if an empty selection is expected."
        )
    if not failed:
        return
    noun = "example" if total == 1 else "examples"
    verb = "fails" if failed == 1 else "fail"
    lines = [f"{failed} of {total} {noun} in {_describe(examples)} {verb} the expectation: {_sentence(why)}", ""]
    lines.extend(render_findings(kept, verbose=1))
    if failed > len(kept):
        lines.append(f"... and {failed - len(kept)} more (run with -v to see all)")
    raise DatasetAssertionError("\n".join(lines), kept)


def assert_check(family: str, target: Any, **config: Any) -> list[Finding]:
    """Run the check family `family` on `target` and fail on its errors.

    `target` is a dataset (`ftdata.dataset("support")`), all datasets (`ftdata`),
    or an unfiltered split (`ftdata.split("train")`). Keyword arguments override
    the configuration for this run (`min_per_label=20`). Returns the findings when
    there is no error, so a test can look at the warnings.
    """
    __tracebackhide__ = True
    try:
        found = run_check(target, family, **config)
    except CheckNotAvailable as exc:
        if os.environ.get("PYTEST_CURRENT_TEST"):
            import pytest

            pytest.skip(str(exc))
        raise
    errors = [finding for finding in found if finding.severity == "error"]
    if errors:
        title = failure_title(family, errors, _describe(target))
        raise DatasetAssertionError(render_failure(title, found, verbose=_verbosity), found)
    return found


def assert_schema(target: Any, **config: Any) -> list[Finding]:
    """Every line is a readable record with the structure of its format."""
    __tracebackhide__ = True
    return assert_check("schema", target, **config)


def assert_format(target: Any, **config: Any) -> list[Finding]:
    """Answers agree on how they look (JSON, target_schema, whitespace, system prompts)."""
    __tracebackhide__ = True
    return assert_check("format", target, **config)


def assert_no_duplicates(target: Any, **config: Any) -> list[Finding]:
    """No exact or near-duplicate examples."""
    __tracebackhide__ = True
    return assert_check("duplicates", target, **config)


def assert_no_pii(target: Any, **config: Any) -> list[Finding]:
    """No secrets or personal data."""
    __tracebackhide__ = True
    return assert_check("pii", target, **config)


def assert_policy(target: Any, **config: Any) -> list[Finding]:
    """No banned patterns; required fields present."""
    __tracebackhide__ = True
    return assert_check("policy", target, **config)


def assert_length(target: Any, **config: Any) -> list[Finding]:
    """Examples fit `max_chars` / `max_tokens` (pass them as keywords to override)."""
    __tracebackhide__ = True
    return assert_check("length", target, **config)


def assert_no_leakage(target: Any, **config: Any) -> list[Finding]:
    """No example or group (`group_by`) is shared between splits."""
    __tracebackhide__ = True
    return assert_check("leakage", target, **config)


def assert_splits(target: Any, **config: Any) -> list[Finding]:
    """Split sizes and ratios are as configured."""
    __tracebackhide__ = True
    return assert_check("splits", target, **config)


def assert_label_coverage(target: Any, min: int | None = None, **config: Any) -> list[Finding]:
    """Every label has at least `min` examples (default: the `min_per_label` setting)."""
    __tracebackhide__ = True
    if min is not None:
        config["min_per_label"] = min
    return assert_check("labels", target, **config)


def assert_subgroup_coverage(target: Any, min: int | None = None, **config: Any) -> list[Finding]:
    """Every subgroup has at least `min` examples (default: the `min_per_subgroup` setting)."""
    __tracebackhide__ = True
    if min is not None:
        config["min_per_subgroup"] = min
    return assert_check("subgroups", target, **config)
