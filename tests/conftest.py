"""Shared fixtures: the real datasets beside the repo, and dataset writers for pytester."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _preload_modules() -> None:
    """Import every pytest_ftdata module (and hypothesis, when installed) once, up front.

    pytester's in-process runs drop every module a run imported; a module the plugin
    (or hypothesis's pytest plugin, at the end of each run) imports lazily would be
    imported and assertion-rewritten again in every run, about a second each time."""
    import importlib
    import pkgutil

    import pytest_ftdata

    names = [module.name for module in pkgutil.walk_packages(pytest_ftdata.__path__, "pytest_ftdata.")]
    for name in ["hypothesis", *names]:
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


def chat(user: str, assistant: str, system: str | None = "You classify support tickets.", **extra) -> dict:
    """A chat-format record."""
    messages = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": assistant})
    return {"messages": messages, **extra}


def write_jsonl(path: Path, records) -> Path:
    """Write records (dicts, or raw strings written as-is) one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def dataset(tmp_path: Path):
    """Write a dataset directory: dataset(train=[...], validation=[...]) -> Path."""

    def make(directory: str = "data", **splits) -> Path:
        root = tmp_path / directory
        for name, records in splits.items():
            write_jsonl(root / f"{name}.jsonl", records)
        return root

    return make


@pytest.fixture
def isolated_rules():
    """Rules declared by a test (or by a conftest an in-process pytester run imports)
    are forgotten afterwards, so the registry the README table is built from stays
    the plugin's own."""
    from pytest_ftdata import custom, findings

    rules, origins = dict(findings.RULES), dict(custom._RULE_ORIGINS)
    yield
    findings.RULES.clear()
    findings.RULES.update(rules)
    custom._RULE_ORIGINS.clear()
    custom._RULE_ORIGINS.update(origins)


#: The ways a user runs pytest, which every integration test that says `run_mode` runs
#: in: plain serial (xdist installed, not used), two xdist workers, and xdist turned off.
#: The xdist workers skip plugins of this machine that only cost start-up time.
RUN_MODES = {
    "serial": (),
    "xdist": ("-n", "2", "-p", "no:hypothesispytest", "-p", "no:benchmark"),
    "no-xdist": ("-p", "no:xdist"),
}


@pytest.fixture(params=list(RUN_MODES))
def run_mode(request):
    """`run_mode(pytester, *args)`: `pytester.runpytest(*args)` in each of `RUN_MODES`."""
    extra = RUN_MODES[request.param]

    def run(pytester, *args, **kwargs):
        return pytester.runpytest(*args, *extra, **kwargs)

    run.mode = request.param
    return run
