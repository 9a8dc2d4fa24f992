"""Findings and the rules that produce them.

A *rule* is a stable code (family prefix plus number, as ruff does), a kebab-case
name, a default severity, the family it belongs to and its documentation: what it
catches (`summary`), why it matters (`why`), how to fix it (`fix`), the settings it
reads, and a bad and a fixed example that the test suite runs
(`tests/test_rule_examples.py`). Rules are declared with `rule()`, keyword by keyword,
beside the code that enforces them; the docs site's rule pages are generated from
the declarations (`pytest_ftdata.docs`).

A *finding* is one occurrence of a rule at a place in a dataset. Findings are
plain frozen data: they cross xdist workers as dicts and feed every output (the
pytest item failure, the JSON report, the markdown summary, SARIF).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping

from .redact import redact

Severity = Literal["error", "warning"]

#: The families, in the order their items are collected. These names are a contract:
#: they are the `check` values of the JSON report. `duplicates` is dataset-level: a
#: split may span several files, and it shares one fingerprint index with `leakage`
#: (families/fingerprints.py).
FILE_FAMILIES = ("schema", "format", "pii", "policy", "length", "reasoning")
DATASET_FAMILIES = ("duplicates", "leakage", "splits", "labels", "subgroups", "versions")
FAMILIES = FILE_FAMILIES + DATASET_FAMILIES
#: The family of rules any family can report (a family that failed on one example).
ANY_FAMILY = "any"
#: The family of project rules until a project check claims them.
CUSTOM = "custom"


@dataclass(frozen=True)
class RuleExample:
    """A dataset that shows a rule: file name -> JSON Lines text, and the settings it needs.

    `files` holds whole files (`{"train.jsonl": "...", "test.jsonl": "..."}`) so that
    dataset-level rules can show leakage between splits; `config` is a table of
    `[tool.ftdata]` settings. The test suite runs every example through its family."""

    files: Mapping[str, str | bytes]
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))


def example(jsonl: str | bytes | Mapping[str, str | bytes], **config: Any) -> RuleExample:
    """A `RuleExample` of one `train.jsonl` (text, or bytes for what text cannot hold) or of
    several files (a mapping of file name to content). Text is dedented like a docstring."""
    files = {"train.jsonl": jsonl} if isinstance(jsonl, (str, bytes)) else jsonl
    return RuleExample(
        {name: content if isinstance(content, bytes) else inspect.cleandoc(content) + "\n" for name, content in files.items()},
        config,
    )


@dataclass(frozen=True, kw_only=True)
class Rule:
    code: str
    name: str
    family: str
    severity: Severity
    #: What it catches, in one sentence (the rule table's summary).
    summary: str
    #: Why it matters: what training on such data does to a model.
    why: str = ""
    #: How to fix it.
    fix: str = ""
    #: The settings (`[tool.ftdata]` keys) the rule reads.
    settings: tuple[str, ...] = ()
    #: A dataset the rule reports, and the same dataset fixed.
    bad: RuleExample | None = None
    good: RuleExample | None = None

    @property
    def check(self) -> str:
        """The family, under the name the JSON report gives it (`check`)."""
        return self.family

    @property
    def doc(self) -> str:
        """Why and how to fix, as one text (SARIF's help)."""
        return "\n\n".join(part for part in (self.why, self.fix) if part)

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
            check=self.family,
            severity=self.severity,
            path=path,
            line=line,
            message=message,
            related=tuple(Location(p, ln) for p, ln in related),
            excerpt=excerpt,
            key=key,
        )


class RuleRegistry(dict):
    """Every declared rule by code. Codes and names are unique and never reused."""

    def declare(self, declared: Rule) -> Rule:
        # A module imported again (pytester's in-process runs drop the modules a run
        # imported; importlib.reload) declares the same rule again: that is no clash.
        existing = self.get(declared.code)
        if existing is not None and existing != declared:
            raise ValueError(f"rule code {declared.code} is declared twice")
        for other in self.values():
            if other.name == declared.name and other.code != declared.code:
                raise ValueError(f"rule name {declared.name!r} is already used by {other.code}")
        self[declared.code] = declared
        return declared

    def selectors(self) -> set[str]:
        """What `[tool.ftdata.rules]` may name: codes, names and families of these rules."""
        known = set(FAMILIES)
        for registered in self.values():
            known.update((registered.code, registered.name, registered.family))
        known.discard(ANY_FAMILY)
        return known


#: The rules of this process: the built-in ones (declared when their family modules are
#: imported) and the project's (declared in its conftest.py).
RULES = RuleRegistry()


def clean_text(text: str) -> str:
    """A docstring-like text with its indentation removed and its paragraphs kept."""
    return inspect.cleandoc(text) if text else ""


def rule(
    *,
    code: str,
    name: str,
    family: str,
    severity: Severity,
    summary: str,
    why: str = "",
    fix: str = "",
    settings: Iterable[str] = (),
    bad: RuleExample | None = None,
    good: RuleExample | None = None,
) -> Rule:
    """Declare a built-in rule (project rules: `pytest_ftdata.rule`, the same keywords)."""
    if family not in FAMILIES and family not in (ANY_FAMILY, CUSTOM):
        raise ValueError(f"unknown family {family!r} for rule {code}")
    declared = Rule(
        code=code, name=name, family=family, severity=severity, summary=clean_text(summary),
        why=clean_text(why), fix=clean_text(fix), settings=tuple(settings), bad=bad, good=good,
    )
    return RULES.declare(declared)


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
        self.count_unlisted(rule, 1, () if line is None else (line,))

    def count_unlisted(self, rule: Rule, count: int, lines: Iterable[int] = ()) -> None:
        """Count `count` findings of `rule` that are not listed (with some of their lines)."""
        entry = self._unlisted.get(rule.code)
        if entry is None:
            entry = self._unlisted[rule.code] = (rule, [0])
        entry[1][0] += count
        for line in lines:
            if len(entry[1]) > MAX_UNLISTED_RELATED:
                break
            entry[1].append(line)

    def append(self, finding: Finding) -> None:
        kept = self._kept.get(finding.rule, 0)
        if kept < self.limit:
            self._kept[finding.rule] = kept + 1
            self._items.append(finding)
            return
        registered = RULES.get(finding.rule) or Rule(code=finding.rule, name=finding.name, family=finding.check, severity=finding.severity, summary="")
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
