"""Real public datasets with known defects (../shared/datasets; see each SOURCE.md).

Skipped with a reason where the clone has no ../shared. The expected findings come
from the SOURCE.md notes, not from running the plugin.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_ftdata.config import FtdataConfig
from pytest_ftdata.engine import analyze_dataset


def analyze(path: Path, families=("schema", "format")):
    result = analyze_dataset(path.parent, [path], FtdataConfig(), path.parent, families=families)
    [file_result] = result.files.values()
    return file_result.info, result.all_findings()


def lines_of(findings, rule: str) -> list[int | None]:
    return sorted((f.line for f in findings if f.rule == rule), key=lambda line: line or 0)


# -- alpaca_libre v2: 14 invalid JSON lines ----------------------------------------------------

#: SOURCE.md: "14 malformed JSONL lines in v2, lines 2279-2294 except 2280 and 2292".
ALPACA_BAD_LINES = [line for line in range(2279, 2295) if line not in (2280, 2292)]


def test_alpaca_libre_invalid_lines_are_found_and_the_rest_is_checked(shared_datasets):
    path = shared_datasets / "alpaca_libre" / "raw" / "alpaca_libre_tasks_v2.jsonl"
    info, findings = analyze(path, families=("schema",))
    assert lines_of(findings, "SCH001") == ALPACA_BAD_LINES
    assert all("not valid JSON" in f.message for f in findings if f.rule == "SCH001")
    assert info.format == "instruction"
    assert info.examples == 2294 - len(ALPACA_BAD_LINES)  # every other line was read as an example
    # SOURCE.md: 51 empty outputs in v2; the lines after the broken ones were still checked too.
    assert len(lines_of(findings, "SCH104")) == 51


def test_alpaca_libre_in_a_pytest_run(shared_datasets, pytester):
    data = pytester.path / "data"
    data.mkdir()
    shutil.copy(shared_datasets / "alpaca_libre" / "raw" / "alpaca_libre_tasks_v2.jsonl", data)
    result = pytester.runpytest("--ftdata", "data", "-k", "schema", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, deselected=result.parseoutcomes().get("deselected", 0))
    result.stdout.fnmatch_lines([f"data/alpaca_libre_tasks_v2.jsonl:{line}: SCH001 Line {line} is not valid JSON*" for line in ALPACA_BAD_LINES])
    output = result.stdout.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output


# -- openai_toy_chat: missing system and missing user turn ---------------------------------------

def test_openai_toy_chat_missing_system_and_user(shared_datasets):
    info, findings = analyze(shared_datasets / "openai_toy_chat" / "raw" / "toy_chat_fine_tuning.jsonl")
    assert info.examples == 5
    # example 4 is system + assistant only
    assert lines_of(findings, "SCH112") == [4]
    # example 3 has no system message: the one rare variant among the system prompts
    assert lines_of(findings, "FMT007") == [3]
    assert "no system prompt" in next(f.message for f in findings if f.rule == "FMT007")
    [variants] = [f for f in findings if f.rule == "FMT006"]
    assert "(none) x1" in variants.message and "x4" in variants.message


# -- stock_toolcall_foundry: tool calls validate; a broken copy does not -------------------------

@pytest.mark.parametrize("name", ["stock_toolcall_training.jsonl", "stock_toolcall_validation.jsonl"])
def test_stock_toolcall_validates_cleanly(shared_datasets, name):
    info, findings = analyze(shared_datasets / "stock_toolcall_foundry" / "raw" / name, families=("schema",))
    assert info.examples == {"stock_toolcall_training.jsonl": 86, "stock_toolcall_validation.jsonl": 10}[name]
    assert findings == []


def test_stock_toolcall_broken_copy_is_caught(shared_datasets, tmp_path):
    source = shared_datasets / "stock_toolcall_foundry" / "raw" / "stock_toolcall_training.jsonl"
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    with_calls = [i for i, r in enumerate(records) if r["messages"][-1].get("tool_calls")]
    bad_arguments, unknown_tool = with_calls[0], with_calls[1]
    records[bad_arguments]["messages"][-1]["tool_calls"][0]["function"]["arguments"] = '{"company_name": "Microsoft"'
    records[unknown_tool]["messages"][-1]["tool_calls"][0]["function"]["name"] = "buy_stock"
    broken = tmp_path / "stock_toolcall_training.jsonl"
    broken.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    _, findings = analyze(broken, families=("schema",))
    assert [(f.rule, f.line) for f in findings] == sorted(
        [("SCH110", bad_arguments + 1), ("SCH111", unknown_tool + 1)], key=lambda pair: pair[1]
    )
    unknown = next(f for f in findings if f.rule == "SCH111")
    assert "'buy_stock'" in unknown.message and "get_current_stock_price" in unknown.message


# -- gsm8k_chat_foundry: consistent but odd target formatting ------------------------------------

def test_gsm8k_chat_leading_space_and_trailing_exclamation_marks(shared_datasets):
    info, findings = analyze(shared_datasets / "gsm8k_chat_foundry" / "raw" / "chat_train.jsonl")
    assert info.examples == 449
    assert [f for f in findings if f.severity == "error"] == []
    [whitespace] = [f for f in findings if f.rule == "FMT008"]
    assert whitespace.line is None and "All 449 targets start with whitespace" in whitespace.message
    [suffix] = [f for f in findings if f.rule == "FMT010"]
    assert suffix.line is None and "'!!!'" in suffix.message
