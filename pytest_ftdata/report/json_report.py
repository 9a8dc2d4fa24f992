"""`--ftdata-report json:PATH`: the machine-readable report, a contract for CI tools.

Schema (version 1; fields are only ever added)::

    {"version": 1,
     "files": [{"path", "format", "split", "examples"}],
     "findings": [{"check", "rule", "name", "severity", "path", "line", "message",
                   "related": [{"path", "line"}], "excerpt"?, "key", "baseline"?}],
     "summary": {"errors", "warnings", "by_rule": {CODE: count}},
     "subgroups": {...}}

`subgroups` is present when a `::subgroups` item ran; it holds the coverage tables::

    "subgroups": {
      "coverage": {"required": 170, "met": 160, "percent": 94.1},
      "datasets": [{
        "nodeid": "data/dataset",            # the pytest node of the dataset
        "dataset": "data",                   # its directory, relative to the rootdir
        "splits": ["train", "validation", "test"],   # columns present ("other": no split)
        "examples": {"train": 800, "validation": 100, "test": 100},
        "effective_examples": {"train": 640, ...},   # near-duplicate clusters counted once; null when unknown
        "required": 40, "met": 38,
        "dimensions": [{
          "name": "label", "kind": "label", "source": "target:/intent",
          "settings": {...},                 # the minimums that applied
          "required": 30, "met": 28, "truncated": false,
          "rows": [{"subgroup": "billing",
                    "counts": {"train": 10, "validation": 2, "test": 0},
                    "effective": {"train": 4, ...}, "effective_total": 6,   # near-copies once; null when unknown
                    "total": 12, "share": 0.012,         # of all examples of the dataset
                    "minimum": {"train": 20, "validation": 1, "test": 1},   # required cells only
                    "status": "MISSING"}]             # "ok" | "LOW" | "MISSING" | null (no minimum)
        }],
        "histograms": {"input_chars": {"edges": [0, 1, 2, 4, ...],    # bin k is [edges[k], edges[k+1])
                                       "counts": {"train": [...], ...}},
                       "target_chars": {...}},
        "keys": {                            # extraction datasets only (`task`): top-level keys of JSON answers
          "max_keys": 200, "truncated": false,          # more keys than max_keys: the rest are not tracked
          "objects": {"train": 790, ...},               # answers that are JSON objects (the shares' base)
          "not_objects": {"train": 10, ...},
          "empty_answers": {"train": 12, ...},          # {} / null / [] / every key null or empty
          "empty_answer_status": "ok",                  # "ok" | "MISSING" | null ([tool.ftdata.extraction])
          "rows": [{"key": "phone",
                    "present": {"train": 700, ...}, "empty": {"train": 80, ...}, "absent": {"train": 10, ...},
                    "shares": {"train": {"present": 0.886, "empty": 0.101, "absent": 0.013}, ...},
                    "expected_empty": true,             # listed in expect_empty
                    "status": "ok"}]}                   # "ok" | "MISSING" | null (not listed)
      }]
    }

`check` of a finding is its family: `schema`, `format`, `pii`, `policy`, `length`,
`reasoning`, `duplicates`, `leakage`, `splits`, `labels`, `subgroups`, or a project's
own (see docs/coverage.md for `reasoning` and the coverage additions).

`key` is the finding's content key (the baseline's identity of it: stable when lines
move). `baseline` is present when a baseline is used: `"new"` or `"unchanged"`
(accepted by it), as SARIF's `baselineState`.

`labels` is present when a classification dataset's labels were modelled (the
suspect-label check, LBL012): per dataset, the label pairs the data confuses most::

    "labels": {"datasets": [{"nodeid": "data/dataset", "dataset": "data",
        "examples": 23700, "judged": 23700, "sampled": false,
        "confused_pairs": [{"a": "calories", "b": "nutrition_info", "confusions": 12,
                            "a_to_b": 7, "b_to_a": 5,
                            "counts": {"train": {"a": 100, "b": 100}, "test": {...}}}]}]}

`versions` is present when a dataset has a lock (`ftdata.lock`) or one was written
(`--ftdata-update-lock`): per dataset, what changed since the lock, split by split::

    "versions": {"datasets": [{"nodeid": "data/dataset", "dataset": "data",
        "lock": "data/ftdata.lock",
        "status": "compared",        # | "written" | "unwritten" | "unreadable" | "incomparable"
        "had_lock": true,            # false: written where there was none
        "splits": [{"split": "train", "examples": 802, "locked": 800,
                    "added": 0, "removed": 0, "changed": 1, "moved_in": 2, "moved_out": 0}]}]}

Findings of the `versions` check (VER001-VER007) are listed in `findings` as any other.

Each file of `files` also carries `task` and `task_reason`: what the dataset teaches
and why it was decided so (`tasks.detect_task`).

`kind` is `label`, `pointer` (a `[tool.ftdata.subgroups]` dimension) or the name of a
built-in dimension; subgroup values that could hold dataset text are redacted.
`coverage.percent` is rounded down to one decimal and is 100.0 when nothing is required.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..redact import redact_tree
from .model import RunReport

REPORT_VERSION = 1


def build_json_report(report: RunReport) -> dict:
    counts = report.counts
    data = {
        "version": REPORT_VERSION,
        "files": list(report.files),
        "findings": [_finding(report, finding) for finding in report.findings],
        "summary": {"errors": counts.errors, "warnings": counts.warnings, "by_rule": dict(sorted(counts.by_rule.items()))},
    }
    if report.confusions:
        data["labels"] = {"datasets": [{"nodeid": nodeid, **summary} for nodeid, summary in report.confusions]}
    if report.versions:
        data["versions"] = {"datasets": [{"nodeid": nodeid, **summary} for nodeid, summary in report.versions]}
    coverage = report.total_coverage()
    if coverage is not None:
        data["subgroups"] = {
            "coverage": coverage.to_dict(),
            "datasets": [{"nodeid": nodeid, **summary} for nodeid, summary in report.coverage],
        }
    # Summaries carry values of the data and of the config (declared subgroup values,
    # label names): one more pass of the masking over everything but locations.
    return redact_tree(data)


def _finding(report: RunReport, finding) -> dict:
    data = finding.to_dict()
    if report.gate.with_baseline:
        # As SARIF's baselineState: CI tools tell new problems from accepted ones.
        data["baseline"] = "unchanged" if report.is_accepted(finding) else "new"
    return data


def write_json(report: RunReport, destination: Path) -> None:
    destination.write_text(json.dumps(build_json_report(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
