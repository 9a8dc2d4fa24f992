"""`format`: the examples of a file agree with each other on how answers look.

A model copies formatting exactly. One target in fifty with a stray trailing space,
a JSON answer with different keys, or a forgotten system prompt variant is learned
as a legitimate alternative. These rules find the odd ones out (and the oddities
every example shares) so the file teaches one interface.
"""

from __future__ import annotations

import re
import unicodedata
from array import array

import orjson

from ..findings import Finding, FindingList, rule
from ..formats import Example
from ..redact import display_repr
from ..schemas import SchemaUnusable, load_json_schema
from .base import FileFamily, FileContext
from .turns import scoped_texts, turn_label

MIXED_FORMATS = rule(
    code="FMT001", name="mixed-formats", family="format", severity="error",
    summary="A file mixes dataset formats.",
    why="""Most records of the file use one layout and these use another. Trainers read a
    file with one layout, so the minority records are misread or rejected. Convert
    them, or move them to a file of their own.""",
)
TARGET_NOT_JSON = rule(
    code="FMT002", name="target-not-json", family="format", severity="error",
    summary="A target is not valid JSON although `target_format = \"json\"`.",
    why="""The config says answers are JSON; this one does not parse, so the model learns
    to emit broken JSON some of the time.""",
)
TARGET_SCHEMA = rule(
    code="FMT003", name="target-schema", family="format", severity="error",
    summary="A JSON target does not validate against `target_schema`.",
    why="""The answer parses but breaks the contract given by `target_schema` (a missing
    key, a value outside the enum). The message gives the JSON path.""",
)
TARGET_SHAPE = rule(
    code="FMT004", name="target-shape", family="format", severity="warning",
    summary="A JSON target has different keys, or keys in a different order, from most targets.",
    why="""Most JSON answers in the file share one sequence of top-level keys; this one has
    another. Key order matters too: the model learns the exact token sequence. If both
    shapes are intended, document them with `target_schema`.""",
)
MOSTLY_JSON = rule(
    code="FMT005", name="mostly-json", family="format", severity="warning",
    summary="Most targets are JSON but this one is not.",
    why="""When most answers are JSON, a plain-text answer is usually an export or
    labelling mistake. Set `target_format = \"json\"` to make this an error, or
    `\"text\"` to silence it.""",
)
SYSTEM_PROMPT_VARIANTS = rule(
    code="FMT006", name="system-prompt-variants", family="format", severity="warning",
    summary="The file uses more than one system prompt.",
    why="""Lists the distinct system prompts (including none) with their counts. The model
    conditions on the exact system prompt; train with the prompts you will serve.""",
)
RARE_SYSTEM_PROMPT = rule(
    code="FMT007", name="rare-system-prompt", family="format", severity="warning",
    summary="An example uses a rare system prompt variant.",
    why="""This example's system prompt (or its lack of one) is used by at most 10% of
    the file. Rare variants are usually stale prompts or export mistakes.""",
)
TARGET_WHITESPACE = rule(
    code="FMT008", name="target-whitespace", family="format", severity="warning",
    summary="A target starts or ends with whitespace.",
    why="""Leading or trailing spaces and newlines in answers are learned and emitted.
    When every target shares it, or more than 20 targets and at least half of them do,
    one finding is given for the whole file (naming the first lines); otherwise each
    target is flagged at its line.""",
)
TARGET_LINE_ENDINGS = rule(
    code="FMT009", name="target-line-endings", family="format", severity="warning",
    summary="A target contains Windows (CRLF) or bare CR line endings.",
    why="""Mixed line endings become different tokens; normalise to `\\n`.""",
)
TARGET_SCHEMA_UNUSABLE = rule(
    code="FMT011", name="target-schema-unusable", family="format", severity="error",
    summary="The configured `target_schema` file cannot be used.",
    why="""`target_schema` names a file that is missing, not a regular file, not JSON or not a
    valid JSON Schema, or the schema cannot be used (a `$ref` that points nowhere, to a
    missing file, outside the schema's directory or to the network, a reference cycle,
    a `pattern` too slow to run), so no target (or no target after the one that showed
    it) was checked against it. Fix the path (relative to the config file that sets it)
    or the schema.""",
)
SHARED_TARGET_SUFFIX = rule(
    code="FMT010", name="shared-target-suffix", family="format", severity="warning",
    summary="Every target ends with the same unusual suffix.",
    why="""All answers end with the same few characters (for example `!!!` or `</s>`), a
    typical export artifact. The model will learn to append it. Remove it unless
    your serving stack expects it.""",
)

BIDI_CONTROL = rule(
    code="FMT012", name="bidi-control", family="format", severity="error",
    summary="A turn contains a bidirectional override or isolate control character.",
    why="""Characters such as U+202E RIGHT-TO-LEFT OVERRIDE or U+2066 LEFT-TO-RIGHT ISOLATE
    change how the text around them is displayed without being visible themselves: a
    reviewer reads one thing while the model learns another ("Trojan Source"), and the
    model learns to emit them. The message names the character and where it is. Remove
    it; right-to-left languages need none of these controls.""",
)
INVISIBLE_CHARACTER = rule(
    code="FMT013", name="invisible-character", family="format", severity="warning",
    summary="A turn contains an invisible character (zero-width space, word joiner, stray byte order mark).",
    why="""Invisible format characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF
    inside the text, invisible operators, tag characters) usually come from copying out
    of web pages or word processors. They split words into odd tokens and the model
    learns to emit them. The zero-width joiner and non-joiner (U+200D, U+200C), which
    emoji sequences and several scripts need, are not reported. Strip the rest.""",
)

#: Bidirectional embedding, override and isolate controls (FMT012).
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: Invisible characters that are rarely meant (FMT013).
_INVISIBLE = "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
_HIDDEN = re.compile(f"[{_BIDI}{_INVISIBLE}\U000e0000-\U000e007f]")

#: Distinct system prompts, and JSON target key shapes, told apart per file (bounded
#: memory: a file of a million distinct prompts is summarised, not remembered).
MAX_VARIANTS = 1000
#: The bucket of everything past `MAX_VARIANTS`.
_OTHER = ("(other variants)",)

#: A variant used by at most this share of a file (and not the most common) is rare.
RARE_SHARE = 0.10
#: Distinct target texts whose traits are remembered per file (bounded memory).
MAX_REMEMBERED_TARGETS = 20_000
#: Lines listed in `related` by a file-level finding that stands for many lines.
MAX_RELATED = 20
#: Fewer targets than this say nothing about a shared suffix.
MIN_TARGETS_FOR_SUFFIX = 10


def _keys_text(shape: tuple) -> str:
    """JSON keys of a target for a message (keys are data too: each redacted and cut)."""
    if shape is _OTHER:
        return "(one of many other key sets)"
    shown = ", ".join(display_repr(str(key), 30) for key in shape[:12])
    return f"[{shown}{', ...' if len(shape) > 12 else ''}]"


def _variant_text(text) -> str:
    if text is None:
        return "(none)"
    if text is _OTHER:
        return f"(more than {MAX_VARIANTS} other prompts)"
    return display_repr(text, 50)


def _rare_limit(total: int) -> float:
    return max(1.0, RARE_SHARE * total)


class FormatFamily(FileFamily):
    family = "format"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.findings = FindingList(self.path)
        self.count = 0
        self.lines_by_format: dict[str, array] = {}
        self.json_lines = 0
        self.non_json: array = array("I")
        self.shapes: dict[tuple, array] = {}
        self.traits: dict[str, tuple] = {}
        self.systems: dict[str | None, array] = {}
        self.leading_ws: array = array("I")
        self.trailing_ws: array = array("I")
        self.carriage_returns: array = array("I")
        self.suffix: str | None = None
        self.target_format = self.config.target_format
        self.target_validator = None
        if self.config.target_schema:
            try:
                self.target_validator = load_json_schema(self.config.resolve(self.config.target_schema))
            except SchemaUnusable as exc:
                self.findings.append(
                    TARGET_SCHEMA_UNUSABLE.at(self.path, None, f"target_schema is unusable: {exc}; no target was checked against it.")
                )

    def visit(self, example: Example) -> None:
        self.count += 1
        line = example.line
        lines = self.lines_by_format.get(example.format)
        if lines is None:
            lines = self.lines_by_format[example.format] = array("I")
        lines.append(line)

        system_lines = self.systems.get(example.system)
        if system_lines is None:
            key = example.system if len(self.systems) < MAX_VARIANTS else _OTHER
            system_lines = self.systems.get(key)
            if system_lines is None:
                system_lines = self.systems[key] = array("I")
        system_lines.append(line)

        if not (example.input_text.isascii() and example.target_text.isascii() and (example.system or "").isascii()):
            self._hidden_characters(example)
        elif not example.plain and not all(turn.text.isascii() for turn in example.turns):
            self._hidden_characters(example)

        target = example.target_text
        if not target or example.target_is_tool_call:
            return
        traits = self.traits.get(target)
        if traits is None:
            traits = self._traits(target)
            if len(self.traits) < MAX_REMEMBERED_TARGETS:
                self.traits[target] = traits
        leading, trailing, carriage_return, parsed, shape, problems = traits
        if leading:
            self.leading_ws.append(line)
        if trailing:
            self.trailing_ws.append(line)
        if carriage_return:
            self.carriage_returns.append(line)
        for found, message in problems:
            self.findings.append(found.at(self.path, line, message, excerpt=display_repr(target)))
        if parsed:
            self.json_lines += 1
            if shape is not None:
                shape_lines = self.shapes.get(shape)
                if shape_lines is None:
                    if len(self.shapes) >= MAX_VARIANTS:
                        shape = _OTHER
                    shape_lines = self.shapes.get(shape)
                    if shape_lines is None:
                        shape_lines = self.shapes[shape] = array("I")
                shape_lines.append(line)
        else:
            self.non_json.append(line)
            if self.suffix is None:
                self.suffix = target
            elif not target.endswith(self.suffix):
                self.suffix = _common_suffix(self.suffix, target)

    def _hidden_characters(self, example: Example) -> None:
        """FMT012/FMT013 at the first hidden character of each kind in the example (only
        examples with non-ASCII text get here: `isascii()` is O(1))."""
        reported: set[str] = set()
        for scoped in scoped_texts(example, None):
            if scoped.text.isascii():
                continue
            for match in _HIDDEN.finditer(scoped.text):
                char = match.group()
                found = BIDI_CONTROL if char in _BIDI else INVISIBLE_CHARACTER
                if found.code in reported:
                    continue
                reported.add(found.code)
                name = unicodedata.name(char, "an unnamed format character")
                where = turn_label(example, scoped.index, scoped.role)
                self.findings.append(
                    found.at(
                        self.path, example.line,
                        f"{where[0].upper()}{where[1:]} contains U+{ord(char):04X} {name} at character "
                        f"{match.start() + 1}; remove it (it is invisible, and the model would learn to emit it).",
                    )
                )
                if len(reported) == 2:
                    return

    def _traits(self, target: str) -> tuple:
        """What the rules need to know of one target text (remembered per distinct text:
        classification targets repeat, and parsing them once is enough)."""
        first = target[0]
        leading = first.isspace()
        if leading:
            first = target.lstrip()[:1]
        value = None
        parsed = False
        problems: list[tuple] = []
        if first == "{" or first == "[" or self.target_format == "json":
            try:
                value = orjson.loads(target)  # orjson ignores surrounding whitespace
                parsed = True
            except orjson.JSONDecodeError as exc:
                if self.target_format == "json":
                    problems.append((TARGET_NOT_JSON, f"Target is not valid JSON ({exc}); fix the answer so it parses."))
        if parsed and self.target_validator is not None:
            try:
                errors = self.target_validator.errors(value)
            except SchemaUnusable as exc:
                self.target_validator = None
                self.findings.append(
                    TARGET_SCHEMA_UNUSABLE.at(
                        self.path, None,
                        f"target_schema is unusable (it failed while validating a target): {exc}; the targets after "
                        "it were not checked against it.",
                    )
                )
                errors = []
            for text in errors:
                problems.append((TARGET_SCHEMA, f"Target fails target_schema {text}."))
        shape = tuple(value) if type(value) is dict else None
        return leading, target[-1].isspace(), "\r" in target, parsed, shape, tuple(problems)

    def finish(self) -> list[Finding]:
        add = self.findings.append
        self._finish_formats()
        self._finish_systems()
        targets_seen = self.json_lines + len(self.non_json)
        if self.target_format is None and self.json_lines and self.json_lines >= len(self.non_json) and self.non_json:
            for line in self.non_json:
                add(MOSTLY_JSON.at(self.path, line, f"Target is plain text while {self.json_lines} of {targets_seen} targets in the file are JSON; make it JSON or set target_format."))
        if self.shapes:
            dominant, dominant_lines = max(self.shapes.items(), key=lambda item: len(item[1]))
            total = sum(len(lines) for lines in self.shapes.values())
            for shape, lines in self.shapes.items():
                if shape is dominant or shape is _OTHER or len(lines) > _rare_limit(total):
                    continue
                for line in lines:
                    add(TARGET_SHAPE.at(self.path, line, f"Target JSON has keys {_keys_text(shape)} while {len(dominant_lines)} of {total} JSON targets have {_keys_text(dominant)}; align the keys or declare both in target_schema."))
        self._finish_whitespace()
        suffix = (self.suffix or "").lstrip()
        if (
            len(self.non_json) == targets_seen >= MIN_TARGETS_FOR_SUFFIX
            and len(suffix) >= 2
            and not suffix.strip().isalnum()
            and len(suffix.split()) <= 3
        ):
            add(SHARED_TARGET_SUFFIX.at(self.path, None, f"All {targets_seen} targets end with {display_repr(suffix, 30)}; the model will learn to append it. Remove it unless serving expects it."))
        return self.findings.finish()

    def _finish_formats(self) -> None:
        if len(self.lines_by_format) < 2:
            return
        ranked = sorted(self.lines_by_format.items(), key=lambda item: -len(item[1]))
        main_format, main_lines = ranked[0]
        for fmt, lines in ranked[1:]:
            for line in lines:
                self.findings.append(
                    MIXED_FORMATS.at(self.path, line, f"Record uses the `{fmt}` format while {len(main_lines)} of {self.count} records use `{main_format}`; convert it or move it to its own file.")
                )

    def _finish_systems(self) -> None:
        if len(self.systems) < 2:
            return
        ranked = sorted(self.systems.items(), key=lambda item: -len(item[1]))
        limit = _rare_limit(self.count)
        described = "; ".join(f"{_variant_text(text)} x{len(lines)}" for text, lines in ranked[:5])
        if len(ranked) > 5:
            described += f"; and {len(ranked) - 5} more"
        self.findings.append(
            SYSTEM_PROMPT_VARIANTS.at(self.path, None, f"File uses {len(ranked)} system prompt variants: {described}. Train with the prompts you serve.")
        )
        dominant_text, dominant_lines = ranked[0]
        for text, lines in ranked[1:]:
            if len(lines) > limit or text is _OTHER:
                continue
            what = "has no system prompt" if text is None else f"uses the system prompt {display_repr(text, 50)}"
            for line in lines:
                self.findings.append(
                    RARE_SYSTEM_PROMPT.at(self.path, line, f"Example {what}, shared by {len(lines)} of {self.count} examples; {len(dominant_lines)} use the main variant.")
                )

    def _finish_whitespace(self) -> None:
        targets = self.json_lines + len(self.non_json)
        for lines, what in ((self.leading_ws, "starts"), (self.trailing_ws, "ends")):
            if not lines:
                continue
            if len(lines) == targets and targets > 1:
                self.findings.append(
                    TARGET_WHITESPACE.at(self.path, None, f"All {targets} targets {what[:-1]} with whitespace; strip it unless the model must emit it.")
                )
                continue
            if len(lines) > MAX_RELATED and len(lines) * 2 >= targets:
                # A habit of the file rather than stray examples: one finding, not thousands.
                shown = ", ".join(str(line) for line in lines[:5])
                self.findings.append(
                    TARGET_WHITESPACE.at(
                        self.path, None,
                        f"{len(lines)} of {targets} targets {what[:-1]} with whitespace (lines {shown}, ...); "
                        "strip it unless the model must emit it.",
                        related=[(self.path, line) for line in lines[:MAX_RELATED]],
                    )
                )
                continue
            for line in lines:
                self.findings.append(TARGET_WHITESPACE.at(self.path, line, f"Target {what} with whitespace; strip it."))
        for line in self.carriage_returns:
            self.findings.append(TARGET_LINE_ENDINGS.at(self.path, line, "Target contains carriage returns (CRLF or CR); normalise line endings to \\n."))


def _common_suffix(a: str, b: str) -> str:
    size = 0
    limit = min(len(a), len(b))
    while size < limit and a[-1 - size] == b[-1 - size]:
        size += 1
    return a[len(a) - size :] if size else ""
