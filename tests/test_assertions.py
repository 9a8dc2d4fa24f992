"""Assertions for users' own dataset tests: `assert_all` / `expect` and the check helpers.

Unit tests check the failure text line by line (title sentence, `path:line: CODE`
lines with excerpts, the cap of 20 and `-v`, redaction, a predicate that raises, an
empty selection); the helpers run real check families through the engine. The
pytester tests run a user's test file that uses the `ftdata` fixture, in every run
mode (serial, `-n 2`, `-p no:xdist`), and look at what pytest prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pytest_ftdata
from pytest_ftdata import DatasetAssertionError, assert_all, assert_check, assert_format
from pytest_ftdata import expectations


#: Plugins a pytester run does not need (hypothesis' re-imports itself in every in-process run).
PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

EMAIL = "jane.doe.fake@gmail.com"


def answer(intent: str, priority: str = "low") -> str:
    return json.dumps({"intent": intent, "priority": priority})


@pytest.fixture
def tickets(tmp_path: Path, chat, write_jsonl):
    """30 training tickets: every 10th is about a lost card, the 7th mentions an e-mail address."""
    records = []
    for n in range(1, 31):
        intent = "lost_card" if n % 10 == 0 else "card_arrival"
        user = f"Ticket {n}: write to {EMAIL}" if n == 7 else f"Ticket {n}: where is my card?"
        records.append(chat(user, answer(intent, "high" if intent == "lost_card" else "low")))
    write_jsonl(tmp_path / "data" / "train.jsonl", records)
    return pytest_ftdata.load(tmp_path / "data", label="target:/intent")


@pytest.fixture
def verbosity():
    previous = expectations.set_verbosity(0)
    yield expectations.set_verbosity
    expectations.set_verbosity(previous)


def test_passing_expectation_is_silent(tickets):
    tickets.split("train").expect(lambda ex: ex.target["priority"] in {"low", "high"}, "priorities are known")


def test_failure_lists_offending_examples_as_linter_lines(tickets, verbosity):
    lost = pytest_ftdata.rule(code="TAS001", name="lost-card-is-low", summary="Lost cards are low priority.")
    with pytest.raises(DatasetAssertionError) as failure:
        assert_all(tickets.split("train"), lambda ex: ex.target["priority"] == "low", "every ticket is low priority", rule=lost)
    lines = str(failure.value).splitlines()
    assert lines[0] == "3 of 30 examples in split train of data fail the expectation: every ticket is low priority."
    assert lines[2] == "data/train.jsonl:10: TAS001 every ticket is low priority"
    assert lines[3].startswith("    | 'Ticket 10: where is my card?' -> '{\"intent\": \"lost_card\"")
    assert [line.split(":")[1] for line in lines[2:] if line.startswith("data/")] == ["10", "20", "30"]
    assert [(f.rule, f.line) for f in failure.value.findings] == [("TAS001", 10), ("TAS001", 20), ("TAS001", 30)]


def test_failure_is_capped_unless_verbose(tickets, verbosity):
    def fail_all():
        with pytest.raises(DatasetAssertionError) as failure:
            tickets.examples.expect(lambda ex: False, "nothing passes")
        return str(failure.value)

    capped = fail_all()
    assert capped.splitlines()[0] == "30 of 30 examples in data fail the expectation: nothing passes."
    assert capped.count("data/train.jsonl:") == 20
    assert capped.splitlines()[-1] == "... and 10 more (run with -v to see all)"
    verbosity(1)
    everything = fail_all()
    assert everything.count("data/train.jsonl:") == 30 and "more (run with -v" not in everything


def test_private_data_is_masked_and_raising_predicates_are_failures(tickets, verbosity):
    def predicate(ex):
        if EMAIL in ex.input_text:
            raise ValueError(f"found {EMAIL}")
        return True

    with pytest.raises(DatasetAssertionError) as failure:
        assert_all(tickets.examples, predicate, "no ticket mentions an address")
    text = str(failure.value)
    assert "data/train.jsonl:7: EXPECT no ticket mentions an address (the check raised ValueError: found [email:" in text
    assert EMAIL not in text and "[email:" in text.splitlines()[3]


def test_empty_selection_fails_unless_allowed(tickets):
    nothing = tickets.where(lambda ex: ex.label == "refund", "the ticket asks for a refund")
    with pytest.raises(DatasetAssertionError, match="No examples to check in data, where the ticket asks for a refund"):
        nothing.expect(lambda ex: "POL-" in ex.target_text, "refund answers cite the policy")
    nothing.expect(lambda ex: "POL-" in ex.target_text, "refund answers cite the policy", allow_empty=True)
    # Plain lists of examples work too.
    with pytest.raises(DatasetAssertionError, match="in the given examples"):
        assert_all([], bool, "anything")


def test_check_helpers_run_the_real_checks(tmp_path: Path, verbosity, chat, write_jsonl):
    write_jsonl(tmp_path / "data" / "train.jsonl", [chat("Hi", answer("card_arrival")), chat("Hey", "Sure thing.")])
    data = pytest_ftdata.load(tmp_path / "data")
    assert_format(data)  # the prose answer is only a warning (FMT005) ...
    with pytest.raises(DatasetAssertionError) as failure:  # ... until answers must be JSON
        assert_format(data, target_format="json")
    lines = str(failure.value).splitlines()
    assert lines[0] == "1 format error in data: target-not-json (1)."
    assert lines[2].startswith("data/train.jsonl:2: FMT002 Target is not valid JSON")
    with pytest.raises(ValueError, match="unknown family 'formats'"):
        assert_check("formats", data)


def test_label_coverage_uses_min(tickets):
    pytest_ftdata.assert_label_coverage(tickets, min=3)
    with pytest.raises(DatasetAssertionError, match=r"(?s)1 labels error in data.*LBL006 Label .lost_card. has 3"):
        pytest_ftdata.assert_label_coverage(tickets, min=4)


# -- what pytest prints -----------------------------------------------------------------------------

USER_TESTS = f'''
import pytest
from pytest_ftdata import assert_all

def test_every_answer_is_json(ftdata):
    ftdata.split("train").expect(lambda ex: ex.target is not None, "every answer is JSON")

def test_introspection_is_masked(ftdata):
    for ex in ftdata.split("train"):
        assert "@" not in ex.input_text

def test_masked_in_assert_all(ftdata):
    assert_all(ftdata.examples, lambda ex: "@" not in ex.input_text, "no e-mail address")

@pytest.mark.ftdata(path="clean")
def test_marker_path_chooses_the_data(ftdata):
    assert [d.path for d in ftdata.datasets] == ["clean"]
    ftdata.split("train").expect(lambda ex: ex.target is not None, "every answer is JSON")
'''


def test_user_test_failures_in_pytest(pytester: pytest.Pytester, run_mode, chat, write_jsonl):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nftdata_paths = ["data"]\n')
    write_jsonl(
        pytester.path / "data" / "train.jsonl",
        [chat("Where is my card?", answer("card_arrival")), chat(f"Mail me at {EMAIL}", "Will do!")],
    )
    write_jsonl(pytester.path / "clean" / "train.jsonl", [chat("Hi", answer("card_arrival"))])
    pytester.makepyfile(test_user=USER_TESTS)
    run = run_mode.subprocess if run_mode.xdist else run_mode
    result = run(pytester, *PLUGINS_OFF)  # no --ftdata: the fixture works without collection

    result.assert_outcomes(passed=1, failed=3)
    output = result.stdout.str()
    assert EMAIL not in output
    result.stdout.fnmatch_lines(
        [
            "E * 1 of 2 examples in split train of data fails the expectation: every answer is JSON.",
            "E * data/train.jsonl:2: EXPECT every answer is JSON",
            "E *| 'Mail me at [[]email: *' -> 'Will do!'",
            "test_user.py:*: DatasetAssertionError",  # the user's line, not the library's
        ]
    )
    assert "pytest_ftdata/assertions.py:" not in output and "pytest_ftdata/expectations.py:" not in output
    # pytest's own introspection of the user's assert is replaced by both sides, redacted whole.
    result.stdout.fnmatch_lines(["E * '@' not in 'Mail me at [[]email: *", "*values from the dataset are shown redacted*"])


def test_fixture_without_configured_paths_says_what_to_do(pytester: pytest.Pytester, run_mode):
    pytester.makepyfile("def test_it(ftdata):\n    list(ftdata)\n")
    result = run_mode(pytester, *PLUGINS_OFF)
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    # One clean message, said once, with the plugin's name once: no chained exception.
    [line] = [line for line in output.splitlines() if "does not know which datasets to read" in line and "ERROR" not in line]
    assert line.startswith("pytest-ftdata does not know which datasets to read: set `ftdata_paths`"), line
    assert line.count("pytest-ftdata") == 1
    assert "Traceback" not in output and "During handling of the above exception" not in output
    assert "LookupError" not in output
