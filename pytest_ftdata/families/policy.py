"""`policy`: banned text and provenance.

Transcripts and older datasets carry stale policy text, retired product names and
boilerplate such as "As an AI language model"; a fine-tune repeats them.
`[[tool.ftdata.banned]]` lists regular expressions that must not appear (each with
the message to show and, optionally, the roles it applies to). `required_fields`
lists JSON Pointers every record must carry, so that each example says where it
came from and how it was made ("which examples taught it that?").
"""

from __future__ import annotations

import re
from array import array

from ..config import BannedPattern
from ..findings import Finding, example, rule
from ..formats import Example
from ..patterns import BoundedPattern, PatternTooSlow
from ..detectors import find_sensitive
from ..redact import display_repr
from .base import FileFamily, FileContext
from .turns import scoped_texts, turn_label

BANNED_TEXT = rule(
    code="POL001", name="banned-text", family="policy", severity="error",
    summary="A turn matches a `[[tool.ftdata.banned]]` pattern.",
    why="""Transcripts and older datasets carry stale policy text, retired product names and
    model boilerplate such as "As an AI language model", and a fine-tune repeats them
    ("Remove examples with ... stale policies"). Each `[[tool.ftdata.banned]]` entry is
    a regular expression (Python syntax; start it with `(?i)` to ignore case) with the
    `message` to show and optionally the `roles` it applies to and its `severity`. One
    finding is given per entry and example, at the first match. Rejected answers of
    preference pairs are not searched: they are meant to show unwanted behaviour.""",
    fix="""Rewrite the turn without the banned text (answer directly, use the current
    product name or policy), or delete the example. If the match is a false positive,
    narrow the pattern or its `roles`.""",
    settings=("banned",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Can you see why my payment failed?"}, {"role": "assistant", "content": "As an AI language model, I cannot see your account. Payments usually fail when the card has expired; check it under Billing > Payment method."}]}
        """,
        banned=[{"pattern": "(?i)as an ai (language )?model", "message": "Model boilerplate: answer as the support assistant", "roles": ["assistant"]}],
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Can you see why my payment failed?"}, {"role": "assistant", "content": "Payments usually fail when the card has expired; check it under Billing > Payment method."}]}
        """,
        banned=[{"pattern": "(?i)as an ai (language )?model", "message": "Model boilerplate: answer as the support assistant", "roles": ["assistant"]}],
    ),
)
MISSING_PROVENANCE = rule(
    code="POL002", name="missing-provenance", family="policy", severity="error",
    summary="A record lacks a field listed in `required_fields`.",
    why="""`required_fields` lists JSON Pointers (for example `/metadata/source` and
    `/metadata/generated_by`) that every record must carry with a non-empty value, so
    that the source and generation method of every example can be traced: "When a tuned
    model behaves oddly, the first useful question is usually 'which examples taught it
    that?'" When no example of a file has the field, one finding for the whole file is
    given instead of one per line.""",
    fix="""Add the field to the records (have the pipeline that builds the dataset write
    it), or drop examples whose origin nobody knows.""",
    settings=("required_fields",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Can I get a copy of my contract?"}, {"role": "assistant", "content": "Yes: it is under Settings > Account > Documents."}], "metadata": {"source": "zendesk-export-2024-04"}}
        {"messages": [{"role": "user", "content": "Who is my account manager?"}, {"role": "assistant", "content": "Your account manager is named under Settings > Account > Contacts."}], "metadata": {}}
        """,
        required_fields=["/metadata/source"],
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Can I get a copy of my contract?"}, {"role": "assistant", "content": "Yes: it is under Settings > Account > Documents."}], "metadata": {"source": "zendesk-export-2024-04"}}
        {"messages": [{"role": "user", "content": "Who is my account manager?"}, {"role": "assistant", "content": "Your account manager is named under Settings > Account > Contacts."}], "metadata": {"source": "written-by-support-team"}}
        """,
        required_fields=["/metadata/source"],
    ),
)

PATTERN_TOO_SLOW = rule(
    code="POL003", name="pattern-too-slow", family="policy", severity="error",
    summary="A `[[tool.ftdata.banned]]` pattern ran over its time budget and was stopped.",
    why="""User patterns run with a time budget (0.25 s per search, 30 s per pattern and file;
    see `pytest_ftdata.patterns`), because a pattern such as `^(a|a)+$` backtracks for
    minutes on a short text. This pattern exceeded it, so it was not applied to the rest
    of the file, and what it bans went unchecked there.""",
    fix="""Rewrite it without nested repetition of overlapping alternatives (for example
    `^a+$` for `^(a|a)+$`, or one character class instead of an alternation of
    overlapping ones), or anchor it on a literal.""",
    settings=("banned",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "Thanks for waiting while we checked the order history for your account today!"}]}
        """,
        banned=[{"pattern": r"^(\w|\s|[a-z])+$", "message": "An answer needs punctuation", "roles": ["assistant"]}],
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "Thanks for waiting while we checked the order history for your account today!"}]}
        """,
        banned=[{"pattern": r"^[\w\s]+$", "message": "An answer needs punctuation", "roles": ["assistant"]}],
    ),
)

#: Findings listed one by one per rule and file; the rest are summed up in one finding.
MAX_LISTED = 1000
_MISSING = object()


def _pointer_tokens(pointer: str) -> tuple[str, ...]:
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def _lookup(record: dict, tokens: tuple[str, ...]):
    current = record
    for token in tokens:
        if type(current) is dict:
            current = current.get(token, _MISSING)
            if current is _MISSING:
                return _MISSING
        elif type(current) is list:
            if not token.isdigit() or int(token) >= len(current):
                return _MISSING
            current = current[int(token)]
        else:
            return _MISSING
    return current


def _fast_getter(tokens: tuple[str, ...]):
    """`record[a][b]...` for the dict path of a pointer; raises where `_lookup` is needed."""
    if len(tokens) == 1:
        (a,) = tokens
        return lambda record: record[a]
    if len(tokens) == 2:
        a, b = tokens
        return lambda record: record[a][b]
    if len(tokens) == 3:
        a, b, c = tokens
        return lambda record: record[a][b][c]

    def deep(record):
        value = _lookup(record, tokens)
        if value is _MISSING:
            raise KeyError(tokens[-1])
        return value

    return deep


def _is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


try:  # the regex parser, to find the literal text a pattern cannot match without
    from re import _constants as _sre_constants
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

#: Literals shorter than this are too common to be worth a gate.
MIN_GATE_LITERAL = 3


def _sequence_literals(items) -> list[str] | None:
    """Alternative strings one of which every match of `items` contains, or None."""
    best: list[str] | None = None
    run: list[str] = []

    def consider(candidate: list[str] | None) -> None:
        nonlocal best
        if candidate and min(map(len, candidate)) >= MIN_GATE_LITERAL:
            if best is None or min(map(len, candidate)) > min(map(len, best)):
                best = candidate

    for op, av in list(items) + [(None, None)]:
        if op is _sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider(["".join(run)])
            run = []
        if op is _sre_constants.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            if not (add_flags | del_flags) & re.IGNORECASE:
                consider(_sequence_literals(sub))
        elif op is _sre_constants.BRANCH:
            alternatives = [_sequence_literals(branch) for branch in av[1]]
            if all(alternatives):
                consider([literal for found in alternatives for literal in found])
    return best


def required_literals(pattern: str) -> tuple[tuple[str, ...], bool] | None:
    """(strings one of which any match contains, whether to compare lower-cased), or None.

    A substring test is much cheaper than a regex search, so text that contains none
    of a pattern's required strings is never searched with it (the way grep tools
    pick a literal to scan for).
    """
    try:
        parsed = _sre_parse.parse(pattern)
    except Exception:  # private API: any surprise means no gate, never a wrong answer
        return None
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)
    literals = _sequence_literals(parsed)
    if not literals:
        return None
    if ignore_case:
        if not all(literal.isascii() for literal in literals):
            return None
        literals = [literal.lower() for literal in literals]
    return tuple(dict.fromkeys(literals)), ignore_case


class _Banned:
    __slots__ = ("entry", "regex", "index", "roles", "literals", "ignore_case")

    def __init__(self, index: int, entry: BannedPattern) -> None:
        self.index = index
        self.entry = entry
        self.regex = BoundedPattern(entry.pattern)
        self.roles = frozenset(entry.roles) if entry.roles is not None else None
        gate = required_literals(entry.pattern)
        self.literals, self.ignore_case = gate if gate else (None, False)


def _shown_match(text: str, match: re.Match) -> str:
    """The matched text for a message. Private data is found in the whole turn, not in
    the match alone (a pattern can match half a card number); a match that touches any
    is described, not quoted."""
    if not match.group():
        return "an empty match"
    start, end = match.span()
    if any(s < end and start < e for s, e, _ in find_sensitive(text, high_entropy=True)):
        return f"a {end - start}-character match that overlaps private data"
    return display_repr(match.group(), 60)


class PolicyFamily(FileFamily):
    family = "policy"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.findings: list[Finding] = []
        self.banned = [_Banned(index, entry) for index, entry in enumerate(self.config.banned)]
        roles: set[str] = set()
        for item in self.banned:
            roles.update(item.roles or ("system", "user", "assistant", "tool"))
        self.search_roles = frozenset(roles)
        #: One bit per entry; entries with required literals are "gated" by substring tests.
        self.bits = [(1 << item.index, item) for item in self.banned]
        self.gated = [(bit, item) for bit, item in self.bits if item.literals is not None]
        self.ungated_bits = sum(bit for bit, item in self.bits if item.literals is None)
        self.ignore_case_bits = sum(bit for bit, item in self.gated if item.ignore_case)
        self.case_literals = [(bit, lit) for bit, item in self.gated if not item.ignore_case for lit in item.literals]
        self.folded_literals = [(bit, lit) for bit, item in self.gated if item.ignore_case for lit in item.literals]
        self.repeat_hits: dict[str, int] = {}
        self.banned_listed = [0] * len(self.banned)
        self.banned_overflow: list[array] = [array("I") for _ in self.banned]

        self.required = [(pointer, _pointer_tokens(pointer)) for pointer in self.config.required_fields]
        self.missing: list[array] = [array("I") for _ in self.required]
        self.empty: list[array] = [array("I") for _ in self.required]
        self.lookups = [
            (_fast_getter(tokens), tokens, missing.append, empty.append)
            for (_, tokens), missing, empty in zip(self.required, self.missing, self.empty)
        ]

    def visit(self, example: Example) -> None:
        if self.lookups:
            record = example.record
            for get, tokens, add_missing, add_empty in self.lookups:
                try:
                    value = get(record)
                except (KeyError, TypeError, IndexError):  # a list on the way, or missing
                    value = _lookup(record, tokens)
                    if value is _MISSING:
                        add_missing(example.line)
                        continue
                if type(value) is str:
                    if not value or value.isspace():
                        add_empty(example.line)
                elif _is_empty(value):
                    add_empty(example.line)
        if not self.bits:
            return
        if example.plain:
            # A plain chat record's system prompt, input and target hold all of its text:
            # test the literals on those (system prompts and targets repeat, so their
            # results are remembered) and build the turns only on a hit.
            repeat_hits = self.repeat_hits
            target = example.target_text
            hits = repeat_hits.get(target)
            if hits is None:
                hits = self._repeated_hits(target)
            system = example.system
            if system:
                system_hits = repeat_hits.get(system)
                hits |= self._repeated_hits(system) if system_hits is None else system_hits
            hits |= self._literal_hits(example.input_text)
            hits |= self.ungated_bits
            if hits:
                self._search(example, hits, None)
            return
        texts = list(scoped_texts(example, self.search_roles, rejected=False))
        hits = self.ungated_bits
        for scoped in texts:
            hits |= self._literal_hits(scoped.text)
        if hits and texts:
            self._search(example, hits, texts)

    def _literal_hits(self, text: str) -> int:
        """Bit mask of the gated entries whose required literals occur in `text`."""
        hits = 0
        for bit, literal in self.case_literals:
            if literal in text:
                hits |= bit
        if self.folded_literals:
            if text.isascii():
                lowered = text.lower()
                for bit, literal in self.folded_literals:
                    if literal in lowered:
                        hits |= bit
            else:  # case folding beyond ASCII: let the regex decide
                hits |= self.ignore_case_bits
        return hits

    def _repeated_hits(self, text: str) -> int:
        """`_literal_hits` of a text that repeats across examples (system prompt, target)."""
        hits = self.repeat_hits.get(text)
        if hits is None:
            hits = self._literal_hits(text)
            if len(self.repeat_hits) < 4096:
                self.repeat_hits[text] = hits
        return hits

    def _search(self, example: Example, hits: int, texts: list | None) -> None:
        """Run the regexes of the entries in `hits` on the turns, report the first match."""
        candidates = [item for bit, item in self.bits if hits & bit]
        if texts is None:
            texts = list(scoped_texts(example, self.search_roles, rejected=False))
        reported: set[int] = set()
        for scoped in texts:
            for item in candidates:
                if item.index in reported or (item.roles is not None and scoped.role not in item.roles):
                    continue
                try:
                    match = item.regex.search(scoped.text)
                    if match is None:
                        continue
                    reported.add(item.index)
                    self._report_banned(example, scoped, item, match)
                except PatternTooSlow as slow:
                    reported.add(item.index)
                    self._stop_pattern(example, item, slow)

    def _report_banned(self, example: Example, scoped, item: _Banned, match: re.Match) -> None:
        index = item.index
        if self.banned_listed[index] >= MAX_LISTED:
            self.banned_overflow[index].append(example.line)
            return
        self.banned_listed[index] += 1
        entry = item.entry
        where = turn_label(example, scoped.index, scoped.role)
        where = where[0].upper() + where[1:]
        count = item.regex.count(scoped.text)
        times = f" ({count} times)" if count > 1 else ""
        found = _shown_match(scoped.text, match)
        message = entry.message.strip().rstrip(".")
        finding = BANNED_TEXT.at(
            self.path, example.line,
            f"{where} contains {found}{times} at character {match.start() + 1}, which matches the banned "
            f"pattern {entry.pattern!r}: {message}.",
        )
        if entry.severity != finding.severity:
            finding = finding.with_severity(entry.severity)
        self.findings.append(finding)

    def _stop_pattern(self, example: Example, item: _Banned, slow: PatternTooSlow) -> None:
        """Report a pattern over its budget once, and apply it no more in this file."""
        bit = 1 << item.index
        self.bits = [(b, other) for b, other in self.bits if b != bit]
        self.gated = [(b, other) for b, other in self.gated if b != bit]
        self.ungated_bits &= ~bit
        self.case_literals = [(b, lit) for b, lit in self.case_literals if b != bit]
        self.folded_literals = [(b, lit) for b, lit in self.folded_literals if b != bit]
        self.findings.append(
            PATTERN_TOO_SLOW.at(
                self.path, example.line,
                f"The banned pattern {item.entry.pattern!r} {slow.reason} (at this example), so it was not applied "
                "to the rest of the file; rewrite it without nested repetition of overlapping alternatives.",
            )
        )

    def finish(self) -> list[Finding]:
        for item, lines in zip(self.banned, self.banned_overflow):
            if lines:
                finding = BANNED_TEXT.at(
                    self.path, lines[0],
                    f"{len(lines)} more examples match the banned pattern {item.entry.pattern!r} and are not "
                    f"listed one by one (the first {MAX_LISTED} are); {item.entry.message.strip().rstrip('.')}.",
                    related=[(self.path, line) for line in lines[1:100]],
                )
                self.findings.append(finding.with_severity(item.entry.severity))
        for (pointer, _), missing, empty in zip(self.required, self.missing, self.empty):
            self._report_missing(pointer, missing, "lacks")
            self._report_missing(pointer, empty, "has an empty")
        return self.findings

    def _report_missing(self, pointer: str, lines: array, how: str) -> None:
        if not lines:
            return
        advice = "record where each example came from and how it was made"
        examples = self.ctx.file.examples
        if len(lines) == examples and examples > 1:
            self.findings.append(
                MISSING_PROVENANCE.at(
                    self.path, None,
                    f"None of the {examples} examples of this file has a non-empty `{pointer}` "
                    f"(required_fields); {advice}.",
                )
            )
            return
        for line in lines[:MAX_LISTED]:
            self.findings.append(
                MISSING_PROVENANCE.at(
                    self.path, line,
                    f"Record {how} `{pointer}` (required_fields); {advice}.",
                )
            )
        if len(lines) > MAX_LISTED:
            rest = lines[MAX_LISTED:]
            self.findings.append(
                MISSING_PROVENANCE.at(
                    self.path, rest[0],
                    f"{len(rest)} more records {how} `{pointer}` and are not listed one by one "
                    f"(the first {MAX_LISTED} are); {advice}.",
                    related=[(self.path, line) for line in rest[1:100]],
                )
            )
