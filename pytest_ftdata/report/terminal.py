"""The end-of-run terminal section: finding counts, warnings, and report tables."""

from __future__ import annotations

from ..findings import FindingCounts
from ..render import render_findings


def write_terminal_summary(terminalreporter, state, specs) -> None:
    findings = state.all_findings()
    if not state.findings:
        return
    counts = FindingCounts()
    for finding in findings:
        counts.add(finding)
    tr = terminalreporter
    tr.write_sep("=", "pytest-ftdata", bold=True)
    files = len(state.files)
    examples = sum(info.get("examples", 0) for info in state.files.values())
    tr.write_line(
        f"{examples} examples in {files} file{'s' if files != 1 else ''}: "
        f"{counts.errors} error{'s' if counts.errors != 1 else ''}, "
        f"{counts.warnings} warning{'s' if counts.warnings != 1 else ''}."
    )
    warnings = [f for f in findings if f.severity == "warning"]
    if warnings:
        tr.write_line("")
        tr.write_line("warnings (they do not fail the run):", yellow=True)
        for line in render_findings(warnings, verbose=state.verbose):
            tr.write_line(line)
