"""Collection nodes: a dataset directory, its files, and one item per family.

The node tree never depends on file contents (xdist workers must collect the same
items in the same order), so nothing here reads a data file: `collect()` only lists
directories, and the items ask the run state for their findings when they run.

    data/                      DatasetDir
      train.jsonl              JsonlFile
        ::schema, ::format ... CheckItem
      dataset                  DatasetNode
        ::leakage, ::splits .. DatasetItem
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pytest

from ._compat import ExceptionChainRepr, ReprEntryNative, ReprFileLocation, ReprTraceback
from .baseline import gate_title
from .engine import display_path, has_undecodable_name
from .readers import is_data_file, printable_name
from .families import BUILTIN_DATASET_FAMILIES, BUILTIN_FILE_FAMILIES
from .findings import DATASET_FAMILIES, FILE_FAMILIES, Finding
from .render import render_failure
from .state import FtdataState

STATE_KEY = pytest.StashKey[FtdataState]()
DATASET_NODE_NAME = "dataset"


def _state(node: pytest.Item) -> FtdataState:
    return node.config.stash[STATE_KEY]


class FtdataFailure(Exception):
    """Raised by an item whose family found errors; rendered by `repr_failure`."""

    def __init__(self, title: str, findings: list[Finding]) -> None:
        super().__init__(title)
        self.title = title
        self.findings = findings


class FtdataItem(pytest.Item):
    """An item of one family: on a file (`CheckItem`) or on a dataset (`DatasetItem`)."""

    family: str

    def __init__(self, *, family: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.add_marker(pytest.mark.ftdata)
        if self.config.pluginmanager.hasplugin("xdist"):
            # With `--dist loadgroup` every item of one dataset runs on one worker, which
            # then reads the dataset once; other distribution modes ignore the group.
            directory = self.path if self.path.is_dir() else self.path.parent
            self.add_marker(pytest.mark.xdist_group(name=display_path(directory, self.config.rootpath)))
        self.ftdata_findings: list[Finding] = []
        self.ftdata_files: list[dict] = []
        self.ftdata_summary: dict | None = None
        #: The new lock a `versions` item hands to the controller ({"path", "shown", "text"}).
        self.ftdata_lock: dict | None = None

    def _findings(self) -> list[Finding]:
        raise NotImplementedError

    def _where(self) -> str:
        raise NotImplementedError

    def runtest(self) -> None:
        findings = self._findings()
        self.ftdata_findings = findings
        # The gate decides: errors fail, warnings too under --ftdata-strict, and
        # findings the baseline accepts never do (they are not shown either).
        verdict = _state(self).gate.judge(findings)
        if verdict.failing:
            raise FtdataFailure(gate_title(self.family, verdict, self._where()), verdict.shown)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, FtdataFailure):
            failure = excinfo.value
            text = render_failure(failure.title, failure.findings, verbose=self.config.get_verbosity())
            return _failure_repr(failure.title, text, failure.findings, self.nodeid.split("::")[0])
        return super().repr_failure(excinfo, style=style)


def _failure_repr(title: str, text: str, findings: list[Finding], where: str):
    """The failure as pytest's own exception repr, so that its `reprcrash.message`
    (what JUnit's `message`, the short summary and `--tb=line` show) is the one-sentence
    title, and so that it crosses from xdist workers intact (a plain string would
    make the whole text the JUnit message)."""
    first = next((f for f in findings if f.severity == "error"), None)
    crash = ReprFileLocation(first.path if first else where, (first.line or 0) if first else 0, title)
    lines = [line + "\n" for line in text.splitlines()]
    return ExceptionChainRepr([(ReprTraceback(reprentries=[ReprEntryNative(lines)], extraline=None, style="native"), crash, None)])


class CheckItem(FtdataItem):
    """One check family run on one file: `data/train.jsonl::schema`."""

    def _findings(self) -> list[Finding]:
        state = _state(self)
        result = state.result(self.path.parent, self.family, file=self.path)
        display = state.display(self.path)
        file_result = result.files[display]
        self.ftdata_files = [file_result.info.to_dict()]
        return file_result.findings.get(self.family, [])

    def _where(self) -> str:
        return _state(self).display(self.path)

    def reportinfo(self):
        # The domain heads the failure section. It must not end the node id: pytest then
        # rewrites its dots as "::" in verbose lines, mangling `train.jsonl`.
        return _printable_path(self.path), None, f"{self.family} check of {self._where()}"


class JsonlFile(pytest.File):
    """A `.jsonl` / `.jsonl.gz` file (or something unreadable with such a name)."""

    def collect(self) -> Iterable[CheckItem]:
        state = self.config.stash[STATE_KEY]
        for family in _registered_file_families(state):
            yield CheckItem.from_parent(self, name=family, family=family)


def _registered_file_families(state: FtdataState) -> list[str]:
    names = [name for name in FILE_FAMILIES if name in BUILTIN_FILE_FAMILIES]
    return names + [name for name in state.extra_file_checks if name not in names]


def _registered_dataset_families(state: FtdataState) -> list[str]:
    names = [name for name in DATASET_FAMILIES if name in BUILTIN_DATASET_FAMILIES]
    return names + [name for name in state.extra_dataset_checks if name not in names]


class DatasetItem(FtdataItem):
    """One dataset-level check family: `data/dataset::leakage`."""

    def _findings(self) -> list[Finding]:
        state = _state(self)
        directory = self.parent.path
        result = state.result(directory, self.family)
        self.ftdata_files = [fr.info.to_dict() for fr in result.files.values()]
        self.ftdata_summary = result.summaries.get(self.family)
        lock = result.outputs.get("lock") if self.family == "versions" else None
        if lock is not None:
            self.ftdata_lock = lock
        return result.findings.get(self.family, [])

    def _where(self) -> str:
        return f"dataset {_state(self).display(self.parent.path)}/"

    def reportinfo(self):
        return _printable_path(self.parent.path), None, f"{self.family} check of {self._where()}"


class DatasetNode(pytest.Collector):
    """The checks that span the files of one dataset directory."""

    def collect(self) -> Iterable[DatasetItem]:
        state = self.config.stash[STATE_KEY]
        for family in _registered_dataset_families(state):
            yield DatasetItem.from_parent(self, name=family, family=family)


class DatasetDir(pytest.Dir):
    """A directory holding data files: collected as pytest's `Dir`, plus the data entries
    pytest skips without a word (a dangling symlink, a symlink loop) and the
    dataset-level node."""

    def collect(self):
        yield from super().collect()
        try:
            with os.scandir(self.path) as listing:
                entries = sorted((entry for entry in listing if is_data_file(entry.name)), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            try:
                listed = entry.is_dir() or entry.is_file()
            except OSError:  # a symlink loop raises ELOOP here
                listed = False
            if not listed:
                # pytest's listing leaves it out: report it rather than skip it.
                path = Path(entry.path)
                yield JsonlFile.from_parent(self, path=path, **node_names(self, path))
        if entries:
            # Node id `data/dataset`, so items read `data/dataset::leakage` (not `data::dataset::...`).
            nodeid = f"{self.nodeid}/{DATASET_NODE_NAME}" if self.nodeid else DATASET_NODE_NAME
            yield DatasetNode.from_parent(self, name=DATASET_NODE_NAME, path=self.path, nodeid=nodeid)


def _printable_path(path: Path) -> Path:
    """`path`, with undecodable bytes of its name escaped: reports cross to the xdist
    controller as UTF-8."""
    text = str(path)
    shown = printable_name(text)
    return path if shown == text else Path(shown)


def node_names(parent: pytest.Collector, path: Path) -> dict:
    """`name` and `nodeid` for a node of `path` whose name is not valid UTF-8 or holds
    control characters (escaped: a raw name cannot cross to an xdist worker, into a
    report or a CI log); {} otherwise."""
    if not has_undecodable_name(path):
        return {}
    # pytest (9.2) parses a node id given to it: `::` there starts the next name.
    name = printable_name(path.name).replace("::", "\\x3a\\x3a")
    return {"name": name, "nodeid": f"{parent.nodeid}/{name}" if parent.nodeid else name}


def has_data_entries(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return any(is_data_file(entry.name) for entry in entries)
    except OSError:
        return False
