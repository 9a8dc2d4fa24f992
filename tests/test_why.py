"""`why` (pytest_ftdata/why.py): a text of common words only, and a damaged index cache.

A text whose every word is in more than a quarter of the examples still finds the
examples holding its words. A cached index is a hint, the data is the truth: a damaged
or inconsistent cache is rebuilt silently and answers as a fresh build does, while a
fault in a freshly built index still raises.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from pytest_ftdata import load
from pytest_ftdata.config import validate
from pytest_ftdata.why import WhyIndex, index_path, training_files, word_hash

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
    import random

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
