"""The `labels` family's suspect labels (LBL012), its missing-extra finding (LBL013) and
the label pairs the data confuses (LBL014 and the coverage report's section).

`tests/test_label_model.py` tests the model itself; these tests run it the way a user
does: through the family (`analyze_dataset`) and through `pytest --ftdata`, on
templated intents whose one planted wrong label is known, and on CLINC150 as
published, whose real mislabels SOURCE.md and the issue name.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.families import labels as labels_family
from pytest_ftdata.label_model import INSTALL_COMMAND, LabelModelUnavailable

needs_extra = pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("numpy", "cleanlab")),
    reason=f"the labels extra is not installed: {INSTALL_COMMAND}",
)

#: Each intent has its own words, so the right label of a planted example is known.
INTENTS = {
    "billing": (["i was charged twice for", "refund my payment for", "why is my invoice so high for", "cancel the charge for"],
                ["my subscription", "last month", "the annual plan", "my order"]),
    "shipping": (["where is my package", "track the parcel", "when will the courier deliver", "has the box shipped"],
                 ["to berlin", "sent on monday", "with the tracking code", "from the warehouse"]),
    "password": (["i forgot my password", "reset the login", "i cannot sign in", "unlock my account"],
                 ["on the app", "after the update", "on my phone", "since yesterday"]),
}


def intent_rows(per_intent: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = [
        (f"{rng.choice(heads)} {rng.choice(tails)}{rng.choice(['', ' please', '?', ' thanks'])}", label)
        for label, (heads, tails) in INTENTS.items()
        for _ in range(per_intent)
    ]
    rng.shuffle(rows)
    return rows


def write_split(chat, write_jsonl, path: Path, rows) -> None:
    write_jsonl(path, [chat(text, label, system=None) for text, label in rows])


@pytest.fixture
def planted(tmp_path, chat, write_jsonl):
    """A dataset with one wrong label in train and one in test; returns (root, {path: (line, given, right)})."""
    root = tmp_path / "data"
    train, test = intent_rows(40, seed=1), intent_rows(12, seed=2)
    wrong = {}
    for name, rows, index in (("train", train, 17), ("test", test, 5)):
        text, right = rows[index]
        given = "shipping" if right != "shipping" else "billing"
        rows[index] = (text, given)
        wrong[f"data/{name}.jsonl"] = (index + 1, given, right)
        write_split(chat, write_jsonl, root / f"{name}.jsonl", rows)
    return root, wrong


def analyze(root: Path, **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=("labels",))


@needs_extra
def test_planted_wrong_labels_in_train_and_test_are_suspects_with_related_examples(planted):
    root, wrong = planted
    result = analyze(root, label="target")
    suspects = {(f.path, f.line): f for f in result.findings["labels"] if f.rule == "LBL012"}
    for path, (line, given, right) in wrong.items():
        finding = suspects[(path, line)]
        assert finding.severity == "warning" and finding.name == "suspect-label"
        assert f"labelled {given!r} but the rest of the dataset suggests {right!r}" in finding.message
        assert "% sure" in finding.message  # a suspicion says how sure it is
        assert 1 <= len(finding.related) <= 3
        # every related example carries the suggested label
        for location in finding.related:
            record = json.loads((root.parent / location.path).read_text().splitlines()[location.line - 1])
            assert record["messages"][-1]["content"] == right
    # a suspicion, not noise: templated data with two planted errors flags few others
    assert len(suspects) <= 2 + 3


@needs_extra
def test_suspect_labels_only_run_for_classification_and_can_be_turned_off(planted):
    root, _ = planted
    assert not [f for f in analyze(root, label="target", suspect_labels=False).findings["labels"] if f.rule == "LBL012"]
    generation = analyze(root, label="target", task="generation")
    assert generation.task.task == "generation"
    assert not [f for f in generation.findings["labels"] if f.rule in ("LBL012", "LBL013", "LBL014")]


def test_a_missing_extra_is_a_finding_that_says_how_to_install_it(planted, monkeypatch):
    root, _ = planted

    def unavailable(*args, **kwargs):
        raise LabelModelUnavailable(f"scikit-learn and cleanlab are not installed; install them with: {INSTALL_COMMAND}")

    monkeypatch.setattr(labels_family, "find_suspect_labels", unavailable)
    [finding] = [f for f in analyze(root, label="target").findings["labels"] if f.rule.startswith("LBL01")]
    assert finding.rule == "LBL013" and finding.severity == "warning"
    assert INSTALL_COMMAND in finding.message and "suspect_labels = false" in finding.message


@needs_extra
def test_pytest_run_reports_suspects_and_the_confused_pairs_in_every_report(pytester, run_mode_serial_and_xdist, planted):
    """Serial and -n 2 only: the label model is the slowest step, and turning xdist off
    changes nothing the labels family sees."""
    root, wrong = planted
    for name in ("train", "test"):
        (pytester.path / "data").mkdir(exist_ok=True)
        (pytester.path / "data" / f"{name}.jsonl").write_bytes((root / f"{name}.jsonl").read_bytes())
    pytester.makefile(".toml", pyproject='[tool.ftdata]\nlabel = "target"\n')
    result = run_mode_serial_and_xdist(
        pytester, "--ftdata", "data", "-p", "no:cacheprovider", "-rw",
        "--ftdata-report", "json:report.json", "--ftdata-report", "md:report.md",
    )
    report = json.loads((pytester.path / "report.json").read_text())
    found = {(f["path"], f["line"]) for f in report["findings"] if f["rule"] == "LBL012"}
    assert {(path, line) for path, (line, _, _) in wrong.items()} <= found
    assert all(f["severity"] == "warning" and f["check"] == "labels" for f in report["findings"] if f["rule"] == "LBL012")
    # a warning does not fail the labels item
    assert "FAILED data::labels" not in result.stdout.str()
    [summary] = report["labels"]["datasets"]
    assert summary["dataset"] == "data" and summary["judged"] == summary["examples"] == 120 + 36
    pair_labels = {frozenset((p["a"], p["b"])) for p in summary["confused_pairs"]}
    assert frozenset(("billing", "shipping")) in pair_labels  # the planted errors confuse exactly these
    assert "billing" in (pytester.path / "report.md").read_text()


@needs_extra
def test_clinc150_real_mislabels_are_suspects(shared_datasets, tmp_path, chat, write_jsonl):
    """The issue's examples: "how is the weather today" is labelled `maybe` and "tell me
    about today weather" `replacement_card_duration`; in test, "repeat what the weather
    will be like" is `transfer`. Each is flagged with `weather` suggested."""
    data = json.loads((shared_datasets / "clinc150" / "raw" / "data_full.json").read_text(encoding="utf-8"))
    root = tmp_path / "clinc"
    for split, keys in (("train", ("train", "oos_train")), ("validation", ("val", "oos_val")), ("test", ("test", "oos_test"))):
        write_jsonl(root / f"{split}.jsonl", [chat(text, label, system=None) for key in keys for text, label in data[key]])
    result = analyze(root, label="target")
    suspects = {f.excerpt: f for f in result.findings["labels"] if f.rule == "LBL012"}
    for text, given in (("how is the weather today", "maybe"), ("tell me about today weather", "replacement_card_duration"),
                        ("repeat what the weather will be like", "transfer")):
        finding = suspects[f"{text!r} -> {given!r}"]
        assert f"labelled {given!r} but the rest of the dataset suggests 'weather'" in finding.message
    # at most 2% of the examples flagged (the benchmark's target on planted flips)
    total = sum(len(data[k]) for k in data if k in ("train", "oos_train", "val", "oos_val", "test", "oos_test"))
    assert len(suspects) <= 0.02 * total
