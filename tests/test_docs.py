"""The README cannot go stale: rule table, configuration reference, and the CI command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ftdata import docs
from pytest_ftdata.config import BannedPattern, FtdataConfig, PiiConfig
from pytest_ftdata.findings import Rule

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def section(text: str, name: str) -> str:
    """The README text after `<!-- section: name ... -->` up to the next `## ` heading."""
    match = re.search(rf"<!-- section: {re.escape(name)}\b[^>]*-->(.*?)(?=\n## |\Z)", text, re.S)
    assert match, f"README has no section {name!r}"
    return match.group(1)


def test_rule_table_is_up_to_date():
    # In a fresh interpreter, so every rule module is imported exactly as a user would.
    run = subprocess.run([sys.executable, "-m", "pytest_ftdata.docs", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr + "\nRun `python -m pytest_ftdata.docs` to regenerate the README rule table."


def test_every_rule_is_documented_in_the_readme():
    rules = docs.load_rules()
    text = README.read_text(encoding="utf-8")
    for rule in rules.values():
        assert f'<a id="{docs.anchor(rule)}"></a>' in text
        assert f"| [`{rule.code}`](#{docs.anchor(rule)}) | `{rule.name}` | {rule.check} | {rule.severity} |" in text
        assert rule.summary.strip(), f"{rule.code} has no summary"
        assert rule.doc.strip(), f"{rule.code} has no documentation paragraph"


def test_rule_codes_and_names_are_unique_and_well_formed():
    rules = docs.load_rules()
    names = [rule.name for rule in rules.values()]
    assert len(names) == len(set(names))
    for code, rule in rules.items():
        assert code == rule.code and re.fullmatch(r"[A-Z]{2,5}\d{3}", code), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.severity in ("error", "warning")


FAKE = {
    "ZZZ002": Rule(code="ZZZ002", name="second-rule", family="format", severity="warning", summary="Second | piped.", why="Why two."),
    "ZZZ001": Rule(code="ZZZ001", name="first-rule", family="schema", severity="error", summary="First.", why="Why one."),
}


def test_render_orders_by_family_then_code_and_escapes_pipes():
    block = docs.render(FAKE)
    assert block.index("ZZZ001") < block.index("ZZZ002")  # schema before format
    assert "Second \\| piped." in block
    assert "**Why and how to fix:** Why one." in block


def test_check_mode_detects_a_stale_readme(tmp_path, monkeypatch):
    monkeypatch.setattr(docs, "load_rules", lambda: FAKE)
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- rules:start -->\nold table\n<!-- rules:end -->\n\nafter\n", encoding="utf-8")
    assert docs.main(["--check", "--readme", str(readme)]) == 1
    assert docs.main(["--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text and "first-rule" in text and text.endswith("<!-- rules:end -->\n\nafter\n")
    assert docs.main(["--check", "--readme", str(readme)]) == 0


def test_missing_markers_are_an_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n", encoding="utf-8")
    assert docs.main(["--check", "--readme", str(readme)]) == 2


def test_configuration_reference_covers_every_key():
    reference = section(README.read_text(encoding="utf-8"), "configuration")
    keys = list(FtdataConfig.model_fields)
    keys += [f"pii.{name}" for name in PiiConfig.model_fields]
    missing = [key for key in keys if f"`{key}`" not in reference]
    assert not missing, f"README configuration reference lacks {missing}"
    for name in BannedPattern.model_fields:
        assert name in reference


TEST_COMMAND = "python3 -m pip install -e '.[test]' && python3 -m pytest -n 2"
EXAMPLE_COMMAND = "python3 -m pip install -e . && cd example_project && python3 -m pytest"


def test_ci_runs_exactly_the_readme_test_command():
    quickstart = section(README.read_text(encoding="utf-8"), "quickstart")
    assert TEST_COMMAND in quickstart and EXAMPLE_COMMAND in quickstart
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line.strip() and not line.startswith("#") and "python3" in line]
    assert commands == [TEST_COMMAND]


@pytest.mark.parametrize("name", ["intro", "quickstart", "configuration", "schema-format", "json-report", "rules", "dependencies", "development"])
def test_core_sections_are_written(name):
    assert len(section(README.read_text(encoding="utf-8"), name).strip()) > 200
