"""Project-specific checks and one test per example, through real pytest runs.

A project's `conftest.py` registers checks with the `@pytest_ftdata.check` decorator
and the `pytest_ftdata_checks` hook; they must become items beside the built-in
families, fail like them with the project's rule codes, and reach the JSON report
and the terminal summary in every run mode (serial, `-n 2`, `-p no:xdist`). `@pytest.mark.ftdata_each`
must parametrize a test over examples with ids like `train.jsonl:2`.
"""

from __future__ import annotations

import json

import pytest


#: Plugins a pytester run does not need (hypothesis' re-imports itself in every in-process run).
PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

EMAIL = "jane.doe.fake@gmail.com"

CONFTEST = '''
import pytest
import pytest_ftdata

REFUND = pytest_ftdata.rule(code="TCC001", name="refund-without-policy", summary="A refund answer cites no policy id.")
LANGUAGE = pytest_ftdata.rule(code="TCC002", name="not-english", summary="An example is not in English.", severity="warning")
REUSED = pytest_ftdata.rule(code="TCC003", name="ticket-reused", summary="A ticket id is used twice.", family="ticket-ids")


@pytest_ftdata.check("refund-policy", rule=REFUND)
def refunds_cite_the_policy(example):
    if example.label == "refund" and "POL-" not in example.target["reply"]:
        yield "Refund answer cites no policy id (POL-...)."


@pytest_ftdata.check("languages", rule=LANGUAGE, scope="dataset")
def english_only(example):
    return example.get("/metadata/language") == "en"


class TicketIds(pytest_ftdata.DatasetFamily):
    family = "ticket-ids"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.first, self.found = {}, []

    def visit(self, example):
        ticket = example.get("/metadata/ticket")
        first = self.first.setdefault(ticket, example.location)
        if first != example.location:
            self.found.append(example.finding(REUSED, f"Ticket {ticket} is also at {first}."))

    def finish(self):
        return self.found


def pytest_ftdata_checks(config):
    return [TicketIds]
'''


def reply(intent: str, text: str) -> str:
    return json.dumps({"intent": intent, "reply": text})


@pytest.fixture
def ticket(chat):
    def ticket(n: int, user: str, intent: str, text: str, language: str = "en") -> dict:
        return chat(user, reply(intent, text), metadata={"ticket": f"T{n}", "language": language})

    return ticket


@pytest.fixture
def write_project(write_jsonl, ticket):
    def write_project(pytester: pytest.Pytester, conftest: str = CONFTEST, rules: str = "") -> None:
        pytester.makepyprojecttoml(f'[tool.ftdata]\nlabel = "target:/intent"\n{rules}')
        pytester.makeconftest(conftest)
        write_jsonl(
            pytester.path / "data" / "train.jsonl",
            [
                ticket(1, "Refund my order", "refund", "Refunded under POL-12."),
                ticket(2, f"Refund me, I am {EMAIL}", "refund", "Refunded, no questions asked."),
                ticket(3, "Where is my card?", "card_arrival", "It ships tomorrow."),
            ],
        )
        write_jsonl(
            pytester.path / "data" / "val.jsonl",
            [ticket(4, "Wo ist meine Karte?", "card_arrival", "Morgen.", language="de"), ticket(2, "Refund", "refund", "POL-1")],
        )

    return write_project


def test_project_checks_are_items_that_fail_like_builtin_ones(pytester: pytest.Pytester, run_mode, write_project):
    write_project(pytester)
    run = run_mode.subprocess if run_mode.xdist else run_mode
    result = run(pytester, "--ftdata", "data", *PLUGINS_OFF, "-rA", "--ftdata-report", "json:report.json")

    passed = {line.split()[1] for line in result.stdout.lines if line.startswith("PASSED ")}
    failed = {line.split()[1] for line in result.stdout.lines if line.startswith("FAILED ")}
    assert {"data/train.jsonl::schema", "data/val.jsonl::refund-policy", "data/dataset::languages"} <= passed
    ours = {"refund-policy", "languages", "ticket-ids"}
    assert {item for item in failed if item.split("::")[1] in ours} == {
        "data/train.jsonl::refund-policy",
        "data/dataset::ticket-ids",
    }, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "1 refund-policy error in data/train.jsonl: refund-without-policy (1).",
            "",
            "data/train.jsonl:2: TCC001 Refund answer cites no policy id (POL-...).",
            "    | 'Refund me, I am [[]email: *' -> '*",
        ]
    )
    result.stdout.fnmatch_lines(["data/val.jsonl:2: TCC003 Ticket T2 is also at data/train.jsonl:2."])
    output = result.stdout.str()
    assert EMAIL not in output and "Traceback" not in output
    # The warning-severity rule does not fail its item and is counted in the summary, with its first one.
    result.stdout.fnmatch_lines(["  warning TCC002 *: 1, e.g. data/val.jsonl:1", "          An example is not in English."])

    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    mine = [
        (f["check"], f["rule"], f["name"], f["severity"], f["path"], f["line"])
        for f in report["findings"]
        if f["rule"].startswith("TCC")
    ]
    assert mine == [
        ("refund-policy", "TCC001", "refund-without-policy", "error", "data/train.jsonl", 2),
        ("languages", "TCC002", "not-english", "warning", "data/val.jsonl", 1),
        ("ticket-ids", "TCC003", "ticket-reused", "error", "data/val.jsonl", 2),
    ]
    assert {rule: report["summary"]["by_rule"][rule] for rule in ("TCC001", "TCC002", "TCC003")} == {
        "TCC001": 1, "TCC002": 1, "TCC003": 1
    }


def test_rules_setting_applies_to_project_rules_and_checks(pytester: pytest.Pytester, write_project):
    write_project(pytester, rules='rules = { TCC001 = "warning", ticket-ids = "off" }\n')
    result = pytester.runpytest("--ftdata", "data", *PLUGINS_OFF, "-rA", "-k", "refund or ticket or languages")
    result.assert_outcomes(passed=4)
    # TCC001 is a warning now: counted in the summary with its first one, not a failure.
    result.stdout.fnmatch_lines(["  warning TCC001 refund-without-policy: 1, e.g. data/train.jsonl:2",
                                 "          Refund answer cites no policy id (POL-...)."])
    assert "TCC003" not in result.stdout.str()


def test_a_crashing_check_fails_only_its_own_items(pytester: pytest.Pytester, write_project):
    conftest = '''
import pytest_ftdata

@pytest_ftdata.check("needs-priority")
def needs_priority(example):
    return example.target["priority"] == "high"
'''
    write_project(pytester, conftest=conftest)
    result = pytester.runpytest("--ftdata", "data", *PLUGINS_OFF, "-rA")
    failed = {line.split()[1] for line in result.stdout.lines if line.startswith("FAILED ")}
    assert {"data/train.jsonl::needs-priority", "data/val.jsonl::needs-priority"} <= failed
    assert "data/train.jsonl::schema" not in failed and "PASSED data/train.jsonl::format" in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "data/train.jsonl:1: CHK001 Check `needs-priority` raised KeyError: 'priority' (conftest.py:5 in "
            "needs_priority) on this example; it checked nothing after this, fix the check."
        ]
    )
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()


def test_an_invalid_check_is_a_usage_error(pytester: pytest.Pytester, write_project):
    conftest = '''
import pytest_ftdata

@pytest_ftdata.check("twice")
def one(example):
    return None

def pytest_ftdata_checks(config):
    @pytest_ftdata.check("twice")
    def other(example):
        return None
    return [other]
'''
    write_project(pytester, conftest=conftest)
    result = pytester.runpytest("--ftdata", "data", *PLUGINS_OFF)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest-ftdata: a project check is invalid: two project checks are named 'twice'*"])
    assert "Traceback" not in result.stderr.str()


def test_project_checks_do_not_break_a_run_without_the_plugin(pytester: pytest.Pytester, write_project):
    conftest = CONFTEST.replace("def pytest_ftdata_checks", "@pytest.hookimpl(optionalhook=True)\ndef pytest_ftdata_checks")
    write_project(pytester, conftest=conftest)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-p", "no:ftdata", *PLUGINS_OFF)
    result.assert_outcomes(passed=1)


# -- one test per example ---------------------------------------------------------------------------

EACH_TESTS = '''
import pytest

@pytest.mark.ftdata_each("train")
def test_reply_is_short(example):
    assert len(example.input_text) < 20, example.excerpt()

@pytest.mark.ftdata_each(where=lambda ex: ex.label == "refund", argname="refund")
def test_refund_cites_policy(refund):
    assert "POL-" in refund.target["reply"]
'''


def test_one_test_per_example(pytester: pytest.Pytester, run_mode, write_project):
    write_project(pytester, conftest="")
    pytester.makeini("[pytest]\nftdata_paths = data\n")
    pytester.makepyfile(test_each=EACH_TESTS)
    run = run_mode.subprocess if run_mode.xdist else run_mode
    result = run(pytester, *PLUGINS_OFF, "-rA")

    outcomes = {line.split()[1]: line.split()[0] for line in result.stdout.lines if line.startswith(("PASSED ", "FAILED "))}
    assert outcomes == {
        "test_each.py::test_reply_is_short[train.jsonl:1]": "PASSED",
        "test_each.py::test_reply_is_short[train.jsonl:2]": "FAILED",
        "test_each.py::test_reply_is_short[train.jsonl:3]": "PASSED",
        "test_each.py::test_refund_cites_policy[train.jsonl:1]": "PASSED",
        "test_each.py::test_refund_cites_policy[train.jsonl:2]": "FAILED",
        "test_each.py::test_refund_cites_policy[val.jsonl:2]": "PASSED",
    }, result.stdout.str()
    assert EMAIL not in result.stdout.str()
    result.stdout.fnmatch_lines(["E * 'Refund me, I am [[]email: *"])


def test_each_ids_and_mistakes_at_collection(pytester: pytest.Pytester, write_jsonl, ticket):
    write_jsonl(pytester.path / "a" / "train.jsonl", [ticket(1, "Hi", "x", "y")])
    write_jsonl(pytester.path / "b" / "train.jsonl", [ticket(2, "Hi", "x", "y"), ticket(3, "Yo", "x", "y")])
    pytester.makepyfile(
        test_ids='import pytest\n\n@pytest.mark.ftdata_each(path=".")\ndef test_both(example):\n    pass\n',
        test_too_many='import pytest\n\n@pytest.mark.ftdata_each(path="b", max_examples=1)\ndef test_it(example):\n    pass\n',
        test_no_argument='import pytest\n\n@pytest.mark.ftdata_each(path="a")\ndef test_it():\n    pass\n',
    )
    result = pytester.runpytest("--collect-only", "-q", *PLUGINS_OFF)
    result.stdout.fnmatch_lines(
        [
            # Two datasets hold a train.jsonl: the ids name the paths.
            "test_ids.py::test_both[[]a/train.jsonl:1[]]",
            "test_ids.py::test_both[[]b/train.jsonl:1[]]",
            "test_ids.py::test_both[[]b/train.jsonl:2[]]",
        ]
    )
    result.stdout.fnmatch_lines_random(
        [
            "*ftdata_each: b has more than 1 examples; one test per example is for small datasets.*",
            "*test_it is marked ftdata_each but takes no `example` argument*",
        ]
    )
