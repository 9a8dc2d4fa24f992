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
import posixpath
from pathlib import Path

import pytest

from .engine import dataset_files
from .families.versions import pack_lock
from .readers import DATA_SUFFIXES, is_data_file
from .nodes import DATASET_NODE_NAME, CheckItem, DatasetDir, DatasetItem, FtdataItem, JsonlFile, has_data_entries, node_names
from .state import FtdataState


class DatasetNodeArguments:
    """Node ids of dataset items on the command line, made arguments pytest accepts.

    pytest prints `data/support/dataset::leakage`; there is no file `dataset`, and pytest
    refuses `dir::name`, so such an argument becomes its directory (`data/support`) and
    the node id is kept: after collection the directory's other items are deselected
    (unless the directory was also given as itself)."""

    def __init__(self, invocation_dir: Path, rootdir: Path, args: list[str]) -> None:
        #: directory (absolute) -> node ids asked for in it
        self.selected: dict[str, set[str]] = {}
        self.whole = {os.path.abspath(Path(invocation_dir, arg)) for arg in args if "::" not in arg}
        self.args = [self._argument(invocation_dir, rootdir, arg) for arg in args]

    def _argument(self, invocation_dir: Path, rootdir: Path, arg: str) -> str:
        path = arg.partition("::")[0]
        candidate = Path(invocation_dir, path)
        if candidate.name != DATASET_NODE_NAME or candidate.exists() or not candidate.parent.is_dir():
            return arg
        nodeid = Path(os.path.relpath(candidate, rootdir)).as_posix() + arg[len(path):]
        self.selected.setdefault(os.path.abspath(candidate.parent), set()).add(nodeid)
        return str(Path(path).parent)

    def wanted(self, item: pytest.Item) -> bool:
        path = os.path.abspath(item.path)
        if any(_within(path, given) for given in self.whole):
            return True  # another argument asked for it as it is
        for directory, nodeids in self.selected.items():
            if _within(path, directory):
                return any(item.nodeid == nodeid or item.nodeid.startswith(nodeid + "::") for nodeid in nodeids)
        return True


#: Files looked at to say what a directory without data holds.
_SURVEY_LIMIT = 20_000


def no_data_message(path: Path, shown: str) -> str:
    """`no dataset files under data/: found 3 .csv files; pytest-ftdata reads ...`."""
    found: dict[str, int] = {}
    seen = 0
    for folder, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for name in filenames:
            seen += 1
            suffix = "".join(Path(name).suffixes[-2:]) if name.endswith(".gz") else Path(name).suffix
            found[suffix or "(no extension)"] = found.get(suffix or "(no extension)", 0) + 1
        if seen >= _SURVEY_LIMIT:
            break
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    what = ", ".join(f"{count} {suffix} file{'s' if count != 1 else ''}" for suffix, count in ranked[:4]) or "no files"
    reads = ", ".join(DATA_SUFFIXES)
    return f"pytest-ftdata: no dataset files under {shown.rstrip('/')}/: found {what}; pytest-ftdata reads {reads}."


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


class FtdataCollection:
    def __init__(
        self,
        state: FtdataState,
        data_roots: list[Path] | None,
        node_arguments: DatasetNodeArguments,
        outputs: set[str] = frozenset(),
    ) -> None:
        self.state = state
        self.outputs = outputs
        #: Whether the no-data lines were said (xdist: once, for the first worker).
        self._said_no_data = False
        #: Set when `ftdata_paths` chose the dataset paths: data files elsewhere are not datasets.
        self.data_roots = data_roots
        self.node_arguments = node_arguments

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
        if os.path.abspath(file_path) in self.outputs:
            return None
        return JsonlFile.from_parent(parent, path=file_path, **node_names(parent, file_path))

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        if not self.node_arguments.selected:
            return
        keep = [item for item in items if self.node_arguments.wanted(item)]
        if len(keep) < len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in set(keep)])
            items[:] = keep

    def pytest_report_collectionfinish(self, config: pytest.Config, start_path: Path, items: list) -> list[str]:
        """Say why a path given to check yields no dataset item, instead of a bare exit 5."""
        paths = [os.path.abspath(item.path) for item in items if isinstance(item, FtdataItem)]
        return self._no_data_lines(config, paths)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """The same under xdist: the controller collects nothing itself, so it says it
        from the node ids the first worker collected (every worker collects the same)."""
        if self._said_no_data:
            return
        self._said_no_data = True
        config = node.config
        root = str(config.rootpath)
        paths = []
        for nodeid in ids:
            path, _, family = nodeid.partition("::")
            # Dataset items are `<file>::<family>` and `<directory>/dataset::<family>`.
            if family and (is_data_file(posixpath.basename(path)) or posixpath.basename(path) == DATASET_NODE_NAME):
                paths.append(os.path.abspath(os.path.join(root, path)))
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            for line in self._no_data_lines(config, paths):
                reporter.write_line(line)

    def _no_data_lines(self, config: pytest.Config, item_paths: list[str]) -> list[str]:
        lines = []
        for arg in config.args:
            path = Path(config.invocation_params.dir, arg.partition("::")[0])
            if not path.is_dir():
                continue
            directory = os.path.abspath(path)
            if any(_within(item_path, directory) for item_path in item_paths):
                continue
            lines.append(no_data_message(path, self.state.display(path)))
        return lines

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if isinstance(item, CheckItem):
                self.state.want_file(item.path, item.family)
            elif isinstance(item, DatasetItem):
                self.state.want_dataset(item.parent.path, item.family)
        # A data file pytest was told to ignore (`collect_ignore` in a conftest.py,
        # `--ignore`, `--ignore-glob`) has no items, and is no part of its dataset either:
        # the dataset-level checks leave it out too, asked by the same hook pytest asks.
        hook = session.config.hook
        for directory, plan in self.state.plans.items():
            if plan.whole_dataset:
                self.state.ignore(directory, {
                    path for path in dataset_files(directory)
                    if hook.pytest_ignore_collect(collection_path=path, config=session.config)
                })

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if isinstance(item, FtdataItem) and call.when == "call":
            # Plain JSON-able attributes travel with the report from xdist workers.
            report.ftdata_findings = [finding.to_dict() for finding in item.ftdata_findings]
            report.ftdata_files = item.ftdata_files
            report.ftdata_summary = item.ftdata_summary
            report.ftdata_family = item.family
            # The lock travels compressed: a million examples are about 50 MB of text.
            report.ftdata_lock = pack_lock(item.ftdata_lock) if item.ftdata_lock is not None else None
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
