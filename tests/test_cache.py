"""Result caching through pytest's cache: unchanged files are not checked again.

A project check defined in the test project's conftest logs every time the engine
instantiates it (once per file for a file check, once per dataset for a dataset
check), which shows from the outside what was redone. Findings must be the same
whether they come from the cache or not, serially or under `-n 2` (where workers
only read the cache and the controller writes it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.cache import ResultCache, _package_digest, config_fingerprint
from pytest_ftdata.config import validate

ANSWER = json.dumps({"category": "billing"})

COUNTING_CONFTEST = """
from pathlib import Path

from pytest_ftdata.families.base import DatasetFamily, FileFamily

LOG = Path(__file__).parent / "checks.log"


def _log(line):
    with LOG.open("a", encoding="utf-8") as handle:
        handle.write(line + "\\n")


class Counting(FileFamily):
    family = "counting"

    def __init__(self, ctx):
        super().__init__(ctx)
        _log("file " + ctx.path)

    def visit(self, example):
        pass

    def finish(self):
        return []


class CountingDataset(DatasetFamily):
    family = "countingset"

    def __init__(self, ctx):
        super().__init__(ctx)
        _log("dataset " + ctx.path)

    def visit(self, example):
        pass

    def finish(self):
        return []


def pytest_ftdata_checks(config):
    return [Counting, CountingDataset]
"""


@pytest.fixture
def clean(chat):
    def clean(n: int, prefix: str = "ticket") -> list[dict]:
        return [chat(f"{prefix} {i}: my card was charged twice", ANSWER) for i in range(n)]

    return clean


@pytest.fixture
def project(pytester: pytest.Pytester, chat, write_jsonl, clean) -> pytest.Pytester:
    pytester.makepyprojecttoml("[tool.pytest.ini_options]\n")
    pytester.makeconftest(COUNTING_CONFTEST)
    write_jsonl(pytester.path / "data" / "train.jsonl", [*clean(8), chat("refund please", ANSWER + " ")])
    write_jsonl(pytester.path / "data" / "validation.jsonl", clean(3, "held out"))
    return pytester


def runs(project: pytest.Pytester) -> list[str]:
    """What the counting checks logged since the last call (and forget it)."""
    log = project.path / "checks.log"
    if not log.exists():
        return []
    lines = sorted(log.read_text(encoding="utf-8").splitlines())
    log.unlink()
    return lines


def findings(project: pytest.Pytester, name: str) -> list[dict]:
    return json.loads((project.path / name).read_text(encoding="utf-8"))["findings"]


EVERYTHING = ["dataset data", "file data/train.jsonl", "file data/validation.jsonl"]


def test_unchanged_files_are_not_checked_again(project: pytest.Pytester, write_jsonl, clean):
    first = project.runpytest("--ftdata", "data", "--ftdata-report", "json:first.json")
    assert runs(project) == EVERYTHING
    assert list((project.path / ".pytest_cache" / "v" / "ftdata" / "v1").iterdir())

    second = project.runpytest("--ftdata", "data", "--ftdata-report", "json:second.json")
    assert runs(project) == []  # nothing was analysed again
    assert findings(project, "second.json") == findings(project, "first.json")
    assert second.parseoutcomes() == first.parseoutcomes()
    assert any(f["rule"] == "FMT008" for f in findings(project, "second.json"))

    # One file changes: its file checks and the dataset-level checks run again; the
    # other file's per-file results come from the cache.
    write_jsonl(project.path / "data" / "validation.jsonl", clean(4, "held out"))
    project.runpytest("--ftdata", "data", "--ftdata-report", "json:third.json")
    assert runs(project) == ["dataset data", "file data/validation.jsonl"]
    assert [f for f in findings(project, "third.json") if f["rule"] == "FMT008"] == [
        f for f in findings(project, "first.json") if f["rule"] == "FMT008"
    ]

    project.runpytest("--ftdata", "data", "--ftdata-no-cache")
    assert runs(project) == EVERYTHING


def test_editing_a_project_check_invalidates_its_cached_results(project: pytest.Pytester):
    project.runpytest("--ftdata", "data")
    assert runs(project) == EVERYTHING
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text(encoding="utf-8") + "\n# the check changed\n", encoding="utf-8")

    project.runpytest("--ftdata", "data")
    assert runs(project) == EVERYTHING


def test_config_changes_invalidate_results(project: pytest.Pytester):
    project.runpytest("--ftdata", "data")
    assert runs(project) == EVERYTHING
    project.makepyprojecttoml('[tool.pytest.ini_options]\n\n[tool.ftdata.rules]\nFMT008 = "error"\n')

    result = project.runpytest("--ftdata", "data")
    assert runs(project) == EVERYTHING
    result.stdout.fnmatch_lines(["*FAILED data/train.jsonl::format*"])


def test_workers_read_and_the_controller_writes_the_cache(project: pytest.Pytester, run_modes):
    run_modes["xdist"](project, "--ftdata", "data", "--ftdata-report", "json:xdist.json")
    first = runs(project)
    # Two workers may each analyse the dataset; every file and the dataset at least once.
    assert set(first) == set(EVERYTHING)

    # The workers digested pytest-ftdata's source when they started; let this process
    # do the same now rather than reuse a digest from earlier in the session.
    _package_digest.cache_clear()
    project.runpytest("--ftdata", "data", "--ftdata-report", "json:serial.json")
    assert runs(project) == []  # what the controller stored for the workers' results is reused
    assert findings(project, "serial.json") == findings(project, "xdist.json")


def test_without_the_cacheprovider_nothing_is_cached_and_nothing_breaks(project: pytest.Pytester):
    for _ in range(2):
        result = project.runpytest("--ftdata", "data", "-p", "no:cacheprovider")
        assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        assert runs(project) == EVERYTHING
    assert not (project.path / ".pytest_cache").exists()


class DictStore(dict):
    """The two methods of pytest's Cache that the cache uses."""

    def get(self, key, default):  # type: ignore[override]
        return super().get(key, default)

    def set(self, key, value):
        self[key] = json.loads(json.dumps(value))


def test_result_cache_reads_entries_and_notes_what_to_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chat, write_jsonl, clean):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [*clean(3), chat("refund please", ANSWER + " ")])
    config = validate({}, "test", None)
    store = DictStore()
    from pytest_ftdata.cache import store_from_report

    cache = ResultCache(store)
    fresh = cache.analyze(data, [data / "train.jsonl"], config, tmp_path, families=["schema", "format"])
    assert {kind for kind, _, _ in cache.pending} == {"file"}
    for (kind, where, family), note in cache.pending.items():
        result = [f.to_dict() for f in fresh.files[where].findings[family]]
        store_from_report(store, note, result, None)

    def no_analysis(*args, **kwargs):
        raise AssertionError("the engine ran although every result was cached")

    monkeypatch.setattr("pytest_ftdata.cache.analyze_dataset", no_analysis)
    again = ResultCache(store).analyze(data, [data / "train.jsonl"], config, tmp_path, families=["schema", "format"])
    assert again.all_findings() == fresh.all_findings()
    assert again.files["data/train.jsonl"].info.examples == 4


def test_config_fingerprint_follows_the_schema_file_it_points_to(tmp_path: Path):
    schema = tmp_path / "answer.schema.json"
    schema.write_text('{"type": "object"}', encoding="utf-8")
    config = validate({"target_schema": str(schema)}, "test", None)
    before = config_fingerprint(config)
    schema.write_text('{"type": "object", "required": ["category"]}', encoding="utf-8")
    assert config_fingerprint(config) != before
