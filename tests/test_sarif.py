"""CI outputs: SARIF 2.1.0 (validated against the OASIS JSON Schema, vendored in
tests/data), GitHub Actions annotations and the step summary.

Every output is written by the controller from the gathered findings, so a run
under `-n 2` writes the same SARIF file as a serial one. Nothing written may carry
a secret from the data in full.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pytest_ftdata.findings import Finding
from pytest_ftdata.report import github
from pytest_ftdata.report.model import RunReport

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ANSWER = json.dumps({"category": "billing"})
EMAIL = "jane.roe.1987@gmail.com"
API_KEY = "sk-proj-" + "Zx8Qw2Lm9Rt4Vb7Nc1Kp3Hs6"


def sarif_errors(document: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(document)]


@pytest.fixture
def clean(chat):
    def clean(n: int, prefix: str = "ticket") -> list[dict]:
        return [chat(f"{prefix} {i}: my card was charged twice", ANSWER) for i in range(n)]

    return clean


@pytest.fixture
def project(pytester: pytest.Pytester, chat, write_jsonl, clean) -> pytest.Pytester:
    """A dataset with an error, a warning, and personal data and a secret in user turns."""
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    train = [
        *clean(6),
        '{"messages": [',
        chat(f"Write to me at {EMAIL} please", ANSWER),
        chat(f"My key is {API_KEY}, is it leaked?", ANSWER),
        *clean(6, "other"),
        chat("refund please", ANSWER + " "),
    ]
    write_jsonl(pytester.path / "data" / "train.jsonl", train)
    write_jsonl(pytester.path / "data" / "validation.jsonl", clean(3, "held out"))
    return pytester


def test_vendored_schema_is_the_sarif_2_1_0_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    # It rejects what it should: a run without a tool is invalid.
    assert sarif_errors({"version": "2.1.0", "runs": [{"results": []}]})


def test_sarif_is_valid_complete_redacted_and_the_same_under_xdist(project: pytest.Pytester, run_modes):
    project.runpytest("--ftdata", "data", "--ftdata-report", "sarif:out/serial.sarif", "--ftdata-report", "json:out/report.json")
    run_modes["xdist"](project, "--ftdata", "data", "--ftdata-report", "sarif:out/xdist.sarif")

    text = (project.path / "out" / "serial.sarif").read_text(encoding="utf-8")
    assert text == (project.path / "out" / "xdist.sarif").read_text(encoding="utf-8")
    document = json.loads(text)
    assert sarif_errors(document) == []

    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    report = json.loads((project.path / "out" / "report.json").read_text(encoding="utf-8"))
    assert len(results) == len(report["findings"])
    for result, finding in zip(results, report["findings"]):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["rule"]
        assert result["level"] == finding["severity"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        # GitHub code scanning places every alert on a line of a file.
        assert location["artifactLocation"]["uri"].endswith(".jsonl")
        assert location["region"]["startLine"] == (finding["line"] or 1)
    broken = [r for r in results if r["ruleId"] == "SCH001"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in broken] == [7]
    assert all(r["partialFingerprints"]["ftdataContentKey/v1"].startswith(r["ruleId"] + ":") for r in results)
    # The secret and the address were found, and are not in the file in full.
    assert {"PII001"} <= {r["ruleId"] for r in results}
    assert EMAIL not in text and API_KEY not in text


def test_sarif_marks_results_new_or_unchanged_against_the_baseline(project: pytest.Pytester):
    args = ["--ftdata", "data", "-k", "schema or format", "--ftdata-baseline=baseline.json"]
    project.runpytest(*args, "--ftdata-update-baseline")
    train = project.path / "data" / "train.jsonl"
    train.write_text(train.read_text(encoding="utf-8") + '{"messages": [1,\n', encoding="utf-8")

    project.runpytest(*args, "--ftdata-report", "sarif:out.sarif")

    document = json.loads((project.path / "out.sarif").read_text(encoding="utf-8"))
    assert sarif_errors(document) == []
    states = {(r["ruleId"], r["baselineState"]) for r in document["runs"][0]["results"]}
    assert ("SCH001", "new") in states and ("SCH001", "unchanged") in states
    assert [r["baselineState"] for r in document["runs"][0]["results"]].count("new") == 1


def test_github_annotations_and_step_summary(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    summary = project.path / "summary.md"
    summary.write_text("## earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(project.path.parent))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    result = project.runpytest("--ftdata", "data")

    repo_path = f"{project.path.name}/data/train.jsonl"  # relative to the workspace, not the rootdir
    annotations = [line for line in result.stdout.lines if line.startswith("::")]
    assert f"::error file={repo_path},line=7,title=SCH001 invalid-json::Line 7 is not valid JSON" in "\n".join(
        annotations
    )
    assert any(line.startswith(f"::warning file={repo_path},line=16,title=FMT008 target-whitespace::") for line in annotations)
    # Errors come before warnings, so GitHub's per-step limit keeps the ones that fail.
    levels = [line.split(" ", 1)[0] for line in annotations]
    assert levels == sorted(levels, key=lambda level: level != "::error")
    output = result.stdout.str()
    assert EMAIL not in output and API_KEY not in output

    written = summary.read_text(encoding="utf-8")
    assert written.startswith("## earlier step\n")
    assert "## pytest-ftdata" in written
    assert EMAIL not in written and API_KEY not in written


def test_annotations_leave_out_accepted_findings(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    args = ["--ftdata", "data", "-k", "schema or format", "--ftdata-baseline=baseline.json"]
    project.runpytest(*args, "--ftdata-update-baseline")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    train = project.path / "data" / "train.jsonl"
    train.write_text(train.read_text(encoding="utf-8") + '{"messages": [1,\n', encoding="utf-8")

    result = project.runpytest(*args)

    annotations = [line for line in result.stdout.lines if line.startswith("::")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=data/train.jsonl,line=17,title=SCH001 invalid-json::")


def test_annotation_escapes_workflow_command_syntax():
    finding = Finding(
        rule="X001", name="odd,name", check="custom", severity="warning", path="data/a:b,c.jsonl", line=2,
        message="100% sure\nsecond line", excerpt=f"mail {EMAIL}",
    )
    line = github.annotation(RunReport.build(rootdir="/repo", findings=[finding], files=[], summaries={}), finding, workspace="/repo")

    assert line.startswith("::warning file=data/a%3Ab%2Cc.jsonl,line=2,title=X001 odd%2Cname::100%25 sure%0Asecond line%0A")
    assert EMAIL not in line and "\n" not in line
