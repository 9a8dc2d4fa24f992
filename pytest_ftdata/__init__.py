"""pytest-ftdata: test fine-tuning datasets like code.

The pytest plugin lives in `pytest_ftdata.plugin`. What a project calls from its own
tests, scripts and notebooks is exported here:

- `load(path, **config)`: the datasets under a path (what the `ftdata` fixture gives);
- `assert_all` and the `assert_<check>` helpers: assertions that fail like the checks;
- `rule` and `check`: declare project rules and register project-specific checks.
"""

from .assertions import (
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
from .custom import CheckSpec, check, rule
from .dataset import Dataset, Datasets, Examples, load
from .example import Example
from .expectations import DatasetAssertionError, assert_all
from .families import DatasetContext, DatasetFamily, FileContext, FileFamily, FileInfo
from .findings import Finding, Rule, RuleExample, example

#: The names of releases before 0.2, kept for projects that subclass them.
FileCheck = FileFamily
DatasetCheck = DatasetFamily

__all__ = [
    "CheckSpec",
    "Dataset",
    "DatasetAssertionError",
    "DatasetCheck",
    "DatasetContext",
    "DatasetFamily",
    "Datasets",
    "Example",
    "Examples",
    "FileCheck",
    "FileContext",
    "FileFamily",
    "FileInfo",
    "Finding",
    "Rule",
    "RuleExample",
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
    "example",
    "load",
    "rule",
]
