"""Dataset versions: `ftdata.lock`, the `versions` check (VER001-VER007) and `why`.

The scenario of issue 15 runs on a copy of example_project in every run mode: make a
lock, move two test examples into train, relabel one, cut a validation file's last
lines; each change is named at its line, the moves fail the run, and the per-split
counts are right. Then: the lock is the same bytes serially and under `-n 2` and holds
no text; the result cache keys on the lock; baselines and lock updates stay apart; a
hostile lock is one finding; `why` answers from the API and the command line.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ftdata import load
from pytest_ftdata.config import LOCK_FORBIDDEN_SUFFIXES, ConfigError, validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.families.versions import MAX_LINE_BYTES, lock_text_for, read_lock
from pytest_ftdata.readers import DATA_SUFFIXES
from pytest_ftdata.why import WhyIndex, index_path, training_files

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("-k", "versions")


def _copy_example(pytester: pytest.Pytester) -> Path:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    return pytester.path / "data" / "support"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _user_text(line: str) -> str:
    return next(m["content"] for m in json.loads(line)["messages"] if m["role"] == "user")


def _change_support(data: Path) -> tuple[str, str]:
    """Move test lines 5 and 10 to the end of train, relabel train line 7, cut val's last 3 lines."""
    test, train, val = _lines(data / "test.jsonl"), _lines(data / "train.jsonl"), _lines(data / "val.jsonl")
    moved = [test[4], test[9]]
    (data / "test.jsonl").write_text("".join(line for i, line in enumerate(test) if i not in (4, 9)), encoding="utf-8")
    record = json.loads(train[6])
    answer = json.loads(record["messages"][-1]["content"])
    old = answer["intent"]
    answer["intent"] = new = "card_arrival" if old != "card_arrival" else "change_pin"
    record["messages"][-1]["content"] = json.dumps(answer)
    train[6] = json.dumps(record) + "\n"
    (data / "train.jsonl").write_text("".join(train + moved), encoding="utf-8")
    (data / "val.jsonl").write_text("".join(val[:-3]), encoding="utf-8")
    return old, new


def _report(pytester: pytest.Pytester, name: str = "report.json") -> dict:
    return json.loads((pytester.path / name).read_text(encoding="utf-8"))


def _rows(report: dict) -> dict[str, list]:
    [dataset] = report["versions"]["datasets"]
    return {row["split"]: [row[k] for k in ("examples", "locked", "added", "removed", "changed", "moved_in", "moved_out")]
            for row in dataset["splits"]}


# -- the done scenario, in every run mode ---------------------------------------------------------


def test_issue_scenario_names_every_change_and_fails_on_the_moves(pytester: pytest.Pytester, run_mode):
    data = _copy_example(pytester)
    before = sorted(p.name for p in data.iterdir())
    made = run_mode(pytester, "--ftdata", "data/support", *VERSIONS, "--ftdata-update-lock")
    assert made.ret == 0, made.stdout.str()
    made.stdout.fnmatch_lines(["*pytest-ftdata lock written to data/support/ftdata.lock*"])
    assert sorted(p.name for p in data.iterdir()) == sorted(before + ["ftdata.lock"])  # the only file written

    old, new = _change_support(data)
    result = run_mode(pytester, "--ftdata", "data/support", *VERSIONS, "--ftdata-report", "json:report.json")
    assert result.ret == 1
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*data/support/train.jsonl:481: VER001 Example moved from the test split into the train split since the lock (it was at data/support/test.jsonl:5)*",
        "*data/support/train.jsonl:482: VER001 Example moved from the test split into the train split since the lock (it was at data/support/test.jsonl:10)*",
    ])
    assert f"data/support/train.jsonl:7: VER004 Label changed for the same input since the lock: '{old}' -> '{new}'" in out
    for line in (58, 59, 60):
        assert f"data/support/val.jsonl:{line}: VER005 The example the lock has at data/support/val.jsonl:{line} is gone from the validation split" in out
    report = _report(pytester)
    by_rule = report["summary"]["by_rule"]
    assert by_rule == {"VER001": 2, "VER004": 1, "VER005": 3}
    assert {f["severity"] for f in report["findings"] if f["rule"] == "VER001"} == {"error"}
    # split: examples, locked, added, removed, changed, moved in, moved out
    assert _rows(report) == {
        "train": [482, 480, 0, 0, 1, 2, 0],
        "validation": [57, 60, 0, 3, 0, 0, 0],
        "test": [58, 60, 0, 0, 0, 0, 2],
    }
    result.stdout.fnmatch_lines(["*dataset versions: data/support/ftdata.lock: changes since the lock*",
                                 "train*482*480*+0*-0*~1*2*0*"])

    # Accepting the changes: the lock is rewritten, the update run reports nothing against it,
    # and the next run is clean.
    accepted = run_mode(pytester, "--ftdata", "data/support", *VERSIONS, "--ftdata-update-lock")
    assert accepted.ret == 0, accepted.stdout.str()
    clean = run_mode(pytester, "--ftdata", "data/support", *VERSIONS)
    assert clean.ret == 0, clean.stdout.str()
    assert "VER0" not in clean.stdout.str()


def test_markdown_and_html_reports_show_the_counts(pytester: pytest.Pytester):
    data = _copy_example(pytester)
    pytester.runpytest("--ftdata", "data/support", *VERSIONS, "--ftdata-update-lock")
    _change_support(data)
    pytester.runpytest("--ftdata", "data/support", *VERSIONS, "--ftdata-report", "md:r.md", "--ftdata-report", "html:r.html")
    markdown = (pytester.path / "r.md").read_text(encoding="utf-8")
    assert "### Dataset versions: `data/support/ftdata.lock: changes since the lock`" in markdown
    [train] = [line for line in markdown.splitlines() if line.startswith("| train ")]
    assert [cell.strip() for cell in train.strip("|").split("|")] == ["train", "482", "480", "+0", "-0", "~1", "2", "0"]
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Dataset versions: data/support/ftdata.lock: changes since the lock</h2>" in html
    assert "<tr><td>validation</td><td>57</td><td>60</td><td>+0</td><td>-3</td>" in html


# -- the lock itself ---------------------------------------------------------------------------------


def test_lock_is_the_same_bytes_serially_and_under_xdist_and_holds_no_text(pytester: pytest.Pytester, run_modes):
    data = _copy_example(pytester)
    lock = data / "ftdata.lock"
    serial = run_modes["serial"](pytester, "--ftdata", "data/support", "--ftdata-update-lock", "-p", "no:cacheprovider")
    assert lock.is_file(), serial.stdout.str()
    first = lock.read_bytes()
    lock.unlink()
    xdist = run_modes["xdist"](pytester, "--ftdata", "data/support", "--ftdata-update-lock", "-p", "no:cacheprovider")
    assert xdist.ret == serial.ret
    assert lock.read_bytes() == first
    text = first.decode("utf-8")
    header, *rows = text.splitlines()
    assert json.loads(header)["examples"] == len(rows) == 600
    assert rows == sorted(rows, key=lambda row: (json.loads(row)[0], json.loads(row)[1], json.loads(row)[2]))
    # No input and no target text is in the lock: only hashes, labels and provenance ids.
    for name in ("train.jsonl", "val.jsonl", "test.jsonl"):
        for line in _lines(data / name)[:60]:
            user = _user_text(line)
            assert user not in text
            assert json.loads(line)["messages"][-1]["content"] not in text


def test_whitespace_edit_is_not_a_change_and_a_new_example_is_added(tmp_path: Path, chat, write_jsonl):
    data = tmp_path / "data"
    train = [chat(f"Question number {n} about invoices?", "billing") for n in range(6)]
    write_jsonl(data / "train.jsonl", train)
    write_jsonl(data / "test.jsonl", [chat("Where is my parcel?", "shipping")])
    config = validate({}, "test", str(tmp_path))
    (data / "ftdata.lock").write_text(_lock_of(data, config), encoding="utf-8")
    train[2] = chat("  question   number 2 about INVOICES?", "billing")
    write_jsonl(data / "train.jsonl", train + [chat("A brand new question?", "billing")])
    result = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"])
    assert result.findings["versions"] == []
    row = {r["split"]: r for r in result.summaries["versions"]["splits"]}["train"]
    assert (row["added"], row["removed"], row["changed"], row["moved_in"]) == (1, 0, 0, 0)


def _lock_of(data: Path, config) -> str:
    result = analyze_dataset(data, dataset_files(data), config, data.parent, families=["versions"], update_lock=True)
    return result.outputs["lock"]["text"]


def test_groups_that_cross_the_train_boundary_are_moves(tmp_path: Path, chat, write_jsonl):
    data = tmp_path / "data"

    def ticket(text, group):
        return {**chat(text, "billing"), "metadata": {"ticket": group}}

    write_jsonl(data / "train.jsonl", [ticket("First question of T-1?", "T-1"), ticket("Unrelated question?", "T-2")])
    write_jsonl(data / "test.jsonl", [ticket("Second question of T-3?", "T-3")])
    config = validate({"group_by": "/metadata/ticket"}, "test", str(tmp_path))
    (data / "ftdata.lock").write_text(_lock_of(data, config), encoding="utf-8")
    # A new example of the test-only group T-3 lands in train.
    write_jsonl(data / "train.jsonl", [ticket("First question of T-1?", "T-1"), ticket("Unrelated question?", "T-2"),
                                       ticket("A follow-up of T-3?", "T-3")])
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [(f.rule, f.line) for f in found] == [("VER001", 3)]
    assert "Group 'T-3' was in the test split in the lock and now has examples in the train split" in found[0].message


def test_moves_between_evaluation_splits_and_definition_changes_are_warnings(tmp_path: Path, chat, write_jsonl):
    data = tmp_path / "data"
    write_jsonl(data / "validation.jsonl", [chat("Question A?", "a"), chat("Question B?", "b")])
    write_jsonl(data / "test.jsonl", [chat("Question C?", "c")])
    config = validate({}, "test", str(tmp_path))
    (data / "ftdata.lock").write_text(_lock_of(data, config), encoding="utf-8")
    write_jsonl(data / "validation.jsonl", [chat("Question A?", "a")])
    write_jsonl(data / "test.jsonl", [chat("Question C?", "c"), chat("Question B?", "b")])
    changed = validate({"near_duplicate_threshold": 97, "min_split_size": {"test": 5}}, "test", str(tmp_path))
    found = analyze_dataset(data, dataset_files(data), changed, tmp_path, families=["versions"]).findings["versions"]
    assert {(f.rule, f.severity) for f in found} == {("VER003", "warning"), ("VER006", "warning")}
    [definition] = [f for f in found if f.rule == "VER006"]
    assert "`min_split_size`, `near_duplicate_threshold`" in definition.message


def test_the_fingerprint_memory_budget_is_not_a_definition_change(tmp_path: Path, chat, write_jsonl):
    """How much memory the join may use changes how it runs, never what it finds."""
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a"), chat("Question B?", "b")])
    (data / "ftdata.lock").write_text(_lock_of(data, validate({}, "test", str(tmp_path))), encoding="utf-8")
    smaller = validate({"fingerprint_memory_mb": 64}, "test", str(tmp_path))
    assert analyze_dataset(data, dataset_files(data), smaller, tmp_path, families=["versions"]).findings["versions"] == []


def test_a_gzip_lock_is_written_and_read(pytester: pytest.Pytester, chat, write_jsonl):
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    pytester.makefile(".toml", ftdata='lock = "ftdata.lock.gz"\n')
    pytester.runpytest("--ftdata", "data", *VERSIONS, "--ftdata-update-lock")
    packed = data / "ftdata.lock.gz"
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(packed.read_bytes()).splitlines()[0])["examples"] == 1
    assert read_lock(packed).keys
    assert pytester.runpytest("--ftdata", "data", *VERSIONS).ret == 0


def test_lock_names_of_data_files_are_refused():
    assert LOCK_FORBIDDEN_SUFFIXES == DATA_SUFFIXES
    with pytest.raises(ConfigError, match="suffix of a data file"):
        validate({"lock": "ftdata.lock.jsonl"}, "test")


# -- the shared normalized input, the vouched files, the fast paths ----------------------------------


def _example(user: str, system: str | None = "Classify the ticket.", line: int = 1):
    from pytest_ftdata.formats import make_example

    messages = ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": "billing"}]
    return make_example("train.jsonl", line, {"messages": messages}, "chat")


@pytest.mark.parametrize("ignore_punctuation", [False, True])
def test_the_key_made_from_the_shared_normalized_input_is_the_lock_key(tmp_path: Path, ignore_punctuation: bool):
    from pytest_ftdata.families.base import DatasetContext, FileInfo
    from pytest_ftdata.families.fingerprints import FingerprintMap
    from pytest_ftdata.families.versions import VersionMap, content_key

    config = validate({"ignore_punctuation": ignore_punctuation}, "test", str(tmp_path))
    info = FileInfo(path="train.jsonl", abspath=tmp_path / "train.jsonl", split="train")
    ctx = DatasetContext(path=".", files=[info], config=config)
    texts = [("Hello,   WORLD!", "Classify the ticket."), ("Héllo ﬁ world", None), ("  tidy text  ", ""), ("x", "Other prompt.")]
    # Each example is seen by the fingerprint map first (as in a run), or by the version map alone.
    shared, alone = VersionMap(ctx, info), VersionMap(ctx, info)
    fingerprints = FingerprintMap(ctx, info)
    for number, (user, system) in enumerate(texts, 1):
        first = _example(user, system, number)
        fingerprints.visit(first)
        assert first.normalized is not None and first.normalized_punctuation == ignore_punctuation
        shared.visit(first)
        alone.visit(_example(user, system, number))
    want = [content_key(_example(user, system), ignore_punctuation) for user, system in texts]
    assert list(shared.result().keys) == list(alone.result().keys) == want
    # A text normalized for the other setting is made again, not reused.
    other = _example("Hello,   WORLD!")
    FingerprintMap(ctx, info).visit(other)
    flipped = validate({"ignore_punctuation": not ignore_punctuation}, "test", str(tmp_path))
    versions = VersionMap(DatasetContext(path=".", files=[info], config=flipped), info)
    versions.visit(other)
    assert list(versions.result().keys) == [content_key(_example("Hello,   WORLD!"), not ignore_punctuation)]


def _versions_run(data: Path, config, tmp_path: Path, monkeypatch, vouch: bool):
    from pytest_ftdata.families import versions

    made: list = []
    original = versions.VersionMap.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    with monkeypatch.context() as patch:
        patch.setattr(versions.VersionMap, "__init__", recording)
        if not vouch:
            patch.setattr(versions.VersionsFamily, "_vouched", lambda self: {})
        result = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["duplicates", "versions"])
    visited: dict[str, bool] = {}
    for m in made:  # the engine's map of each file (a file read again makes another)
        visited.setdefault(m.file.path.rsplit("/", 1)[-1], m.visits)
    return result.findings["versions"], result.summaries["versions"], visited


def test_files_the_lock_vouches_for_are_not_visited_and_find_the_same(tmp_path: Path, chat, write_jsonl, monkeypatch):
    data = tmp_path / "data"
    label = lambda n: {**chat(f"Question {n} about my bill?", "billing"), "metadata": {"customer": f"C-{n % 7}"}}
    write_jsonl(data / "train.jsonl", [label(n) for n in range(30)])
    write_jsonl(data / "validation.jsonl", [label(n) for n in range(30, 36)])
    write_jsonl(data / "test.jsonl", [label(n) for n in range(36, 42)])
    config = validate({"label": "target", "group_by": "/metadata/customer", "id_field": "/metadata/customer"},
                      "test", str(tmp_path))
    (data / "ftdata.lock").write_text(_lock_of(data, config), encoding="utf-8")
    unchanged = _versions_run(data, config, tmp_path, monkeypatch, vouch=True)
    assert unchanged[0] == [] and set(unchanged[2].values()) == {False}  # header only: nothing visited
    # Only test.jsonl changes: a train example copied in, one removed, one relabelled, a new one.
    test = [label(n) for n in range(36, 42)]
    test[1]["messages"][-1]["content"] = "refunds"
    write_jsonl(data / "test.jsonl", test[:3] + test[4:] + [label(5), label(99)])
    vouched, summary, visited = _versions_run(data, config, tmp_path, monkeypatch, vouch=True)
    assert visited == {"train.jsonl": False, "validation.jsonl": False, "test.jsonl": True}
    assert {f.rule for f in vouched} >= {"VER004", "VER005"}
    assert (vouched, summary) == _versions_run(data, config, tmp_path, monkeypatch, vouch=False)[:2]


def test_without_a_lock_or_an_update_the_versions_maps_visit_nothing(tmp_path: Path, chat, write_jsonl, monkeypatch):
    """A project that does not use locks pays nothing for the versions family; with
    --ftdata-update-lock every file is visited and the lock is rendered."""
    from pytest_ftdata.families import versions

    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat(f"Question {n}?", "answer") for n in range(5)])
    config = validate({}, "test", str(tmp_path))
    visited: list[bool] = []
    original = versions.VersionMap.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        visited.append(self.visits)

    monkeypatch.setattr(versions.VersionMap, "__init__", recording)
    quiet = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"])
    assert visited == [False] and quiet.findings["versions"] == [] and "lock" not in quiet.outputs
    visited.clear()
    update = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"], update_lock=True)
    assert visited == [True] and update.outputs["lock"]["text"].count("\n") > 5


def test_a_lock_missing_rows_its_header_counts_is_refused(tmp_path: Path, chat, write_jsonl, monkeypatch):
    """A lock whose rows for a file were taken out read as if those examples were new:
    a test example moved into train then passed unseen. The header's count of examples
    no longer agrees with the rows, so the lock is refused (VER007), whether the file is
    vouched for or read."""
    data = tmp_path / "data"
    answer = lambda n: f"Here is the longer answer number {n}, written out in full."
    write_jsonl(data / "train.jsonl", [chat(f"Question {n}?", answer(n)) for n in range(5)])
    write_jsonl(data / "test.jsonl", [chat("Question T?", answer(7)), chat("Question U?", answer(8))])
    config = validate({}, "test", str(tmp_path))
    header, *rows = _lock_of(data, config).splitlines()
    # The test example moves into train, and the lock's rows of test.jsonl (file 0) are cut.
    write_jsonl(data / "train.jsonl", [chat(f"Question {n}?", answer(n)) for n in range(5)] + [chat("Question T?", answer(7))])
    write_jsonl(data / "test.jsonl", [chat("Question U?", answer(8))])
    kept = [row for row in rows if json.loads(row)[1] != 0]
    (data / "ftdata.lock").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    for vouch in (True, False):
        found, summary, _ = _versions_run(data, config, tmp_path, monkeypatch, vouch=vouch)
        assert [f.rule for f in found] == ["VER007"], found
        assert "it has 5 example entries, and its header says 7" in found[0].message
        assert summary["status"] == "unreadable"


@pytest.mark.parametrize("seed", range(6))
def test_a_check_that_takes_unchanged_files_from_the_lock_finds_what_a_full_check_finds(
    tmp_path: Path, chat, write_jsonl, monkeypatch, seed: int
):
    """After an edit of some files, the rows of the files the lock vouches for come from
    the lock and only the keys the edited files touch are matched (`Snapshot.compared`):
    the findings and counts must be those of matching every example. Inputs repeat
    across files, so moves, copies and duplicates of vouched rows all occur."""
    import random

    rng = random.Random(seed)
    data = tmp_path / "data"
    pool = [f"Question {n} about my order?" for n in range(40)]
    names = ("train.jsonl", "validation.jsonl", "test.jsonl")

    def example(text: str) -> dict:
        return {**chat(text, rng.choice(["billing", "refunds", "shipping"])), "metadata": {"customer": f"C-{rng.randrange(9)}"}}

    files = {name: [example(rng.choice(pool)) for _ in range(rng.randrange(8, 25))] for name in names}
    for name, rows in files.items():
        write_jsonl(data / name, rows)
    config = validate({"label": "target", "group_by": "/metadata/customer"}, "test", str(tmp_path))
    (data / "ftdata.lock").write_text(_lock_of(data, config), encoding="utf-8")
    edited = rng.sample(names, rng.choice([1, 1, 2]))
    for name in edited:
        rows = files[name]
        for _ in range(rng.randrange(1, 6)):
            roll, at = rng.random(), rng.randrange(len(rows))
            if roll < 0.3:
                rows.pop(at)  # removed (or moved, with the insertion into another file below)
            elif roll < 0.5:
                rows[at]["messages"][-1]["content"] = "refunds" if rows[at]["messages"][-1]["content"] != "refunds" else "billing"
            elif roll < 0.8:
                other = files[rng.choice(names)]
                rows.insert(at, json.loads(json.dumps(rng.choice(other))))  # a copy of an example of any file
            else:
                rows.insert(at, example(f"Brand new question {rng.random()}?"))
        write_jsonl(data / name, rows)
    vouched, summary, visited = _versions_run(data, config, tmp_path, monkeypatch, vouch=True)
    assert {name for name, visits in visited.items() if visits} == set(edited)
    assert (vouched, summary) == _versions_run(data, config, tmp_path, monkeypatch, vouch=False)[:2]


def test_a_lock_of_labelled_and_unlabelled_examples_is_read_back(tmp_path: Path, chat, write_jsonl):
    """A lock row without a label has four columns, one with a label five: a lock that
    holds both (a dataset where some targets lack the label) reads back, and a check
    against it finds nothing changed."""
    data = tmp_path / "data"
    records = [chat(f"Question {n} about my bill?", '{"intent": "billing"}') for n in range(6)]
    records += [chat("A question whose answer has no intent?", '{"reply": "none"}')]
    write_jsonl(data / "train.jsonl", records)
    config = validate({"label": "target:/intent"}, "test", str(tmp_path))
    lock = _lock_of(data, config)
    assert {len(json.loads(row)) for row in lock.splitlines()[1:]} == {4, 5}
    (data / "ftdata.lock").write_text(lock, encoding="utf-8")
    (data / "train.jsonl").write_text((data / "train.jsonl").read_text() + "\n", encoding="utf-8")  # not vouched for
    result = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"])
    assert result.findings["versions"] == []
    assert result.summaries["versions"]["status"] == "compared"
    assert sum(row["changed"] + row["added"] + row["removed"] for row in result.summaries["versions"]["splits"]) == 0


def test_the_fast_lock_reader_and_diff_agree_with_the_row_by_row_ones(tmp_path: Path, monkeypatch):
    import random
    from array import array

    from pytest_ftdata.families import versions

    rng = random.Random(5)
    files = [{"name": "train.jsonl", "split": "train"}, {"name": "validation.jsonl", "split": "validation"},
             {"name": "test.jsonl", "split": "test"}, {"name": "notes.jsonl", "split": None}]

    def snapshot(rows, labels) -> versions.Snapshot:
        snap = versions.Snapshot(files=[dict(f) for f in files], labels=labels)
        for key, file, line, target, label in rows:
            snap.keys.append(key); snap.file.append(file); snap.line.append(line); snap.target.append(target)
            snap.label.append(label); snap.group.append(0); snap.prov.append(-1)
        return snap

    keys = [rng.getrandbits(64) for _ in range(400)]
    old_rows = [(rng.choice(keys[:300]) if n % 9 == 0 else keys[n % 400], rng.randrange(4), n + 1, rng.randrange(3), rng.choice([-1, 0, 1]))
                for n in range(600)]
    new_rows = []
    for key, file, line, target, label in old_rows:
        roll = rng.random()
        if roll < 0.05:
            continue  # removed
        if roll < 0.10:
            file = rng.randrange(4)  # moved (or not)
        elif roll < 0.15:
            target ^= 1  # changed
        elif roll < 0.20:
            label = rng.choice([-1, 0, 1])  # relabelled
        new_rows.append((key, file, line, target, label))
    new_rows += [(rng.choice(keys), rng.randrange(4), 1000 + n, 0, -1) for n in range(40)]  # copies and new ones
    rng.shuffle(new_rows)
    old, new = snapshot(old_rows, ["billing", "refunds"]), snapshot(new_rows, ["refunds", "billing"])

    def matched(changes):
        return changes.counts, changes.moved, changes.relabelled, changes.added, changes.removed

    fast = versions.diff(old, new)
    monkeypatch.setattr(versions, "_kept", lambda old, new, *rest: (list(range(len(old.keys))), list(range(len(new.keys)))))
    assert matched(fast) == matched(versions.diff(old, new))
    assert fast.moved and fast.relabelled and fast.added and fast.removed
    monkeypatch.undo()

    # The lock of a plain dataset is read in C and row by row alike.
    plain = snapshot([(k, f, l, t, -1) for k, f, l, t, _ in old_rows], [])
    plain.task, plain.config, plain.schemas = "generation", {}, {}
    path = tmp_path / "ftdata.lock"
    path.write_text(versions.render_lock(plain), encoding="utf-8")
    columns = ("keys", "file", "line", "target", "label", "group", "prov", "labels", "provenances", "files")
    taken = versions.read_lock(path)
    monkeypatch.setattr(versions, "_plain_rows", lambda *args: False)
    walked = versions.read_lock(path)
    assert [getattr(taken, c) for c in columns] == [getattr(walked, c) for c in columns]
    assert sorted(zip(taken.keys, taken.line)) == sorted(zip(plain.keys, plain.line))
    assert isinstance(taken.keys, array)



def _reference_diff(old, new):
    """The matching as docs/versions.md states it, plainly (quadratic per key): per key
    and split, in split order, each new example (file, line order) takes the first
    identical old one, the rest pair up as changed; what is left over pairs across
    splits as moves, each new one with the first old one left of another split; the
    rest is added or removed. Counts and sorted pairs."""
    from pytest_ftdata.families import versions

    split_of = lambda snap, i: versions._split_name(snap.files[snap.file[i]].get("split"))
    same = lambda o, n: (old.target[o], old.label_of(o), old.prov_of(o)) == (new.target[n], new.label_of(n), new.prov_of(n))
    counts: dict = {}

    def count(split: str, what: str) -> None:
        counts.setdefault(split, Counter())[what] += 1

    moved, added, removed = [], [], []
    for key in set(old.keys) | set(new.keys):
        olds = sorted((o for o in range(len(old.keys)) if old.keys[o] == key), key=lambda o: (old.file[o], old.line[o]))
        news = sorted((n for n in range(len(new.keys)) if new.keys[n] == key), key=lambda n: (new.file[n], new.line[n]))
        spare_old, spare_new = [], []
        for split in sorted({split_of(old, o) for o in olds} | {split_of(new, n) for n in news}, key=versions._rank):
            o_list = [o for o in olds if split_of(old, o) == split]
            unmatched = []
            for n in (n for n in news if split_of(new, n) == split):
                hit = next((o for o in o_list if same(o, n)), None)
                if hit is None:
                    unmatched.append(n)
                else:
                    o_list.remove(hit)
            paired = min(len(unmatched), len(o_list))
            for _ in range(paired):
                o_list.pop(0)
                count(split, "changed")
            spare_new += unmatched[paired:]
            spare_old += o_list
        for n in spare_new:
            o = next((x for x in spare_old if split_of(old, x) != split_of(new, n)), None)
            if o is None:
                added.append(n)
                count(split_of(new, n), "added")
                continue
            spare_old.remove(o)
            moved.append((o, n))
            count(split_of(old, o), "moved_out")
            count(split_of(new, n), "moved_in")
        for o in spare_old:
            removed.append(o)
            count(split_of(old, o), "removed")
    return {split: {k: v for k, v in c.items() if v} for split, c in counts.items()}, sorted(moved), sorted(added), sorted(removed)


_ROW = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2), st.integers(-1, 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old_rows=st.lists(_ROW, max_size=24), new_rows=st.lists(_ROW, max_size=24))
def test_the_diff_matches_repeated_inputs_as_the_plain_reading_does(old_rows, new_rows):
    """A few keys, each repeated across splits, targets and labels: the diff (linear per
    key: a key of 19,000 copies took 53 s when it was quadratic) gives the counts and
    pairs of the plain reading of the rule."""
    from pytest_ftdata.families import versions

    files = [{"name": "train.jsonl", "split": "train"}, {"name": "validation.jsonl", "split": "validation"},
             {"name": "test.jsonl", "split": "test"}, {"name": "notes.jsonl", "split": None}]

    def snapshot(rows):
        snap = versions.Snapshot(files=[dict(f) for f in files], labels=["billing", "refunds"])
        for line, (key, file, target, label) in enumerate(rows, 1):
            snap.keys.append(key + 1); snap.file.append(file); snap.line.append(line); snap.target.append(target)
            snap.label.append(label); snap.group.append(0); snap.prov.append(-1)
        return snap

    old, new = snapshot(old_rows), snapshot(new_rows)
    changes = versions.diff(old, new)
    counts = {split: {k: v for k, v in row.items() if v} for split, row in changes.counts.items()}
    counts = {split: row for split, row in counts.items() if row}
    assert (counts, sorted(changes.moved), sorted(changes.added), sorted(changes.removed)) == _reference_diff(old, new)


# -- hostile locks ---------------------------------------------------------------------------------

HEADER = '{"ftdata_lock": 1, "examples": 1, "files": [{"name": "train.jsonl", "split": "train", "examples": 1}]}\n'
ROW = b'["0123456789abcdef", 0, 1, "00000000"]\n'


@pytest.mark.parametrize(
    "content, line, reason",
    [
        (b"", None, "it is empty"),
        (HEADER.encode() + b"<<<<<<< HEAD\n", 2, "merge conflict marker"),
        (b"<<<<<<< HEAD\n", 1, "unresolved merge conflict"),
        (HEADER.encode() + b'["00", 0, 1, "00000000"]\n', 2, "no valid content key"),
        (HEADER.encode() + b'["0123456789abcdef", 7, 1, "00000000"]\n', 2, "no valid file and line"),
        (HEADER.encode() + b'{"key": 1}\n', 2, "not an example entry"),
        (HEADER.encode() + b'["' + b"a" * (MAX_LINE_BYTES * 2) + b'"]\n', 2, "longer than"),
        (b'{"ftdata_lock": 2, "files": []}\n', 1, "format version 2"),
        (b"[1, 2, 3]\n", 1, "not a pytest-ftdata lock header"),
        (b"\x1f\x8b\x08\x00garbage", None, "cannot be read"),
        (b"\xff\xfe\x00binary", 1, "not a JSON header"),
        # rows taken out, or added, behind the header's back
        (HEADER.encode(), None, "it has 0 example entries, and its header says 1"),
        (HEADER.encode() + ROW + ROW, None, "it has 2 example entries, and its header says 1"),
        (HEADER.replace('"examples": 1, "files"', '"files"').encode() + ROW, 1, "no valid count of examples"),
        # hex that `int(x, 16)` alone would take
        (HEADER.encode() + b'[" 123456789abcdef", 0, 1, "00000000"]\n', 2, "no valid content key"),
        (HEADER.encode() + b'["0x23456789abcdef", 0, 1, "00000000"]\n', 2, "no valid content key"),
        (HEADER.encode() + b'["0123456789abcdef", 0, 1, "0000_000"]\n', 2, "no valid target hash"),
        # header text that findings print: a newline starts a CI workflow command
        (HEADER.replace("train.jsonl", "x\\n::error::pwned").encode() + ROW, 1, "file name with a path or control"),
        (HEADER.replace("train.jsonl", "../train.jsonl").encode() + ROW, 1, "file name with a path or control"),
        (HEADER.replace('"split": "train"', '"split": "t\\u001b[31m"').encode() + ROW, 1, "split that is not plain text"),
    ],
)
def test_a_hostile_lock_is_one_finding(tmp_path: Path, chat, write_jsonl, content: bytes, line, reason: str):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    (data / "ftdata.lock").write_bytes(content)
    config = validate({}, "test", str(tmp_path))
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [(f.rule, f.path, f.line) for f in found] == [("VER007", "data/ftdata.lock", line)]
    assert reason in found[0].message and "--ftdata-update-lock" in found[0].message


def test_a_lock_that_is_a_fifo_is_one_finding_and_no_hang(tmp_path: Path, chat, write_jsonl):
    """Opening a FIFO for reading waits for a writer forever: the lock is opened without
    blocking and its kind checked, with and without --ftdata-update-lock."""
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    os.mkfifo(data / "ftdata.lock")
    config = validate({}, "test", str(tmp_path))
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [(f.rule, f.line) for f in found] == [("VER007", None)]
    assert "it is a named pipe (FIFO), not a regular file" in found[0].message
    update = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"], update_lock=True)
    assert update.outputs["lock"]["text"].count("\n") == 2


def test_a_gzip_bomb_or_a_flood_of_blank_lines_is_refused_early(tmp_path: Path, chat, write_jsonl, monkeypatch):
    """A small gzip lock that decompresses to far more than a lock ever does is refused
    once the cap is passed, not read to its end; so is a plain lock of more lines than
    its header counts examples (blank lines were read one by one)."""
    import gzip
    from pytest_ftdata.families import versions

    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    config = validate({}, "test", str(tmp_path))
    # a header that counts a billion examples, and valid rows, so that only the size cap can stop it
    bomb = gzip.compress(HEADER.replace('"examples": 1, "files"', '"examples": 1000000000, "files"').encode() + ROW * (2 << 20))
    assert len(ROW) * (2 << 20) > 100 * len(bomb)  # far more than a lock's ratio
    (data / "ftdata.lock").write_bytes(bomb)
    given: list[int] = []
    original = versions._Capped.read

    def read(self, size=-1):
        data_ = original(self, size)
        given.append(self.given)
        return data_

    monkeypatch.setattr(versions._Capped, "read", read)
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [f.rule for f in found] == ["VER007"] and "decompresses to more than" in found[0].message
    assert max(given) <= versions.MAX_GZIP_RATIO * len(bomb) + (1 << 20) + (1 << 20)
    (data / "ftdata.lock").write_bytes(HEADER.encode() + ROW + b"\n" * (versions.MAX_SPARE_LINES + 10))
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [f.rule for f in found] == ["VER007"] and "more lines than its header's 1 examples" in found[0].message
    # a million blank lines are refused by the block they come in, before it is split into lines
    (data / "ftdata.lock").write_bytes(HEADER.encode() + ROW + b"\n" * 1_000_000)
    found = analyze_dataset(data, dataset_files(data), config, tmp_path, families=["versions"]).findings["versions"]
    assert [f.rule for f in found] == ["VER007"] and "lines far shorter than any example entry" in found[0].message


def test_a_directory_named_like_the_lock_is_one_finding(tmp_path: Path, chat, write_jsonl):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    (data / "ftdata.lock").mkdir()
    found = analyze_dataset(data, dataset_files(data), validate({}, "t"), tmp_path, families=["versions"]).findings["versions"]
    assert [f.rule for f in found] == ["VER007"]


# -- the cache and the baseline -------------------------------------------------------------------


def test_the_result_cache_keys_on_the_lock(pytester: pytest.Pytester, chat, write_jsonl):
    data = pytester.path / "data"
    train = [chat("Question A?", "a"), chat("Question B?", "b")]
    test = [chat("Question C?", "c")]
    write_jsonl(data / "train.jsonl", train)
    write_jsonl(data / "test.jsonl", test)
    assert pytester.runpytest("--ftdata", "data", *VERSIONS, "--ftdata-update-lock").ret == 0
    assert pytester.runpytest("--ftdata", "data", *VERSIONS).ret == 0  # cached: clean against lock A
    # Lock B: "Question C?" in train. Then the data goes back to exactly what was cached.
    write_jsonl(data / "train.jsonl", train + test)
    write_jsonl(data / "test.jsonl", [])
    assert pytester.runpytest("--ftdata", "data", *VERSIONS, "--ftdata-update-lock").ret == 0
    write_jsonl(data / "train.jsonl", train)
    write_jsonl(data / "test.jsonl", test)
    result = pytester.runpytest("--ftdata", "data", *VERSIONS)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*data/test.jsonl:1: VER002 Example moved from the train split into the test split*"])


def test_the_result_cache_gives_each_unusable_lock_its_own_reason(pytester: pytest.Pytester, chat, write_jsonl):
    """A lock that is no regular file has no bytes to key a cache entry on: the reason a
    run gives is that lock's, not the last one cached (a directory after a FIFO said
    the FIFO's words)."""
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    lock = data / "ftdata.lock"
    lock.symlink_to("/dev/null")
    first = pytester.runpytest("--ftdata", "data", *VERSIONS)
    first.stdout.fnmatch_lines(["*VER007*it is a character device, not a regular file*"])
    lock.unlink()
    lock.mkdir()
    second = pytester.runpytest("--ftdata", "data", *VERSIONS)
    second.stdout.fnmatch_lines(["*VER007*it is a directory, not a regular file*"])


@pytest.mark.parametrize("lock", ["/tmp/ftdata-victim.txt", "../ftdata.lock", "locks/../../x.lock"])
def test_a_lock_setting_outside_the_dataset_is_a_configuration_error(pytester: pytest.Pytester, chat, write_jsonl, lock):
    """`--ftdata-update-lock` overwrites the file the setting names: it may name only a
    file inside the dataset's directory."""
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("Question A?", "a")])
    pytester.makepyprojecttoml(f'[tool.ftdata]\nlock = "{lock}"\n')
    result = pytester.runpytest("--ftdata", "data", "--ftdata-update-lock")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*setting `lock`*must be a file name inside the dataset's directory*"])
    assert not Path("/tmp/ftdata-victim.txt").exists() and not (pytester.path / "ftdata.lock").exists()


def test_a_lock_two_datasets_share_or_a_symlink_takes_outside_is_not_written(
    pytester: pytest.Pytester, run_mode_serial_and_xdist, chat, write_jsonl, tmp_path_factory
):
    """data/a's lock `sub/ftdata.lock` is data/a/sub's own lock: writing both, one would
    overwrite the other and the next run blame the wrong files. data/c's `locks/` is a
    symlink out of the dataset. Neither is written, the run says why, and the JSON
    report's status is `unwritten`. (No-xdist adds nothing: the write is the controller's.)"""
    data = pytester.path / "data"
    write_jsonl(data / "a" / "train.jsonl", [chat("Question A?", "a")])
    (data / "a" / "ftdata.toml").write_text('lock = "sub/ftdata.lock"\n', encoding="utf-8")
    write_jsonl(data / "a" / "sub" / "train.jsonl", [chat("Question B?", "b")])
    (data / "a" / "sub" / "ftdata.toml").write_text('lock = "ftdata.lock"\n', encoding="utf-8")
    write_jsonl(data / "c" / "train.jsonl", [chat("Question C?", "c")])
    (data / "c" / "ftdata.toml").write_text('lock = "locks/ftdata.lock"\n', encoding="utf-8")
    outside = tmp_path_factory.mktemp("outside")
    (data / "c" / "locks").symlink_to(outside, target_is_directory=True)
    result = run_mode_serial_and_xdist(pytester, "--ftdata", "data", "--ftdata-update-lock", "--ftdata-report", "json:r.json")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines([
        "*could not write the lock data/a/sub/ftdata.lock: the datasets data/a and data/a/sub both have the lock*",
    ])
    result.stdout.fnmatch_lines(["*could not write the lock data/c/locks/ftdata.lock: it resolves to*outside the dataset's directory*"])
    assert not (data / "a" / "sub" / "ftdata.lock").exists() and list(outside.iterdir()) == []
    statuses = {d["dataset"]: d["status"] for d in json.loads((pytester.path / "r.json").read_text())["versions"]["datasets"]}
    assert statuses == {"data/a": "unwritten", "data/a/sub": "unwritten", "data/c": "unwritten"}


def test_an_early_stop_says_which_locks_were_not_written(pytester: pytest.Pytester, chat, write_jsonl):
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a"), chat("Question A?", "a")])  # DUP001 fails first
    result = pytester.runpytest("--ftdata", "data", "--ftdata-update-lock", "-x", "-p", "no:randomly")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*the run stopped early (-x or --maxfail), so only the locks*were written (0)*"])
    assert not (data / "ftdata.lock").exists()


def test_baselined_moves_are_not_raised_and_a_lock_update_leaves_the_baseline(pytester: pytest.Pytester, run_mode, chat, write_jsonl):
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a")])
    write_jsonl(data / "test.jsonl", [chat("Question C?", "c"), chat("Question D?", "d")])
    assert run_mode(pytester, "--ftdata", "data", *VERSIONS, "--ftdata-update-lock").ret == 0
    write_jsonl(data / "train.jsonl", [chat("Question A?", "a"), chat("Question C?", "c")])
    write_jsonl(data / "test.jsonl", [chat("Question D?", "d")])
    assert run_mode(pytester, "--ftdata", "data", *VERSIONS).ret == 1
    baseline = pytester.path / "baseline.json"
    update = run_mode(pytester, "--ftdata", "data", *VERSIONS, f"--ftdata-baseline={baseline}", "--ftdata-update-baseline")
    assert update.ret == 0 and "VER001" in baseline.read_text(encoding="utf-8")
    accepted = run_mode(pytester, "--ftdata", "data", *VERSIONS, f"--ftdata-baseline={baseline}")
    assert accepted.ret == 0, accepted.stdout.str()
    # A lock update does not touch the baseline (it is not a baseline update).
    saved = baseline.read_bytes()
    relock = run_mode(pytester, "--ftdata", "data", *VERSIONS, f"--ftdata-baseline={baseline}", "--ftdata-update-lock")
    assert relock.ret == 0
    assert baseline.read_bytes() == saved


# -- why --------------------------------------------------------------------------------------------


def _why_dataset(root: Path, chat, write_jsonl) -> Path:
    data = root / "data"
    write_jsonl(data / "train.jsonl", [
        chat("My card was charged twice for one coffee.", "billing"),
        chat("The app crashes when I open the camera.", "technical"),
        chat("jane.doe@corp-mail.com: refund the double charge on my card", "billing"),
        chat("How do I change my delivery address?", "shipping"),
    ])
    write_jsonl(data / "test.jsonl", [chat("I was charged twice for my card payment.", "billing")])
    return data


def test_nearest_ranks_training_examples_and_caches_an_index_without_text(tmp_path: Path, chat, write_jsonl):
    data = _why_dataset(tmp_path, chat, write_jsonl)
    cache = tmp_path / "cache"
    found = load(data).nearest("charged twice on my card", k=3, cache_dir=cache)
    assert [n.line for n in found[:2]] == [1, 3]
    assert all(n.split == "train" for n in found)  # test examples are not searched
    assert found[0].similarity > found[1].similarity > 0
    assert found[0].label == "billing" and found[0].location == "data/train.jsonl:1"
    assert "jane.doe" not in found[1].excerpt
    assert found[1].excerpt.startswith("'[email: j***@corp-mail.com, 22 chars]: refund")
    [index_file] = list(cache.iterdir())
    stored = index_file.read_bytes()
    for secret in (b"jane.doe", b"corp-mail", b"coffee", b"camera", b"charged"):
        assert secret not in stored
    # A new load() reads the cached index; an edited file makes it stale.
    config = validate({}, "t")
    assert WhyIndex.load(index_path(cache, data, config, training_files(data, config))) is not None
    write_jsonl(data / "train.jsonl", [chat("Only one example about coffee now.", "billing")])
    again = load(data).nearest("charged twice on my card coffee", k=3, cache_dir=cache)
    assert [n.line for n in again] == [1]


def test_why_command_line(tmp_path: Path, chat, write_jsonl):
    data = _why_dataset(tmp_path, chat, write_jsonl)
    env_path = str(ROOT)
    command = [sys.executable, "-m", "pytest_ftdata", "why", "app crashes with the camera", str(data), "--cache-dir", str(tmp_path / "c")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Training examples nearest to the text, best first")
    assert lines[1].startswith(" 1. data/train.jsonl:2  train  label 'technical'  similarity ")
    assert "'The app crashes when I open the camera.' -> 'technical'" in lines[2]
    as_json = subprocess.run([*command, "--json", "-k", "1"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                             env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    [best] = json.loads(as_json.stdout)["results"]
    assert (best["path"], best["line"], best["split"]) == ("data/train.jsonl", 2, "train")
    assert 0 < best["similarity"] <= 1
    bad = subprocess.run([sys.executable, "-m", "pytest_ftdata", "why", "x", str(tmp_path / "nothing")], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "empty").mkdir()
    empty = subprocess.run([sys.executable, "-m", "pytest_ftdata", "why", "x", str(tmp_path / "empty")], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert empty.returncode == 2 and "no dataset files" in empty.stderr


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'ftdata = "pytest_ftdata.cli:main"' in text


def test_rule_example_locks_are_built_from_their_data():
    record = '{"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]}\n'
    header, row = lock_text_for({"train.jsonl": record}, {"task": "generation"}).splitlines()
    assert json.loads(header)["files"][0]["split"] == "train"
    assert "Hi" not in row and "Hello" not in row
    # In a classification dataset the target is the label, and labels are kept as labels.
    _, labelled = lock_text_for({"train.jsonl": record}, {"task": "classification"}).splitlines()
    assert json.loads(labelled)[4] == "Hello."
