"""Assertions for a project's own dataset tests, failing like the built-in families.

`assert_all` (see `expectations`) checks an expectation of every example. The
`assert_<family>` helpers run a real built-in family through the engine on a dataset
(or a split), optionally with config overrides, and fail with its findings.
Nothing here imports pytest.
"""

from __future__ import annotations

from typing import Any

from . import expectations
from .dataset import run_check
from .expectations import DatasetAssertionError, assert_all
from .findings import Finding
from .render import failure_title, render_failure

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

def assert_check(family: str, target: Any, **config: Any) -> list[Finding]:
    """Run the family `family` on `target` and fail on its errors.

    `target` is a dataset (`ftdata.dataset("support")`), all datasets (`ftdata`),
    or an unfiltered split (`ftdata.split("train")`). Keyword arguments override
    the configuration for this run (`min_per_label=20`). Returns the findings when
    there is no error, so a test can look at the warnings.
    """
    __tracebackhide__ = True
    found = run_check(target, family, **config)
    errors = [finding for finding in found if finding.severity == "error"]
    if errors:
        title = failure_title(family, errors, expectations.describe(target))
        raise DatasetAssertionError(render_failure(title, found, verbose=expectations.verbosity()), found)
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
