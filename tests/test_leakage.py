"""The `leakage` family: inputs and groups shared between splits.

Small datasets in tmp dirs check each rule; a pytester run checks what a user sees,
with and without xdist; CLINC150 and Banking77 check the real overlaps their
SOURCE.md lists (converted to chat JSONL inside the test).
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files

QUIET = ("-p", "no:cacheprovider", "-p", "no:randomly")


def analyze(root: Path, **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=("duplicates", "leakage"))


def leaks(result, rule=None):
    return [f for f in result.findings.get("leakage", []) if rule is None or f.rule == rule]


def members(finding) -> set[str]:
    return {finding.location, *(str(loc) for loc in finding.related)}


def input_of(finding) -> str:
    """The (normalized) input a finding's excerpt shows."""
    return ast.literal_eval(finding.excerpt.split(" -> ")[0])


@pytest.fixture
def ticket(chat):
    def ticket(text: str, label: str, ticket_id: str) -> dict:
        return chat(text, label, metadata={"ticket_id": ticket_id})

    return ticket


def test_each_leak_rule(dataset, chat):
    root = dataset(
        train=[
            chat("How do I reset my PIN?", "reset_pin"),  # 1
            chat("turn up your volume", "whisper_mode"),  # 2
            chat("what is the weather like in paris today", "weather"),  # 3
            chat("only in train", "x"),  # 4
        ],
        val=[
            chat("how do i reset my  pin?", "reset_pin", system="Other prompt."),  # 1: normalized leak
            chat("turn up your volume", "change_volume"),  # 2: conflicting leak
            chat("something only in validation", "y"),  # 3
        ],
        test=[
            chat("what is the weather like in parsi today", "weather"),  # 1: near leak of train 3
            chat("something only in validation", "y"),  # 2: validation/test leak
        ],
    )
    result = analyze(root)
    by_rule = {f.rule: f for f in leaks(result)}
    assert sorted(by_rule) == ["LEAK001", "LEAK002", "LEAK004"]
    shared = [f for f in leaks(result, "LEAK001")]
    assert {frozenset(members(f)) for f in shared} == {
        frozenset({"data/train.jsonl:1", "data/val.jsonl:1"}),
        frozenset({"data/val.jsonl:3", "data/test.jsonl:2"}),
    }
    pin = next(f for f in shared if f.path == "data/val.jsonl")
    assert "identical after normalizing" in pin.message and "keep it in train only" in pin.message
    between = next(f for f in shared if f.path == "data/test.jsonl")
    assert "not independent" in between.message and "delete the 1 copy in test" in between.message
    conflict = by_rule["LEAK004"]
    assert conflict.location == "data/val.jsonl:2" and members(conflict) == {"data/train.jsonl:2", "data/val.jsonl:2"}
    assert "'whisper_mode'" in conflict.message and "'change_volume'" in conflict.message
    near = by_rule["LEAK002"]
    assert near.severity == "warning" and members(near) == {"data/train.jsonl:3", "data/test.jsonl:1"}
    # within-split duplicates are the other family's business
    assert [f.rule for f in result.findings["duplicates"]] == []


def test_group_leak_lists_the_lines_of_each_split(dataset, ticket):
    root = dataset(
        train=[ticket(f"message {i} of a long thread", "a", "T1") for i in range(3)]
        + [ticket("unrelated", "b", "T2"), ticket("no ticket here", "c", "")],
        val=[ticket("the customer wrote again", "a", "T1"), ticket("other ticket", "b", "T3")],
        test=[ticket("and once more", "a", "T1"), ticket("yet another", "b", "T2")],
        notes=[ticket("a file in no split", "a", "T3")],
    )
    result = analyze(root, group_by="/metadata/ticket_id")
    groups = {f.message.split("=")[1].split()[0]: f for f in leaks(result, "LEAK003")}
    assert sorted(groups) == ["'T1'", "'T2'"]  # T3 is in validation and in a file of no split
    t1 = groups["'T1'"]
    assert t1.location == "data/val.jsonl:1"
    assert members(t1) == {"data/train.jsonl:1", "data/train.jsonl:2", "data/train.jsonl:3", "data/val.jsonl:1", "data/test.jsonl:1"}
    assert "train: 3 examples (data/train.jsonl:1, data/train.jsonl:2 and data/train.jsonl:3)" in t1.message
    assert "validation: 1 example (data/val.jsonl:1)" in t1.message and "test: 1 example (data/test.jsonl:1)" in t1.message
    assert members(groups["'T2'"]) == {"data/train.jsonl:4", "data/test.jsonl:2"}
    assert leaks(analyze(root)) == []  # no group_by, no group check


def test_files_in_no_split_take_no_part(dataset, chat):
    root = dataset(train=[chat("a question here", "a")], scratch=[chat("a question here", "a")])
    assert leaks(analyze(root)) == []


def test_pytest_ftdata_reports_leakage_the_same_with_and_without_xdist(pytester, run_mode, write_jsonl, ticket):
    data = pytester.path / "data"
    write_jsonl(data / "tickets_train.jsonl", [ticket("how do i close my account", "close", "A"), ticket("my card is lost", "lost", "B")])
    write_jsonl(data / "tickets_dev.jsonl", [ticket("How do I close my account", "close", "C"), ticket("card stolen", "lost", "B")])
    write_jsonl(data / "tickets_holdout.jsonl", [ticket("my card is lost", "stolen", "D")])
    pytester.makepyprojecttoml('[tool.ftdata]\ngroup_by = "/metadata/ticket_id"\n')
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:report.json", *QUIET)
    result.stdout.fnmatch_lines(["*data/tickets_dev.jsonl:1: LEAK001 Input appears (identical after normalizing*"])
    assert result.ret == 1
    report = json.loads((pytester.path / "report.json").read_text())
    assert {f["path"]: f["split"] for f in report["files"]} == {
        "data/tickets_train.jsonl": "train", "data/tickets_dev.jsonl": "validation", "data/tickets_holdout.jsonl": "test",
    }
    found = sorted((f["rule"], f["path"], f["line"], len(f["related"])) for f in report["findings"] if f["check"] == "leakage")
    assert found == [
        ("LEAK001", "data/tickets_dev.jsonl", 1, 1),
        ("LEAK003", "data/tickets_dev.jsonl", 2, 1),
        ("LEAK004", "data/tickets_holdout.jsonl", 1, 1),
    ]


@pytest.mark.parametrize("how", ["collect_ignore", "--ignore", "--ignore-glob"])
def test_a_file_pytest_ignores_is_no_part_of_its_dataset(pytester, run_mode_serial_and_xdist, write_jsonl, ticket, how):
    """`collect_ignore` (or `--ignore`) leaves a file without items, and the dataset
    items leave it out too: its copy of a test example is no leak, and the report does
    not list it. (The full `run_mode` adds nothing: ignoring is collection, the same
    with xdist blocked.)"""
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [ticket("how do i close my account", "close", "A")])
    write_jsonl(data / "test.jsonl", [ticket("my card is lost", "lost", "B")])
    write_jsonl(data / "scraped_train.jsonl", [ticket("my card is lost", "lost", "C")])
    args = ["--ftdata", "data", "--ftdata-report", "json:report.json", *QUIET]
    leaked = run_mode_serial_and_xdist(pytester, *args)
    assert leaked.ret == 1
    leaked.stdout.fnmatch_lines(["*data/test.jsonl:1: LEAK001*"])
    if how == "collect_ignore":
        pytester.makeconftest('collect_ignore = ["data/scraped_train.jsonl"]\n')
    else:
        args += [f"{how}=data/scraped_train.jsonl" if how == "--ignore" else f"{how}=*/scraped_*"]
    result = run_mode_serial_and_xdist(pytester, *args)
    assert result.ret == 0, result.stdout.str()
    report = json.loads((pytester.path / "report.json").read_text())
    assert sorted(f["path"] for f in report["files"]) == ["data/test.jsonl", "data/train.jsonl"]
    assert not [f for f in report["findings"] if f["check"] == "leakage"]


# -- real data ------------------------------------------------------------------------------------


@pytest.fixture
def clinc_to_chat(chat, write_jsonl):
    def clinc_to_chat(shared: Path, out: Path) -> None:
        data = json.loads((shared / "clinc150" / "raw" / "data_full.json").read_text(encoding="utf-8"))
        for split, keys in (("train", ("train", "oos_train")), ("val", ("val", "oos_val")), ("test", ("test", "oos_test"))):
            write_jsonl(out / f"{split}.jsonl", [chat(text, label) for key in keys for text, label in data[key]])

    return clinc_to_chat


def test_clinc150_cross_split_overlaps_and_conflicting_labels(shared_datasets, tmp_path, clinc_to_chat):
    """SOURCE.md: 5 exact cross-split overlaps, 4 with conflicting intents, e.g. "turn up
    your volume" is whisper_mode in train and change_volume in validation."""
    root = tmp_path / "clinc"
    clinc_to_chat(shared_datasets, root)
    result = analyze(root, label="target")
    exact = {input_of(f): f for f in leaks(result) if f.rule in ("LEAK001", "LEAK004")}
    conflicts = {
        "turn up your volume": ("'whisper_mode'", "'change_volume'", "validation"),
        "what is on my to do list": ("'todo_list'", "'reminder'", "validation"),
        "what's your designation": ("'what_is_your_name'", "'user_name'", "test"),
        "where did you grow up": ("'how_old_are_you'", "'where_are_you_from'", "test"),
    }
    for text, (train_label, other_label, other_split) in conflicts.items():
        finding = exact[text]
        assert finding.rule == "LEAK004" and finding.severity == "error"
        assert f"train: {train_label}; {other_split}: {other_label}" in finding.message
    # SOURCE.md says train, validation and test; the data has it in train and validation only
    same = exact["hey what's up"]
    assert same.rule == "LEAK001" and {loc.split(":")[0] for loc in members(same)} == {"clinc/train.jsonl", "clinc/val.jsonl"}
    assert len(exact) == 5
    # the punctuation twins SOURCE.md lists ("goodbye!" in train, "goodbye" in test) are near leaks
    near_inputs = {input_of(f) for f in leaks(result, "LEAK002")}
    assert len(near_inputs) >= 50
    punctuated = analyze(root, label="target", ignore_punctuation=True)
    assert len([f for f in leaks(punctuated) if f.rule in ("LEAK001", "LEAK004")]) > len(exact)


@pytest.fixture
def banking_to_chat(chat, write_jsonl):
    def banking_to_chat(shared: Path, out: Path) -> None:
        for split in ("train", "test"):
            with open(shared / "banking77" / "raw" / f"{split}.csv", newline="", encoding="utf-8") as handle:
                rows = [chat(row["text"], row["category"]) for row in csv.DictReader(handle)]
            write_jsonl(out / f"{split}.jsonl", rows)

    return banking_to_chat


def test_banking77_whitespace_and_case_twins(shared_datasets, tmp_path, banking_to_chat):
    """SOURCE.md: no exact overlap, 7 train/test twins after whitespace and case
    normalization (all with the same label), about 12 when punctuation is ignored too."""
    root = tmp_path / "banking77"
    banking_to_chat(shared_datasets, root)
    result = analyze(root, label="target")
    twins = [f for f in leaks(result) if f.rule in ("LEAK001", "LEAK004")]
    assert len(twins) == 7
    assert all(f.rule == "LEAK001" and "identical after normalizing" in f.message for f in twins)
    # Excerpts quote the decoded example as written (redacted), never the lower-cased comparison key.
    shown = {input_of(f) for f in twins}
    assert "How do I unblock my PIN?" in shown
    assert "how do i unblock my pin?" not in shown
    punctuated = [f for f in leaks(analyze(root, label="target", ignore_punctuation=True)) if f.rule in ("LEAK001", "LEAK004")]
    assert 10 <= len(punctuated) <= 14
