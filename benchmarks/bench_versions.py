"""Versions benchmark: writing and checking `ftdata.lock`, its size, and `why` latency.

    python benchmarks/bench_versions.py                      # 1,000,000 examples
    python benchmarks/bench_versions.py --examples 100000    # while developing
    python benchmarks/bench_versions.py --json results.json

On the chat dataset of benchmarks/generate.py (the one bench_core.py uses, 80/10/10),
each measurement in a fresh subprocess (its own wall time and peak RSS):

- `parse loop`: `orjson.loads` of every line of the three files, the floor;
- `engine, no family`: `analyze_dataset(families=[])`: reading and the example view
  every check pays, with nothing to check;
- `lock write`: the engine with the `versions` family and `update_lock`, plus writing
  the lock (`write_lock`);
- `lock check`: the engine with the `versions` family comparing the data with that lock
  (the common CI run: the data is what the lock's header records, so only the header is read);
- `lock check, full`: the same with the header's file digests spoiled, so every row of the
  lock is read and matched with the data (what a run after any edit pays);
- `why build`: building and caching the `why` index of the train split;
- `why query`: in a fresh process, loading the cached index and answering 20 queries
  (model outputs made of a training example's words, half of them reworded).

- `duplicates`, `duplicates + versions`: what the versions check adds to a run that
  already checks something (the example view, built lazily, is then paid once for all).

Ratios are to the parse loop of the same run; "added" is a family's time beyond the
engine with no family (which never builds the lazy parts of the example view, so the
first family pays them: that is part of the "added" figure). Target (issue 15): the lock check adds at most 1x the parse loop (the full check is reported beside it).
Exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_core import FILES, best_of, dataset, measure  # noqa: E402  (benchmarks/bench_core.py)

TARGET_ADDED_RATIO = 1.0

WORKER = """
import json, sys, time, random
from pathlib import Path
sys.path.insert(0, {root!r})
what, folder = sys.argv[1], Path(sys.argv[2])
data = folder / "data"
from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset, dataset_files
config = validate({{}}, "bench", str(folder))
files = dataset_files(data)
started = time.perf_counter()
out = {{}}
if what == "parse":
    import orjson
    n = 0
    for path in files:
        with open(path, "rb") as handle:
            for line in handle:
                n += type(orjson.loads(line)) is dict
    out["records"] = n
elif what == "engine":
    analyze_dataset(data, files, config, folder, families=[])
elif what == "dup":
    analyze_dataset(data, files, config, folder, families=["duplicates"])
elif what == "dup-versions":
    analyze_dataset(data, files, config, folder, families=["duplicates", "versions"])
elif what == "write":
    from pytest_ftdata.families.versions import write_lock
    result = analyze_dataset(data, files, config, folder, families=["versions"], update_lock=True)
    lock = result.outputs["lock"]
    write_lock(lock["path"], lock["text"].encode("utf-8"))
elif what == "check":
    result = analyze_dataset(data, files, config, folder, families=["versions"])
    out["findings"] = len(result.findings["versions"])
    out["summary"] = result.summaries.get("versions")
elif what == "check-full":
    import re
    text = (data / "ftdata.lock").read_text()
    head, rest = text.split(chr(10), 1)
    (data / "ftdata-full.lock").write_text(re.sub('"sha256":"[0-9a-f]+"', '"sha256":"0"', head) + chr(10) + rest)
    started = time.perf_counter()
    result = analyze_dataset(data, files, validate({{"lock": "ftdata-full.lock"}}, "bench", str(folder)), folder, families=["versions"])
    out["findings"] = len(result.findings["versions"])
elif what == "why-build":
    from pytest_ftdata.why import WhyIndex, index_path, training_files
    index = WhyIndex.build(data, config, folder)
    index.save(index_path(folder / "why-cache", data, config, training_files(data, config)))
    out["examples"] = index.count
elif what == "why-query":
    from pytest_ftdata.why import WhyIndex, index_path, training_files
    from pytest_ftdata.readers import fetch_records
    loaded = time.perf_counter()
    index = WhyIndex.load(index_path(folder / "why-cache", data, config, training_files(data, config)))
    out["load_s"] = time.perf_counter() - loaded
    rng = random.Random(7)
    lines = sorted(rng.sample(range(1, index.count + 1), 20))
    records = fetch_records(data / "train.jsonl", lines)
    times, hits = [], 0
    for number, line in enumerate(lines):
        messages = records[line]["messages"]
        words = (messages[1]["content"] + " " + messages[2]["content"]).split()
        if number % 2:
            rng.shuffle(words)
            words = words[: max(3, len(words) * 2 // 3)]
        one = time.perf_counter()
        found = index.query(" ".join(words), 5, config)
        times.append(time.perf_counter() - one)
        hits += any(n.line == line for n in found)
    times.sort()
    out.update(query_median_s=times[len(times) // 2], query_max_s=times[-1], found_source=hits, queries=len(lines))
out["seconds"] = time.perf_counter() - started
print(json.dumps(out))
"""


def run(what: str, folder: Path) -> dict:
    result = measure([sys.executable, "-c", WORKER.format(root=str(HERE.parent)), what, str(folder)], folder)
    if result["returncode"] != 0:
        raise SystemExit(f"{what} failed:\n{result['stderr'][-3000:]}")
    result["out"] = json.loads(result["stdout"].strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000)
    parser.add_argument("--data-root", type=Path, default=HERE / "data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing; the fastest counts")
    parser.add_argument("--skip-why", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    folder = dataset(args.examples, args.data_root.resolve(), args.seed)
    lock = folder / "data" / "ftdata.lock"
    size_mb = sum(os.path.getsize(folder / "data" / name) for name in FILES) / 1e6
    timings = {}
    for what in ("parse", "engine", "write", "check", "check-full", "dup", "dup-versions") + (() if args.skip_why else ("why-build", "why-query")):
        timings[what] = best_of([run(what, folder) for _ in range(args.repeat)])
        print(f"{what:>10}: {timings[what]['out']['seconds']:.2f} s in-process, {timings[what]['wall_s']:.2f} s wall, "
              f"peak RSS {timings[what]['peak_rss_mb']:.0f} MB", flush=True)
    parse = timings["parse"]["out"]["seconds"]
    engine = timings["engine"]["out"]["seconds"]
    write = timings["write"]["out"]["seconds"]
    check = timings["check"]["out"]["seconds"]
    full = timings["check-full"]["out"]["seconds"]
    raw = lock.stat().st_size
    packed = len(gzip.compress(lock.read_bytes(), 6))
    results = {
        "examples": args.examples, "data_mb": round(size_mb, 1), "python": platform.python_version(),
        "parse_s": round(parse, 2), "engine_s": round(engine, 2),
        "lock_write_s": round(write, 2), "lock_check_s": round(check, 2),
        "lock_write_added_ratio": round((write - engine) / parse, 2),
        "lock_check_added_ratio": round((check - engine) / parse, 2),
        "lock_check_ratio": round(check / parse, 2),
        "lock_check_full_s": round(full, 2),
        "lock_check_full_added_ratio": round((full - engine) / parse, 2),
        "duplicates_s": round(timings["dup"]["out"]["seconds"], 2),
        "duplicates_and_versions_s": round(timings["dup-versions"]["out"]["seconds"], 2),
        "versions_added_to_duplicates_ratio": round(
            (timings["dup-versions"]["out"]["seconds"] - timings["dup"]["out"]["seconds"]) / parse, 2),
        "lock_check_peak_rss_mb": round(timings["check"]["peak_rss_mb"]),
        "lock_mb": round(raw / 1e6, 1), "lock_gzip_mb": round(packed / 1e6, 1),
        "lock_bytes_per_example": round(raw / args.examples, 1),
    }
    if not args.skip_why:
        query = timings["why-query"]["out"]
        index_file = next((folder / "why-cache").glob("*.idx"))
        results.update(
            why_build_s=round(timings["why-build"]["out"]["seconds"], 1),
            why_build_peak_rss_mb=round(timings["why-build"]["peak_rss_mb"]),
            why_index_mb=round(index_file.stat().st_size / 1e6, 1),
            why_load_s=round(query["load_s"], 3),
            why_query_median_s=round(query["query_median_s"], 3), why_query_max_s=round(query["query_max_s"], 3),
            why_found_source=f"{query['found_source']}/{query['queries']}",
        )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["versions_added_to_duplicates_ratio"] <= TARGET_ADDED_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
