"""pytest glue: options, ini settings, the role plugins, fixtures and markers.

The hooks here do little themselves. `pytest_configure` registers the role plugins
the process needs (`collection.FtdataCollection`, and `controller.FtdataController`
off xdist workers); without `--ftdata` (or the `ftdata = true` ini switch), or with
`--no-ftdata`, it registers none and pytest runs as if the plugin were not installed.
What stays on always is what a project's own tests use: the `ftdata` fixture, the
`ftdata`/`ftdata_each` markers and the redaction of their failures.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from . import fixtures, hooks
from ._compat import whole_assertion_values
from .config import ConfigError, ConfigLoader
from .collection import DatasetNodeArguments, FtdataCollection
from .controller import FtdataController, WorkShare
from .findings import RULES
from .gates import make_gate, result_cache
from .nodes import STATE_KEY
from .progress import TerminalProgress
from .report import parse_report_spec
from .share import ShareDir
from .state import FtdataState


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
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
        "--no-ftdata",
        dest="ftdata_off",
        action="store_true",
        default=False,
        help="turn pytest-ftdata off for this run, even with --ftdata in addopts or ftdata = true in the ini file "
        "(unlike -p no:ftdata, its ini settings stay known, so --strict-config stays clean).",
    )
    group.addoption(
        "--ftdata-report",
        action="append",
        default=[],
        metavar="TYPE[:PATH]",
        type=parse_report_spec,
        help="report type: term (default, compact), term:full (every warning and subgroup table), term-missing, json:PATH, md:PATH, html:PATH, sarif:PATH. "
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
        "--ftdata-update-lock",
        action="store_true",
        default=False,
        help="write each dataset's lock (ftdata.lock beside the data: every example's content key, split, "
        "label and origin) for later runs to compare with; the run reports no versions findings.",
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
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage between 0 and 100, got {value!r}") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage between 0 and 100, got {value!r}")
    return number


def _enabled(config: pytest.Config) -> bool:
    if config.getoption("ftdata_off", False):
        return False
    return bool(config.getoption("ftdata", False) or config.getini("ftdata"))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Register the role plugins this process needs, as pytest-mypy does: nothing more
    when the plugin is off; the collecting role on every process; the controller's
    role (gathering, reports, the terminal summary) never on an xdist worker."""
    fixtures.configure(config)  # markers, project checks
    if not _enabled(config):
        return
    checks = fixtures.project_checks(config)
    data_roots = None
    try:
        # `[tool.ftdata.rules]` may name any registered rule and the project's checks.
        loader = ConfigLoader.from_rootdir(config.rootpath, RULES.selectors() | set(checks.names()))
        paths = config.getini("ftdata_paths")
        if paths and config.args_source != pytest.Config.ArgsSource.ARGS:
            # The dataset paths join the ordinary test paths (testpaths keep running);
            # data files are collected only under them, not under tests/ fixtures.
            roots = [config.rootpath / path for path in paths]
            data_roots = [Path(os.path.abspath(root)) for root in roots]
            if config.invocation_params.dir == config.rootpath:
                config.args[:] = [*config.args, *(str(root) for root in roots if str(root) not in config.args)]
        node_arguments = DatasetNodeArguments(config.invocation_params.dir, config.rootpath, config.args)
        config.args[:] = node_arguments.args
        loader.check_tree([Path(arg.split("::")[0]) for arg in config.args])
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    specs = list(config.getoption("ftdata_report") or [])
    state = FtdataState(config.rootpath, loader, verbose=config.get_verbosity())
    state.extra_file_checks.update(checks.file)
    state.extra_dataset_checks.update(checks.dataset)
    state.gate = make_gate(config, specs)
    state.cache = result_cache(config)
    state.update_lock = bool(config.getoption("ftdata_update_lock", False))
    config.stash[STATE_KEY] = state
    outputs = {os.path.abspath(spec.destination) for spec in specs if spec.destination}
    if state.gate.baseline_path is not None:
        outputs.add(os.path.abspath(state.gate.baseline_path))
    config.pluginmanager.register(FtdataCollection(state, data_roots, node_arguments, outputs), "ftdata-collection")
    if _is_worker(config):
        # The controller names the run's shared directory (not under `--dist loadgroup`).
        state.share = ShareDir.open(config.workerinput.get("ftdata_share_dir"), config.workerinput.get("ftdata_share_token"))
        return  # workers report through their test reports; their output never reaches the terminal
    try:
        after = float(config.getini("ftdata_progress_after"))
    except ValueError:
        raise pytest.UsageError("ftdata_progress_after must be a number of seconds.") from None
    progress = TerminalProgress(config, after)
    state.progress = progress
    config.pluginmanager.register(FtdataController(config, state.gate, specs, progress), "ftdata-controller")
    config.pluginmanager.register(WorkShare(config), "ftdata-work-share")


def pytest_unconfigure(config: pytest.Config) -> None:
    fixtures.unconfigure(config)


@pytest.fixture(scope="session")
def ftdata(request: pytest.FixtureRequest):
    """The configured datasets (ini `ftdata_paths`, or `@pytest.mark.ftdata(path=...)`):
    `ftdata.split("train")`, `ftdata.dataset("support")`, iteration over examples."""
    return fixtures.fixture_value(request)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    fixtures.generate_tests(metafunc)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # A user test that reads dataset examples: its failure text is redacted.
    report = yield
    if report.failed and fixtures.uses_dataset_examples(item):
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
