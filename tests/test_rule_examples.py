"""Every built-in rule documents itself, and its examples run (as great_expectations runs its gallery).

Each rule declares why it matters (`why`), how to fix it (`fix`), the settings it reads
(`settings`), and a bad and a fixed dataset (`bad`, `good`). Here every bad example is
run through its family and must be reported, and every good one must not be: a rule
page can never show an example the rule does not act on.

The few rules no file can show (a file changed while it was read, a name that is not
UTF-8, a check that crashes) are listed in `NOT_SHOWN_AS_A_FILE` with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pytest_ftdata.custom  # noqa: F401  (CHK001)
import pytest_ftdata.engine  # noqa: F401  (CHK002)
import pytest_ftdata.families  # noqa: F401  (every family's rules)
from pytest_ftdata.config import validate
from pytest_ftdata.docs import is_setting
from pytest_ftdata.engine import analyze_dataset, is_data_file
from pytest_ftdata.findings import FAMILIES, RULES, Rule, RuleExample

#: Code prefixes of the built-in rules (a project rule may not use them, see `custom.rule`).
BUILTIN_PREFIXES = ("SCH", "FMT", "PII", "POL", "LEN", "RSN", "DUP", "LEAK", "SPL", "LBL", "SUB", "VER", "CHK")

#: Rules that no dataset in a directory can show, with the reason.
NOT_SHOWN_AS_A_FILE = {
    "SCH011": "needs a file that changes while it is being read",
    "SCH013": "needs a file name that is not UTF-8, which macOS and Windows file systems refuse to create",
    "LBL011": "needs more than 10,000 distinct labels (a fixed limit): no example that size is readable",
    "SUB004": "needs more than 1,000 distinct values in one dimension (a fixed limit): no example that size is readable",
    "SCH015": "needs an optional package (pyarrow) to be missing, and the suite installs it",
    "LBL012": "needs at least 50 examples for the label model to learn from: too many to read on a page",
    "LBL013": "needs the [labels] extra to be missing, and the suite installs it",
    "DUP006": "needs the [scale] extra to be missing, and the suite installs it (tests/test_outofcore.py hides it)",
    "LEAK005": "needs the [scale] extra to be missing, and the suite installs it (tests/test_outofcore.py hides it)",
    "LBL014": "needs the label model's out-of-sample predictions over at least 50 examples",
    "CHK001": "needs a project check (Python code in conftest.py) that raises",
    "CHK002": "needs a built-in family to fail on an example; every input found to do so became a rule of its own",
}


def _builtin(rule: Rule) -> bool:
    prefix = re.match(r"[A-Z]*", rule.code).group()
    return prefix in BUILTIN_PREFIXES


#: Sorted by code, so that every xdist worker collects the same items in the same order.
BUILTIN_RULES = sorted((rule for rule in RULES.values() if _builtin(rule)), key=lambda rule: rule.code)
WITH_EXAMPLES = [rule for rule in BUILTIN_RULES if rule.bad is not None]


def test_the_builtin_rules_are_all_here():
    families = {rule.family for rule in BUILTIN_RULES}
    assert set(FAMILIES) <= families
    assert len(BUILTIN_RULES) >= 95
    assert set(NOT_SHOWN_AS_A_FILE) <= {rule.code for rule in BUILTIN_RULES}


@pytest.mark.parametrize("rule", BUILTIN_RULES, ids=[rule.code for rule in BUILTIN_RULES])
def test_every_rule_is_documented(rule: Rule):
    assert rule.why.strip(), f"{rule.code} does not say why it matters (`why`)"
    assert rule.fix.strip(), f"{rule.code} does not say how to fix it (`fix`)"
    unknown = [key for key in rule.settings if not is_setting(key)]
    assert not unknown, f"{rule.code} names settings that do not exist: {unknown}"
    assert len(set(rule.settings)) == len(rule.settings), f"{rule.code} names a setting twice"
    shown = rule.bad is not None and rule.good is not None
    if rule.code in NOT_SHOWN_AS_A_FILE:
        assert rule.bad is None and rule.good is None, f"{rule.code} has examples: take it out of NOT_SHOWN_AS_A_FILE"
    else:
        assert shown, f"{rule.code} needs a bad and a good example (or a reason in NOT_SHOWN_AS_A_FILE)"
    for example in (rule.bad, rule.good):
        if example is not None:
            assert isinstance(example, RuleExample) and example.files


def _findings(rule: Rule, example: RuleExample, tmp_path: Path) -> list:
    data = tmp_path / "data"
    data.mkdir()
    for name, content in example.files.items():
        (data / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    config = validate(dict(example.config), "example", str(tmp_path))
    files = sorted(path for path in data.iterdir() if is_data_file(path.name))
    families = [rule.family] if rule.family in FAMILIES else list(FAMILIES)
    return analyze_dataset(data, files, config, tmp_path, families=families).all_findings()


def _listing(findings: list) -> str:
    return "\n".join(f.render() for f in findings) or "(no findings)"


@pytest.mark.parametrize("rule", WITH_EXAMPLES, ids=[rule.code for rule in WITH_EXAMPLES])
def test_bad_example_is_reported(rule: Rule, tmp_path: Path):
    found = _findings(rule, rule.bad, tmp_path)
    assert rule.code in {f.rule for f in found}, f"{rule.code} is not reported on its bad example:\n{_listing(found)}"


@pytest.mark.parametrize("rule", WITH_EXAMPLES, ids=[rule.code for rule in WITH_EXAMPLES])
def test_good_example_is_clean(rule: Rule, tmp_path: Path):
    found = _findings(rule, rule.good, tmp_path)
    assert rule.code not in {f.rule for f in found}, f"{rule.code} is reported on its good example:\n{_listing(found)}"
