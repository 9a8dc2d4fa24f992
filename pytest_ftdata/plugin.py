"""pytest glue: options, collection hooks, report plumbing and the terminal summary.

Everything here is thin: collection nodes live in `nodes.py`, the analysis in
`engine.py` and the checks, the outputs in `report/`. Without `--ftdata` (or the
`ftdata = true` ini switch) every hook returns early and pytest runs as if the
plugin were not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import fixtures
from ._compat import whole_assertion_values
from .config import ConfigError, ConfigLoader
from .findings import RULES
from .engine import is_data_file
from .nodes import STATE_KEY, CheckItem, DatasetDir, DatasetItem, JsonlFile, _FtdataItem, has_data_entries, node_names
from .report import ReportSpec, parse_report_spec, write_reports
from .state import FtdataState


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from . import hooks

    pluginmanager.add_hookspecs(hooks)


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
    group.addoption(
        "--ftdata-fail-under",
        action="store",
        default=None,
        metavar="PCT",
        type=_percent,
        help="fail the run when the subgroup coverage (the share of required subgroup cells that are met) "
        "is below PCT.",
    )
    group.addoption(
        "--ftdata-strict",
        action="store_true",
        default=False,
        help="warnings fail the run too (new ones, when a baseline is used).",
    )
    group.addoption(
        "--ftdata-baseline",
        action="store",
        default=None,
        metavar="PATH",
        help="baseline file of accepted findings: only findings not in it fail the run.",
    )
    group.addoption(
        "--ftdata-update-baseline",
        action="store_true",
        default=False,
        help="accept today's findings: rewrite the --ftdata-baseline file with them (the run does not fail on findings).",
    )
    group.addoption(
        "--ftdata-no-cache",
        action="store_true",
        default=False,
        help="do not reuse or store per-file results in pytest's cache.",
    )
    parser.addini("ftdata_strict", type="bool", default=False, help="as --ftdata-strict: warnings fail the run.")
    parser.addini("ftdata_baseline", default="", help="baseline file (relative to the rootdir) used when --ftdata-baseline is not given.")
    parser.addini(
        "ftdata_progress_after",
        default="2",
        help="seconds an item runs before the analysis shows progress on the terminal (serial runs).",
    )
    parser.addini("ftdata", type="bool", default=False, help="run pytest-ftdata without --ftdata on the command line.")
    parser.addini(
        "ftdata_paths",
        type="args",
        default=[],
        help="dataset paths collected when no paths are given on the command line.",
    )


def _percent(value: str) -> float:
    import argparse

    try:
        number = float(value.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage between 0 and 100, got {value!r}") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage between 0 and 100, got {value!r}")
    return number


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("ftdata", False) or config.getini("ftdata"))


def pytest_configure(config: pytest.Config) -> None:
    fixtures.configure(config)  # markers, project checks
    if not _enabled(config):
        return
    try:
        # `[tool.ftdata.rules]` may name any registered rule and the project's checks.
        selectors = RULES.selectors() | set(fixtures.project_checks(config).names())
        loader = ConfigLoader.from_rootdir(config.rootpath, selectors)
        paths = config.getini("ftdata_paths")
        if paths and config.args_source != pytest.Config.ArgsSource.ARGS:
            # The dataset paths join the ordinary test paths (testpaths keep running);
            # data files are collected only under them, not under tests/ fixtures.
            roots = [config.rootpath / path for path in paths]
            config.stash[DATA_ROOTS_KEY] = [Path(os.path.abspath(root)) for root in roots]
            if config.invocation_params.dir == config.rootpath:
                config.args[:] = [*config.args, *(str(root) for root in roots if str(root) not in config.args)]
        loader.check_tree([Path(arg.split("::")[0]) for arg in config.args])
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = FtdataState(config.rootpath, loader, verbose=config.get_verbosity())
    checks = fixtures.project_checks(config)
    state.extra_file_checks.update(checks.file)
    state.extra_dataset_checks.update(checks.dataset)
    config.stash[STATE_KEY] = state
    _configure_gates(config, state)
    if not _is_worker(config):
        config.pluginmanager.register(FtdataReporter(config, state), "ftdata-reporter")


def _configure_gates(config: pytest.Config, state: FtdataState) -> None:
    """Baseline, strict mode, result cache and progress (see gates.py)."""
    from .gates import GatesReporter, make_gate, result_cache
    from .progress import TerminalProgress

    specs = list(config.getoption("ftdata_report") or [])
    state.gate = make_gate(config, specs)
    state.cache = result_cache(config)
    if _is_worker(config):
        return  # workers' output never reaches the terminal: no progress there (see progress.py)
    config.pluginmanager.register(GatesReporter(config, state, specs), "ftdata-gates")
    try:
        after = float(config.getini("ftdata_progress_after"))
    except ValueError:
        raise pytest.UsageError("ftdata_progress_after must be a number of seconds.") from None
    progress = TerminalProgress(config, after)
    config.pluginmanager.register(progress, "ftdata-progress")
    state.progress = progress


def pytest_unconfigure(config: pytest.Config) -> None:
    fixtures.unconfigure(config)


@pytest.fixture(scope="session")
def ftdata(request: pytest.FixtureRequest):
    """The configured datasets (ini `ftdata_paths`, or `@pytest.mark.ftdata(path=...)`):
    `ftdata.split("train")`, `ftdata.dataset("support")`, iteration over examples."""
    return fixtures.fixture_value(request)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    fixtures.generate_tests(metafunc)


def _state(config: pytest.Config) -> FtdataState | None:
    return config.stash.get(STATE_KEY, None)


#: Set when `ftdata_paths` chose the dataset paths: data files elsewhere are not datasets.
DATA_ROOTS_KEY = pytest.StashKey[list]()


def _outside_data_roots(config: pytest.Config, path: Path) -> bool:
    roots = config.stash.get(DATA_ROOTS_KEY, None)
    if roots is None:
        return False
    path = Path(os.path.abspath(path))
    return not any(path == root or root in path.parents for root in roots)


def pytest_collect_directory(path: Path, parent: pytest.Collector):
    if _state(parent.config) is None or _outside_data_roots(parent.config, path):
        return None
    if is_data_file(path.name):
        # A directory named like a data file: report it instead of descending into it.
        return JsonlFile.from_parent(parent, path=path, **node_names(parent, path))
    if (path / "__init__.py").is_file() or not has_data_entries(path):
        return None
    return DatasetDir.from_parent(parent, path=path, **node_names(parent, path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if _state(parent.config) is None or not is_data_file(file_path.name):
        return None
    if _outside_data_roots(parent.config, file_path):
        return None
    return JsonlFile.from_parent(parent, path=file_path, **node_names(parent, file_path))


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
        from .gates import cache_note

        report.ftdata_cache = cache_note(_state(item.config), item)
    elif report.failed and fixtures.uses_dataset_examples(item):
        fixtures.redact_failure(report)
    return report


#: Set while a test that reads dataset examples runs (see `pytest_assertrepr_compare`).
READING_DATA_KEY = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not fixtures.uses_dataset_examples(item):
        return (yield)
    item.config.stash[READING_DATA_KEY] = True
    try:
        with whole_assertion_values(item.config):
            return (yield)
    finally:
        item.config.stash[READING_DATA_KEY] = False


@pytest.hookimpl(tryfirst=True)
def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object):
    # pytest's own explanation quotes the values from an arbitrary cut onwards, beyond
    # any redaction; in tests that read dataset examples, both sides are shown redacted.
    if config.stash.get(READING_DATA_KEY, False):
        return fixtures.safe_comparison(op, left, right)
    return None


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

        write_terminal_summary(terminalreporter, self.state, self.specs(), fail_under=self.fail_under())

    def fail_under(self) -> float | None:
        # Only a run that ran dataset items is gated: `pytest tests/` with the option in
        # addopts must not fail for want of a coverage table.
        if not self.state.findings:
            return None
        return self.config.getoption("ftdata_fail_under", None)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        fail_under = self.fail_under()
        if fail_under is not None and session.exitstatus == pytest.ExitCode.OK:
            from .report.terminal import fail_under_line

            if fail_under_line(self.state, fail_under)[1]:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        try:
            write_reports(self.state, self.specs())
        except OSError as exc:
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"pytest-ftdata: could not write a report: {exc}", red=True)
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
