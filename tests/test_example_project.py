"""The example project: its clean data passes, every planted defect is found.

A copy of example_project/ is run exactly as the README says (`python3 -m pytest`
inside it, with the `ftdata = true` ini switch), once serially and once under
`-n 2`. The planted defects and the rule or check family expected to find each
are listed in example_project/planted.json, written by build_dataset.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ftdata.families import BUILTIN_DATASET_FAMILIES, BUILTIN_FILE_FAMILIES

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
PLANTED = json.loads((EXAMPLE / "planted.json").read_text(encoding="utf-8"))


def run_example(tmp_path_factory, *extra: str) -> dict:
    copy = tmp_path_factory.mktemp("example") / "example_project"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__", "*.json.tmp"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    # A wide "terminal", so the short summary's FAILED lines are not cut and can be compared with the README's.
    env["COLUMNS"] = "400"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "--ftdata-report", "json:ftdata-report.json", *extra],
        cwd=copy,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    report_path = copy / "ftdata-report.json"
    assert report_path.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    return {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr, "report": json.loads(report_path.read_text())}


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    return run_example(tmp_path_factory)


@pytest.fixture(scope="module")
def xdist_run(tmp_path_factory, run_modes):
    return run_example(tmp_path_factory, *run_modes["xdist"].args)


def _where(finding: dict) -> set[tuple[str, int | None]]:
    return {(finding["path"], finding["line"])} | {(loc["path"], loc["line"]) for loc in finding["related"]}


@pytest.mark.parametrize("defect", PLANTED, ids=[d["defect"] for d in PLANTED])
def test_planted_defect_is_found(serial_run, defect):
    expected = [by for by in defect["found_by"] if by["check"] in BUILTIN_FILE_FAMILIES or by["check"] in BUILTIN_DATASET_FAMILIES]
    if not expected:
        pytest.skip(f"no check family that finds {defect['defect']} is registered in this build")
    place = (f"data/support_broken/{defect['file']}", defect["line"])
    for by in expected:
        found = [f for f in serial_run["report"]["findings"] if f["rule"] == by["rule"] and place in _where(f)]
        assert found, f"{defect['defect']} at {place[0]}:{place[1]} was not found by {by['rule']} ({by['check']})"
        assert all(f["check"] == by["check"] for f in found)
        assert any(f["severity"] == "error" for f in found), found


def test_clean_dataset_has_no_errors(serial_run):
    errors = [f for f in serial_run["report"]["findings"] if f["path"].startswith("data/support/") and f["severity"] == "error"]
    assert errors == []
    files = {entry["path"]: entry for entry in serial_run["report"]["files"]}
    assert [files[f"data/support/{name}.jsonl"]["examples"] for name in ("train", "val", "test")] == [480, 60, 60]


def test_run_fails_only_on_the_broken_copy(serial_run):
    assert serial_run["returncode"] == 1  # the demonstration fails on purpose
    lines = serial_run["stdout"].splitlines()
    failed = [line.split()[1] for line in lines if line.startswith("FAILED ")]
    passed = [line.split()[1] for line in lines if line.startswith("PASSED ")]
    assert failed and all(nodeid.startswith("data/support_broken/") for nodeid in failed)
    assert "data/support_broken/train.jsonl::schema" in failed
    assert {f"data/support/{name}.jsonl::schema" for name in ("train", "val", "test")} <= set(passed)
    # the project's own dataset rule (an ordinary pytest test) ran and passed
    assert any(nodeid.startswith("tests/test_dataset_rules.py::") for nodeid in passed)
    assert "Traceback" not in serial_run["stdout"] + serial_run["stderr"]


def test_xdist_gives_the_same_findings(serial_run, xdist_run):
    assert xdist_run["returncode"] == serial_run["returncode"]
    assert xdist_run["report"]["findings"] == serial_run["report"]["findings"]
    assert xdist_run["report"]["files"] == serial_run["report"]["files"]


def test_committed_data_is_what_the_build_script_writes(shared_datasets):
    run = subprocess.run(
        [sys.executable, str(EXAMPLE / "build_dataset.py"), "--check", "--source", str(shared_datasets / "banking77" / "raw")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_attribution_is_kept():
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    attribution = (EXAMPLE / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for text in (readme, attribution):
        assert "Banking77" in text and "CC BY 4.0" in text and "Casanueva" in text
    assert "Attribution 4.0 International" in (EXAMPLE / "LICENSE-CC-BY-4.0.txt").read_text(encoding="utf-8")


# -- the READMEs show what the run shows -------------------------------------------------------------

README = (EXAMPLE / "README.md").read_text(encoding="utf-8")
ROOT = EXAMPLE.parent


def test_readme_shows_the_failed_lines_of_the_real_run(serial_run):
    shown = [line for line in README.splitlines() if line.startswith("FAILED ")]
    ran = [line for line in serial_run["stdout"].splitlines() if line.startswith("FAILED ")]
    assert shown == ran, "example_project/README.md shows other FAILED lines than the run prints:\n" + "\n".join(ran)


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_the_taste_of_output_is_real(serial_run, page):
    text = (ROOT / page).read_text(encoding="utf-8")
    output = set(serial_run["stdout"].splitlines())
    quoted = [line for line in text.splitlines() if line.startswith(("FAILED data/", "data/support_broken/", "2 schema errors"))]
    assert quoted, f"{page} shows no output of the example project"
    assert [line for line in quoted if line not in output] == []


def _defect_rows() -> list[tuple[str, int, set[str]]]:
    """(file, line, rule codes) of each row of the README's planted-defects table."""
    table = README.split("## The planted defects", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`\w+\.jsonl:\d+`", cells[1]):
            name, number = cells[1].strip("`").split(":")
            rows.append((name, int(number), set(re.findall(r"`([A-Z]{3,4}\d{3})`", cells[3]))))
    return rows


def test_readme_table_of_planted_defects_matches_the_ground_truth_and_the_run(serial_run):
    rows = _defect_rows()
    assert len(rows) == len(PLANTED)
    findings = serial_run["report"]["findings"]
    for (name, line, codes), defect in zip(rows, PLANTED):
        assert (name, line) == (defect["file"], defect["line"]), defect["defect"]
        assert {by["rule"] for by in defect["found_by"]} <= codes, defect["defect"]
        path = f"data/support_broken/{name}"
        for code in codes:  # every rule the row names is reported on that file in the real run
            assert any(f["rule"] == code and path in {f["path"]} | {r["path"] for r in f["related"]} for f in findings), (code, path)


def test_readme_names_files_that_exist_and_the_checks_they_hold(serial_run):
    named = set(re.findall(r"`([\w./-]+\.(?:py|json|toml|md|jsonl|txt))(?::\d+)?`", README))
    assert {"conftest.py", "planted.json", "build_dataset.py", "tests/test_dataset_rules.py"} <= named
    places = [EXAMPLE, EXAMPLE / "data", EXAMPLE / "data" / "support_broken", ROOT]
    missing = [name for name in named if not any((place / name).is_file() for place in places)]
    assert missing == [], f"example_project/README.md names files that do not exist: {missing}"
    # The README says which file holds each project check; that file declares it, and the run reports it.
    homes = re.findall(r"`([a-z-]+)`\s+(?:in|of)\s+`([\w./]+\.py)`", README)
    assert ("unique-ticket-ids", "conftest.py") in homes
    for check, filename in homes:
        assert f'"{check}"' in (EXAMPLE / filename).read_text(encoding="utf-8"), (check, filename)
    assert ("ACME002", "data/support_broken/train.jsonl", 40) in {(f["rule"], f["path"], f["line"]) for f in serial_run["report"]["findings"]}
    # Nothing under data/ but datasets: the ground truth lives beside it.
    assert [f["path"] for f in serial_run["report"]["files"] if not f["path"].endswith(".jsonl")] == []
