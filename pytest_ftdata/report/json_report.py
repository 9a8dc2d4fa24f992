"""`--ftdata-report json:PATH`: the machine-readable report, a contract for CI tools.

Schema (version 1; fields are only ever added)::

    {"version": 1,
     "files": [{"path", "format", "split", "examples"}],
     "findings": [{"check", "rule", "name", "severity", "path", "line", "message",
                   "related": [{"path", "line"}], "excerpt"?, "key"?}],
     "summary": {"errors", "warnings", "by_rule": {CODE: count}},
     "subgroups": {...}}
"""

from __future__ import annotations

import json
from pathlib import Path

from ..findings import FindingCounts

REPORT_VERSION = 1


def build_json_report(state) -> dict:
    findings = state.all_findings()
    counts = FindingCounts()
    for finding in findings:
        counts.add(finding)
    report = {
        "version": REPORT_VERSION,
        "files": [state.files[path] for path in sorted(state.files)],
        "findings": [finding.to_dict() for finding in findings],
        "summary": {"errors": counts.errors, "warnings": counts.warnings, "by_rule": dict(sorted(counts.by_rule.items()))},
    }
    subgroups = {key: value for key, value in sorted(state.summaries.items()) if key.endswith("::subgroups")}
    if subgroups:
        report["subgroups"] = subgroups
    return report


def write_json(state, destination: Path) -> None:
    report = build_json_report(state)
    destination.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
