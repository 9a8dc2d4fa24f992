"""The `format` check family: answers of a file agree on how they look."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset

SYSTEM = "You classify support tickets."


def chat(answer: str, user: str = "Where is my card?", system: str | None = SYSTEM) -> dict:
    messages = [{"role": "system", "content": system}] if system is not None else []
    return {"messages": [*messages, {"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def answer(intent: str = "card_arrival", **extra) -> str:
    return json.dumps({"intent": intent, "priority": "low", **extra})


def analyze(tmp_path: Path, records: list, **settings):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    config = validate(settings, "test settings", str(tmp_path))
    result = analyze_dataset(tmp_path, [path], config, tmp_path, families=["format"])
    return result.files["train.jsonl"].findings["format"]


def codes(findings) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in findings]


def test_consistent_json_file_is_clean(tmp_path):
    records = [chat(answer(intent)) for intent in ("card_arrival", "pin_blocked", "exchange_rate")] * 5
    assert analyze(tmp_path, records, target_format="json") == []


def test_mixed_formats(tmp_path):
    records = [chat(answer())] * 5 + [{"prompt": "Where is my card?", "completion": answer()}]
    [mixed] = [f for f in analyze(tmp_path, records) if f.rule == "FMT001"]
    assert mixed.line == 6
    assert "`completion`" in mixed.message and "5 of 6" in mixed.message


def test_target_not_json(tmp_path):
    records = [chat(answer())] * 3 + [chat("Intent: card_arrival")]
    findings = analyze(tmp_path, records, target_format="json")
    assert codes(findings) == [("FMT002", 4)]
    assert findings[0].severity == "error"


def test_target_schema_names_the_json_path(tmp_path):
    schema = {
        "type": "object",
        "required": ["intent", "priority"],
        "additionalProperties": False,
        "properties": {"intent": {"enum": ["card_arrival", "pin_blocked"]}, "priority": {"enum": ["low", "high"]}},
    }
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "answer.json").write_text(json.dumps(schema))
    records = [
        chat(answer()),
        chat(answer("card_arival")),
        chat(json.dumps({"intent": "pin_blocked"})),
        chat(answer(priority_reason="x")),
    ]
    findings = analyze(tmp_path, records, target_format="json", target_schema="schemas/answer.json")
    schema_findings = [f for f in findings if f.rule == "FMT003"]
    assert [f.line for f in schema_findings] == [2, 3, 4]
    assert "`$.intent`" in schema_findings[0].message and "card_arival" in schema_findings[0].message
    assert "'priority' is a required property" in schema_findings[1].message
    assert "priority_reason" in schema_findings[2].message


def test_unusable_target_schema(tmp_path):
    findings = analyze(tmp_path, [chat(answer())], target_schema="missing.schema.json")
    assert codes(findings) == [("FMT011", None)]
    assert findings[0].check == "format"
    assert "missing.schema.json" in findings[0].message


def test_odd_key_set_shape(tmp_path):
    records = [chat(answer())] * 19 + [chat(json.dumps({"category": "card_arrival"}))]
    findings = analyze(tmp_path, records)
    assert codes(findings) == [("FMT004", 20)]
    assert findings[0].severity == "warning"
    assert "['category']" in findings[0].message and "['intent', 'priority']" in findings[0].message


def test_two_common_shapes_are_not_flagged(tmp_path):
    records = [chat(answer())] * 10 + [chat(json.dumps({"category": "x"}))] * 10
    assert [f for f in analyze(tmp_path, records) if f.rule == "FMT004"] == []


def test_mostly_json(tmp_path):
    records = [chat(answer())] * 9 + [chat("card_arrival")]
    findings = analyze(tmp_path, records)
    assert codes(findings) == [("FMT005", 10)]
    assert "9 of 10" in findings[0].message
    # explicit settings replace the heuristic
    assert [f.rule for f in analyze(tmp_path, records, target_format="text")] == []
    assert codes(analyze(tmp_path, records, target_format="json")) == [("FMT002", 10)]


def test_system_prompt_variants_and_rare_ones(tmp_path):
    records = [chat(answer())] * 18 + [chat(answer(), system="You are a helpful assistant.")] + [chat(answer(), system=None)]
    findings = analyze(tmp_path, records)
    variants = [f for f in findings if f.rule == "FMT006"]
    assert len(variants) == 1 and variants[0].line is None
    assert "3 system prompt variants" in variants[0].message
    assert "x18" in variants[0].message and "(none) x1" in variants[0].message
    rare = [f for f in findings if f.rule == "FMT007"]
    assert [f.line for f in rare] == [19, 20]
    assert all(f.severity == "warning" for f in findings)


def test_common_second_system_prompt_is_not_rare(tmp_path):
    records = [chat(answer())] * 10 + [chat(answer(), system="Other prompt.")] * 10
    findings = analyze(tmp_path, records)
    assert [f.rule for f in findings] == ["FMT006"]


def test_whitespace_per_line(tmp_path):
    records = [chat(answer())] * 8 + [chat(" " + answer()), chat(answer() + "\n")]
    findings = analyze(tmp_path, records)
    assert codes(findings) == [("FMT008", 9), ("FMT008", 10)]
    assert "starts" in findings[0].message and "ends" in findings[1].message


def test_whitespace_shared_by_every_target_is_one_file_finding(tmp_path):
    records = [chat(" The answer is " + str(i)) for i in range(12)]
    findings = analyze(tmp_path, records)
    assert [(f.rule, f.line) for f in findings if f.rule == "FMT008"] == [("FMT008", None)]
    assert "All 12 targets start with whitespace" in findings[0].message


def test_crlf_in_targets(tmp_path):
    records = [chat("line one\nline two")] * 3 + [chat("line one\r\nline two"), chat("old mac\rline")]
    findings = analyze(tmp_path, records)
    assert codes(findings) == [("FMT009", 4), ("FMT009", 5)]


def test_shared_unusual_suffix(tmp_path):
    records = [chat(f"The answer is #### {i}!!!") for i in range(12)]
    findings = analyze(tmp_path, records)
    suffix = [f for f in findings if f.rule == "FMT010"]
    assert len(suffix) == 1 and suffix[0].line is None and "'!!!'" in suffix[0].message


@pytest.mark.parametrize(
    "answers",
    [
        [f"The answer is {i}." for i in range(12)],  # a full stop is ordinary
        [f"Result: {i} apples" for i in range(12)],  # a word is content, not an artifact
        [f"Done {i}!!!" for i in range(5)],  # too few targets to call it a pattern
    ],
    ids=["full-stop", "word", "too-few"],
)
def test_ordinary_endings_are_not_a_shared_suffix(tmp_path, answers):
    assert [f for f in analyze(tmp_path, [chat(a) for a in answers]) if f.rule == "FMT010"] == []


def test_tool_call_targets_are_not_format_checked(tmp_path):
    call = {"id": "c1", "type": "function", "function": {"name": "get_price", "arguments": '{"t": "MSFT"}'}}
    tool_record = {
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Price?"}, {"role": "assistant", "tool_calls": [call]}],
        "tools": [{"type": "function", "function": {"name": "get_price"}}],
    }
    records = [chat("Plain answer.")] * 5 + [tool_record] * 5
    assert analyze(tmp_path, records, target_format="text") == []


def test_whitespace_shared_by_most_targets_is_one_file_finding_naming_its_lines(tmp_path):
    records = [chat("The answer is " + str(i) + " ") for i in range(30)] + [chat("The answer is 9")] * 10
    findings = [f for f in analyze(tmp_path, records) if f.rule == "FMT008"]
    assert [(f.rule, f.line) for f in findings] == [("FMT008", None)]
    assert findings[0].message.startswith("30 of 40 targets end with whitespace (lines 1, 2, 3, 4, 5, ...)")
    assert [loc.line for loc in findings[0].related] == list(range(1, 21))
