"""`--ftdata-report html:PATH`: one self-contained page, readable offline.

The page holds the finding counts, the findings, and per dataset the coverage
table of every subgroup dimension with a bar chart of its distribution per split,
and histograms of input and target lengths. Styles and charts are inline (CSS and
SVG); the page loads nothing from the network and runs no script. Every value is
HTML-escaped, and values from the data were redacted when the summary was built.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..findings import FindingCounts
from .coverage import (
    dataset_title,
    dimension_note,
    dimension_title,
    headers,
    histogram_labels,
    minimum_text,
    share_text,
    status_text,
)
from .versions import HEADERS as VERSION_HEADERS, versions_rows, versions_title
from .model import RunReport

SPLIT_COLORS = {"train": "#4c78a8", "validation": "#f58518", "test": "#54a24b", "other": "#9d755d"}
#: Findings listed in full on the page.
MAX_FINDINGS = 500
#: Dimensions with more rows than this start folded.
FOLD_ROWS = 200

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 24px auto; max-width: 1180px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 22px 0 4px; } .note { color: #59636e; margin: 0 0 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eaeef2; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; } td.name, th.name { text-align: left; max-width: 340px;
       overflow: hidden; text-overflow: ellipsis; } td.status { text-align: left; font-weight: 600; }
tr.total td { font-weight: 600; border-top: 2px solid #d0d7de; }
td.s-ok { color: #1a7f37; } td.s-LOW { color: #9a6700; background: #fff8c5; } td.s-MISSING { color: #cf222e; background: #ffebe9; }
td.bars { text-align: left; min-width: 220px; } .bar { height: 5px; margin: 1px 0; border-radius: 1px; }
.legend span { display: inline-block; margin-right: 14px; } .swatch { display: inline-block; width: 10px; height: 10px;
       margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
.meter { display: inline-block; width: 240px; height: 12px; background: #ffebe9; border-radius: 6px; overflow: hidden;
       vertical-align: -1px; margin-right: 8px; } .meter span { display: block; height: 100%; background: #2da44e; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } svg text { font: 10px system-ui, sans-serif; fill: #59636e; }
pre { background: #f6f8fa; padding: 8px 10px; overflow-x: auto; font-size: 12px; }
.error { color: #cf222e; } .warning { color: #9a6700; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _legend(splits: list[str], examples: dict) -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{SPLIT_COLORS[split]}"></i>{_e(split)} ({examples.get(split, 0)})</span>'
        for split in splits
    )
    return f'<p class="legend">{items}</p>'


def _bars(row: dict, splits: list[str], examples: dict, scale: float) -> str:
    """One thin bar per split: the row's share of that split, relative to the largest
    share in the dimension (so the longest bar fills the cell)."""
    parts = []
    for split in splits:
        total = examples.get(split, 0)
        share = row["counts"].get(split, 0) / total if total else 0.0
        width = 0.0 if not scale else 100.0 * share / scale
        parts.append(
            f'<div class="bar" title="{_e(split)}: {share:.1%}" '
            f'style="width:{width:.2f}%;background:{SPLIT_COLORS[split]}"></div>'
        )
    return "".join(parts)


def _dimension_table(summary: dict, dimension: dict) -> str:
    splits = summary["splits"]
    examples = summary["examples"]
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
    out = [f'<table><thead><tr>{head}<th class="name">distribution per split</th></tr></thead><tbody>']
    for row in dimension["rows"]:
        status = status_text(row)
        cells = [f'<td class="name" title="{_e(row["subgroup"])}">{_e(row["subgroup"])}</td>']
        cells += [f"<td>{row['counts'].get(split, 0)}</td>" for split in splits]
        cells += [f"<td>{row['total']}</td>", f"<td>{_e(share_text(row['share']))}</td>",
                  f"<td>{_e(minimum_text(row, splits))}</td>", f'<td class="status s-{_e(status)}">{_e(status)}</td>',
                  f'<td class="bars">{_bars(row, splits, examples, scale)}</td>']
        out.append(f"<tr>{''.join(cells)}</tr>")
    met = f"{dimension['met']}/{dimension['required']} met" if dimension["required"] else "-"
    total_cells = ['<td class="name">TOTAL</td>', *(f"<td>{examples.get(split, 0)}</td>" for split in splits),
                   f"<td>{sum(examples.values())}</td>", "<td>100%</td>", "<td></td>", f'<td class="status">{_e(met)}</td>',
                   "<td></td>"]
    out.append(f'<tr class="total">{"".join(total_cells)}</tr></tbody></table>')
    return "\n".join(out)


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


def _findings_section(findings, counts: FindingCounts) -> str:
    if not findings:
        return "<p>No findings.</p>"
    names = {finding.rule: (finding.name, finding.severity) for finding in findings}
    rows = "".join(
        f'<tr><td class="name"><code>{_e(code)}</code></td><td class="name">{_e(names[code][0])}</td>'
        f'<td class="name {names[code][1]}">{_e(names[code][1])}</td><td>{count}</td></tr>'
        for code, count in sorted(counts.by_rule.items())
    )
    table = (
        '<table><thead><tr><th class="name">rule</th><th class="name">name</th><th class="name">severity</th>'
        f"<th>count</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    shown = [_e(finding.render()) for finding in findings[:MAX_FINDINGS]]
    if len(findings) > MAX_FINDINGS:
        shown.append(f"... and {len(findings) - MAX_FINDINGS} more (see the JSON report)")
    listing = f"<details><summary>{len(findings)} findings</summary><pre>{chr(10).join(shown)}</pre></details>"
    return table + listing


def render_html(report: RunReport) -> str:
    findings = report.findings
    counts = report.counts
    files = len(report.files)
    examples = report.examples
    coverage = report.total_coverage()
    body = ["<h1>pytest-ftdata report</h1>",
            f'<p class="note">{examples} examples in {files} file{"s" if files != 1 else ""}: '
            f'<span class="error">{counts.errors} errors</span>, <span class="warning">{counts.warnings} warnings</span>.</p>']
    if coverage is not None:
        body.append(
            f'<p><span class="meter"><span style="width:{coverage.percent:.1f}%"></span></span>{_e(coverage.text())}</p>'
        )
    body += ["<h2>Findings</h2>", _findings_section(findings, counts)]
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
    for _, summary in report.coverage:
        splits = summary["splits"]
        body.append(f"<h2>Subgroup coverage: {_e(dataset_title(summary))}</h2>")
        body.append(_legend(splits, summary["examples"]))
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
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pytest-ftdata report</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_html(report: RunReport, destination: Path) -> None:
    destination.write_text(render_html(report), encoding="utf-8")
