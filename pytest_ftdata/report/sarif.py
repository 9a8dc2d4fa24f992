"""`--ftdata-report sarif:PATH`: SARIF 2.1.0 for GitHub code scanning and other viewers.

One run, one result per finding. Every registered rule is a `reportingDescriptor`
(its one-paragraph documentation becomes the help text); a result's `level` is the
finding's effective severity (after `[tool.ftdata.rules]`). Locations are relative
to `%SRCROOT%`: the repository root (`GITHUB_WORKSPACE`) in GitHub Actions, else
pytest's rootdir. GitHub code scanning places alerts on a line of a file: a finding
about a whole file points at its line 1, one about a whole dataset at line 1 of the
dataset's first file (its message names the dataset). `partialFingerprints` carry the content key of the finding
(the baseline's key), so an alert follows its example when lines move, and with a
baseline each result has a `baselineState` (`new` or `unchanged`).

Messages and excerpts are the findings' own, which checks already redact; they
pass through `redact()` once more as a last guard.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

from ..baseline import full_sort_key
from ..findings import RULES, Finding
from ..redact import redact
from .model import RunReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "ftdataContentKey/v1"


def _tool_version() -> str:
    try:
        return version("pytest-ftdata")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
        return "0"


def _base(report: RunReport, workspace: str | None) -> Path:
    """The directory result URIs are relative to."""
    root = Path(report.rootdir).resolve()
    if workspace:
        base = Path(workspace).resolve()
        if base == root or base in root.parents:
            return base
    return root


def _uri(report: RunReport, path: str, base: Path) -> tuple[str, bool]:
    """(URI of a finding path, whether it is relative to the base)."""
    absolute = Path(path) if Path(path).is_absolute() else Path(report.rootdir) / path
    absolute = Path(os.path.abspath(absolute))
    try:
        relative = absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_uri(), False
    if absolute.is_dir():
        relative = relative.rstrip("/") + "/"
    return quote(relative, safe="/"), True


def _dataset_anchor(report: RunReport, path: str) -> str:
    """A finding about a whole dataset (its path is the directory) is shown on the
    dataset's first data file: code scanning places alerts in files, not folders."""
    members = report.dataset_members(path)
    return members[0] if members else path


def _location(report: RunReport, path: str, line: int | None, base: Path, files: set[str]) -> dict:
    if line is None and path not in files:
        path = _dataset_anchor(report, path)
    uri, relative = _uri(report, path, base)
    artifact: dict = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict = {"artifactLocation": artifact}
    if not uri.endswith("/"):
        physical["region"] = {"startLine": max(1, line or 1)}
    return {"physicalLocation": physical}


def _descriptor(code: str, finding: Finding | None) -> dict:
    registered = RULES.get(code)
    if registered is not None:
        summary = registered.summary
        doc = registered.doc or registered.summary
        descriptor = {
            "id": code,
            "name": registered.name,
            "shortDescription": {"text": summary},
            "fullDescription": {"text": doc},
            "help": {"text": doc},
            "defaultConfiguration": {"level": registered.severity},
            "properties": {"tags": ["ftdata", registered.check]},
        }
        return descriptor
    name = finding.name if finding is not None else code
    check = finding.check if finding is not None else "custom"
    return {
        "id": code,
        "name": name,
        "shortDescription": {"text": f"{name} ({check} check)."},
        "properties": {"tags": ["ftdata", check]},
    }


def build_sarif(report: RunReport, workspace: str | None = None) -> dict:
    """The SARIF log of `report`; `workspace` is the repository root (GITHUB_WORKSPACE)."""
    findings = sorted(report.findings, key=full_sort_key)
    files = report.file_paths()
    first_of_rule: dict[str, Finding] = {}
    for finding in findings:
        first_of_rule.setdefault(finding.rule, finding)
    codes = sorted(set(RULES) | set(first_of_rule))
    index = {code: number for number, code in enumerate(codes)}
    base = _base(report, workspace)

    results = []
    for finding in findings:
        message = redact(finding.message)
        result: dict = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": "error" if finding.severity == "error" else "warning",
            "message": {"text": message},
            "locations": [_location(report, finding.path, finding.line, base, files)],
        }
        if finding.key:
            result["partialFingerprints"] = {FINGERPRINT: f"{finding.rule}:{finding.key}"}
        if finding.related:
            result["relatedLocations"] = [
                {**_location(report, loc.path, loc.line, base, files), "id": number, "message": {"text": f"Also at {loc}."}}
                for number, loc in enumerate(finding.related, 1)
            ]
        if report.gate.with_baseline:
            result["baselineState"] = "unchanged" if report.is_accepted(finding) else "new"
        properties: dict = {"check": finding.check, "name": finding.name}
        if finding.excerpt:
            properties["excerpt"] = redact(finding.excerpt)
        result["properties"] = properties
        results.append(result)

    version = _tool_version()
    run = {
        "tool": {
            "driver": {
                "name": "pytest-ftdata",
                "version": version,
                "semanticVersion": version,
                "rules": [_descriptor(code, first_of_rule.get(code)) for code in codes],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def write_sarif(report: RunReport, destination: Path, workspace: str | None = None) -> None:
    destination.write_text(json.dumps(build_sarif(report, workspace), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
