"""The `labels` family: label counts, spelling variants, minimums, imbalance, confusable pairs.

Most tests run the pure core (`analyze_dataset`) on small datasets written in a tmp
dir; the pytester tests check what a user sees from `pytest --ftdata`, and the real
CLINC150 and Banking77 data check that the rules hold on real label sets (150 and 77
intents) without false positives.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from pytest_ftdata.families.labels import (
    find_near_misses,
    label_minimums,
    label_name_problem,
)
from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.formats import make_example
from pytest_ftdata.text import compile_value_getter, example_value

#: Plugins an in-process run would pay for on every run (hypothesis is re-imported each time).
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


@pytest.fixture
def intent(chat):
    def intent(text: str, label: str, **extra) -> dict:
        return chat(text, json.dumps({"intent": label}), **extra)

    return intent


def analyze(root: Path, families=("labels", "subgroups"), **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=families)


def labels_findings(result, rule: str | None = None):
    found = result.findings.get("labels", [])
    return [f for f in found if rule is None or f.rule == rule]


def test_near_miss_variants_are_flagged_at_their_lines(dataset, intent):
    train = (
        [intent(f"add milk {i}", "todo_list") for i in range(20)]
        + [intent("add eggs", "todo_lsit")]  # line 21: transposed letters
        + [intent(f"charged twice {i}", "billing") for i in range(10)]
        + [intent("charged again", "Billing")]  # line 32: case variant
        + [intent(f"what time {i}", "time") for i in range(10)]
        + [intent(f"set a timer {i}", "timer") for i in range(10)]  # one edit from `time`, both common
        + [intent(f"class one {i}", "class_1") for i in range(10)]
        + [intent("class two", "class_2")]  # differs in a number: a different class
    )
    root = dataset(train=train)
    result = analyze(root, label="target:/intent")
    near = labels_findings(result, "LBL004")
    assert sorted((f.path, f.line) for f in near) == [("data/train.jsonl", 21), ("data/train.jsonl", 32)]
    by_line = {f.line: f.message for f in near}
    assert "'todo_lsit' (1 example)" in by_line[21] and "'todo_list' (20 examples)" in by_line[21]
    assert "differs only in case" in by_line[32] and "rename it to 'billing'" in by_line[32]
    assert all(f.severity == "error" for f in near)


def test_find_near_misses_rules():
    totals = {"todo_list": 100, "todo_lsit": 3, "Todo-List": 40, "time": 100, "timer": 100, "pin": 50, "pun": 1}
    variants = find_near_misses(totals)
    assert variants == {"todo_lsit": ("todo_list", "edit"), "Todo-List": ("todo_list", "spelling")}
    # short names are never edit-distance variants (`pin`/`pun`), a common variant is not "rare"
    assert find_near_misses({"todo_list": 10, "todo_lsit": 5}) == {}


def test_unknown_and_absent_expected_labels(dataset, intent):
    train = [intent(f"bill {i}", "billing") for i in range(5)] + [intent("refund please", "refnud")]
    root = dataset(train=train)
    result = analyze(root, label="target:/intent", labels=["billing", "refund", "cancel"])
    unknown = labels_findings(result, "LBL002")
    assert [(f.path, f.line) for f in unknown] == [("data/train.jsonl", 6)]
    assert "'refnud'" in unknown[0].message and "did you mean 'refund'?" in unknown[0].message
    absent = sorted(f.message for f in labels_findings(result, "LBL003"))
    assert len(absent) == 2 and "'cancel'" in absent[0] and "'refund'" in absent[1]
    # with `labels` declared, spelling variants are reported as unknown labels, not twice
    assert labels_findings(result, "LBL004") == []


def test_minimums_per_split_and_presence(dataset, intent):
    train = [intent(f"b{i}", "billing") for i in range(12)] + [intent(f"r{i}", "refund") for i in range(3)]
    validation = [intent("b", "billing")]
    test = [intent("b", "billing"), intent("r", "refund"), intent("c", "cancel")]
    root = dataset(train=train, validation=validation, test=test)
    result = analyze(root, label="target:/intent", min_per_label={"train": 10, "test": 2})
    few = labels_findings(result, "LBL006")
    assert {(f.path, f.message.split(" has ")[0]) for f in few} == {
        ("data/train.jsonl", "Label 'refund'"),
        ("data/test.jsonl", "Label 'billing'"),
        ("data/test.jsonl", "Label 'refund'"),
        ("data/test.jsonl", "Label 'cancel'"),
    }
    refund_train = next(f for f in few if f.path == "data/train.jsonl")
    assert "3 examples in train, below the minimum of 10" in refund_train.message
    assert "(train 3, validation 0, test 1)" in refund_train.message and "add at least 7 more" in refund_train.message
    missing = {(f.path, f.message.split(" (")[0]) for f in labels_findings(result, "LBL007")}
    assert missing == {
        ("data/validation.jsonl", "Label 'refund' has no examples in validation"),
        ("data/train.jsonl", "Label 'cancel' has no examples in train"),
        ("data/validation.jsonl", "Label 'cancel' has no examples in validation"),
    }


def test_integer_minimum_applies_to_train_or_to_files_without_a_split(dataset, intent):
    rows = [intent(f"b{i}", "billing") for i in range(5)] + [intent("r", "refund")]
    config = validate({"label": "target:/intent", "min_per_label": 3}, "t", None)
    assert label_minimums(config, ["train", "validation"]) == {"train": 3, "validation": 1}
    assert label_minimums(config, ["other"]) == {"other": 3}
    root = dataset(intents=rows)  # `intents.jsonl`: no split in the name
    result = analyze(root, label="target:/intent", min_per_label=3)
    [finding] = labels_findings(result)
    assert finding.rule == "LBL006" and "'refund' has 1 example in other, below the minimum of 3" in finding.message


def test_imbalance(dataset, intent):
    train = [intent(f"b{i}", "billing") for i in range(40)] + [intent(f"r{i}", "refund") for i in range(5)]
    root = dataset(train=train)
    [imbalance] = labels_findings(analyze(root, label="target:/intent", max_label_imbalance=4), "LBL008")
    assert "'billing' has 40 examples and 'refund' has 5 (ratio 8.0, max_label_imbalance 4" in imbalance.message
    assert labels_findings(analyze(root, label="target:/intent", max_label_imbalance=8), "LBL008") == []


def test_confusable_pairs(dataset, intent):
    train = [intent(f"t{i}", "todo_list") for i in range(10)] + [intent(f"r{i}", "reminder") for i in range(2)]
    validation = [intent("t", "todo_list")]
    root = dataset(train=train, validation=validation)
    result = analyze(
        root, label="target:/intent", min_per_label=5, confusable=[["todo_list", "reminder"], ["reminder", "remindr"]]
    )
    pair = sorted((f.path, f.message) for f in labels_findings(result, "LBL009"))
    assert [path for path, _ in pair] == ["data/train.jsonl", "data/validation.jsonl"]
    assert "'reminder' has 2 examples in train, below the minimum of 5" in pair[0][1]
    assert "its partner 'todo_list' has 10" in pair[0][1]
    assert "'reminder' has 0 examples in validation" in pair[1][1]
    # a confusable label's shortfall is reported once, as LBL009, not also as LBL006/LBL007
    assert labels_findings(result, "LBL006") == labels_findings(result, "LBL007") == []
    [typo] = labels_findings(result, "LBL010")
    assert "'remindr'" in typo.message and "did you mean 'reminder'?" in typo.message


def test_missing_labels(dataset, chat, intent):
    rows = [intent("a", "billing"), chat("b", "plain text, not JSON"), intent("c", "billing"), chat("d", "{}")]
    root = dataset(train=rows)
    missing = labels_findings(analyze(root, label="target:/intent"), "LBL001")
    assert [(f.path, f.line) for f in missing] == [("data/train.jsonl", 2), ("data/train.jsonl", 4)]
    # a pointer that finds nothing anywhere is one finding about the setting
    [wrong] = labels_findings(analyze(root, label="/metadata/intent"), "LBL001")
    assert wrong.line is None and "None of the 4 examples has a label at `/metadata/intent`" in wrong.message


def test_odd_label_names():
    assert label_name_problem("reverted_card_payment?") == "contains the character '?'"
    assert label_name_problem("billing ") == "has leading or trailing whitespace"
    assert label_name_problem("card\nlost") is not None
    for fine in ("todo_list", "Billing & Payments", "yes/no", "C++", "top-up", "négatif"):
        assert label_name_problem(fine) is None, fine


def test_label_specs_and_no_label_setting(dataset, chat):
    rows = [chat(f"q{i}", "positive", metadata={"intent": "pos"}) for i in range(3)] + [
        chat("q", " negative ", metadata={"intent": "neg"})
    ]
    root = dataset(train=rows)
    for spec, expected in (("target", {"positive": 3, "negative": 1}), ("/metadata/intent", {"pos": 3, "neg": 1})):
        summary = analyze(root, label=spec).summaries["subgroups"]
        label_rows = summary["dimensions"][0]["rows"]
        assert {row["subgroup"]: row["total"] for row in label_rows} == expected
    result = analyze(root)  # no `label`: the labels family has nothing to check
    assert result.findings["labels"] == []
    assert [d["name"] for d in result.summaries["subgroups"]["dimensions"]][0] == "split"


def test_compiled_getters_agree_with_example_value(chat):
    targets = ['{"intent": "x", "l": [1, 2]}', "not json", "[1]", '{"intent": null}', " x "]
    metadata = [{"a": {"b": 1}}, {"a": [1]}, "text", None, {"a": {"b": {"c": 2}}}, {"a/b": 3}]
    specs = ["target", "target:/intent", "target:/l/1", "target:", "/metadata", "/metadata/a", "/metadata/a/b",
             "/metadata/a/b/c", "/metadata/a/0", "/nope", "/metadata/a~1b"]
    for target in targets:
        for meta in metadata:
            example = make_example("p", 1, chat("q", target, metadata=meta), "chat")
            for spec in specs:
                assert compile_value_getter(spec)(example) == example_value(example, spec), (spec, target, meta)


def test_labels_item_fails_like_a_linter(pytester, write_jsonl, intent):
    rows = [intent(f"b{i}", "billing") for i in range(6)] + [intent("r", "refund")]
    write_jsonl(pytester.path / "data" / "train.jsonl", rows)
    pytester.makepyprojecttoml('[tool.ftdata]\nlabel = "target:/intent"\nmin_per_label = 3\n')
    result = pytester.runpytest("--ftdata", "data", *QUIET_PLUGINS)
    assert result.ret == 1 and result.parseoutcomes()["failed"] == 1
    result.stdout.fnmatch_lines([
        "*labels check of dataset data/*",
        "1 labels error in dataset data/: too-few-examples (1).",
        "data/train.jsonl: LBL006 Label 'refund' has 1 example in train, below the minimum of 3 (train 1); add at least 2 more.",
        "FAILED data/dataset::labels - 1 labels error in dataset data/*",
    ])


# -- real data -------------------------------------------------------------------------------


@pytest.fixture
def clinc_to_chat(write_jsonl, intent):
    def clinc_to_chat(shared: Path, out: Path, edit=None) -> dict[str, Counter]:
        """CLINC150 as chat JSONL (target `{"intent": ...}`); returns the label counts written."""
        data = json.loads((shared / "clinc150" / "raw" / "data_full.json").read_text(encoding="utf-8"))
        counts = {}
        for split, keys in (("train", ("train", "oos_train")), ("validation", ("val", "oos_val")), ("test", ("test", "oos_test"))):
            pairs = [pair for key in keys for pair in data[key]]
            if edit is not None:
                pairs = edit(split, pairs)
            write_jsonl(out / f"{split}.jsonl", [intent(text, label) for text, label in pairs])
            counts[split] = Counter(label for _, label in pairs)
        return counts

    return clinc_to_chat


def test_clinc150_planted_variants_and_thin_confusable_side(shared_datasets, tmp_path, clinc_to_chat):
    planted = {}

    def edit(split, pairs):
        pairs = [list(pair) for pair in pairs]
        if split == "train":
            todo = [i for i, (_, label) in enumerate(pairs) if label == "todo_list"]
            for index, variant in zip(todo[:3] + todo[-2:], ["todo_lsit"] * 3 + ["Todo_List"] * 2):
                pairs[index][1] = variant
                planted[index + 1] = variant
        if split == "validation":
            reminders = [i for i, (_, label) in enumerate(pairs) if label == "reminder"]
            pairs = [pair for i, pair in enumerate(pairs) if i not in set(reminders[3:])]
        return pairs

    root = tmp_path / "clinc"
    counts = clinc_to_chat(shared_datasets, root, edit)
    result = analyze(
        root, label="target:/intent", min_per_label={"train": 50, "validation": 10, "test": 10},
        confusable=[["todo_list", "reminder"], ["change_volume", "whisper_mode"]],
    )
    findings = labels_findings(result)
    # every planted variant, at its line, and nothing else among 151 real intents
    near = {f.line: f.message for f in findings if f.rule == "LBL004"}
    assert sorted(near) == sorted(planted)
    assert all(repr(planted[line]) in message for line, message in near.items())
    [thin] = [f for f in findings if f.rule == "LBL009"]
    assert thin.path == "clinc/validation.jsonl"
    assert f"'reminder' has {counts['validation']['reminder']} examples in validation, below the minimum of 10" in thin.message
    # LBL012 (suspect labels) also reports the real CLINC150 mislabels: see tests/test_suspect_labels.py.
    assert {f.rule for f in findings} - {"LBL012"} == {"LBL004", "LBL009"}
    # the label table counts what was written, per split
    label_rows = result.summaries["subgroups"]["dimensions"][0]["rows"]
    written = {label: {split: counts[split][label] for split in counts} for split in counts for label in counts[split]}
    assert {row["subgroup"]: row["counts"] for row in label_rows} == written


@pytest.fixture
def banking_to_chat(chat, write_jsonl):
    def banking_to_chat(shared: Path, out: Path) -> dict[str, Counter]:
        counts = {}
        for split in ("train", "test"):
            with open(shared / "banking77" / "raw" / f"{split}.csv", newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            write_jsonl(out / f"{split}.jsonl", [
                chat(row["text"], row["category"], system=None, metadata={"intent": row["category"]}) for row in rows
            ])
            counts[split] = Counter(row["category"] for row in rows)
        return counts

    return banking_to_chat


def test_banking77_odd_label_and_imbalance(shared_datasets, tmp_path, banking_to_chat):
    root = tmp_path / "banking77"
    counts = banking_to_chat(shared_datasets, root)
    train = counts["train"]
    ratio = max(train.values()) / min(train.values())
    result = analyze(root, label="/metadata/intent", max_label_imbalance=ratio - 0.05)
    findings = labels_findings(result)
    odd = [f for f in findings if f.rule == "LBL005"]
    odd_labels = sorted(label for label in train if re.search(r"[?!;,]", label) or label != label.strip())
    assert len(odd) == len(odd_labels) >= 1 and "'reverted_card_payment?'" in odd[0].message
    assert odd[0].severity == "warning"
    [imbalance] = [f for f in findings if f.rule == "LBL008"]
    most, least = max(train, key=train.get), min(train, key=train.get)
    assert imbalance.path == "banking77/train.jsonl"
    assert f"{most!r} has {train[most]} examples and {least!r} has {train[least]}" in imbalance.message
    # no spelling variants among the 77 real intents, no missing labels: train and test share them
    assert {f.rule for f in findings} - {"LBL012"} == {"LBL005", "LBL008"}
    relaxed = analyze(root, label="/metadata/intent", max_label_imbalance=ratio + 0.05)
    assert [f.rule for f in labels_findings(relaxed) if f.rule != "LBL012"] == ["LBL005"] * len(odd)


def test_user_facing_label_is_the_label_the_checks_count(chat):
    """`Example.label` in user tests (text.example_label) and the labels check agree,
    including on blank and non-scalar values, which count as no label."""
    from pytest_ftdata.families.labels import compile_label_getter
    from pytest_ftdata.text import example_label

    for value in ["billing", " ", "", 3, None, ["a"], {"a": 1}, True]:
        example = make_example("p", 1, chat("q", "a", metadata={"intent": value}), "chat")
        assert example_label(example, "/metadata/intent") == compile_label_getter("/metadata/intent")(example), value


def test_the_label_model_runs_after_the_fingerprint_index_is_released(dataset, intent, monkeypatch):
    """Serially one process holds every family's state: the suspect-label model (the
    largest of them) finishes last, when the fingerprint index, which only the
    duplicate, leakage and subgroup checks read, is gone."""
    from pytest_ftdata.families import labels as labels_module

    seen: list[set[str]] = []
    original = labels_module.LabelsFamily._suspects

    def recording(self):
        seen.append(set(self.ctx.combined))
        return original(self)

    monkeypatch.setattr(labels_module.LabelsFamily, "_suspects", recording)
    root = dataset(train=[intent(f"book a flight {i}", "travel") for i in range(6)] + [intent(f"pay bill {i}", "bills") for i in range(6)])
    families = ("duplicates", "leakage", "labels", "subgroups")
    result = analyze(root, families=families, label="target:/intent")
    assert seen and "fingerprints" not in seen[0] and "label-texts" in seen[0]
    assert list(result.findings) == list(families)  # reported in the registered order all the same


def test_the_suspect_label_sample_is_bounded_per_file_and_kept_in_dataset_order(dataset, intent, monkeypatch):
    """A file's texts are sampled while it is read: no map ever holds more than
    SUSPECT_SAMPLE texts, however large the file, and the dataset's sample is the same
    on every run, in dataset order; below the cap every example is kept."""
    from pytest_ftdata.families import labels as labels_module
    from pytest_ftdata.families.base import DatasetContext, FileInfo

    monkeypatch.setattr(labels_module, "SUSPECT_SAMPLE", 5)
    config = validate({"label": "target:/intent"}, "t", None)
    ctx = DatasetContext(path="data", files=[], config=config, task="classification", directory=Path("data"))

    def sample(*files: tuple[str, int]):
        combiner = labels_module.LabelTextMap.combiner(ctx)
        for path, count in files:
            info = FileInfo(path=path, abspath=Path(path), split="train")
            part = labels_module.LabelTextMap(ctx, info)
            for line in range(1, count + 1):
                part.visit(make_example(path, line, intent(f"text {path} {line}", "a"), "chat"))
                assert len(part.rows) <= 5
            combiner.add(info, part.result())
        return [(row[3].path, row[4]) for row in combiner.rows], combiner.seen

    rows, seen = sample(("data/train.jsonl", 40), ("data/more.jsonl", 40))
    assert seen == 80 and len(rows) == 5 and rows == sorted(rows, key=lambda r: (r[0] != "data/train.jsonl", r[1]))
    assert sample(("data/train.jsonl", 40), ("data/more.jsonl", 40))[0] == rows  # the same on every run
    assert sample(("data/train.jsonl", 3))[0] == [("data/train.jsonl", 1), ("data/train.jsonl", 2), ("data/train.jsonl", 3)]
