"""How much a process reads: each file once, and only the files its items need."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ftdata import engine
from pytest_ftdata.config import ConfigLoader
from pytest_ftdata.state import FtdataState



@pytest.fixture
def reads(monkeypatch):
    """The paths the engine's reader opens during the test, in order."""
    opened: list[str] = []
    original = engine.open_reader

    def recording(path, **options):
        opened.append(Path(path).name)
        return original(path, **options)

    monkeypatch.setattr(engine, "open_reader", recording)
    return opened


@pytest.fixture
def data(tmp_path, chat, write_jsonl) -> Path:
    for name in ("train", "val", "test"):
        write_jsonl(tmp_path / "data" / f"{name}.jsonl", [chat(f"{name} question {i}", "answer") for i in range(3)])
    return tmp_path / "data"


def state_for(root: Path) -> FtdataState:
    return FtdataState(root, ConfigLoader(root))


def test_without_dataset_items_a_file_item_reads_only_its_file(data, reads):
    state = state_for(data.parent)
    for name in ("train", "val", "test"):
        for family in ("schema", "format"):
            state.want_file(data / f"{name}.jsonl", family)
    for family in ("schema", "format"):
        result = state.result(data, family, file=data / "val.jsonl")
        assert list(result.files) == ["data/val.jsonl"]
    assert reads == ["val.jsonl"]


def test_with_dataset_items_the_whole_dataset_is_read_once_for_every_item(data, reads):
    state = state_for(data.parent)
    for name in ("train", "val", "test"):
        state.want_file(data / f"{name}.jsonl", "schema")
    state.want_dataset(data, "splits")
    for name in ("train", "val", "test"):
        result = state.result(data, "schema", file=data / f"{name}.jsonl")
        assert f"data/{name}.jsonl" in result.files
    state.result(data, "splits")
    assert sorted(reads) == ["test.jsonl", "train.jsonl", "val.jsonl"]
