"""Gates: which findings fail the run, and the baseline that accepts old ones.

A team adopting pytest-ftdata on a dataset with hundreds of findings records them
once (`--ftdata-baseline=PATH --ftdata-update-baseline`) and from then on only new
findings fail, as with a linter baseline.

A finding is identified by `(path, check, rule, key)`. The key comes from content, never
from a line number, so inserting a line above an accepted example does not
"un-accept" it:

- a finding at a line: a hash of that line's record, in canonical JSON (keys
  sorted), so re-serialising the file does not change it either;
- a finding about a whole file or dataset (no line): a hash of its message with
  every number replaced by `#`, so "3 system prompt variants" and "4 ..." match;
- a key a check set itself (`Finding.key`) is used as it is.

The baseline stores a count per identity: two identical duplicate lines are two
accepted findings, and a third copy is new. Keys are computed after the analysis,
in a second pass over the raw lines that have findings only, so a run without a
baseline (or SARIF output) pays nothing for them.

Nothing here imports pytest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import orjson

from .findings import Finding, sort_key
from .redact import redact
from .render import failure_title

BASELINE_VERSION = 1
#: Hex digits kept from the sha256 of a key: 64 bits, ample within one file and rule.
KEY_DIGITS = 16
_BOM = b"\xef\xbb\xbf"
_NUMBER = re.compile(r"\d+")

Identity = tuple[str, str, str, str]  # (path, check, rule, key)


class BaselineError(Exception):
    """A baseline file that cannot be used, phrased for the user."""


# -- keys ---------------------------------------------------------------------------------


def record_key(raw: bytes) -> str:
    """The content key of one raw JSONL line: its record in canonical JSON, hashed."""
    raw = raw.strip()
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :].strip()
    try:
        canonical = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
        canonical = raw  # an unreadable line is identified by its bytes
    return hashlib.sha256(canonical).hexdigest()[:KEY_DIGITS]


def message_key(message: str) -> str:
    """The key of a finding with no line: its message with the numbers masked."""
    normalized = _NUMBER.sub("#", message)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:KEY_DIGITS]


def line_keys(path: Path, lines: Iterable[int]) -> dict[int, str]:
    """Content keys of the given 1-based line numbers of a `.jsonl` / `.jsonl.gz` file.

    Lines are split exactly as the reader splits them (on `\\n`, in binary), and
    only the wanted lines are parsed. Lines that cannot be reached (a truncated
    gzip stream, a file changed since the analysis) are simply missing.
    """
    wanted = set(lines)
    if not wanted:
        return {}
    last = max(wanted)
    keys: dict[int, str] = {}
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if number in wanted:
                    keys[number] = record_key(raw)
                if number >= last:
                    break
    except (OSError, EOFError, zlib.error):
        pass
    return keys


def assign_keys(result) -> set[tuple[str, str]]:
    """Give every finding of a `DatasetResult` a content key (in place).

    Returns the `(where, family)` pairs whose findings changed, where `where` is a
    file's display path for file families and the dataset's display path for
    dataset families (the cache re-stores those entries with their keys).
    """
    abspaths = {display: file_result.info.abspath for display, file_result in result.files.items()}
    wanted: dict[str, set[int]] = {}

    def collect(findings: list[Finding]) -> None:
        for finding in findings:
            if finding.key is None and finding.line and finding.path in abspaths:
                wanted.setdefault(finding.path, set()).add(finding.line)

    for file_result in result.files.values():
        for findings in file_result.findings.values():
            collect(findings)
    for findings in result.findings.values():
        collect(findings)
    if not wanted and not _any_unkeyed(result):
        return set()
    keys = {display: line_keys(Path(abspaths[display]), lines) for display, lines in wanted.items()}

    def keyed(findings: list[Finding]) -> tuple[list[Finding], bool]:
        changed = False
        out = []
        for finding in findings:
            if finding.key is None:
                key = keys.get(finding.path, {}).get(finding.line) if finding.line else None
                finding = replace(finding, key=key or message_key(finding.message))
                changed = True
            out.append(finding)
        return out, changed

    touched: set[tuple[str, str]] = set()
    for display, file_result in result.files.items():
        for family, findings in file_result.findings.items():
            file_result.findings[family], changed = keyed(findings)
            if changed:
                touched.add((display, family))
    for family, findings in result.findings.items():
        result.findings[family], changed = keyed(findings)
        if changed:
            touched.add((result.path, family))
    return touched


def _any_unkeyed(result) -> bool:
    if any(f.key is None for fs in result.findings.values() for f in fs):
        return True
    return any(f.key is None for fr in result.files.values() for fs in fr.findings.values() for f in fs)


def identity(finding: Finding) -> Identity:
    # The check is part of it so that each item's findings match on their own, on a
    # worker, exactly as all findings match together on the controller.
    key = finding.key if finding.key is not None else message_key(finding.message)
    return (finding.path, finding.check, finding.rule, key)


# -- the baseline file --------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    path: str
    rule: str
    key: str
    check: str
    count: int
    #: The message of one accepted finding (already redacted), for people reviewing the file.
    message: str = ""

    @property
    def identity(self) -> Identity:
        return (self.path, self.check, self.rule, self.key)

    def to_dict(self) -> dict:
        data = {"path": self.path, "rule": self.rule, "check": self.check, "key": self.key, "count": self.count}
        if self.message:
            data["message"] = redact(self.message)  # already redacted; the file is committed, so once more
        return data


@dataclass
class Baseline:
    entries: dict[Identity, Entry] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Baseline":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BaselineError(
                f"baseline file {path} does not exist; create it with --ftdata-update-baseline"
            ) from None
        except OSError as exc:
            raise BaselineError(f"baseline file {path} cannot be read: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise BaselineError(f"baseline file {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(
            data.get("findings"), list
        ):
            raise BaselineError(
                f"baseline file {path} is not a pytest-ftdata baseline (version {BASELINE_VERSION}); "
                "recreate it with --ftdata-update-baseline"
            )
        entries: dict[Identity, Entry] = {}
        for number, item in enumerate(data["findings"]):
            try:
                entry = Entry(
                    path=str(item["path"]),
                    rule=str(item["rule"]),
                    key=str(item["key"]),
                    check=str(item["check"]),
                    count=int(item.get("count", 1)),
                    message=str(item.get("message", "")),
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                raise BaselineError(
                    f"baseline file {path}: entry {number} lacks `path`, `check`, `rule` or `key`; "
                    "recreate the file with --ftdata-update-baseline"
                ) from None
            previous = entries.get(entry.identity)
            if previous is not None:
                entry = replace(previous, count=previous.count + entry.count)
            entries[entry.identity] = entry
        return cls(entries)

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> "Baseline":
        counts: Counter[Identity] = Counter()
        first: dict[Identity, Finding] = {}
        for finding in sorted(findings, key=full_sort_key):
            ident = identity(finding)
            counts[ident] += 1
            first.setdefault(ident, finding)
        entries = {
            ident: Entry(ident[0], ident[2], ident[3], ident[1], count, first[ident].message)
            for ident, count in counts.items()
        }
        return cls(entries)

    def dumps(self) -> str:
        ordered = sorted(self.entries.values(), key=lambda e: (e.path, e.rule, e.key))
        data = {
            "version": BASELINE_VERSION,
            "tool": "pytest-ftdata",
            "comment": "Accepted findings: only findings not listed here fail. "
            "Update with: pytest --ftdata --ftdata-baseline=THIS_FILE --ftdata-update-baseline",
            "findings": [entry.to_dict() for entry in ordered],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        """Write atomically: a run interrupted while writing leaves the old file intact."""
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(self.dumps(), encoding="utf-8")
        os.replace(temporary, path)

    @property
    def total(self) -> int:
        return sum(entry.count for entry in self.entries.values())

    def partition(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(new, accepted): each entry accepts up to `count` findings of its identity.

        Matching is done in a fixed order so the same findings always split the
        same way, on a worker item by item or on the controller all at once.
        """
        budget = {ident: entry.count for ident, entry in self.entries.items()}
        new: list[Finding] = []
        accepted: list[Finding] = []
        for finding in sorted(findings, key=full_sort_key):
            ident = identity(finding)
            if budget.get(ident, 0) > 0:
                budget[ident] -= 1
                accepted.append(finding)
            else:
                new.append(finding)
        return new, accepted

    def stale(self, findings: Iterable[Finding], scope: set[tuple[str, str]]) -> list[Entry]:
        """Entries (with the unmatched count) whose findings are gone.

        Only entries the run could have matched count: those of a `(path, check)`
        that was analysed. A run with `-k schema` does not call leakage entries stale.
        """
        seen = Counter(identity(finding) for finding in findings)
        out = []
        for ident, entry in sorted(self.entries.items()):
            if (entry.path, entry.check) not in scope:
                continue
            missing = entry.count - seen.get(ident, 0)
            if missing > 0:
                out.append(replace(entry, count=missing))
        return out

    def updated(self, findings: list[Finding], scope: set[tuple[str, str]]) -> "Baseline":
        """The baseline after accepting `findings`: entries in scope are replaced by
        today's findings, entries out of scope (not analysed in this run) are kept."""
        fresh = Baseline.from_findings(findings)
        entries = {ident: entry for ident, entry in self.entries.items() if (entry.path, entry.check) not in scope}
        for ident, entry in fresh.entries.items():
            entries[ident] = entry
        return Baseline(entries)


def full_sort_key(finding: Finding) -> tuple:
    """A total order on findings (ties of `sort_key` broken by every other field)."""
    return (
        *sort_key(finding),
        finding.severity,
        finding.key or "",
        finding.excerpt or "",
        tuple((loc.path, loc.line or 0) for loc in finding.related),
    )


# -- the gate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    #: The findings that fail the item (new errors; new warnings too in strict mode).
    failing: list[Finding]
    #: What the failure shows: every new finding.
    shown: list[Finding]
    #: How many findings the baseline accepted.
    accepted: int


@dataclass
class Gate:
    """What makes an item fail: errors, warnings too when strict, never baselined ones."""

    strict: bool = False
    baseline: Baseline | None = None
    baseline_path: Path | None = None
    #: `--ftdata-update-baseline`: today's findings are being accepted; nothing fails.
    updating: bool = False
    #: Whether findings need content keys (a baseline, or an output that carries them).
    want_keys: bool = False

    @property
    def needs_keys(self) -> bool:
        return self.want_keys or self.baseline is not None or self.updating

    def judge(self, findings: list[Finding]) -> Verdict:
        if self.updating:
            return Verdict([], [], len(findings))
        if self.baseline is not None:
            new, accepted = self.baseline.partition(findings)
        else:
            new, accepted = list(findings), []
        failing = [f for f in new if f.severity == "error" or self.strict]
        return Verdict(failing, sorted(new, key=sort_key), len(accepted))


@dataclass
class GateOutcome:
    """What the controller concluded about the whole run (for summaries and outputs)."""

    new: list[Finding] = field(default_factory=list)
    accepted: list[Finding] = field(default_factory=list)
    stale: list[Entry] = field(default_factory=list)
    #: (entries, added, removed) when the baseline was rewritten.
    updated: tuple[int, int, int] | None = None
    _accepted_ids: set[int] = field(default_factory=set, repr=False)

    def is_accepted(self, finding: Finding) -> bool:
        return id(finding) in self._accepted_ids


def conclude(gate: Gate, findings: list[Finding], scope: set[tuple[str, str]]) -> GateOutcome:
    """Match all gathered findings against the baseline; rewrite it when updating."""
    if gate.updating and gate.baseline_path is not None:
        previous = gate.baseline or Baseline()
        fresh = previous.updated(findings, scope)
        before = {ident: entry.count for ident, entry in previous.entries.items()}
        after = {ident: entry.count for ident, entry in fresh.entries.items()}
        added = sum(max(0, count - before.get(ident, 0)) for ident, count in after.items())
        removed = sum(max(0, count - after.get(ident, 0)) for ident, count in before.items())
        fresh.write(gate.baseline_path)
        outcome = GateOutcome(new=[], accepted=list(findings), updated=(fresh.total, added, removed))
    elif gate.baseline is not None:
        new, accepted = gate.baseline.partition(findings)
        outcome = GateOutcome(new=new, accepted=accepted, stale=gate.baseline.stale(findings, scope))
    else:
        outcome = GateOutcome(new=list(findings))
    outcome._accepted_ids = {id(f) for f in outcome.accepted}
    return outcome


def gate_title(family: str, verdict: Verdict, where: str) -> str:
    """The first line of a failing item: what fails it, in complete sentences."""
    errors = [f for f in verdict.failing if f.severity == "error"]
    warnings = [f for f in verdict.failing if f.severity != "error"]
    if not warnings:
        title = failure_title(family, errors, where)
    else:
        counts: dict[str, int] = {}
        for finding in verdict.failing:
            counts[finding.name] = counts.get(finding.name, 0) + 1
        parts = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items(), key=lambda kv: -kv[1]))
        what = f"{len(warnings)} {family} warning{'s' if len(warnings) != 1 else ''}"
        if errors:
            what = f"{len(errors)} {family} error{'s' if len(errors) != 1 else ''} and {what}"
        title = f"{what} in {where} (warnings fail in strict mode): {parts}."
    if verdict.accepted:
        title += f" {verdict.accepted} more {'is' if verdict.accepted == 1 else 'are'} accepted by the baseline."
    return title
