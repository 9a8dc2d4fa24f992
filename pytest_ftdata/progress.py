"""Progress of a long analysis on the terminal, so a large dataset is not a silent minute.

The engine calls `state.progress(label, examples_done)` every 100,000 examples.
`TerminalProgress` turns that into a line on the terminal once an item has been
running for `ftdata_progress_after` seconds (2 by default), then at most once per
that interval, so small datasets print nothing.

Only a process that owns the terminal shows progress: a serial run. Under
pytest-xdist the analysis runs on workers, whose output never reaches the terminal
(xdist does not forward it), and the controller has no live channel from them
until an item finishes; rather than invent a progress bar, no progress is shown
there. A single dataset is analysed by one process anyway, so run a very large
dataset without `-n` to watch it.
"""

from __future__ import annotations

import contextlib
import os
import time

import pytest


class TerminalProgress:
    def __init__(self, config: pytest.Config, after: float = 2.0) -> None:
        self.config = config
        self.after = after
        self.started: float | None = None
        self.last: float | None = None

    def start(self, nodeid: str) -> None:
        """An item starts (the controller calls this from `pytest_runtest_logstart`)."""
        self.started = time.monotonic()
        self.last = None
        self.nodeid = nodeid

    def __call__(self, label: str, done: int) -> None:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        elapsed = now - self.started
        if elapsed < self.after or (self.last is not None and now - self.last < self.after):
            return
        self.last = now
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        # The item runs under output capture: step out of it so the line reaches the terminal.
        guard = capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext()
        with guard:
            reporter.write_line(f"pytest-ftdata: {label}: {done:,} examples read ({elapsed:.0f} s)", cyan=True)
            self._resume_progress_line(reporter)

    def _resume_progress_line(self, reporter) -> None:
        """Write the `path ` prefix again, so the item's result letter does not start
        a line of its own (in verbose mode pytest writes whole lines anyway)."""
        nodeid = getattr(self, "nodeid", None)
        startpath = getattr(reporter, "startpath", None)
        if nodeid is None or startpath is None or self.config.get_verbosity() > 0:
            return
        fspath = self.config.rootpath / nodeid.split("::")[0]
        reporter.write(f"{os.path.relpath(fspath, startpath)} ")
        reporter.currentfspath = fspath
