"""The support desk's own dataset rules, written with what pytest-ftdata offers tests.

test_dataset_rules.py states one rule in plain Python; here the same kind of rules
use the `ftdata` fixture (the datasets of `ftdata_paths`, configured by
[tool.ftdata] in pyproject.toml), so a failure lists every offending example as
`path:line` with a masked excerpt, like the built-in checks do. The project checks
these tests also call are defined in ../conftest.py. See the README section
"Custom dataset assertions".
"""

import json
from pathlib import Path

import pytest

import pytest_ftdata
from pytest_ftdata import DatasetAssertionError, assert_all, assert_label_coverage, assert_no_leakage

PROJECT = Path(__file__).resolve().parents[1]
URGENT_INTENTS = {"lost_or_stolen_card", "compromised_card", "card_payment_not_recognised"}
PRIORITIES = {"low", "medium", "high"}


@pytest.fixture(scope="session")
def support(ftdata):
    """The clean dataset (data/ also holds the deliberately broken copy)."""
    return ftdata.dataset("support")


def test_security_tickets_are_high_priority(support):
    urgent = support.where(lambda ex: ex.label in URGENT_INTENTS, "the intent is a security one")
    urgent.expect(lambda ex: ex.target["priority"] == "high", "security tickets are answered with priority high")


def test_every_answer_names_a_known_intent(support):
    intents = set(support.config.labels)
    support.expect(lambda ex: ex.label in intents, "every answer names one of the configured intents")


def test_only_english_tickets(support):
    assert_all(support.examples, lambda ex: ex.get("/metadata/language") == "en", "every ticket is in English")


def test_test_tickets_come_from_the_held_out_source(support):
    # Banking77's own test.csv feeds our test split; train and validation come from its train.csv.
    support.split("test").expect(lambda ex: ex.get("/metadata/source") == "banking77/test.csv", "test comes from test.csv")
    support.split("train").expect(lambda ex: ex.get("/metadata/source") != "banking77/test.csv", "train avoids test.csv")


def test_every_intent_has_twenty_training_examples(support):
    assert_label_coverage(support, min=20)


def test_no_customer_in_two_splits(support):
    assert_no_leakage(support)  # group_by = "/metadata/customer_id"


@pytest.mark.ftdata_each("validation", path="data/support")
def test_each_validation_answer_is_triaged(example):
    assert example.target["priority"] in PRIORITIES, example.excerpt()


def planted(defect: str) -> dict:
    """Where build_dataset.py planted a defect in the broken copy."""
    entries = json.loads((PROJECT / "planted.json").read_text(encoding="utf-8"))
    return next(entry for entry in entries if entry["defect"] == defect)


@pytest.mark.ftdata(path="data/support_broken")
def test_the_broken_copy_is_caught(ftdata):
    # An expectation fails at the prose answer, listing it as path:line.
    with pytest.raises(DatasetAssertionError) as failure:
        ftdata.split("train").expect(lambda ex: ex.target["priority"] in PRIORITIES, "every answer has a priority")
    prose = planted("target-not-json")
    assert [f.location for f in failure.value.findings] == [f"data/support_broken/{prose['file']}:{prose['line']}"]

    # The project check of conftest.py finds the ticket exported twice.
    copy = planted("exact-duplicate")
    findings = ftdata.dataset("support_broken").check("unique-ticket-ids")
    assert [(f.rule, f.location) for f in findings] == [("ACME002", f"data/support_broken/{copy['file']}:{copy['line']}")]


def test_load_gives_the_same_examples_outside_pytest(support):
    loaded = pytest_ftdata.load(PROJECT / "data" / "support").split("test")
    assert [(ex.location, ex.label) for ex in loaded] == [(ex.location, ex.label) for ex in support.split("test")]
