"""The example project: its clean data passes, every planted defect is found.

A copy of example_project/ is run exactly as the README says (`python3 -m pytest`
inside it, with the `ftdata = true` ini switch), once serially and once under
`-n 2`. The planted defects and the rule or check family expected to find each
are listed in example_project/planted.json, written by build_dataset.py.
"""

from __future__ import annotations

import json
import os
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
