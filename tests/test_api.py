"""`pytest_ftdata.load()` and the objects it returns, outside pytest's collection.

Unit tests on small datasets written to tmp_path: datasets and splits are found as
the plugin finds them, every documented `Example` field has the value the record
implies, selections are lazy and re-iterable, project rules and checks validate
their names. The last test runs the python examples of docs/custom-assertions.md
against a copy of example_project, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import pytest_ftdata
from pytest_ftdata.config import ConfigError


#: Plugins a pytester run does not need (hypothesis' re-imports itself in every in-process run).
PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = "You triage support tickets."


@pytest.fixture
def ticket(chat):
    def ticket(n: int, user: str, intent: str, priority: str = "low", customer: str | None = None, **meta) -> dict:
        answer = json.dumps({"intent": intent, "priority": priority})
        metadata = {"ticket_id": f"T-{n}", "customer_id": customer or f"C-{n}", "language": "en", **meta}
        return chat(user, answer, system=SYSTEM, metadata=metadata)

    return ticket


@pytest.fixture
def project(tmp_path: Path, chat, write_jsonl, ticket) -> Path:
    """A project with [tool.ftdata] and two datasets: data/support and data/other."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ftdata]\nlabel = "target:/intent"\ngroup_by = "/metadata/customer_id"\n', encoding="utf-8"
    )
    support = tmp_path / "data" / "support"
    write_jsonl(
        support / "train.jsonl",
        [
            ticket(1, "Where is my card?", "card_arrival"),
            ticket(2, "I lost my card", "lost_card", "high", customer="C-9"),
            '{"messages": [',  # an unreadable line: skipped here, reported by the schema check
            chat("Refund please", "Sure, I will refund you.", system=SYSTEM),  # a target that is not JSON
        ],
    )
    write_jsonl(support / "val.jsonl", [ticket(5, "My card has not arrived", "card_arrival", customer="C-1")])
    write_jsonl(support / "test.jsonl", [ticket(6, "Card stolen", "lost_card", "high")])
    write_jsonl(tmp_path / "data" / "other" / "train.jsonl", [ticket(7, "Change my PIN", "change_pin")])
    return tmp_path


def test_load_finds_every_dataset_and_its_splits(project: Path):
    datasets = pytest_ftdata.load(project / "data")

    assert [d.path for d in datasets.datasets] == ["data/other", "data/support"]
    support = datasets.dataset("support")
    assert support is datasets.dataset("data/support")
    assert support.split_names == ["train", "validation", "test"]
    assert [f.path for f in support.split("val").files] == ["data/support/val.jsonl"]
    # A split across datasets gathers the files of every dataset that has it.
    assert [f.path for f in datasets.split("train").files] == ["data/other/train.jsonl", "data/support/train.jsonl"]


def test_example_fields(project: Path):
    train = pytest_ftdata.load(project / "data").dataset("support").split("train")
    first, second, prose = list(train)

    assert (first.path, first.line, first.split) == ("data/support/train.jsonl", 1, "train")
    assert first.record["metadata"]["ticket_id"] == "T-1"
    assert first.messages[1] == {"role": "user", "content": "Where is my card?"}
    assert (first.input_text, first.system, first.format) == ("Where is my card?", SYSTEM, "chat")
    assert first.target_text == '{"intent": "card_arrival", "priority": "low"}'
    assert first.target == {"intent": "card_arrival", "priority": "low"}
    assert (first.label, first.group) == ("card_arrival", "C-1")
    assert second.group == "C-9"
    assert first.get("/metadata/language") == "en" and first.get("/nope", 0) == 0
    # Line 3 cannot be read; line 4's target is prose: no parsed target, no label.
    assert (prose.line, prose.target, prose.label) == (4, None, None)
    assert first.location == "data/support/train.jsonl:1"


def test_config_overrides_and_mistakes(project: Path):
    by_priority = pytest_ftdata.load(project / "data", label="target:/priority", group_by="/metadata/ticket_id")
    first = next(iter(by_priority.dataset("support").split("train")))
    assert (first.label, first.group) == ("low", "T-1")

    with pytest.raises(ConfigError, match="did you mean `group_by`"):
        pytest_ftdata.load(project / "data", grup_by="/metadata/customer_id")


def test_selections_are_lazy_and_reiterable(project: Path):
    support = pytest_ftdata.load(project / "data").dataset("support")
    seen = []
    urgent = support.where(lambda ex: seen.append(ex.line) or ex.label == "lost_card", "the ticket is urgent")
    assert seen == []  # nothing is read until the selection is iterated
    # Files are read in name order, as the engine reads them.
    assert [ex.location for ex in urgent] == ["data/support/test.jsonl:1", "data/support/train.jsonl:2"]
    assert len(urgent) == 2 and len(support.examples) == 5
    assert "where the ticket is urgent" in urgent.description


def test_split_mistakes_are_explained(project: Path):
    datasets = pytest_ftdata.load(project / "data")
    with pytest.raises(ValueError, match="unknown split 'trian'"):
        datasets.split("trian")
    with pytest.raises(LookupError, match=r"data/other has no test split; its files are: data/other/train.jsonl \(train\)"):
        datasets.dataset("other").split("test")
    with pytest.raises(LookupError, match="no dataset named 'missing'.*data/other, data/support"):
        datasets.dataset("missing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pytest_ftdata.load(project / "nowhere")


def test_load_a_single_file(project: Path):
    datasets = pytest_ftdata.load(project / "data" / "support" / "val.jsonl")
    assert [ex.location for ex in datasets] == ["data/support/val.jsonl:1"]


def test_example_repr_masks_private_data(tmp_path: Path, chat, write_jsonl):
    write_jsonl(tmp_path / "train.jsonl", [chat("Mail me at jane.doe@gmail.com", "Done.")])
    example = next(iter(pytest_ftdata.load(tmp_path)))
    assert "jane.doe@gmail.com" not in repr(example)
    assert "[email:" in repr(example) and "train.jsonl:1" in repr(example)


# -- project rules and checks -------------------------------------------------------------------


def test_rule_codes_and_names_are_validated():
    declared = pytest_ftdata.rule(code="TAPI001", name="api-rule", summary="An API rule.")
    assert (declared.code, declared.check, declared.severity) == ("TAPI001", "custom", "error")
    # The same declaration again (a conftest imported twice) is the same rule.
    assert pytest_ftdata.rule(code="TAPI001", name="api-rule", summary="An API rule.") is declared
    with pytest.raises(ValueError, match="already declared differently"):
        _declare_elsewhere()
    with pytest.raises(ValueError, match="prefix FMT of the built-in `format` family"):
        pytest_ftdata.rule(code="FMT900", name="my-format", summary="Mine.")
    with pytest.raises(ValueError, match="ending in a digit"):
        pytest_ftdata.rule(code="acme-1", name="lower-code", summary="Bad code.")
    with pytest.raises(ValueError, match="kebab-case"):
        pytest_ftdata.rule(code="TAPI002", name="Not Kebab", summary="Bad name.")
    with pytest.raises(ValueError, match="already used by"):
        pytest_ftdata.rule(code="TAPI003", name="api-rule", summary="Same name, other code.")


def _declare_elsewhere():
    return pytest_ftdata.rule(code="TAPI001", name="api-rule", summary="Another summary.")


def test_function_and_class_checks_run_through_the_engine(project: Path):
    urgent = pytest_ftdata.rule(code="TAPI010", name="urgent-is-high", summary="Urgent tickets are high priority.")
    ids = pytest_ftdata.rule(code="TAPI011", name="ticket-id-reused", summary="Ticket ids are unique.", severity="warning")

    @pytest_ftdata.check("urgent-priority", rule=urgent)
    def urgent_priority(example):
        if example.label == "lost_card":
            return example.target["priority"] == "low"  # False (the happy case) reports the rule

    @pytest_ftdata.check
    class TicketIds(pytest_ftdata.DatasetFamily):
        family = "ticket-ids"

        def __init__(self, ctx):
            super().__init__(ctx)
            self.seen, self.found = set(), []

        def visit(self, example):
            customer = example.get("/metadata/customer_id")
            if customer in self.seen:
                self.found.append(ids.at(example.path, example.line, f"Customer {customer} again."))
            self.seen.add(customer)

        def finish(self):
            return self.found

    datasets = pytest_ftdata.load(project / "data", checks=[urgent_priority, TicketIds])
    support = datasets.dataset("support")
    found = support.check("urgent-priority")
    assert [(f.rule, f.check, f.location) for f in found] == [
        ("TAPI010", "urgent-priority", "data/support/test.jsonl:1"),
        ("TAPI010", "urgent-priority", "data/support/train.jsonl:2"),
    ]
    assert found[1].message == "Urgent tickets are high priority." and "I lost my card" in found[1].excerpt
    assert [(f.rule, f.check, f.severity, f.location) for f in support.check("ticket-ids")] == [
        ("TAPI011", "ticket-ids", "warning", "data/support/val.jsonl:1")
    ]
    # The rule is now listed under the check that reports it (a `rules` selector).
    assert pytest_ftdata.findings.RULES["TAPI010"].check == "urgent-priority"
    with pytest.raises(ValueError, match="unknown family 'urgent'"):
        support.check("urgent")


def test_a_crashing_check_becomes_a_finding(project: Path):
    @pytest_ftdata.check("needs-refund")
    def needs_refund(example):
        return example.target["refund"]  # KeyError on the first example

    found = pytest_ftdata.load(project / "data", checks=[needs_refund]).dataset("support").check("needs-refund")
    assert [(f.rule, f.check, f.location) for f in found] == [
        ("CHK001", "needs-refund", "data/support/test.jsonl:1"),
        ("CHK001", "needs-refund", "data/support/train.jsonl:1"),
        ("CHK001", "needs-refund", "data/support/val.jsonl:1"),
    ]
    assert re.search(r"raised KeyError: 'refund' \(test_api\.py:\d+ in needs_refund\) on this example", found[0].message)


def test_check_names_are_validated():
    with pytest.raises(ValueError, match="name of a built-in check"):
        pytest_ftdata.check("labels")(lambda example: None)
    with pytest.raises(ValueError, match="kebab-case"):
        pytest_ftdata.check("Bad Name")(lambda example: None)
    with pytest.raises(TypeError, match="neither a function nor a FileFamily/DatasetFamily"):
        pytest_ftdata.check("plain")(type("Plain", (), {}))


# -- the docs page runs ---------------------------------------------------------------------------

#: The docs page of custom assertions and checks: every python block of it runs here.
PAGE = ROOT / "docs" / "custom-assertions.md"
EXAMPLE_PROJECT = ROOT / "example_project"


def page_blocks() -> list[tuple[str | None, str]]:
    """(file named by the first-line comment or None, code) of the page's python blocks."""
    section = PAGE.read_text(encoding="utf-8")
    blocks = []
    for code in re.findall(r"```python\n(.*?)```", section, flags=re.S):
        first = code.splitlines()[0]
        named = re.fullmatch(r"# ([\w/]+\.py)", first)
        blocks.append((named.group(1) if named else None, code))
    return blocks


def test_custom_assertions_page_examples_run(pytester: pytest.Pytester):
    blocks = page_blocks()
    files = {name: code for name, code in blocks if name}
    scripts = [code for name, code in blocks if not name]
    assert {"conftest.py", "tests/test_support_rules.py"} <= set(files) and scripts
    for part in ("pyproject.toml", "schemas", "data"):
        source = EXAMPLE_PROJECT / part
        if source.is_dir():
            shutil.copytree(source, pytester.path / part)
        else:
            shutil.copy(source, pytester.path / part)
    for name, code in files.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(code, encoding="utf-8")

    # The documented tests pass on the clean dataset (a missing built-in family may skip).
    result = pytester.runpytest("tests", *PLUGINS_OFF, "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 5 and not outcomes.get("failed") and not outcomes.get("errors"), result.stdout.str()

    # The documented project checks are items on the data, and catch the broken copy.
    result = pytester.runpytest("data", "--ftdata", *PLUGINS_OFF, "-q", "-k", "priority or ticket")
    output = result.stdout.str()
    assert "data/support_broken/train.jsonl:40: ACME002" in output, output
    assert re.search(r"[1-9]\d* passed", output) and "1 failed" in output, output

    for code in scripts:
        ran = pytester.run("python", "-c", code)
        assert ran.ret == 0, ran.stderr.str()
