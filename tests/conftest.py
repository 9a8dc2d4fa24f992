"""Shared fixtures: the real datasets beside the repo, and dataset writers for pytester."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _preload_modules() -> None:
    """Import every pytest_ftdata module (and hypothesis, when installed) once, up front,
    and the optional packages the plugin imports on use.

    pytester's in-process runs drop every module a run imported; a module the plugin
    (or hypothesis's pytest plugin, at the end of each run) imports lazily would be
    imported and assertion-rewritten again in every run, about a second each time. And
    numpy, once dropped, cannot be imported again in the same process ("cannot load
    module more than once per process"): the first in-process run that fitted the
    label model would break every later test that uses it."""
    import importlib
    import pkgutil

    import pytest_ftdata

    names = [module.name for module in pkgutil.walk_packages(pytest_ftdata.__path__, "pytest_ftdata.")]
    optional = ["hypothesis", "numpy", "sklearn", "cleanlab.filter", "pyarrow", "pyarrow.parquet", "duckdb", "tokenizers", "tiktoken"]
    for name in [*optional, *names]:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional package; a broken module fails its own tests
            pass


_preload_modules()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """`../shared/datasets` (real public datasets); skips where the clone has none."""
    if not SHARED.is_dir():
        pytest.skip("../shared/datasets is not present beside this clone (team-only real datasets)")
    return SHARED


def _chat(user: str, assistant: str, system: str | None = "You classify support tickets.", **extra) -> dict:
    messages = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": assistant})
    return {"messages": messages, **extra}


def _write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# The record helpers are fixtures, not names to import: `from conftest import` needs
# tests/ on sys.path, which `--import-mode=importlib` does not give
# (tests/test_suite_modes.py keeps it that way). They are pure, so one per session
# serves every scope, including module-scoped fixtures.


@pytest.fixture(scope="session")
def chat():
    """`chat(user, assistant, system="You classify support tickets.", **extra) -> dict`:
    a chat-format record; `system=None` leaves the system turn out, `extra` adds keys."""
    return _chat


@pytest.fixture(scope="session")
def write_jsonl():
    """`write_jsonl(path, records) -> path`: records (dicts, or raw strings written as-is)
    one per line, parent directories created."""
    return _write_jsonl


@pytest.fixture
def dataset(tmp_path: Path):
    """Write a dataset directory: dataset(train=[...], validation=[...]) -> Path."""

    def make(directory: str = "data", **splits) -> Path:
        root = tmp_path / directory
        for name, records in splits.items():
            _write_jsonl(root / f"{name}.jsonl", records)
        return root

    return make


@pytest.fixture(autouse=True)
def isolated_rules():
    """Rules declared by a test (or by a conftest an in-process pytester run imports:
    a copy of example_project declares ACME001) are forgotten afterwards, for every
    test: otherwise a later test in the same worker that declares ACME001 differently
    failed, depending on which tests xdist gave that worker before it."""
    from pytest_ftdata import custom, findings

    rules, origins = dict(findings.RULES), dict(custom._RULE_ORIGINS)
    yield
    findings.RULES.clear()
    findings.RULES.update(rules)
    custom._RULE_ORIGINS.clear()
    custom._RULE_ORIGINS.update(origins)


#: The ways a user runs pytest, which every integration test that says `run_mode` runs
#: in: plain serial (xdist installed, not used), two xdist workers, and xdist turned off.
#: The xdist workers skip plugins of this machine that only cost start-up time (their
#: import dominates a worker's start-up; blocking a plugin that is absent is a no-op).
#: The one place these arguments are spelled: tests take them from the fixtures below.
RUN_MODES = {
    "serial": (),
    "xdist": ("-n", "2", "-p", "no:hypothesispytest", "-p", "no:benchmark"),
    "no-xdist": ("-p", "no:xdist"),
}


class RunMode:
    """One of `RUN_MODES`: `run_mode(pytester, *args)` is `pytester.runpytest(*args, *run_mode.args)`,
    `run_mode.subprocess(pytester, *args)` the same in a fresh interpreter."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.args = RUN_MODES[name]

    @property
    def xdist(self) -> bool:
        """Whether the run is distributed over xdist workers."""
        return "-n" in self.args

    def __call__(self, pytester: pytest.Pytester, *args, **kwargs) -> pytest.RunResult:
        return pytester.runpytest(*args, *self.args, **kwargs)

    def subprocess(self, pytester: pytest.Pytester, *args, **kwargs) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*args, *self.args, **kwargs)

    def __repr__(self) -> str:
        return f"RunMode({self.name!r})"


@pytest.fixture(params=list(RUN_MODES))
def run_mode(request) -> RunMode:
    """Run the test once in each of `RUN_MODES`: `run_mode(pytester, *args)`."""
    return RunMode(request.param)


@pytest.fixture(params=["serial", "xdist"])
def run_mode_serial_and_xdist(request) -> RunMode:
    """`run_mode` without "no-xdist", for slow tests where turning xdist off adds nothing
    (the test says why): a serial run already runs without workers, and what differs
    between a serial run with xdist installed and one with it blocked is the collection
    marks, which tests taking the full `run_mode` cover."""
    return RunMode(request.param)


@pytest.fixture(scope="session")
def run_modes() -> dict[str, RunMode]:
    """Every `RunMode` by name, for a test that compares two modes' results in one test:
    `run_modes["xdist"](pytester, *args)`."""
    return {name: RunMode(name) for name in RUN_MODES}
