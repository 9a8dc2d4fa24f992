"""Configuration: discovery, merging, paths, and clear startup errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.config import ConfigError, ConfigLoader, FtdataConfig, load_config

GOOD = {"messages": [{"role": "user", "content": "Where is my card?"}, {"role": "assistant", "content": "card_arrival"}]}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """rootdir with [tool.ftdata], data/ftdata.toml and data/legacy/ftdata.toml."""
    write(
        tmp_path / "pyproject.toml",
        """
[tool.ftdata]
target_format = "json"
target_schema = "schemas/answer.json"
label = "target:/intent"
rules = { FMT001 = "off", FMT004 = "error" }

[tool.ftdata.pii]
allow = ["help@bank.test"]
""",
    )
    write(tmp_path / "data" / "ftdata.toml", 'label = "/metadata/intent"\nrules = { FMT004 = "warning" }\n')
    write(
        tmp_path / "data" / "legacy" / "ftdata.toml",
        'target_format = "text"\ntarget_schema = "legacy.schema.json"\npii = { high_entropy = true }\n',
    )
    (tmp_path / "other").mkdir()
    return tmp_path


def test_project_table_applies_everywhere(tree):
    config = ConfigLoader.from_rootdir(tree).for_directory(tree / "other")
    assert (config.target_format, config.label) == ("json", "target:/intent")
    assert config.resolve(config.target_schema) == (tree / "schemas" / "answer.json").resolve()


def test_nearest_ftdata_toml_wins_key_by_key(tree):
    loader = ConfigLoader.from_rootdir(tree)
    data = loader.for_directory(tree / "data")
    legacy = loader.for_directory(tree / "data" / "legacy")
    assert (data.target_format, data.label) == ("json", "/metadata/intent")
    assert (legacy.target_format, legacy.label) == ("text", "/metadata/intent")  # label inherited from data/
    assert loader.for_file(tree / "data" / "legacy" / "train.jsonl") == legacy


def test_paths_are_relative_to_the_file_that_sets_them(tree, monkeypatch):
    monkeypatch.chdir(tree / "other")  # the working directory plays no part
    loader = ConfigLoader.from_rootdir(tree)
    data = loader.for_directory(tree / "data")
    legacy = loader.for_directory(tree / "data" / "legacy")
    assert data.resolve(data.target_schema) == (tree / "schemas" / "answer.json").resolve()
    assert legacy.resolve(legacy.target_schema) == (tree / "data" / "legacy" / "legacy.schema.json").resolve()


def test_tables_are_replaced_but_rules_merge_by_code(tree):
    loader = ConfigLoader.from_rootdir(tree)
    legacy = loader.for_directory(tree / "data" / "legacy")
    # `pii` set in data/legacy/ftdata.toml replaces the project's table: its allow-list is gone.
    assert legacy.pii.high_entropy is True and legacy.pii.allow == []
    # `rules` merge rule by rule, the nearer file winning.
    assert legacy.rules == {"FMT001": "off", "FMT004": "warning"}


def test_load_config_with_overrides(tree):
    config = load_config(tree / "data" / "legacy", max_chars=500)
    assert isinstance(config, FtdataConfig)
    assert (config.target_format, config.max_chars) == ("text", 500)


def test_no_config_gives_defaults(tmp_path):
    config = ConfigLoader.from_rootdir(tmp_path).for_directory(tmp_path)
    assert config == FtdataConfig()


# -- mistakes ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "where, text, expected",
    [
        ("pyproject.toml", '[tool.ftdata]\ntarget_shema = "a.json"\n', ["unknown setting `target_shema`", "did you mean `target_schema`?"]),
        ("data/ftdata.toml", 'lables = ["a"]\n', ["unknown setting `lables`", "did you mean `labels`?"]),
        ("data/ftdata.toml", "[pii]\nalow = []\n", ["unknown setting `pii.alow`", "did you mean `allow`?"]),
        ("data/ftdata.toml", 'target_format = "yaml"\n', ["setting `target_format`", "'yaml'"]),
        ("data/ftdata.toml", "near_duplicate_threshold = 150\n", ["setting `near_duplicate_threshold`", "150"]),
        ("data/ftdata.toml", 'group_by = "metadata.customer"\n', ["setting `group_by`", "JSON Pointer"]),
        ("data/ftdata.toml", "max_chars = -1\n", ["setting `max_chars`", "-1"]),
        ("data/ftdata.toml", 'rules = { FMT001 = "loud" }\n', ["setting `rules.FMT001`", "'loud'"]),
        ("data/ftdata.toml", 'format = "chat\n', ["is not valid TOML"]),
        # a blank path joined to the folder would name the folder itself and slip through
        ("data/ftdata.toml", 'tokenizer = ""\n', ["setting `tokenizer` must be a file path"]),
        ("pyproject.toml", '[tool.ftdata]\nrecord_schema = " "\n', ["setting `record_schema` must be a file path"]),
    ],
    ids=["unknown-pyproject", "unknown-dir", "unknown-nested", "bad-choice", "out-of-range", "bad-pointer", "negative", "bad-severity", "invalid-toml",
         "blank-tokenizer", "blank-schema"],
)
def test_mistakes_are_one_clear_error_naming_file_and_key(tmp_path, where, text, expected):
    write(tmp_path / where, text)
    (tmp_path / "data").mkdir(exist_ok=True)
    with pytest.raises(ConfigError) as excinfo:
        loader = ConfigLoader.from_rootdir(tmp_path)
        loader.check_tree([tmp_path / "data"])
    message = str(excinfo.value)
    assert str(tmp_path / where) in message
    for part in expected:
        assert part in message, message


def test_deep_ftdata_toml_is_validated_at_startup(tmp_path):
    write(tmp_path / "data" / "a" / "b" / "ftdata.toml", "bogus = 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        ConfigLoader.from_rootdir(tmp_path).check_tree([tmp_path / "data"])


# -- in a pytest run --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "where, text, expected",
    [
        ("data/ftdata.toml", 'target_shema = "a.json"\n', "unknown setting `target_shema`; did you mean `target_schema`?"),
        ("pyproject.toml", '[tool.ftdata]\nmin_per_label = "many"\n', "setting `min_per_label`"),
        ("data/sub/ftdata.toml", "labels = [\n", "is not valid TOML"),
    ],
    ids=["unknown-key", "bad-value", "invalid-toml"],
)
def test_config_mistake_stops_the_run_with_one_message(pytester, where, text, expected):
    _check_startup_error(pytester, where, text, expected, [])


def test_config_mistake_in_every_run_mode(pytester, run_mode):
    _check_startup_error(pytester, "data/ftdata.toml", "target_shema = 1\n", "did you mean `target_schema`?", run_mode.args)


def _check_startup_error(pytester, where, text, expected, mode_args):
    write(pytester.path / "data" / "sub" / "train.jsonl", json.dumps(GOOD) + "\n")
    write(pytester.path / where, text)
    result = pytester.runpytest("--ftdata", "data", "-p", "no:cacheprovider", *mode_args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert expected in output
    assert str(pytester.path / where) in output
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert output.count(expected) == 1


def test_config_is_ignored_without_ftdata(pytester):
    write(pytester.path / "data" / "ftdata.toml", "bogus = 1\n")
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_nearest_config_decides_the_findings(pytester):
    answer = json.dumps({"messages": [{"role": "user", "content": "Where is my card?"}, {"role": "assistant", "content": "card arrival"}]})
    write(pytester.path / "data" / "prose" / "train.jsonl", answer + "\n")
    write(pytester.path / "data" / "strict" / "train.jsonl", answer + "\n")
    write(pytester.path / "data" / "strict" / "ftdata.toml", 'target_format = "json"\n')
    result = pytester.runpytest("--ftdata", "data", "-k", "format", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*data/strict/train.jsonl:1: FMT002 *"])
    assert "data/prose/train.jsonl:1: FMT002" not in result.stdout.str()
