"""The pytest layer: collection, node ids, selection, outputs, xdist, and never writing data.

Integration tests run pytest in a pytester directory. Scenarios that matter run
in every run mode (serial, `-n 2`, `-p no:xdist`) and must give the same findings. Assertions name the
items they care about (other check families come and go), never a total item count.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_ftdata import families
from pytest_ftdata.findings import DATASET_FAMILIES, FILE_FAMILIES

NO_CACHE = ("-p", "no:cacheprovider")
SYSTEM = "You classify support tickets."


def chat(user: str, answer: str = '{"intent": "card_arrival"}', system: str | None = SYSTEM) -> str:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": messages})


def no_user(answer: str = '{"intent": "card_arrival"}') -> str:
    return json.dumps({"messages": [{"role": "system", "content": SYSTEM}, {"role": "assistant", "content": answer}]})


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def project(pytester):
    """data/train.jsonl with a missing user turn (line 4) and an invalid line (line 6);
    data/val.jsonl clean; one ordinary test in tests/."""
    root = pytester.path
    write(root / "data" / "train.jsonl", [chat(f"Where is my card, question {i}?") for i in range(3)] + [no_user(), chat("Card?"), '{"messages": ['])
    write(root / "data" / "val.jsonl", [chat(f"Is my card on its way, take {i}?") for i in range(3)])
    pytester.makepyfile(**{"tests/test_plain": "def test_plain():\n    assert 1 + 1 == 2\n"})
    return root


def file_families() -> list[str]:
    """The built-in per-file families registered in this build, in collection order."""
    return [family for family in FILE_FAMILIES if family in families.BUILTIN_FILE_FAMILIES]


def dataset_families() -> list[str]:
    return [family for family in DATASET_FAMILIES if family in families.BUILTIN_DATASET_FAMILIES]


def nodeids(result) -> list[str]:
    return [line for line in result.outlines if "::" in line and not line.startswith(("=", " "))]


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def report(root: Path, name: str = "report.json") -> dict:
    return json.loads((root / name).read_text(encoding="utf-8"))


# -- off by default ---------------------------------------------------------------------------

def test_without_ftdata_nothing_changes(project, pytester):
    with_plugin = pytester.runpytest("--co", "-q", *NO_CACHE)
    without_plugin = pytester.runpytest("--co", "-q", "-p", "no:ftdata", *NO_CACHE)
    assert nodeids(with_plugin) == nodeids(without_plugin) == ["tests/test_plain.py::test_plain"]
    run = pytester.runpytest(*NO_CACHE)
    run.assert_outcomes(passed=1)
    assert "pytest-ftdata" not in run.stdout.str()


# -- the ini switch ---------------------------------------------------------------------------

INI = """
[pytest]
ftdata = true
ftdata_paths = data
testpaths = tests
"""


def test_ini_switch_runs_tests_and_data_together(project, pytester, run_mode):
    pytester.makeini(INI)
    (project / "tests" / "fixture.jsonl").write_text("not a dataset\n")  # outside ftdata_paths
    result = run_mode(pytester, "-rA", *NO_CACHE)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1 and outcomes.get("passed", 0) >= 1
    result.stdout.fnmatch_lines(["*PASSED tests/test_plain.py::test_plain*", "*FAILED data/train.jsonl::schema*"])
    assert "fixture.jsonl" not in result.stdout.str()


def test_no_ftdata_with_the_ini_switch_runs_only_tests(project, pytester):
    pytester.makeini(INI)
    result = pytester.runpytest("-p", "no:ftdata", *NO_CACHE)
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def test_no_ftdata_with_ftdata_in_addopts_fails_clearly(project, pytester):
    # Why the README recommends the ini switch: --ftdata in addopts is unknown without the plugin.
    pytester.makeini("[pytest]\naddopts = --ftdata\n")
    result = pytester.runpytest("-p", "no:ftdata", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--ftdata" in result.stderr.str()


# -- collection -------------------------------------------------------------------------------

def test_node_ids(project, pytester):
    result = pytester.runpytest("--ftdata", "data", "--co", "-q", *NO_CACHE)
    ids = nodeids(result)
    for name in ("train", "val"):
        expected = [f"data/{name}.jsonl::{family}" for family in file_families()]
        assert [i for i in ids if i in expected] == expected
        assert ids.index(expected[-1]) - ids.index(expected[0]) == len(expected) - 1  # together, in order
    expected = [f"data/dataset::{family}" for family in dataset_families()]
    assert [i for i in ids if i in expected] == expected
    assert all(i.startswith(("data/train.jsonl::", "data/val.jsonl::", "data/dataset::")) for i in ids)
    assert not any(i.startswith("tests/") for i in ids)  # only the given path is collected


def test_item_list_does_not_depend_on_file_contents(pytester):
    write(pytester.path / "clean" / "train.jsonl", [chat("a"), chat("b")])
    broken = pytester.path / "broken"
    broken.mkdir()
    (broken / "train.jsonl").write_bytes(b"\xff\xfe{garbage\x00\n[1, 2]\n")
    clean = nodeids(pytester.runpytest("--ftdata", "clean", "--co", "-q", *NO_CACHE))
    dirty = nodeids(pytester.runpytest("--ftdata", "broken", "--co", "-q", *NO_CACHE))
    assert clean and [i.replace("clean/", "") for i in clean] == [i.replace("broken/", "") for i in dirty]


def test_single_file_and_single_item_selection(project, pytester):
    file_ids = nodeids(pytester.runpytest("--ftdata", "data/val.jsonl", "--co", "-q", *NO_CACHE))
    assert set(file_ids) >= {f"data/val.jsonl::{family}" for family in file_families()}
    assert all(i.startswith("data/val.jsonl::") for i in file_ids)
    result = pytester.runpytest("--ftdata", "data/train.jsonl::format", "-rA", *NO_CACHE)
    result.stdout.fnmatch_lines(["*data/train.jsonl::format*"])
    assert "data/train.jsonl::schema" not in result.stdout.str()


def test_every_item_carries_the_ftdata_marker(project, pytester):
    marked = nodeids(pytester.runpytest("--ftdata", "data", "tests", "-m", "ftdata", "--co", "-q", *NO_CACHE))
    unmarked = nodeids(pytester.runpytest("--ftdata", "data", "tests", "-m", "not ftdata", "--co", "-q", *NO_CACHE))
    assert unmarked == ["tests/test_plain.py::test_plain"]
    assert "data/train.jsonl::schema" in marked and "tests/test_plain.py::test_plain" not in marked
    assert "@pytest.mark.ftdata" in pytester.runpytest("--markers").stdout.str()


# -- selection and control --------------------------------------------------------------------

def test_k_selects_check_families(project, pytester, run_mode):
    result = run_mode(pytester, "--ftdata", "data", "-k", "schema", "-rA", *NO_CACHE)
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("failed")) == (1, 1)
    if not run_mode.xdist:  # xdist workers deselect, the controller does not count them
        assert outcomes["deselected"] == len(nodeids(pytester.runpytest("--ftdata", "data", "--co", "-q", *NO_CACHE))) - 2
    result.stdout.fnmatch_lines(["*FAILED data/train.jsonl::schema*"])
    assert "::format" not in "\n".join(line for line in result.outlines if line.startswith(("PASSED", "FAILED")))


def test_x_stops_at_the_first_failure(pytester):
    for name in ("a", "b", "c"):
        write(pytester.path / "data" / f"{name}.jsonl", [no_user()])
    result = pytester.runpytest("--ftdata", "data", "-k", "schema", "-x", *NO_CACHE)
    result.assert_outcomes(failed=1, deselected=result.parseoutcomes()["deselected"])


def test_last_failed_reruns_only_the_failed_items(project, pytester):
    first = pytester.runpytest("--ftdata", "data")
    assert first.parseoutcomes()["failed"] >= 1
    failed_first = sorted(line.split()[1] for line in first.outlines if line.startswith("FAILED"))
    second = pytester.runpytest("--ftdata", "data", "--lf", "-rA")
    failed_second = sorted(line.split()[1] for line in second.outlines if line.startswith("FAILED"))
    assert failed_second == failed_first
    assert second.parseoutcomes().get("passed", 0) == 0
    # fix the data: the failed items pass and --lf has nothing left to rerun
    write(project / "data" / "train.jsonl", [chat(f"Where is my card, question {i}?") for i in range(3)])
    third = pytester.runpytest("--ftdata", "data", "--lf", "-rA")
    assert third.ret == 0


def test_runs_without_the_cache_provider(project, pytester):
    result = pytester.runpytest("--ftdata", "data", *NO_CACHE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert not (project / ".pytest_cache").exists()


# -- outputs ----------------------------------------------------------------------------------

def test_junitxml_failure_message_is_the_first_line_sentence(project, pytester, run_mode):
    result = run_mode(pytester, "--ftdata", "data", "--junitxml=junit.xml", *NO_CACHE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = {
        f"{case.get('classname')}::{case.get('name')}": case for case in ET.parse(project / "junit.xml").getroot().iter("testcase")
    }
    [schema_case] = [case for key, case in cases.items() if "train" in key and key.endswith("schema")]
    failure = schema_case.find("failure")
    message = failure.get("message")
    assert message.startswith("2 schema errors in data/train.jsonl: ") and message.endswith(".")
    assert "\n" not in message
    assert "data/train.jsonl:4: SCH112" in failure.text and "data/train.jsonl:6: SCH001" in failure.text
    [val_case] = [case for key, case in cases.items() if "val" in key and key.endswith("schema")]
    assert val_case.find("failure") is None


def test_failure_lists_findings_like_a_linter_and_caps_them(pytester):
    write(pytester.path / "data" / "train.jsonl", [chat("ok")] + [no_user() for _ in range(25)])
    short = pytester.runpytest("--ftdata", "data", "-k", "schema", *NO_CACHE)
    short.stdout.fnmatch_lines(["25 schema errors in data/train.jsonl: no-user-turn (25).", "", "data/train.jsonl:2: SCH112 *"])
    shown = [line for line in short.outlines if line.startswith("data/train.jsonl:") and " SCH112 " in line]
    assert len(shown) == 20
    short.stdout.fnmatch_lines(["... and 5 more*"])
    verbose = pytester.runpytest("--ftdata", "data", "-k", "schema", "-v", *NO_CACHE)
    assert len([line for line in verbose.outlines if line.startswith("data/train.jsonl:") and " SCH112 " in line]) == 25
    assert "... and 5 more" not in verbose.stdout.str()


def test_warnings_do_not_fail_but_are_summarised(pytester):
    write(pytester.path / "data" / "train.jsonl", [chat(f"question {i}", answer=f"Answer {i} ") for i in range(5)] + [chat("q", answer="Answer")])
    result = pytester.runpytest("--ftdata", "data", "-k", "format", *NO_CACHE)
    assert result.ret == 0
    # Compact by default: per dataset and rule, the count and the first one.
    result.stdout.fnmatch_lines([
        "*: 0 errors, 5 warnings (warnings do not fail the run).",
        "data/: 6 examples in 1 file, 5 warnings",
        "  task: *",
        "  warning FMT008 target-whitespace: 5, e.g. data/train.jsonl:1",
        "          Target ends with whitespace; strip it.",
    ])
    assert "data/train.jsonl:2: FMT008" not in result.stdout.str()
    result.stdout.fnmatch_lines(["-v or --ftdata-report term:full shows all 5 warnings*"])
    # -v and term:full list every one.
    for flags in (("-v",), ("--ftdata-report", "term:full")):
        full = pytester.runpytest("--ftdata", "data", "-k", "format", *flags, *NO_CACHE)
        full.stdout.fnmatch_lines(["*warnings (they do not fail the run)*", "data/train.jsonl:1: FMT008 *"])
        assert sum(1 for line in full.outlines if " FMT008 Target ends" in line and line.startswith("data/")) == 5


def test_json_report_shape(project, pytester):
    pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:out/report.json", *NO_CACHE)
    data = report(project, "out/report.json")
    assert data["version"] == 1
    files = {entry["path"]: entry for entry in data["files"]}
    assert {"data/train.jsonl", "data/val.jsonl"} <= set(files)
    assert {"path", "format", "split", "examples"} <= set(files["data/train.jsonl"])
    assert (files["data/train.jsonl"]["format"], files["data/train.jsonl"]["split"], files["data/train.jsonl"]["examples"]) == ("chat", "train", 5)
    assert files["data/val.jsonl"]["split"] == "validation"
    for finding in data["findings"]:
        assert {"check", "rule", "name", "severity", "path", "line", "message", "related"} <= set(finding)
        assert finding["severity"] in ("error", "warning")
        assert finding["line"] is None or (isinstance(finding["line"], int) and finding["line"] >= 1)
        assert "\\" not in finding["path"] and not finding["path"].startswith("/")
        assert all(set(loc) == {"path", "line"} for loc in finding["related"])
    schema = {(f["rule"], f["name"], f["line"]) for f in data["findings"] if f["check"] == "schema"}
    assert schema == {("SCH112", "no-user-turn", 4), ("SCH001", "invalid-json", 6)}


def test_serial_and_xdist_runs_report_the_same_findings_and_never_write_data(project, pytester, run_modes):
    write(project / "data" / "test.jsonl", [chat("Where is my card?", system="Old prompt."), chat("x", answer="not json {")])
    (project / "data" / "extra.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    before = digests(project / "data")
    pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:serial.json")
    run_modes["xdist"](pytester, "--ftdata", "data", "--ftdata-report", "json:xdist.json")
    pytester.runpytest("--ftdata", "data", "--lf")
    assert digests(project / "data") == before  # the plugin never writes a data file
    serial, xdist = report(project, "serial.json"), report(project, "xdist.json")
    assert serial["findings"] and serial["findings"] == xdist["findings"]
    assert serial["files"] == xdist["files"]
