"""GitHub Actions outputs: annotations on the changed lines, and the job's step summary.

- Annotations (`::error file=...,line=...::message`) are printed at the end of the
  run when `GITHUB_ACTIONS=true`, for the findings the baseline does not accept,
  with paths relative to `GITHUB_WORKSPACE` (the checkout root) so GitHub can place
  them on the pull request diff.
- The markdown summary is appended to the file named by `$GITHUB_STEP_SUMMARY`.

Both carry only finding messages and excerpts, which checks already redact; they
pass through `redact()` once more as a last guard, since a CI page is public to
everyone who can read the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..findings import Finding, FindingCounts, sort_key
from ..redact import redact

#: GitHub shows at most 10 errors and 10 warnings per step and 50 per job; more
#: would be dropped silently, so the rest is summarised in one notice.
MAX_ANNOTATIONS = 50


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workspace_path(state, path: str, workspace: str | None) -> str:
    absolute = Path(path) if Path(path).is_absolute() else Path(state.rootdir) / path
    if workspace:
        try:
            relative = os.path.relpath(absolute, workspace)
        except ValueError:
            return absolute.as_posix()
        if not relative.startswith(".."):
            return Path(relative).as_posix()
    return Path(path).as_posix()


def _gated(state) -> tuple[list[Finding], int]:
    """(the findings worth annotating, how many the baseline accepts)."""
    findings = state.all_findings()
    outcome = getattr(state, "gate_outcome", None)
    if outcome is None:
        return findings, 0
    if outcome.updated is not None:
        return [], len(findings)
    new = [f for f in findings if not outcome.is_accepted(f)]
    return new, len(findings) - len(new)


def _fails(state, finding: Finding) -> bool:
    return finding.severity == "error" or state.gate.strict


def annotation(state, finding: Finding, workspace: str | None) -> str:
    level = "error" if _fails(state, finding) else "warning"
    properties = [f"file={_escape_property(_workspace_path(state, finding.path, workspace))}"]
    if finding.line:
        properties.append(f"line={finding.line}")
    properties.append(f"title={_escape_property(f'{finding.rule} {finding.name}')}")
    message = redact(finding.message)
    if finding.excerpt:
        message += f"\n{redact(finding.excerpt)}"
    return f"::{level} {','.join(properties)}::{_escape_data(message)}"


def annotations(state, workspace: str | None = None) -> list[str]:
    """Workflow commands for the new findings: errors first, then warnings."""
    findings, _ = _gated(state)
    ordered = sorted(findings, key=lambda f: (not _fails(state, f), *sort_key(f)))
    lines = [annotation(state, finding, workspace) for finding in ordered[:MAX_ANNOTATIONS]]
    hidden = len(ordered) - MAX_ANNOTATIONS
    if hidden > 0:
        lines.append(
            f"::notice title=pytest-ftdata::{hidden} more finding{'s are' if hidden != 1 else ' is'} not annotated; "
            "see the job log or the SARIF report for all of them."
        )
    return lines


# -- step summary -------------------------------------------------------------------------


def _cell(text: str) -> str:
    return redact(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def fallback_markdown(state) -> str:
    """A short summary used while `report.markdown` (the full tables) is not available."""
    findings, accepted = _gated(state)
    counts = FindingCounts()
    for finding in findings:
        counts.add(finding)
    files = len(state.files)
    examples = sum(info.get("examples", 0) for info in state.files.values())
    lines = [
        "## pytest-ftdata",
        "",
        f"{examples} examples in {files} file{'s' if files != 1 else ''}: "
        f"{counts.errors} error{'s' if counts.errors != 1 else ''}, "
        f"{counts.warnings} warning{'s' if counts.warnings != 1 else ''}.",
    ]
    if counts.by_rule:
        lines += ["", "| rule | findings |", "| --- | ---: |"]
        lines += [f"| {code} | {count} |" for code, count in sorted(counts.by_rule.items())]
        shown = sorted(findings, key=lambda f: (not _fails(state, f), *sort_key(f)))[:20]
        lines += ["", "| location | rule | message |", "| --- | --- | --- |"]
        lines += [f"| `{_cell(f.location)}` | {f.rule} | {_cell(f.message)} |" for f in shown]
        if len(findings) > len(shown):
            lines.append(f"\n{len(findings) - len(shown)} more in the job log.")
    return "\n".join(lines)


def gates_markdown(state) -> str:
    from ..gates import gate_summary_lines

    texts = [text.strip() for text, _ in gate_summary_lines(state) if text.strip()]
    return "\n".join(f"- {_cell(text)}" for text in texts)


def step_summary(state) -> str:
    try:
        from .markdown import render_markdown
    except ImportError:
        body = fallback_markdown(state)
    else:
        body = render_markdown(state)
    gates = gates_markdown(state)
    return f"{body.rstrip()}\n\n{gates}\n" if gates else f"{body.rstrip()}\n"


def write_step_summary(state, destination: Path) -> None:
    with open(destination, "a", encoding="utf-8") as handle:
        handle.write(step_summary(state) + "\n")
