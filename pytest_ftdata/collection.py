"""The collecting role: dataset files and directories become nodes, items carry findings home.

Registered by `plugin.pytest_configure` only when the plugin is on (`--ftdata`, or the
`ftdata = true` ini switch), on every process: xdist workers collect too, and must
collect the same items in the same order (the node tree never depends on file
contents, see `nodes.py`).

After collection the run state learns which files and families are wanted, so that
each process reads only what its items need. After an item runs, its findings, file
facts, coverage summary and result-cache note are attached to its test report as
plain attributes; pytest-xdist copies a report's `__dict__` to the controller, which
is how they reach `controller.FtdataController` under `-n 2`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .engine import is_data_file
from .nodes import CheckItem, DatasetDir, DatasetItem, FtdataItem, JsonlFile, has_data_entries, node_names
from .state import FtdataState


class FtdataCollection:
    def __init__(self, state: FtdataState, data_roots: list[Path] | None) -> None:
        self.state = state
        #: Set when `ftdata_paths` chose the dataset paths: data files elsewhere are not datasets.
        self.data_roots = data_roots

    def _outside_data_roots(self, path: Path) -> bool:
        if self.data_roots is None:
            return False
        path = Path(os.path.abspath(path))
        return not any(path == root or root in path.parents for root in self.data_roots)

    def pytest_collect_directory(self, path: Path, parent: pytest.Collector):
        if self._outside_data_roots(path):
            return None
        if is_data_file(path.name):
            # A directory named like a data file: report it instead of descending into it.
            return JsonlFile.from_parent(parent, path=path, **node_names(parent, path))
        if (path / "__init__.py").is_file() or not has_data_entries(path):
            return None
        return DatasetDir.from_parent(parent, path=path, **node_names(parent, path))

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector):
        if not is_data_file(file_path.name) or self._outside_data_roots(file_path):
            return None
        return JsonlFile.from_parent(parent, path=file_path, **node_names(parent, file_path))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if isinstance(item, CheckItem):
                self.state.want_file(item.path, item.family)
            elif isinstance(item, DatasetItem):
                self.state.want_dataset(item.parent.path, item.family)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if isinstance(item, FtdataItem) and call.when == "call":
            # Plain JSON-able attributes travel with the report from xdist workers.
            report.ftdata_findings = [finding.to_dict() for finding in item.ftdata_findings]
            report.ftdata_files = item.ftdata_files
            report.ftdata_summary = item.ftdata_summary
            report.ftdata_family = item.family
            report.ftdata_cache = self._cache_note(item)
        return report

    def _cache_note(self, item: FtdataItem) -> dict | None:
        """The note the controller stores this item's results under, if they are new.

        Only an item that got its findings (`ftdata_files` is set once they exist) has
        one, so a crashed item never caches an empty result."""
        cache = self.state.cache
        if cache is None or not item.ftdata_files:
            return None
        if isinstance(item, DatasetItem):
            return cache.note_for("dataset", self.state.display(item.parent.path), item.family)
        return cache.note_for("file", self.state.display(item.path), item.family)
