"""Report outputs: `--ftdata-report TYPE[:PATH]`, as pytest-cov's `--cov-report`.

Every output is a pure function of the frozen `RunReport` (`report.model`): `term`
and `term-missing` are lines from `report.terminal`, the rest are files written by
the writers below, on the controller, at the end of the session. Nothing in this
package imports pytest.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .html import write_html
from .json_report import write_json
from .markdown import write_markdown
from .model import RunReport
from .sarif import write_sarif

TERMINAL_TYPES = ("term", "term-missing")
#: What `term:full` parses to (the terminal summary with every warning and table).
FULL_TERMINAL = "term-full"
DEFAULT_DESTINATIONS = {
    "json": "ftdata.json",
    "md": "ftdata.md",
    "html": "ftdata.html",
    "sarif": "ftdata.sarif",
}


@dataclass(frozen=True)
class ReportSpec:
    type: str
    destination: str | None


def parse_report_spec(value: str) -> ReportSpec:
    """`term`, `term:full`, `term-missing`, or `json|md|html|sarif[:PATH]`."""
    kind, _, destination = value.partition(":")
    if kind == "term" and destination == "full":
        # The compact terminal summary in full: every warning and every subgroup table.
        return ReportSpec("term-full", None)
    if kind in TERMINAL_TYPES:
        if destination:
            raise argparse.ArgumentTypeError(f"report type {kind!r} takes no path (got {value!r})")
        return ReportSpec(kind, None)
    if kind not in DEFAULT_DESTINATIONS:
        choices = ", ".join(TERMINAL_TYPES + tuple(f"{name}:PATH" for name in DEFAULT_DESTINATIONS))
        raise argparse.ArgumentTypeError(f"unknown report type {kind!r}; choose from {choices}")
    return ReportSpec(kind, destination or DEFAULT_DESTINATIONS[kind])


def _write_sarif(report: RunReport, destination: Path, workspace: str | None) -> None:
    write_sarif(report, destination, workspace)


#: type -> writer(report, destination, workspace)
WRITERS: dict[str, Callable[[RunReport, Path, str | None], None]] = {
    "json": lambda report, destination, workspace: write_json(report, destination),
    "md": lambda report, destination, workspace: write_markdown(report, destination),
    "html": lambda report, destination, workspace: write_html(report, destination),
    "sarif": _write_sarif,
}


def write_reports(report: RunReport, specs: list[ReportSpec], workspace: str | None = None) -> list[tuple[str, str]]:
    """Write every file report `specs` ask for; the (type, destination) of each."""
    written = []
    for spec in specs:
        writer = WRITERS.get(spec.type)
        if writer is None:
            continue
        destination = Path(spec.destination)
        if destination.parent and not destination.parent.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
        writer(report, destination, workspace)
        written.append((spec.type, spec.destination))
    return written
