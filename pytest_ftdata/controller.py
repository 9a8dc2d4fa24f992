"""The controller's role: gather what the items report, then end the session in one order.

Registered by `plugin.pytest_configure` on the controller only (the single process of
a serial run; never on an xdist worker). While items run it gathers, from each
item's test report, the findings, file facts and coverage summaries the item
computed, notes what each item covered (for stale baseline entries) and stores new
result-cache entries (workers only read the cache: `config.cache` is not safe for
concurrent writers).

Findings travel on the test reports as plain attributes, and pytest-xdist copies a
report's `__dict__` from the worker to the controller, so there is no worker-merge
code: a serial run and `-n 2` gather the same data.

`pytest_sessionfinish` then does, in this order:

1. the gate: match every finding against the baseline (or rewrite it);
2. the run report: one frozen `RunReport` (`report.model`) of everything;
3. the report files (`--ftdata-report json:... md:... html:... sarif:...`);
4. the GitHub step summary (`$GITHUB_STEP_SUMMARY`);
5. the coverage gate (`--ftdata-fail-under`).

`pytest_terminal_summary`, which pytest calls after that, prints the report and, in
GitHub Actions, the annotations.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest

from . import share
from .baseline import Gate, conclude
from .cache import store_from_report
from .families.versions import unpack_lock, write_lock
from .findings import Finding
from .progress import TerminalProgress
from .report import ReportSpec, write_reports
from .report.github import annotations, write_step_summary
from .report.model import GateSummary, RunReport
from .report.terminal import DEFAULT_WIDTH, fail_under_line, render_summary


class FtdataController:
    def __init__(self, config: pytest.Config, gate: Gate, specs: list[ReportSpec], progress: TerminalProgress) -> None:
        self.config = config
        self.gate = gate
        self.specs = specs or [ReportSpec("term", None)]
        self.progress = progress
        self.rootdir = config.rootpath
        self.store = None if config.getoption("ftdata_no_cache", False) else getattr(config, "cache", None)
        # What the items reported.
        self.findings: dict[str, list[Finding]] = {}  # nodeid -> findings
        self.files: dict[str, dict] = {}  # path -> files[] entry
        self.summaries: dict[str, dict] = {}  # "<dataset node>::<family>" -> summary
        #: (path, family) pairs analysed in this run: baseline entries outside it are
        #: neither stale nor dropped by an update.
        self.scope: set[tuple[str, str]] = set()
        self.report: RunReport | None = None
        self.written: list[tuple[str, str]] = []
        #: real lock path -> the packed locks `versions` items rendered for it
        #: (`--ftdata-update-lock`): more than one dataset there is an error, not a race.
        self.locks: dict[str, list[dict]] = {}

    # -- while items run ------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        self.progress.start(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = getattr(report, "ftdata_findings", None)
        if found is None or report.when != "call":
            return
        family = report.ftdata_family
        node = report.nodeid.rsplit("::", 1)[0]
        self.findings[report.nodeid] = [Finding.from_dict(data) for data in found]
        for info in report.ftdata_files:
            self.files[info["path"]] = info
            self.scope.add((info["path"], family))
            # Dataset-level findings without a file carry the dataset's path ("data" or "data/").
            directory = posixpath.dirname(info["path"]) or "."
            self.scope.update({(directory, family), (directory.rstrip("/") + "/", family)})
        if report.ftdata_summary is not None:
            self.summaries[f"{node}::{family}"] = report.ftdata_summary
        lock = getattr(report, "ftdata_lock", None)
        if lock:
            self.locks.setdefault(os.path.realpath(lock["path"]), []).append(lock)
        note = getattr(report, "ftdata_cache", None)
        if note and self.store is not None:
            store_from_report(self.store, note, found, report.ftdata_summary)

    # -- the end of the session, in order ---------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.findings:
            return  # no dataset item ran: `pytest tests/` with --ftdata in addopts reports nothing
        gathered = [finding for group in self.findings.values() for finding in group]
        # The locks first: they are the only files written beside the data, once each, here.
        locks_written = self._write_locks(session)
        try:
            outcome = conclude(self.gate, gathered, self.scope)
        except OSError as exc:
            self._error(f"pytest-ftdata: could not write the baseline: {exc}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            outcome = None
        self.report = RunReport.build(
            rootdir=str(self.rootdir),
            findings=gathered,
            files=self.files.values(),
            summaries=self.summaries,
            gate=self._gate_summary(outcome),
            accepted=outcome.accepted if outcome is not None else (),
            verbose=self.config.get_verbosity(),
        )
        workspace = os.environ.get("GITHUB_WORKSPACE")
        try:
            self.written = locks_written + write_reports(self.report, self.specs, workspace)
        except OSError as exc:
            self.written = locks_written
            self._error(f"pytest-ftdata: could not write a report: {exc}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_path:
            try:
                write_step_summary(self.report, Path(summary_path))
            except OSError as exc:
                self._error(f"pytest-ftdata: could not append to $GITHUB_STEP_SUMMARY: {exc}")
        fail_under = self._fail_under()
        if fail_under is not None and session.exitstatus == pytest.ExitCode.OK:
            if fail_under_line(self.report, fail_under)[1]:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.report is None:
            return
        kinds = {spec.type for spec in self.specs}
        for text, markup in render_summary(
            self.report, kinds, width=_width(terminalreporter), fail_under=self._fail_under(), written=self.written
        ):
            if "sep" in markup:
                terminalreporter.write_sep(markup["sep"], markup["title"], bold=markup.get("bold", False))
            else:
                terminalreporter.write_line(text, **markup)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            for line in annotations(self.report, workspace=os.environ.get("GITHUB_WORKSPACE")):
                terminalreporter.write_line(line)

    # -- helpers ----------------------------------------------------------------------------

    def _fail_under(self) -> float | None:
        # Only a run that ran dataset items is gated: `pytest tests/` with the option in
        # addopts must not fail for want of a coverage table.
        if not self.findings:
            return None
        return self.config.getoption("ftdata_fail_under", None)

    def _gate_summary(self, outcome) -> GateSummary:
        gate = self.gate
        path = None
        if gate.baseline_path is not None:
            try:
                path = Path(os.path.relpath(gate.baseline_path, self.rootdir)).as_posix()
            except ValueError:
                path = str(gate.baseline_path)
        return GateSummary(
            strict=gate.strict,
            baseline_path=path,
            with_baseline=outcome is not None and (gate.baseline is not None or gate.updating),
            updated=outcome.updated if outcome is not None else None,
            stale=tuple(outcome.stale) if outcome is not None else (),
        )

    def _write_locks(self, session: pytest.Session) -> list[tuple[str, str]]:
        """Write each lock the `versions` items rendered, inside its dataset's directory
        only, and one lock per file: a lock two datasets resolve to, or one a symlinked
        folder takes outside its dataset, is an error and is not written (its summary then
        says `unwritten`)."""
        written: list[tuple[str, str]] = []
        for target, packed_locks in self.locks.items():
            shown = packed_locks[-1]["shown"]
            datasets = sorted({packed["dataset"] for packed in packed_locks})
            directory = os.path.realpath(packed_locks[-1]["directory"])
            problem = None
            if len(datasets) > 1:
                problem = (f"the datasets {' and '.join(datasets)} both have the lock {shown}; give each its own "
                           "`lock` setting, so that one does not overwrite the other's")
            elif os.path.commonpath([directory, os.path.dirname(target)]) != directory:
                problem = f"it resolves to {target}, outside the dataset's directory (through a symlink)"
            if problem is None:
                path, _, data = unpack_lock(packed_locks[-1])
                try:
                    write_lock(path, data)
                except OSError as exc:
                    problem = str(exc)
            if problem is not None:
                self._error(f"pytest-ftdata: could not write the lock {shown}: {problem}.")
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
                for packed in packed_locks:
                    self._mark_unwritten(packed["shown"])
            else:
                written.append(("lock", shown))
        if session.config.getoption("ftdata_update_lock", False) and (session.shouldfail or session.shouldstop):
            self._error(
                f"pytest-ftdata: the run stopped early (-x or --maxfail), so only the locks of datasets whose versions "
                f"item ran were written ({len(written)}); run again without -x to update every lock."
            )
        return written

    def _mark_unwritten(self, shown: str) -> None:
        for key, summary in self.summaries.items():
            if isinstance(summary, dict) and summary.get("lock") == shown and summary.get("status") == "written":
                self.summaries[key] = {**summary, "status": "unwritten"}

    def _error(self, message: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(message, red=True)


class WorkShare:
    """The controller's half of `share.py`: one private directory per run, made when
    the first xdist worker starts, named to every worker with its token, removed at
    the end. Registered on the controller only; inert without xdist."""

    def __init__(self, config: pytest.Config) -> None:
        self.directory: Path | None = None
        self.token: str | None = None
        # Under `--dist loadgroup` one worker runs every item of a dataset: it reads the
        # dataset once for all of them, as a serial run does, and shares nothing. (Decided
        # here: a worker does not see the controller's `--dist`.)
        self.enabled = config.getoption("dist", "no") != "loadgroup"

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        if not self.enabled:
            return
        if self.directory is None:
            self.directory, self.token = share.create()
        node.workerinput["ftdata_share_dir"] = str(self.directory)
        node.workerinput["ftdata_share_token"] = self.token

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.directory is not None:
            share.remove(self.directory)
            self.directory = None


def _width(terminalreporter) -> int:
    writer = getattr(terminalreporter, "_tw", None)
    width = getattr(writer, "fullwidth", None)
    return width if isinstance(width, int) and width > 20 else DEFAULT_WIDTH
