"""The `subgroups` family: dimensions, cells, minimums, coverage and their findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.families import subgroups as subgroups_module
from pytest_ftdata.families.subgroups import LENGTH_BUCKETS, length_bucket_of_bits
from pytest_ftdata.config import ConfigError, validate
from pytest_ftdata.engine import analyze_dataset, dataset_files

#: Plugins an in-process run would pay for on every run (hypothesis is re-imported each time).
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


@pytest.fixture
def ticket(chat):
    def ticket(text: str, language: str | None = "en", label: str = "billing", **extra) -> dict:
        metadata = {} if language is None else {"language": language}
        return chat(text, json.dumps({"intent": label}), metadata=metadata, **extra)

    return ticket


def analyze(root: Path, **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=("labels", "subgroups"))


def dimension(result, name: str) -> dict:
    return next(d for d in result.summaries["subgroups"]["dimensions"] if d["name"] == name)


def rows(result, name: str) -> dict[str, dict]:
    return {row["subgroup"]: row for row in dimension(result, name)["rows"]}


def sub_findings(result, rule: str | None = None):
    return [f for f in result.findings["subgroups"] if rule is None or f.rule == rule]


def test_pointer_dimension_cells_minimums_and_findings(dataset, ticket):
    train = [ticket(f"t{i}", "en") for i in range(30)] + [ticket(f"d{i}", "de") for i in range(4)]
    validation = [ticket("v", "en"), ticket("w", "de")]
    test = [ticket("x", "en")]
    root = dataset(train=train, validation=validation, test=test)
    result = analyze(root, subgroups={"language": "/metadata/language"}, min_per_subgroup={"language": 5})
    table = rows(result, "language")
    assert table["en"]["counts"] == {"train": 30, "validation": 1, "test": 1}
    assert table["en"]["minimum"] == {"train": 5, "validation": 1, "test": 1} and table["en"]["status"] == "ok"
    assert table["de"]["counts"] == {"train": 4, "validation": 1, "test": 0} and table["de"]["status"] == "MISSING"
    language = dimension(result, "language")
    assert (language["required"], language["met"]) == (6, 4)  # de misses train (4 < 5) and test (0)
    [missing] = sub_findings(result, "SUB002")
    assert missing.path == "data/test.jsonl" and missing.line is None
    assert missing.message.startswith("Subgroup `language` = 'de' has no examples in test")
    assert "train has 4 of 5; test has 0 of 1" in missing.message
    assert "counts: train 4, validation 1, test 0" in missing.message
    # built-in dimensions carry no minimum unless one is set for them
    assert dimension(result, "format")["required"] == 0
    assert result.summaries["subgroups"]["required"] == 6


def test_below_minimum_and_share(dataset, ticket):
    train = [ticket(f"t{i}", "en") for i in range(90)] + [ticket(f"d{i}", "de") for i in range(10)]
    test = [ticket(f"x{i}", "en") for i in range(19)] + [ticket("y", "de")]
    root = dataset(train=train, test=test)
    result = analyze(root, subgroups={"language": {"pointer": "/metadata/language", "min_share": 0.07}})
    de = rows(result, "language")["de"]
    # 7% of each split, rounded up: 7 of 100 in train, 2 of 20 in test
    assert de["minimum"] == {"train": 7, "test": 2} and de["status"] == "LOW"
    [low] = sub_findings(result, "SUB001")
    assert low.path == "data/test.jsonl"
    assert "is below its minimum in test (test has 1 of 2 (7% of 20)" in low.message


def test_global_minimum_applies_to_builtin_dimensions_and_dict_form_does_not(dataset, ticket):
    long_text = "x" * 300
    train = [ticket(f"t{i}") for i in range(10)] + [ticket(long_text)]
    root = dataset(train=train)
    everywhere = analyze(root, min_per_subgroup=3)
    lengths = rows(everywhere, "input_length")
    assert lengths[LENGTH_BUCKETS[0]]["status"] == "ok"
    assert lengths[LENGTH_BUCKETS[length_bucket_of_bits(len(long_text).bit_length())]]["status"] == "LOW"
    assert any("`input_length`" in f.message for f in sub_findings(everywhere, "SUB001"))
    only_turns = analyze(root, min_per_subgroup={"turns": 3})
    assert dimension(only_turns, "input_length")["required"] == 0
    assert dimension(only_turns, "turns")["required"] == 1


def test_declared_values_and_unexpected_values(dataset, ticket):
    train = [ticket(f"t{i}", "en") for i in range(3)] + [ticket("u", "en-US")]
    root = dataset(train=train)
    result = analyze(root, subgroups={"language": {"pointer": "/metadata/language", "values": ["en", "fr"]}})
    table = rows(result, "language")
    assert table["fr"]["total"] == 0 and table["fr"]["status"] == "MISSING"
    assert table["en-US"]["status"] is None  # an undeclared value is reported, not required
    [unexpected] = sub_findings(result, "SUB005")
    assert (unexpected.path, unexpected.line, unexpected.severity) == ("data/train.jsonl", 4, "warning")
    assert "'en-US' (1 example) is not among its declared values ('en', 'fr')" in unexpected.message
    assert [f.message.split(" has")[0] for f in sub_findings(result, "SUB002")] == ["Subgroup `language` = 'fr'"]


def test_pointer_without_value(dataset, ticket):
    train = [ticket("a", "en"), ticket("b", None), ticket("c", "en"), ticket("d", "")]
    root = dataset(train=train)
    [partly] = sub_findings(analyze(root, subgroups={"language": "/metadata/language"}), "SUB003")
    assert (partly.line, [str(r) for r in partly.related]) == (2, ["data/train.jsonl:4"])
    assert "in 2 of 4 examples" in partly.message
    [wrong] = sub_findings(analyze(root, subgroups={"language": "/metadata/lang"}), "SUB003")
    assert wrong.line is None and "in any of the 4 examples; check the pointer" in wrong.message


def test_builtin_dimensions_and_histograms(dataset, ticket):
    multi_turn = {"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"}, {"role": "assistant", "content": "ok"},
    ]}
    train = [ticket("a"), ticket("b" * 100), multi_turn, {"prompt": "p", "completion": "c"}]
    validation = [ticket("c")]
    root = dataset(train=train, validation=validation)
    result = analyze(root)
    assert rows(result, "split")["train"]["counts"] == {"train": 4, "validation": 0}
    assert {k: v["total"] for k, v in rows(result, "format").items()} == {"chat": 4, "completion": 1}
    assert {k: v["total"] for k, v in rows(result, "system_prompt").items()} == {"no": 2, "yes": 3}
    assert {k: v["total"] for k, v in rows(result, "turns").items()} == {"2": 4, "4": 1}
    assert {k: v["total"] for k, v in rows(result, "input_length").items()} == {LENGTH_BUCKETS[0]: 4, LENGTH_BUCKETS[1]: 1}
    histograms = result.summaries["subgroups"]["histograms"]
    for kind in ("input_chars", "target_chars"):
        counts = histograms[kind]["counts"]
        assert {split: sum(values) for split, values in counts.items()} == {"train": 4, "validation": 1}
        assert len(histograms[kind]["edges"]) == len(counts["train"]) + 1


def test_length_buckets_match_their_names():
    for length in (0, 1, 63, 64, 255, 256, 1023, 1024, 4095, 4096, 16383, 16384, 10**6):
        name = LENGTH_BUCKETS[length_bucket_of_bits(length.bit_length())].split()[0]
        low, _, high = name.partition("-")
        assert int(low.rstrip("+")) <= length and (high == "" or length <= int(high)), (length, name)


def test_label_dimension_follows_the_labels_settings(dataset, ticket):
    train = [ticket(f"b{i}", label="billing") for i in range(6)] + [ticket("x", label="Billing")]
    test = [ticket("b", label="billing")]
    root = dataset(train=train, test=test)
    result = analyze(root, label="target:/intent", min_per_label=5, min_per_subgroup=100)
    labels = rows(result, "label")
    assert labels["billing"]["minimum"] == {"train": 5, "test": 1} and labels["billing"]["status"] == "ok"
    assert labels["Billing"]["minimum"] == {}  # a spelling variant: reported by ::labels, not required
    # the label rows' findings come from ::labels only
    assert not any("`label`" in f.message for f in sub_findings(result))


def test_too_many_subgroups_are_folded(dataset, monkeypatch, ticket):
    monkeypatch.setattr(subgroups_module, "MAX_SUBGROUPS", 5)
    root = dataset(train=[ticket(f"t{i}", f"lang{i}") for i in range(12)])
    result = analyze(root, subgroups={"language": "/metadata/language"})
    table = rows(result, "language")
    assert len(table) == 6 and table["(other values)"]["total"] == 7
    assert dimension(result, "language")["truncated"] is True
    [warning] = sub_findings(result, "SUB004")
    assert "more than 5 distinct values" in warning.message


def test_redaction_of_subgroup_values(dataset, ticket):
    secret = "jane.doe@corp-mail.com"
    root = dataset(train=[ticket("a", secret), ticket("b", "en")])
    result = analyze(root, subgroups={"language": "/metadata/language"})
    assert secret not in json.dumps(result.summaries["subgroups"])
    assert any(value.startswith("[email") for value in rows(result, "language"))


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"subgroups": {"label": "/x"}}, "uses the built-in dimension name `label`"),
        ({"subgroups": {"lang": "metadata/language"}}, "`subgroups.lang` must be a JSON Pointer"),
        ({"subgroups": {"language": "/m/l"}, "min_per_subgroup": {"langauge": 3}}, "did you mean `language`?"),
        ({"min_subgroup_share": {"label": 0.1}}, "set the label minimum with `min_per_label`"),
    ],
)
def test_config_mistakes_are_explained(settings, message):
    with pytest.raises(ConfigError) as error:
        validate(settings, "pyproject.toml", None)
    assert message in str(error.value)


def test_config_mistake_is_a_usage_error(pytester, write_jsonl, ticket):
    write_jsonl(pytester.path / "data" / "train.jsonl", [ticket("a")])
    pytester.makepyprojecttoml('[tool.ftdata]\nmin_per_subgroup = {langauge = 2}\n[tool.ftdata.subgroups]\nlanguage = "/metadata/language"\n')
    result = pytester.runpytest("--ftdata", "data", *QUIET_PLUGINS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*setting `min_per_subgroup` names the unknown subgroup dimension `langauge`; did you mean `language`?*"])


def test_subgroups_item_with_a_user_config(pytester, write_jsonl, ticket):
    """As a new user: a data dir, a config, `pytest --ftdata`."""
    train = [ticket(f"t{i}", "en") for i in range(8)] + [ticket(f"d{i}", "de") for i in range(2)]
    write_jsonl(pytester.path / "data" / "train.jsonl", train)
    write_jsonl(pytester.path / "data" / "test.jsonl", [ticket("x", "en"), ticket("y", "de")])
    pytester.makepyprojecttoml(
        '[tool.ftdata]\nmin_per_subgroup = {language = 3}\n[tool.ftdata.subgroups]\nlanguage = "/metadata/language"\n'
    )
    result = pytester.runpytest("--ftdata", "data", *QUIET_PLUGINS)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*subgroups check of dataset data/*",
        "1 subgroups error in dataset data/: subgroup-below-minimum (1).",
        "data/train.jsonl: SUB001 Subgroup `language` = 'de' is below its minimum in train (train has 2 of 3; "
        "counts: train 2, test 1); add at least 1 example of it there.",
    ])
    assert "FAILED data/dataset::subgroups" in result.stdout.str()
