"""The run report: everything the outputs say about a run, frozen, built once at session end.

The controller gathers what the items' test reports carried back (findings, file
facts, coverage summaries), matches the findings against the baseline, and builds
one `RunReport`. Every writer (terminal, JSON, Markdown, HTML, SARIF, GitHub) is a
pure function of it, as syrupy's writers are of its `SnapshotReport`: no writer
sees the pytest config or the mutable run state, and each can be tested with a
report made by hand. Nothing here imports pytest.
"""

from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass, field
from typing import Iterable

from ..baseline import Entry
from ..findings import Finding, FindingCounts, sort_key

SUBGROUPS_SUFFIX = "::subgroups"
LABELS_SUFFIX = "::labels"
VERSIONS_SUFFIX = "::versions"


@dataclass(frozen=True)
class Coverage:
    required: int
    met: int

    @property
    def percent(self) -> float:
        """Met cells in percent, rounded *down* to one decimal (99.96 is not 100.0);
        100.0 when nothing is required."""
        if not self.required:
            return 100.0
        return math.floor(self.met * 1000 / self.required) / 10

    def text(self) -> str:
        if not self.required:
            return "subgroup coverage: no minimums are configured, so no cell is required (see min_per_label, min_per_subgroup)"
        return f"subgroup coverage: {self.percent:.1f}% of required cells met ({self.met} of {self.required})"

    def to_dict(self) -> dict:
        return {"required": self.required, "met": self.met, "percent": self.percent}


@dataclass(frozen=True)
class GateSummary:
    """What the CI gates concluded: strict mode and the baseline's verdict."""

    strict: bool = False
    #: The baseline file, relative to the rootdir, when one is used.
    baseline_path: str | None = None
    #: Whether findings were matched against a baseline (or one was being written).
    with_baseline: bool = False
    #: (entries, added, removed) when the baseline was rewritten.
    updated: tuple[int, int, int] | None = None
    #: Positions (in `RunReport.findings`) of the findings the baseline accepts.
    accepted: frozenset[int] = frozenset()
    #: Baseline entries whose findings are gone (with the unmatched count).
    stale: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class RuleGroup:
    """The findings of one rule at one severity in one dataset: a count and an example."""

    rule: str
    name: str
    severity: str
    findings: tuple[Finding, ...]

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def example(self) -> Finding:
        return self.findings[0]


@dataclass(frozen=True)
class DatasetView:
    """One dataset directory as the summaries show it: its files, task and findings by rule."""

    #: The directory, relative to the rootdir ("." for the rootdir itself).
    directory: str
    files: tuple[str, ...]
    examples: int
    #: What the dataset teaches and why (`tasks.detect_task`), when its files say so.
    task: str | None
    task_reason: str | None
    #: Rule groups, errors first, then the most frequent, then by rule code.
    groups: tuple[RuleGroup, ...]

    @property
    def errors(self) -> int:
        return sum(group.count for group in self.groups if group.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(group.count for group in self.groups if group.severity != "error")

    @property
    def title(self) -> str:
        return "./" if self.directory in ("", ".") else f"{self.directory}/"

    def task_text(self) -> str | None:
        """`task: classification (a label is configured)`."""
        if not self.task:
            return None
        return f"task: {self.task}" + (f" ({self.task_reason})" if self.task_reason else "")


def _severity_rank(severity: str) -> int:
    return 0 if severity == "error" else 1


@dataclass(frozen=True)
class RunReport:
    """One run, as every output reports it."""

    #: The pytest rootdir (finding paths are relative to it).
    rootdir: str
    #: Every finding of the run, deduplicated, in `findings.sort_key` order.
    findings: tuple[Finding, ...] = ()
    #: The `files[]` entries of the JSON report, by path.
    files: tuple[dict, ...] = ()
    #: (dataset node id, coverage summary) of every dataset with a subgroups table, by dataset path.
    coverage: tuple[tuple[str, dict], ...] = ()
    #: (dataset node id, labels summary) of every dataset whose labels were modelled:
    #: the label pairs the data confuses.
    confusions: tuple[tuple[str, dict], ...] = ()
    #: (dataset node id, versions summary) of every dataset compared with (or given) a lock:
    #: per split, examples added, removed, changed, moved in and out since the lock.
    versions: tuple[tuple[str, dict], ...] = ()
    gate: GateSummary = field(default_factory=GateSummary)
    #: pytest's -v level: -v lists every finding.
    verbose: int = 0

    def __post_init__(self) -> None:
        # Findings are compared by identity: two equal findings at two places are two.
        object.__setattr__(self, "_position", {id(f): index for index, f in enumerate(self.findings)})

    @classmethod
    def build(
        cls,
        *,
        rootdir: str,
        findings: Iterable[Finding],
        files: Iterable[dict],
        summaries: dict[str, dict],
        gate: GateSummary | None = None,
        accepted: Iterable[Finding] = (),
        verbose: int = 0,
    ) -> "RunReport":
        """The report of gathered data: findings deduplicated (an item reported twice, or
        the same finding from two items) and every collection put in a stable order, so a
        run under `-n 2` reports exactly what a serial run does."""
        seen: set[tuple] = set()
        ordered: list[Finding] = []
        for finding in sorted(findings, key=sort_key):
            marker = (finding.rule, finding.path, finding.line, finding.message)
            if marker not in seen:
                seen.add(marker)
                ordered.append(finding)
        accepted_markers = {(f.rule, f.path, f.line, f.message, f.key) for f in accepted}
        positions = frozenset(
            index for index, f in enumerate(ordered) if (f.rule, f.path, f.line, f.message, f.key) in accepted_markers
        )
        coverage = sorted(
            ((key[: -len(SUBGROUPS_SUFFIX)], summary) for key, summary in summaries.items()
             if key.endswith(SUBGROUPS_SUFFIX) and summary),
            key=lambda item: (item[1].get("dataset", ""), item[0]),
        )
        confusions = sorted(
            ((key[: -len(LABELS_SUFFIX)], summary) for key, summary in summaries.items()
             if key.endswith(LABELS_SUFFIX) and summary and summary.get("confused_pairs")),
            key=lambda item: (item[1].get("dataset", ""), item[0]),
        )
        versions = sorted(
            ((key[: -len(VERSIONS_SUFFIX)], summary) for key, summary in summaries.items()
             if key.endswith(VERSIONS_SUFFIX) and summary),
            key=lambda item: (item[1].get("dataset", ""), item[0]),
        )
        by_path = {info["path"]: info for info in files}
        gate = gate or GateSummary()
        return cls(
            rootdir=rootdir,
            findings=tuple(ordered),
            files=tuple(by_path[path] for path in sorted(by_path)),
            coverage=tuple(coverage),
            confusions=tuple(confusions),
            versions=tuple(versions),
            gate=GateSummary(
                strict=gate.strict, baseline_path=gate.baseline_path, with_baseline=gate.with_baseline,
                updated=gate.updated, accepted=positions, stale=gate.stale,
            ),
            verbose=verbose,
        )

    # -- derived facts every writer needs -------------------------------------------------------

    @property
    def counts(self) -> FindingCounts:
        counts = FindingCounts()
        for finding in self.findings:
            counts.add(finding)
        return counts

    @property
    def examples(self) -> int:
        return sum(info.get("examples", 0) for info in self.files)

    def is_accepted(self, finding: Finding) -> bool:
        """Whether the baseline accepts `finding` (one of `findings`)."""
        if self.gate.updated is not None:
            return True
        return self._position.get(id(finding)) in self.gate.accepted

    def new_findings(self) -> list[Finding]:
        """The findings the baseline does not accept (all of them without a baseline)."""
        if self.gate.updated is not None:
            return []
        return [f for index, f in enumerate(self.findings) if index not in self.gate.accepted]

    def fails(self, finding: Finding) -> bool:
        """Whether `finding` fails the run when it is new (errors; warnings when strict)."""
        return finding.severity == "error" or self.gate.strict

    def total_coverage(self) -> Coverage | None:
        """Coverage over every dataset of the run; None when no subgroups item reported."""
        if not self.coverage:
            return None
        return Coverage(
            required=sum(summary["required"] for _, summary in self.coverage),
            met=sum(summary["met"] for _, summary in self.coverage),
        )

    def dataset_members(self, directory: str) -> list[str]:
        """The data files of the dataset in `directory`, by path."""
        directory = directory.rstrip("/") or "."
        return sorted(info["path"] for info in self.files if (posixpath.dirname(info["path"]) or ".") == directory)

    def file_paths(self) -> set[str]:
        return {info["path"] for info in self.files}

    def dataset_of(self, path: str) -> str:
        """The dataset directory a finding's path belongs to: a directory path (ending in
        `/`) is one, a file belongs to its directory."""
        if path.endswith("/"):
            return path.rstrip("/") or "."
        if path in self.file_paths() or "." in posixpath.basename(path):
            return posixpath.dirname(path) or "."
        return path or "."

    def datasets(self, findings: Iterable[Finding] | None = None) -> list[DatasetView]:
        """Every dataset of the run with `findings` (all of them by default) grouped by
        rule: datasets with errors first, then those with warnings, then the clean ones,
        each group by path."""
        chosen = self.findings if findings is None else tuple(findings)
        directories: dict[str, list[dict]] = {}
        for info in self.files:
            directories.setdefault(posixpath.dirname(info["path"]) or ".", []).append(info)
        by_dataset: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        for finding in chosen:
            directory = self.dataset_of(finding.path)
            directories.setdefault(directory, [])
            by_dataset.setdefault(directory, {}).setdefault((finding.rule, finding.severity), []).append(finding)
        views = []
        for directory, infos in directories.items():
            groups = [
                RuleGroup(rule, found[0].name, severity, tuple(found))
                for (rule, severity), found in by_dataset.get(directory, {}).items()
            ]
            groups.sort(key=lambda g: (_severity_rank(g.severity), -g.count, g.rule))
            # The task is decided per directory: every file of it carries the same.
            tasked = next((info for info in infos if info.get("task")), {})
            views.append(
                DatasetView(
                    directory=directory,
                    files=tuple(sorted(info["path"] for info in infos)),
                    examples=sum(info.get("examples", 0) for info in infos),
                    task=tasked.get("task"),
                    task_reason=tasked.get("task_reason"),
                    groups=tuple(groups),
                )
            )
        views.sort(key=lambda v: (0 if v.errors else 1 if v.warnings else 2, v.directory))
        return views
