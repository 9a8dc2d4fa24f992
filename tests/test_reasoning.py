"""`reasoning`: wrong arithmetic in targets, and final answers that are missing or come from nowhere.

The arithmetic itself is tested in test_arithmetic.py; here the family: which turns it
reads, when a file's final-answer shape holds, what the findings say, that they never
quote private data, and what it reports on GSM8K as published (and on faults planted
into it at known lines).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset

SOLVED = [
    ("Natalia sold clips to 48 friends in April and half as many in May. How many in all?",
     "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72"),
    ("Weng earns $12 an hour. She babysat 50 minutes. How much did she earn?",
     "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nShe earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10"),
    ("A baker makes 3 trays of 12 muffins and sells 29. How many are left?",
     "He makes 3 * 12 = <<3*12=36>>36 muffins.\nHe has 36 - 29 = <<36-29=7>>7 left.\n#### 7"),
    ("A train goes 60 km an hour for 2.5 hours. How far does it go?",
     "It goes 60 * 2.5 = <<60*2.5=150>>150 km.\n#### 150"),
    ("Betty has $50 and buys a book for $18 and a pen for $25. How much is left?",
     "She spent 18 + 25 = $<<18+25=43>>43.\nShe has 50 - 43 = $<<50-43=7>>7 left.\n#### 7"),
]


def qa(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer}


@pytest.fixture
def run_reasoning(write_jsonl):
    """The reasoning findings of one `train.jsonl` of `records`."""

    def run(tmp_path: Path, records, **config) -> list:
        path = write_jsonl(tmp_path / "data" / "train.jsonl", records)
        result = analyze_dataset(path.parent, [path], validate(config, "test", None), tmp_path, families=("reasoning",))
        return result.files["data/train.jsonl"].findings["reasoning"]

    return run


def test_a_clean_file_has_no_findings(tmp_path, run_reasoning):
    assert run_reasoning(tmp_path, [qa(*pair) for pair in SOLVED]) == []


def test_a_wrong_annotation_is_an_error_with_the_correct_value(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records[2] = qa(SOLVED[2][0], SOLVED[2][1].replace("<<3*12=36>>36", "<<3*12=38>>38"))
    [finding] = run_reasoning(tmp_path, records)
    assert (finding.rule, finding.name, finding.check, finding.severity, finding.line) == (
        "RSN001", "arithmetic-error", "reasoning", "error", 3,
    )
    assert "`<<3*12=38>>` in the target `answer` gives 38, but the exact result is 36" in finding.message
    assert "3 * 12 = <<3*12=38>>38" in finding.excerpt


def test_a_number_after_a_right_annotation_that_disagrees_is_an_error(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records[0] = qa(SOLVED[0][0], SOLVED[0][1].replace("<<48/2=24>>24", "<<48/2=24>>26"))
    [finding] = run_reasoning(tmp_path, records)
    assert finding.rule == "RSN001" and finding.line == 1
    assert "writes 26 right after the annotation" in finding.message and "whose result is 24" in finding.message


def test_a_wrong_equation_in_prose_is_a_warning_that_says_it_was_read_from_prose(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records[4] = qa(SOLVED[4][0], "She spent 18 + 25 = $44.\nShe has 50 - 43 = $<<50-43=7>>7 left.\n#### 7")
    [finding] = run_reasoning(tmp_path, records)
    assert (finding.rule, finding.name, finding.severity, finding.line) == ("RSN002", "prose-arithmetic-error", "warning", 5)
    assert "`18 + 25 = $44`" in finding.message and "exact result is 43" in finding.message
    assert "read from prose" in finding.message


def test_a_target_without_the_files_final_answer_is_an_error(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED * 2]
    records.append(qa(SOLVED[1][0], SOLVED[1][1].replace("\n#### 10", "")))
    records.append(qa("What is 2 + 2?", "2 + 2 = <<2+2=4>>4\n\\boxed{4}"))
    found = run_reasoning(tmp_path, records)
    missing = [f for f in found if f.rule == "RSN003"]
    assert [f.line for f in missing] == [11, 12]
    assert "ends in no final answer, while 10 of the file's 12 targets end in `#### <answer>`" in missing[0].message
    assert "ends in `\\boxed{<answer>}`" in missing[1].message


def test_final_answer_shapes_that_hold_for_no_clear_majority_are_not_judged(tmp_path, run_reasoning):
    marked = [qa(*pair) for pair in SOLVED[:3]]
    unmarked = [qa(q, a.rsplit("\n####", 1)[0]) for q, a in SOLVED[3:]]
    # 3 of 5 end in a marker: no shape holds for the file, so no target lacks it
    assert run_reasoning(tmp_path, marked + unmarked) == []
    # too few targets to say
    assert run_reasoning(tmp_path, [qa(*SOLVED[0]), qa(SOLVED[1][0], "It is 10.")]) == []


def test_an_underived_final_answer_is_a_warning_only_where_answers_end_in_a_marker(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records[0] = qa(SOLVED[0][0], SOLVED[0][1].replace("#### 72", "#### 66"))
    [finding] = run_reasoning(tmp_path, records)
    assert (finding.rule, finding.name, finding.severity, finding.line) == ("RSN004", "final-answer-not-derived", "warning", 1)
    assert "`#### 66`" in finding.message and "needs a person" in finding.message
    # one answer that states a number nothing computes, in a file that does not end answers in markers
    chat_like = [qa(f"Question {n}?", f"A free answer number {n}.") for n in range(10)]
    chat_like.append(qa("Meaning of life?", "The answer is 42."))
    assert run_reasoning(tmp_path, chat_like) == []


def test_a_target_met_again_is_reported_at_every_line_as_if_checked_there(tmp_path, run_reasoning, monkeypatch):
    """The family judges a repeated (answer, question) once; its findings are those of
    checking every copy, at every copy's line, in chat records as in qa ones."""
    from pytest_ftdata.families import reasoning

    wrong = qa(SOLVED[2][0], SOLVED[2][1].replace("<<3*12=36>>36", "<<3*12=38>>38"))
    underived = qa(SOLVED[0][0], SOLVED[0][1].replace("#### 72", "#### 66"))
    unmarked = qa(SOLVED[1][0], SOLVED[1][1].replace("\n#### 10", ""))
    records = [qa(*pair) for pair in SOLVED] * 3 + [wrong, underived, unmarked] * 3
    records.insert(4, qa("Another question with 12 and 3?", wrong["answer"]))  # same answer, other question
    chats = [{"messages": [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["answer"]}]}
             for r in records]

    def shown(found):
        return [(f.rule, f.line, f.message, f.excerpt) for f in found]

    remembered = [shown(run_reasoning(tmp_path / "a", records)), shown(run_reasoning(tmp_path / "b", chats))]
    monkeypatch.setattr(reasoning, "MEMO_TARGETS", 0)
    fresh = [shown(run_reasoning(tmp_path / "c", records)), shown(run_reasoning(tmp_path / "d", chats))]
    assert remembered == fresh
    lines = sorted(line for rule, line, _, _ in remembered[0] if rule == "RSN001")
    assert lines == [5, 17, 20, 23]
    assert sorted(line for rule, line, _, _ in remembered[0] if rule == "RSN004") == [18, 21, 24]
    assert sorted(line for rule, line, _, _ in remembered[0] if rule == "RSN003") == [19, 22, 25]


def test_the_familys_memo_is_bounded(tmp_path, run_reasoning, monkeypatch):
    from pytest_ftdata.config import validate
    from pytest_ftdata.families import reasoning
    from pytest_ftdata.families.base import FileContext, FileInfo
    from pytest_ftdata.formats import make_example

    monkeypatch.setattr(reasoning, "MEMO_TARGETS", 10)
    monkeypatch.setattr(reasoning, "MEMO_CHARS", 2000)
    family = reasoning.ReasoningFamily(FileContext(FileInfo("t.jsonl", tmp_path / "t.jsonl", "train"), validate({}, "t", None)))
    for number in range(1, 200):
        record = qa(f"What is {number} + 1?", f"It is {number} + 1 = <<{number}+1={number + 1}>>{number + 1}.\n#### {number + 1}")
        family.visit(make_example("t.jsonl", number, record, "qa"))
        assert len(family.reports) <= 10 and family.remembered_chars <= 2000
    family.visit(make_example("t.jsonl", 200, qa("Q?", "Words. " * 5000 + "1 + 1 = 2\n#### 2"), "qa"))
    assert len(family.reports) <= 10 and family.remembered_chars <= 2000
    assert family.finish() == []


def test_an_answer_in_cents_for_a_dollar_computation_is_derived(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records.append(qa("A pen costs $0.50 and is 25 cents off. What does it cost, in cents?",
                      "It costs $<<0.50-.25=0.25>>0.25.\n#### 25"))
    assert run_reasoning(tmp_path, records) == []


def test_every_answer_turn_of_a_conversation_is_checked_but_no_rejected_answer(tmp_path, run_reasoning):
    conversation = {"messages": [
        {"role": "user", "content": "What is 6 x 7?"},
        {"role": "assistant", "content": "6 x 7 = <<6*7=41>>41"},
        {"role": "user", "content": "And 2 + 2?"},
        {"role": "assistant", "content": "2 + 2 = <<2+2=4>>4"},
    ]}
    pair = {"prompt": "What is 6 x 7?", "chosen": "6 x 7 = <<6*7=42>>42", "rejected": "6 x 7 = <<6*7=41>>41"}
    found = run_reasoning(tmp_path, [conversation, pair])
    assert [(f.rule, f.line) for f in found] == [("RSN001", 1)]
    assert "turn `messages[1]` (assistant)" in found[0].message


def test_findings_never_quote_a_secret_beside_an_equation(tmp_path, run_reasoning):
    key = "sk-proj-Q7fT2mZk9LwR4bXc8VnP3sYh6JdA1eGu5KoI0tWq"
    records = [qa(*pair) for pair in SOLVED]
    records[0] = qa(SOLVED[0][0], f"Use the key {key} then 48/2 = <<48/2=25>>25 clips.\n#### 25")
    [finding] = run_reasoning(tmp_path, records)
    shown = json.dumps(finding.to_dict())
    assert finding.rule == "RSN001"
    for piece in (key, key[8:], key[-16:]):
        assert piece not in shown


def test_hostile_targets_are_bounded(tmp_path, run_reasoning):
    records = [qa(*pair) for pair in SOLVED]
    records.append(qa("?", "9^9^9^9 = <<9^9^9^9=1>>1 " + "= " * 200_000 + "\n#### 1"))
    records.append(qa("?", "<<" + "(" * 5000 + "1" + ")" * 5000 + "=1>>1\n#### 1"))
    records.append(qa("?", "1" * 5000 + " + 1 = 2\n#### 2"))
    found = run_reasoning(tmp_path, records)
    assert {f.rule for f in found} <= {"RSN001", "RSN002", "RSN003", "RSN004"}


def test_the_check_runs_as_an_item_in_every_run_mode(pytester, run_mode, write_jsonl):
    records = [qa(*pair) for pair in SOLVED]
    records[3] = qa(SOLVED[3][0], SOLVED[3][1].replace("<<60*2.5=150>>150", "<<60*2.5=140>>140"))
    write_jsonl(pytester.path / "data" / "train.jsonl", records)
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report", "json:report.json", "-p", "no:cacheprovider", "-v")
    result.stdout.re_match_lines([r".*(FAILED data/train\.jsonl::reasoning|data/train\.jsonl::reasoning FAILED)"])
    report = json.loads((pytester.path / "report.json").read_text())
    [finding] = [f for f in report["findings"] if f["check"] == "reasoning"]
    assert (finding["rule"], finding["name"], finding["line"]) == ("RSN001", "arithmetic-error", 4)
    assert [f["task"] for f in report["files"]] == ["reasoning"]
    result.assert_outcomes(failed=1, passed=11)  # the versions check is one more dataset item


# -- GSM8K as published, and with faults planted at known lines ---------------------------

#: The final answers of GSM8K that nothing before them computes (benchmarks/README_reasoning.md).
GSM8K_UNDERIVED = {("train.jsonl", line) for line in (357, 1155, 2771, 4797, 5351)}


@pytest.fixture(scope="module")
def gsm8k(shared_datasets, tmp_path_factory) -> Path:
    source = shared_datasets / "gsm8k" / "raw"
    if not (source / "train.jsonl").is_file():
        pytest.skip("GSM8K is not beside the repo")
    root = tmp_path_factory.mktemp("gsm8k") / "data"
    root.mkdir()
    for name in ("train.jsonl", "test.jsonl"):
        (root / name).write_bytes((source / name).read_bytes())
    return root


def _reasoning_findings(root: Path) -> list:
    files = sorted(root.glob("*.jsonl"))
    result = analyze_dataset(root, files, validate({}, "test", None), root.parent, families=("reasoning",))
    return result.all_findings()


def test_gsm8k_as_published(gsm8k):
    found = _reasoning_findings(gsm8k)
    by_rule = {}
    for finding in found:
        by_rule.setdefault(finding.rule, []).append((Path(finding.path).name, finding.line))
    assert "RSN001" not in by_rule  # its 27,998 calculator annotations all hold
    assert "RSN003" not in by_rule  # every answer ends in `#### <answer>`
    assert set(by_rule["RSN004"]) == GSM8K_UNDERIVED
    assert len(by_rule["RSN002"]) == 20  # real slips in the prose, listed in benchmarks/README_reasoning.md


def test_gsm8k_with_planted_faults(gsm8k, tmp_path):
    """Wrong annotation results and answers nothing derives, planted at random lines."""
    rows = (gsm8k / "train.jsonl").read_text().splitlines()
    rng = random.Random(7)
    annotation = re.compile(r"<<([^<>=]+)=([0-9.]+)>>([0-9.]+)")
    planted_arithmetic, planted_answers = set(), set()
    for index in rng.sample(range(len(rows)), 300):
        record = json.loads(rows[index])
        line = index + 1
        if (Path("train.jsonl").name, line) in GSM8K_UNDERIVED:
            continue
        if len(planted_arithmetic) < 150:
            match = annotation.search(record["answer"])
            if not match or "." in match.group(2) or match.group(2) != match.group(3):
                continue
            wrong = str(int(match.group(2)) + rng.randint(1, 9))
            start, end = match.span()
            record["answer"] = record["answer"][:start] + f"<<{match.group(1)}={wrong}>>{wrong}" + record["answer"][end:]
            planted_arithmetic.add(line)
        else:
            body, _, answer = record["answer"].rpartition("#### ")
            if not answer.strip().isdigit():
                continue
            numbers = set(re.findall(r"\d+", body + record["question"]))
            wrong = next(str(n) for n in range(int(answer) * 3 + 7, 10**9) if str(n) not in numbers)
            record["answer"] = f"{body}#### {wrong}"
            planted_answers.add(line)
        rows[index] = json.dumps(record)
    root = tmp_path / "data"
    root.mkdir()
    (root / "train.jsonl").write_text("\n".join(rows) + "\n")
    found = _reasoning_findings(root)
    arithmetic = {f.line for f in found if f.rule == "RSN001"}
    underived = {f.line for f in found if f.rule == "RSN004"}
    assert planted_arithmetic and planted_arithmetic <= arithmetic
    assert arithmetic == planted_arithmetic  # nothing else in GSM8K's annotations is wrong
    assert len(planted_answers & underived) >= 0.9 * len(planted_answers) > 0
