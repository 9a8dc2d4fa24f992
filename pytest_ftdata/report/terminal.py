"""The end-of-run terminal section: finding counts, warnings, and the coverage tables.

`render_summary(report, ...)` is pure: it returns (text, markup) lines made from the
`RunReport` alone; the controller prints them once, so `-n 2` prints what a serial
run prints. Nothing here imports pytest.
"""

from __future__ import annotations

from pathlib import Path

import tabulate as tabulate_module
from tabulate import tabulate

from ..redact import display
from ..render import render_findings
from .coverage import (
    EFFECTIVE_NOTE,
    dataset_title,
    dimension_note,
    dimension_title,
    has_copies,
    headers,
    KEYS_LEGEND,
    KEYS_NOTE,
    keys_headers,
    keys_rows,
    keys_title,
    single_subgroup_line,
    table_rows,
    total_row,
)
from .model import RunReport
from .versions import HEADERS as VERSION_HEADERS, versions_rows, versions_title

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


def _keys_lines(summary: dict, width: int, missing_only: bool) -> list[str]:
    """The key table of an extraction dataset (`summary["keys"]`), or nothing."""
    if not summary.get("keys"):
        return []
    rows = keys_rows(summary)
    if missing_only:
        rows = [row for row in rows if row[-1] == "MISSING"]
        if not rows:
            return []
    splits = summary["splits"]
    align = ["left"] + ["right"] * len(splits) + ["left"]
    longest = max(len(row[0]) for row in rows)
    other = sum(max(len(split), *(len(row[index + 1]) for row in rows)) + 2 for index, split in enumerate(splits)) + 9
    limit = max(MIN_SUBGROUP_WIDTH, width - other)
    if longest > limit:
        rows = [[display(row[0], limit), *row[1:]] for row in rows]
    table = tabulate(rows, headers=keys_headers(splits), colalign=align, disable_numparse=True)
    return [keys_title(summary["keys"]), KEYS_NOTE, *table.splitlines(), KEYS_LEGEND, ""]


def render_coverage(
    report: RunReport, width: int = DEFAULT_WIDTH, missing_only: bool = False, full: bool = True
) -> list[str]:
    """The coverage section as lines: per dataset, one table per dimension, then the
    total line. `missing_only` keeps the rows under their minimum (`term-missing`);
    without `full`, only dimensions with a minimum are shown (the compact default: a
    table nobody asked a minimum of is a reference, not a result)."""
    if not report.coverage:
        return []
    lines: list[str] = []
    for _, summary in report.coverage:
        if not full and not summary.get("required"):
            continue
        splits = summary["splits"]
        lines.append(f" subgroup coverage: {dataset_title(summary)} ".center(width, "-"))
        if has_copies(summary):
            lines.append(EFFECTIVE_NOTE)
        shown = 0
        single_block = False
        for dimension in summary["dimensions"]:
            if not full and not dimension["required"]:
                continue
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
        keys = _keys_lines(summary, width, missing_only or not full)  # compact: only the keys a finding names
        shown += bool(keys)
        lines.extend(keys)
        if missing_only and not shown:
            lines.append("every required subgroup cell is met")
            lines.append("")
    lines.append(report.total_coverage().text())
    return lines


def fail_under_line(report: RunReport, fail_under: float) -> tuple[str, bool]:
    """pytest-cov's wording: `(message, failed)`."""
    coverage = report.total_coverage()
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


def confusion_lines(report: RunReport, limit: int = 5) -> list[str]:
    """The label pairs the data confuses most, per dataset."""
    lines = []
    for _, summary in report.confusions:
        pairs = summary["confused_pairs"][:limit]
        shown = ", ".join(f"{p['a']} / {p['b']} ({p['confusions']})" for p in pairs)
        more = len(summary["confused_pairs"]) - len(pairs)
        lines.append(
            f"label pairs the data confuses in {dataset_title(summary)}: {shown}"
            + (f" and {more} more (JSON and HTML reports)" if more > 0 else "")
        )
    if lines:
        lines.insert(0, "")
    return lines


def version_lines(report: RunReport) -> list[str]:
    """Per dataset with a lock, the table of what changed since it, split by split."""
    lines: list[str] = []
    for _, summary in report.versions:
        lines += ["", f"dataset versions: {versions_title(summary)}"]
        rows = versions_rows(summary)
        if rows:
            lines += tabulate(rows, headers=VERSION_HEADERS, disable_numparse=True, colalign=["left"] + ["right"] * 7).splitlines()
    return lines


def gate_lines(report: RunReport) -> list[tuple[str, dict]]:
    """What the terminal summary says about the baseline and strict mode."""
    gate = report.gate
    lines: list[tuple[str, dict]] = []
    if gate.baseline_path is not None and gate.with_baseline:
        where = gate.baseline_path
        if gate.updated is not None:
            total, added, removed = gate.updated
            lines.append(
                (
                    f"Baseline {where} updated: it accepts {total} finding{'s' if total != 1 else ''} "
                    f"({added} added, {removed} removed).",
                    {"green": True},
                )
            )
        else:
            accepted = len(gate.accepted)
            new = len(report.findings) - accepted
            lines.append(
                (
                    f"Baseline {where}: {accepted} finding{'s' if accepted != 1 else ''} accepted, {new} new.",
                    {"yellow": True} if new else {"green": True},
                )
            )
            if gate.stale:
                count = sum(entry.count for entry in gate.stale)
                lines.append(
                    (
                        f"{count} baseline entr{'ies are' if count != 1 else 'y is'} stale (the findings are gone): "
                        "run with --ftdata-update-baseline to drop them.",
                        {"yellow": True},
                    )
                )
                for entry in gate.stale[:10]:
                    times = f" (x{entry.count})" if entry.count > 1 else ""
                    lines.append((f"    {entry.path}: {entry.rule} {entry.message or entry.key}{times}", {}))
                if len(gate.stale) > 10:
                    lines.append((f"    ... and {len(gate.stale) - 10} more.", {}))
    if gate.strict:
        lines.append(("Strict mode (--ftdata-strict): new warnings fail the run.", {}))
    if lines:
        lines.insert(0, ("", {}))
    return lines


def hidden_coverage(report: RunReport) -> int:
    """Dimensions the compact summary leaves out (those without a minimum)."""
    return sum(1 for _, summary in report.coverage for dimension in summary["dimensions"] if not dimension["required"])


def _fit(text: str, width: int, indent: str = "") -> str:
    """`indent` and `text` on one line of at most `width` characters (the text is
    redacted already; `display` cuts it safely and marks the cut)."""
    room = max(width - len(indent), 30)
    return indent + (text if len(text) <= room else display(text, room))


def dataset_lines(report: RunReport, width: int = DEFAULT_WIDTH) -> list[tuple[str, dict]]:
    """The compact summary: per dataset (problem datasets first) its task, and per rule
    (errors first) the count and one example. Findings a baseline accepts are left out."""
    shown = report.new_findings() if report.gate.with_baseline else list(report.findings)
    lines: list[tuple[str, dict]] = []
    for view in report.datasets(shown):
        files = len(view.files)
        counts = []
        if view.errors:
            counts.append(f"{view.errors} error{'s' if view.errors != 1 else ''}")
        if view.warnings:
            counts.append(f"{view.warnings} warning{'s' if view.warnings != 1 else ''}")
        state = ", ".join(counts) if counts else ("no new findings" if report.gate.with_baseline else "no findings")
        head = f"{view.title}: {view.examples} examples in {files} file{'s' if files != 1 else ''}, {state}"
        markup = {"red": True, "bold": True} if view.errors else {"yellow": True} if view.warnings else {"green": True}
        lines.append(("", {}))
        lines.append((_fit(head, width), markup))
        task = view.task_text()
        if task:
            lines.append((_fit(task, width, "  "), {}))
        for group in view.groups:
            # Two lines a rule: what and how many, with where the first one is; then
            # its message, cut to the width (the failure and the reports have it whole).
            example = group.example
            head = f"{group.severity:<7} {group.rule} {group.name}: {group.count}, e.g. {example.location}"
            lines.append((_fit(head, width, "  "), {"red": True} if group.severity == "error" else {"yellow": True}))
            lines.append((_fit(example.message, width, "          "), {}))
    return lines


def _warnings_note(report: RunReport) -> str:
    if report.gate.strict:
        return " (new warnings fail the run: --ftdata-strict)"
    return " (warnings do not fail the run)"


def render_summary(
    report: RunReport,
    kinds: set[str],
    *,
    width: int = DEFAULT_WIDTH,
    fail_under: float | None = None,
    written: list[tuple[str, str]] = (),
) -> list[tuple[str, dict]]:
    """The whole pytest-ftdata section of the terminal summary, as (text, markup) lines.

    `kinds` are the report types asked for (`term`, `term-missing`, `term-full`, ...);
    `written` the (type, destination) of the report files written. By default the
    section is compact (`dataset_lines` and the tables of dimensions with a minimum);
    `-v` or `term-full` adds every warning and every table."""
    if not report.findings and not report.files:
        return []
    full = "term-full" in kinds or report.verbose > 0
    counts = report.counts
    out: list[tuple[str, dict]] = [("", {"sep": "=", "title": "pytest-ftdata", "bold": True})]
    files = len(report.files)
    out.append(
        (
            f"{report.examples} examples in {files} file{'s' if files != 1 else ''}: "
            f"{counts.errors} error{'s' if counts.errors != 1 else ''}, "
            f"{counts.warnings} warning{'s' if counts.warnings != 1 else ''}"
            + (_warnings_note(report) if counts.warnings else "")
            + ".",
            {},
        )
    )
    out.extend(dataset_lines(report, width))
    # Warnings the baseline accepts are not listed again (see the gate lines below).
    warnings = [f for f in report.findings if f.severity == "warning" and not report.is_accepted(f)]
    if warnings and full:
        out.append(("", {}))
        if report.gate.strict:
            out.append(("warnings (they fail the run under --ftdata-strict):", {"yellow": True}))
        else:
            out.append(("warnings (they do not fail the run):", {"yellow": True}))
        out.extend((line, {}) for line in render_findings(warnings, verbose=1))
    out.extend(gate_lines(report))
    coverage = report.total_coverage()
    if coverage is not None:
        out.append(("", {}))
        if kinds & {"term", "term-missing", "term-full"}:
            missing_only = "term-missing" in kinds and not kinds & {"term", "term-full"}
            for line in render_coverage(report, width, missing_only=missing_only, full=full):
                markup = {}
                if line.endswith(" MISSING"):
                    markup = {"red": True}
                elif line.endswith(" LOW"):
                    markup = {"yellow": True}
                out.append((line, markup))
        else:
            out.append((coverage.text(), {}))
    if not full:
        hidden = []
        if warnings:
            hidden.append(f"all {len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
        tables = hidden_coverage(report) if kinds & {"term", "term-full"} else 0
        if tables:
            hidden.append(f"{tables} subgroup table{'s' if tables != 1 else ''} without a minimum")
        if hidden:
            out.append((f"-v or --ftdata-report term:full shows {' and '.join(hidden)}.", {}))
    for line in confusion_lines(report):
        out.append((line, {}))
    for line in version_lines(report):
        out.append((line, {}))
    for kind, destination in written:
        if kind == "lock":
            out.append((f"pytest-ftdata lock written to {destination}", {"green": True}))
        else:
            out.append((f"pytest-ftdata {kind} report written to {destination}", {}))
    if fail_under is not None:
        message, failed = fail_under_line(report, fail_under)
        out.append((message, {"red": failed, "green": not failed, "bold": failed}))
    return out
