"""pytest-ftdata: test fine-tuning datasets like code.

The pytest plugin lives in `pytest_ftdata.plugin`. What a project calls from its own
tests, scripts and notebooks is exported here:

- `load(path, **config)`: the datasets under a path (what the `ftdata` fixture gives);
- `assert_all` and the `assert_<check>` helpers: assertions that fail like the checks;
- `rule` and `check`: declare project rules and register project-specific checks.
"""

from .api import CheckSpec, Dataset, Datasets, Example, Examples, check, load, rule
from .assertions import (
    DatasetAssertionError,
    assert_all,
    assert_check,
    assert_format,
    assert_label_coverage,
    assert_length,
    assert_no_duplicates,
    assert_no_leakage,
    assert_no_pii,
    assert_policy,
    assert_schema,
    assert_splits,
    assert_subgroup_coverage,
)
from .checks import DatasetCheck, DatasetContext, FileCheck, FileContext, FileInfo
from .findings import Finding, Rule

__all__ = [
    "CheckSpec",
    "Dataset",
    "DatasetAssertionError",
    "DatasetCheck",
    "DatasetContext",
    "Datasets",
    "Example",
    "Examples",
    "FileCheck",
    "FileContext",
    "FileInfo",
    "Finding",
    "Rule",
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
    "check",
    "load",
    "rule",
]
