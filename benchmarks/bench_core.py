"""Core benchmark: `pytest --ftdata` running schema and format, against a plain orjson parse loop.

    python benchmarks/bench_core.py                       # 1,000,000 examples (~470 MB)
    python benchmarks/bench_core.py --examples 100000     # while developing
    python benchmarks/bench_core.py --repeat 3 --json results.json

Generates the chat dataset with benchmarks/generate.py (once per size, under
benchmarks/data/core-<N>/data/, 80/10/10 train/val/test), then measures, each in a
fresh subprocess so that its wall time and peak RSS are its own:

- `parse loop`: `for line in open(path, "rb"): orjson.loads(line)` over the same
  three files: the floor any JSON Lines checker pays;
- `pytest --ftdata`: `PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -p pytest_ftdata.plugin --ftdata data -k "schema or format" -p
  no:cacheprovider -q`, the whole run a user waits for (interpreter and pytest
  start-up, collection, reading, the example view, both check families, reporting).

Peak RSS is the child's `ru_maxrss` from `os.wait4`. Targets (issue 2): pytest at
most 3x the parse loop's wall time and at most 1 GB peak RSS. With --repeat N each
measurement runs N times and the fastest run counts (peak RSS: the largest).
Exits 1 when a target is missed, 2 when the pytest run itself went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("train.jsonl", "val.jsonl", "test.jsonl")
TARGET_RATIO = 3.0
TARGET_RSS_MB = 1024.0

PARSE_LOOP = """
import sys, orjson
records = 0
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        for line in handle:
            value = orjson.loads(line)
            records += type(value) is dict
print(records)
"""


def dataset(examples: int, root: Path, seed: int) -> Path:
    """The generated dataset directory (generated once; reused while complete)."""
    folder = root / f"core-{examples}"
    data = folder / "data"
    marker = folder / "generated.json"
    expected = {"examples": examples, "seed": seed}
    if marker.is_file() and json.loads(marker.read_text()) == expected and all((data / name).is_file() for name in FILES):
        return folder
    sys.path.insert(0, str(HERE))
    from generate import generate  # benchmarks/generate.py

    print(f"generating {examples:,} examples under {data} ...", flush=True)
    started = time.perf_counter()
    generate(examples, data, seed)
    # planted.json is the generator's ground truth, not data; keep it beside data/.
    (data / "planted.json").replace(folder / "planted.json")
    # An empty ini file makes this folder the rootdir, so the repository's own
    # pytest settings (addopts, testpaths) play no part in the measurement.
    (folder / "pytest.ini").write_text("[pytest]\n")
    marker.write_text(json.dumps(expected))
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def measure(command: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run `command`; return its wall time, peak RSS (MB), exit status and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "peak_rss_mb": usage.ru_maxrss / 1024.0,  # Linux reports KiB
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "returncode": process.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def best_of(runs: list[dict]) -> dict:
    best = min(runs, key=lambda run: run["wall_s"])
    return {**best, "peak_rss_mb": max(run["peak_rss_mb"] for run in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_000_000, help="dataset size (default: %(default)s)")
    parser.add_argument("--data-root", type=Path, default=HERE / "data", help="where generated datasets live")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest counts")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    folder = dataset(args.examples, args.data_root.resolve(), args.seed)
    files = [str(folder / "data" / name) for name in FILES]
    size_mb = sum(os.path.getsize(name) for name in files) / 1e6

    parse_runs, pytest_runs = [], []
    # pytest with this plugin only: other plugins installed in the environment (hypothesis
    # imports itself at session end, ~2 s here) are not what this benchmark measures.
    pytest_command = [
        sys.executable, "-m", "pytest", "-p", "pytest_ftdata.plugin", "--ftdata", "data",
        "-k", "schema or format", "-p", "no:cacheprovider", "-q",
    ]
    pytest_env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for _ in range(args.repeat):
        parse_runs.append(measure([sys.executable, "-c", PARSE_LOOP, *files], folder))
        pytest_runs.append(measure(pytest_command, folder, env=pytest_env))
    parse, run = best_of(parse_runs), best_of(pytest_runs)

    if parse["returncode"] != 0 or int(parse["stdout"].split()[-1]) != args.examples:
        print(parse["stderr"][-2000:], file=sys.stderr)
        print("the parse loop failed or read an unexpected number of records", file=sys.stderr)
        return 2
    summary = (run["stdout"].strip().splitlines() or [""])[-1]
    # pytest exits 0 (all passed) or 1 (findings of severity error); anything else is a broken run.
    if run["returncode"] not in (0, 1) or "passed" not in summary and "failed" not in summary:
        print(run["stdout"][-4000:], run["stderr"][-4000:], sep="\n", file=sys.stderr)
        print(f"the pytest run went wrong (exit status {run['returncode']})", file=sys.stderr)
        return 2

    ratio = run["wall_s"] / parse["wall_s"]
    rows = [
        ("parse loop (orjson)", parse, "1.00x", ""),
        ("pytest --ftdata (schema, format)", run, f"{ratio:.2f}x", ""),
    ]
    print()
    print(f"{args.examples:,} chat examples, {size_mb:,.0f} MB in 3 files; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; best of {args.repeat}")
    print()
    print(f"{'':34} {'wall time':>10} {'CPU time':>10} {'peak RSS':>10} {'vs parse':>9} {'examples/s':>12}")
    for label, result, versus, _ in rows:
        print(
            f"{label:34} {result['wall_s']:>9.2f}s {result['cpu_s']:>9.2f}s {result['peak_rss_mb']:>7.0f} MB "
            f"{versus:>9} {args.examples / result['wall_s']:>12,.0f}"
        )
    print()
    ratio_ok = ratio <= TARGET_RATIO
    rss_ok = run["peak_rss_mb"] <= TARGET_RSS_MB
    print(f"target: wall time at most {TARGET_RATIO:.0f}x the parse loop   {ratio:.2f}x   {'met' if ratio_ok else 'MISSED'}")
    print(f"target: peak RSS at most {TARGET_RSS_MB:.0f} MB             {run['peak_rss_mb']:.0f} MB   {'met' if rss_ok else 'MISSED'}")
    print(f"CPU time ratio {run['cpu_s'] / parse['cpu_s']:.2f}x (less sensitive than wall time to other load on the machine)")
    print(f"pytest: {summary}")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "examples": args.examples,
                    "size_mb": round(size_mb, 1),
                    "repeat": args.repeat,
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "parse_loop": {k: round(parse[k], 3) for k in ("wall_s", "cpu_s", "peak_rss_mb")},
                    "pytest": {k: round(run[k], 3) for k in ("wall_s", "cpu_s", "peak_rss_mb")},
                    "ratio": round(ratio, 3),
                    "cpu_ratio": round(run["cpu_s"] / parse["cpu_s"], 3),
                    "targets": {"ratio": TARGET_RATIO, "peak_rss_mb": TARGET_RSS_MB, "met": ratio_ok and rss_ok},
                    "pytest_summary": summary,
                },
                indent=2,
            )
            + "\n"
        )
    return 0 if ratio_ok and rss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
