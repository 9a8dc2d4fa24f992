"""`policy`: banned text by role, provenance fields, and the literal gate that keeps it fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.families import policy
from pytest_ftdata.families.policy import required_literals
from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset

PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
BOILERPLATE = {"pattern": "(?i)as an ai language model", "message": "Model boilerplate; answer directly"}
META = {"source": "tickets-2024", "generated_by": "human"}


@pytest.fixture
def run_policy(write_jsonl):
    def run_policy(tmp_path: Path, records, **config) -> list:
        path = write_jsonl(tmp_path / "data" / "train.jsonl", records)
        result = analyze_dataset(path.parent, [path], validate(config, "test", None), tmp_path, families=("policy",))
        return result.files["data/train.jsonl"].findings["policy"]

    return run_policy


@pytest.mark.parametrize(
    "pattern,expected",
    [
        ("(?i)as an ai language model", (("as an ai language model",), True)),
        (r"AcmeBot 1\.0", (("AcmeBot 1.0",), False)),
        (r"(?i)\bold policy\b", (("old policy",), True)),
        (r"(?:hello world|goodbye)", (("hello world", "goodbye"), False)),
        (r"\d+ dollars", ((" dollars",), False)),
        (r"(?i:abc)defg", (("defg",), False)),
        (r"a|b", None),
        (r"(?i)straße", None),  # non-ASCII case folding: no gate, the regex decides
    ],
)
def test_required_literals(pattern, expected):
    assert required_literals(pattern) == expected


def test_banned_patterns_by_role_with_their_message_and_severity(tmp_path, chat, run_policy):
    records = [
        chat("Are you AcmeBot 1.0?", "As an AI language model, I am Acme Assistant.", metadata=META),
        chat("I read 'as an AI language model' online", "That is boilerplate.", metadata=META),
        chat("hi", "AS AN AI LANGUAGE MODEL — naïve café answer", metadata=META),
        chat("fine", "fine", metadata=META),
    ]
    banned = [
        {**BOILERPLATE, "roles": ["assistant"]},
        {"pattern": r"AcmeBot 1\.0", "message": "Renamed to Acme Assistant in 2024.", "severity": "warning"},
    ]
    findings = run_policy(tmp_path, records, banned=banned)
    assert [(f.line, f.rule, f.severity) for f in findings] == [
        (1, "POL001", "warning"), (1, "POL001", "error"), (3, "POL001", "error"),
    ]
    assert findings[1].message == (
        "Turn `messages[2]` (assistant) contains 'As an AI language model' at character 1, which matches the banned "
        "pattern '(?i)as an ai language model': Model boilerplate; answer directly."
    )
    assert findings[0].message.startswith("Turn `messages[1]` (user) contains 'AcmeBot 1.0'")


def test_patterns_without_literals_anchors_and_repeats(tmp_path, chat, run_policy):
    records = [
        chat("first line\nSure! Here is", "ok", metadata=META),
        chat("x", "Sure! a\nSure! b\nSure! c", metadata=META),
    ]
    findings = run_policy(tmp_path, records, banned=[{"pattern": r"(?m)^Sure!", "message": "Sycophantic opener"}, {"pattern": r"\d{5,}", "message": "no"}])
    assert [(f.line, f.message.split(" contains")[0]) for f in findings] == [
        (1, "Turn `messages[1]` (user)"), (2, "Turn `messages[2]` (assistant)"),
    ]
    assert "(3 times)" in findings[1].message


def test_rejected_answers_are_not_searched(tmp_path, run_policy):
    record = {"prompt": "Hi", "chosen": "Hello!", "rejected": "As an AI language model I cannot greet.", "metadata": META}
    assert run_policy(tmp_path, [record], banned=[BOILERPLATE]) == []


def test_provenance_missing_empty_and_whole_file(tmp_path, chat, run_policy):
    fields = ["/metadata/source", "/metadata/generated_by"]
    records = [
        chat("a", "b", metadata=META),
        chat("c", "d", metadata={"source": "  ", "generated_by": "gpt-4o"}),
        chat("e", "f", metadata={"generated_by": "gpt-4o"}),
        chat("g", "h"),
    ]
    findings = run_policy(tmp_path, records, required_fields=fields)
    assert [(f.line, f.message) for f in findings] == [
        (2, "Record has an empty `/metadata/source` (required_fields); record where each example came from and how it was made."),
        (3, "Record lacks `/metadata/source` (required_fields); record where each example came from and how it was made."),
        (4, "Record lacks `/metadata/generated_by` (required_fields); record where each example came from and how it was made."),
        (4, "Record lacks `/metadata/source` (required_fields); record where each example came from and how it was made."),
    ]
    through_lists = run_policy(
        tmp_path, [chat("a", "b", sources=[{"url": "https://x"}]), chat("c", "d", sources=[])], required_fields=["/sources/0/url"]
    )
    assert [(f.line, f.message.split(" (")[0]) for f in through_lists] == [(2, "Record lacks `/sources/0/url`")]
    whole = run_policy(tmp_path, [chat("a", "b"), chat("c", "d")], required_fields=["/metadata/source"])
    assert [(f.line, f.message) for f in whole] == [
        (None, "None of the 2 examples of this file has a non-empty `/metadata/source` (required_fields); record where "
         "each example came from and how it was made."),
    ]


def test_long_lists_are_capped(tmp_path, monkeypatch, chat, run_policy):
    monkeypatch.setattr(policy, "MAX_LISTED", 2)
    records = [chat(f"q{i}", "As an AI language model, no.") for i in range(5)] + [chat("x", "y", metadata=META)]
    findings = run_policy(tmp_path, records, banned=[BOILERPLATE], required_fields=["/metadata/source"])
    banned = [f for f in findings if f.rule == "POL001"]
    missing = [f for f in findings if f.rule == "POL002"]
    assert [f.line for f in banned] == [1, 2, 3] and banned[-1].message.startswith("3 more examples match")
    assert [f.line for f in missing] == [1, 2, 3] and missing[-1].message.startswith("3 more records lack")


def test_policy_item_as_a_user_runs_it(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [
        chat("hi", "As an AI language model I can't.", metadata=META),
        chat("hi", "Hello!", metadata={"source": "crm"}),
    ])
    pytester.makepyprojecttoml(
        '[tool.ftdata]\nrequired_fields = ["/metadata/source", "/metadata/generated_by"]\n\n'
        '[[tool.ftdata.banned]]\npattern = "(?i)as an ai language model"\nmessage = "Model boilerplate"\nroles = ["assistant"]\n'
    )
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:out.json", *PLUGINS_OFF)
    result.stdout.fnmatch_lines([
        "*2 policy errors in data/train.jsonl: banned-text (1), missing-provenance (1).*",
        "data/train.jsonl:1: POL001 Turn `messages?2?` (assistant) contains 'As an AI language model'*",
        "data/train.jsonl:2: POL002 Record lacks `/metadata/generated_by`*",
        "*FAILED data/train.jsonl::policy*",
    ])
    report = json.loads((pytester.path / "out.json").read_text())
    assert [(f["rule"], f["line"]) for f in report["findings"] if f["check"] == "policy"] == [("POL001", 1), ("POL002", 2)]


def test_invalid_banned_patterns_are_usage_errors(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", "ok")])
    pytester.makepyprojecttoml('[[tool.ftdata.banned]]\npattern = "(unclosed"\nmessage = "x"\n')
    result = pytester.runpytest("--ftdata", "data", *PLUGINS_OFF)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*`banned.0.pattern` is not a valid regular expression*"])
