"""`labels`: every label has enough examples, in every split, under one spelling.

"For classification, coverage means every label has enough examples and confusing
label pairs are represented." This family reads the label of each example (the
`label` setting: a JSON Pointer into the record, `target:/pointer` into the target
parsed as JSON, or `target` for the whole target text) and counts it per split.
At the end it checks the expected label set, spelling variants of one label, label
names that break tools, the minimum count per label and split, the presence of
every label in validation and test, the imbalance between labels, and both sides
of each confusable pair.

State is one small count vector per label and the first few line numbers of each
label in each file, so a million examples with a hundred labels cost kilobytes.
The label rows of the coverage report use `label_minimums()` from here, so the
table and the `::labels` item always agree.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
import zlib
from array import array
from bisect import bisect_right
from typing import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from ..config import FtdataConfig
from ..findings import Finding, example, rule
from ..formats import Example
from ..text import compile_value_getter, label_text
from ..label_model import LabelModelUnavailable, find_suspect_labels
from ..redact import display, display_repr
from ..text import excerpt
from .base import Combiner, DatasetContext, DatasetFamily, FileInfo, FileMap
from .refetch import read_again

# -- rules --------------------------------------------------------------------------------

def _routed(*tickets: tuple[str, str]) -> str:
    """JSON Lines of a ticket router: the answer (the target) is the queue, the label."""
    return "\n".join(
        f'{{"messages": [{{"role": "system", "content": "Route the support ticket to a queue."}}, '
        f'{{"role": "user", "content": "{text}"}}, {{"role": "assistant", "content": "{queue}"}}]}}'
        for text, queue in tickets
    )


MISSING_LABEL = rule(
    code="LBL001", name="missing-label", family="labels", severity="error",
    summary="An example has no label where the `label` setting points.",
    why="""The `label` pointer resolves to nothing (or to an empty string, an object or an
    array) in this example, so it counts toward no class and teaches the model no
    decision. When every example of a file is affected the pointer itself is usually
    wrong.""",
    fix="""Label the example or remove it. When every example is reported, check the
    `label` pointer against one record (for `target:/intent` the target must be JSON
    with an `intent` key).""",
    settings=("label",),
    bad=example(
        r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"intent\": \"billing\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"intent\": \"technical\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "{\"queue\": \"account\"}"}]}
        """,
        label="target:/intent",
    ),
    good=example(
        r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"intent\": \"billing\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"intent\": \"technical\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "{\"intent\": \"account\"}"}]}
        """,
        label="target:/intent",
    ),
)
UNKNOWN_LABEL = rule(
    code="LBL002", name="unknown-label", family="labels", severity="error",
    summary="An example's label is not in the expected `labels` list.",
    why="""`labels` declares the label set the model is trained to produce; this example
    uses another value, most often a typo or a renamed class. The model would learn an
    extra class that the product does not know.""",
    fix="""Fix the label (the message suggests the closest expected one), or add it to
    `labels` if the class is new.""",
    settings=("label", "labels"),
    bad=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
            ("How do I add a second admin?", "account"), ("Please close my account.", "acount"),
        ),
        label="target", labels=["billing", "technical", "account"],
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
            ("How do I add a second admin?", "account"), ("Please close my account.", "account"),
        ),
        label="target", labels=["billing", "technical", "account"],
    ),
)
EXPECTED_LABEL_ABSENT = rule(
    code="LBL003", name="expected-label-absent", family="labels", severity="error",
    summary="A label listed in `labels` has no example at all.",
    why="""The expected label set names a class that no file of the dataset contains, so
    the model can never learn to produce it.""",
    fix="""Add examples of the label, or remove it from `labels` if the class was dropped.""",
    settings=("label", "labels"),
    bad=example(
        _routed(("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical")),
        label="target", labels=["billing", "technical", "account"],
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
            ("How do I add a second admin?", "account"),
        ),
        label="target", labels=["billing", "technical", "account"],
    ),
)
NEAR_MISS_LABEL = rule(
    code="LBL004", name="near-miss-label", family="labels", severity="error",
    summary="A rare label is a spelling variant of a common one.",
    why="""Two label values differ only in case, separators or punctuation (`Billing` beside
    `billing`, `todo-list` beside `todo_list`), or a rare value is one or two edits away
    from a common one (`todo_lsit` beside `todo_list`). The model learns them as two
    classes and splits the examples between them. Each example of the rarer variant is
    flagged at its line. Pairs of similar names that are both common (`time` and
    `timer`) and pairs that differ in a number (`class_1`, `class_2`) are not flagged.
    Above 3,000 distinct labels only the case, separator and punctuation variants are
    looked for. Not checked when `labels` is set.""",
    fix="""Rename the variant to the common spelling. Declaring `labels` turns these into
    `unknown-label` findings with a suggestion instead.""",
    settings=("label", "labels"),
    bad=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("Please send me last year's invoices.", "billing"),
            ("My card payment was declined.", "billing"), ("Why did my price go up?", "Billing"),
            ("The app crashes when I upload a photo.", "technical"),
        ),
        label="target",
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("Please send me last year's invoices.", "billing"),
            ("My card payment was declined.", "billing"), ("Why did my price go up?", "billing"),
            ("The app crashes when I upload a photo.", "technical"),
        ),
        label="target",
    ),
)
ODD_LABEL_NAME = rule(
    code="LBL005", name="odd-label-name", family="labels", severity="warning",
    summary="A label name has stray whitespace, a control character or unusual punctuation.",
    why="""A label such as `reverted_card_payment?` or `billing ` (trailing space) works as a
    string but breaks tools that build file names, metrics keys, regular expressions or
    prompts from labels, and a stray character is usually an export accident.""",
    fix="""Rename the label everywhere it is used (data, `labels`, evaluation code), or turn
    this rule off if the name is intended.""",
    settings=("label",),
    bad=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
            ("I want my money back for last month.", "refund_request?"),
        ),
        label="target",
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
            ("I want my money back for last month.", "refund_request"),
        ),
        label="target",
    ),
)
TOO_FEW_EXAMPLES = rule(
    code="LBL006", name="too-few-examples", family="labels", severity="error",
    summary="A label has fewer examples in a split than `min_per_label` asks for.",
    why="""Coverage beats volume: a label with a handful of training examples is learned
    poorly, and a label with two test examples cannot be measured ("For
    classification, coverage means every label has enough examples"). `min_per_label`
    is an integer for the training split or a table per split (`{train = 20,
    validation = 5, test = 5}`); without a train split the integer applies to the files
    with no split in their name. The message gives the count in every split.""",
    fix="""Add as many examples of the label to the split as the message asks for, or merge
    the label into a related one if it is too rare to matter.""",
    settings=("label", "min_per_label", "splits"),
    bad=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("My card payment was declined.", "billing"),
            ("The app crashes when I upload a photo.", "technical"), ("Sync has stopped on my laptop.", "technical"),
            ("How do I add a second admin?", "account"),
        ),
        label="target", min_per_label=2,
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("My card payment was declined.", "billing"),
            ("The app crashes when I upload a photo.", "technical"), ("Sync has stopped on my laptop.", "technical"),
            ("How do I add a second admin?", "account"), ("I want to change my username.", "account"),
        ),
        label="target", min_per_label=2,
    ),
)
LABEL_MISSING_FROM_SPLIT = rule(
    code="LBL007", name="label-missing-from-split", family="labels", severity="error",
    summary="A label appears in some splits but not in another.",
    why="""Every label must be present in train (or the model never learns it) and in
    validation and test when those splits exist (or it is never measured).""",
    fix="""Add examples of the label to the split named in the message, keeping the examples
    grouped by their real-world source so that the splits stay independent.""",
    settings=("label", "min_per_label", "splits"),
    bad=example(
        {
            "train.jsonl": _routed(
                ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
                ("How do I add a second admin?", "account"),
            ),
            "val.jsonl": _routed(("My card payment was declined.", "billing"), ("Sync has stopped on my laptop.", "technical")),
        },
        label="target",
    ),
    good=example(
        {
            "train.jsonl": _routed(
                ("I was charged twice for my plan.", "billing"), ("The app crashes when I upload a photo.", "technical"),
                ("How do I add a second admin?", "account"),
            ),
            "val.jsonl": _routed(
                ("My card payment was declined.", "billing"), ("Sync has stopped on my laptop.", "technical"),
                ("I want to change my username.", "account"),
            ),
        },
        label="target",
    ),
)
LABEL_IMBALANCE = rule(
    code="LBL008", name="label-imbalance", family="labels", severity="error",
    summary="The most common label outnumbers the rarest by more than `max_label_imbalance`.",
    why="""A classifier trained on a heavily skewed label distribution learns the prior rather
    than the boundary, and its accuracy hides poor recall on the rare labels. The ratio
    is the count of the most common label over the count of the rarest present label, per
    split.""",
    fix="""Add examples of the rare labels or downsample the common ones, or raise
    `max_label_imbalance` if the skew matches production and you evaluate per label.""",
    settings=("label", "max_label_imbalance"),
    bad=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("Please send me last year's invoices.", "billing"),
            ("My card payment was declined.", "billing"), ("Why did my price go up?", "billing"),
            ("The app crashes when I upload a photo.", "technical"),
        ),
        label="target", max_label_imbalance=3.0,
    ),
    good=example(
        _routed(
            ("I was charged twice for my plan.", "billing"), ("Please send me last year's invoices.", "billing"),
            ("My card payment was declined.", "billing"), ("Why did my price go up?", "billing"),
            ("The app crashes when I upload a photo.", "technical"), ("Sync has stopped on my laptop.", "technical"),
        ),
        label="target", max_label_imbalance=3.0,
    ),
)
CONFUSABLE_TOO_FEW = rule(
    code="LBL009", name="confusable-too-few", family="labels", severity="error",
    summary="One side of a confusable label pair is below the minimum in a split.",
    why="""`confusable` lists label pairs (or groups) that look alike, such as `todo_list` and
    `reminder`. "Examples where two labels look similar" are where a model fails first,
    so both sides need at least the minimum (`min_per_label`, or at least one example when
    no minimum is set) in every split.""",
    fix="""Add examples of the named side to the split, ideally ones close to the boundary
    with its partner.""",
    settings=("label", "confusable", "min_per_label"),
    bad=example(
        {
            "train.jsonl": _routed(
                ("Please cancel my subscription.", "cancel_subscription"),
                ("I want to stop paying for a few months.", "pause_subscription"),
            ),
            "val.jsonl": _routed(("End my plan at the end of the month.", "cancel_subscription")),
        },
        label="target", confusable=[["cancel_subscription", "pause_subscription"]],
    ),
    good=example(
        {
            "train.jsonl": _routed(
                ("Please cancel my subscription.", "cancel_subscription"),
                ("I want to stop paying for a few months.", "pause_subscription"),
            ),
            "val.jsonl": _routed(
                ("End my plan at the end of the month.", "cancel_subscription"),
                ("Can I put my plan on hold while I travel?", "pause_subscription"),
            ),
        },
        label="target", confusable=[["cancel_subscription", "pause_subscription"]],
    ),
)
UNKNOWN_CONFUSABLE_LABEL = rule(
    code="LBL010", name="unknown-confusable-label", family="labels", severity="error",
    summary="A label named in `confusable` occurs nowhere in the dataset.",
    why="""A `confusable` pair names a label that no example uses and `labels` does not
    declare: usually a typo in the config, which would leave the pair unchecked.""",
    fix="""Fix the name in `confusable` (the message suggests the closest label found in the
    data), or remove the pair if the class was dropped.""",
    settings=("label", "confusable", "labels"),
    bad=example(
        _routed(
            ("Please cancel my subscription.", "cancel_subscription"),
            ("I want to stop paying for a few months.", "pause_subscription"),
        ),
        label="target", confusable=[["cancel_subscription", "pause_subscripton"]],
    ),
    good=example(
        _routed(
            ("Please cancel my subscription.", "cancel_subscription"),
            ("I want to stop paying for a few months.", "pause_subscription"),
        ),
        label="target", confusable=[["cancel_subscription", "pause_subscription"]],
    ),
)
TOO_MANY_LABELS = rule(
    code="LBL011", name="too-many-labels", family="labels", severity="warning",
    summary="The `label` setting yields so many distinct values that it is not a class label.",
    why="""More than 10,000 distinct labels usually means `label` points at free text or an
    id (`label = "target"` on a generation dataset). Counting stops at that many labels,
    and the spelling and imbalance checks are skipped.""",
    fix="""Point `label` at the class field, or unset it for a dataset that has no classes.""",
    settings=("label",),
)

SUSPECT_LABEL = rule(
    code="LBL012", name="suspect-label", family="labels", severity="warning",
    summary="An example's label disagrees with what the rest of the dataset says.",
    why=""""Remove examples with wrong answers": a wrong label teaches the wrong class, and
    one in the test split corrupts the honest final comparison. A fast text model
    (character and word n-grams, a linear classifier) is fitted on the train split, out
    of fold for train itself, and confident learning (cleanlab's `find_label_issues`,
    self-confidence ranking) decides which disagreements are issues. A suspicion, not a
    proof: the message gives the label the data suggests, how sure the model is, and the
    most similar examples that carry that label. Classification datasets only (see
    `task`); needs the `[labels]` extra. A dataset of more than 250,000 labelled examples
    is judged on a sample of 250,000, the same on every run and however the files are
    split between workers.""",
    fix="""Read the example beside the similar ones the message names. Relabel it if the
    suggestion is right; if both labels fit, the pair of labels may be too close to learn
    (see the label pairs the data confuses in the coverage report). Turn the check off with
    `suspect_labels = false`.""",
    settings=("label", "suspect_labels", "task"),
)
SUSPECT_LABELS_UNAVAILABLE = rule(
    code="LBL013", name="suspect-labels-unavailable", family="labels", severity="warning",
    summary="The suspect-label check cannot run: its optional packages are not installed.",
    why="""Finding wrong labels needs scikit-learn and cleanlab (the `[labels]` extra, about
    300 MB). Without them the check does not run, and the run says so rather than pass
    in silence.""",
    fix="""`pip install 'pytest-ftdata[labels]'`, or set `suspect_labels = false`.""",
    settings=("suspect_labels",),
)
CONFUSED_PAIR_TOO_FEW = rule(
    code="LBL014", name="confused-pair-too-few", family="labels", severity="warning",
    summary="Two labels the data confuses have too few examples in validation or test to measure.",
    why="""The out-of-sample predictions mix these two labels up more than any others (the
    coverage report lists the pairs): it is where the model will err, and the evaluation
    splits need enough examples of both to tell whether it does. This is the automatic
    version of the `confusable` setting.""",
    fix="""Add validation and test examples of both labels (at least `min_per_confused_pair`
    each), ideally near their boundary; or declare the pair in `confusable` with a
    minimum of its own.""",
    settings=("min_per_confused_pair", "suspect_labels"),
)

#: Examples the suspect-label model is fitted on at most (a deterministic sample beyond).
SUSPECT_SAMPLE = 250_000
#: Characters of an input the model reads (enough for an intent; the excerpt is read again).
SUSPECT_TEXT_CHARS = 2000
#: Confused pairs listed in the report.
MAX_CONFUSED_PAIRS = 20

# -- shared with the subgroups check and the coverage report --------------------------------

#: Split columns in report order; files whose name gives no split are counted as "other".
SPLIT_COLUMNS = ("train", "validation", "test", "other")
SPLIT_INDEX = {name: index for index, name in enumerate(SPLIT_COLUMNS)}
#: Splits where every label (and every required subgroup) must be present when they exist.
EVALUATED_SPLITS = ("train", "validation", "test")

#: Line numbers kept per label and file, for line-level findings.
MAX_LINES = 20
#: Distinct labels counted before the label is treated as free text.
MAX_LABELS = 10_000
#: Above this many labels, only case/separator variants are looked for (pairwise edit
#: distances would cost too much).
MAX_LABELS_FOR_EDIT_DISTANCE = 3_000
#: A spelling variant is "rare" when it has at most this share of its partner's examples.
RARE_VARIANT_SHARE = 0.2


def compile_label_getter(spec: str) -> Callable[[Example], str | None]:
    """`text.example_label` for one spec, compiled once (it runs for every example)."""
    value_of = compile_value_getter(spec)
    return lambda example: label_text(value_of(example))


def split_key(split: str | None) -> str:
    return split or "other"


def primary_split(present: Iterable[str]) -> str | None:
    """The split an integer minimum applies to: train, else the files without a split."""
    present = set(present)
    if "train" in present:
        return "train"
    if "other" in present:
        return "other"
    return None


def label_minimums(config: FtdataConfig, present: list[str]) -> dict[str, int]:
    """The minimum count of every label per split (only the splits that must hold it).

    Every label must be present (at least 1) in train, validation and test when they
    exist, or in the files without a split when there is no train file;
    `min_per_label` raises that: an integer for the primary split, a table per split.
    """
    primary = primary_split(present)
    required = [s for s in present if s in EVALUATED_SPLITS or s == primary]
    minimums = {split: 1 for split in required}
    setting = config.min_per_label
    if isinstance(setting, int):
        if primary is not None:
            minimums[primary] = max(1, setting)
    elif isinstance(setting, dict):
        for split, value in setting.items():
            target = primary if split == "train" and primary == "other" else split
            if target in minimums:
                minimums[target] = max(1, value)
    return minimums


def normalize_label(label: str) -> str:
    """Case, separators and punctuation removed: equal forms name one label."""
    return re.sub(r"[\W_]+", "", label.casefold())


_DIGITS = re.compile(r"\d+")


def _allowed_edits(a: str, b: str) -> int:
    shortest = min(len(a), len(b))
    if shortest >= 10:
        return 2
    if shortest >= 4:
        return 1
    return 0


_NEAR_MISS_MEMO: list = [None, None]


def find_near_misses(totals: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Spelling variants among `totals` (label -> examples): variant -> (label, how).

    `how` is ``"spelling"`` for labels equal up to case, separators and punctuation
    (always a mistake, whatever the counts) and ``"edit"`` for a rare label one or two
    edits from a common one. The labels and subgroups checks both ask, with the same
    counts: the last answer is remembered.
    """
    fingerprint = tuple(sorted(totals.items()))
    if _NEAR_MISS_MEMO[0] == fingerprint:
        return dict(_NEAR_MISS_MEMO[1])
    variants = _find_near_misses(totals)
    _NEAR_MISS_MEMO[0], _NEAR_MISS_MEMO[1] = fingerprint, dict(variants)
    return variants


def _find_near_misses(totals: dict[str, int]) -> dict[str, tuple[str, str]]:
    variants: dict[str, tuple[str, str]] = {}
    by_form: dict[str, list[str]] = {}
    for label in totals:
        form = normalize_label(label)
        if form:
            by_form.setdefault(form, []).append(label)
    representatives = []
    for labels in by_form.values():
        ranked = sorted(labels, key=lambda label: (-totals[label], label))
        representatives.append(ranked[0])
        for other in ranked[1:]:
            variants[other] = (ranked[0], "spelling")
    if len(representatives) > MAX_LABELS_FOR_EDIT_DISTANCE:
        return variants
    # Most common first: a label can only be the variant of one seen before it. Only
    # labels of a similar length (two edits at most) that are common enough to make
    # this one "rare" are compared: per length they are a prefix of the labels seen,
    # found by bisection, so similar counts cost nothing.
    representatives.sort(key=lambda label: (-totals[label], label))
    seen_by_length: dict[int, tuple[list[str], list[int]]] = {}
    for label in representatives:
        size = len(label)
        if size >= 4:
            needed = -totals[label] / RARE_VARIANT_SHARE  # partners have at least this many, negated
            candidates = []
            for length in range(size - 2, size + 3):
                seen = seen_by_length.get(length)
                if seen is not None:
                    candidates += seen[0][: bisect_right(seen[1], needed)]
            if candidates:
                digits = _DIGITS.findall(label)
                for candidate, distance, _ in process.extract(
                    label, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=None
                ):
                    if distance <= _allowed_edits(label, candidate) and _DIGITS.findall(candidate) == digits:
                        variants[label] = (candidate, "edit")
                        break
        if label not in variants:
            labels, negated = seen_by_length.setdefault(size, ([], []))
            labels.append(label)
            negated.append(-totals[label])
    return variants


_ODD_CHARACTERS = re.compile(r"[?!;,\"'`()\[\]{}<>|\\*]")


def label_name_problem(label: str) -> str | None:
    """Why a label name is odd, or None."""
    if label != label.strip():
        return "has leading or trailing whitespace"
    if not label.isprintable():
        return "contains a line break or control character"
    if "  " in label:
        return "contains repeated spaces"
    match = _ODD_CHARACTERS.search(label)
    if match:
        return f"contains the character {match.group()!r}"
    return None


def show(label: str) -> str:
    """A label for messages and reports: redacted, shortened, quoted."""
    return display_repr(label, 60)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def split_counts_text(counts: dict[str, int] | list[int], splits: list[str]) -> str:
    if isinstance(counts, list):
        counts = {split: counts[SPLIT_INDEX[split]] for split in splits}
    return ", ".join(f"{split} {counts.get(split, 0)}" for split in splits)


def finding_key(*parts: str) -> str:
    """A stable key for a dataset-level finding (no line numbers in it)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def location_of(ctx: DatasetContext, split: str | None) -> str:
    """Where a split-level finding points: the split's file when there is exactly one,
    else the dataset directory."""
    if split is not None:
        files = [info.path for info in ctx.files if split_key(info.split) == split]
        if len(files) == 1:
            return files[0]
    return dataset_location(ctx)


def dataset_location(ctx: DatasetContext) -> str:
    return "./" if ctx.path in ("", ".") else f"{ctx.path.rstrip('/')}/"


# -- the check ------------------------------------------------------------------------------


class LabelMap(FileMap):
    """The labels of one file: a count per label, the first lines of each, and the
    examples without one. Shared by the `labels` and `subgroups` families."""

    key = "labels"

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        super().__init__(ctx, file)
        spec = ctx.config.label
        self._label_of = compile_label_getter(spec) if spec else None
        self.counts: dict[str, int] = {}
        self.lines: dict[str, array] = {}
        #: examples with a label past the first MAX_LABELS distinct ones of the file
        self.overflow = 0
        self.missing = 0
        self.missing_lines = array("I")

    def visit(self, example: Example) -> None:
        label_of = self._label_of
        if label_of is None:
            return
        label = label_of(example)
        if label is None:
            self.missing += 1
            if self.missing <= MAX_LINES:
                self.missing_lines.append(example.line)
            return
        counts = self.counts
        seen = counts.get(label)
        if seen is None:
            if len(counts) >= MAX_LABELS:
                self.overflow += 1
                return
            counts[label] = 1
            self.lines[label] = array("I", (example.line,))
        else:
            counts[label] = seen + 1
            if seen < MAX_LINES:
                self.lines[label].append(example.line)

    def result(self) -> "LabelMap":
        self._label_of = None
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "LabelTotals":
        return LabelTotals(ctx)


class LabelTotals(Combiner):
    """The labels of a dataset per split column, file by file."""

    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        #: label -> examples per split column (SPLIT_COLUMNS order)
        self.counts: dict[str, list[int]] = {}
        #: label -> [(path, first MAX_LINES line numbers in that file)], in file order
        self.lines: dict[str, list[tuple[str, array]]] = {}
        self.split_totals = [0] * len(SPLIT_COLUMNS)
        #: path -> (examples without a label, their first lines)
        self.missing: dict[str, tuple[int, array]] = {}
        #: examples per split column whose label was past MAX_LABELS distinct ones
        self.overflow_by_column = [0] * len(SPLIT_COLUMNS)
        #: (split column, label -> count, missing, overflow) per file, for the subgroups table
        self.per_file: list[tuple[int, dict[str, int], int, int]] = []

    @property
    def overflow(self) -> int:
        return sum(self.overflow_by_column)

    def add(self, file: FileInfo, part: LabelMap) -> None:
        column = SPLIT_INDEX[split_key(file.split)]
        self.split_totals[column] += file.examples
        self.overflow_by_column[column] += part.overflow
        path = file.path
        if part.missing:
            self.missing[path] = (part.missing, part.missing_lines)
        self.per_file.append((column, part.counts, part.missing, part.overflow))
        for label, count in part.counts.items():
            row = self.counts.get(label)
            if row is None:
                if len(self.counts) >= MAX_LABELS:
                    self.overflow_by_column[column] += count
                    continue
                row = self.counts[label] = [0] * len(SPLIT_COLUMNS)
            row[column] += count
            self.lines.setdefault(label, []).append((path, part.lines[label]))


def _keep_lowest(heap: list[tuple], row: tuple) -> None:
    """Add `row` to `heap`, the rows of the `SUSPECT_SAMPLE` lowest priorities so far.

    Rows start with the priority negated, so once full the list is a max-heap by priority
    (heapq's smallest is the largest priority kept) and a row replaces its top only when
    its own priority is lower."""
    if len(heap) < SUSPECT_SAMPLE:
        heap.append(row)
        if len(heap) == SUSPECT_SAMPLE:
            heapq.heapify(heap)
    elif row[0] > heap[0][0]:
        heapq.heapreplace(heap, row)


class LabelTextMap(FileMap):
    """The input and label of the examples of one file, for the suspect-label model:
    only on classification datasets with `suspect_labels` on (the one map that keeps
    text: an input's first `SUSPECT_TEXT_CHARS` characters; never shown).

    At most `SUSPECT_SAMPLE` examples of a file are kept, and as many of the dataset:
    each example draws a priority from a generator seeded by its file's path, and the
    sample is the examples with the lowest priorities (a bottom-k sample). The draw
    depends on the file alone, never on the files read before it, so each file's
    sample can be taken apart (on another worker, say) and the combined sample is the
    same; below `SUSPECT_SAMPLE` examples every one is kept, in dataset order."""

    key = "label-texts"

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        super().__init__(ctx, file)
        wanted = ctx.config.label and ctx.config.suspect_labels and ctx.task == "classification"
        self._label_of = compile_label_getter(ctx.config.label) if wanted else None
        self._random = random.Random(zlib.crc32(file.path.encode("utf-8", "surrogatepass"))).random
        #: (-priority, line, text, label): a max-heap by priority once full.
        self.rows: list[tuple[float, int, str, str]] = []
        self.seen = 0

    def visit(self, example: Example) -> None:
        label_of = self._label_of
        if label_of is None:
            return
        label = label_of(example)
        text = example.input_text
        if label is None or not text:
            return
        self.seen += 1
        _keep_lowest(self.rows, (-self._random(), example.line, text[:SUSPECT_TEXT_CHARS], label))

    def result(self) -> "LabelTextMap":
        self._label_of = self._random = None
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "LabelTexts":
        return LabelTexts()


class LabelTexts(Combiner):
    """The dataset's sample of (text, label, split, file, line), in dataset order: the
    `SUSPECT_SAMPLE` lowest priorities of every file's sample (see `LabelTextMap`)."""

    def __init__(self) -> None:
        self.seen = 0
        self._rows: list[tuple[str, str, str | None, FileInfo, int]] | None = None
        #: (-priority, file number, line, text, label) while full: a max-heap by priority.
        self._heap: list[tuple[float, int, int, str, str]] = []
        self._files: list[FileInfo] = []

    def add(self, file: FileInfo, part: LabelTextMap) -> None:
        self.seen += part.seen
        number = len(self._files)
        self._files.append(file)
        for priority, line, text, label in part.rows:
            _keep_lowest(self._heap, (priority, number, line, text, label))
        part.rows = []
        self._rows = None

    @property
    def rows(self) -> list[tuple[str, str, str | None, FileInfo, int]]:
        """The sample, in dataset order (made once every file is in)."""
        if self._rows is None:
            files = self._files
            kept = sorted(self._heap, key=lambda row: (row[1], row[2]))
            self._rows = [(text, label, files[n].split, files[n], line) for _, n, line, text, label in kept]
        return self._rows
class LabelsFamily(DatasetFamily):
    family = "labels"
    maps = (LabelMap, LabelTextMap)
    finishes_last = True  # the suspect-label model

    def __init__(self, ctx: DatasetContext) -> None:
        super().__init__(ctx)
        self.spec = self.config.label
        self._summary: dict | None = None

    # -- finish ----------------------------------------------------------------------------

    def finish(self) -> list[Finding]:
        if self.spec is None:
            return []
        totals: LabelTotals = self.combined(LabelMap)
        self.counts, self.lines, self.missing = totals.counts, totals.lines, totals.missing
        self.split_totals, self.overflow = totals.split_totals, totals.overflow
        self.findings: list[Finding] = []
        present = [split for split in SPLIT_COLUMNS if self.split_totals[SPLIT_INDEX[split]] > 0]
        self.present = present
        self._missing_labels()
        if not self.counts and not self.config.labels:
            return self.findings
        if self.overflow:
            self.findings.append(
                TOO_MANY_LABELS.at(
                    dataset_location(self.ctx), None,
                    f"The label setting `{self.spec}` yields more than {MAX_LABELS} distinct values "
                    f"({self.overflow} examples not counted); it looks like free text or an id, not a class "
                    "label. Point `label` at the class field.",
                )
            )
            return self.findings
        totals = {label: sum(row) for label, row in self.counts.items()}
        expected = list(dict.fromkeys(self.config.labels)) if self.config.labels is not None else None
        skipped: set[str] = set()
        if expected is not None:
            skipped |= self._unknown_labels(expected)
        else:
            skipped |= self._near_misses(totals)
        self._odd_names()
        confusable = self._confusable_partners(totals, expected)
        minimums = label_minimums(self.config, present)
        labels = list(self.counts)
        if expected is not None:
            labels += [label for label in expected if label not in self.counts]
        for label in sorted(labels):
            if label in skipped:
                continue
            self._check_minimums(label, minimums, confusable.get(label))
        self._imbalance(skipped)
        self._suspects()
        return self.findings

    def summary(self) -> dict | None:
        return self._summary

    # -- suspect labels and the pairs the data confuses ------------------------------------------

    def _suspects(self) -> None:
        if not (self.config.suspect_labels and self.ctx.task == "classification"):
            return
        sample: LabelTexts = self.combined(LabelTextMap)
        if not sample.rows:
            return
        try:
            result = find_suspect_labels(
                [row[0] for row in sample.rows], [row[1] for row in sample.rows], [row[2] for row in sample.rows]
            )
        except LabelModelUnavailable as missing:
            self.findings.append(
                SUSPECT_LABELS_UNAVAILABLE.at(
                    dataset_location(self.ctx), None,
                    f"The suspect-label check did not run: {missing}. Or set suspect_labels = false.",
                    key=finding_key("LBL013"),
                )
            )
            return
        rows = sample.rows
        # A finding quotes its own example; the related ones are named by path:line only.
        shown = self._quoted(rows, [s.index for s in result.suspects])
        for suspect in result.suspects:
            _, given, split, file, line = rows[suspect.index]
            related = [(rows[r][3].path, rows[r][4]) for r in suspect.related]
            similar = f"; {plural(len(related), 'similar example')} carry {show(suspect.suggested)}" if related else ""
            self.findings.append(
                SUSPECT_LABEL.at(
                    file.path, line,
                    f"Example is labelled {show(given)} but the rest of the dataset suggests {show(suspect.suggested)} "
                    f"(the model is {suspect.confidence:.0%} sure{similar}); check the label, and relabel it if the "
                    "suggestion is right.",
                    related=related,
                    excerpt=shown.get(suspect.index),
                )
            )
        self._confused(result, sample)

    def _quoted(self, rows: list, indexes: list[int]) -> dict[int, str]:
        """Excerpts of the examples a finding quotes, read again from their files."""
        by_file: dict[str, list[int]] = {}
        for index in dict.fromkeys(indexes):
            by_file.setdefault(rows[index][3].path, []).append(index)
        out = {}
        for members in by_file.values():
            info = rows[members[0]][3]
            examples = read_again(info, [rows[i][4] for i in members], self.config)
            for index in members:
                example = examples.get(rows[index][4])
                if example is not None:
                    out[index] = excerpt(example)
        return out

    def _confused(self, result, sample: "LabelTexts") -> None:
        pairs = []
        minimum = self.config.min_per_confused_pair
        evaluated = [split for split in ("validation", "test") if split in self.present]
        for pair in result.confused_pairs[:MAX_CONFUSED_PAIRS]:
            counts = {
                split: (self._row(pair.a)[SPLIT_INDEX[split]], self._row(pair.b)[SPLIT_INDEX[split]])
                for split in self.present
            }
            pairs.append({
                "a": display(pair.a, 60), "b": display(pair.b, 60), "confusions": pair.count,
                "a_to_b": pair.a_to_b, "b_to_a": pair.b_to_a,
                "counts": {split: {"a": a, "b": b} for split, (a, b) in counts.items()},
            })
            thin = [split for split in evaluated if min(counts[split]) < minimum]
            if thin:
                where = " and ".join(f"{split} ({show(pair.a)} {counts[split][0]}, {show(pair.b)} {counts[split][1]})" for split in thin)
                self.findings.append(
                    CONFUSED_PAIR_TOO_FEW.at(
                        location_of(self.ctx, thin[0]), None,
                        f"Labels {show(pair.a)} and {show(pair.b)} are confused {pair.count} times by a model of the "
                        f"data, but {where} hold fewer than {minimum} examples of each; add evaluation examples of both "
                        "so the difference can be measured.",
                        key=finding_key("LBL014", pair.a, pair.b),
                    )
                )
        judged = result.diagnostics.get("examples", len(sample.rows))
        self._summary = {
            "dataset": self.ctx.path,
            "confused_pairs": pairs,
            "judged": judged,
            "sampled": len(sample.rows) < sample.seen,
            "examples": sample.seen,
        }

    def _row(self, label: str) -> list[int]:
        return self.counts.get(label) or [0] * len(SPLIT_COLUMNS)

    def _at_label_lines(self, rule_, label: str, message: str, key: str) -> None:
        """One finding per kept line of `label` (keyed by the line's content, as the
        baseline does for line findings), and one for the lines not kept."""
        row = self._row(label)
        kept = 0
        for path, lines in self.lines.get(label, ()):
            kept += len(lines)
            for line in lines:
                self.findings.append(rule_.at(path, line, message))
        if sum(row) > kept:
            self.findings.append(
                rule_.at(
                    dataset_location(self.ctx), None,
                    f"{message} ({sum(row) - kept} more examples with this label are not listed.)",
                    key=key,
                )
            )

    def _missing_labels(self) -> None:
        for path, (count, lines) in sorted(self.missing.items()):
            info = next((f for f in self.ctx.files if f.path == path), None)
            examples = info.examples if info is not None else count
            if count == examples and examples > 1:
                self.findings.append(
                    MISSING_LABEL.at(
                        path, None,
                        f"None of the {examples} examples has a label at `{self.spec}`; check the `label` "
                        "setting against one record.",
                        key=finding_key("LBL001", path, "all"),
                    )
                )
                continue
            for line in lines:
                self.findings.append(
                    MISSING_LABEL.at(
                        path, line,
                        f"Example has no label at `{self.spec}` (missing, empty or not a single value); "
                        "label it or remove it.",
                    )
                )
            if count > len(lines):
                self.findings.append(
                    MISSING_LABEL.at(
                        path, None,
                        f"{count - len(lines)} more examples in this file have no label at `{self.spec}`.",
                    )
                )

    def _unknown_labels(self, expected: list[str]) -> set[str]:
        known = set(expected)
        unknown = sorted(label for label in self.counts if label not in known)
        for label in unknown:
            match = process.extractOne(label, expected, score_cutoff=60) if expected else None
            hint = f" (did you mean {show(match[0])}?)" if match else ""
            counts = split_counts_text(self._row(label), self.present)
            message = (
                f"Label {show(label)} is not in the expected `labels`{hint}; {counts}. "
                "Fix the label, or add it to `labels` if the class is new."
            )
            self._at_label_lines(UNKNOWN_LABEL, label, message, finding_key("LBL002", label))
        return set(unknown)

    def _near_misses(self, totals: dict[str, int]) -> set[str]:
        variants = find_near_misses(totals)
        for variant, (label, how) in sorted(variants.items()):
            what = "differs only in case, separators or punctuation from" if how == "spelling" else "is a near-miss spelling of"
            message = (
                f"Label {show(variant)} ({plural(totals[variant], 'example')}) {what} {show(label)} "
                f"({plural(totals[label], 'example')}); rename it to {show(label)}."
            )
            self._at_label_lines(NEAR_MISS_LABEL, variant, message, finding_key("LBL004", variant, label))
        return set(variants)

    def _odd_names(self) -> None:
        for label in sorted(self.counts):
            problem = label_name_problem(label)
            if problem is None:
                continue
            path, lines = self.lines[label][0]
            line = lines[0]
            counts = split_counts_text(self._row(label), self.present)
            self.findings.append(
                ODD_LABEL_NAME.at(
                    path, line,
                    f"Label {show(label)} {problem} ({counts}); such names break tools that build names or "
                    "patterns from labels. Rename it everywhere, or turn LBL005 off if it is intended.",
                    key=finding_key("LBL005", label),
                )
            )

    def _confusable_partners(self, totals: dict[str, int], expected: list[str] | None) -> dict[str, list[str]]:
        partners: dict[str, list[str]] = {}
        declared = set(expected or ())
        known = sorted(set(totals) | declared)
        reported: set[str] = set()
        for group in self.config.confusable:
            for label in group:
                others = [other for other in group if other != label]
                partners.setdefault(label, [])
                partners[label] += [other for other in others if other not in partners[label]]
                if label in totals or label in declared or label in reported:
                    continue
                reported.add(label)
                match = process.extractOne(label, known, score_cutoff=60) if known else None
                hint = f" (did you mean {show(match[0])}?)" if match else ""
                self.findings.append(
                    UNKNOWN_CONFUSABLE_LABEL.at(
                        dataset_location(self.ctx), None,
                        f"Confusable label {show(label)} (paired with {', '.join(show(o) for o in others)}) "
                        f"occurs in no example{hint}; fix `confusable` so the pair is checked.",
                        key=finding_key("LBL010", label),
                    )
                )
        # A label named only in `confusable` and found nowhere was reported above.
        return {label: others for label, others in partners.items() if label in totals or label in declared}

    def _check_minimums(self, label: str, minimums: dict[str, int], partners: list[str] | None) -> None:
        row = self._row(label)
        total = sum(row)
        counts = split_counts_text(row, self.present)
        if total == 0:
            self.findings.append(
                EXPECTED_LABEL_ABSENT.at(
                    dataset_location(self.ctx), None,
                    f"Expected label {show(label)} (from `labels`) has no examples in any file; add examples "
                    "of it, or remove it from `labels`.",
                    key=finding_key("LBL003", label),
                )
            )
            return
        for split, minimum in minimums.items():
            have = row[SPLIT_INDEX[split]]
            if have >= minimum:
                continue
            where = location_of(self.ctx, split)
            key = finding_key("LBL-min", label, split)
            if partners:
                partner_counts = "; ".join(
                    f"{show(other)} has {self._row(other)[SPLIT_INDEX[split]]}" for other in partners
                )
                self.findings.append(
                    CONFUSABLE_TOO_FEW.at(
                        where, None,
                        f"Confusable label {show(label)} has {plural(have, 'example')} in {split}, below the minimum of "
                        f"{minimum} ({counts}; its partner {partner_counts}); add {minimum - have} or more "
                        f"{split} examples of it, ideally near the boundary with its partner.",
                        key=key,
                    )
                )
            elif have == 0:
                consequence = "the model never learns it" if split in ("train", "other") else "it is never measured"
                self.findings.append(
                    LABEL_MISSING_FROM_SPLIT.at(
                        where, None,
                        f"Label {show(label)} has no examples in {split} ({counts}), so {consequence}; add "
                        f"{split} examples of it (at least {minimum}).",
                        key=key,
                    )
                )
            else:
                self.findings.append(
                    TOO_FEW_EXAMPLES.at(
                        where, None,
                        f"Label {show(label)} has {plural(have, 'example')} in {split}, below the minimum of {minimum} "
                        f"({counts}); add at least {minimum - have} more.",
                        key=key,
                    )
                )

    def _imbalance(self, skipped: set[str]) -> None:
        limit = self.config.max_label_imbalance
        if limit is None:
            return
        for split in self.present:
            column = SPLIT_INDEX[split]
            counts = {
                label: row[column] for label, row in self.counts.items() if row[column] > 0 and label not in skipped
            }
            if len(counts) < 2:
                continue
            most = max(counts, key=lambda label: (counts[label], label))
            least = min(counts, key=lambda label: (counts[label], label))
            ratio = counts[most] / counts[least]
            if ratio <= limit:
                continue
            below = sum(1 for count in counts.values() if counts[most] / count > limit)
            self.findings.append(
                LABEL_IMBALANCE.at(
                    location_of(self.ctx, split), None,
                    f"Labels in {split} are imbalanced: {show(most)} has {plural(counts[most], 'example')} and "
                    f"{show(least)} has {counts[least]} (ratio {ratio:.1f}, max_label_imbalance {limit:g}; "
                    f"{below} of {len(counts)} labels are more than {limit:g} times rarer than {show(most)}); "
                    "add examples of the rare labels or downsample the common ones.",
                    key=finding_key("LBL008", split),
                )
            )
