"""pytest glue of the CI gates: options into a `Gate`, and the controller's end of run.

Workers and the controller build the same `Gate` from the same options (the
baseline file is only read there). Everything written — the updated baseline,
cache entries, the GitHub step summary and annotations — is written by
`GatesReporter`, registered on the controller only, from what the item reports
carried back, so a run under `-n 2` writes what a serial run writes.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest

from .baseline import Baseline, BaselineError, Gate, conclude


def _baseline_path(config: pytest.Config) -> Path | None:
    option = config.getoption("ftdata_baseline", None)
    if option:
        return Path(config.invocation_params.dir, option)
    ini = config.getini("ftdata_baseline")
    if ini:
        return Path(config.rootpath, ini)
    return None


def make_gate(config: pytest.Config, specs) -> Gate:
    """The gate of this run; raises `pytest.UsageError` for unusable options."""
    strict = bool(config.getoption("ftdata_strict", False) or config.getini("ftdata_strict"))
    updating = bool(config.getoption("ftdata_update_baseline", False))
    path = _baseline_path(config)
    if updating and path is None:
        raise pytest.UsageError(
            "--ftdata-update-baseline needs the file to write: give --ftdata-baseline=PATH "
            "(or set ftdata_baseline in the ini file)."
        )
    baseline = None
    if path is not None and (path.exists() or not updating):
        try:
            baseline = Baseline.load(path)
        except BaselineError as exc:
            raise pytest.UsageError(f"pytest-ftdata: {exc}.") from None
    want_keys = any(spec.type == "sarif" for spec in specs)
    return Gate(strict=strict, baseline=baseline, baseline_path=path, updating=updating, want_keys=want_keys)


def result_cache(config: pytest.Config):
    """The cache reader of this process, or None (`--ftdata-no-cache`, no cacheprovider)."""
    from .cache import ResultCache

    if config.getoption("ftdata_no_cache", False):
        return None
    store = getattr(config, "cache", None)
    return ResultCache(store) if store is not None else None


def _display_baseline(state, path: Path) -> str:
    try:
        return Path(os.path.relpath(path, state.rootdir)).as_posix()
    except ValueError:
        return str(path)


class GatesReporter:
    """Controller only: records what each item covered, stores cache entries, and at
    the end matches the findings against the baseline and writes the CI outputs."""

    def __init__(self, config: pytest.Config, state, specs) -> None:
        self.config = config
        self.state = state
        self.specs = specs
        #: (path, check family) pairs analysed in this run: baseline entries outside it
        #: are neither stale nor dropped by an update.
        self.scope: set[tuple[str, str]] = set()
        self.store = None if config.getoption("ftdata_no_cache", False) else getattr(config, "cache", None)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        files = getattr(report, "ftdata_files", None)
        family = getattr(report, "ftdata_family", None)
        if not files or family is None:
            return
        for info in files:
            self.scope.add((info["path"], family))
            # Dataset-level findings without a file carry the dataset's path ("data" or "data/").
            directory = posixpath.dirname(info["path"]) or "."
            self.scope.update({(directory, family), (directory.rstrip("/") + "/", family)})
        note = getattr(report, "ftdata_cache", None)
        if note and self.store is not None:
            from .cache import store_from_report

            store_from_report(self.store, note, report.ftdata_findings, getattr(report, "ftdata_summary", None))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # tryfirst: the outcome must exist before the report writers (SARIF) run.
        state = self.state
        findings = [finding for group in state.findings.values() for finding in group]
        try:
            state.gate_outcome = conclude(state.gate, findings, self.scope)
        except OSError as exc:
            self._error(f"pytest-ftdata: could not write the baseline: {exc}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            state.gate_outcome = None
        summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_path and state.findings:
            from .report.github import write_step_summary

            try:
                write_step_summary(state, Path(summary_path))
            except OSError as exc:
                self._error(f"pytest-ftdata: could not append to $GITHUB_STEP_SUMMARY: {exc}")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if os.environ.get("GITHUB_ACTIONS") == "true" and self.state.findings:
            from .report.github import annotations

            for line in annotations(self.state, workspace=os.environ.get("GITHUB_WORKSPACE")):
                terminalreporter.write_line(line)

    def _error(self, message: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(message, red=True)


def gate_summary_lines(state) -> list[tuple[str, dict]]:
    """What the terminal summary says about the baseline and strict mode."""
    gate = state.gate
    outcome = state.gate_outcome
    lines: list[tuple[str, dict]] = []
    if gate.baseline_path is not None and outcome is not None:
        where = _display_baseline(state, gate.baseline_path)
        if outcome.updated is not None:
            total, added, removed = outcome.updated
            lines.append(
                (
                    f"Baseline {where} updated: it accepts {total} finding{'s' if total != 1 else ''} "
                    f"({added} added, {removed} removed).",
                    {"green": True},
                )
            )
        else:
            new = len(outcome.new)
            accepted = len(outcome.accepted)
            lines.append(
                (
                    f"Baseline {where}: {accepted} finding{'s' if accepted != 1 else ''} accepted, "
                    f"{new} new.",
                    {"yellow": True} if new else {"green": True},
                )
            )
            if outcome.stale:
                count = sum(entry.count for entry in outcome.stale)
                lines.append(
                    (
                        f"{count} baseline entr{'ies are' if count != 1 else 'y is'} stale (the findings are gone): "
                        "run with --ftdata-update-baseline to drop them.",
                        {"yellow": True},
                    )
                )
                for entry in outcome.stale[:10]:
                    times = f" (x{entry.count})" if entry.count > 1 else ""
                    lines.append((f"    {entry.path}: {entry.rule} {entry.message or entry.key}{times}", {}))
                if len(outcome.stale) > 10:
                    lines.append((f"    ... and {len(outcome.stale) - 10} more.", {}))
    if gate.strict:
        lines.append(("Strict mode (--ftdata-strict): new warnings fail the run.", {}))
    if lines:
        lines.insert(0, ("", {}))
    return lines


def cache_note(state, item) -> dict | None:
    """The cache note an item's report carries to the controller, if its results are new.

    Only an item that got its findings (`ftdata_files` is set once they exist) has
    one, so a crashed item never caches an empty result."""
    if state.cache is None or not item.ftdata_files:
        return None
    from .nodes import DatasetItem

    if isinstance(item, DatasetItem):
        return state.cache.note_for("dataset", state.display(item.parent.path), item.family)
    return state.cache.note_for("file", state.display(item.path), item.family)
