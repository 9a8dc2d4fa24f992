"""Coverage of behaviour, of distinct examples and of the fields of JSON answers.

The `behaviour` dimension and `[tool.ftdata.behaviour] min_share` (SUB001/SUB002),
effective counts (near-copies counted once) and SUB006 mostly-near-copies, and the
extraction key table with SUB007 empty-case-never-seen: computed once per dataset,
shown the same in the terminal, Markdown, HTML and JSON reports, in every run mode.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pytest_ftdata.config import ConfigError, validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
from pytest_ftdata.families import subgroups as subgroups_module
from pytest_ftdata.report.coverage import EFFECTIVE_NOTE, KEYS_NOTE
from pytest_ftdata.report.html import render_html
from pytest_ftdata.report.markdown import render_markdown
from pytest_ftdata.report.model import RunReport
from pytest_ftdata.report.terminal import render_coverage

QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")


def analyze(root: Path, **settings):
    config = validate(settings, "test settings", None)
    return analyze_dataset(root, dataset_files(root), config, root.parent, families=("labels", "subgroups"))


def dimension(result, name: str) -> dict:
    return next(d for d in result.summaries["subgroups"]["dimensions"] if d["name"] == name)


def rows(result, name: str) -> dict[str, dict]:
    return {row["subgroup"]: row for row in dimension(result, name)["rows"]}


def found(result, rule: str):
    return [f for f in result.findings["subgroups"] if f.rule == rule]


def run_report(result) -> RunReport:
    nodeid = f"{result.path}/dataset"
    return RunReport.build(
        rootdir="/", findings=result.all_findings(),
        files=[file_result.info.to_dict() for file_result in result.files.values()],
        summaries={f"{nodeid}::subgroups": result.summaries["subgroups"]},
    )


#: Varied questions: no two are near-duplicates, so each counts once.
QUESTIONS = [
    "How do I reset my password?", "Where can I download my invoice?", "Why was my card declined today?",
    "Can I change the delivery address after ordering?", "What are your opening hours on Sunday?",
    "Is there a student discount for the annual plan?", "My parcel arrived damaged, what now?",
    "How long does a bank transfer refund take?", "Do you ship to Norway and Iceland?",
    "The app crashes when I open the camera.", "Can two people share one family account?",
    "Which browsers does the web editor support?", "I forgot which e-mail I signed up with.",
    "How do I export my contacts to a spreadsheet?", "Why is the dark mode setting greyed out?",
    "Can I pause my subscription during the summer?", "The coupon code says it expired yesterday.",
    "Where do I find the warranty for my headphones?", "How many devices can stream at the same time?",
    "Is my payment information stored securely?", "Can I get a paper copy of the manual?",
    "What happens to my files if I cancel?", "How do I turn on two-factor authentication?",
    "Does the battery replacement void the warranty?", "My order number starts with ZX, is that right?",
]


def tool_call(question: str) -> dict:
    return {"messages": [
        {"role": "user", "content": question},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "lookup", "arguments": "{}"}}]},
    ]}


# -- the behaviour dimension -----------------------------------------------------------------------


def test_behaviour_dimension_counts_what_the_answers_do(dataset, chat):
    train = [chat(q, f"Here is what to do: step {i}.") for i, q in enumerate(QUESTIONS[:10])]
    train += [chat("How do I pick a lock?", "I'm sorry, but I can't help with that."),
              chat("Lösch alle Nutzer.", "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen."),
              chat("Change it.", "Which account do you mean?"),
              chat("Find the phone number in: 'see you soon'", "{}"),
              tool_call("What is the weather in Oslo?")]
    test = [chat(QUESTIONS[20], "Open the settings."), chat(QUESTIONS[21], "I can't help with that.")]
    result = analyze(dataset(train=train, test=test))
    table = rows(result, "behaviour")
    assert list(table) == ["refusal", "clarifying-question", "empty-answer", "tool-call", "answer"]
    assert {name: row["counts"] for name, row in table.items()} == {
        "refusal": {"train": 2, "test": 1}, "clarifying-question": {"train": 1, "test": 0},
        "empty-answer": {"train": 1, "test": 0}, "tool-call": {"train": 1, "test": 0},
        "answer": {"train": 10, "test": 1},
    }
    # no minimum unless [tool.ftdata.behaviour] sets one
    assert dimension(result, "behaviour")["required"] == 0 and not found(result, "SUB001") + found(result, "SUB002")


@pytest.fixture
def with_refusals(dataset, chat):
    """train: 98 answers and 1 refusal (of 99); validation: 10 answers, 1 refusal; test: 10 answers."""
    def make():
        train = [chat(f"{q} (case {i})", f"Answer {i}: {q.lower()}") for i in range(4) for q in QUESTIONS][:98]
        train.append(chat("How do I pick a lock?", "I'm sorry, but I can't help with that."))
        validation = [chat(f"val {q}", "Open the settings.") for q in QUESTIONS[:10]]
        validation.append(chat("Hack my ex's mail.", "I won't help with that."))
        test = [chat(f"test {q}", "Open the settings.") for q in QUESTIONS[10:20]]
        return dataset(train=train, validation=validation, test=test)

    return make


def test_min_share_of_a_behaviour_applies_to_train_and_asks_for_some_in_validation_and_test(with_refusals):
    result = analyze(with_refusals(), behaviour={"min_share": {"refusal": 0.02}})
    refusal = rows(result, "behaviour")["refusal"]
    # 2% of 99 training examples, rounded up: 2; at least one in validation and test
    assert refusal["minimum"] == {"train": 2, "validation": 1, "test": 1}
    assert refusal["status"] == "MISSING"
    assert dimension(result, "behaviour")["settings"]["values"] == ["refusal"]
    assert (dimension(result, "behaviour")["required"], dimension(result, "behaviour")["met"]) == (3, 1)
    [missing] = found(result, "SUB002")
    assert missing.path == "data/test.jsonl" and missing.severity == "error"
    assert missing.message == (
        "Subgroup `behaviour` = 'refusal' has no examples in test (train has 1 of 2 (2% of 99, "
        "`[tool.ftdata.behaviour] min_share`); test has 0 of 1; counts: train 1, validation 1, test 0); "
        "add test examples of it so it is measured."
    )
    assert not found(result, "SUB001")  # one finding per subgroup: the empty split says it


def test_min_share_below_minimum_is_sub001(with_refusals, chat):
    root = with_refusals()
    (root / "test.jsonl").open("a", encoding="utf-8").write(json.dumps(chat("Rob a bank", "I can't help with that.")) + "\n")
    [low] = found(analyze(root, behaviour={"min_share": {"refusal": 0.02}}), "SUB001")
    assert low.path == "data/train.jsonl"
    assert low.message.startswith("Subgroup `behaviour` = 'refusal' is below its minimum in train (train has 1 of 2 (2% of 99")
    assert low.message.endswith("add at least 1 example of it there.")


def test_min_share_per_split_applies_to_the_splits_named(with_refusals):
    result = analyze(with_refusals(), behaviour={"min_share": {"refusal": {"train": 0.01, "validation": 0.05}}})
    refusal = rows(result, "behaviour")["refusal"]
    assert refusal["minimum"] == {"train": 1, "validation": 1} and refusal["status"] == "ok"
    assert not found(result, "SUB001") and not found(result, "SUB002")
    result = analyze(with_refusals(), behaviour={"min_share": {"refusal": {"validation": 0.2}}})
    [low] = found(result, "SUB001")
    assert "validation has 1 of 3 (20% of 11, `[tool.ftdata.behaviour] min_share`)" in low.message


def test_a_behaviour_with_a_minimum_and_no_example_is_listed(with_refusals):
    result = analyze(with_refusals(), behaviour={"min_share": {"tool-call": 0.01}})
    assert rows(result, "behaviour")["tool-call"]["total"] == 0
    [missing] = found(result, "SUB002")
    assert missing.message.startswith("Subgroup `behaviour` = 'tool-call' has no examples in train and validation and test")
    assert "so it is learned" in missing.message


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"behaviour": {"min_share": {"refusals": 0.02}}},
         "setting `behaviour.min_share` names `refusals`, which is not one of 'refusal', 'clarifying-question', "
         "'empty-answer', 'tool-call' or 'answer'; did you mean `refusal`?"),
        ({"behaviour": {"min_share": {"refusal": {"dev": 0.1}}}},
         "setting `behaviour.min_share.refusal` names `dev`, which is not one of 'train', 'validation' or 'test'"),
        ({"behaviour": {"min_share": {"refusal": 1.5}}}, "setting `behaviour.min_share.refusal` should be less than or equal to 1"),
        ({"behaviour": {"min_shares": {}}}, "unknown setting `behaviour.min_shares`; did you mean `min_share`?"),
        ({"extraction": {"expect_emtpy": ["phone"]}}, "unknown setting `extraction.expect_emtpy`; did you mean `expect_empty`?"),
        ({"extraction": {"expect_empty": ["/phone"]}}, "names top-level keys, not JSON Pointers: write 'phone', not '/phone'"),
        ({"extraction": {"expect_empty_answer": "no"}}, "setting `extraction.expect_empty_answer` should be a valid boolean"),
    ],
)
def test_config_mistakes_are_one_line_each(settings, message):
    with pytest.raises(ConfigError) as error:
        validate(settings, "pyproject.toml", None)
    lines = str(error.value).splitlines()[1:]
    assert len(lines) == 1 and message in lines[0], lines


# -- effective examples and SUB006 -----------------------------------------------------------------


@pytest.fixture
def copies(dataset, chat):
    """label `billing`: 25 near-copies of one ticket (`order N` changes) in train, and 2 in test;
    label `other`: 25 varied tickets."""
    def make(copies: int = 25):
        ticket = lambda text, label: chat(text, json.dumps({"intent": label}))  # noqa: E731
        train = [ticket(f"My invoice for order {n} is wrong.", "billing") for n in range(copies)]
        train += [ticket(q, "other") for q in QUESTIONS]
        test = [ticket("My invoice for order 7 is wrong!", "billing"), ticket("Where is my parcel?", "other")]
        return dataset(train=train, test=test)

    return make


def test_effective_counts_count_near_copies_once(copies):
    result = analyze(copies(), label="target:/intent")
    billing = rows(result, "label")["billing"]
    assert billing["counts"] == {"train": 25, "test": 1} and billing["total"] == 26
    # the 25 training copies are one cluster; the test copy is a cell of its own
    assert billing["effective"] == {"train": 1, "test": 1} and billing["effective_total"] == 2
    other = rows(result, "label")["other"]
    assert other["effective"] == other["counts"] == {"train": 25, "test": 1}
    summary = result.summaries["subgroups"]
    assert summary["examples"] == {"train": 50, "test": 2}
    assert summary["effective_examples"] == {"train": 26, "test": 2}
    # every dimension's effective counts add up to the dataset's
    for table in summary["dimensions"]:
        for split in ("train", "test"):
            assert sum(row["effective"][split] for row in table["rows"]) == summary["effective_examples"][split], table["name"]


def test_a_subgroup_of_near_copies_is_sub006(copies):
    result = analyze(copies(), label="target:/intent")
    messages = {f.message.split(" has ")[0]: f for f in found(result, "SUB006")}
    finding = messages["Subgroup `label` = 'billing'"]
    assert finding.severity == "warning" and finding.path == "data/"
    assert finding.message == (
        "Subgroup `label` = 'billing' has 26 examples, but only 2 remain when near-duplicates count once (92% are "
        "near-copies): coverage beats volume, so replace the copies with varied examples of it (other phrasings, "
        "cases, customers)."
    )
    assert "Subgroup `label` = 'other'" not in messages
    # the shape dimensions (format, turns, lengths) are not judged: they would repeat it everywhere
    assert not any("`format`" in key or "`turns`" in key for key in messages)


def test_sub006_needs_20_examples_and_follows_min_effective_share(copies):
    assert not any("'billing'" in f.message for f in found(analyze(copies(18), label="target:/intent"), "SUB006"))
    assert not found(analyze(copies(), label="target:/intent", min_effective_share=0), "SUB006")
    # at 0.05 only subgroups of which at most 5% remain are reported: billing keeps 2 of 26 (7.7%)
    assert not any("'billing'" in f.message for f in found(analyze(copies(), label="target:/intent",
                                                                     min_effective_share=0.05), "SUB006"))


def test_reports_show_effective_counts_in_brackets(copies):
    result = analyze(copies(), label="target:/intent")
    report = run_report(result)
    lines = render_coverage(report, width=100)
    assert EFFECTIVE_NOTE in lines
    billing = next(line for line in lines if line.startswith("billing"))
    assert billing.split()[:5] == ["billing", "25", "(1)", "1", "26"]
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.split()[:5] == ["TOTAL", "50", "(26)", "2", "52"]
    md = render_markdown(report)
    assert f"_{EFFECTIVE_NOTE}_" in md
    row = next(line for line in md.splitlines() if line.startswith("| billing"))
    assert [cell.strip() for cell in row.strip("|").split("|")][:4] == ["billing", "25 (1)", "1", "26 (2)"]


def test_no_brackets_when_nothing_is_a_copy(dataset, chat):
    root = dataset(train=[chat(q, "Open the settings.") for q in QUESTIONS])
    lines = render_coverage(run_report(analyze(root)))
    assert EFFECTIVE_NOTE not in lines and not any("(" in line.split("share")[0] for line in lines if line.startswith("answer"))


# -- the extraction key table and SUB007 ---------------------------------------------------------------


def extract(text: str, answer) -> dict:
    return {"messages": [
        {"role": "system", "content": "Extract the contact as JSON."},
        {"role": "user", "content": text},
        {"role": "assistant", "content": answer if isinstance(answer, str) else json.dumps(answer)},
    ]}


@pytest.fixture
def contacts(dataset):
    """train: 8 answers with name and phone, email in half (null in 2, absent in 2);
    test: 4 with name and phone, one `{}`."""
    def make(train_extra=(), test_extra=()):
        train = []
        for i in range(8):
            answer = {"name": f"Person {i}", "phone": f"555-01{i:02d}"}
            if i < 4:
                answer["email"] = f"p{i}@example.org" if i < 2 else None
            train.append(extract(f"Note {i}: call Person {i} on 555-01{i:02d}, re order {i * 37}.", answer))
        test = [extract(f"Ticket {i}: Person {i} rang from 555-02{i:02d}.", {"name": f"Person {i}", "phone": f"555-02{i:02d}"})
                for i in range(3)]
        test.append(extract("Thanks, that is all for today!", {}))
        return dataset(train=[*train, *train_extra], test=[*test, *test_extra])

    return make


def test_key_table_counts_present_empty_and_absent_per_split(contacts):
    result = analyze(contacts(train_extra=[extract("Nobody named here, N/A phone.", {"name": None, "phone": "N/A"}),
                                           extract("Just plain text", "no results")]))
    assert result.task.task == "extraction"
    keys = result.summaries["subgroups"]["keys"]
    assert keys["objects"] == {"train": 9, "test": 4} and keys["not_objects"] == {"train": 1, "test": 0}
    # `{}`, every key null or a placeholder, and a text saying there is nothing
    assert keys["empty_answers"] == {"train": 2, "test": 1}
    table = {row["key"]: row for row in keys["rows"]}
    assert list(table) == ["name", "phone", "email"]  # in the order they first appear
    assert (table["phone"]["present"], table["phone"]["empty"], table["phone"]["absent"]) == (
        {"train": 8, "test": 3}, {"train": 1, "test": 0}, {"train": 0, "test": 1})
    assert (table["email"]["present"], table["email"]["empty"], table["email"]["absent"]) == (
        {"train": 2, "test": 0}, {"train": 2, "test": 0}, {"train": 5, "test": 4})
    assert table["email"]["shares"]["train"] == {"present": round(2 / 9, 6), "empty": round(2 / 9, 6), "absent": round(5 / 9, 6)}
    for row in table.values():
        for split in ("train", "test"):
            assert row["present"][split] + row["empty"][split] + row["absent"][split] == keys["objects"][split]
        assert row["status"] is None and row["expected_empty"] is False
    assert keys["empty_answer_status"] == "ok" and keys["truncated"] is False and keys["max_keys"] == 200
    assert not found(result, "SUB007")


def test_no_empty_answer_in_train_is_sub007(contacts):
    result = analyze(contacts())
    [finding] = found(result, "SUB007")
    assert (finding.path, finding.line, finding.severity, finding.name) == (
        "data/train.jsonl", None, "warning", "empty-case-never-seen")
    assert finding.message == (
        "No example of train has an empty answer (of 8 examples, 8 JSON answers): the model never learns to answer "
        "`{}` or null for every key when an input has nothing to extract, and will invent values. Add such examples; "
        "if every input of your task has something to extract, set [tool.ftdata.extraction] expect_empty_answer = false."
    )
    assert result.summaries["subgroups"]["keys"]["empty_answer_status"] == "MISSING"
    assert not found(analyze(contacts(), extraction={"expect_empty_answer": False}), "SUB007")
    # the test split has `{}`, but the training split is where the model learns it
    assert not found(analyze(contacts(train_extra=[extract("Thanks!", {"name": None, "phone": None})])), "SUB007")


def test_expected_empty_keys_are_checked_in_every_split(contacts):
    result = analyze(contacts(train_extra=[extract("Thanks!", {})]), extraction={"expect_empty": ["phone", "email"]})
    table = {row["key"]: row for row in result.summaries["subgroups"]["keys"]["rows"]}
    assert list(table)[:2] == ["phone", "email"]  # the keys you named first
    # phone: never missing in train (the `{}` lacks it: absent counts), absent from test's `{}`
    assert table["phone"]["status"] == "ok" and table["email"]["status"] == "ok"
    result = analyze(contacts(), extraction={"expect_empty": ["phone"], "expect_empty_answer": False})
    [finding] = found(result, "SUB007")
    assert finding.path == "data/train.jsonl"
    assert finding.message == (
        "Key 'phone' is never null, empty or absent in train: all 8 JSON answers give it a value, so an input "
        "without one is never learned. Add train examples whose input lacks it and whose answer has 'phone': null."
    )
    assert {row["key"]: row["status"] for row in result.summaries["subgroups"]["keys"]["rows"]}["phone"] == "MISSING"


def test_an_expected_key_in_no_answer_is_a_misspelling(contacts):
    result = analyze(contacts(train_extra=[extract("Thanks!", {})]), extraction={"expect_empty": ["phnoe"]})
    [finding] = found(result, "SUB007")
    assert finding.path == "data/"
    assert finding.message == (
        "Key 'phnoe' of [tool.ftdata.extraction] expect_empty is in no JSON answer of the dataset; check its "
        "spelling against one answer (top-level keys only)."
    )


def test_only_extraction_datasets_get_the_key_table(contacts, dataset, chat):
    assert "keys" not in analyze(contacts(), task="generation").summaries["subgroups"]
    assert not found(analyze(contacts(), task="generation", extraction={"expect_empty": ["phone"]}), "SUB007")
    # text answers forced to extraction: a table of no keys, and no finding about JSON answers there are not
    forced = analyze(dataset("text", train=[chat(q, "Open the settings.") for q in QUESTIONS]), task="extraction")
    keys = forced.summaries["subgroups"]["keys"]
    assert keys["rows"] == [] and keys["objects"] == {"train": 0} and keys["not_objects"] == {"train": 25}
    assert not found(forced, "SUB007")


def test_the_key_table_is_bounded_and_redacted(contacts, monkeypatch):
    monkeypatch.setattr(subgroups_module, "MAX_KEYS", 5)  # name, phone, email, the e-mail key, the long key
    long_key = "k" * 5000
    wide = {"name": "A", "phone": "1", "jane.doe@corp-mail.com": "x", long_key: 1, long_key + "2": 2,
            **{f"extra_{n}": n for n in range(50)}}
    result = analyze(contacts(train_extra=[extract("Everything at once.", wide), extract("Thanks!", {})]))
    keys = result.summaries["subgroups"]["keys"]
    assert len(keys["rows"]) == 5 and keys["truncated"] is True
    names = [row["key"] for row in keys["rows"]]
    assert "jane.doe@corp-mail.com" not in json.dumps(keys) and any(name.startswith("[email") for name in names)
    cut = [name for name in names if name.startswith("kkk")]
    # two keys that agree on their first characters are cut to one, counted once per answer
    assert cut and all(len(name) <= subgroups_module.MAX_KEY_CHARS for name in cut)
    row = next(row for row in keys["rows"] if row["key"] == cut[0])
    assert row["present"]["train"] == 1 and row["absent"]["train"] == keys["objects"]["train"] - 1
    assert any("more than 5 (the rest are not tracked)" in line for line in render_coverage(run_report(result)))


def test_key_table_in_terminal_markdown_and_html(contacts):
    result = analyze(contacts(), extraction={"expect_empty": ["phone"]})
    report = run_report(result)
    lines = render_coverage(report)
    start = lines.index("keys of the JSON answers: 3 top-level keys")
    assert lines[start + 1] == KEYS_NOTE
    table = {line.split()[0]: line.split()[1:] for line in lines[start + 4 : start + 8]}
    # phone: train 100% set; test 75% set, 25% absent (the `{}`)
    assert table["phone"] == ["*", "100/0/0", "75/0/25", "MISSING"]
    assert table["email"] == ["25/25/50", "0/0/100", "-"]
    assert table["(empty"] == ["answer)", "0", "(0%)", "1", "(25.0%)", "MISSING"]
    assert all(len(line) <= 80 for line in lines[start : start + 9])
    missing_only = render_coverage(report, missing_only=True)
    assert any(line.startswith("phone *") for line in missing_only) and not any(line.startswith("email") for line in missing_only)
    md = render_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith("| phone"))
    assert [cell.strip() for cell in row.strip("|").split("|")] == ["phone \\*", "100/0/0", "75/0/25", "**MISSING**"]
    page = render_html(report)
    assert "<h3>keys of the JSON answers: 3 top-level keys</h3>" in page
    assert '<td class="name" title="phone *">phone *</td><td>100/0/0</td><td>75/0/25</td><td class="status s-MISSING">MISSING</td>' in page


# -- a whole run, as a user sees it ------------------------------------------------------------------------


REPORTS = ("--ftdata-report", "term", "--ftdata-report", "json:out/ftdata.json",
           "--ftdata-report", "md:out/ftdata.md", "--ftdata-report", "html:out/ftdata.html")


def section(output: str) -> str:
    match = re.search(r"^=+ pytest-ftdata =+$(.*?)(?=^=+ (short test summary|\d+ (passed|failed)))", output, re.M | re.S)
    assert match, output
    return match.group(1)


def test_extraction_run_in_every_mode(pytester, run_mode, write_jsonl):
    """An extraction dataset of near-copies without an empty answer: the key table, the
    effective counts and both warnings, the same in every report and every run mode."""
    train = [extract(f"Call Person {n} on 555-01{n:02d} about the invoice.", {"name": f"Person {n}", "phone": f"555-01{n:02d}"})
             for n in range(24)]
    test = [extract("Maria Rossi left 555-0199.", {"name": "Maria Rossi", "phone": "555-0199"}),
            extract("No contact details in this note.", {"name": None, "phone": None})]
    write_jsonl(pytester.path / "data" / "train.jsonl", train)
    write_jsonl(pytester.path / "data" / "test.jsonl", test)
    pytester.makepyprojecttoml('[tool.ftdata]\nmin_split_size = {test = 1}\nsplit_ratios = {}\n'
                               '[tool.ftdata.extraction]\nexpect_empty = ["phone"]\n')
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "term:full", *REPORTS, *QUIET_PLUGINS)
    output = result.stdout.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output
    text = section(output)
    assert "data/train.jsonl: SUB007 No example of train has an empty answer (of 24 examples, 24 JSON answers)" in text
    assert "data/train.jsonl: SUB007 Key 'phone' is never null, empty or absent in train" in text
    assert "data/: SUB006 Subgroup `split` = 'train' has 24 examples, but only 1 remain" in text
    lines = text.splitlines()
    assert EFFECTIVE_NOTE in lines
    start = lines.index("keys of the JSON answers: 2 top-level keys")
    table = {line.split()[0]: line.split()[1:] for line in lines[start + 4 : start + 7]}
    assert table["phone"] == ["*", "100/0/0", "50/50/0", "MISSING"] and table["name"] == ["100/0/0", "50/50/0", "-"]
    report = json.loads((pytester.path / "out" / "ftdata.json").read_text(encoding="utf-8"))
    [data] = report["subgroups"]["datasets"]
    assert data["effective_examples"] == {"train": 1, "test": 2}
    assert data["keys"]["empty_answers"] == {"train": 0, "test": 1} and data["keys"]["empty_answer_status"] == "MISSING"
    assert {f["rule"] for f in report["findings"] if f["check"] == "subgroups"} == {"SUB006", "SUB007"}
    md = (pytester.path / "out" / "ftdata.md").read_text(encoding="utf-8")
    assert "**keys of the JSON answers: 2 top-level keys**" in md and "| phone \\*" in md
    page = (pytester.path / "out" / "ftdata.html").read_text(encoding="utf-8")
    assert "<h3>keys of the JSON answers: 2 top-level keys</h3>" in page
    if run_mode.name != "serial":
        serial = pytester.runpytest("--ftdata", "data", "--ftdata-report", "term:full", *REPORTS, *QUIET_PLUGINS)
        assert section(serial.stdout.str()) == text
        again = json.loads((pytester.path / "out" / "ftdata.json").read_text(encoding="utf-8"))
        assert again["subgroups"] == report["subgroups"] and again["findings"] == report["findings"]
        assert (pytester.path / "out" / "ftdata.md").read_text(encoding="utf-8") == md
        assert (pytester.path / "out" / "ftdata.html").read_text(encoding="utf-8") == page


# -- real data ------------------------------------------------------------------------------------------------

#: The JSON Lines datasets of ../shared/datasets, as the plugin reads them.
REAL = {
    "alpaca_libre": ["alpaca_libre_tasks_v3.jsonl"],
    "gsm8k": ["train.jsonl", "test.jsonl"],
    "gsm8k_chat_foundry": ["chat_train.jsonl", "chat_validation.jsonl"],
    "openai_toy_chat": ["toy_chat_fine_tuning.jsonl"],
    "orca_dpo_foundry": ["validation.jsonl"],
    "self_instruct": ["seed_tasks.jsonl", "user_oriented_instructions.jsonl"],
    "stock_toolcall_foundry": ["stock_toolcall_training.jsonl", "stock_toolcall_validation.jsonl"],
    "hh_rlhf_harmless": ["harmless-base/test.jsonl.gz"],
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_datasets_get_no_empty_case_noise(shared_datasets, tmp_path, name):
    """None of the real datasets is extraction data: none is detected as such, and forced to
    it, none of their answers is a JSON object, so nothing is said about missing empty cases."""
    data = tmp_path / name
    data.mkdir()
    for file in REAL[name]:
        shutil.copy(shared_datasets / name / "raw" / file, data)
    auto = analyze(data)
    assert auto.task.task != "extraction" and "keys" not in auto.summaries["subgroups"]
    forced = analyze(data, task="extraction")
    keys = forced.summaries["subgroups"]["keys"]
    assert not any(keys["objects"].values()) and keys["rows"] == []
    assert not found(auto, "SUB007") and not found(forced, "SUB007")


def test_real_tool_call_data_counts_its_behaviours(shared_datasets, tmp_path):
    """stock_toolcall (function calling): tool calls, questions back for the ticker
    symbol, and apologies that it cannot (SOURCE.md: the system prompt asks for clarification)."""
    data = tmp_path / "stock"
    data.mkdir()
    for file in REAL["stock_toolcall_foundry"]:
        shutil.copy(shared_datasets / "stock_toolcall_foundry" / "raw" / file, data)
    table = {name: row["total"] for name, row in rows(analyze(data), "behaviour").items()}
    assert sum(table.values()) == 96
    assert table["tool-call"] == 41 and table["clarifying-question"] >= 30 and table["refusal"] >= 5


def test_hostile_json_answers_are_counted_not_crashed(dataset):
    nested = '{"a": ' + "[" * 1000 + "]" * 1000 + ', "b": 1}'
    root = dataset(train=[extract("x", nested), extract("y", "{" * 100_000), extract("z", {"a": 1, "b": None}),
                          extract("w", '{"a": 1, "a": null, "b": 2}')])
    result = analyze(root, task="extraction")
    assert not [f for f in result.all_findings() if f.rule == "CHK002"]
    keys = result.summaries["subgroups"]["keys"]
    assert keys["objects"] == {"train": 3} and keys["not_objects"] == {"train": 1}
    table = {row["key"]: row for row in keys["rows"]}
    assert table["a"]["empty"] == {"train": 2} and table["a"]["present"] == {"train": 1}  # the last "a" wins, as in JSON
