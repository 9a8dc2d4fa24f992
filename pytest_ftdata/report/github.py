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

from ..findings import Finding, sort_key
from ..redact import redact
from .markdown import render_markdown
from .model import RunReport
from .terminal import gate_lines

#: GitHub shows at most 10 errors and 10 warnings per step and 50 per job; more
#: would be dropped silently, so the rest is summarised in one notice.
MAX_ANNOTATIONS = 50


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workspace_path(report: RunReport, path: str, workspace: str | None) -> str:
    absolute = Path(path) if Path(path).is_absolute() else Path(report.rootdir) / path
    if workspace:
        try:
            relative = os.path.relpath(absolute, workspace)
        except ValueError:
            return absolute.as_posix()
        if not relative.startswith(".."):
            return Path(relative).as_posix()
    return Path(path).as_posix()


def annotation(report: RunReport, finding: Finding, workspace: str | None) -> str:
    level = "error" if report.fails(finding) else "warning"
    properties = [f"file={_escape_property(_workspace_path(report, finding.path, workspace))}"]
    if finding.line:
        properties.append(f"line={finding.line}")
    properties.append(f"title={_escape_property(f'{finding.rule} {finding.name}')}")
    message = redact(finding.message)
    if finding.excerpt:
        message += f"\n{redact(finding.excerpt)}"
    return f"::{level} {','.join(properties)}::{_escape_data(message)}"


def annotations(report: RunReport, workspace: str | None = None) -> list[str]:
    """Workflow commands for the new findings: errors first, then warnings."""
    ordered = sorted(report.new_findings(), key=lambda f: (not report.fails(f), *sort_key(f)))
    lines = [annotation(report, finding, workspace) for finding in ordered[:MAX_ANNOTATIONS]]
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


def gates_markdown(report: RunReport) -> str:
    texts = [text.strip() for text, _ in gate_lines(report) if text.strip()]
    return "\n".join(f"- {_cell(text)}" for text in texts)


def step_summary(report: RunReport) -> str:
    body = render_markdown(report)
    gates = gates_markdown(report)
    return f"{body.rstrip()}\n\n{gates}\n" if gates else f"{body.rstrip()}\n"


def write_step_summary(report: RunReport, destination: Path) -> None:
    with open(destination, "a", encoding="utf-8") as handle:
        handle.write(step_summary(report) + "\n")
