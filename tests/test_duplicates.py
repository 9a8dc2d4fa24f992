"""The `duplicates` family and the near-duplicate search under it.

Unit tests run the pure core (`neardup`, `analyze_dataset`) on data written in tmp
dirs; the pytester tests check what a user of `pytest --ftdata` sees, with and
without xdist; the real GSM8K data is the clean control (no finding at all).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from rapidfuzz.fuzz import ratio

from pytest_ftdata.config import FtdataConfig, validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.neardup import (
    NearDuplicateIndex,
    anchor_length,
    bucket_of,
    length_range,
    min_near_length,
    normalize,
)

QUIET = ("-p", "no:cacheprovider", "-p", "no:randomly")


def analyze(root: Path, families=("duplicates", "leakage"), **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=families)


def findings_of(result, family="duplicates", rule=None):
    return [f for f in result.findings.get(family, []) if rule is None or f.rule == rule]


def members(finding) -> set[str]:
    return {finding.location, *(str(loc) for loc in finding.related)}


# -- normalization -------------------------------------------------------------------------


def test_normalize_folds_unicode_case_and_whitespace():
    assert normalize("  How do I\treset my  PIN?\n") == "how do i reset my pin?"
    assert normalize("ｆｕｌｌ ｗｉｄｔｈ") == "full width"  # NFKC
    assert normalize("STRASSE") == normalize("straße")  # case folding, not just lower()
    assert normalize("what’s up!") == "what’s up!"  # punctuation kept by default


def test_normalize_can_ignore_punctuation_but_not_symbols():
    assert normalize("Thanks!", ignore_punctuation=True) == "thanks"
    assert normalize("what’s up?", ignore_punctuation=True) == normalize("whats up", ignore_punctuation=True)
    assert normalize("¿Qué tal?", ignore_punctuation=True) == "qué tal"
    assert normalize("a $1 charge", ignore_punctuation=True) != normalize("a €1 charge", ignore_punctuation=True)


# -- the near-duplicate search ---------------------------------------------------------------


def _edits(text: str, rng: random.Random):
    """Every one-character substitution, insertion and deletion of `text` (sampled letters)."""
    for position in range(len(text)):
        letter = rng.choice([c for c in string.ascii_lowercase if c != text[position]])
        yield text[:position] + letter + text[position + 1 :]
        yield text[:position] + text[position + 1 :]
        yield text[:position] + letter + text[position:]
    yield text + "s"


@pytest.mark.parametrize("text", ["what is the weather like in paris today?", "turn up the volume", "thanks"])
def test_every_single_character_edit_is_found(text):
    """At the default threshold a one-character typo anywhere in a 40-character input is
    a near-duplicate, and so is any one in short inputs that still scores above it; the
    search finds every one (MinHash with 5-character shingles misses these)."""
    threshold = FtdataConfig().near_duplicate_threshold
    rng = random.Random(len(text))
    checked = 0
    for variant in _edits(text, rng):
        if variant == text:
            continue
        if ratio(text, variant) < threshold:
            assert len(text) < 40, variant  # never for the 40-character input
            continue
        index = NearDuplicateIndex(threshold)
        index.add(1, text)
        index.add(2, variant)
        assert [(a, b) for a, b, _ in index.verify()] == [(1, 2)], variant
        checked += 1
    assert checked >= len(text)  # an insertion at every position, at least


def test_pairs_the_pigeonhole_covers_are_all_found_and_nothing_below_the_threshold():
    """Against brute force on random short texts with planted edits: every pair above the
    threshold that keeps the first or the last `P` characters (the anchor of the earlier
    text's length bucket) is found, and every pair found is above the threshold."""
    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 7))) for _ in range(300)]
    texts = []
    for _ in range(150):
        text = " ".join(rng.choices(words, k=rng.randint(2, 9)))
        texts.append(text)
        start = rng.randrange(len(text))
        cut = rng.randint(0, 4)
        texts.append(text[:start] + "".join(rng.choices("abc ", k=rng.randint(0, 3))) + text[start + cut :])
    texts = sorted(set(texts))
    rng.shuffle(texts)
    index = NearDuplicateIndex(85)
    for number, text in enumerate(texts):
        index.add(number, text)
    found = {(a, b) for a, b, _ in index.verify()}
    assert all(ratio(texts[a], texts[b]) >= 85 for a, b in found)
    covered = 0
    for b in range(len(texts)):
        for a in range(b):
            x, y = texts[a], texts[b]
            if ratio(x, y) < 85:
                continue
            anchor = anchor_length(bucket_of(len(x)))
            if len(_common_prefix(x, y)) >= anchor or len(_common_prefix(x[::-1], y[::-1])) >= anchor:
                covered += 1
                assert (a, b) in found, (x, y)
    assert covered >= 100  # the planted pairs are there to be found


def _common_prefix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


def test_length_bounds_match_rapidfuzz():
    for threshold in (0.8, 0.9, 0.95):
        for length in (5, 12, 40, 133):
            low, high = length_range(length, threshold)
            assert ratio("a" * length, "a" * low) >= threshold * 100
            assert ratio("a" * length, "a" * (low - 1)) < threshold * 100
            assert ratio("a" * length, "a" * high) >= threshold * 100
            assert ratio("a" * length, "a" * (high + 1)) < threshold * 100
        shortest = min_near_length(threshold)
        assert ratio("a" * shortest, "a" * shortest + "b") >= threshold * 100
        assert ratio("a" * (shortest - 1), "a" * (shortest - 1) + "b") < threshold * 100


def test_a_common_prefix_does_not_make_the_search_quadratic():
    """10,000 inputs sharing one long prefix (a greeting, a template): each is compared
    with a bounded number of earlier ones, and a typo copy of one of them is still found
    through its suffix."""
    rng = random.Random(3)
    index = NearDuplicateIndex(90)
    prefix = "hello, i would like some help with my account "
    tails = ["".join(rng.choices(string.ascii_lowercase + " ", k=40)) for _ in range(10_000)]
    for number, tail in enumerate(tails):
        index.add(number, prefix + tail)
    index.add(10_000, prefix.replace("help", "hlep") + tails[4321])
    assert index.candidate_count <= 10_001 * 2 * 8
    assert {(a, b) for a, b, _ in index.verify()} == {(4321, 10_000)}


# -- the check on datasets --------------------------------------------------------------------


def test_exact_normalized_near_and_conflicting_duplicates(dataset, chat):
    train = [
        chat("How do I reset my PIN?", "reset_pin"),  # 1
        chat("How do I reset my PIN?", "reset_pin"),  # 2: exact copy of 1
        chat("what is the weather like in paris today", "weather"),  # 3
        chat("  how do I reset my pin?", "reset_pin"),  # 4: normalized copy of 1
        chat("what is the weather like in parsi today", "weather"),  # 5: near 3
        chat("cancel my card please", "cancel_card"),  # 6
        chat("Cancel my card please", "block_card"),  # 7: conflict with 6
        chat("turn on the lights in the kitchen", "lights_on"),  # 8
        chat("turn off the lights in the kitchen", "lights_off"),  # 9: near, other target
        chat("How do I reset my PIN?", "reset_pin", system="Another prompt."),  # 10: other context
    ]
    result = analyze(dataset(train=train))
    by_rule = {f.rule: f for f in findings_of(result)}
    assert sorted(by_rule) == ["DUP002", "DUP003", "DUP004", "DUP005"]
    normalized = by_rule["DUP002"]
    assert members(normalized) == {"data/train.jsonl:1", "data/train.jsonl:2", "data/train.jsonl:4"}
    assert normalized.location == "data/train.jsonl:2" and "keep data/train.jsonl:1" in normalized.message
    assert members(by_rule["DUP003"]) == {"data/train.jsonl:3", "data/train.jsonl:5"}
    assert by_rule["DUP003"].severity == "warning"
    conflict = by_rule["DUP004"]
    assert members(conflict) == {"data/train.jsonl:6", "data/train.jsonl:7"}
    assert "'cancel_card'" in conflict.message and "'block_card'" in conflict.message
    assert members(by_rule["DUP005"]) == {"data/train.jsonl:8", "data/train.jsonl:9"}
    assert "data/train.jsonl:10" not in {loc for f in findings_of(result) for loc in members(f)}


def test_exact_duplicates_and_which_copy_to_keep(dataset, chat):
    row = chat("Where is my card?", "card_arrival")
    messy = chat("  Where is my card?", "card_arrival")
    result = analyze(dataset(train=[row, row, row]))
    [exact] = findings_of(result)
    assert exact.rule == "DUP001" and exact.location == "data/train.jsonl:2"
    assert members(exact) == {"data/train.jsonl:1", "data/train.jsonl:2", "data/train.jsonl:3"}
    assert "repeated 3 times" in exact.message
    assert "keep data/train.jsonl:1 and delete data/train.jsonl:2 and data/train.jsonl:3" in exact.message
    # with a messy copy first, the group is one normalized duplicate, and the tidy copy is kept
    [group] = findings_of(analyze(dataset(train=[messy, row, row, row])))
    assert group.rule == "DUP002" and len(group.related) == 3
    assert "keep data/train.jsonl:2 and delete data/train.jsonl:1, data/train.jsonl:3 and data/train.jsonl:4" in group.message


def test_a_split_spanning_files_and_files_without_a_split(dataset, chat):
    root = dataset(
        train_part1=[chat("hello there, how are you", "greeting")],
        train_part2=[chat("hello there, how are you", "greeting")],
        notes=[chat("a b c d", "x"), chat("a b c d", "x")],
        other=[chat("a b c d", "x")],
    )
    result = analyze(root)
    across = [f for f in findings_of(result) if "train_part" in f.path]
    assert len(across) == 1 and members(across[0]) == {"data/train_part1.jsonl:1", "data/train_part2.jsonl:1"}
    # Files that name no split are one scope: shards and versions are checked against each other.
    [unsplit] = [f for f in findings_of(result) if "train_part" not in f.path]
    assert members(unsplit) == {"data/notes.jsonl:1", "data/notes.jsonl:2", "data/other.jsonl:1"}
    assert "the files that name no split" in unsplit.message


def test_threshold_and_punctuation_settings(dataset, chat):
    root = dataset(train=[chat("thanks!", "thanks"), chat("thanks", "thanks"), chat("goodbye for now", "bye")])
    assert [f.rule for f in findings_of(analyze(root))] == ["DUP003"]  # 92% similar
    assert findings_of(analyze(root, near_duplicate_threshold=95)) == []
    [same] = findings_of(analyze(root, ignore_punctuation=True))
    assert same.rule == "DUP002" and "punctuation" in same.message


def test_label_setting_decides_conflicts(dataset, chat):
    rows = [
        chat("is my transfer pending", json.dumps({"intent": "pending_transfer", "note": "a"})),
        chat("is my transfer pending", json.dumps({"intent": "pending_transfer", "note": "b"})),
    ]
    root = dataset(train=rows)
    assert [f.rule for f in findings_of(analyze(root))] == ["DUP004"]  # targets differ
    assert [f.rule for f in findings_of(analyze(root, label="target:/intent"))] == ["DUP002"]


def test_secrets_in_duplicates_are_masked(dataset, chat):
    key = "sk-proj-" + "a1B2c3D4" * 5
    rows = [chat(f"my key is {key}", "ok"), chat(f"my key is {key}", "ok")]
    result = analyze(dataset(train=rows))
    [finding] = findings_of(result)
    text = json.dumps(finding.to_dict())
    assert key not in text and "sk-p" in text


# -- what a user sees ---------------------------------------------------------------------------


def test_pytest_ftdata_reports_duplicates_the_same_with_and_without_xdist(pytester, run_mode, chat, write_jsonl):
    texts = [
        "where is my new card", "how do i reset my pin", "why was i charged twice", "close my account today",
        "can i get a refund for this order", "what is the exchange rate for euros", "my transfer has not arrived",
        "how do i top up by bank transfer", "is there a fee for cash withdrawals", "verify my identity please",
        "cancel the direct debit to my gym", "my card was swallowed by the atm",
    ]
    rows = [chat(text, f"intent_{i}") for i, text in enumerate(texts)]
    rows += [rows[0], chat("why was i chraged twice", "intent_2"), chat("close my account today", "other")]
    write_jsonl(pytester.path / "data" / "train.jsonl", rows)
    write_jsonl(pytester.path / "data" / "val.jsonl", [chat("something else entirely here", "x")])
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:report.json", *QUIET)
    result.stdout.fnmatch_lines(["*data/train.jsonl:13: DUP001 Example is repeated 2 times in the train split*"])
    assert result.ret == 1
    report = json.loads((pytester.path / "report.json").read_text())
    duplicates = sorted(
        (f["rule"], f["path"], f["line"], tuple((r["path"], r["line"]) for r in f["related"]))
        for f in report["findings"] if f["check"] == "duplicates"
    )
    assert duplicates == [
        ("DUP001", "data/train.jsonl", 13, (("data/train.jsonl", 1),)),
        ("DUP003", "data/train.jsonl", 14, (("data/train.jsonl", 3),)),
        ("DUP004", "data/train.jsonl", 15, (("data/train.jsonl", 4),)),
    ]
    assert {f["path"]: f["split"] for f in report["files"]} == {"data/train.jsonl": "train", "data/val.jsonl": "validation"}


# -- real data ------------------------------------------------------------------------------------


@pytest.fixture
def gsm8k_to_chat(chat, write_jsonl):
    def gsm8k_to_chat(shared: Path, out: Path) -> None:
        for split in ("train", "test"):
            rows = []
            with open(shared / "gsm8k" / "raw" / f"{split}.jsonl", encoding="utf-8") as handle:
                for line in handle:
                    record = json.loads(line)
                    rows.append(chat(record["question"], record["answer"], system="Solve the problem step by step."))
            write_jsonl(out / f"{split}.jsonl", rows)

    return gsm8k_to_chat


def test_gsm8k_is_a_clean_control(shared_datasets, tmp_path, gsm8k_to_chat):
    """The original GSM8K has no exact or normalized duplicate and no train/test overlap
    (SOURCE.md): no leakage finding and no duplicates error. The one warning is a real
    near-duplicate SOURCE.md does not list: train lines 2484 and 6692 are the same
    problem with the name Josie swapped for Amanda (similarity 96)."""
    root = tmp_path / "gsm8k"
    gsm8k_to_chat(shared_datasets, root)
    result = analyze(root)
    assert sum(info.info.examples for info in result.files.values()) == 7473 + 1319
    assert findings_of(result, "leakage") == []
    [near] = findings_of(result, "duplicates")
    assert near.severity == "warning" and members(near) == {"gsm8k/train.jsonl:2484", "gsm8k/train.jsonl:6692"}
    assert findings_of(analyze(root, near_duplicate_threshold=97), "duplicates") == []
