"""`--ftdata-report html:PATH`: one self-contained page a reviewer works through, offline.

The page says first what is wrong: the verdict (coloured as it is: red with errors or
MISSING cells, amber with warnings or LOW cells, green only when all is well), then the
datasets with problems before the clean ones, and in each the findings grouped by rule,
errors first, with counts. Filters (severity, rule, file, split) narrow the findings
in place. Per dataset the coverage follows: every dimension the coverage model gives
(the built-in ones, `behaviour` among them, the label and `[tool.ftdata.subgroups]`)
as a table with bars on a square-root scale, so one dominant subgroup does not flatten
the rest, the examples left when near-copies count once drawn inside each bar, and
histograms of input and target lengths.

Styles, charts (CSS bars and SVG) and the one small filter script are inline: the page
loads nothing from the network. Every value is HTML-escaped, and values from the data
were redacted when the findings and summaries were built. Long messages wrap; nothing
is cut but the number of findings listed per rule (`MAX_PER_RULE`, the JSON report
has them all).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from .coverage import (
    EFFECTIVE_NOTE,
    count_text,
    dataset_title,
    dimension_note,
    dimension_title,
    has_copies,
    headers,
    histogram_labels,
    KEYS_LEGEND,
    KEYS_NOTE,
    keys_headers,
    keys_rows,
    keys_title,
    minimum_text,
    share_text,
    status_text,
)
from ..render import related_text
from .model import DatasetView, RunReport
from .versions import HEADERS as VERSION_HEADERS, versions_rows, versions_title

SPLIT_COLORS = {"train": "#4c78a8", "validation": "#f58518", "test": "#54a24b", "other": "#9d755d"}
#: The colour of each verdict: the meters, the dataset rows and the status cells use them.
VERDICT_COLORS = {"ok": "#2da44e", "low": "#d4a72c", "missing": "#cf222e"}
#: Findings listed per rule and dataset (the rest are counted; the JSON report has all).
MAX_PER_RULE = 200
#: A rule's errors start unfolded when there are at most this many.
OPEN_ERRORS = 25
#: Dimensions with more rows than this start folded.
FOLD_ROWS = 200

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 22px 0 4px; } .note { color: #59636e; margin: 0 0 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eaeef2; text-align: right; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
td.name, th.name { text-align: left; max-width: 360px; overflow-wrap: anywhere; } td.status { text-align: left; font-weight: 600; }
tr.total td { font-weight: 600; border-top: 2px solid #d0d7de; }
td.s-ok { color: #1a7f37; } td.s-LOW { color: #7d5e00; background: #fff8c5; } td.s-MISSING { color: #cf222e; background: #ffebe9; }
td.bars { text-align: left; min-width: 240px; } .bar { height: 6px; margin: 1px 0; border-radius: 1px; position: relative; }
.bar i { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 1px; }
.legend span { display: inline-block; margin-right: 14px; } .swatch { display: inline-block; width: 10px; height: 10px;
       margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
.meter { display: inline-block; width: 240px; height: 12px; background: #eaeef2; border-radius: 6px; overflow: hidden;
       vertical-align: -1px; margin-right: 8px; } .meter span { display: block; height: 100%; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } svg text { font: 10px system-ui, sans-serif; fill: #59636e; }
.error { color: #cf222e; } .warning { color: #7d5e00; } .clean { color: #1a7f37; }
tr.v-error td:first-child { border-left: 4px solid #cf222e; } tr.v-warning td:first-child { border-left: 4px solid #d4a72c; }
tr.v-clean td:first-child { border-left: 4px solid #2da44e; }
.filters { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #d0d7de; z-index: 1; }
.filters label { margin-right: 12px; } .filters select { max-width: 280px; }
details.rule { margin: 4px 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 2px 10px; }
details.rule > summary { cursor: pointer; font-weight: 600; } details.rule.sev-error { border-left: 4px solid #cf222e; }
details.rule.sev-warning { border-left: 4px solid #d4a72c; } .count { font-variant-numeric: tabular-nums; }
.finding { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 6px 0; padding: 4px 8px;
       background: #f6f8fa; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
.finding .loc { font-weight: 600; } .finding .excerpt, .finding .related { color: #59636e; display: block; }
.why { color: #59636e; font-weight: normal; }
"""

#: The filter script: hides the findings that do not match every chosen filter, then the
#: rules and datasets left empty, and counts what is shown; filters may also come from
#: the address's fragment (`#severity=error&rule=LEAK001`). No network, no storage.
SCRIPT = """
(function () {
  var selects = document.querySelectorAll("select[data-filter]");
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.getAttribute("data-filter")] = s.value; });
    var shown = 0;
    document.querySelectorAll(".finding").forEach(function (f) {
      var ok = Object.keys(want).every(function (k) { return !want[k] || f.getAttribute("data-" + k) === want[k]; });
      f.hidden = !ok;
      if (ok) { shown += 1; }
    });
    document.querySelectorAll("details.rule").forEach(function (g) {
      var n = g.querySelectorAll(".finding:not([hidden])").length;
      g.hidden = n === 0;
      g.querySelector(".shown").textContent = n;
    });
    document.querySelectorAll(".dataset-findings").forEach(function (d) {
      d.hidden = !d.querySelector("details.rule:not([hidden])");
    });
    document.getElementById("shown").textContent = shown;
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  // A link may carry filters: report.html#severity=error&rule=LEAK001
  var chosen = false;
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    var parts = pair.split("=");
    var select = document.querySelector('select[data-filter="' + decodeURIComponent(parts[0]) + '"]');
    if (select && parts.length === 2) { select.value = decodeURIComponent(parts[1]); chosen = true; }
  });
  if (chosen) { apply(); }
})();
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def verdict(summary_or_dimensions) -> str:
    """`ok`, `low` or `missing`: the worst status of the cells (a dataset's summary, or
    a list of them)."""
    summaries = summary_or_dimensions if isinstance(summary_or_dimensions, (list, tuple)) else [summary_or_dimensions]
    statuses = {
        row.get("status")
        for summary in summaries
        for dimension in summary["dimensions"]
        for row in dimension["rows"]
    }
    if "MISSING" in statuses:
        return "missing"
    if "LOW" in statuses:
        return "low"
    return "ok"


def _meter(percent: float, state: str) -> str:
    return (
        f'<span class="meter" title="{_e(state)}"><span style="width:{percent:.1f}%;'
        f'background:{VERDICT_COLORS[state]}"></span></span>'
    )


def _legend(splits: list[str], examples: dict) -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{SPLIT_COLORS[split]}"></i>{_e(split)} ({examples.get(split, 0)})</span>'
        for split in splits
    )
    return f'<p class="legend">{items}</p>'


def _bars(row: dict, splits: list[str], examples: dict, scale: float) -> str:
    """One thin bar per split: the row's share of that split on a square-root scale
    relative to the largest share in the dimension (so the longest bar fills the cell
    and a subgroup of 1% still shows); inside it, solid, the share left when near-copies
    count once, the pale rest being copies."""
    parts = []
    effective = row.get("effective") or {}
    for split in splits:
        total = examples.get(split, 0)
        count = row["counts"].get(split, 0)
        share = count / total if total else 0.0
        width = 100.0 * math.sqrt(share / scale) if scale else 0.0
        left = effective.get(split)
        inner = width
        tip = f"{split}: {count} of {total} ({share:.1%})"
        if left is not None and left < count and count:
            inner = width * math.sqrt(left / count)
            tip += f", {left} once near-copies count once"
        color = SPLIT_COLORS[split]
        parts.append(
            f'<div class="bar" title="{_e(tip)}" style="width:{width:.2f}%;background:{color}40">'
            f'<i style="width:{(100.0 * inner / width) if width else 0:.2f}%;background:{color}"></i></div>'
        )
    return "".join(parts)


def _dimension_table(summary: dict, dimension: dict) -> str:
    splits = summary["splits"]
    examples = summary["examples"]
    effective_examples = summary.get("effective_examples") or {}
    scale = 0.0
    for row in dimension["rows"]:
        for split in splits:
            if examples.get(split):
                scale = max(scale, row["counts"].get(split, 0) / examples[split])
    names = headers(splits)
    head = "".join(
        f'<th class="name">{_e(name)}</th>' if index in (0, len(names) - 1) else f"<th>{_e(name)}</th>"
        for index, name in enumerate(names)
    )
    out = [f'<table><thead><tr>{head}<th class="name">share of each split (square-root scale)</th></tr></thead><tbody>']
    for row in dimension["rows"]:
        status = status_text(row)
        effective = row.get("effective") or {}
        cells = [f'<td class="name">{_e(row["subgroup"])}</td>']
        cells += [f"<td>{_e(count_text(row['counts'].get(split, 0), effective.get(split)))}</td>" for split in splits]
        cells += [f"<td>{_e(count_text(row['total'], row.get('effective_total')))}</td>", f"<td>{_e(share_text(row['share']))}</td>",
                  f"<td>{_e(minimum_text(row, splits))}</td>", f'<td class="status s-{_e(status)}">{_e(status)}</td>',
                  f'<td class="bars">{_bars(row, splits, examples, scale)}</td>']
        out.append(f"<tr>{''.join(cells)}</tr>")
    met = f"{dimension['met']}/{dimension['required']} met" if dimension["required"] else "-"
    total_effective = sum(effective_examples.values()) if effective_examples else None
    total_cells = ['<td class="name">TOTAL</td>',
                   *(f"<td>{_e(count_text(examples.get(split, 0), effective_examples.get(split)))}</td>" for split in splits),
                   f"<td>{_e(count_text(sum(examples.values()), total_effective))}</td>", "<td>100%</td>", "<td></td>",
                   f'<td class="status">{_e(met)}</td>', "<td></td>"]
    out.append(f'<tr class="total">{"".join(total_cells)}</tr></tbody></table>')
    return "\n".join(out)


def _keys_table(summary: dict) -> str:
    """The key table of an extraction dataset (`summary["keys"]`): a plain table."""
    names = keys_headers(summary["splits"])
    head = "".join(f'<th class="name">{_e(name)}</th>' if index in (0, len(names) - 1) else f"<th>{_e(name)}</th>"
                   for index, name in enumerate(names))
    body = []
    for row in keys_rows(summary):
        cells = [f'<td class="name" title="{_e(row[0])}">{_e(row[0])}</td>', *(f"<td>{_e(cell)}</td>" for cell in row[1:-1]),
                 f'<td class="status s-{_e(row[-1])}">{_e(row[-1])}</td>']
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<h3>{_e(keys_title(summary["keys"]))}</h3><p class="note">{_e(KEYS_NOTE)}; {_e(KEYS_LEGEND)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _histogram_svg(title: str, histogram: dict, splits: list[str]) -> str:
    """Grouped columns per length bin; each split normalised to its own total."""
    edges = histogram.get("edges") or []
    counts = histogram.get("counts") or {}
    bins = max(len(edges) - 1, 0)
    width, height, left, bottom, top = 560, 210, 40, 34, 22
    plot_w, plot_h = width - left - 10, height - bottom - top
    shares = {}
    for split in splits:
        values = counts.get(split) or [0] * bins
        total = sum(values)
        shares[split] = [value / total if total else 0.0 for value in values]
    peak = max((max(values) for values in shares.values() if values), default=0.0) or 1.0
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
        f'<text x="{left}" y="14" style="font-weight:600;fill:#1f2328">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#d0d7de"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak:.0%}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0%</text>',
    ]
    if bins:
        group = plot_w / bins
        bar = min(24.0, max(1.0, (group - 4) / max(len(splits), 1)))
        labels = histogram_labels(edges)
        for index in range(bins):
            # bars of one bin are centred in the bin's slot
            x0 = left + index * group + (group - bar * len(splits)) / 2
            for offset, split in enumerate(splits):
                value = shares[split][index] if index < len(shares[split]) else 0.0
                h = plot_h * value / peak
                parts.append(
                    f'<rect x="{x0 + offset * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{SPLIT_COLORS[split]}"><title>{_e(split)} {_e(labels[index])} chars: '
                    f'{counts.get(split, [0] * bins)[index]} ({value:.1%})</title></rect>'
                )
            parts.append(
                f'<text x="{left + (index + 0.5) * group:.1f}" y="{top + plot_h + 13}" text-anchor="middle">{_e(labels[index])}</text>'
            )
        parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle">characters</text>')
    else:
        parts.append(f'<text x="{left + 10}" y="{top + plot_h / 2:.0f}">no examples</text>')
    parts.append("</svg>")
    return "".join(parts)


def _split_of(report: RunReport) -> dict[str, str]:
    return {info["path"]: info.get("split") or "" for info in report.files}


def _finding_html(finding, split: str) -> str:
    parts = [f'<span class="loc">{_e(finding.location)}</span> <b>{_e(finding.rule)}</b> {_e(finding.message)}']
    if finding.excerpt:
        parts.append(f'<span class="excerpt">| {_e(finding.excerpt)}</span>')
    if finding.related:
        parts.append(f'<span class="related">= {_e(related_text(finding))}</span>')
    return (
        f'<div class="finding" data-severity="{_e(finding.severity)}" data-rule="{_e(finding.rule)}" '
        f'data-file="{_e(finding.path)}" data-split="{_e(split)}">{"".join(parts)}</div>'
    )


def _filters(report: RunReport) -> str:
    splits = _split_of(report)
    options = {
        "severity": sorted({f.severity for f in report.findings}, key=lambda s: (s != "error", s)),
        "rule": sorted({f.rule for f in report.findings}),
        "file": sorted({f.path for f in report.findings}),
        "split": sorted({splits.get(f.path, "") for f in report.findings} - {""}),
    }
    fields = []
    for name, values in options.items():
        choices = "".join(f'<option value="{_e(value)}">{_e(value)}</option>' for value in values)
        fields.append(
            f'<label>{name} <select data-filter="{name}"><option value="">all</option>{choices}</select></label>'
        )
    listed = sum(min(group.count, MAX_PER_RULE) for view in report.datasets() for group in view.groups)
    return f'<div class="filters">{"".join(fields)} <span class="note"><b id="shown">{listed}</b> shown</span></div>'


def _dataset_findings(report: RunReport, view: DatasetView, splits: dict[str, str]) -> str:
    out = [f'<section class="dataset-findings"><h3>{_e(view.title)}</h3>']
    for group in view.groups:
        listed = group.findings[:MAX_PER_RULE]
        items = "".join(_finding_html(finding, splits.get(finding.path, "")) for finding in listed)
        if group.count > len(listed):
            items += f'<p class="note">... and {group.count - len(listed)} more (see the JSON report)</p>'
        # Short lists of errors start open; long ones, and warnings, start folded.
        open_ = group.severity == "error" and group.count <= OPEN_ERRORS
        accepted = sum(1 for finding in group.findings if report.is_accepted(finding)) if report.gate.with_baseline else 0
        baseline = f", {accepted} accepted by the baseline" if accepted else ""
        out.append(
            f'<details class="rule sev-{_e(group.severity)}"{" open" if open_ else ""}>'
            f'<summary><code>{_e(group.rule)}</code> {_e(group.name)} '
            f'<span class="{_e(group.severity)}">{_e(group.severity)}</span> '
            f'<span class="count"><span class="shown">{len(listed)}</span> of {group.count}</span>'
            f'<span class="why">{_e(baseline)}</span></summary>{items}</details>'
        )
    out.append("</section>")
    return "".join(out)


def _overview(report: RunReport, views: list[DatasetView]) -> str:
    coverage = {summary.get("dataset") or ".": summary for _, summary in report.coverage}
    rows = []
    for view in views:
        state = "error" if view.errors else "warning" if view.warnings else "clean"
        summary = coverage.get(view.directory)
        cover = "-"
        if summary is not None and summary.get("required"):
            percent = 100.0 * summary["met"] / summary["required"]
            cover = _meter(percent, verdict(summary)) + _e(f"{summary['met']} of {summary['required']} cells met")
        elif summary is not None:
            cover = "no minimum"
        task = _e(view.task or "-") + (f' <span class="why">({_e(view.task_reason)})</span>' if view.task_reason else "")
        rows.append(
            f'<tr class="v-{state}"><td class="name"><b>{_e(view.title)}</b></td><td class="name">{task}</td>'
            f"<td>{view.examples}</td><td>{len(view.files)}</td><td class=\"{'error' if view.errors else ''}\">{view.errors}</td>"
            f"<td class=\"{'warning' if view.warnings else ''}\">{view.warnings}</td><td class=\"name\">{cover}</td></tr>"
        )
    return (
        '<table><thead><tr><th class="name">dataset</th><th class="name">task</th><th>examples</th><th>files</th>'
        '<th>errors</th><th>warnings</th><th class="name">subgroup coverage</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
    )


def _by_rule(report: RunReport) -> str:
    """Counts per rule over the run, errors first."""
    counts: dict[tuple[str, str], list] = {}
    for finding in report.findings:
        entry = counts.setdefault((finding.rule, finding.severity), [finding.name, 0])
        entry[1] += 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][1] != "error", -item[1][1], item[0][0]))
    rows = "".join(
        f'<tr><td class="name"><code>{_e(rule)}</code></td><td class="name">{_e(name)}</td>'
        f'<td class="name {_e(severity)}">{_e(severity)}</td><td>{count}</td></tr>'
        for (rule, severity), (name, count) in ordered
    )
    return (
        '<table><thead><tr><th class="name">rule</th><th class="name">name</th><th class="name">severity</th>'
        f"<th>count</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _coverage_section(summary: dict) -> list[str]:
    splits = summary["splits"]
    state = verdict(summary)
    body = [f"<h2>Subgroup coverage: {_e(dataset_title(summary))}</h2>"]
    if summary.get("required"):
        percent = 100.0 * summary["met"] / summary["required"]
        body.append(f'<p>{_meter(percent, state)}{_e(summary["met"])} of {_e(summary["required"])} required cells met</p>')
    else:
        body.append('<p class="note">No minimums are configured here, so no cell is required (min_per_label, min_per_subgroup).</p>')
    body.append(_legend(splits, summary["examples"]))
    if has_copies(summary):
        body.append(f'<p class="note">{_e(EFFECTIVE_NOTE)}; in the bars, solid is what is left, pale the copies.</p>')
    charts = [
        _histogram_svg(f"{kind} length", summary.get("histograms", {}).get(f"{kind}_chars", {}), splits)
        for kind in ("input", "target")
    ]
    body.append(f'<h3>Length histograms (share of each split)</h3><div class="charts">{"".join(charts)}</div>')
    for dimension in summary["dimensions"]:
        title = f"<h3>{_e(dimension_title(dimension))}</h3><p class=\"note\">{_e(dimension_note(dimension))}</p>"
        table = _dimension_table(summary, dimension)
        if len(dimension["rows"]) > FOLD_ROWS:
            body.append(f"<details><summary>{title}</summary>{table}</details>")
        else:
            body.append(title + table)
    if summary.get("keys"):
        body.append(_keys_table(summary))
    return body


def render_html(report: RunReport) -> str:
    counts = report.counts
    files = len(report.files)
    coverage = report.total_coverage()
    views = report.datasets()
    splits = _split_of(report)
    body = ["<h1>pytest-ftdata report</h1>",
            f'<p class="note">{report.examples} examples in {_plural(files, "file")}: '
            f'<span class="error">{_plural(counts.errors, "error")}</span>, '
            f'<span class="warning">{_plural(counts.warnings, "warning")}</span>.</p>']
    if coverage is not None and coverage.required:
        state = verdict([summary for _, summary in report.coverage])
        body.append(f"<p>{_meter(coverage.percent, state)}{_e(coverage.text())}</p>")
    elif coverage is not None:
        body.append(f'<p class="note">{_e(coverage.text())}</p>')
    body += ["<h2>Datasets</h2>", _overview(report, views)]
    body.append("<h2>Findings</h2>")
    if report.findings:
        body.append(_by_rule(report))
        body.append(_filters(report))
        body.extend(_dataset_findings(report, view, splits) for view in views if view.groups)
    else:
        body.append("<p>No findings.</p>")
    for _, summary in report.confusions:
        rows = "".join(
            f'<tr><td class="name">{_e(p["a"])}</td><td class="name">{_e(p["b"])}</td><td>{p["confusions"]}</td></tr>'
            for p in summary["confused_pairs"]
        )
        body.append(
            f"<h2>Label pairs the data confuses: {_e(dataset_title(summary))}</h2>"
            '<table><thead><tr><th class="name">label</th><th class="name">label</th><th>confusions</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    for _, summary in report.versions:
        head = "".join(f"<th>{_e(h)}</th>" for h in VERSION_HEADERS)
        rows = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in versions_rows(summary))
        body.append(
            f"<h2>Dataset versions: {_e(versions_title(summary))}</h2>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        )
    # Coverage in the order of the datasets above: problem datasets first.
    order = {view.directory: index for index, view in enumerate(views)}
    for _, summary in sorted(report.coverage, key=lambda item: order.get(item[1].get("dataset") or ".", len(order))):
        body.extend(_coverage_section(summary))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pytest-ftdata report</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def write_html(report: RunReport, destination: Path) -> None:
    destination.write_text(render_html(report), encoding="utf-8")
