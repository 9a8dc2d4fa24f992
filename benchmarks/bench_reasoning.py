"""Benchmark `pytest_ftdata.arithmetic` on GSM8K: false positives, planted faults, cost.

    python3 benchmarks/bench_reasoning.py                       # everything, 1M examples for the cost
    python3 benchmarks/bench_reasoning.py --examples 100000     # quicker cost figure
    python3 benchmarks/bench_reasoning.py --seeds 7 11 --per-kind 300 --skip-cost
    python3 benchmarks/bench_reasoning.py --list-errors --list-underived

Prints four tables:

1. The original GSM8K train+test (read-only, from --gsm8k): annotations found and
   checked, prose steps checked, unverifiable equations, errors reported by kind,
   and final answers reported as not derived (each listed with --list-underived).
2. Planted faults, one per chosen line, for each seed: a wrong calculator result
   (annotation and the number after it changed together), a wrong number after a
   correct annotation, a wrong result of a prose equation, and a final answer that
   nothing derives. Recall per kind; an arithmetic fault counts as found when an
   error of any kind overlaps the planted span.
3. Cost: the reasoning family (each line parsed, made an Example and visited, less
   the same loop without the visit) and `check_reasoning` over --examples answers
   (GSM8K repeated) against `orjson.loads` over the same JSON lines, best of
   --repeat, process CPU time; then the family and `check_reasoning` again over
   --cold-examples answers with every memo off, as on data that never repeats an
   annotation, a prose line or a target.

The planter is deliberately independent of the module: its own regular expressions
find the equations, and it verifies with `fractions` that an equation holds before
planting into it, so a blind spot of the parser shows up as a missed fault rather
than being planted around. Exit status 1 when a target is missed: zero annotation
errors on GSM8K, 100% recall of planted arithmetic faults, at least 90% of planted
underived final answers.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_ftdata import arithmetic  # noqa: E402
from pytest_ftdata.arithmetic import check_reasoning  # noqa: E402
from pytest_ftdata.config import validate  # noqa: E402
from pytest_ftdata.families import reasoning  # noqa: E402
from pytest_ftdata.families.base import FileContext, FileInfo  # noqa: E402
from pytest_ftdata.families.reasoning import ReasoningFamily  # noqa: E402
from pytest_ftdata.formats import make_example  # noqa: E402

DEFAULT_GSM8K = ROOT.parent / "shared" / "datasets" / "gsm8k" / "raw"

# -- the planter's own readers -----------------------------------------------------------------

_ANNOTATION = re.compile(r"<<([^<>=]+)=([^<>=]+)>>(-?[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)?")
# `48 + 24 = 72`, `$1,200 x 2 + 300 = $2,700`: two to five plain operands, no
# annotation after the `=`, and no operator or digit glued to either end.
_OPERAND = r"\$?[0-9][0-9,]*(?:\.[0-9]+)?"
_PROSE = re.compile(
    rf"(?<![\w.,/$-])({_OPERAND}(?:\s?[-+*/x×]\s?{_OPERAND}){{1,4}})"
    r"\s?=\s?\$?([0-9][0-9,]*(?:\.[0-9]+)?)(?![0-9.,]?[0-9])(?!\s?[/x*+-])"
)
_FINAL = re.compile(r"\n#### (.+)\Z")
_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+")


def _number(written: str) -> Fraction | None:
    written = written.lstrip("$")
    if not re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?", written):
        return None  # `1,5`: not a number the planter trusts
    return Fraction(written.replace(",", ""))


def _exact(expression: str) -> Fraction | None:
    """The planter's own exact value of a flat expression, * and / before + and -
    (the module under test is not trusted here)."""
    parts = re.split(r"\s?([-+*/x×])\s?", expression.strip())
    numbers = [_number(part) for part in parts[0::2]]
    if any(number is None for number in numbers):
        return None
    terms, signs = [numbers[0]], []
    for operator, number in zip(parts[1::2], numbers[1:]):
        if operator in "*x×":
            terms[-1] *= number
        elif operator == "/":
            if number == 0:
                return None
            terms[-1] /= number
        else:
            signs.append(operator)
            terms.append(number)
    total = terms[0]
    for sign, term in zip(signs, terms[1:]):
        total = total + term if sign == "+" else total - term
    return total


def _perturb(written: str, rng: random.Random) -> str:
    """A plausible wrong result: an offset, a slipped digit, a doubled or halved value."""
    value = Fraction(written.replace(",", ""))
    decimals = len(written.partition(".")[2])
    style = rng.choice(("offset", "offset", "digit", "scale"))
    for _ in range(50):
        if style == "offset":
            step = Fraction(1, 10**decimals)
            candidate = value + step * rng.choice((-10, -5, -3, -2, -1, 1, 2, 3, 5, 10))
        elif style == "digit":
            digits = list(written.replace(",", ""))
            positions = [i for i, c in enumerate(digits) if c.isdigit()]
            position = rng.choice(positions)
            digits[position] = rng.choice([d for d in "0123456789" if d != digits[position]])
            if digits[0] == "0" and len(digits) > 1 and digits[1] != ".":
                continue
            candidate = Fraction("".join(digits))
        else:
            candidate = value * rng.choice((2, Fraction(1, 2), 3)) if value else Fraction(rng.randint(1, 9))
        if candidate != value and candidate >= 0 and candidate.denominator in (1, 2, 4, 5, 10, 20, 25, 50, 100):
            break
    else:
        candidate = value + 1
    text = f"{float(candidate):.{decimals}f}" if decimals else str(int(candidate)) if candidate.denominator == 1 else f"{float(candidate):.2f}"
    if text.replace(",", "") == written.replace(",", "") or Fraction(text) == value:
        text = str(value + 1 if decimals == 0 else value + Fraction(1, 10**decimals))
    return text


def _is_written_rounding(written: str, exact: Fraction | None) -> bool:
    """Whether `written` is `exact` truncated or rounded at its own decimals, so that
    planting it would plant nothing (the planter's own reading of the rule)."""
    if exact is None:
        return False
    scale = 10 ** len(written.partition(".")[2])
    value = Fraction(written) * scale
    return value in (int(exact * scale), round(exact * scale), int(exact * scale) + 1) and abs(value - exact * scale) < 1


def plant_faults(rows: list[dict], seed: int, per_kind: int) -> tuple[list[dict], list[dict]]:
    """Copy `rows` (GSM8K records) and plant `per_kind` faults of each kind, each in a
    different row. Returns (planted rows, ground truth), where each truth entry names
    the row, the kind, and the span of the planted text in the new answer."""
    rng = random.Random(seed)
    planted = [dict(row) for row in rows]
    truth: list[dict] = []
    order = list(range(len(rows)))
    rng.shuffle(order)
    wanted = {"annotation": per_kind, "after-annotation": per_kind, "prose": per_kind, "underived": per_kind}
    for index in order:
        if not any(wanted.values()):
            break
        answer = planted[index]["answer"]
        kinds = [kind for kind, left in wanted.items() if left]
        rng.shuffle(kinds)
        for kind in kinds:
            result = _plant_one(answer, kind, rng)
            if result is None:
                continue
            new_answer, start, end, note = result
            planted[index] = {**planted[index], "answer": new_answer}
            truth.append({"row": index, "kind": kind, "start": start, "end": end, "note": note})
            wanted[kind] -= 1
            break
    return planted, truth


def _plant_one(answer: str, kind: str, rng: random.Random):
    if kind in ("annotation", "after-annotation"):
        candidates = []
        for match in _ANNOTATION.finditer(answer):
            expression, result, after = match.groups()
            if after is None or not re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?|\.[0-9]+", result):
                continue
            candidates.append(match)
        if not candidates:
            return None
        match = rng.choice(candidates)
        expression, result, after = match.groups()
        if kind == "annotation":
            wrong = _perturb(result.lstrip("-"), rng)
            replacement = f"<<{expression}={wrong}>>{wrong}"
            note = f"<<{expression}={result}>> -> <<{expression}={wrong}>>{wrong}"
        else:
            wrong = _perturb(after.replace(",", ""), rng)
            replacement = f"<<{expression}={result}>>{wrong}"
            note = f"after <<{expression}={result}>>: {after} -> {wrong}"
        if _is_written_rounding(wrong, _exact(expression)):
            return None  # `<<2/3=0.67>>` planted as 0.66 would still be right
        start = match.start()
        return answer[:start] + replacement + answer[match.end():], start, start + len(replacement), note
    if kind == "prose":
        candidates = []
        for match in _PROSE.finditer(answer):
            expression, result = match.groups()
            exact = _exact(expression)
            if exact is None or exact != _number(result):
                continue  # plant only into equations that hold
            candidates.append(match)
        if not candidates:
            return None
        match = rng.choice(candidates)
        result = match.group(2)
        wrong = _perturb(result.replace(",", ""), rng)
        start, end = match.span(2)
        new_answer = answer[:start] + wrong + answer[end:]
        return new_answer, match.start(), start + len(wrong), f"{match.group(0)} -> {wrong}"
    final = _FINAL.search(answer)
    if final is None:
        return None
    written = final.group(1).strip()
    if not re.fullmatch(r"-?[0-9][0-9,]*", written):
        return None
    value = int(written.replace(",", ""))
    earlier = {Fraction(number.replace(",", "")) for number in _NUMBER.findall(answer[: final.start()])}
    for _ in range(50):
        wrong = rng.choice((value + rng.randint(1, 9), value - rng.randint(1, 9), value * 2, value + 10 * rng.randint(1, 5), value * 3 // 2))
        if wrong > 0 and wrong != value and Fraction(wrong) not in earlier:
            break
    else:
        return None
    new_answer = answer[: final.start()] + f"\n#### {wrong}"
    return new_answer, final.start() + 1, len(new_answer), f"#### {written} -> #### {wrong}"


# -- measurements ------------------------------------------------------------------------------


def load_gsm8k(folder: Path) -> list[tuple[str, int, dict]]:
    rows = []
    for name in ("train", "test"):
        with open(folder / f"{name}.jsonl", "rb") as handle:
            for number, line in enumerate(handle, 1):
                rows.append((f"{name}.jsonl", number, orjson.loads(line)))
    return rows


def measure_gsm8k(rows, use_question: bool) -> dict:
    totals = {"examples": len(rows), "annotations_found": 0, "annotations_checked": 0, "prose_checked": 0,
              "unverifiable": 0, "errors": {}, "final_answers": 0, "not_derived": 0}
    errors, underived = [], []
    for name, number, record in rows:
        answer = record["answer"]
        totals["annotations_found"] += len(_ANNOTATION.findall(answer))
        report = check_reasoning(answer, record["question"] if use_question else None)
        totals["annotations_checked"] += report.annotations_checked
        totals["prose_checked"] += report.prose_checked
        totals["unverifiable"] += report.unverifiable
        for error in report.errors:
            totals["errors"][error.kind] = totals["errors"].get(error.kind, 0) + 1
            errors.append((name, number, error))
        if report.final_answer is not None:
            totals["final_answers"] += 1
        if report.final_answer_derived is False:
            totals["not_derived"] += 1
            underived.append((name, number, report.final_answer.text))
    return {"totals": totals, "errors": errors, "underived": underived}


def measure_recall(rows, seed: int, per_kind: int, use_question: bool) -> dict:
    records = [record for _, _, record in rows]
    planted, truth = plant_faults(records, seed, per_kind)
    found = {}
    missed = []
    for fault in truth:
        record = planted[fault["row"]]
        report = check_reasoning(record["answer"], record["question"] if use_question else None)
        if fault["kind"] == "underived":
            hit = report.final_answer_derived is False
        else:
            hit = any(error.start < fault["end"] and fault["start"] < error.end for error in report.errors)
        counts = found.setdefault(fault["kind"], [0, 0])
        counts[0] += hit
        counts[1] += 1
        if not hit:
            name, number, _ = rows[fault["row"]]
            missed.append((fault["kind"], f"{name}:{number}", fault["note"]))
    return {"seed": seed, "found": found, "missed": missed}


def best_cpu(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


class memos_off:
    """Every memo of the check off (and emptied): each annotation, prose window and
    target is judged as if it had never been met, the cost on data that never
    repeats itself. (A checkout without memos runs the same loops unchanged.)"""

    NAMES = ((arithmetic, "MEMO_ENTRIES"), (arithmetic, "WINDOW_MEMO_ENTRIES"), (reasoning, "MEMO_TARGETS"))

    def __enter__(self):
        self.saved = [(module, name, getattr(module, name)) for module, name in self.NAMES if hasattr(module, name)]
        for module, name, _ in self.saved:
            setattr(module, name, 0)
        getattr(arithmetic, "clear_memos", lambda: None)()

    def __exit__(self, *exc):
        for module, name, value in self.saved:
            setattr(module, name, value)
        getattr(arithmetic, "clear_memos", lambda: None)()


def measure_cost(rows, examples: int, repeat: int, cold_examples: int) -> dict:
    lines = [orjson.dumps(record) for _, _, record in rows]
    lines = (lines * (examples // len(lines) + 1))[:examples]
    answers = [orjson.loads(line)["answer"] for line in lines]
    questions = [orjson.loads(line)["question"] for line in lines]
    cold_lines = lines[:cold_examples]
    loads = orjson.loads
    config = validate({}, "bench", None)

    def parse_loop(lines=lines):
        for line in lines:
            loads(line)

    def check_loop():
        for answer in answers:
            check_reasoning(answer)

    def check_with_question_loop(count=examples):
        for answer, question in zip(answers[:count], questions[:count]):
            check_reasoning(answer, question)

    # The family as the engine runs it: each line parsed and made an Example (new
    # strings every time, as from a file), then visited. Its cost is the difference
    # between the loop with `visit` and the loop without.
    def build_loop(lines=lines):
        for number, line in enumerate(lines, 1):
            make_example("train.jsonl", number, loads(line), "qa")

    def family_loop(lines=lines):
        family = ReasoningFamily(FileContext(FileInfo("train.jsonl", Path("train.jsonl"), "train"), config))
        visit = family.visit
        for number, line in enumerate(lines, 1):
            visit(make_example("train.jsonl", number, loads(line), "qa"))
        family.finish()

    scan = re.compile(r"<<[^<>]*>>|=").findall

    def scan_loop():  # the floor of any checker: one regular-expression pass over each answer
        for answer in answers:
            scan(answer)

    no_equation = [answer.replace("=", " is ").replace("####", "so") for answer in answers]

    def plain_loop():
        for answer in no_equation:
            check_reasoning(answer)

    figures = {"examples": examples, "cold_examples": len(cold_lines)}
    figures["parse_s"] = parse = best_cpu(parse_loop, repeat)
    figures["build_s"] = build = best_cpu(build_loop, repeat)
    figures["family_with_build_s"] = best_cpu(family_loop, repeat)
    figures["check_s"] = best_cpu(check_loop, repeat)
    figures["check_question_s"] = best_cpu(check_with_question_loop, repeat)
    figures["plain_s"] = best_cpu(plain_loop, repeat)
    figures["scan_s"] = best_cpu(scan_loop, repeat)
    figures["family_s"] = figures["family_with_build_s"] - build
    with memos_off():
        figures["cold_parse_s"] = cold_parse = best_cpu(lambda: parse_loop(cold_lines), repeat)
        cold_build = best_cpu(lambda: build_loop(cold_lines), repeat)
        figures["cold_family_s"] = best_cpu(lambda: family_loop(cold_lines), repeat) - cold_build
        figures["cold_check_question_s"] = best_cpu(lambda: check_with_question_loop(len(cold_lines)), repeat)
    for key in ("family", "check", "check_question", "plain", "scan"):
        figures[f"ratio_{key}"] = figures[f"{key}_s"] / parse
    for key in ("cold_family", "cold_check_question"):
        figures[f"ratio_{key}"] = figures[f"{key}_s"] / cold_parse
    figures["us_family"] = figures["family_s"] / examples * 1e6
    figures["us_cold_family"] = figures["cold_family_s"] / max(1, len(cold_lines)) * 1e6
    figures["us_parse"] = parse / examples * 1e6
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gsm8k", type=Path, default=DEFAULT_GSM8K, help="folder with train.jsonl and test.jsonl")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="one planting per seed")
    parser.add_argument("--per-kind", type=int, default=200, help="planted faults of each kind")
    parser.add_argument("--examples", type=int, default=1_000_000, help="answers in the cost loop")
    parser.add_argument("--repeat", type=int, default=3, help="cost loops run this often; the fastest counts")
    parser.add_argument("--cold-examples", type=int, default=200_000,
                        help="answers in the cost loops with every memo off (default: %(default)s)")
    parser.add_argument("--no-question", action="store_true", help="do not pass the question to check_reasoning")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--list-errors", action="store_true", help="print every error reported on GSM8K")
    parser.add_argument("--list-underived", action="store_true", help="print every not-derived final answer")
    parser.add_argument("--list-missed", action="store_true", help="print every planted fault not found")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    if not (args.gsm8k / "train.jsonl").is_file():
        print(f"GSM8K not found in {args.gsm8k}", file=sys.stderr)
        return 2
    rows = load_gsm8k(args.gsm8k)
    use_question = not args.no_question
    ok = True
    figures: dict = {}

    baseline = measure_gsm8k(rows, use_question)
    totals = baseline["totals"]
    figures["gsm8k"] = totals
    print("GSM8K train+test (original)")
    for key, value in totals.items():
        print(f"  {key:20} {value}")
    if args.list_errors:
        for name, number, error in baseline["errors"]:
            print(f"  {name}:{number}  {error.kind}  {error.equation!r}  stated {error.stated}, correct {error.correct}")
    if args.list_underived:
        for name, number, answer in baseline["underived"]:
            print(f"  {name}:{number}  #### {answer}")
    if totals["errors"].get("annotation", 0) or totals["errors"].get("after-annotation", 0):
        ok = False

    figures["planted"] = []
    for seed in args.seeds:
        recall = measure_recall(rows, seed, args.per_kind, use_question)
        figures["planted"].append(recall)
        print(f"planted faults, seed {seed}")
        for kind, (hit, total) in recall["found"].items():
            share = hit / total if total else 0.0
            print(f"  {kind:18} {hit:4}/{total:<4} {share:7.1%}")
            if (kind == "underived" and share < 0.9) or (kind != "underived" and hit != total):
                ok = False
        if args.list_missed:
            for kind, where, note in recall["missed"]:
                print(f"    missed {kind:16} {where:18} {note}")

    if not args.skip_cost:
        cold = min(args.examples, args.cold_examples)
        cost = measure_cost(rows, args.examples, args.repeat, cold)
        figures["cost"] = cost
        print(f"cost over {cost['examples']:,} GSM8K answers (best of {args.repeat}, CPU seconds)")
        print(f"  orjson.loads loop            {cost['parse_s']:8.2f}   {cost['us_parse']:6.2f} us/example")
        print(f"  the reasoning family         {cost['family_s']:8.2f}   {cost['ratio_family']:5.1f}x the parse loop"
              f"   {cost['us_family']:6.2f} us/example")
        print(f"  check_reasoning(answer)      {cost['check_s']:8.2f}   {cost['ratio_check']:5.1f}x")
        print(f"  check_reasoning(answer, q)   {cost['check_question_s']:8.2f}   {cost['ratio_check_question']:5.1f}x")
        print(f"  the same, no `=` and no marker {cost['plain_s']:8.2f}   {cost['ratio_plain']:5.1f}x")
        print(f"  one regex pass (a floor)     {cost['scan_s']:8.2f}   {cost['ratio_scan']:5.1f}x")
        print(f"with every memo off, over the first {cost['cold_examples']:,} (nothing ever repeats)")
        print(f"  orjson.loads loop            {cost['cold_parse_s']:8.2f}")
        print(f"  the reasoning family         {cost['cold_family_s']:8.2f}   {cost['ratio_cold_family']:5.1f}x"
              f"   {cost['us_cold_family']:6.2f} us/example")
        print(f"  check_reasoning(answer, q)   {cost['cold_check_question_s']:8.2f}   {cost['ratio_cold_check_question']:5.1f}x")

    if args.json:
        def default(value):
            return str(value)
        args.json.write_text(json.dumps(figures, indent=2, default=default))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
