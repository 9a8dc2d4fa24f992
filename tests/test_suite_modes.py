"""The ways this suite and the plugin run: import modes, run modes, xdist distribution.

Import mode. Test modules take the shared helpers (`chat`, `write_jsonl`, `dataset`,
`run_mode`, ...) as fixtures from tests/conftest.py and never import it, nor each
other: `from conftest import` works only while pytest's default `prepend` import mode
puts tests/ on sys.path. The whole suite passes under both modes:

    PYTHONPATH=. python3 -m pytest -n 2 -q -p no:cacheprovider
    PYTHONPATH=. python3 -m pytest -n 2 -q -p no:cacheprovider --import-mode=importlib

A source check here keeps it that way cheaply, and a collection under
`--import-mode=importlib` shows every module imports there.

Run modes. Integration tests take `run_mode` (tests/conftest.py): each runs serially,
under `-n 2` and with `-p no:xdist`, from the arguments in `RUN_MODES`, the one place
they are spelled. A slow test where the third mode adds nothing takes
`run_mode_serial_and_xdist` and says why; a test that compares two modes in one run
takes `run_modes`.

Distribution. The README promises that `-n 2 --dist loadgroup` reads each dataset
once in all, while the default `--dist load` lets several workers read the same one.
"""

from __future__ import annotations

import importlib.metadata
import re

import ast
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


# -- import mode ----------------------------------------------------------------------------


def _test_modules() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if path.name != "conftest.py")


def _imports_of(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (anywhere, also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_test_module_imports_conftest_or_another_test_module():
    siblings = {path.stem for path in TESTS.glob("*.py")}  # conftest and every test_*.py
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports_of(path) & siblings) for path in _test_modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert "test_suite_modes.py" in {path.name for path in _test_modules()}  # the check saw the modules


def test_the_suite_collects_under_import_mode_importlib():
    # A fresh interpreter, as CI would start it: the PYTEST_* variables of this run
    # (an xdist worker's id among them) are not passed on.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--import-mode=importlib", "--collect-only", "-q",
         "-p", "no:cacheprovider", "-p", "no:xdist", str(TESTS)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "error" not in run.stdout.splitlines()[-1]
    assert "tests/test_suite_modes.py::test_the_suite_collects_under_import_mode_importlib" in run.stdout


# -- run modes ------------------------------------------------------------------------------


def test_run_modes_are_serial_two_workers_and_xdist_off(run_modes):
    assert list(run_modes) == ["serial", "xdist", "no-xdist"]
    assert run_modes["serial"].args == () and not run_modes["serial"].xdist
    assert run_modes["xdist"].args[:2] == ("-n", "2") and run_modes["xdist"].xdist
    assert run_modes["no-xdist"].args == ("-p", "no:xdist") and not run_modes["no-xdist"].xdist


def test_each_run_mode_runs_as_it_says(pytester: pytest.Pytester, run_mode, monkeypatch):
    """The mode reaches the run: workers under `-n 2`, no xdist plugin with it off."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # this suite's own worker id, when it has one
    pytester.makepyfile(
        test_where="""
        import os

        def test_where(request):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
            loaded = request.config.pluginmanager.hasplugin("xdist")
            (request.config.rootpath / "where.txt").write_text(f"{worker} {loaded}")
        """
    )
    result = run_mode(pytester, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    worker, loaded = (pytester.path / "where.txt").read_text().split()
    expected = {"serial": (False, "True"), "xdist": (True, "True"), "no-xdist": (False, "False")}[run_mode.name]
    assert (worker.startswith("gw"), loaded) == expected, (worker, loaded)
    assert worker.startswith("gw") or worker == "none"


# -- xdist distribution ---------------------------------------------------------------------

#: Wraps the engine's reader to log, per process, every data file it opens. It runs in a
#: subprocess (`RunMode.subprocess`): patched in this process, the engine would stay
#: patched for the tests after it.
READ_LOGGING_CONFTEST = '''
import os
from pathlib import Path

import pytest_ftdata.engine as engine

ROOT = Path(__file__).resolve().parent
_reader = engine.open_reader


def _logging_reader(path, *args, **kwargs):
    process = os.environ.get("PYTEST_XDIST_WORKER", "controller")
    with (ROOT / f"reads-{process}.log").open("a", encoding="utf-8") as log:
        log.write(Path(os.path.relpath(path, ROOT)).as_posix() + "\\n")
    return _reader(path, *args, **kwargs)


engine.open_reader = _logging_reader
'''

#: File families and dataset families: a dataset item reads its whole dataset.
FAMILIES = ("-k", "schema or format or duplicates or leakage")


@pytest.fixture
def two_datasets(pytester: pytest.Pytester, chat, write_jsonl) -> dict[str, list[str]]:
    """data/support (train, val, test) and data/other (train, test): a few small files."""
    layout = {"data/support": ["train", "val", "test"], "data/other": ["train", "test"]}
    for directory, splits in layout.items():
        for split in splits:
            rows = [chat(f"{directory} {split} question {i}", f"answer {i}") for i in range(4)]
            write_jsonl(pytester.path / directory / f"{split}.jsonl", rows)
    pytester.makeconftest(READ_LOGGING_CONFTEST)
    return {directory: [f"{directory}/{split}.jsonl" for split in splits] for directory, splits in layout.items()}


def _reads(root: Path) -> dict[str, list[str]]:
    """The files each process read, by process (xdist worker id), and forget them."""
    reads = {}
    for log in sorted(root.glob("reads-*.log")):
        reads[log.stem.removeprefix("reads-")] = log.read_text(encoding="utf-8").splitlines()
        log.unlink()
    return reads


def _run(run_modes, pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = run_modes["xdist"].subprocess(pytester, *FAMILIES, "-p", "no:cacheprovider", *args, timeout=300)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) > 0 and "error" not in outcomes and "errors" not in outcomes, result.stdout.str()
    return result


def test_dist_loadgroup_reads_each_dataset_once_in_all(pytester: pytest.Pytester, run_modes, two_datasets, monkeypatch):
    # This suite's own worker id would name the inner controller in the log.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    # The default `--dist load`, on one dataset: the workers share their results
    # (`share.py`), so in the whole run each file is read once for its file-level
    # items and once for the dataset-level ones, however the scheduler spread them
    # (before, every worker that ran an item of the dataset read all of it).
    _run(run_modes, pytester, "--ftdata", "data/support", "--dist", "load")
    reads = _reads(pytester.path)
    assert set(reads) <= {"gw0", "gw1"} and reads, reads  # the controller reads nothing
    counts = Counter(path for paths in reads.values() for path in paths)
    assert counts == {path: 2 for path in two_datasets["data/support"]}, reads

    # `--dist loadgroup`, on both datasets: every file is read exactly once in all, and
    # all files of one dataset on the same worker.
    result = _run(run_modes, pytester, "--ftdata", "data", "--dist", "loadgroup", "-v")
    reads = _reads(pytester.path)
    if not re.search(r"::\S+@data/", result.stdout.str()):
        # pytest-xdist marks a loadgroup item's group by rewriting `item._nodeid`, which
        # pytest 9.2 no longer reads its node ids from: with that pair the groups are not
        # applied, `--dist loadgroup` schedules like `load`, and each worker reads what
        # its items need (the share directory then serves the dataset-level results).
        pytest.skip(
            f"pytest-xdist {importlib.metadata.version('pytest-xdist')} does not apply xdist_group marks under "
            f"pytest {pytest.__version__} (no `@group` suffix on the node ids), so loadgroup cannot be measured here"
        )
    assert set(reads) <= {"gw0", "gw1"}, reads
    counts = Counter(path for paths in reads.values() for path in paths)
    assert counts == {path: 1 for paths in two_datasets.values() for path in paths}
    for directory, files in two_datasets.items():
        workers = {worker for worker, paths in reads.items() if set(files) & set(paths)}
        assert len(workers) == 1, (directory, reads)
