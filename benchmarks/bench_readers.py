"""Reader benchmark: `read_json_array` against a plain orjson loop over the same records as JSON Lines.

    python benchmarks/bench_readers.py                  # about 500 MB of chat records
    python benchmarks/bench_readers.py --megabytes 100  # while developing
    python benchmarks/bench_readers.py --repeat 5

Generates the chat dataset of benchmarks/generate.py (once per size, under
benchmarks/data/readers-<MB>/) and writes its records three ways: JSON Lines,
one JSON array pretty-printed like `json.dump(records, indent=2)` (FastChat,
Alpaca), and one compact array like `json.dump(records)`. Then measures, each
in a fresh subprocess:

- `parse loop`: `for line in open(path, "rb"): orjson.loads(line)` over the
  JSON Lines file, the floor any reader of these records pays;
- `json array (indent=2)` and `json array (compact)`: iterating
  `read_json_array` over the array files.

Each child times its own loop (so importing the plugin is not counted) and
reports wall time, CPU time (user + system) and peak RSS; the table gives their
ratios to the parse loop. With --repeat N the runs interleave and the fastest
counts. The target is about 1.5x; CPU time is the steadier figure on a shared
machine. Exits 1 when an array reader's CPU ratio is over 1.5.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.5

# Each child times its own loop: importing pytest_ftdata (the whole plugin, ~0.2 s) is no cost of the reader.
TIMED = """
import resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
records = 0
{setup}
wall, used = time.perf_counter(), cpu()
with open(sys.argv[1], "rb") as handle:
    {loop}
print(records, time.perf_counter() - wall, cpu() - used, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
PARSE_LOOP = TIMED.format(
    setup="import orjson", loop="for line in handle:\n        records += type(orjson.loads(line)) is dict"
)
ARRAY_READER = TIMED.format(
    setup="from pytest_ftdata.json_array import read_json_array",
    loop="for line, value in read_json_array(handle):\n        records += type(value) is dict",
)


def dataset(megabytes: int, seed: int) -> Path:
    """The three files of about `megabytes` MB of JSON Lines (generated once, then reused)."""
    folder = HERE / "data" / f"readers-{megabytes}"
    marker = folder / "generated.json"
    expected = {"megabytes": megabytes, "seed": seed}
    if marker.is_file() and json.loads(marker.read_text()) == expected:
        return folder
    sys.path.insert(0, str(HERE))
    from generate import generate  # benchmarks/generate.py

    examples = megabytes * 1024 * 1024 // 470  # the generator's lines are about 470 bytes
    print(f"generating {examples:,} examples under {folder} ...", flush=True)
    generate(examples, folder / "raw", seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "data.jsonl", "wb") as jsonl, open(folder / "indent2.json", "w", encoding="utf-8") as pretty, open(
        folder / "compact.json", "w", encoding="utf-8"
    ) as compact:
        pretty.write("[")
        compact.write("[")
        first = True
        for name in ("train.jsonl", "val.jsonl", "test.jsonl"):
            with open(folder / "raw" / name, encoding="utf-8") as handle:
                for line in handle:
                    record = json.loads(line)
                    jsonl.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
                    block = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n  ")
                    pretty.write(("\n  " if first else ",\n  ") + block)
                    compact.write(("" if first else ", ") + json.dumps(record, ensure_ascii=False))
                    first = False
        pretty.write("\n]\n")
        compact.write("]")
    marker.write_text(json.dumps(expected))
    return folder


def measure(code: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=HERE.parent)
    if result.returncode != 0:
        raise SystemExit(f"reading {path.name} failed:\n{result.stderr}")
    records, wall, cpu, rss_kb = result.stdout.split()
    return {"records": int(records), "wall": float(wall), "cpu": float(cpu), "rss": int(rss_kb) / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    folder = dataset(args.megabytes, args.seed)
    runs = {
        "parse loop (JSON Lines)": (PARSE_LOOP, folder / "data.jsonl"),
        "json array (indent=2)": (ARRAY_READER, folder / "indent2.json"),
        "json array (compact)": (ARRAY_READER, folder / "compact.json"),
    }
    best: dict[str, dict] = {}
    for _ in range(args.repeat):  # interleaved, so a busy spell on the machine hits every reader alike
        for name, (code, path) in runs.items():
            result = measure(code, path)
            if name not in best:
                best[name] = result
            else:  # the fastest run's times, the largest peak RSS
                best[name] = {
                    "records": result["records"],
                    "wall": min(result["wall"], best[name]["wall"]),
                    "cpu": min(result["cpu"], best[name]["cpu"]),
                    "rss": max(result["rss"], best[name]["rss"]),
                }
    floor = best["parse loop (JSON Lines)"]
    print(f"{'':26} {'MB':>6} {'records':>9} {'wall s':>7} {'ratio':>6} {'cpu s':>7} {'ratio':>6} {'peak RSS MB':>12}")
    missed = False
    for name, result in best.items():
        size = runs[name][1].stat().st_size / 1e6
        wall, cpu = result["wall"] / floor["wall"], result["cpu"] / floor["cpu"]
        print(
            f"{name:26} {size:6.0f} {result['records']:9,} {result['wall']:7.2f} {wall:6.2f} {result['cpu']:7.2f} {cpu:6.2f}"
            f" {result['rss']:12.0f}"
        )
        missed |= cpu > TARGET_RATIO
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
