"""Rendering findings as text: the linter-style failure of an item and summaries."""

from __future__ import annotations

from .findings import Finding, sort_key

#: Findings shown per failing item before "... and N more" (all of them with -v).
MAX_SHOWN = 20


#: Related locations listed per finding before "and N more".
MAX_RELATED = 8


def related_text(finding: Finding) -> str:
    """"also at a.jsonl:3, b.jsonl:9 and 4 more" ("" when nothing is related)."""
    if not finding.related:
        return ""
    shown = ", ".join(str(loc) for loc in finding.related[:MAX_RELATED])
    more = f" and {len(finding.related) - MAX_RELATED} more" if len(finding.related) > MAX_RELATED else ""
    return f"also at {shown}{more}"


def render_finding(finding: Finding, indent: str = "") -> list[str]:
    lines = [f"{indent}{finding.render()}"]
    if finding.excerpt:
        lines.append(f"{indent}    | {finding.excerpt}")
    if finding.related:
        lines.append(f"{indent}    = {related_text(finding)}")
    return lines


def render_findings(findings: list[Finding], verbose: int = 0, limit: int = MAX_SHOWN) -> list[str]:
    ordered = sorted(findings, key=sort_key)
    shown = ordered if verbose > 0 else ordered[:limit]
    lines: list[str] = []
    for finding in shown:
        lines.extend(render_finding(finding))
    hidden = len(ordered) - len(shown)
    if hidden:
        lines.append(f"... and {hidden} more (run with -v to see all)")
    return lines


def failure_title(family: str, errors: list[Finding], where: str) -> str:
    """`3 format errors in data/train.jsonl: target-not-json (2), mixed-formats (1).`"""
    counts: dict[str, int] = {}
    for finding in errors:
        counts[finding.name] = counts.get(finding.name, 0) + 1
    parts = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items(), key=lambda kv: -kv[1]))
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} {family} {noun} in {where}: {parts}."


def render_failure(title: str, findings: list[Finding], verbose: int = 0) -> str:
    """The failure text of an item: a one-sentence title, then linter lines."""
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity != "error"]
    lines = [title, ""]
    lines.extend(render_findings(errors, verbose))
    if warnings:
        lines.append("")
        lines.append(f"and {len(warnings)} warning{'s' if len(warnings) != 1 else ''}:")
        lines.extend(render_findings(warnings, verbose, limit=5))
    return "\n".join(lines)
