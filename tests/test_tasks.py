"""The task a dataset teaches (`pytest_ftdata.tasks`), and the defaults that follow from it.

The decision list of `detect_task` is tested branch by branch on small files; the
pytester tests show what a user sees: the task and its reason in the JSON report,
conflicting targets demoted to warnings with fitting advice on generation data, kept
as errors on classification data, and `rules` winning over the task's default. The
real-data tests hold the issue's figures: no DUP004 error on alpaca_libre v1 and the
FastChat dummy conversations as published, and CLINC150's conflicting label still an
error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.tasks import TASK_DEFAULTS, TASKS, detect_task, task_default


def task_of(root: Path, **settings):
    return detect_task(dataset_files(root), validate(settings, "test settings", None))


def chat_rows(chat, pairs):
    return [chat(user, assistant, system=None) for user, assistant in pairs]


POEMS = [(f"write a short poem about {thing}", f"A poem about {thing}, line one,\nand a second line about the {thing} too.")
         for thing in ("autumn", "rain", "the sea", "a cat", "mountains", "bread", "winter", "a train")]


@pytest.mark.parametrize(
    "records, settings, task, reason",
    [
        pytest.param("preference", {}, "preference", "preference pairs", id="preference-layout"),
        pytest.param("labels", {"label": "target"}, "classification", "`label` is set", id="label-set"),
        pytest.param("reasoning", {}, "reasoning", "final-answer marker", id="final-answer-markers"),
        pytest.param("one-key-json", {}, "classification", "one-key JSON", id="one-key-json"),
        pytest.param("several-key-json", {}, "extraction", "several keys", id="several-key-json"),
        pytest.param("labels", {}, "classification", "distinct short strings", id="short-repeated-strings"),
        pytest.param("poems", {}, "generation", "free text", id="free-text"),
        pytest.param("poems", {"task": "extraction"}, "extraction", "set by `task`", id="configured"),
    ],
)
def test_the_decision_list(dataset, chat, records, settings, task, reason):
    rows = {
        "preference": [{"prompt": f"question {i}", "chosen": f"a good answer {i}", "rejected": f"a bad one {i}"} for i in range(6)],
        "labels": chat_rows(chat, [(f"ticket number {i} about my bill", ("billing", "shipping")[i % 2]) for i in range(40)]),
        "reasoning": chat_rows(chat, [(f"what is {i} + {i}?", f"{i} + {i} = {2 * i}\n#### {2 * i}") for i in range(10)]),
        "one-key-json": chat_rows(chat, [(f"text {i}", json.dumps({"intent": f"intent_{i % 3}"})) for i in range(10)]),
        "several-key-json": chat_rows(chat, [(f"Ann {i}, 555-01{i:02d}", json.dumps({"name": "Ann", "phone": f"555-01{i:02d}"}))
                                             for i in range(10)]),
        "poems": chat_rows(chat, POEMS),
    }[records]
    root = dataset(train=rows)
    choice = task_of(root, **settings)
    assert (choice.task, reason in choice.reason) == (task, True), choice


def test_the_task_defaults_name_real_rules_tasks_and_severities():
    from pytest_ftdata.docs import load_rules

    rules = load_rules()
    for code, per_task in TASK_DEFAULTS.items():
        assert code in rules
        assert set(per_task) <= set(TASKS) and set(per_task.values()) <= {"error", "warning", "off"}
    assert task_default("DUP004", "classification") is None  # keeps its declared error
    assert task_default("DUP004", "generation") == "warning"
    assert task_default("LEAK004", "preference") == "warning"


def conflicting(chat, answers):
    """Two prompts, each with two different answers, and filler."""
    return chat_rows(chat, [("write a haiku about autumn", answers[0]), ("write a haiku about autumn", answers[1]),
                            *POEMS])


def test_conflicting_targets_are_warnings_with_fitting_advice_on_generation_data(dataset, chat):
    root = dataset(train=conflicting(chat, ["Leaves drift slowly down,\nthe cold wind hums.", "Red maple, grey sky,\ngeese go south."]))
    result = analyze_dataset(root, dataset_files(root), validate({}, "t", None), root.parent, families=("duplicates",))
    assert result.task.task == "generation"
    [finding] = [f for f in result.findings["duplicates"] if f.rule == "DUP004"]
    assert finding.severity == "warning"
    assert "teach the model to average them: keep the best, or make the prompt say which variant it wants" in finding.message
    assert "decide which target is right" not in finding.message


def test_conflicting_labels_stay_errors_on_classification_data(dataset, chat):
    rows = chat_rows(chat, [("my card was charged twice", "billing"), ("my card was charged twice", "shipping"),
                            *[(f"where is parcel {i}", "shipping") for i in range(20)]])
    root = dataset(train=rows)
    result = analyze_dataset(root, dataset_files(root), validate({"label": "target"}, "t", None), root.parent, families=("duplicates",))
    [finding] = [f for f in result.findings["duplicates"] if f.rule == "DUP004"]
    assert finding.severity == "error" and "decide which target is right" in finding.message


def test_rules_win_over_the_task_default_and_the_json_report_carries_the_task(pytester, run_mode, chat, write_jsonl):
    write_jsonl(pytester.path / "poems" / "train.jsonl", conflicting(chat, ["one answer", "another answer"]))
    write_jsonl(pytester.path / "tickets" / "train.jsonl", chat_rows(chat, [(f"ticket {i}", ("billing", "shipping")[i % 2]) for i in range(30)]))
    pytester.makefile(".toml", pyproject='[tool.ftdata]\n')
    (pytester.path / "poems" / "ftdata.toml").write_text('[rules]\nDUP004 = "error"\n')
    result = run_mode(pytester, "--ftdata", "poems", "tickets", "-p", "no:cacheprovider", "--ftdata-report", "json:report.json")
    report = json.loads((pytester.path / "report.json").read_text())
    tasks = {f["path"]: (f["task"], f["task_reason"]) for f in report["files"]}
    assert tasks["poems/train.jsonl"][0] == "generation" and "free text" in tasks["poems/train.jsonl"][1]
    assert tasks["tickets/train.jsonl"][0] == "classification" and "short strings" in tasks["tickets/train.jsonl"][1]
    [dup] = [f for f in report["findings"] if f["rule"] == "DUP004"]
    assert dup["severity"] == "error"  # the user's rule, over generation's warning
    result.stdout.fnmatch_lines(["*FAILED poems/dataset::duplicates*"])


def copy_into(shared: Path, target: Path, *sources: str) -> Path:
    target.mkdir(parents=True)
    for source in sources:
        shutil.copy(shared / source, target)
    return target


def test_open_ended_data_as_published_has_no_conflicting_target_error(shared_datasets, tmp_path):
    """Held to by issue 11: zero DUP004 errors on alpaca_libre v1 + FastChat dummy."""
    fastchat = next((shared_datasets / "fastchat_dummy_conversation" / "raw").glob("*.json"))
    for name, sources in (("alpaca", ["alpaca_libre/raw/alpaca_libre_tasks_v1.jsonl"]),
                          ("fastchat", [str(fastchat.relative_to(shared_datasets))])):
        root = copy_into(shared_datasets, tmp_path / name, *sources)
        result = analyze_dataset(root, dataset_files(root), validate({}, "t", None), tmp_path, families=("duplicates",))
        assert result.task.task == "generation", (name, result.task)
        conflicts = [f for f in result.findings["duplicates"] if f.rule == "DUP004"]
        assert conflicts, f"{name}: the repeated prompts are still reported"
        assert {f.severity for f in conflicts} == {"warning"}, name


def test_clinc150_conflicting_label_is_still_an_error(shared_datasets, tmp_path, chat, write_jsonl):
    data = json.loads((shared_datasets / "clinc150" / "raw" / "data_full.json").read_text(encoding="utf-8"))
    root = tmp_path / "clinc"
    for split, key in (("train", "train"), ("val", "val")):
        write_jsonl(root / f"{split}.jsonl", [chat(text, label, system=None) for text, label in data[key]])
    result = analyze_dataset(root, dataset_files(root), validate({}, "t", None), tmp_path, families=("leakage",))
    assert result.task.task == "classification"
    [volume] = [f for f in result.findings["leakage"] if f.rule == "LEAK004" and "'whisper_mode'" in f.message]
    assert volume.severity == "error"
