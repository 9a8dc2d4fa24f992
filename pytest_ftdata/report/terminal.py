"""The end-of-run terminal section: finding counts, warnings, and the coverage tables.

Printed by the controller only (the single process of a serial run), from the data
the items' test reports carried back, so `-n 2` prints it once and identically.
`render_coverage()` is pure: it returns the lines, the terminal reporter prints them.
"""

from __future__ import annotations

from pathlib import Path

import tabulate as tabulate_module
from tabulate import tabulate

from ..findings import FindingCounts
from ..render import render_findings
from ..redact import display
from .coverage import (
    coverage_summaries,
    dataset_title,
    dimension_note,
    dimension_title,
    headers,
    single_subgroup_line,
    table_rows,
    total_coverage,
    total_row,
)

DEFAULT_WIDTH = 80
#: The subgroup column is never cut below this many characters.
MIN_SUBGROUP_WIDTH = 12


def _table(rows: list[list], splits: list[str], width: int) -> list[str]:
    """The tabulate table, made to fit `width`: first shorter headers, then shorter
    subgroup names (an ellipsis marks a cut)."""
    count_columns = len(splits) + 1
    align = ["left"] + ["right"] * (count_columns + 1) + ["right", "left"]

    def render(body: list[list], compact: bool) -> list[str]:
        # tabulate pads every header by MIN_PADDING (2) on top of the column gap;
        # eight columns of that would cost the subgroup names 16 characters.
        saved = tabulate_module.MIN_PADDING
        tabulate_module.MIN_PADDING = 0
        try:
            text = tabulate(body, headers=headers(splits, compact), colalign=align, disable_numparse=True)
        finally:
            tabulate_module.MIN_PADDING = saved
        return text.splitlines()

    body = [[str(cell) for cell in row] for row in rows]
    lines = render(body, compact=False)
    if max(map(len, lines)) <= width:
        return lines
    lines = render(body, compact=True)
    excess = max(map(len, lines)) - width
    if excess <= 0:
        return lines
    longest = max(len(row[0]) for row in body)
    limit = max(MIN_SUBGROUP_WIDTH, longest - excess)
    cut = [[display(row[0], limit), *row[1:]] for row in body]
    return render(cut, compact=True)


def render_coverage(state, width: int = DEFAULT_WIDTH, missing_only: bool = False) -> list[str]:
    """The coverage section as lines: per dataset, one table per dimension, then the
    total line. `missing_only` keeps the rows under their minimum (`term-missing`)."""
    summaries = coverage_summaries(state)
    if not summaries:
        return []
    lines: list[str] = []
    for _, summary in summaries:
        splits = summary["splits"]
        lines.append(f" subgroup coverage: {dataset_title(summary)} ".center(width, "-"))
        shown = 0
        single_block = False
        for dimension in summary["dimensions"]:
            rows = table_rows(dimension, splits, missing_only=missing_only)
            if missing_only and not rows:
                continue
            shown += 1
            single = single_subgroup_line(dimension)
            if single is not None:
                # consecutive one-line dimensions form one block
                if lines and lines[-1] == "" and single_block:
                    lines.pop()
                lines.extend([single, ""])
                single_block = True
                continue
            single_block = False
            lines.append(f"{dimension_title(dimension)}: {dimension_note(dimension)}")
            lines.extend(_table(rows + [total_row(summary, dimension)], splits, width))
            lines.append("")
        if missing_only and not shown:
            lines.append("every required subgroup cell is met")
            lines.append("")
    coverage = total_coverage(state)
    lines.append(coverage.text())
    return lines


def fail_under_line(state, fail_under: float) -> tuple[str, bool]:
    """pytest-cov's wording: `(message, failed)`."""
    coverage = total_coverage(state)
    if coverage is None:
        return (
            f"FAIL Required subgroup coverage of {fail_under:g}% not measured: no ::subgroups item ran.",
            True,
        )
    if coverage.percent < fail_under:
        return (
            f"FAIL Required subgroup coverage of {fail_under:g}% not reached. "
            f"Total subgroup coverage: {coverage.percent:.1f}%",
            True,
        )
    return (
        f"Required subgroup coverage of {fail_under:g}% reached. Total subgroup coverage: {coverage.percent:.1f}%",
        False,
    )


def _width(terminalreporter) -> int:
    writer = getattr(terminalreporter, "_tw", None)
    width = getattr(writer, "fullwidth", None)
    return width if isinstance(width, int) and width > 20 else DEFAULT_WIDTH


def write_terminal_summary(terminalreporter, state, specs, fail_under: float | None = None) -> None:
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
    # Warnings the baseline accepts are not listed again (see the gate lines below).
    outcome = getattr(state, "gate_outcome", None)
    warnings = [f for f in findings if f.severity == "warning" and not (outcome and outcome.is_accepted(f))]
    if warnings:
        tr.write_line("")
        if state.gate.strict:
            tr.write_line("warnings (they fail the run under --ftdata-strict):", yellow=True)
        else:
            tr.write_line("warnings (they do not fail the run):", yellow=True)
        for line in render_findings(warnings, verbose=state.verbose):
            tr.write_line(line)
    from ..gates import gate_summary_lines

    for text, markup in gate_summary_lines(state):
        tr.write_line(text, **markup)

    kinds = {spec.type for spec in specs}
    if total_coverage(state) is not None:
        tr.write_line("")
        if kinds & {"term", "term-missing"}:
            missing_only = "term-missing" in kinds and "term" not in kinds
            for line in render_coverage(state, _width(tr), missing_only=missing_only):
                markup = {}
                if line.endswith(" MISSING"):
                    markup = {"red": True}
                elif line.endswith(" LOW"):
                    markup = {"yellow": True}
                tr.write_line(line, **markup)
        else:
            tr.write_line(total_coverage(state).text())
    for spec in specs:
        if spec.destination is not None and Path(spec.destination).is_file():
            tr.write_line(f"pytest-ftdata {spec.type} report written to {spec.destination}")
    if fail_under is not None:
        message, failed = fail_under_line(state, fail_under)
        tr.write_line(message, red=failed, green=not failed, bold=failed)
