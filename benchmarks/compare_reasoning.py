"""Dump what the reasoning check finds, under two checkouts, and diff the dumps.

    python3 benchmarks/compare_reasoning.py                      # this checkout against /work/main
    python3 benchmarks/compare_reasoning.py --against ../main --seeds 1 2 3
    python3 benchmarks/compare_reasoning.py --dump out.json      # only dump, with this checkout

A change made for speed must not change a finding. This script runs, in one fresh
subprocess per checkout (PYTHONPATH set to it, so each imports its own
`pytest_ftdata`):

1. the `reasoning` family through `analyze_dataset` on every dataset folder given
   (default: ../shared/datasets/gsm8k/raw and, when present,
   ../shared/datasets/gsm8k_chat_foundry/raw), recording every finding's rule, path,
   line, message and excerpt;
2. `check_reasoning` on every GSM8K answer, with and without its question, and on
   the answers of bench_reasoning's planted faults for each `--seeds`, recording
   every field of the report (errors, final answer, derivation, counters, computed
   values and `values`): stricter than the findings, which are capped and worded.

Then it prints the number of records each side dumped and every difference; exit
status 1 when there is one, 2 when a side could not run. The data is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
DEFAULT_FOLDERS = [SHARED / "gsm8k" / "raw", SHARED / "gsm8k_chat_foundry" / "raw"]


def dump(folders: list[Path], seeds: list[int], per_kind: int) -> dict:
    """Everything this interpreter's `pytest_ftdata` finds (run in the subprocess)."""
    import orjson

    from pytest_ftdata.arithmetic import check_reasoning
    from pytest_ftdata.config import validate
    from pytest_ftdata.engine import analyze_dataset

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_reasoning import load_gsm8k, plant_faults

    out: dict = {"findings": [], "reports": []}
    for folder in folders:
        if not folder.is_dir():
            continue
        files = sorted(folder.glob("*.jsonl"))
        result = analyze_dataset(folder, files, validate({}, "compare", None), folder.parent, families=("reasoning",))
        for name in sorted(result.files):
            for finding in result.files[name].findings.get("reasoning", []):
                out["findings"].append(
                    [folder.parent.name, finding.rule, finding.path, finding.line, finding.message, finding.excerpt]
                )

    def report(where: str, text: str, question: str | None) -> list:
        r = check_reasoning(text, question)
        final = r.final_answer
        return [
            where,
            [[e.kind, e.start, e.end, e.equation, e.stated, e.correct] for e in r.errors],
            None if final is None else [final.marker, final.text, str(final.value), final.start, final.end],
            r.final_answer_derived, r.annotations_checked, r.prose_checked, r.unverifiable, r.truncated,
            [str(value) for value in r.computed], [str(value) for value in r.values],
        ]

    gsm8k = SHARED / "gsm8k" / "raw"
    if (gsm8k / "train.jsonl").is_file():
        rows = load_gsm8k(gsm8k)
        for name, number, record in rows:
            out["reports"].append(report(f"{name}:{number}", record["answer"], None))
            out["reports"].append(report(f"{name}:{number}+q", record["answer"], record["question"]))
        records = [record for _, _, record in rows]
        for seed in seeds:
            planted, truth = plant_faults(records, seed, per_kind)
            for fault in truth:
                record = planted[fault["row"]]
                out["reports"].append(report(f"seed {seed} row {fault['row']}", record["answer"], record["question"]))
    return out


def run_side(checkout: Path, args, target: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [
        sys.executable, str(Path(__file__).resolve()), "--dump", str(target),
        "--per-kind", str(args.per_kind), "--seeds", *map(str, args.seeds),
        "--folders", *map(str, args.folders),
    ]
    done = subprocess.run(command, env=env, cwd=checkout, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{checkout}: exit {done.returncode}\n{done.stderr[-3000:]}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, default=ROOT.parent / "main", help="the reference checkout")
    parser.add_argument("--folders", type=Path, nargs="+", default=DEFAULT_FOLDERS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--dump", type=Path, help="write this checkout's dump here and stop")
    args = parser.parse_args(argv)

    if args.dump:
        args.dump.write_text(json.dumps(dump(args.folders, args.seeds, args.per_kind)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.json", Path(tmp) / "theirs.json"
        if not (run_side(ROOT, args, ours) and run_side(args.against.resolve(), args, theirs)):
            return 2
        mine, reference = json.loads(ours.read_text()), json.loads(theirs.read_text())
    differences = 0
    for section in ("findings", "reports"):
        a, b = mine[section], reference[section]
        print(f"{section}: {len(a)} here, {len(b)} in {args.against}")
        for index in range(max(len(a), len(b))):
            left = a[index] if index < len(a) else None
            right = b[index] if index < len(b) else None
            if left != right:
                differences += 1
                if differences <= 20:
                    print(f"  differs at {index}:\n    here:      {left}\n    reference: {right}")
    rules: dict[str, int] = {}
    for finding in mine["findings"]:
        key = f"{finding[0]} {finding[1]}"
        rules[key] = rules.get(key, 0) + 1
    print("findings here by dataset and rule:", dict(sorted(rules.items())))
    print(f"{differences} difference(s)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
