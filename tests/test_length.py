"""`length`: limits in characters and tokens, token counters, outliers, blank answers."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset
from pytest_ftdata.tokens import ESTIMATE, estimate_tokens, get_counter

PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
BANANAS = "Eat a banana!" * 2000


@pytest.fixture
def run(write_jsonl):
    def run(tmp_path: Path, records, families=("length",), **config) -> list:
        path = write_jsonl(tmp_path / "data" / "train.jsonl", records)
        result = analyze_dataset(path.parent, [path], validate(config, "test", None), tmp_path, families=families)
        findings = result.files["data/train.jsonl"].findings
        return sorted((f for family in families for f in findings[family]), key=lambda f: (f.line or 0, f.rule))

    return run


@pytest.fixture
def fresh_counters():
    get_counter.cache_clear()
    yield
    get_counter.cache_clear()


# -- token counters ----------------------------------------------------------------------------


def test_estimate_matches_bpe_on_the_banana_example_and_never_exceeds_bytes():
    assert estimate_tokens(BANANAS) == 8000  # cl100k_base counts 8,000 (OpenAI cookbook)
    for text in ["", "a", "Hello, world!", "3.14159 + 2,718", "敏捷的棕色狐狸", "naïve café 🎉🎉", "\n\n\t  x", "a_b_c" * 9]:
        assert estimate_tokens(text) <= len(text.encode())


def test_tiktoken_never_downloads_its_encoding(fresh_counters, monkeypatch, tmp_path):
    pytest.importorskip("tiktoken")

    def no_network(*args, **kwargs):
        raise AssertionError("pytest-ftdata tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    import tiktoken.load
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # forget encodings loaded earlier in this process

    loader = tiktoken.load.read_file
    counter, problem = get_counter("tiktoken:cl100k_base")
    assert counter is ESTIMATE and "not in tiktoken's local cache" in problem and "never downloads" in problem
    assert tiktoken.load.read_file is loader
    counter, problem = get_counter("tiktoken:no_such_encoding")
    assert counter is ESTIMATE and "cannot load the encoding 'no_such_encoding'" in problem
    assert get_counter(None) == (ESTIMATE, None)  # the default falls back silently


def test_tiktoken_absent(fresh_counters, monkeypatch):
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    assert get_counter("tiktoken:cl100k_base") == (ESTIMATE, "tiktoken is not installed")


def write_tokenizer(path: Path) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer(
        tokenizers.models.WordLevel(vocab={"[UNK]": 0, "eat": 1, "a": 2, "banana": 3, "!": 4}, unk_token="[UNK]")
    )
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def test_tokenizer_json_relative_to_the_config_file(pytester, fresh_counters, chat, write_jsonl):
    write_tokenizer(pytester.path / "tok" / "tokenizer.json")
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("Tell me", "Eat a banana!"), chat("Again", BANANAS)])
    pytester.makepyprojecttoml('[tool.ftdata]\ntokenizer = "tok/tokenizer.json"\nmax_tokens = 4096\n')
    result = pytester.runpytest("--ftdata", "data", "-k", "length", *PLUGINS_OFF)
    result.stdout.fnmatch_lines([
        "data/train.jsonl:2: LEN002 Example has 8,006 tokens (tokenizer tokenizer.json), over max_tokens = 4,096;*",
        "*FAILED data/train.jsonl::length*",
    ])
    assert "estimate" not in result.stdout.str()


def test_unusable_tokenizers_fall_back_to_the_estimate_with_a_warning(tmp_path, fresh_counters, monkeypatch, chat, run):
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    findings = run(tmp_path, [chat("Again", BANANAS)], tokenizer=str(tmp_path / "tokenizer.json"), max_tokens=4096)
    assert [(f.rule, f.severity, f.line) for f in findings] == [("LEN008", "warning", None), ("LEN002", "error", 1)]
    assert "about 8,0" in findings[1].message and "tokens (estimate)" in findings[1].message
    assert "`tokenizers` package is not installed" in findings[0].message
    monkeypatch.delitem(sys.modules, "tokenizers")
    get_counter.cache_clear()
    missing = run(tmp_path, [chat("a", "b")], tokenizer=str(tmp_path / "nope.json"), max_tokens=10)
    assert [f.rule for f in missing] == ["LEN008"]


# -- limits -------------------------------------------------------------------------------------


def test_character_and_token_limits_per_example_and_turn(tmp_path, chat, run):
    records = [chat("short", "fine"), chat("x" * 50, "y" * 140), chat("w " * 40, "ok", system=None)]
    findings = run(tmp_path, records, max_chars=160, max_turn_chars=130, max_tokens=35, max_turn_tokens=25, tokenizer="estimate")
    assert [(f.line, f.rule) for f in findings] == [(2, "LEN001"), (2, "LEN003"), (3, "LEN002"), (3, "LEN004")]
    assert findings[0].message == (
        "Example has 219 characters, over max_chars = 160; shorten it, split the conversation or drop it."
    )
    assert findings[1].message.startswith("Turn `messages[2]` (assistant) has 140 characters, over max_turn_chars = 130")
    assert findings[2].message.startswith("Example has about 41 tokens (estimate), over max_tokens = 35")
    assert findings[3].message.startswith("Turn `messages[0]` (user) has about 40 tokens (estimate), over max_turn_tokens = 25")


def test_plain_and_other_chat_records_measure_the_same(tmp_path, run):
    plain = {"messages": [
        {"role": "system", "content": "sys"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"}, {"role": "assistant", "content": "a2"},
    ]}
    weighted = json.loads(json.dumps(plain))
    weighted["messages"][2]["weight"] = 0  # not the plain shape: measured turn by turn
    assert [f.line for f in run(tmp_path, [plain, weighted], max_chars=11)] == []
    assert [f.line for f in run(tmp_path, [plain, weighted], max_chars=10)] == [1, 2]


def test_preference_length_is_prompt_plus_the_longer_answer(tmp_path, run):
    record = {"prompt": "p" * 10, "chosen": "c" * 10, "rejected": "r" * 30}
    assert run(tmp_path, [record], max_chars=40) == []
    assert [f.rule for f in run(tmp_path, [record], max_chars=39, max_turn_chars=29)] == ["LEN001", "LEN003"]


# -- blank answers and conversation ends (no double reports with schema) ----------------------------


def test_blank_answers_schema_does_not_see(tmp_path, chat, run):
    records = [
        chat("hi", "\u200b\u200b"),
        chat("hi", "   "),
        {"prompt": "Which?", "chosen": "This.", "rejected": " "},
    ]
    findings = run(tmp_path, records, families=("schema", "length"))
    assert [(f.line, f.rule) for f in findings if f.rule.startswith(("LEN", "SCH104"))] == [
        (1, "LEN005"), (2, "SCH104"), (3, "LEN005"),
    ]


def test_conversations_ending_on_a_user_turn_are_reported_once(tmp_path, run):
    chat_record = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "?"}]}
    preference = {
        "chosen": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "and?"}],
        "rejected": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}],
    }
    findings = run(tmp_path, [chat_record, preference], families=("schema", "length"))
    assert [(f.line, f.rule) for f in findings if f.rule in ("SCH106", "LEN006")] == [(1, "SCH106"), (2, "LEN006")]


# -- outliers -------------------------------------------------------------------------------------


def test_length_outliers_are_warnings_per_file(tmp_path, chat, run):
    normal = [chat(f"Where is my parcel number {i}?", "It ships today.", system=None) for i in range(25)]
    findings = run(tmp_path, normal + [chat("Logs:", "ERROR " * 400, system=None), chat("?", "k", system=None)])
    assert [(f.line, f.rule, f.severity) for f in findings] == [(26, "LEN007", "warning"), (27, "LEN007", "warning")]
    assert "times the median of this file" in findings[0].message and "truncated" in findings[1].message
    assert run(tmp_path, normal[:18] + [chat("Logs:", "ERROR " * 400, system=None)]) == []


def test_warnings_do_not_fail_the_item(pytester, chat, write_jsonl):
    normal = [chat(f"Where is my parcel number {i}?", "It ships today.") for i in range(25)]
    write_jsonl(pytester.path / "data" / "train.jsonl", normal + [chat("Logs:", "ERROR " * 400)])
    result = pytester.runpytest("--ftdata", "data", "-k", "length", *PLUGINS_OFF)
    result.assert_outcomes(passed=1, deselected=result.parseoutcomes()["deselected"])
    # a warning: counted in the summary with its first one (the message cut to the width)
    result.stdout.fnmatch_lines(["  warning LEN007 length-outlier: 1, e.g. data/train.jsonl:26",
                                 "          Example has 2,4* characters, * times the median*"])


# -- real data ------------------------------------------------------------------------------------


def test_openai_toy_chat_long_example(shared_datasets, tmp_path):
    """SOURCE.md: example 5 is "Eat a banana!" x 2000, about 8,000 tokens, over a 4,096 limit."""
    directory = shared_datasets / "openai_toy_chat" / "raw"
    files = sorted(directory.glob("*.jsonl"))
    config = validate({"max_tokens": 4096}, "test", None)
    result = analyze_dataset(directory, files, config, tmp_path, families=("length",))
    findings = [f for fr in result.files.values() for f in fr.findings["length"]]
    assert [(f.rule, f.line) for f in findings] == [("LEN002", 5)]
    assert "tokens" in findings[0].message and "over max_tokens = 4,096" in findings[0].message
