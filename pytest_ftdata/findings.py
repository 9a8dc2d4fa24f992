"""Findings and the rules that produce them.

A *rule* is a stable code (family prefix plus number, as ruff does), a kebab-case
name, a default severity, the check family it belongs to and one paragraph of
documentation. The README rule table is generated from the rules registered here,
so the documentation lives next to the code that enforces it.

A *finding* is one occurrence of a rule at a place in a dataset. Findings are
plain frozen data: they cross xdist workers as dicts and feed every output (the
pytest item failure, the JSON report, the markdown summary, SARIF).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Literal

from .redact import redact

Severity = Literal["error", "warning"]

#: The check families, in the order their items are collected. These names are a
#: contract: they are the `check` values of the JSON report.
#: `duplicates` is dataset-level: a split may span several files, and it shares one
#: fingerprint index with `leakage` (checks/fingerprints.py).
FILE_FAMILIES = ("schema", "format", "pii", "policy", "length")
DATASET_FAMILIES = ("duplicates", "leakage", "splits", "labels", "subgroups")
FAMILIES = FILE_FAMILIES + DATASET_FAMILIES


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    check: str
    severity: Severity
    summary: str
    doc: str = ""

    def at(
        self,
        path: str,
        line: int | None,
        message: str,
        *,
        related: Iterable[tuple[str, int | None]] = (),
        excerpt: str | None = None,
        key: str | None = None,
    ) -> "Finding":
        """Make a finding of this rule at `path:line`."""
        return Finding(
            rule=self.code,
            name=self.name,
            check=self.check,
            severity=self.severity,
            path=path,
            line=line,
            message=message,
            related=tuple(Location(p, ln) for p, ln in related),
            excerpt=excerpt,
            key=key,
        )


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, check: str, severity: Severity, summary: str, doc: str = "") -> Rule:
    """Register a rule. Codes and names are unique and never reused."""
    if check not in FAMILIES and not check.startswith("custom"):
        raise ValueError(f"unknown check family {check!r} for rule {code}")
    registered = Rule(code, name, check, severity, summary, " ".join(doc.split()))
    # A module imported again (pytester's in-process runs drop the modules a run
    # imported; importlib.reload) re-registers the same rule: that is not a clash.
    if code in RULES and RULES[code] != registered:
        raise ValueError(f"rule code {code} is registered twice")
    RULES[code] = registered
    return registered


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    check: str
    severity: Severity
    path: str
    line: int | None
    message: str
    related: tuple[Location, ...] = ()
    #: A short, already redacted excerpt of the example, for humans.
    excerpt: str | None = None
    #: A content-derived key (hash of the examples involved), stable across line moves.
    key: str | None = None

    def __post_init__(self) -> None:
        # Every output (failure text, JUnit XML, reports, xdist transfer) is made from
        # findings, so masking personal data and secrets here keeps them out of all of
        # them, whichever check wrote the text. `redact` is idempotent and cheap on
        # text without trigger characters.
        object.__setattr__(self, "message", redact(self.message))
        if self.excerpt:
            object.__setattr__(self, "excerpt", redact(self.excerpt))

    @property
    def location(self) -> str:
        return str(Location(self.path, self.line))

    def with_severity(self, severity: Severity) -> "Finding":
        return replace(self, severity=severity)

    def to_dict(self) -> dict:
        data = {
            "check": self.check,
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "related": [{"path": loc.path, "line": loc.line} for loc in self.related],
        }
        if self.excerpt is not None:
            data["excerpt"] = self.excerpt
        if self.key is not None:
            data["key"] = self.key
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(
            rule=data["rule"],
            name=data["name"],
            check=data["check"],
            severity=data["severity"],
            path=data["path"],
            line=data["line"],
            message=data["message"],
            related=tuple(Location(r["path"], r["line"]) for r in data.get("related", ())),
            excerpt=data.get("excerpt"),
            key=data.get("key"),
        )

    def render(self) -> str:
        """`path:line: CODE message` — the linter line."""
        return f"{self.location}: {self.rule} {self.message}"


def sort_key(finding: Finding) -> tuple:
    return (finding.path, finding.line or 0, finding.rule, finding.message)


@dataclass
class FindingCounts:
    errors: int = 0
    warnings: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        if finding.severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        self.by_rule[finding.rule] = self.by_rule.get(finding.rule, 0) + 1


#: Findings of one rule kept one by one per file (or per dataset); the rest are counted.
MAX_LISTED = 1000
#: Lines the summary of the unlisted findings names in `related`.
MAX_UNLISTED_RELATED = 100


class FindingList:
    """The findings a family collects for one file, bounded in memory.

    A file of a million broken lines must not keep a million findings: the first
    `MAX_LISTED` of each rule are kept, the others only counted (with their first
    lines), and `finish()` adds one finding per rule that says how many were not
    listed. `room(rule)` lets a family skip building a finding (and its excerpt)
    that would not be kept.
    """

    def __init__(self, path: str, limit: int = MAX_LISTED) -> None:
        self.path = path
        self.limit = limit
        self._items: list[Finding] = []
        self._kept: dict[str, int] = {}
        self._unlisted: dict[str, tuple[Rule, list[int]]] = {}

    def room(self, rule: Rule, line: int | None = None) -> bool:
        """Whether a finding of `rule` would be kept; counts it as unlisted when not."""
        if self._kept.get(rule.code, 0) < self.limit:
            return True
        self._count_unlisted(rule, line)
        return False

    def _count_unlisted(self, rule: Rule, line: int | None) -> None:
        entry = self._unlisted.get(rule.code)
        if entry is None:
            entry = self._unlisted[rule.code] = (rule, [0])
        entry[1][0] += 1
        if line is not None and len(entry[1]) <= MAX_UNLISTED_RELATED:
            entry[1].append(line)

    def append(self, finding: Finding) -> None:
        kept = self._kept.get(finding.rule, 0)
        if kept < self.limit:
            self._kept[finding.rule] = kept + 1
            self._items.append(finding)
            return
        registered = RULES.get(finding.rule) or Rule(finding.rule, finding.name, finding.check, finding.severity, "")
        self._count_unlisted(registered, finding.line)

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.append(finding)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def finish(self) -> list[Finding]:
        out = list(self._items)
        for rule, counts in self._unlisted.values():
            count, lines = counts[0], counts[1:]
            out.append(
                rule.at(
                    self.path, lines[0] if lines else None,
                    f"{count:,} more {rule.name} finding{'s' if count != 1 else ''} in this file "
                    f"{'are' if count != 1 else 'is'} not listed one by one (the first {self.limit:,} are); "
                    "fix those and run again.",
                    related=[(self.path, line) for line in lines[1:]],
                )
            )
        return out
