"""The first run of a new user (issue 13, collection): every node id the run prints can
be given back to pytest, every dataset file a user has is collected (JSON arrays,
Parquet), a path with nothing to check says why, shards and split-less files are
checked against each other, record shapes that drift are reported, and the plugin can
be turned off under `--strict-config`.
"""

from __future__ import annotations

import json
import re

import pytest

NO_CACHE = ("-p", "no:cacheprovider")


def ticket(text: str, intent: str) -> dict:
    return {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": intent}]}


@pytest.fixture
def leaky(pytester, write_jsonl):
    """data/train.jsonl and data/test.jsonl share two inputs (LEAK001), test.jsonl has a
    record without a user turn (a schema error)."""
    train = [ticket(f"Where is my card, question {i}?", "card_arrival") for i in range(12)]
    test = [ticket("Where is my card, question 3?", "card_arrival"), ticket("Where is my card, question 7?", "card_arrival"),
            {"messages": [{"role": "assistant", "content": "card_arrival"}]}]
    write_jsonl(pytester.path / "data" / "train.jsonl", train)
    write_jsonl(pytester.path / "data" / "test.jsonl", test)
    return pytester.path / "data"


def failed_ids(result) -> list[str]:
    return sorted(line.split()[1] for line in result.outlines if line.startswith("FAILED "))


# -- 1. node ids ------------------------------------------------------------------------------


def test_every_printed_node_id_reruns_and_last_failed_works(leaky, pytester, run_mode):
    first = run_mode(pytester, "--ftdata", "data", "-p", "no:hypothesispytest")
    failed = failed_ids(first)
    assert "data/dataset::leakage" in failed and "data/test.jsonl::schema" in failed, first.stdout.str()
    # Each printed id, given back to pytest as printed, runs that one item (and it fails again).
    for nodeid in failed:
        again = run_mode(pytester, "--ftdata", nodeid, *NO_CACHE)
        assert again.ret == pytest.ExitCode.TESTS_FAILED, (nodeid, again.stdout.str())
        assert failed_ids(again) == [nodeid]
    # The ids `--co -q` prints are accepted too, each selecting exactly itself.
    listed = [line for line in pytester.runpytest("--ftdata", "data", "--co", "-q", *NO_CACHE).outlines if "::" in line]
    dataset_ids = [nodeid for nodeid in listed if nodeid.startswith("data/dataset::")]
    assert dataset_ids
    for nodeid in dataset_ids:
        collected = [line for line in pytester.runpytest("--ftdata", nodeid, "--co", "-q", *NO_CACHE).outlines if "::" in line]
        assert collected == [nodeid]
    # --lf reruns exactly the failed items (the cache is on in this run).
    last = run_mode(pytester, "--ftdata", "data", "--lf", "-p", "no:hypothesispytest")
    assert failed_ids(last) == failed
    assert last.parseoutcomes().get("passed", 0) == 0


def test_an_unknown_dataset_item_is_a_clear_usage_error(leaky, pytester):
    result = pytester.runpytest("--ftdata", "data/dataset::no_such_check", *NO_CACHE)
    assert result.ret in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


# -- 2. JSON arrays, Parquet, and nothing to check ------------------------------------------------


def test_json_array_and_parquet_files_are_collected(pytester, run_mode):
    pa = pytest.importorskip("pyarrow", reason="pyarrow is the optional 'parquet' extra")
    import pyarrow.parquet as pq

    rows = [ticket(f"How do I reset my PIN, take {i}?", "reset_pin") for i in range(8)]
    array = pytester.path / "data" / "alpaca"
    array.mkdir(parents=True)
    # An Alpaca-style array, indented: the repeated record is located by the line it starts on.
    records = [{"instruction": f"Name colour {i}.", "input": "", "output": f"Colour {i}."} for i in range(6)]
    records.append(records[1])
    (array / "tasks.json").write_text(json.dumps(records, indent=4), encoding="utf-8")
    hub = pytester.path / "data" / "hub"
    hub.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), hub / "train-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:2]), hub / "train-00001-of-00002.parquet")
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:r.json", *NO_CACHE)
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    files = {info["path"]: info for info in report["files"]}
    assert files["data/alpaca/tasks.json"]["examples"] == 7
    assert files["data/hub/train-00000-of-00002.parquet"]["examples"] == 8
    assert files["data/hub/train-00001-of-00002.parquet"]["split"] == "train"
    assert "SCH006" not in report["summary"]["by_rule"], result.stdout.str()  # every Parquet file was read
    duplicates = [f for f in report["findings"] if f["rule"] == "DUP001"]
    # the shards of one split are checked against each other: rows 1-2 of shard 1 repeat shard 0's
    assert sorted((f["path"], f["line"]) for f in duplicates if f["path"].startswith("data/hub/")) == [
        ("data/hub/train-00001-of-00002.parquet", 1), ("data/hub/train-00001-of-00002.parquet", 2)]
    [copy] = [f for f in duplicates if f["path"] == "data/alpaca/tasks.json"]
    text = (array / "tasks.json").read_text(encoding="utf-8").splitlines()
    assert text[copy["line"] - 1].strip() == "{" and copy["line"] > 30  # the start line of the 7th record


@pytest.mark.parametrize(
    "content, rule, said",
    [
        ('{"train": [{"text": "a"}]}', "SCH014", "one JSON object, not an array of records"),
        ('"just a string"', "SCH014", "single JSON string"),
        ("[1, 2, 3]", "SCH004", "not a JSON object"),
    ],
)
def test_a_json_file_that_holds_no_records_is_a_finding(pytester, content, rule, said):
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "config.json").write_text(content, encoding="utf-8")
    result = pytester.runpytest("--ftdata", "data", *NO_CACHE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert re.search(rf"data/config\.json(:\d+)?: {rule} .*{re.escape(said)}", output), output


def test_a_path_with_nothing_to_check_says_why(pytester, run_mode):
    (pytester.path / "data").mkdir()
    for name in ("train.csv", "test.csv", "val.csv"):
        (pytester.path / "data" / name).write_text("text,label\nhi,greet\n", encoding="utf-8")
    result = run_mode(pytester, "--ftdata", "data", *NO_CACHE)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(
        ["*no dataset files under data/: found 3 .csv files; pytest-ftdata reads .jsonl, .jsonl.gz, .json, .parquet*"]
    )


# -- 3 and 4. shards, split-less files, and record shapes -----------------------------------------


def test_split_less_files_are_checked_against_each_other_and_drift_is_reported(shared_datasets, pytester):
    """alpaca_libre v1/v2/v3 as published: copies across the versions are found, and v2/v3
    keep `similarity` under `other` where v1 has it at the top level (SPL005)."""
    data = pytester.path / "data" / "alpaca_libre"
    data.mkdir(parents=True)
    for version in ("v1", "v2", "v3"):
        source = shared_datasets / "alpaca_libre" / "raw" / f"alpaca_libre_tasks_{version}.jsonl"
        (data / source.name).write_bytes(source.read_bytes())
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:r.json", *NO_CACHE)
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    across = [f for f in report["findings"] if f["rule"] == "DUP001"
              and len({loc["path"] for loc in f["related"]} | {f["path"]}) > 1]
    assert across, result.stdout.str()
    drift = sorted(f["path"] for f in report["findings"] if f["rule"] == "SPL005")
    assert drift == ["data/alpaca_libre/alpaca_libre_tasks_v2.jsonl", "data/alpaca_libre/alpaca_libre_tasks_v3.jsonl"]
    message = next(f["message"] for f in report["findings"] if f["rule"] == "SPL005")
    assert "`other.similarity`" in message and "lack `similarity`" in message


def test_shards_named_part_and_shard_are_one_split(pytester, write_jsonl, run_mode):
    rows = [ticket(f"Can I change my address, case {i}?", "change_address") for i in range(4)]
    write_jsonl(pytester.path / "data" / "part-0001.jsonl", rows)
    write_jsonl(pytester.path / "data" / "part-0002.jsonl", rows[:1])
    write_jsonl(pytester.path / "data" / "shard_3.jsonl", rows[3:])
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:r.json", *NO_CACHE)
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    copies = sorted((f["path"], f["line"]) for f in report["findings"] if f["rule"] == "DUP001")
    assert copies == [("data/part-0002.jsonl", 1), ("data/shard_3.jsonl", 1)], result.stdout.str()


def test_a_minority_of_records_with_another_shape_is_reported(pytester, write_jsonl):
    records = [{"instruction": f"Add {n} and {n}.", "output": str(2 * n), "meta": {"source": "v1"}} for n in range(40)]
    for record in records[5:8]:
        record.pop("meta")
        record["source"] = "v2"
    write_jsonl(pytester.path / "data" / "train.jsonl", records)
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report", "term:full", *NO_CACHE)
    result.stdout.fnmatch_lines(
        ["*data/train.jsonl:6: SPL006 3 of 40 records of data/train.jsonl have another set of keys than the other 37*"]
    )


# -- 8. the off switch ------------------------------------------------------------------------

STRICT_INI = """
[pytest]
ftdata = true
ftdata_paths = data
testpaths = tests
"""


@pytest.mark.parametrize("switch", [("--no-ftdata",), ("-o", "ftdata=false")], ids=["option", "ini"])
def test_the_off_switch_is_clean_under_strict_config(leaky, pytester, run_mode, switch):
    pytester.makeini(STRICT_INI)
    pytester.makepyfile(**{"tests/test_plain": "def test_plain():\n    assert True\n"})
    result = run_mode(pytester, "--strict-config", "-W", "error::pytest.PytestConfigWarning", *switch, *NO_CACHE)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "PytestConfigWarning" not in output and "pytest-ftdata" not in output and "data/" not in output


def test_p_no_ftdata_is_what_strict_config_rejects(leaky, pytester):
    # Why docs/reports.md recommends --no-ftdata: without the plugin its ini keys are unknown.
    pytester.makeini(STRICT_INI)
    pytester.makepyfile(**{"tests/test_plain": "def test_plain():\n    assert True\n"})
    result = pytester.runpytest("--strict-config", "-p", "no:ftdata", *NO_CACHE)
    assert result.ret != pytest.ExitCode.OK
    assert "ftdata" in result.stderr.str() + result.stdout.str()
