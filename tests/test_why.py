"""`why` (pytest_ftdata/why.py): a text of common words only, and a damaged index cache.

A text whose every word is in more than a quarter of the examples still finds the
examples holding its words. A cached index is a hint, the data is the truth: a damaged
or inconsistent cache is rebuilt silently and answers as a fresh build does, while a
fault in a freshly built index still raises.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from pytest_ftdata import load
from pytest_ftdata.config import validate
from pytest_ftdata.why import WhyIndex, index_path, open_index, training_files, word_hash

ROOT = Path(__file__).resolve().parents[1]


def _common_words_dataset(root: Path, chat, write_jsonl) -> Path:
    """Four examples; "refund" and "card" are both in two of them (half, so both are common)."""
    data = root / "data"
    write_jsonl(data / "train.jsonl", [
        chat("Please refund the payment on my card.", "billing", system=None),
        chat("The app crashes when I open the camera.", "technical", system=None),
        chat("I want a refund to my card, it was charged twice.", "billing", system=None),
        chat("How do I change my delivery address?", "shipping", system=None),
    ])
    return data


def _why(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_ftdata", "why", *arguments], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_a_text_of_common_words_only_finds_the_examples_holding_them(tmp_path: Path, chat, write_jsonl):
    data = _common_words_dataset(tmp_path, chat, write_jsonl)
    cache = tmp_path / "cache"
    alone = load(data).nearest("refund", cache_dir=cache)
    both = load(data).nearest("refund card", cache_dir=cache)
    assert sorted(n.line for n in alone) == sorted(n.line for n in both) == [1, 3]
    assert all(n.similarity > 0 for n in both)
    # Ranked as usual: the shorter example shares more of its weight with the text.
    assert [n.line for n in both] == [1, 3] and both[0].similarity > both[1].similarity
    # A rare word still picks the candidates alone, as before.
    assert [n.line for n in load(data).nearest("refund card camera", cache_dir=cache)][:1] == [2]
    run = _why("refund card", str(data), "--cache-dir", str(cache), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Training examples nearest to the text, best first"), run.stdout
    assert lines[1].startswith(" 1. data/train.jsonl:1  train") and lines[3].startswith(" 2. data/train.jsonl:3  train")


def test_a_lone_common_word_ranks_as_the_scoring_loop_does(tmp_path: Path, chat, write_jsonl):
    """The set operations for common words give stage 1's order: score over the square
    root of the distinct words, then example (brute force here, one word at a time)."""
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(12)]
    records = [chat(" ".join(rng.choices(vocabulary, k=rng.randint(1, 9))), "x", system=None) for _ in range(300)]
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", records)
    index = WhyIndex.build(data, validate({}, "t"), tmp_path)
    for word in vocabulary:
        term = index._term(word_hash(word))
        docs = list(index._postings(term))
        weight = index._idf(len(docs))
        expected = sorted(docs, key=lambda doc: (-weight / math.sqrt(index.doc_words[doc] or 1), doc))[:50]
        assert index._holding([term], 50) == expected, word


# -- a damaged cache ----------------------------------------------------------------------

TEXTS = ("refund card", "charged twice camera", "delivery address change", "card")


def _two_files_dataset(root: Path, chat, write_jsonl) -> Path:
    """Two train files (so file numbers and line index sections of both), labels, and
    texts of rare and of common words only."""
    rng = random.Random(5)
    topics = [("refund my card payment", "billing"), ("app crashes on the camera", "technical"),
              ("change my delivery address", "shipping"), ("charged twice for one order", "billing")]
    data = root / "data"
    for name in ("a-train.jsonl", "b-train.jsonl"):
        rows = []
        for _ in range(20):
            text, label = rng.choice(topics)
            extra = " ".join(rng.choices(["please", "today", "again", "card", "help", f"n{rng.randint(0, 30)}"], k=3))
            rows.append(chat(f"{text} {extra}", label, system=None))
        write_jsonl(data / name, rows)
    return data


def _header_at(raw: bytes) -> tuple[dict, int]:
    """The header of a cache file and where its arrays start (the first line that is JSON)."""
    start = raw.index(b"\n{") + 1
    end = raw.index(b"\n", start)
    base = end + 1
    return json.loads(raw[start:end]), base + (-base) % 8


def _answers(index: WhyIndex, config) -> list:
    return [index.query(text, 5, config) for text in TEXTS]


def test_a_damaged_file_number_in_the_cache_is_rebuilt_silently(tmp_path: Path, chat, write_jsonl):
    data = _common_words_dataset(tmp_path, chat, write_jsonl)
    cache = tmp_path / "cache"
    first = _why("refund card", str(data), "--cache-dir", str(cache), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [path] = cache.glob("*.idx")
    raw = bytearray(path.read_bytes())
    header, base = _header_at(bytes(raw))
    doc_file = next(section for section in header["sections"] if section["name"] == "doc_file")
    raw[base + doc_file["offset"]] = 9  # example 0 "is in" file 9 of 1
    path.write_bytes(raw)
    again = _why("refund card", str(data), "--cache-dir", str(cache), cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert again.stdout.splitlines()[1:] == first.stdout.splitlines()[1:]  # the first line holds the time
    # The cache was written again from the data, and the API answers from it too.
    assert path.read_bytes() != bytes(raw)
    raw[base + doc_file["offset"]] = 9
    path.write_bytes(raw)
    assert [n.line for n in load(data).nearest("refund card", cache_dir=cache)] == [1, 3]


def test_random_damage_to_a_cached_index_never_raises_and_answers_as_a_fresh_build(tmp_path: Path, chat, write_jsonl):
    """300 seeded mutations of a real cached index: bytes anywhere, bytes in the arrays,
    runs of bytes, a cut; every answer is a fresh build's, and nothing raises."""
    data = _two_files_dataset(tmp_path, chat, write_jsonl)
    config = validate({}, "t")
    cache = tmp_path / "cache"
    files = training_files(data, config)
    expected = _answers(WhyIndex.build(data, config, tmp_path, files), config)
    assert all(expected) and len({n.path for found in expected for n in found}) == 2
    open_index(data, config, tmp_path, cache)
    path = index_path(cache, data, config, files)
    original = path.read_bytes()
    _, base = _header_at(original)
    rng = random.Random(20240611)
    for attempt in range(300):
        raw = bytearray(original)
        how = attempt % 4
        if how == 0:  # one byte anywhere
            at = rng.randrange(len(raw))
            raw[at] = rng.choice([b for b in range(256) if b != raw[at]])
        elif how == 1:  # one byte of the arrays
            at = rng.randrange(base, len(raw))
            raw[at] = rng.choice([b for b in range(256) if b != raw[at]])
        elif how == 2:  # a run of random bytes
            at = rng.randrange(len(raw))
            raw[at : at + 8] = bytes(rng.randrange(256) for _ in range(8))
        else:  # cut short
            del raw[rng.randrange(len(raw)) :]
        if bytes(raw) == original:
            continue
        path.write_bytes(raw)
        index = open_index(data, config, tmp_path, cache)
        assert _answers(index, config) == expected, (attempt, how)
        assert WhyIndex.load(path) is not None  # rebuilt and cached again
    path.write_bytes(original)
    assert load(data).nearest("refund card", k=5, cache_dir=cache) == load(data).nearest("refund card", k=5,
                                                                                         cache_dir=tmp_path / "fresh")


def _tampered(name: str):
    """Break one invariant of a built index before it is saved (the checksum is then right)."""
    def doc_file(index):
        index.doc_file[0] = 9
    def doc_label(index):
        index.doc_label[0] = -2
    def postings(index):  # an example number past the last, in the list of a word the texts hold
        index.postings[index.term_start[index._term(word_hash("card"))]] = 10**6
    def term_start(index):
        index.term_start[1] = index.term_start[-1] + 1
    def labels(index):
        index.header["labels"] = []
    def examples(index):
        index.header["examples"] += 1
    def stat(index):
        index.header["files"][0]["stat"] = "changed"
    def line_index(index):
        index.line_index[0] = (array("Q", [5, 1]), array("Q", [0, 0]))
    return locals()[name]


@pytest.mark.parametrize("broken", ["doc_file", "doc_label", "postings", "term_start", "labels", "examples", "stat",
                                    "line_index"])
def test_a_cache_with_a_right_checksum_and_a_broken_invariant_is_rebuilt(tmp_path: Path, chat, write_jsonl, broken):
    data = _two_files_dataset(tmp_path, chat, write_jsonl)
    config = validate({}, "t")
    cache = tmp_path / "cache"
    files = training_files(data, config)
    expected = _answers(WhyIndex.build(data, config, tmp_path, files), config)
    bad = WhyIndex.build(data, config, tmp_path, files)
    _tampered(broken)(bad)
    path = index_path(cache, data, config, files)
    bad.save(path)
    saved = path.read_bytes()
    index = open_index(data, config, tmp_path, cache)
    assert _answers(index, config) == expected
    # Rebuilt (the build time in the header differs), on load or on the query.
    assert path.read_bytes() != saved and WhyIndex.load(path) is not None


def test_a_fault_of_a_freshly_built_index_still_raises(tmp_path: Path, chat, write_jsonl):
    data = _two_files_dataset(tmp_path, chat, write_jsonl)
    config = validate({}, "t")
    index = WhyIndex.build(data, config, tmp_path)
    index.doc_file[0] = 9
    with pytest.raises(IndexError):
        _answers(index, config)
