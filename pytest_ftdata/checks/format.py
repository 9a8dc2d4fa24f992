"""`format`: the examples of a file agree with each other on how answers look.

A model copies formatting exactly. One target in fifty with a stray trailing space,
a JSON answer with different keys, or a forgotten system prompt variant is learned
as a legitimate alternative. These rules find the odd ones out (and the oddities
every example shares) so the file teaches one interface.
"""

from __future__ import annotations

from array import array

import orjson

from ..findings import Finding, FindingList, rule
from ..formats import Example
from ..redact import display_repr
from .base import FileCheck, FileContext
from .schema import load_json_schema, schema_error_text

MIXED_FORMATS = rule(
    "FMT001", "mixed-formats", "format", "error",
    "A file mixes dataset formats.",
    """Most records of the file use one layout and these use another. Trainers read a
    file with one layout, so the minority records are misread or rejected. Convert
    them, or move them to a file of their own.""",
)
TARGET_NOT_JSON = rule(
    "FMT002", "target-not-json", "format", "error",
    "A target is not valid JSON although `target_format = \"json\"`.",
    """The config says answers are JSON; this one does not parse, so the model learns
    to emit broken JSON some of the time.""",
)
TARGET_SCHEMA = rule(
    "FMT003", "target-schema", "format", "error",
    "A JSON target does not validate against `target_schema`.",
    """The answer parses but breaks the contract given by `target_schema` (a missing
    key, a value outside the enum). The message gives the JSON path.""",
)
TARGET_SHAPE = rule(
    "FMT004", "target-shape", "format", "warning",
    "A JSON target has different keys, or keys in a different order, from most targets.",
    """Most JSON answers in the file share one sequence of top-level keys; this one has
    another. Key order matters too: the model learns the exact token sequence. If both
    shapes are intended, document them with `target_schema`.""",
)
MOSTLY_JSON = rule(
    "FMT005", "mostly-json", "format", "warning",
    "Most targets are JSON but this one is not.",
    """When most answers are JSON, a plain-text answer is usually an export or
    labelling mistake. Set `target_format = \"json\"` to make this an error, or
    `\"text\"` to silence it.""",
)
SYSTEM_PROMPT_VARIANTS = rule(
    "FMT006", "system-prompt-variants", "format", "warning",
    "The file uses more than one system prompt.",
    """Lists the distinct system prompts (including none) with their counts. The model
    conditions on the exact system prompt; train with the prompts you will serve.""",
)
RARE_SYSTEM_PROMPT = rule(
    "FMT007", "rare-system-prompt", "format", "warning",
    "An example uses a rare system prompt variant.",
    """This example's system prompt (or its lack of one) is used by at most 10% of
    the file. Rare variants are usually stale prompts or export mistakes.""",
)
TARGET_WHITESPACE = rule(
    "FMT008", "target-whitespace", "format", "warning",
    "A target starts or ends with whitespace.",
    """Leading or trailing spaces and newlines in answers are learned and emitted.
    When every target shares it, or more than 20 targets and at least half of them do,
    one finding is given for the whole file (naming the first lines); otherwise each
    target is flagged at its line.""",
)
TARGET_LINE_ENDINGS = rule(
    "FMT009", "target-line-endings", "format", "warning",
    "A target contains Windows (CRLF) or bare CR line endings.",
    """Mixed line endings become different tokens; normalise to `\\n`.""",
)
TARGET_SCHEMA_UNUSABLE = rule(
    "FMT011", "target-schema-unusable", "format", "error",
    "The configured `target_schema` file cannot be used.",
    """`target_schema` names a file that is missing, is not JSON, or is not a valid JSON
    Schema, so no target was checked against it. Fix the path (relative to the config
    file that sets it) or the schema.""",
)
SHARED_TARGET_SUFFIX = rule(
    "FMT010", "shared-target-suffix", "format", "warning",
    "Every target ends with the same unusual suffix.",
    """All answers end with the same few characters (for example `!!!` or `</s>`), a
    typical export artifact. The model will learn to append it. Remove it unless
    your serving stack expects it.""",
)

#: A variant used by at most this share of a file (and not the most common) is rare.
RARE_SHARE = 0.10
#: Distinct target texts whose traits are remembered per file (bounded memory).
MAX_REMEMBERED_TARGETS = 20_000
#: Lines listed in `related` by a file-level finding that stands for many lines.
MAX_RELATED = 20
#: Fewer targets than this say nothing about a shared suffix.
MIN_TARGETS_FOR_SUFFIX = 10


def _rare_limit(total: int) -> float:
    return max(1.0, RARE_SHARE * total)


class FormatCheck(FileCheck):
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
            except ValueError as exc:
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
            system_lines = self.systems[example.system] = array("I")
        system_lines.append(line)

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
                    shape_lines = self.shapes[shape] = array("I")
                shape_lines.append(line)
        else:
            self.non_json.append(line)
            if self.suffix is None:
                self.suffix = target
            elif not target.endswith(self.suffix):
                self.suffix = _common_suffix(self.suffix, target)

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
            errors = sorted(self.target_validator.iter_errors(value), key=lambda e: e.json_path)
            for error in errors[:3]:
                problems.append((TARGET_SCHEMA, f"Target fails target_schema {schema_error_text(error)}."))
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
                if shape is dominant or len(lines) > _rare_limit(total):
                    continue
                for line in lines:
                    add(TARGET_SHAPE.at(self.path, line, f"Target JSON has keys {list(shape)} while {len(dominant_lines)} of {total} JSON targets have {list(dominant)}; align the keys or declare both in target_schema."))
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
        described = "; ".join(
            f"{'(none)' if text is None else display_repr(text, 50)} x{len(lines)}" for text, lines in ranked[:5]
        )
        if len(ranked) > 5:
            described += f"; and {len(ranked) - 5} more"
        self.findings.append(
            SYSTEM_PROMPT_VARIANTS.at(self.path, None, f"File uses {len(ranked)} system prompt variants: {described}. Train with the prompts you serve.")
        )
        dominant_text, dominant_lines = ranked[0]
        for text, lines in ranked[1:]:
            if len(lines) > limit:
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
