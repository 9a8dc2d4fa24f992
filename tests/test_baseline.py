"""Baselines: accept today's findings, fail only on new ones, report stale entries.

Unit tests pin the key (content, not line numbers) and the counting semantics;
pytester runs walk the adoption workflow a team follows, serially and under `-n 2`
(which must write the same baseline file byte for byte).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pytest_ftdata.baseline import (
    Baseline,
    BaselineError,
    Gate,
    identity,
    line_keys,
    message_key,
    record_key,
)
from pytest_ftdata.findings import Finding

ANSWER = json.dumps({"category": "billing"})
BROKEN = '{"messages": ['
FAMILIES = ("-k", "schema or format")


def finding(rule: str = "FMT008", path: str = "data/train.jsonl", line: int | None = 3, key: str | None = "k1", check: str = "format", severity: str = "warning") -> Finding:
    return Finding(rule=rule, name=rule.lower(), check=check, severity=severity, path=path, line=line, message=f"{rule} at line {line}.", key=key)


# -- keys -------------------------------------------------------------------------------------


def test_record_key_comes_from_content_not_layout():
    assert record_key(b'{"a": 1, "b": [1, 2]}\n') == record_key(b'{"b":[1,2],"a":1}')
    assert record_key(b"\xef\xbb\xbf" + b'{"a": 1}') == record_key(b'{"a":1}')
    assert record_key(b'{"a": 1}') != record_key(b'{"a": 2}')
    # A line that is not JSON is identified by its bytes.
    assert record_key(BROKEN.encode()) == record_key(BROKEN.encode() + b"\n")
    assert record_key(BROKEN.encode()) != record_key(b'{"messages": [}')


def test_message_key_ignores_numbers_only():
    assert message_key("File uses 2 system prompt variants.") == message_key("File uses 14 system prompt variants.")
    assert message_key("Label `billing` has 3 examples.") != message_key("Label `refund` has 3 examples.")


def test_line_keys_read_plain_and_gzip_files_alike(tmp_path: Path):
    lines = [json.dumps({"n": n}) for n in range(5)]
    plain = tmp_path / "a.jsonl"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    packed = tmp_path / "a.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")

    assert line_keys(plain, [2, 5]) == line_keys(packed, [2, 5])
    assert set(line_keys(plain, [2, 5, 99])) == {2, 5}  # a line past the end is simply missing
    assert line_keys(plain, [2])[2] == record_key(lines[1].encode())


# -- matching ---------------------------------------------------------------------------------


def test_baseline_accepts_as_many_findings_as_it_counted():
    twins = [finding(line=3), finding(line=9)]  # two identical examples: same identity
    baseline = Baseline.from_findings(twins)
    assert baseline.total == 2

    third = finding(line=15)
    new, accepted = baseline.partition([*twins, third])
    assert len(accepted) == 2 and len(new) == 1
    assert identity(new[0]) == identity(third)


def test_gate_fails_new_errors_and_in_strict_mode_new_warnings():
    old_error = finding("SCH001", key="old", check="schema", severity="error")
    new_error = finding("SCH001", key="new", check="schema", severity="error")
    new_warning = finding("FMT008", key="w")
    baseline = Baseline.from_findings([old_error])

    verdict = Gate(baseline=baseline).judge([old_error, new_error, new_warning])
    assert verdict.failing == [new_error]
    assert verdict.accepted == 1
    assert old_error not in verdict.shown

    strict = Gate(strict=True, baseline=baseline).judge([old_error, new_error, new_warning])
    assert set(map(identity, strict.failing)) == {identity(new_error), identity(new_warning)}

    assert Gate(updating=True).judge([new_error]).failing == []


def test_stale_entries_and_updates_respect_the_scope_of_the_run():
    schema = finding("SCH001", key="s", check="schema", severity="error")
    whitespace = finding("FMT008", key="w")
    baseline = Baseline.from_findings([schema, whitespace])
    only_schema = {("data/train.jsonl", "schema")}

    # The schema finding is fixed; the format family did not run, so its entry is not stale.
    stale = baseline.stale([], only_schema)
    assert [entry.rule for entry in stale] == ["SCH001"]

    updated = baseline.updated([], only_schema)
    assert [entry.rule for entry in updated.entries.values()] == ["FMT008"]


def test_baseline_file_round_trips_and_bad_files_are_explained(tmp_path: Path):
    path = tmp_path / "baseline.json"
    baseline = Baseline.from_findings([finding(), finding(line=7), finding("SCH001", key="x", check="schema")])
    baseline.write(path)
    assert Baseline.load(path).entries == baseline.entries
    assert path.read_text(encoding="utf-8") == baseline.dumps()

    with pytest.raises(BaselineError, match="does not exist; create it with --ftdata-update-baseline"):
        Baseline.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BaselineError, match="is not valid JSON"):
        Baseline.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"version": 7, "findings": []}', encoding="utf-8")
    with pytest.raises(BaselineError, match="is not a pytest-ftdata baseline"):
        Baseline.load(tmp_path / "other.json")


# -- the workflow ---------------------------------------------------------------------------


@pytest.fixture
def clean(chat):
    def clean(n: int, prefix: str = "ticket") -> list[dict]:
        return [chat(f"{prefix} {i}: my card was charged twice", ANSWER) for i in range(n)]

    return clean


@pytest.fixture
def old_dataset(chat, clean):
    def old_dataset() -> list:
        """12 clean examples, one broken line (SCH001) and one trailing space (FMT008)."""
        return [*clean(6), BROKEN, *clean(6, "other"), chat("refund please", ANSWER + " ")]

    return old_dataset


@pytest.fixture
def project(pytester: pytest.Pytester, write_jsonl, old_dataset) -> pytest.Pytester:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    write_jsonl(pytester.path / "data" / "train.jsonl", old_dataset())
    return pytester


def test_adopting_a_baseline_then_gating_only_new_findings(project: pytest.Pytester, chat, write_jsonl, clean, old_dataset):
    train = project.path / "data" / "train.jsonl"

    missing = project.runpytest("--ftdata", "data", "--ftdata-baseline=baseline.json")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*baseline file *baseline.json does not exist; create it with --ftdata-update-baseline*"])

    before = project.runpytest("--ftdata", "data", *FAMILIES)
    before.assert_outcomes(passed=1, failed=1)

    update = project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=baseline.json", "--ftdata-update-baseline")
    update.assert_outcomes(passed=2)
    update.stdout.fnmatch_lines(["Baseline baseline.json updated: it accepts 2 findings (2 added, 0 removed)."])
    entries = json.loads((project.path / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert sorted(entry["rule"] for entry in entries) == ["FMT008", "SCH001"]
    assert all("line" not in entry for entry in entries)

    accepted = project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=baseline.json")
    accepted.assert_outcomes(passed=2)
    accepted.stdout.fnmatch_lines(["Baseline baseline.json: 2 findings accepted, 0 new."])
    assert "FMT008" not in accepted.stdout.str()  # accepted warnings are not listed again

    # Lines inserted above move every old finding; only the new broken line fails.
    write_jsonl(train, [*clean(2, "new"), *old_dataset(), '{"messages": [1,'])
    moved = project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=baseline.json")
    moved.assert_outcomes(passed=1, failed=1)
    moved.stdout.fnmatch_lines(
        [
            "1 schema error in data/train.jsonl: invalid-json (1). 1 more is accepted by the baseline.",
            "data/train.jsonl:17: SCH001 *",
            "Baseline baseline.json: 2 findings accepted, 1 new.",
        ]
    )
    assert "data/train.jsonl:9: SCH001" not in moved.stdout.str()

    # Fixing an accepted finding leaves its entry stale.
    write_jsonl(train, [*clean(6), *clean(6, "other"), chat("refund please", ANSWER + " ")])
    fixed = project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=baseline.json")
    fixed.assert_outcomes(passed=2)
    fixed.stdout.fnmatch_lines(
        [
            "1 baseline entry is stale (the findings are gone): run with --ftdata-update-baseline to drop them.",
            "    data/train.jsonl: SCH001 *",
        ]
    )


def test_xdist_writes_the_same_baseline_and_gates_the_same(project: pytest.Pytester, run_modes, write_jsonl, clean, old_dataset):
    xdist = run_modes["xdist"]
    project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=serial.json", "--ftdata-update-baseline")
    xdist(project, "--ftdata", "data", *FAMILIES, "--ftdata-baseline=xdist.json", "--ftdata-update-baseline")
    serial = (project.path / "serial.json").read_bytes()
    assert serial == (project.path / "xdist.json").read_bytes()

    write_jsonl(project.path / "data" / "train.jsonl", [*clean(1, "new"), *old_dataset(), '{"messages": [1,'])
    result = xdist(project, "--ftdata", "data", *FAMILIES, "--ftdata-baseline=xdist.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["Baseline xdist.json: 2 findings accepted, 1 new."])


def test_partial_runs_neither_stale_nor_drop_entries_they_did_not_check(project: pytest.Pytester):
    project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-baseline=baseline.json", "--ftdata-update-baseline")

    schema_only = project.runpytest("--ftdata", "data", "-k", "schema", "--ftdata-baseline=baseline.json")
    schema_only.assert_outcomes(passed=1)
    assert "baseline entr" not in schema_only.stdout.str()  # no stale entries

    project.runpytest(
        "--ftdata", "data", "-k", "schema", "--ftdata-baseline=baseline.json", "--ftdata-update-baseline"
    )
    entries = json.loads((project.path / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert sorted(entry["rule"] for entry in entries) == ["FMT008", "SCH001"]


def test_update_needs_a_path_and_the_ini_setting_gives_one(project: pytest.Pytester):
    result = project.runpytest("--ftdata", "data", "--ftdata-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ftdata-update-baseline needs the file to write: give --ftdata-baseline=PATH*"])

    project.makepyprojecttoml('[tool.pytest.ini_options]\nftdata_baseline = "ci/ftdata-baseline.json"\n')
    project.runpytest("--ftdata", "data", *FAMILIES, "--ftdata-update-baseline").assert_outcomes(passed=2)
    assert (project.path / "ci" / "ftdata-baseline.json").is_file()
    project.runpytest("--ftdata", "data", *FAMILIES).assert_outcomes(passed=2)
