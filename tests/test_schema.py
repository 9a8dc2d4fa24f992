"""The `schema` check family: every rule on a minimal example, through the engine.

Each test writes a small file, runs `engine.analyze_dataset` with only the schema
family and asserts on (rule, line) pairs and on what the message tells the user.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset

SYSTEM = {"role": "system", "content": "You classify support tickets."}
USER = {"role": "user", "content": "My card has not arrived."}
ANSWER = {"role": "assistant", "content": '{"intent": "card_arrival"}'}
GOOD = {"messages": [SYSTEM, USER, ANSWER]}
TOOLS = [{"type": "function", "function": {"name": "get_price", "parameters": {"type": "object"}}}]


def call(name="get_price", arguments='{"ticker": "MSFT"}', call_id="call_1"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def analyze(tmp_path: Path, lines: list, family: str = "schema", name: str = "train.jsonl", **settings):
    """Findings of one family on a file of `lines` (dicts are dumped, bytes/str written as-is)."""
    path = tmp_path / name
    raw = []
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line)
        raw.append(line.encode() if isinstance(line, str) else line)
    path.write_bytes(b"".join(item + b"\n" for item in raw))
    config = validate(settings, "test settings", str(tmp_path))
    result = analyze_dataset(tmp_path, [path], config, tmp_path, families=[family])
    return [f for f in result.all_findings() if f.check == family]


def codes(findings) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in findings]


# -- clean controls ---------------------------------------------------------------------------

CLEAN = {
    "chat": GOOD,
    "chat-tools": {
        "messages": [
            USER,
            {"role": "assistant", "content": None, "tool_calls": [call()]},
            {"role": "tool", "tool_call_id": "call_1", "content": "412.3"},
            {"role": "assistant", "content": "It trades at 412.3.", "weight": 1},
        ],
        "tools": TOOLS,
    },
    "chat-tool-call-target": {"messages": [SYSTEM, USER, {"role": "assistant", "tool_calls": [call()]}], "tools": TOOLS},
    "chat-named-parts": {
        "messages": [{"role": "user", "name": "ann", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": "hello"}]
    },
    "completion": {"prompt": "2+2=", "completion": "4"},
    "instruction": {"instruction": "Add the numbers.", "input": "2, 2", "output": "4"},
    "sharegpt": {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]},
    "preference": {"prompt": "Say hi", "chosen": "Hi!", "rejected": "Go away."},
    "preference-transcript": {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: no"},
    "preference-openai": {
        "input": {"messages": [USER]},
        "preferred_output": [{"role": "assistant", "content": "It is on its way."}],
        "non_preferred_output": [{"role": "assistant", "content": "No idea."}],
    },
}


@pytest.mark.parametrize("record", CLEAN.values(), ids=CLEAN.keys())
def test_valid_records_have_no_schema_findings(tmp_path, record):
    assert analyze(tmp_path, [record, record]) == []


# -- reading problems map to rules --------------------------------------------------------------

@pytest.mark.parametrize(
    "raw, code",
    [
        (b'{"messages": [}', "SCH001"),
        (b'{"a": "\xff"}', "SCH002"),
        (b'{"a": NaN}', "SCH003"),
        (b'["not", "an", "object"]', "SCH004"),
        (b"", "SCH009"),
    ],
    ids=["invalid-json", "invalid-utf8", "nan", "not-object", "blank-line"],
)
def test_read_problems_become_findings_at_their_line(tmp_path, raw, code):
    findings = analyze(tmp_path, [GOOD, raw, GOOD])
    assert codes(findings) == [(code, 2)]
    assert findings[0].message.startswith("Line 2 ")
    assert findings[0].path == "train.jsonl"


def test_file_level_problems(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    config = validate({}, "test", str(tmp_path))
    result = analyze_dataset(tmp_path, [tmp_path / "empty.jsonl"], config, tmp_path, families=["schema"])
    assert codes(result.all_findings()) == [("SCH007", None)]


def test_bom_is_a_warning(tmp_path):
    findings = analyze(tmp_path, [b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), GOOD])
    assert [(f.rule, f.severity) for f in findings] == [("SCH008", "warning")]


# -- format and structure ---------------------------------------------------------------------

def test_unknown_format(tmp_path):
    findings = analyze(tmp_path, [GOOD, {"text": "raw", "label": 3}])
    assert codes(findings) == [("SCH101", 2)]
    assert "label, text" in findings[0].message


def test_wrong_format_when_format_is_configured(tmp_path):
    findings = analyze(tmp_path, [GOOD, {"prompt": "p", "completion": "c"}], format="chat")
    assert ("SCH102", 2) in codes(findings)
    assert "completion" in findings[0].message and 'format = "chat"' in findings[0].message


@pytest.mark.parametrize(
    "record, where",
    [
        ({"messages": [SYSTEM, {"role": "bot", "content": "x"}, ANSWER]}, "messages[1].role"),
        ({"messages": [SYSTEM, {"role": "user", "content": 42}, ANSWER]}, "messages[1].content"),
        ({"messages": [SYSTEM, {"content": "x"}, ANSWER]}, "messages[1].role"),
        ({"messages": [USER, {"role": "assistant", "tool_calls": [{"id": "c", "type": "function"}]}]}, "messages[1].tool_calls[0].function"),
        ({"messages": [USER, ANSWER], "tools": [{"type": "function"}]}, "tools[0].function"),
        ({"messages": []}, "messages"),
        ({"prompt": "p", "completion": 4}, "completion"),
        ({"instruction": "i", "input": None, "output": "o"}, "input"),
        ({"conversations": [{"from": "human"}, {"from": "gpt", "value": "v"}]}, "conversations[0].value"),
    ],
    ids=["unknown-role", "content-type", "missing-role", "tool-call-shape", "tools-shape", "no-messages", "completion-type", "input-type", "sharegpt-missing-value"],
)
def test_invalid_structure_names_the_path(tmp_path, record, where):
    findings = analyze(tmp_path, [GOOD, record])
    assert ("SCH103", 2) in codes(findings)
    assert any(f"`{where}`" in f.message for f in findings if f.rule == "SCH103"), [f.message for f in findings]


def test_structure_errors_are_capped_per_record(tmp_path):
    record = {"messages": [{"role": r, "content": 1} for r in ("a", "b", "c", "d", "e", "f")]}
    findings = [f for f in analyze(tmp_path, [record]) if f.rule == "SCH103"]
    assert 1 < len(findings) <= 5
    assert sum("more structure errors" in f.message for f in findings) == 1


def test_unknown_sharegpt_speaker(tmp_path):
    record = {"conversations": [{"from": "narrator", "value": "x"}, {"from": "gpt", "value": "y"}]}
    findings = analyze(tmp_path, [record])
    assert codes(findings) == [("SCH103", 1)]
    assert "'narrator'" in findings[0].message


# -- conversation rules -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "record, code",
    [
        ({"messages": [SYSTEM, {"role": "user", "content": ""}, ANSWER]}, "SCH104"),
        ({"messages": [SYSTEM, {"role": "user", "content": "   "}, ANSWER]}, "SCH104"),
        ({"messages": [SYSTEM, USER, {"role": "assistant", "content": ""}]}, "SCH104"),
        ({"prompt": "p", "completion": ""}, "SCH104"),
        ({"instruction": "", "output": "o"}, "SCH104"),
        ({"prompt": "p", "chosen": "", "rejected": "r"}, "SCH104"),
        ({"messages": [SYSTEM, USER]}, "SCH105"),
        ({"messages": [USER, ANSWER, {"role": "user", "content": "and?"}]}, "SCH106"),
        ({"messages": [USER, SYSTEM, ANSWER]}, "SCH107"),
        ({"messages": [SYSTEM, USER, USER, ANSWER]}, "SCH108"),
        ({"messages": [USER, ANSWER, ANSWER]}, "SCH108"),
        ({"messages": [USER, {"role": "tool", "tool_call_id": "c", "content": "1"}, ANSWER]}, "SCH109"),
        (
            {
                "messages": [USER, {"role": "assistant", "tool_calls": [call(call_id="a")]}, {"role": "tool", "tool_call_id": "b", "content": "1"}, ANSWER],
                "tools": TOOLS,
            },
            "SCH109",
        ),
        ({"messages": [USER, {"role": "assistant", "tool_calls": [call(arguments='{"ticker": ')]}], "tools": TOOLS}, "SCH110"),
        ({"messages": [USER, {"role": "assistant", "tool_calls": [call(arguments="[1, 2]")]}], "tools": TOOLS}, "SCH110"),
        ({"messages": [USER, {"role": "assistant", "tool_calls": [call(name="sell_everything")]}], "tools": TOOLS}, "SCH111"),
        ({"messages": [SYSTEM, ANSWER]}, "SCH112"),
        ({"conversations": [{"from": "system", "value": "s"}, {"from": "gpt", "value": "g"}]}, "SCH112"),
        ({"prompt": "p", "chosen": "same", "rejected": "same"}, "SCH115"),
        (
            {"input": {"messages": [USER]}, "preferred_output": [{"role": "assistant", "content": "same"}], "non_preferred_output": [{"role": "assistant", "content": "same"}]},
            "SCH115",
        ),
    ],
    ids=[
        "empty-user", "blank-user", "empty-answer", "empty-completion", "empty-instruction", "empty-chosen", "no-assistant",
        "ends-on-user", "system-later", "two-users", "two-assistants", "tool-without-call", "tool-wrong-call-id",
        "arguments-not-json", "arguments-not-object", "undeclared-tool", "no-user", "sharegpt-no-user",
        "identical-preference", "identical-preference-openai",
    ],
)
def test_conversation_rule(tmp_path, record, code):
    findings = analyze(tmp_path, [GOOD, record, GOOD])
    assert (code, 2) in codes(findings), codes(findings)
    assert all(f.line == 2 for f in findings)  # the good lines around it stay clean
    assert all(f.severity == "error" for f in findings)
    first = next(f for f in findings if f.rule == code)
    assert first.message[0].isupper() and first.message.endswith(".")


def test_unknown_tool_lists_the_declared_tools(tmp_path):
    record = {"messages": [USER, {"role": "assistant", "tool_calls": [call(name="sell_everything")]}], "tools": TOOLS}
    [finding] = analyze(tmp_path, [record])
    assert "'sell_everything'" in finding.message and "get_price" in finding.message


def test_parallel_tool_calls_answered_in_turn_are_valid(tmp_path):
    record = {
        "messages": [
            USER,
            {"role": "assistant", "tool_calls": [call(call_id="a"), call(call_id="b", arguments='{"ticker": "AAPL"}')]},
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": "2"},
            {"role": "assistant", "content": "MSFT 1, AAPL 2."},
        ],
        "tools": TOOLS,
    }
    assert analyze(tmp_path, [record]) == []


# -- record_schema ------------------------------------------------------------------------------

RECORD_SCHEMA = {
    "type": "object",
    "required": ["messages", "metadata"],
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["source"],
            "properties": {"source": {"type": "string"}, "ticket_id": {"type": "string", "pattern": "^T-[0-9]+$"}},
        }
    },
}


def test_record_schema_reports_the_failing_json_path(tmp_path):
    (tmp_path / "record.schema.json").write_text(json.dumps(RECORD_SCHEMA))
    ok = {**GOOD, "metadata": {"source": "chat", "ticket_id": "T-1"}}
    bad_type = {**GOOD, "metadata": {"source": 3}}
    bad_pattern = {**GOOD, "metadata": {"source": "chat", "ticket_id": "X"}}
    missing = dict(GOOD)
    findings = analyze(tmp_path, [ok, bad_type, bad_pattern, missing], record_schema="record.schema.json")
    assert codes(findings) == [("SCH113", 2), ("SCH113", 3), ("SCH113", 4)]
    assert "$.metadata.source" in findings[0].message
    assert "$.metadata.ticket_id" in findings[1].message
    assert "'metadata' is a required property" in findings[2].message


@pytest.mark.parametrize(
    "content",
    [None, "{not json", json.dumps({"type": "no-such-type"})],
    ids=["missing-file", "not-json", "invalid-schema"],
)
def test_unusable_record_schema_is_one_finding(tmp_path, content):
    if content is not None:
        (tmp_path / "record.schema.json").write_text(content)
    findings = analyze(tmp_path, [GOOD, GOOD], record_schema="record.schema.json")
    assert codes(findings) == [("SCH114", None)]
    assert "record.schema.json" in findings[0].message
