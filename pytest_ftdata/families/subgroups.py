"""`subgroups`: count the examples of every subgroup, per split, against a minimum.

"If you cannot name the subgroups in your dataset, you do not know what behavior you
are training. Split examples by intent, source, length, language, format, customer
segment, and known failure mode before counting them."

A *dimension* names one way of splitting the examples; each of its values is a
*subgroup*. The user names dimensions by JSON Pointer in `[tool.ftdata.subgroups]`;
every dataset also gets the built-in dimensions `label` (when `label` is set),
`split`, `format`, `system_prompt`, `turns`, `input_length` and `target_length`.

A *cell* is one subgroup in one split. A cell is *required* when its dimension has
a minimum: `min_per_subgroup` applies to the training split (the files without a
split when there is no train file), `min_subgroup_share` to the share of each split,
and a subgroup with any minimum, or listed in `values`, must also be present in
validation and test when they exist. The label dimension takes its minimums from
`min_per_label` (see `labels.label_minimums`) and its findings come from the
`::labels` item. The share of required cells that are met is the subgroup coverage
of the run, printed like pytest-cov's line coverage.

On extraction datasets (`ctx.task`) the summary also holds a *key table*: per
top-level key of the JSON answers (at most `MAX_KEYS`), per split, how many answers
give it a value, leave it null or empty, or lack it, and how many answers are empty
as a whole; SUB007 reports an empty case that never occurs (docs/coverage.md).

`summary()` returns the whole table as plain data; the terminal, JSON, Markdown and
HTML reports are rendered from it on the xdist controller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from array import array
from bisect import bisect_left

import orjson

from ..behaviour import BEHAVIOURS, behaviour_of, is_empty_value
from ..config import MAX_EXTRACTION_KEYS, SubgroupSpec
from ..findings import Finding, example, rule
from ..formats import Example
from ..redact import display, display_repr
from ..text import compile_value_getter
from .base import Combiner, DatasetContext, DatasetFamily, FileInfo, FileMap
from .fingerprints import FingerprintMap, Fingerprints, UnionFind
from .labels import (
    EVALUATED_SPLITS,
    MAX_LABELS,
    SPLIT_COLUMNS,
    SPLIT_INDEX,
    compile_label_getter,
    dataset_location,
    LabelMap,
    LabelTotals,
    find_near_misses,
    finding_key,
    label_minimums,
    location_of,
    plural,
    primary_split,
    split_counts_text,
    split_key,
)

# -- rules --------------------------------------------------------------------------------

def _in_language(*tickets: tuple[str, str | None]) -> str:
    """JSON Lines of support chats with `metadata.language` (left out where it is None)."""
    lines = []
    for text, language in tickets:
        metadata = "{}" if language is None else '{"language": "%s"}' % language
        lines.append(
            '{"messages": [{"role": "user", "content": "%s"}, {"role": "assistant", "content": "Thanks, I have '
            'forwarded this to the team."}], "metadata": %s}' % (text, metadata)
        )
    return "\n".join(lines)


SUBGROUP_BELOW_MINIMUM = rule(
    code="SUB001", name="subgroup-below-minimum", family="subgroups", severity="error",
    summary="A subgroup has fewer examples in a split than its minimum.",
    why="""Coverage beats volume: a language, source, length range or customer segment with
    a handful of examples is a behaviour the model barely sees ("If you cannot name the
    subgroups in your dataset, you do not know what behavior you are training"). The
    minimum of a cell is `min_per_subgroup` in the training split, the
    `min_subgroup_share` of each split's examples (rounded up), and at least one example
    in validation and test (set globally, per dimension, or in the dimension's table).
    The message names the subgroup, its count in every split and the minimum it misses.""",
    fix="""Add examples of that subgroup to the split named, or lower the minimum if the
    subgroup matters less than it says.""",
    settings=("subgroups", "min_per_subgroup", "min_subgroup_share"),
    bad=example(
        _in_language(
            ("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("I cannot sign in.", "en"),
            ("Meine Rechnung ist falsch.", "de"),
        ),
        subgroups={"language": {"pointer": "/metadata/language", "min_per_subgroup": 2}},
    ),
    good=example(
        _in_language(
            ("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("I cannot sign in.", "en"),
            ("Meine Rechnung ist falsch.", "de"), ("Ich kann mich nicht anmelden.", "de"),
        ),
        subgroups={"language": {"pointer": "/metadata/language", "min_per_subgroup": 2}},
    ),
)
SUBGROUP_MISSING = rule(
    code="SUB002", name="subgroup-missing", family="subgroups", severity="error",
    summary="A required subgroup has no example in a split.",
    why="""A subgroup listed in the dimension's `values`, or one that has a minimum, is absent
    from a split: from train it is never learned, from validation or test it is never
    measured.""",
    fix="""Add examples of it to the split named, or remove it from `values`.""",
    settings=("subgroups", "min_per_subgroup", "min_subgroup_share"),
    bad=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en")),
        subgroups={"language": {"pointer": "/metadata/language", "values": ["en", "de"]}},
    ),
    good=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("Meine Rechnung ist falsch.", "de")),
        subgroups={"language": {"pointer": "/metadata/language", "values": ["en", "de"]}},
    ),
)
SUBGROUP_VALUE_MISSING = rule(
    code="SUB003", name="subgroup-value-missing", family="subgroups", severity="warning",
    summary="A subgroup pointer finds no value in some examples.",
    why="""The JSON Pointer of a `[tool.ftdata.subgroups]` dimension resolves to nothing (or
    to an empty string) in these examples; they are counted in a `(missing)` row that
    has no minimum, so whatever subgroup they belong to is undercounted. When no example
    has the value, the pointer is probably misspelled.""",
    fix="""Add the field to the examples, or fix the pointer.""",
    settings=("subgroups",),
    bad=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("Meine Rechnung ist falsch.", None)),
        subgroups={"language": "/metadata/language"},
    ),
    good=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("Meine Rechnung ist falsch.", "de")),
        subgroups={"language": "/metadata/language"},
    ),
)
TOO_MANY_SUBGROUPS = rule(
    code="SUB004", name="too-many-subgroups", family="subgroups", severity="warning",
    summary="A dimension has so many distinct values that it is not a subgroup.",
    why="""More than 1,000 distinct values means the pointer names free text or an id, not a
    subgroup; the rest are counted in an `(other values)` row, and the table says little.""",
    fix="""Point the dimension at a categorical field, or bucket the values in the data (for
    example a `length_bucket`).""",
    settings=("subgroups",),
)
UNEXPECTED_SUBGROUP_VALUE = rule(
    code="SUB005", name="unexpected-subgroup-value", family="subgroups", severity="warning",
    summary="A subgroup value is not among the dimension's declared `values`.",
    why="""The dimension lists its expected values and an example uses another one, often a
    spelling variant (`en-US` beside `en_us`) that splits one subgroup in two.""",
    fix="""Fix the value in the data, or add it to `values`.""",
    settings=("subgroups",),
    bad=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en-US"), ("Meine Rechnung ist falsch.", "de")),
        subgroups={"language": {"pointer": "/metadata/language", "values": ["en", "de"]}},
    ),
    good=example(
        _in_language(("My invoice is wrong.", "en"), ("The app crashes on start.", "en"), ("Meine Rechnung ist falsch.", "de")),
        subgroups={"language": {"pointer": "/metadata/language", "values": ["en", "de"]}},
    ),
)

def _tickets(*texts: str, label: str = "billing") -> str:
    return "\n".join(
        '{"messages": [{"role": "user", "content": "%s"}, {"role": "assistant", "content": "%s"}]}' % (text, label)
        for text in texts
    )


_VARIED_BILLING = (
    "My invoice is wrong.", "I was charged twice this month.", "How do I get a receipt?", "Can I pay by bank transfer?",
    "Why did my card get declined?", "The VAT number on my bill is missing.", "I want a refund for March.",
    "Where do I change my billing address?", "Is there a discount for yearly plans?", "My payment is still pending.",
    "Can I split the bill between two cards?", "Your prices went up without notice.", "How do I download old invoices?",
    "The amount in euros looks off.", "Please cancel my auto-renewal.", "I paid but the plan did not upgrade.",
    "Do you accept PayPal?", "Why is there a late fee?", "Send the invoice to my accountant.", "I need a quote first.",
)
MOSTLY_NEAR_COPIES = rule(
    code="SUB006", name="mostly-near-copies", family="subgroups", severity="warning",
    summary="Most examples of a subgroup are near-copies of each other.",
    why="""Coverage beats volume: a subgroup of 1,000 near-identical inputs teaches one example
    a thousand times, and its count in the coverage table overstates what the model
    sees. Each cell of the table also shows the examples that remain when
    near-duplicate clusters (the duplicates check's index: same or nearly the same
    input under one system prompt, `near_duplicate_threshold`) count once; a subgroup
    of at least 20 examples whose remaining share is at most `min_effective_share`
    (default 0.5) is reported. Checked for labels, your own dimensions, behaviours and
    splits.""",
    fix="""Replace the copies with varied examples of that subgroup (other phrasings, other
    customers, other edge cases), or deduplicate them and accept a smaller subgroup.""",
    settings=("min_effective_share", "near_duplicate_threshold", "label", "subgroups"),
    bad=example(
        _tickets(*[f"My invoice for order {n} is wrong." for n in range(20)], label="billing")
        + "\n" + _tickets(*_VARIED_BILLING, label="other"),
        label="target",
    ),
    good=example(_tickets(*_VARIED_BILLING, label="billing") + "\n" + _tickets(*_VARIED_BILLING[:5], label="other"),
                 label="target"),
)


def _extractions(*answers: tuple[str, str]) -> str:
    """JSON Lines of contact extraction chats: (input text, JSON answer)."""
    return "\n".join(
        '{"messages": [{"role": "system", "content": "Extract the contact as JSON."}, {"role": "user", "content": '
        '%s}, {"role": "assistant", "content": %s}]}' % (orjson.dumps(text).decode(), orjson.dumps(answer).decode())
        for text, answer in answers
    )


_CONTACTS = (
    ("Call Ann Lee at 555-0100.", '{"name": "Ann Lee", "phone": "555-0100"}'),
    ("Bo Chen, phone 555-0101, wants a callback.", '{"name": "Bo Chen", "phone": "555-0101"}'),
    ("Reach Cy Diaz on 555-0102 after five.", '{"name": "Cy Diaz", "phone": "555-0102"}'),
)
EMPTY_CASE_NEVER_SEEN = rule(
    code="SUB007", name="empty-case-never-seen", family="subgroups", severity="warning",
    summary="An extraction dataset never shows the answer for an input with nothing (or a field missing) to extract.",
    why="""For extraction, coverage means missing fields and inputs that should produce an
    empty answer. A model trained only on inputs that have every field learns to fill
    every key, and invents a value when the input has none. On extraction datasets
    (JSON answers, `task`), this is reported when no example of the training split has
    an empty answer (`{}`, `null`, `[]`, or an object whose every key is null, empty or
    a placeholder such as "N/A"; `expect_empty_answer`, on by default), and, for every
    key listed in `expect_empty`, for each split in which every JSON answer gives that key
    a value. It is a warning: the data may be right if every input of your task really
    has something to extract.""",
    fix="""Add examples whose input lacks the field (or has nothing to extract at all) and
    whose answer says so with null or `{}`; or, if every input of your task has it, set
    `[tool.ftdata.extraction] expect_empty_answer = false` (or take the key out of
    `expect_empty`).""",
    settings=("task", "extraction.expect_empty_answer", "extraction.expect_empty"),
    bad=example(_extractions(*_CONTACTS)),
    good=example(_extractions(*_CONTACTS, ("Thanks for the quick reply!", '{"name": null, "phone": null}'))),
)

# -- dimensions ---------------------------------------------------------------------------

MISSING_VALUE = "(missing)"
OTHER_VALUES = "(other values)"
NOT_SCALAR = "(not a single value)"
#: Rows that never carry a minimum.
SPECIAL_VALUES = (MISSING_VALUE, NOT_SCALAR, OTHER_VALUES)
#: Distinct values counted per dimension before the rest go to OTHER_VALUES.
MAX_SUBGROUPS = 1000
#: Distinct cell combinations a file may have before its effective counts are given up
#: (a pointer that names an id makes one per example).
MAX_CELLS = 100_000

#: Top-level keys of the JSON answers an extraction dataset's key table tracks (the keys
#: listed in `expect_empty` first, then the first ones seen); examples with more keys are
#: counted in `untracked`. Bounds the table's memory whatever the answers hold.
MAX_KEYS = MAX_EXTRACTION_KEYS
#: A key name is kept to this many characters (a hostile key cannot take memory).
MAX_KEY_CHARS = 100

#: Length buckets in characters: powers of four, so a log2 histogram gives them.
LENGTH_BUCKETS = ("0-63 chars", "64-255 chars", "256-1023 chars", "1024-4095 chars", "4096-16383 chars", "16384+ chars")
#: Bins of the length histograms: bin k holds lengths with k bits (0, 1, 2-3, 4-7, ...).
HISTOGRAM_BINS = 32
TURN_BUCKETS = ("0", "1", "2", "3", "4", "5-8", "9-16", "17+")
_TURN_BUCKET_OF = [0, 1, 2, 3, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7]


def length_bucket_of_bits(bits: int) -> int:
    """The LENGTH_BUCKETS index of a length with `bits` bits (len(text).bit_length())."""
    return 0 if bits <= 6 else min((bits - 5) // 2, len(LENGTH_BUCKETS) - 1)


def histogram_edges() -> list[int]:
    """Lower edge of every histogram bin: 0, 1, 2, 4, 8, ..."""
    return [0] + [1 << (bits - 1) for bits in range(1, HISTOGRAM_BINS)]


def subgroup_value(value: Any) -> str:
    """The subgroup a pointer's value names."""
    if value is None:
        return MISSING_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.strip() else MISSING_VALUE
    if isinstance(value, (int, float)):
        return str(value)
    return NOT_SCALAR


@dataclass
class Dimension:
    name: str
    #: label | pointer | split | format | system_prompt | turns | input_length | target_length
    kind: str
    #: The label spec or JSON Pointer, or "built-in".
    source: str
    min_count: int = 0
    min_share: float = 0.0
    values: list[str] | None = None
    #: value -> examples per split column
    counts: dict[str, list[int]] = field(default_factory=dict)
    overflow: bool = False

    @property
    def has_minimum(self) -> bool:
        return bool(self.min_count or self.min_share or self.values)

    def add(self, value: str, column: int, count: int, cap: int) -> None:
        row = self.counts.get(value)
        if row is None:
            if len(self.counts) >= cap and value not in SPECIAL_VALUES:
                self.overflow = True
                value = OTHER_VALUES
                row = self.counts.get(value)
            if row is None:
                row = self.counts[value] = [0] * len(SPLIT_COLUMNS)
        row[column] += count


def _setting_for(setting: Any, name: str) -> Any:
    if isinstance(setting, dict):
        return setting.get(name)
    return setting


def _pointer_dimensions(config) -> list[tuple[str, str, list[str] | None, int | None, float | None]]:
    """(name, pointer, declared values, min count, min share) of the user's dimensions."""
    out = []
    for name, spec in config.subgroups.items():
        if isinstance(spec, SubgroupSpec):
            out.append((name, spec.pointer, spec.values, spec.min_per_subgroup, spec.min_share))
        else:
            out.append((name, spec, None, None, None))
    return out


class SubgroupMap(FileMap):
    """The subgroups of one file: shape counts for the built-in dimensions, value counts
    for the user's pointers, and the first examples without a value or with an
    undeclared one. (Labels come from the shared `LabelMap`.)"""

    key = "subgroups"

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        super().__init__(ctx, file)
        self.pointers = [
            (name, pointer, frozenset(values) if values is not None else None)
            for name, pointer, values, _, _ in _pointer_dimensions(ctx.config)
        ]
        self._getters = [(name, compile_value_getter(spec), declared) for name, spec, declared in self.pointers]
        #: (format, has system prompt, turns, input length bits, target length bits, behaviour)
        #: -> examples: one dict update per example for six built-in dimensions.
        self.shapes: dict[tuple, int] = {}
        self.pointer_counts: list[dict[str, int]] = [{} for _ in self.pointers]
        #: pointer dimensions with more than MAX_SUBGROUPS values in this file
        self.overflowed: set[str] = set()
        #: pointer dimension -> [examples without a value, [(path, line)] of the first ones]
        self.pointer_missing: dict[str, list] = {name: [0, []] for name, _, _ in self.pointers}
        #: (dimension, value) -> (path, line) of the first example with an undeclared value
        self.unexpected: dict[tuple[str, str], tuple[str, int]] = {}
        # Which cell every example is in, for the effective counts (near-copies counted
        # once): the examples' distinct (shape, pointer values, label) combinations, and
        # per example its combination and its line, at 8 bytes an example.
        label = ctx.config.label
        self._label_of = compile_label_getter(label) if label else None
        self.cells: dict[tuple, int] = {}
        self.cell_of = array("I")
        self.cell_lines = array("I")
        #: more than MAX_CELLS combinations: the effective counts of this file are unknown
        self.cells_overflow = False
        # The key table of extraction datasets (None otherwise): key -> [examples whose
        # answer gives it a value, examples whose answer has it null or empty]; absent is
        # the rest of `objects`.
        self.keys: dict[str, list[int]] | None = None
        if ctx.task == "extraction":
            self.keys = {key: [0, 0] for key in ctx.config.extraction.expect_empty}
        #: JSON-object answers, answers that are not one, answers that are empty
        #: (`behaviour.behaviour_of` says `empty-answer`, or every key is null or empty),
        #: and JSON-object answers with a key beyond MAX_KEYS.
        self.objects = self.not_objects = self.empty_answers = self.untracked = 0

    def visit(self, example: Example) -> None:
        fmt = example.format
        has_system = example.system is not None
        if fmt == "chat":
            messages = example.record.get("messages")
            turns = len(messages) if type(messages) is list else 0
        else:
            turns = len(example.turns)
        turns -= has_system
        target = example.target_text
        key = (fmt, has_system, turns if turns < 17 else 17, len(example.input_text).bit_length(),
               len(target).bit_length(), behaviour_of(target, example.target_is_tool_call))
        shapes = self.shapes
        shapes[key] = shapes.get(key, 0) + 1
        if self.keys is not None:
            self._visit_keys(target, key[5])
        values = self._visit_pointers(example) if self.pointers else ()
        if self.cells_overflow:
            return
        cell = (key, values, self._label_of(example) if self._label_of is not None else None)
        cells = self.cells
        number = cells.get(cell)
        if number is None:
            if len(cells) >= MAX_CELLS:
                self.cells_overflow = True
                self.cell_of = array("I")
                self.cell_lines = array("I")
                return
            number = cells[cell] = len(cells)
        self.cell_of.append(number)
        self.cell_lines.append(example.line)

    def _visit_keys(self, target: str, behaviour: str) -> None:
        """Count which top-level keys the answer gives a value, leaves null or empty."""
        value = None
        text = target.lstrip()
        if text[:1] == "{":
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                pass
        if type(value) is not dict:
            self.not_objects += 1
            self.empty_answers += behaviour == "empty-answer"
            return
        self.objects += 1
        keys = self.keys
        all_empty = True
        long_keys: set[str] | None = None
        untracked = False
        for name, item in value.items():
            if len(name) > MAX_KEY_CHARS:
                # cut, and counted once per answer even when two long keys share the cut
                name = name[: MAX_KEY_CHARS - 1] + "…"
                long_keys = long_keys if long_keys is not None else set()
                if name in long_keys:
                    continue
                long_keys.add(name)
            empty = is_empty_value(item)
            all_empty = all_empty and empty
            counts = keys.get(name)
            if counts is None:
                if len(keys) >= MAX_KEYS:
                    untracked = True
                    continue
                counts = keys[name] = [0, 0]
            counts[empty] += 1
        self.untracked += untracked
        self.empty_answers += all_empty

    def _visit_pointers(self, example: Example) -> tuple[str, ...]:
        """Count the example's value of each pointer dimension; the values counted."""
        counted = []
        for index, (name, value_of, declared) in enumerate(self._getters):
            value = subgroup_value(value_of(example))
            if value == MISSING_VALUE:
                missing = self.pointer_missing[name]
                missing[0] += 1
                if len(missing[1]) < 8:
                    missing[1].append((example.path, example.line))
            elif declared is not None and value not in declared and (name, value) not in self.unexpected:
                if len(self.unexpected) < MAX_SUBGROUPS:
                    self.unexpected[(name, value)] = (example.path, example.line)
            counts = self.pointer_counts[index]
            seen = counts.get(value)
            if seen is None:
                if len(counts) >= MAX_SUBGROUPS and value not in SPECIAL_VALUES:
                    value = OTHER_VALUES
                    self.overflowed.add(name)
                seen = counts.get(value, 0)
            counts[value] = seen + 1
            counted.append(value)
        return tuple(counted)

    def result(self) -> "SubgroupMap":
        self._getters = []
        self._label_of = None
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "SubgroupTotals":
        return SubgroupTotals(ctx)


class SubgroupTotals(Combiner):
    """Every dimension's counts per split column, file by file."""

    def __init__(self, ctx: DatasetContext) -> None:
        config = ctx.config
        self.config = config
        self.dimensions: dict[str, Dimension] = {}
        if config.label:
            self.dimensions["label"] = Dimension("label", "label", config.label)
        self.pointers: list[tuple[str, str, frozenset | None]] = []
        for name, pointer, values, count, share in _pointer_dimensions(config):
            self.dimensions[name] = Dimension(name, "pointer", pointer, values=values)
            self.pointers.append((name, pointer, frozenset(values) if values is not None else None))
            self._set_minimums(self.dimensions[name], count, share)
        for name in ("split", "format", "system_prompt", "turns", "input_length", "target_length", "behaviour"):
            self.dimensions[name] = Dimension(name, name, "built-in")
            self._set_minimums(self.dimensions[name], None, None)
        #: behaviour -> split -> minimum share (`[tool.ftdata.behaviour] min_share`)
        self.behaviour_shares = behaviour_shares(config)
        if self.behaviour_shares:
            self.dimensions["behaviour"].values = [b for b in BEHAVIOURS if b in self.behaviour_shares]
        #: path -> (split column, cell combinations by number, cell per example, line per example)
        self.cell_files: dict[str, tuple[int, list[tuple], array, array]] = {}
        self.cells_overflow = False
        self.split_totals = [0] * len(SPLIT_COLUMNS)
        #: "input" / "target" -> per split column, HISTOGRAM_BINS counts
        self.histograms = {kind: [[0] * HISTOGRAM_BINS for _ in SPLIT_COLUMNS] for kind in ("input", "target")}
        self.pointer_missing: dict[str, list] = {name: [0, []] for name, _, _ in self.pointers}
        self.unexpected: dict[tuple[str, str], tuple[str, int]] = {}
        #: The key table (extraction datasets): key -> ([with a value], [null or empty]) per
        #: split column, and per split column the counts `SubgroupMap` keeps per file.
        self.keys: dict[str, tuple[list[int], list[int]]] = {
            key: ([0] * len(SPLIT_COLUMNS), [0] * len(SPLIT_COLUMNS)) for key in config.extraction.expect_empty
        }
        self.key_counts = {name: [0] * len(SPLIT_COLUMNS) for name in ("objects", "not_objects", "empty_answers", "untracked")}
        self.keys_truncated = False

    def _set_minimums(self, dimension: Dimension, count: int | None, share: float | None) -> None:
        if count is None:
            count = _setting_for(self.config.min_per_subgroup, dimension.name)
        if share is None:
            share = _setting_for(self.config.min_subgroup_share, dimension.name)
        dimension.min_count = count or 0
        dimension.min_share = share or 0.0

    def add(self, file: FileInfo, part: SubgroupMap) -> None:
        split = split_key(file.split)
        column = SPLIT_INDEX[split]
        self.split_totals[column] += file.examples
        dims = self.dimensions
        if file.examples:
            dims["split"].add(split, column, file.examples, MAX_SUBGROUPS)
        last_bin = HISTOGRAM_BINS - 1
        input_histogram = self.histograms["input"][column]
        target_histogram = self.histograms["target"][column]
        for (fmt, has_system, turns, input_bits, target_bits, behaviour), count in part.shapes.items():
            dims["behaviour"].add(behaviour, column, count, MAX_SUBGROUPS)
            dims["format"].add(fmt, column, count, MAX_SUBGROUPS)
            dims["system_prompt"].add("yes" if has_system else "no", column, count, MAX_SUBGROUPS)
            dims["turns"].add(TURN_BUCKETS[_TURN_BUCKET_OF[turns]], column, count, MAX_SUBGROUPS)
            input_histogram[min(input_bits, last_bin)] += count
            target_histogram[min(target_bits, last_bin)] += count
            dims["input_length"].add(LENGTH_BUCKETS[length_bucket_of_bits(input_bits)], column, count, MAX_SUBGROUPS)
            dims["target_length"].add(LENGTH_BUCKETS[length_bucket_of_bits(target_bits)], column, count, MAX_SUBGROUPS)
        for (name, _, _), counts in zip(self.pointers, part.pointer_counts):
            if name in part.overflowed:
                dims[name].overflow = True
            for value, count in counts.items():
                dims[name].add(value, column, count, MAX_SUBGROUPS)
        for name, (missing, firsts) in part.pointer_missing.items():
            total = self.pointer_missing[name]
            total[0] += missing
            total[1].extend(firsts[: max(0, 8 - len(total[1]))])
        for key, where in part.unexpected.items():
            if key not in self.unexpected and len(self.unexpected) < MAX_SUBGROUPS:
                self.unexpected[key] = where
        if part.keys is not None:
            self._add_keys(column, part)
        if part.cells_overflow:
            self.cells_overflow = True
        elif part.cell_of:
            combinations = sorted(part.cells, key=part.cells.__getitem__)
            self.cell_files[file.path] = (column, combinations, part.cell_of, part.cell_lines)

    def _add_keys(self, column: int, part: SubgroupMap) -> None:
        for name in self.key_counts:
            self.key_counts[name][column] += getattr(part, name)
        keys = self.keys
        for key, (present, empty) in part.keys.items():
            row = keys.get(key)
            if row is None:
                if len(keys) >= MAX_KEYS:
                    self.keys_truncated = True
                    continue
                row = keys[key] = ([0] * len(SPLIT_COLUMNS), [0] * len(SPLIT_COLUMNS))
            row[0][column] += present
            row[1][column] += empty
        if part.untracked:
            self.keys_truncated = True

    def add_labels(self, labels: LabelTotals) -> None:
        """The label dimension, from the labels the shared `LabelMap` counted per file."""
        dimension = self.dimensions.get("label")
        if dimension is None:
            return
        for column, counts, missing, overflow in labels.per_file:
            for value, count in counts.items():
                dimension.add(value, column, count, MAX_LABELS)
            if missing:
                dimension.add(MISSING_VALUE, column, missing, MAX_LABELS)
            if overflow:
                dimension.add(OTHER_VALUES, column, overflow, MAX_LABELS)


def behaviour_shares(config) -> dict[str, float | dict[str, float]]:
    """`[tool.ftdata.behaviour] min_share`: behaviour -> a share of the primary split, or
    a share per split."""
    return {name: dict(share) if isinstance(share, dict) else share for name, share in config.behaviour.min_share.items()}


def effective_clusters(index: Fingerprints) -> list[list[int]]:
    """The examples that count once: every set of two or more examples with the same or
    nearly the same input (the duplicates check's clusters, across splits; the cells
    split them again), in dataset order."""
    index.analyse()
    near = UnionFind()
    for a, b, _ in index.near_pairs:
        near.union(a, b)
    clusters: dict[int, list[int]] = {}
    for first in set(index.identical) | set(near.parent):
        root = near.find(first) if first in near.parent else first
        clusters.setdefault(root, []).extend(index.members_of(first))
    return [sorted(members) for members in clusters.values() if len(members) >= 2]


#: Subgroups smaller than this are not judged for near-copies.
MIN_EFFECTIVE_EXAMPLES = 20
#: The dimensions whose subgroups are judged for near-copies (the others describe the shape of
#: an example, and a dataset of near-copies would show in every one of their rows).
EFFECTIVE_KINDS = ("label", "pointer", "behaviour", "split")


class SubgroupsFamily(DatasetFamily):
    family = "subgroups"
    maps = (LabelMap, SubgroupMap, FingerprintMap)

    def __init__(self, ctx: DatasetContext) -> None:
        super().__init__(ctx)
        self._summary: dict | None = None

    # -- finish ------------------------------------------------------------------------------

    def finish(self) -> list[Finding]:
        totals: SubgroupTotals = self.combined(SubgroupMap)
        totals.add_labels(self.combined(LabelMap))
        self.dimensions, self.pointers, self.split_totals = totals.dimensions, totals.pointers, totals.split_totals
        self.histograms, self.pointer_missing, self.unexpected = totals.histograms, totals.pointer_missing, totals.unexpected
        self.behaviour_shares = totals.behaviour_shares
        findings: list[Finding] = []
        present = [split for split in SPLIT_COLUMNS if self.split_totals[SPLIT_INDEX[split]] > 0]
        self.present = present
        self.reductions = self._reductions(totals)
        dimensions = []
        required = met = 0
        for dimension in self.dimensions.values():
            table = self._table(dimension, present)
            required += table["required"]
            met += table["met"]
            dimensions.append(table)
            if dimension.kind != "label":
                findings.extend(self._row_findings(dimension, table))
            findings.extend(self._near_copy_findings(dimension, table))
        findings.extend(self._data_findings())
        keys = self._key_table(totals, present) if self.ctx.task == "extraction" else None
        if keys is not None:
            findings.extend(self._empty_case_findings(keys))
        examples = {split: self.split_totals[SPLIT_INDEX[split]] for split in present}
        self._summary = {
            "dataset": self.ctx.path,
            "splits": present,
            "examples": examples,
            "effective_examples": self._effective_examples(present),
            "required": required,
            "met": met,
            "dimensions": dimensions,
            "histograms": self._histograms(present),
        }
        if keys is not None:
            self._summary["keys"] = keys
        return findings

    def summary(self) -> dict | None:
        return self._summary

    # -- the key table of extraction datasets -------------------------------------------------

    def _key_table(self, totals: "SubgroupTotals", present: list[str]) -> dict:
        """Per top-level key of the JSON answers, per split: how many answers give it a
        value, leave it null or empty, or lack it (of the split's JSON-object answers)."""
        per_split = {
            name: {split: counts[SPLIT_INDEX[split]] for split in present} for name, counts in totals.key_counts.items()
        }
        objects = per_split["objects"]
        expected = set(self.config.extraction.expect_empty)
        rows = []
        for key, (with_value, empty) in totals.keys.items():
            row = {
                "key": display(key, 80),
                "present": {split: with_value[SPLIT_INDEX[split]] for split in present},
                "empty": {split: empty[SPLIT_INDEX[split]] for split in present},
            }
            row["absent"] = {split: objects[split] - row["present"][split] - row["empty"][split] for split in present}
            row["shares"] = {
                split: {state: round(row[state][split] / objects[split], 6) if objects[split] else 0.0
                        for state in ("present", "empty", "absent")}
                for split in present
            }
            row["expected_empty"] = key in expected
            missing = [split for split in present if objects[split] and not row["empty"][split] + row["absent"][split]]
            # a key no answer has is a misspelling, not an empty case seen
            nowhere = not any(row["present"].values()) and not any(row["empty"].values())
            row["status"] = ("MISSING" if missing or nowhere else "ok") if key in expected else None
            rows.append(row)
        primary = primary_split(present)
        answers = per_split["empty_answers"]
        if self.config.extraction.expect_empty_answer and primary is not None and objects[primary]:
            answer_status = "ok" if answers[primary] else "MISSING"
        else:
            answer_status = None
        return {
            "max_keys": MAX_KEYS,
            "truncated": totals.keys_truncated,
            "objects": objects,
            "not_objects": per_split["not_objects"],
            "empty_answers": answers,
            "empty_answer_status": answer_status,
            "rows": rows,
        }

    def _empty_case_findings(self, keys: dict) -> list[Finding]:
        findings = []
        primary = primary_split(self.present)
        if keys["empty_answer_status"] == "MISSING":
            total = self.split_totals[SPLIT_INDEX[primary]]
            findings.append(
                EMPTY_CASE_NEVER_SEEN.at(
                    location_of(self.ctx, primary), None,
                    f"No example of {primary} has an empty answer (of {plural(total, 'example')}, "
                    f"{keys['objects'][primary]:,} JSON answers): the model never learns to answer `{{}}` or null "
                    "for every key when an input has nothing to extract, and will invent values. Add such examples; "
                    "if every input of your task has something to extract, set [tool.ftdata.extraction] "
                    "expect_empty_answer = false.",
                    key=finding_key(EMPTY_CASE_NEVER_SEEN.code, "(answer)", primary),
                )
            )
        for row in keys["rows"]:
            if row["status"] != "MISSING":
                continue
            name = row["key"]
            if not any(row["present"].values()) and not any(row["empty"].values()):
                findings.append(
                    EMPTY_CASE_NEVER_SEEN.at(
                        dataset_location(self.ctx), None,
                        f"Key {name!r} of [tool.ftdata.extraction] expect_empty is in no JSON answer of the dataset; "
                        "check its spelling against one answer (top-level keys only).",
                        key=finding_key(EMPTY_CASE_NEVER_SEEN.code, name, "nowhere"),
                    )
                )
                continue
            for split in self.present:
                objects = keys["objects"][split]
                if not objects or row["empty"][split] + row["absent"][split]:
                    continue
                learned = "learned" if split == primary else "measured"
                findings.append(
                    EMPTY_CASE_NEVER_SEEN.at(
                        location_of(self.ctx, split), None,
                        f"Key {name!r} is never null, empty or absent in {split}: all {objects:,} JSON answers give it "
                        f"a value, so an input without one is never {learned}. Add {split} examples whose input lacks "
                        f"it and whose answer has {name!r}: null.",
                        key=finding_key(EMPTY_CASE_NEVER_SEEN.code, name, split),
                    )
                )
        return findings

    def _ordered_values(self, dimension: Dimension) -> list[str]:
        values = set(dimension.counts)
        if dimension.values:
            values |= set(dimension.values)
        if dimension.kind == "label" and self.config.labels:
            values |= set(self.config.labels)
        if dimension.kind in ("input_length", "target_length"):
            order = {bucket: index for index, bucket in enumerate(LENGTH_BUCKETS)}
            return sorted(values, key=order.__getitem__)
        if dimension.kind == "turns":
            order = {bucket: index for index, bucket in enumerate(TURN_BUCKETS)}
            return sorted(values, key=order.__getitem__)
        if dimension.kind == "split":
            return sorted(values, key=SPLIT_INDEX.__getitem__)
        if dimension.kind == "behaviour":
            return sorted(values, key=BEHAVIOURS.index)
        special = [value for value in SPECIAL_VALUES if value in values]
        return sorted(values - set(special), key=lambda value: (value.casefold(), value)) + special

    def _exempt_labels(self, dimension: Dimension) -> set[str]:
        """Labels the `::labels` item reports as mistakes: they carry no minimum."""
        if self.config.labels is not None:
            declared = set(self.config.labels)
            return {value for value in dimension.counts if value not in declared}
        totals = {value: sum(row) for value, row in dimension.counts.items() if value not in SPECIAL_VALUES}
        if len(totals) >= MAX_LABELS:
            return set(totals)
        return set(find_near_misses(totals))

    def _cell_minimums(self, dimension: Dimension, value: str, present: list[str], label_mins: dict) -> dict[str, int]:
        if value in SPECIAL_VALUES:
            return {}
        if dimension.kind == "label":
            return label_mins
        if dimension.kind == "behaviour":
            return self._behaviour_minimums(value, present)
        if dimension.values is not None and value not in dimension.values:
            return {}  # an undeclared value is reported by SUB005, not required
        if not dimension.has_minimum:
            return {}
        total = sum(self.split_totals)
        if dimension.kind == "split":
            minimum = max(1, dimension.min_count, _share_count(dimension.min_share, total))
            return {value: minimum}
        primary = primary_split(present)
        minimums = {}
        for split in present:
            if split not in EVALUATED_SPLITS and split != primary:
                continue
            minimum = 1
            if split == primary:
                minimum = max(minimum, dimension.min_count)
            if dimension.min_share:
                minimum = max(minimum, _share_count(dimension.min_share, self.split_totals[SPLIT_INDEX[split]]))
            minimums[split] = minimum
        return minimums

    def _behaviour_minimums(self, value: str, present: list[str]) -> dict[str, int]:
        """A share of one number applies to the primary split, and the behaviour must also
        appear in validation and test; a share per split applies to those splits."""
        share = self.behaviour_shares.get(value)
        if share is None:
            return {}
        if isinstance(share, dict):
            per_split = {split: share[split] for split in present if split in share}
        else:
            primary = primary_split(present)
            per_split = {split: share if split == primary else 0.0 for split in present
                         if split == primary or split in EVALUATED_SPLITS}
        return {
            split: max(1, _share_count(part, self.split_totals[SPLIT_INDEX[split]]))
            for split, part in per_split.items()
        }

    # -- effective examples ----------------------------------------------------------------

    def _reductions(self, totals: "SubgroupTotals") -> dict[str, dict[tuple[str, int], int]] | None:
        """dimension -> (subgroup, split column) -> how many examples of that cell are copies
        (members of a near-duplicate cluster after its first, under one system prompt);
        None when some file's cells are unknown."""
        if totals.cells_overflow:
            return None
        index: Fingerprints = self.combined(FingerprintMap)
        if not index.complete:
            return None  # over the memory budget without the `scale` extra: no clusters known (DUP006)
        reductions: dict[str, dict[tuple[str, int], int]] = {name: {} for name in self.dimensions}
        pointer_names = [name for name, _, _ in totals.pointers]
        for members in effective_clusters(index):
            seen: dict[tuple, int] = {}
            for eid in members:
                path = index.files[index.file_of[eid]].path
                where = totals.cell_files.get(path)
                if where is None:
                    return None  # the file's subgroup map failed: its cells are unknown
                column, combinations, cell_of, cell_lines = where
                line = index.line[eid]
                position = bisect_left(cell_lines, line)
                if position == len(cell_lines) or cell_lines[position] != line:
                    return None
                system = index.system[eid]
                for name, value in self._cell_values(combinations[cell_of[position]], pointer_names, column):
                    cell = (name, value, column, system)
                    seen[cell] = seen.get(cell, 0) + 1
            for (name, value, column, _), count in seen.items():
                if count > 1:
                    cells = reductions[name]
                    cells[(value, column)] = cells.get((value, column), 0) + count - 1
        return reductions

    def _cell_values(self, combination: tuple, pointer_names: list[str], column: int):
        """(dimension, subgroup) of every dimension for one combination of `SubgroupMap.cells`."""
        (fmt, has_system, turns, input_bits, target_bits, behaviour), values, label = combination
        yield "split", SPLIT_COLUMNS[column]
        yield "format", fmt
        yield "system_prompt", "yes" if has_system else "no"
        yield "turns", TURN_BUCKETS[_TURN_BUCKET_OF[turns]]
        yield "input_length", LENGTH_BUCKETS[length_bucket_of_bits(input_bits)]
        yield "target_length", LENGTH_BUCKETS[length_bucket_of_bits(target_bits)]
        yield "behaviour", behaviour
        for name, value in zip(pointer_names, values):
            yield name, value if value in self.dimensions[name].counts else OTHER_VALUES
        if "label" in self.dimensions:
            value = MISSING_VALUE if label is None else label
            yield "label", value if value in self.dimensions["label"].counts else OTHER_VALUES

    def _effective(self, dimension: Dimension, value: str, counts: list[int], present: list[str]) -> dict[str, int] | None:
        if self.reductions is None:
            return None
        cells = self.reductions.get(dimension.name, {})
        return {split: counts[SPLIT_INDEX[split]] - cells.get((value, SPLIT_INDEX[split]), 0) for split in present}

    def _effective_examples(self, present: list[str]) -> dict[str, int] | None:
        if self.reductions is None:
            return None
        cells = self.reductions["split"]
        return {
            split: self.split_totals[SPLIT_INDEX[split]] - cells.get((split, SPLIT_INDEX[split]), 0) for split in present
        }

    def _near_copy_findings(self, dimension: Dimension, table: dict) -> list[Finding]:
        share = self.config.min_effective_share
        if not share or dimension.kind not in EFFECTIVE_KINDS or self.reductions is None:
            return []
        findings = []
        for row in table["rows"]:
            total, effective = row["total"], row.get("effective_total")
            if effective is None or total < MIN_EFFECTIVE_EXAMPLES or effective > share * total:
                continue
            name = f"`{dimension.name}` = {row['subgroup']!r}"
            findings.append(
                MOSTLY_NEAR_COPIES.at(
                    dataset_location(self.ctx), None,
                    f"Subgroup {name} has {plural(total, 'example')}, but only {effective:,} remain when "
                    f"near-duplicates count once ({1 - effective / total:.0%} are near-copies): coverage beats "
                    "volume, so replace the copies with varied examples of it (other phrasings, cases, customers).",
                    key=finding_key(MOSTLY_NEAR_COPIES.code, dimension.name, row["subgroup"]),
                )
            )
        return findings

    def _table(self, dimension: Dimension, present: list[str]) -> dict:
        redacted = dimension.kind in ("label", "pointer")
        exempt = self._exempt_labels(dimension) if dimension.kind == "label" else set()
        label_mins = label_minimums(self.config, present) if dimension.kind == "label" else {}
        grand_total = sum(self.split_totals)
        rows = []
        required = met = 0
        for value in self._ordered_values(dimension):
            counts = dimension.counts.get(value) or [0] * len(SPLIT_COLUMNS)
            minimums = {} if value in exempt else self._cell_minimums(dimension, value, present, label_mins)
            status = None
            if minimums:
                shortfalls = [split for split, minimum in minimums.items() if counts[SPLIT_INDEX[split]] < minimum]
                required += len(minimums)
                met += len(minimums) - len(shortfalls)
                if any(counts[SPLIT_INDEX[split]] == 0 for split in shortfalls):
                    status = "MISSING"
                elif shortfalls:
                    status = "LOW"
                else:
                    status = "ok"
            total = sum(counts)
            effective = self._effective(dimension, value, counts, present)
            rows.append(
                {
                    "subgroup": display(value, 80) if redacted and value not in SPECIAL_VALUES else value,
                    "counts": {split: counts[SPLIT_INDEX[split]] for split in present},
                    "effective": effective,
                    "effective_total": sum(effective.values()) if effective is not None else None,
                    "total": total,
                    "share": round(total / grand_total, 6) if grand_total else 0.0,
                    "minimum": minimums,
                    "status": status,
                }
            )
        table = {
            "name": dimension.name,
            "kind": dimension.kind,
            "source": dimension.source,
            "rows": rows,
            "required": required,
            "met": met,
        }
        if dimension.kind == "label":
            table["settings"] = {"min_per_label": self.config.min_per_label}
        else:
            table["settings"] = {
                "min_per_subgroup": dimension.min_count or None,
                "min_share": dimension.min_share or None,
                # Declared values come from the config, which may name real ones (a customer
                # domain): shown as the rows are, through the masking.
                "values": [display(value, 80) for value in dimension.values] if dimension.values else dimension.values,
            }
        table["truncated"] = dimension.overflow
        return table

    def _row_findings(self, dimension: Dimension, table: dict) -> list[Finding]:
        findings = []
        present = self.present
        for row in table["rows"]:
            if row["status"] not in ("LOW", "MISSING"):
                continue
            counts = row["counts"]
            shortfalls = [(split, counts[split], minimum) for split, minimum in row["minimum"].items() if counts[split] < minimum]
            empty = [split for split, have, _ in shortfalls if have == 0]
            details = "; ".join(
                f"{split} has {have} of {minimum}{self._share_note(dimension, split, minimum, row)}"
                for split, have, minimum in shortfalls
            )
            name = f"`{dimension.name}` = {row['subgroup']!r}"
            counts_text = split_counts_text(counts, present)
            if empty:
                where = " and ".join(empty)
                message = (
                    f"Subgroup {name} has no examples in {where} ({details}; counts: {counts_text}); "
                    f"add {where} examples of it so it is {'learned' if 'train' in empty or 'other' in empty else 'measured'}."
                )
                rule_ = SUBGROUP_MISSING
            else:
                where = " and ".join(split for split, _, _ in shortfalls)
                message = (
                    f"Subgroup {name} is below its minimum in {where} ({details}; counts: {counts_text}); "
                    f"add at least {plural(sum(minimum - have for _, have, minimum in shortfalls), 'example')} of it there."
                )
                rule_ = SUBGROUP_BELOW_MINIMUM
            findings.append(
                rule_.at(
                    location_of(self.ctx, empty[0] if empty else shortfalls[0][0]), None, message,
                    key=finding_key(rule_.code, dimension.name, row["subgroup"]),
                )
            )
        return findings

    def _share_note(self, dimension: Dimension, split: str, minimum: int, row: dict) -> str:
        if dimension.kind == "behaviour":
            share = self.behaviour_shares.get(row["subgroup"])
            share = share.get(split) if isinstance(share, dict) else share if split == primary_split(self.present) else None
            total = self.split_totals[SPLIT_INDEX[split]]
            if share and minimum == _share_count(share, total) and minimum > 1:
                return f" ({share:.0%} of {total}, `[tool.ftdata.behaviour] min_share`)"
            return ""
        if dimension.kind == "split":
            total = sum(self.split_totals)
        else:
            total = self.split_totals[SPLIT_INDEX[split]]
        if dimension.min_share and minimum == _share_count(dimension.min_share, total) and minimum > 1:
            return f" ({dimension.min_share:.0%} of {total})"
        return ""

    def _data_findings(self) -> list[Finding]:
        findings = []
        total = sum(self.split_totals)
        for name, pointer, _ in self.pointers:
            missing, firsts = self.pointer_missing[name]
            if not missing:
                continue
            if missing == total:
                findings.append(
                    SUBGROUP_VALUE_MISSING.at(
                        dataset_location(self.ctx), None,
                        f"Subgroup dimension `{name}` finds no value at `{pointer}` in any of the {total} examples; "
                        "check the pointer against one record.",
                        key=finding_key("SUB003", name, "all"),
                    )
                )
                continue
            path, line = firsts[0]
            findings.append(
                SUBGROUP_VALUE_MISSING.at(
                    path, line,
                    f"Subgroup dimension `{name}` finds no value at `{pointer}` in {missing} of {total} examples; "
                    f"they are counted as {MISSING_VALUE}. Add the field to them.",
                    related=firsts[1:],
                    key=finding_key("SUB003", name),
                )
            )
        for name, dimension in self.dimensions.items():
            if dimension.overflow and dimension.kind != "label":
                findings.append(
                    TOO_MANY_SUBGROUPS.at(
                        dataset_location(self.ctx), None,
                        f"Subgroup dimension `{name}` (`{dimension.source}`) has more than {MAX_SUBGROUPS} distinct "
                        f"values; the rest are counted as {OTHER_VALUES}. Point it at a categorical field.",
                        key=finding_key("SUB004", name),
                    )
                )
        for (name, value), (path, line) in sorted(self.unexpected.items()):
            declared = self.dimensions[name].values or []
            count = sum(self.dimensions[name].counts.get(value, ()))
            findings.append(
                UNEXPECTED_SUBGROUP_VALUE.at(
                    path, line,
                    f"Subgroup `{name}` = {display_repr(value, 60)} ({plural(count, 'example')}) is not among its declared "
                    f"values ({', '.join(display_repr(v, 30) for v in declared[:8])}"
                    f"{', ...' if len(declared) > 8 else ''}); fix the value or add it to `values`.",
                    key=finding_key("SUB005", name, value),
                )
            )
        return findings

    def _histograms(self, present: list[str]) -> dict:
        edges = histogram_edges()
        out = {}
        for kind, per_split in self.histograms.items():
            used = [bits for bits in range(HISTOGRAM_BINS) if any(per_split[SPLIT_INDEX[s]][bits] for s in present)]
            if not used:
                out[f"{kind}_chars"] = {"edges": [], "counts": {split: [] for split in present}}
                continue
            low, high = used[0], used[-1] + 1
            out[f"{kind}_chars"] = {
                "edges": edges[low : high + 1] if high < HISTOGRAM_BINS else edges[low:high] + [None],
                "counts": {split: per_split[SPLIT_INDEX[split]][low:high] for split in present},
            }
        return out


def _share_count(share: float, total: int) -> int:
    """The count a share of `total` asks for, rounded up (without float noise)."""
    if not share:
        return 0
    return math.ceil(round(share * total, 9))
