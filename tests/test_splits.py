"""Split discovery (`engine.split_of`) and the `splits` family."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.families.base import FileInfo
from pytest_ftdata.families.splits import check_splits, expected_shares
from pytest_ftdata.config import FtdataConfig, validate
from pytest_ftdata.engine import analyze_dataset, dataset_files, split_of

QUIET = ("-p", "no:cacheprovider", "-p", "no:randomly")


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("train.jsonl", "train"),
        ("training.jsonl.gz", "train"),
        ("tickets_train.jsonl", "train"),
        ("train-2024-05.jsonl", "train"),
        ("val.jsonl", "validation"),
        ("valid.jsonl", "validation"),
        ("validation.jsonl", "validation"),
        ("tickets.dev.jsonl", "validation"),
        ("test.jsonl", "test"),
        ("eval.jsonl", "test"),
        ("support-holdout.jsonl", "test"),
        ("TRAIN.jsonl", "train"),
        ("constraints.jsonl", None),  # "train" inside a word is no split
        ("attestation.jsonl", None),
        ("devices.jsonl", None),
        ("data.jsonl", None),
    ],
)
def test_split_of_matches_words_of_the_file_name(name, split):
    assert split_of(name, FtdataConfig()) == split


def test_splits_setting_overrides_names():
    config = FtdataConfig(splits={"train": ["a*.jsonl"], "validation": ["b.jsonl"], "test": ["c.jsonl"]})
    assert split_of("a1.jsonl", config) == "train"
    assert split_of("b.jsonl", config) == "validation"
    assert split_of("c.jsonl", config) == "test"
    assert split_of("train.jsonl", config) is None  # the setting replaces name matching


def _infos(**sizes) -> list[FileInfo]:
    return [FileInfo(f"data/{name}.jsonl", Path(f"{name}.jsonl"), split, examples=count)
            for name, (split, count) in sizes.items()]


def rules(findings) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in findings)


def test_ratios_within_tolerance_pass_and_outside_warn():
    good = _infos(train=("train", 800), val=("validation", 100), test=("test", 100))
    assert check_splits(good, FtdataConfig(), "data") == []
    skewed = _infos(train=("train", 950), val=("validation", 120), test=("test", 130))
    found = check_splits(skewed, FtdataConfig(), "data")
    assert rules(found) == []  # 79.2/10/10.8: within 5 points
    lopsided = _infos(train=("train", 1800), val=("validation", 100), test=("test", 100))
    [train] = check_splits(lopsided, FtdataConfig(), "data")
    assert train.rule == "SPL001" and train.path == "data/train.jsonl" and "90.0%" in train.message
    assert train.severity == "warning"


def test_small_datasets_expect_the_minimum_not_the_ratio():
    config = FtdataConfig()
    shares = expected_shares({"train": 600, "validation": 100, "test": 100}, config)
    assert shares["validation"] == pytest.approx(0.125) and shares["train"] == pytest.approx(0.75)
    # 600/100/100 is what a small dataset should look like: no ratio finding
    assert check_splits(_infos(t=("train", 600), v=("validation", 100), s=("test", 100)), config, "data") == []
    found = check_splits(_infos(t=("train", 450), v=("validation", 50), s=("test", 100)), config, "data")
    assert rules(found) == [("SPL002", "data/v.jsonl")]
    assert "50 examples, fewer than the minimum of 100" in found[0].message


def test_missing_and_unassigned_splits():
    found = check_splits(_infos(train=("train", 900), val=("validation", 100), extra=(None, 5)), FtdataConfig(), "data")
    assert rules(found) == [("SPL003", "data/"), ("SPL004", "data/extra.jsonl")]
    assert "no test split" in next(f for f in found if f.rule == "SPL003").message
    [nothing] = check_splits(_infos(data=(None, 50)), FtdataConfig(), "data")
    assert nothing.rule == "SPL003" and "No file of dataset data/ is named as a split" in nothing.message


def test_settings_change_the_expectations():
    infos = _infos(train=("train", 700), val=("validation", 150), test=("test", 150))
    assert rules(check_splits(infos, FtdataConfig(), "data")) == [("SPL001", "data/train.jsonl")]
    config = validate({"split_ratios": {"train": 0.7, "validation": 0.15, "test": 0.15}}, "t", None)
    assert check_splits(infos, config, "data") == []
    assert check_splits(infos, validate({"split_tolerance": 0.11}, "t", None), "data") == []
    assert check_splits(_infos(t=("train", 90), v=("validation", 5), s=("test", 5)),
                        validate({"min_split_size": {}, "split_tolerance": 0.11}, "t", None), "data") == []


def test_splits_family_on_a_dataset(dataset, chat):
    rows = [chat(f"question {i}", "a") for i in range(10)]
    root = dataset(train=rows[:8], validation=rows[8:])
    config = validate({"min_split_size": {"validation": 2}}, "t", None)
    result = analyze_dataset(root, dataset_files(root), config, root.parent, families=("splits",))
    assert [(f.rule, f.path) for f in result.findings["splits"]] == [("SPL003", "data/")]


def test_a_new_user_sees_split_warnings_without_failing(pytester, run_mode, chat, write_jsonl):
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat(f"what is the status of order {i}", "status") for i in range(30)])
    write_jsonl(data / "val.jsonl", [chat(f"please cancel order number {i}", "cancel") for i in range(3)])
    result = run_mode(pytester, "--ftdata", "data", "-k", "splits", "--ftdata-report", "json:r.json", *QUIET)
    assert result.ret == 0
    # warnings: per rule in the compact summary, with the first one of each
    result.stdout.fnmatch_lines_random([
        "  warning SPL002 split-too-small: 1, e.g. data/val.jsonl",
        "          The validation split has 3 examples, fewer than the minimum of 100*",
        "  warning SPL003 missing-split: 1, e.g. data/",
        "          Dataset data/ has no test split*",
    ])
    report = json.loads((pytester.path / "r.json").read_text())
    assert sorted(f["rule"] for f in report["findings"]) == ["SPL002", "SPL003"]
    assert {f["path"]: f["split"] for f in report["files"]} == {"data/train.jsonl": "train", "data/val.jsonl": "validation"}
