"""CI gates: `[tool.ftdata.rules]` severities and ignores (per directory too),
`--ftdata-strict`, JUnit through `--junitxml`, and progress on the terminal.

Integration scenarios run in every run mode (serial, `-n 2`, `-p no:xdist`): what fails must not depend on
how the run is distributed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_ftdata.config import ConfigError, ConfigLoader, check_rule_selectors, validate
from pytest_ftdata.engine import apply_rule_settings
from pytest_ftdata.findings import RULES
from pytest_ftdata.progress import TerminalProgress

ANSWER = json.dumps({"category": "billing"})


@pytest.fixture
def clean(chat):
    def clean(n: int, prefix: str = "ticket") -> list[dict]:
        return [chat(f"{prefix} {i}: my card was charged twice", ANSWER) for i in range(n)]

    return clean


def write_pyproject(pytester: pytest.Pytester, ftdata: str = "", ini: str = "") -> None:
    pytester.makepyprojecttoml(f"[tool.pytest.ini_options]\n{ini}\n\n[tool.ftdata]\n{ftdata}\n")


# -- rule settings, unit ------------------------------------------------------------------


def test_rule_settings_apply_by_code_then_name_then_family():
    # Importing the checks registers their rules.
    import pytest_ftdata.families  # noqa: F401

    whitespace = RULES["FMT008"].at("data/train.jsonl", 3, "Target ends with whitespace; strip it.")
    mixed = RULES["FMT001"].at("data/train.jsonl", 4, "Record uses another format.")
    broken = RULES["SCH001"].at("data/train.jsonl", 5, "Line 5 is not valid JSON.")
    findings = [whitespace, mixed, broken]

    config = validate({"rules": {"format": "warning", "FMT008": "error", "invalid-json": "off"}}, "test", None)
    out = {f.rule: f.severity for f in apply_rule_settings(findings, config)}

    # The code beats the family; the family applies to the rest of it; a name works like a code.
    assert out == {"FMT008": "error", "FMT001": "warning"}
    # Without settings, findings keep their rule's default severity.
    unchanged = apply_rule_settings(findings, validate({}, "test", None))
    assert [f.severity for f in unchanged] == [RULES[f.rule].severity for f in findings]


def test_unknown_rule_selector_is_refused_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"`rules.FMT08` names no rule code, rule name or family; did you mean `FMT008`"):
        check_rule_selectors({"FMT08": "off"}, RULES.selectors(), "pyproject.toml")
    with pytest.raises(ConfigError, match=r"rules.FMT008.*'error', 'warning' or 'off'"):
        validate({"rules": {"FMT008": "ignore"}}, "pyproject.toml", None)


def test_directory_config_merges_rules_rule_by_rule(tmp_path: Path):
    (tmp_path / "strict").mkdir()
    (tmp_path / "strict" / "ftdata.toml").write_text('[rules]\nFMT008 = "error"\n', encoding="utf-8")
    loader = ConfigLoader(tmp_path, {"rules": {"pii": "off", "FMT008": "off"}})

    assert loader.for_directory(tmp_path).rules == {"pii": "off", "FMT008": "off"}
    # The directory tightens one rule and keeps the project's other settings.
    assert loader.for_directory(tmp_path / "strict").rules == {"pii": "off", "FMT008": "error"}


# -- severities end to end ----------------------------------------------------------------


def test_rule_severities_decide_what_fails_per_directory(pytester: pytest.Pytester, chat, write_jsonl, clean):
    write_pyproject(pytester, ftdata='[tool.ftdata.rules]\nFMT008 = "error"\n')
    for name in ("strict", "relaxed"):
        write_jsonl(pytester.path / name / "train.jsonl", clean(12) + [chat("refund please", ANSWER + " ")])
    (pytester.path / "relaxed" / "ftdata.toml").write_text('[rules]\nFMT008 = "warning"\n', encoding="utf-8")

    result = pytester.runpytest("--ftdata", "strict", "relaxed", "-k", "format")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAILED strict/train.jsonl::format - 1 format error in strict/train.jsonl*"])
    result.stdout.fnmatch_lines(["strict/train.jsonl:13: FMT008 Target ends with whitespace; strip it."])
    assert "FAILED relaxed" not in result.stdout.str()


def test_unknown_rule_in_config_stops_the_run_at_startup(pytester: pytest.Pytester, write_jsonl, clean):
    write_pyproject(pytester, ftdata='[tool.ftdata.rules]\ntarget-whitespac = "off"\n')
    write_jsonl(pytester.path / "data" / "train.jsonl", clean(3))

    result = pytester.runpytest("--ftdata", "data")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*`rules.target-whitespac` names no rule code*did you mean `target-whitespace`?*"])


# -- strict mode ----------------------------------------------------------------------------


@pytest.fixture
def warning_only_dataset(chat, write_jsonl, clean):
    def warning_only_dataset(pytester: pytest.Pytester) -> None:
        write_jsonl(pytester.path / "data" / "train.jsonl", clean(12) + [chat("refund please", ANSWER + " ")])

    return warning_only_dataset


def test_warnings_pass_without_strict(pytester: pytest.Pytester, warning_only_dataset):
    write_pyproject(pytester)
    warning_only_dataset(pytester)

    result = pytester.runpytest("--ftdata", "data", "-k", "format")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*: 0 errors, 1 warning (warnings do not fail the run).",
                                 "  warning FMT008 target-whitespace: 1, e.g. data/train.jsonl:13"])
    verbose = pytester.runpytest("--ftdata", "data", "-k", "format", "-v")
    verbose.stdout.fnmatch_lines(["warnings (they do not fail the run):", "data/train.jsonl:13: FMT008 *"])


def test_strict_makes_warnings_fail(pytester: pytest.Pytester, run_mode, warning_only_dataset):
    write_pyproject(pytester)
    warning_only_dataset(pytester)

    result = run_mode(pytester, "--ftdata", "data", "-k", "format", "--ftdata-strict")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 format warning in data/train.jsonl (warnings fail in strict mode): target-whitespace (1).",
            "*Strict mode (--ftdata-strict): new warnings fail the run.",
        ]
    )


def test_strict_from_the_ini_file(pytester: pytest.Pytester, warning_only_dataset):
    write_pyproject(pytester, ini="ftdata_strict = true")
    warning_only_dataset(pytester)

    result = pytester.runpytest("--ftdata", "data", "-k", "format")

    result.assert_outcomes(failed=1)


# -- JUnit -----------------------------------------------------------------------------------


def test_junitxml_failure_message_is_the_title_sentence(pytester: pytest.Pytester, write_jsonl, clean):
    write_pyproject(pytester)
    write_jsonl(pytester.path / "data" / "train.jsonl", clean(5) + ['{"messages": ['])

    pytester.runpytest("--ftdata", "data", "-k", "schema", "--junitxml=junit.xml")

    tree = ET.parse(pytester.path / "junit.xml")
    failures = tree.findall(".//testcase/failure")
    assert len(failures) == 1
    assert failures[0].get("message").startswith("1 schema error in data/train.jsonl: invalid-json (1).")
    assert "data/train.jsonl:6: SCH001" in failures[0].text


# -- progress ----------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_line(self, line: str, **markup) -> None:
        self.lines.append(line)


class _PluginManager:
    def __init__(self, reporter) -> None:
        self.reporter = reporter

    def get_plugin(self, name: str):
        return self.reporter if name == "terminalreporter" else None


class _Config:
    def __init__(self, reporter) -> None:
        self.pluginmanager = _PluginManager(reporter)


def test_progress_is_silent_for_short_analyses_and_speaks_for_long_ones():
    quiet, chatty = _Writer(), _Writer()
    TerminalProgress(_Config(quiet), after=3600)("data/train.jsonl", 100_000)
    TerminalProgress(_Config(chatty), after=0)("data/train.jsonl", 100_000)

    assert quiet.lines == []
    assert len(chatty.lines) == 1
    assert chatty.lines[0].startswith("pytest-ftdata: data/train.jsonl: 100,000 examples read (")


def test_progress_reaches_the_terminal_through_output_capture(pytester: pytest.Pytester):
    # An item reports progress while pytest captures its output (as an analysis
    # does): the line must reach the terminal, not the captured output.
    write_pyproject(pytester, ini='ftdata = true\nftdata_progress_after = "0"')
    pytester.makepyfile(
        test_progress="""
        from pytest_ftdata.nodes import STATE_KEY

        def test_long_analysis(request):
            request.config.stash[STATE_KEY].progress("data/train.jsonl", 300000)
            assert False, "fail so that captured output would be shown separately"
        """
    )

    result = pytester.runpytest("test_progress.py")

    lines = result.stdout.lines
    progress = [i for i, line in enumerate(lines) if "data/train.jsonl: 300,000 examples read" in line]
    captured = [i for i, line in enumerate(lines) if "Captured stdout" in line]
    assert progress, result.stdout.str()
    assert not captured  # it was not captured as the test's output


def test_rules_may_name_project_checks(pytester: pytest.Pytester, write_jsonl, clean):
    pytester.makeconftest(
        """
        from pytest_ftdata.families.base import FileFamily

        class Quiet(FileFamily):
            family = "quiet-check"

            def visit(self, example):
                pass

            def finish(self):
                return []

        def pytest_ftdata_checks(config):
            return [Quiet]
        """
    )
    write_pyproject(pytester, ftdata='[tool.ftdata.rules]\nquiet-check = "warning"\n')
    write_jsonl(pytester.path / "data" / "train.jsonl", clean(3))

    result = pytester.runpytest("--ftdata", "data", "-k", "quiet")

    result.assert_outcomes(passed=1)
