"""`splits`: the dataset has train, validation and test splits of sensible sizes.

"Keep separate data for separate jobs. The training set updates the model. The
validation set tells you whether the model is improving during training. The test
set is held back until you need an honest final comparison." The files of a dataset
directory are its splits, by name (`engine.split_of`: `train`/`training`,
`val`/`valid`/`validation`/`dev`, `test`/`eval`/`holdout` as a word of the file name)
or by the `splits` setting.

"For small projects, a practical starting point is 80 percent train, 10 percent
validation, and 10 percent test. For very small datasets, use a larger validation set
than feels comfortable." So the sizes are compared with `split_ratios` within
`split_tolerance`, and validation and test must hold at least `min_split_size`
examples; when the minimum asks for more than the ratio, the minimum is what the
ratio check expects.

The files of a dataset must also agree on the shape of a record: alpaca_libre keeps
`similarity` at the top level in v1 and under `other.similarity` in v2, and nothing
says so unless `record_schema` is set. `ShapeMap` counts the key sets of each file's
records (top-level keys, and the keys of objects directly under them); a file whose
usual key set differs from the others', and a minority of records with another key
set inside one file, are reported.
"""

from __future__ import annotations

from array import array

from ..config import SPLITS, FtdataConfig
from ..findings import Finding, example, rule
from ..formats import Example
from ..redact import display
from .base import Combiner, DatasetContext, DatasetFamily, FileInfo, FileMap

#: Support tickets the examples of the split rules distribute over their files.
_TICKETS = [
    '{"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page."}]}',
    '{"messages": [{"role": "user", "content": "Where is my invoice?"}, {"role": "assistant", "content": "Under Billing > History, next to each payment."}]}',
    '{"messages": [{"role": "user", "content": "Do you ship to Canada?"}, {"role": "assistant", "content": "Yes, in 5 to 8 business days."}]}',
    '{"messages": [{"role": "user", "content": "Can I pause my plan?"}, {"role": "assistant", "content": "Yes, for up to three months under Billing > Plan."}]}',
    '{"messages": [{"role": "user", "content": "How do I add a team member?"}, {"role": "assistant", "content": "Open Settings > Team and choose Invite."}]}',
    '{"messages": [{"role": "user", "content": "Is my data backed up?"}, {"role": "assistant", "content": "Yes, every night, kept for 30 days."}]}',
    '{"messages": [{"role": "user", "content": "Can I export my contacts?"}, {"role": "assistant", "content": "Yes: open Contacts and choose Export."}]}',
    '{"messages": [{"role": "user", "content": "Do you support single sign-on?"}, {"role": "assistant", "content": "Yes, SAML and OIDC on the Business plan."}]}',
    '{"messages": [{"role": "user", "content": "How do I close my account?"}, {"role": "assistant", "content": "Open Settings > Account and choose Close account."}]}',
    '{"messages": [{"role": "user", "content": "Can I get a receipt?"}, {"role": "assistant", "content": "Yes: every payment has one under Billing > History."}]}',
    '{"messages": [{"role": "user", "content": "Is there a dark mode?"}, {"role": "assistant", "content": "Yes: Settings > Appearance > Dark."}]}',
]


def _lines(*numbers: int) -> str:
    return "\n".join(_TICKETS[number] for number in numbers)


SPLIT_RATIO = rule(
    code="SPL001", name="split-ratio", family="splits", severity="warning",
    summary="A split's share of the dataset is off the expected ratio.",
    why="""The share of examples in a split differs from `split_ratios` (default 80/10/10, the
    lesson's "practical starting point") by more than `split_tolerance` (default 0.05).
    Where the minimum size of validation or test asks for more than its ratio, the
    minimum is expected instead, so a small dataset is expected to have a larger
    validation split. Too little validation or test data makes scores noisy; too little
    training data wastes the evaluation. Not checked when a split is below
    `min_split_size` (SPL002 says what to do then).""",
    fix="""Move examples between splits (by group, see `group_by`), or set `split_ratios` to
    the split you intend (`split_ratios = {}` turns the check off).""",
    settings=("split_ratios", "split_tolerance", "min_split_size", "splits"),
    bad=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4, 5), "val.jsonl": _lines(6, 7), "test.jsonl": _lines(8, 9)},
        min_split_size={},
    ),
    good=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4, 5, 6, 7), "val.jsonl": _lines(8), "test.jsonl": _lines(9)},
        min_split_size={},
    ),
)
SPLIT_TOO_SMALL = rule(
    code="SPL002", name="split-too-small", family="splits", severity="warning",
    summary="A split has fewer examples than `min_split_size`.",
    why="""An evaluation split below `min_split_size` (default 100 examples each for
    validation and test) gives scores dominated by noise: with 100 examples an accuracy
    is only known to about +-10 points. "For very small datasets, use a larger
    validation set than feels comfortable. You need signal more than you need another
    dozen training examples." A minimum for train can be set too.""",
    fix="""Move examples from train to the small split (by group), or collect more.""",
    settings=("min_split_size", "splits"),
    bad=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4, 5), "val.jsonl": _lines(6), "test.jsonl": _lines(7, 8)},
        min_split_size={"validation": 2, "test": 2},
    ),
    good=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4), "val.jsonl": _lines(5, 6), "test.jsonl": _lines(7, 8)},
        min_split_size={"validation": 2, "test": 2},
    ),
)
MISSING_SPLIT = rule(
    code="SPL003", name="missing-split", family="splits", severity="warning",
    summary="The dataset has no train, validation or test split.",
    why="""No file of the dataset directory is named (or configured with `splits`) as this
    split. Without validation you cannot tell whether training helps; without a held-back
    test set there is no honest final comparison ("The test set is held back until you
    need an honest final comparison"); without train there is nothing to fine-tune on.
    When no file is named as a split at all, leakage between splits is not checked
    either.""",
    fix="""Split the data by group into files named `train.jsonl`, `val.jsonl` and
    `test.jsonl` (any name with the split as a word works, such as
    `tickets_val.jsonl`), or map the files with `splits`.""",
    settings=("splits",),
    bad=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4, 5, 6, 7), "val.jsonl": _lines(8)},
        min_split_size={},
    ),
    good=example(
        {"train.jsonl": _lines(0, 1, 2, 3, 4, 5, 6, 7), "val.jsonl": _lines(8), "test.jsonl": _lines(9)},
        min_split_size={},
    ),
)
UNASSIGNED_FILE = rule(
    code="SPL004", name="unassigned-file", family="splits", severity="warning",
    summary="A data file belongs to no split while the others do.",
    why="""The dataset has split files, and this file's name names none (and `splits` does
    not list it), so its examples are left out of the split sizes and of the leakage
    checks (a copy of a test example in it goes unnoticed).""",
    fix="""Rename it (`tickets_2023_train.jsonl`), list it under `splits`, or move it out of
    the dataset directory.""",
    settings=("splits",),
    bad=example(
        {
            "train.jsonl": _lines(0, 1, 2, 3, 4, 5, 6, 7), "val.jsonl": _lines(8), "test.jsonl": _lines(9),
            "tickets_2023.jsonl": _lines(10),
        },
        min_split_size={},
    ),
    good=example(
        {
            "train.jsonl": _lines(0, 1, 2, 3, 4, 5, 6, 7), "val.jsonl": _lines(8), "test.jsonl": _lines(9),
            "tickets_2023_train.jsonl": _lines(10),
        },
        min_split_size={},
    ),
)

SCHEMA_DRIFT = rule(
    code="SPL005", name="schema-drift", family="splits", severity="warning",
    summary="The files of a dataset keep their records in different shapes.",
    why="""Most records of one file carry keys that most records of another file of the same
    dataset do not (alpaca_libre: `similarity` at the top level in v1, `other.similarity`
    in v2). A loader written for one file silently reads nothing, or the wrong field,
    from the other, and provenance or labels go missing for part of the data.""",
    fix="""Bring the files to one record layout (the message lists the keys each has that the
    other lacks), or declare the layout with `record_schema` so every record is checked.""",
    settings=("record_schema", "splits"),
    bad=example({
        "train.jsonl": """
            {"instruction": "Name a primary colour.", "output": "Red.", "similarity": 0.42}
            {"instruction": "Name a planet.", "output": "Mars.", "similarity": 0.37}
        """,
        "test.jsonl": """
            {"instruction": "Name an ocean.", "output": "The Pacific.", "other": {"similarity": 0.51}}
        """,
    }),
    good=example({
        "train.jsonl": """
            {"instruction": "Name a primary colour.", "output": "Red.", "similarity": 0.42}
            {"instruction": "Name a planet.", "output": "Mars.", "similarity": 0.37}
        """,
        "test.jsonl": """
            {"instruction": "Name an ocean.", "output": "The Pacific.", "similarity": 0.51}
        """,
    }),
)
RECORD_SHAPE_DRIFT = rule(
    code="SPL006", name="record-shape-drift", family="splits", severity="warning",
    summary="A minority of a file's records has another set of keys than the rest.",
    why="""At most a tenth of the file's records (and at least one) carry keys the other
    records lack, or lack keys they all have: usually an export from another version of
    a pipeline mixed in, whose fields are read wrongly or not at all.""",
    fix="""Convert the odd records to the layout of the rest (the message names the keys and
    the first lines), or set `record_schema` to say which layout is right.""",
    settings=("record_schema",),
    bad=example(
        "\n".join(
            [f'{{"instruction": "Add {n} and {n}.", "output": "{2 * n}", "source": "v1"}}' for n in range(19)]
            + ['{"instruction": "Add 19 and 19.", "output": "38", "meta": {"source": "v2"}}']
        )
    ),
    good=example(
        "\n".join(f'{{"instruction": "Add {n} and {n}.", "output": "{2 * n}", "source": "v1"}}' for n in range(20))
    ),
)

#: Distinct key sets counted per file (bounded memory); the rest are not told apart.
MAX_SHAPES = 200
#: A key set used by at most this share of a file's records is a minority.
MINORITY_SHARE = 0.10
#: Records a file needs before its minority shapes say anything.
MIN_RECORDS_FOR_SHAPES = 20
#: Lines kept per key set, for the findings.
MAX_SHAPE_LINES = 20


def record_shape(record: dict) -> frozenset:
    """The keys of a record, with the keys of objects directly under it as `outer.inner`."""
    keys = list(record)
    for key, value in record.items():
        if type(value) is dict:
            keys.extend(f"{key}.{inner}" for inner in value)
    return frozenset(keys)


class ShapeMap(FileMap):
    """The key sets of one file's records, with a count and the first lines of each."""

    key = "shapes"

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        super().__init__(ctx, file)
        self.counts: dict[frozenset, int] = {}
        self.lines: dict[frozenset, array] = {}
        self.records = 0
        #: key set -> shape, remembered by the record's top-level key order (records repeat it)
        self._memo: dict[tuple, frozenset] = {}

    def visit(self, example: Example) -> None:
        record = example.record
        self.records += 1
        top = tuple(record)
        shape = self._memo.get(top)
        if shape is None or any(type(record[key]) is dict for key in top):
            shape = record_shape(record)
            if len(self._memo) < MAX_SHAPES and not any(type(record[key]) is dict for key in top):
                self._memo[top] = shape
        seen = self.counts.get(shape)
        if seen is None:
            if len(self.counts) >= MAX_SHAPES:
                return
            self.counts[shape] = 1
            self.lines[shape] = array("I", (example.line,))
        else:
            self.counts[shape] = seen + 1
            if seen < MAX_SHAPE_LINES:
                self.lines[shape].append(example.line)

    def result(self) -> "ShapeMap":
        self._memo = {}
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "Shapes":
        return Shapes()


class Shapes(Combiner):
    def __init__(self) -> None:
        self.files: list[tuple[FileInfo, ShapeMap]] = []

    def add(self, file: FileInfo, part: ShapeMap) -> None:
        if part.records:
            self.files.append((file, part))


def _keys(keys) -> str:
    shown = [f"`{display(key, 40)}`" for key in sorted(keys)[:8]]
    return ", ".join(shown) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")


def check_shapes(shapes: Shapes) -> list[Finding]:
    """SPL005 between files (their usual key sets), SPL006 within each file."""
    findings: list[Finding] = []
    usual: list[tuple[FileInfo, frozenset, int]] = []
    for file, part in shapes.files:
        dominant, count = max(part.counts.items(), key=lambda item: (item[1], sorted(item[0])))
        usual.append((file, dominant, count))
        total = part.records
        if total < MIN_RECORDS_FOR_SHAPES:
            continue
        for shape, seen in part.counts.items():
            if shape == dominant or seen > MINORITY_SHARE * total:
                continue
            extra, missing = shape - dominant, dominant - shape
            differs = "; ".join(
                text for text in (
                    f"they have {_keys(extra)}, which the others lack" if extra else "",
                    f"they lack {_keys(missing)}" if missing else "",
                ) if text
            )
            lines = part.lines[shape]
            findings.append(
                RECORD_SHAPE_DRIFT.at(
                    file.path, lines[0],
                    f"{seen} of {total} records of {file.path} have another set of keys than the other "
                    f"{count} ({differs}); convert them to one layout, or set record_schema.",
                    related=[(file.path, line) for line in lines[1:]],
                )
            )
    if len(usual) >= 2:
        reference_file, reference, _ = max(usual, key=lambda item: (item[2], item[0].path))
        for file, dominant, _ in usual:
            if dominant == reference:
                continue
            only_here, only_there = dominant - reference, reference - dominant
            parts = []
            if only_here:
                parts.append(f"its records have {_keys(only_here)}")
            if only_there:
                parts.append(f"they lack {_keys(only_there)}")
            findings.append(
                SCHEMA_DRIFT.at(
                    file.path, None,
                    f"{file.path} keeps its records in another shape than {reference_file.path}: "
                    f"{' and '.join(parts)}; bring the files to one layout, or declare it with record_schema.",
                )
            )
    return findings


_SPLIT_WORDS_HELP = "train/training, val/valid/validation/dev or test/eval/holdout as a word of the file name"
_MISSING_WHY = {
    "train": "there is nothing to fine-tune on",
    "validation": "nothing tells you whether training is improving the model",
    "test": "nothing is held back for an honest final comparison",
}
_NAMES = {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}


def dataset_location(path: str) -> str:
    return "./" if path in ("", ".") else f"{path.rstrip('/')}/"


def split_location(files: list[FileInfo], split: str, dataset_path: str) -> str:
    """The split's file when it has exactly one, else the dataset directory."""
    paths = [info.path for info in files if info.split == split]
    return paths[0] if len(paths) == 1 else dataset_location(dataset_path)


def expected_shares(counts: dict[str, int], config: FtdataConfig) -> dict[str, float]:
    """The share each present split should have: `split_ratios` renormalized over the
    present splits, raised to `min_split_size / total` for evaluation splits, with
    train taking what is left."""
    total = sum(counts.values())
    ratios = {split: config.split_ratios[split] for split in counts if split in config.split_ratios}
    weight = sum(ratios.values())
    if not total or not weight:
        return {}
    shares = {split: ratio / weight for split, ratio in ratios.items()}
    for split in shares:
        if split != "train":
            shares[split] = min(1.0, max(shares[split], config.min_split_size.get(split, 0) / total))
    if "train" in shares:
        shares["train"] = max(0.0, 1.0 - sum(share for split, share in shares.items() if split != "train"))
    return shares


def check_splits(files: list[FileInfo], config: FtdataConfig, dataset_path: str) -> list[Finding]:
    """The split findings of one dataset, from its files' split names and example counts."""
    where = dataset_location(dataset_path)
    counts: dict[str, int] = {}
    for info in files:
        if info.split:
            counts[info.split] = counts.get(info.split, 0) + info.examples
    findings: list[Finding] = []
    if not counts:
        if files:
            findings.append(
                MISSING_SPLIT.at(
                    where, None,
                    f"No file of dataset {where} is named as a split ({_SPLIT_WORDS_HELP}): there is no "
                    "validation or test data, and leakage between splits is not checked; split the data into "
                    "train.jsonl, val.jsonl and test.jsonl (by group), or map the files with `splits`.",
                )
            )
        return findings
    configured = " or listed under `splits`" if config.splits else ""
    for info in files:
        if not info.split:
            findings.append(
                UNASSIGNED_FILE.at(
                    info.path, None,
                    f"File {info.path} is in no split (the name has no {_SPLIT_WORDS_HELP}{configured}) while "
                    "the other files of the dataset are: its examples are left out of the split sizes and the "
                    "leakage checks; rename it or list it under `splits`.",
                )
            )
    for split in SPLITS:
        if split not in counts:
            findings.append(
                MISSING_SPLIT.at(
                    where, None,
                    f"Dataset {where} has no {split} split, so {_MISSING_WHY[split]}; add one (for example "
                    f"{_NAMES[split]}, split by group from the rest) or map a file to it with `splits`.",
                )
            )
    total = sum(counts.values())
    summary = ", ".join(f"{split} {counts[split]}" for split in SPLITS if split in counts)
    too_small = set()
    for split in SPLITS:
        minimum = config.min_split_size.get(split, 0)
        if split in counts and counts[split] < minimum:
            too_small.add(split)
            findings.append(
                SPLIT_TOO_SMALL.at(
                    split_location(files, split, dataset_path), None,
                    f"The {split} split has {counts[split]} examples, fewer than the minimum of {minimum} "
                    f"(`min_split_size`; {summary}): "
                    + (
                        "collect more training examples or lower the minimum."
                        if split == "train"
                        else "a score on so few examples is mostly noise; move examples from train (a small dataset "
                        "needs a larger share in validation than feels comfortable) or collect more."
                    ),
                )
            )
    # A split below its minimum is already reported, with what to do; the ratios that
    # minimum implies are then out of reach and would only repeat it.
    if total and len(counts) >= 2 and not too_small:
        shares = expected_shares(counts, config)
        for split, expected in shares.items():
            actual = counts[split] / total
            if split in too_small or abs(actual - expected) <= config.split_tolerance + 1e-9:
                continue
            findings.append(
                SPLIT_RATIO.at(
                    split_location(files, split, dataset_path), None,
                    f"The {split} split holds {actual:.1%} of the {total} examples ({summary}); about "
                    f"{expected:.0%} is expected (`split_ratios`, within `split_tolerance` of "
                    f"{config.split_tolerance:.0%}): move examples between splits, by group, or set "
                    "`split_ratios` to the split you intend.",
                )
            )
    return findings


class SplitsFamily(DatasetFamily):
    family = "splits"
    maps = (ShapeMap,)

    def finish(self) -> list[Finding]:
        return check_splits(self.ctx.files, self.config, self.ctx.path) + check_shapes(self.combined(ShapeMap))
