"""`--ftdata-report md:PATH`: a Markdown summary for a CI job page.

`render_markdown(report)` returns GitHub-flavoured Markdown (it can be appended to
`$GITHUB_STEP_SUMMARY` as is): the finding counts per rule, the first errors, and
the subgroup coverage tables, long ones folded in `<details>`. Every value that
comes from the data is already redacted in the gathered summaries; here it is also
escaped so that a label cannot break the table or inject markup.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from tabulate import tabulate

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
from .versions import HEADERS as VERSION_HEADERS, versions_rows, versions_title
from .model import RunReport

#: Dimensions with more rows than this are folded.
FOLD_ROWS = 25
#: Errors listed before "and N more".
MAX_ERRORS = 20


def _cell(value) -> str:
    text = html.escape(str(value), quote=False).replace("|", "\\|")
    return re.sub(r"[\r\n]+", " ", text)


def _status(value: str) -> str:
    return f"**{value}**" if value in ("LOW", "MISSING") else value


def _table(summary: dict, dimension: dict) -> str:
    splits = summary["splits"]
    body = table_rows(dimension, splits) + [total_row(summary, dimension)]
    cells = []
    for row in body:
        row = [_cell(value) for value in row]
        row[-1] = _status(row[-1])
        cells.append(row)
    cells[-1] = [f"**{value}**" if value not in ("", "-") else value for value in cells[-1]]
    align = ["left"] + ["right"] * (len(splits) + 3) + ["left"]
    return tabulate(cells, headers=headers(splits), tablefmt="pipe", colalign=align, disable_numparse=True)


def _keys_table(summary: dict) -> str:
    """The key table of an extraction dataset, folded when long."""
    splits = summary["splits"]
    # `phone *`: an asterisk would start emphasis
    cells = [[_cell(value).replace("*", "\\*") for value in row] for row in keys_rows(summary)]
    for row in cells:
        row[-1] = _status(row[-1])
    align = ["left"] + ["right"] * len(splits) + ["left"]
    table = tabulate(cells, headers=keys_headers(splits), tablefmt="pipe", colalign=align, disable_numparse=True)
    title = _cell(keys_title(summary["keys"]))
    notes = f"_{_cell(KEYS_NOTE)}; {_cell(KEYS_LEGEND)}_".replace("*", "\\*")
    if len(cells) > FOLD_ROWS:
        return "\n".join([f"<details><summary>{title}</summary>", "", notes, "", table, "", "</details>"])
    return "\n".join([f"**{title}**", "", notes, "", table])


def _fence(lines: list[str]) -> str:
    # A run of backticks inside a message must not close the fence.
    safe = [re.sub(r"`{3,}", lambda m: "'" * len(m.group()), line) for line in lines]
    return "\n".join(["```text", *safe, "```"])


def render_markdown(report: RunReport) -> str:
    findings = report.findings
    counts = report.counts
    files = len(report.files)
    examples = report.examples
    out = ["## pytest-ftdata", ""]
    line = (
        f"**{examples}** examples in **{files}** file{'s' if files != 1 else ''}: "
        f"**{counts.errors}** error{'s' if counts.errors != 1 else ''}, "
        f"**{counts.warnings}** warning{'s' if counts.warnings != 1 else ''}."
    )
    coverage = report.total_coverage()
    if coverage is not None:
        line += f" {coverage.text()[0].upper()}{coverage.text()[1:]}."
    out += [line, ""]

    if counts.by_rule:
        names = {finding.rule: (finding.name, finding.severity) for finding in findings}
        rows = [
            [f"`{code}`", names[code][0], names[code][1], count] for code, count in sorted(counts.by_rule.items())
        ]
        out += ["### Findings by rule", "", tabulate(rows, headers=["rule", "name", "severity", "count"],
                                                      tablefmt="github", disable_numparse=True), ""]
        errors = [finding for finding in findings if finding.severity == "error"]
        if errors:
            shown = [re.sub(r"[\r\n]+", " ", finding.render()) for finding in errors[:MAX_ERRORS]]
            if len(errors) > MAX_ERRORS:
                shown.append(f"... and {len(errors) - MAX_ERRORS} more errors")
            out += [f"<details><summary>{len(errors)} error{'s' if len(errors) != 1 else ''}</summary>", "",
                    _fence(shown), "", "</details>", ""]

    for _, summary in report.confusions:
        rows = [[_cell(p["a"]), _cell(p["b"]), p["confusions"]] for p in summary["confused_pairs"]]
        out += [f"### Label pairs the data confuses: `{dataset_title(summary)}`", "",
                tabulate(rows, headers=["label", "label", "confusions"], tablefmt="github", disable_numparse=True), ""]
    for _, summary in report.versions:
        out += [f"### Dataset versions: `{_cell(versions_title(summary))}`", ""]
        rows = versions_rows(summary)
        if rows:
            out += [tabulate(rows, headers=VERSION_HEADERS, tablefmt="github", disable_numparse=True), ""]
    for _, summary in report.coverage:
        out += [f"### Subgroup coverage: `{dataset_title(summary)}`", ""]
        if has_copies(summary):
            out += [f"_{EFFECTIVE_NOTE}_", ""]
        singles = []
        for dimension in summary["dimensions"]:
            single = single_subgroup_line(dimension)
            if single is not None:
                singles.append(f"- {_cell(single)}")
                continue
            title = f"{_cell(dimension_title(dimension))}: {dimension_note(dimension)}"
            table = _table(summary, dimension)
            short = sum(1 for row in dimension["rows"] if row.get("status") in ("LOW", "MISSING"))
            if len(dimension["rows"]) > FOLD_ROWS:
                flag = f" ({short} under the minimum)" if short else ""
                out += [f"<details><summary>{title}{flag}</summary>", "", table, "", "</details>", ""]
            else:
                out += [f"**{title}**", "", table, ""]
        if singles:
            out += [*singles, ""]
        if summary.get("keys"):
            out += [_keys_table(summary), ""]
    return "\n".join(out).rstrip() + "\n"


def write_markdown(report: RunReport, destination: Path) -> None:
    destination.write_text(render_markdown(report), encoding="utf-8")
