"""Report outputs: `--ftdata-report TYPE[:PATH]`, as pytest-cov's `--cov-report`.

Each file type has a writer taking the run state and a destination. `term` and
`term-missing` are printed by `report.terminal`; the rest are files written on
the controller at the end of the session.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

TERMINAL_TYPES = ("term", "term-missing")
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
    """`term`, `term-missing`, or `json|md|html|sarif[:PATH]`."""
    kind, _, destination = value.partition(":")
    if kind in TERMINAL_TYPES:
        if destination:
            raise argparse.ArgumentTypeError(f"report type {kind!r} takes no path (got {value!r})")
        return ReportSpec(kind, None)
    if kind not in DEFAULT_DESTINATIONS:
        choices = ", ".join(TERMINAL_TYPES + tuple(f"{name}:PATH" for name in DEFAULT_DESTINATIONS))
        raise argparse.ArgumentTypeError(f"unknown report type {kind!r}; choose from {choices}")
    return ReportSpec(kind, destination or DEFAULT_DESTINATIONS[kind])


def _writers() -> dict[str, Callable]:
    from .html import write_html
    from .json_report import write_json
    from .markdown import write_markdown
    from .sarif import write_sarif

    writers: dict[str, Callable] = {"json": write_json, "sarif": write_sarif, "md": write_markdown, "html": write_html}
    return writers


def write_reports(state, specs: list[ReportSpec]) -> None:
    writers = _writers()
    for spec in specs:
        if spec.type in TERMINAL_TYPES:
            continue
        writer = writers.get(spec.type)
        if writer is None:
            continue
        destination = Path(spec.destination)
        if destination.parent and not destination.parent.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
        writer(state, destination)
