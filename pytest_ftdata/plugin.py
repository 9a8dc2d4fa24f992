"""pytest glue: options, collection hooks, report plumbing and the terminal summary.

Everything here is thin: collection nodes live in `nodes.py`, the analysis in
`engine.py` and the checks, the outputs in `report/`. Without `--ftdata` (or the
`ftdata = true` ini switch) every hook returns early and pytest runs as if the
plugin were not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .config import ConfigError, ConfigLoader
from .engine import is_data_file
from .nodes import STATE_KEY, CheckItem, DatasetDir, DatasetItem, JsonlFile, _FtdataItem, has_data_entries
from .report import ReportSpec, parse_report_spec, write_reports
from .state import FtdataState


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ftdata", "fine-tuning dataset checks (pytest-ftdata)")
    group.addoption(
        "--ftdata",
        action="store_true",
        default=False,
        help="collect *.jsonl and *.jsonl.gz files under the given paths as dataset tests.",
    )
    group.addoption(
        "--ftdata-report",
        action="append",
        default=[],
        metavar="TYPE[:PATH]",
        type=parse_report_spec,
        help="report type: term (default), term-missing, json:PATH, md:PATH, html:PATH, sarif:PATH. "
        "May be given several times.",
    )
    parser.addini("ftdata", type="bool", default=False, help="run pytest-ftdata without --ftdata on the command line.")
    parser.addini(
        "ftdata_paths",
        type="args",
        default=[],
        help="dataset paths collected when no paths are given on the command line.",
    )


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("ftdata", False) or config.getini("ftdata"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ftdata: a pytest-ftdata dataset check (added to every dataset item).")
    if not _enabled(config):
        return
    try:
        loader = ConfigLoader.from_rootdir(config.rootpath)
        paths = config.getini("ftdata_paths")
        if paths and config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args[:] = [str(config.rootpath / path) for path in paths]
        loader.check_tree([Path(arg.split("::")[0]) for arg in config.args])
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = FtdataState(config.rootpath, loader, verbose=config.get_verbosity())
    config.stash[STATE_KEY] = state
    if not _is_worker(config):
        config.pluginmanager.register(FtdataReporter(config, state), "ftdata-reporter")


def _state(config: pytest.Config) -> FtdataState | None:
    return config.stash.get(STATE_KEY, None)


def pytest_collect_directory(path: Path, parent: pytest.Collector):
    if _state(parent.config) is None:
        return None
    if is_data_file(path.name):
        # A directory named like a data file: report it instead of descending into it.
        return JsonlFile.from_parent(parent, path=path)
    if (path / "__init__.py").is_file() or not has_data_entries(path):
        return None
    return DatasetDir.from_parent(parent, path=path)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if _state(parent.config) is None or not is_data_file(file_path.name):
        return None
    return JsonlFile.from_parent(parent, path=file_path)


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is None:
        return
    for item in session.items:
        if isinstance(item, CheckItem):
            state.want_file(item.path, item.family)
        elif isinstance(item, DatasetItem):
            state.want_dataset(item.parent.path, item.family)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if isinstance(item, _FtdataItem) and call.when == "call":
        # Plain JSON-able attributes travel with the report from xdist workers.
        report.ftdata_findings = [finding.to_dict() for finding in item.ftdata_findings]
        report.ftdata_files = item.ftdata_files
        report.ftdata_summary = item.ftdata_summary
        report.ftdata_family = item.family
    return report


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class FtdataReporter:
    """Registered on the controller only (the single process of a serial run): gathers
    what items report, prints the summary and writes the report files."""

    def __init__(self, config: pytest.Config, state: FtdataState) -> None:
        self.config = config
        self.state = state

    def specs(self) -> list[ReportSpec]:
        specs = list(self.config.getoption("ftdata_report") or [])
        return specs or [ReportSpec("term", None)]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        findings = getattr(report, "ftdata_findings", None)
        if findings is None or report.when != "call":
            return
        node = report.nodeid.rsplit("::", 1)[0]
        self.state.gather(
            report.nodeid, findings, report.ftdata_files, report.ftdata_summary, f"{node}::{report.ftdata_family}"
        )

    def pytest_terminal_summary(self, terminalreporter) -> None:
        from .report.terminal import write_terminal_summary

        write_terminal_summary(terminalreporter, self.state, self.specs())

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        try:
            write_reports(self.state, self.specs())
        except OSError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"pytest-ftdata: could not write a report: {exc}", red=True)
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
