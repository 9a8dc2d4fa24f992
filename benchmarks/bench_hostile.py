"""Peak memory and time of the whole plugin on hostile large inputs (issue 10).

    python benchmarks/bench_hostile.py                 # every case, the figures of benchmarks/README.md
    python benchmarks/bench_hostile.py --cases bomb    # one case
    python benchmarks/bench_hostile.py --xdist         # under -n 2: controller and workers summed

Each case is a dataset folder under benchmarks/data/hostile/<case>/ (generated once),
run as `python -m pytest --ftdata data -p no:cacheprovider -q` in a fresh subprocess
(every family, no cache), whose peak RSS (`ru_maxrss` from `os.wait4`) and wall time
are reported (with `--xdist`, `-n 2` and the summed RSS of the controller and both
workers, sampled every 50 ms from /proc). Target: every case under 1 GB peak RSS, with a finding at the right line
and no traceback.

Cases:
- `bomb`: a 3 MB `.jsonl.gz` whose one line expands to 3 GiB;
- `long-line`: a plain file whose second line is 200 MB long;
- `newlines`: a 2 MB gzip of two billion newlines;
- `garbage`: a million lines of invalid JSON;
- `lock-bomb`: a 2 MB gzip `ftdata.lock` of 2 GiB (a header counting a billion
  examples, then newlines), refused as VER007;
- `repeated`: one input 50,000 times, locked, then every target changed (the versions
  summary counts 50,000 changed; the matching of one key's copies was quadratic).

Exit status 1 when a target is missed, 2 when a run went wrong.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_RSS_MB = 1024.0
GOOD = json.dumps({"messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]}).encode()


def _bomb(data: Path) -> str:
    with gzip.open(data / "train.jsonl.gz", "wb", compresslevel=9) as handle:
        handle.write(b'{"text": "')
        chunk = b"a" * (1 << 24)
        for _ in range(3 * 64):  # 3 GiB of one string
            handle.write(chunk)
        handle.write(b'"}\n' + GOOD + b"\n")
    return "SCH010"


def _long_line(data: Path) -> str:
    # Written in pieces: this process forks the measured runs, and a child's peak RSS
    # counts the pages it shared with its parent before exec.
    with open(data / "train.jsonl", "wb") as handle:
        handle.write(GOOD + b"\n" + b'{"text": "')
        for _ in range(200):
            handle.write(b"b" * (1024 * 1024))
        handle.write(b'"}\n' + GOOD + b"\n")
    return "SCH010"


def _newlines(data: Path) -> str:
    with gzip.open(data / "train.jsonl.gz", "wb", compresslevel=9) as handle:
        handle.write(GOOD + b"\n")
        chunk = b"\n" * (1 << 26)
        for _ in range(30):  # two billion newlines
            handle.write(chunk)
    return "SCH006"


def _garbage(data: Path) -> str:
    with open(data / "train.jsonl", "wb") as handle:
        line = b'{"messages": [{"role": "user", "content": "broken\n'
        for _ in range(1000):
            handle.write(line * 1000)
    return "SCH001"


def _lock_bomb(data: Path) -> str:
    # A lock whose header counts a billion examples, then 2 GiB of newlines, gzipped to
    # about 2 MB: refused once it decompresses past 64 times its size.
    (data / "train.jsonl").write_bytes(GOOD + b"\n")
    header = {"ftdata_lock": 1, "examples": 10**9, "files": [{"name": "train.jsonl", "split": "train", "examples": 10**9}]}
    with gzip.open(data / "ftdata.lock", "wb", compresslevel=9) as handle:
        handle.write(json.dumps(header).encode() + b"\n")
        chunk = b"\n" * (1 << 26)
        for _ in range(32):
            handle.write(chunk)
    return "VER007"


def _repeated(data: Path) -> str:
    # One input 50,000 times with distinct targets, locked, then every target changed:
    # the diff matches the copies of one key (it was quadratic in them).
    def write(mark: str) -> None:
        with open(data / "train.jsonl", "w", encoding="utf-8") as handle:
            for number in range(50_000):
                record = {"messages": [{"role": "user", "content": "Tell me a joke."},
                                       {"role": "assistant", "content": f"Joke number {number}{mark}"}]}
                handle.write(json.dumps(record) + "\n")

    write(".")
    (data.parent / "pytest.ini").write_text("[pytest]\n")
    subprocess.run([sys.executable, "-m", "pytest", "--ftdata", "data", "-p", "no:cacheprovider", "-q", "-k", "versions",
                    "--ftdata-update-lock"], cwd=data.parent, check=False, capture_output=True)
    write("!")
    return "changes since the lock"


CASES = {"bomb": _bomb, "long-line": _long_line, "newlines": _newlines, "garbage": _garbage,
         "lock-bomb": _lock_bomb, "repeated": _repeated}


def prepare(case: str, root: Path) -> tuple[Path, str]:
    folder = root / case
    data = folder / "data"
    marker = folder / "expected-rule"
    if marker.is_file():
        return folder, marker.read_text()
    data.mkdir(parents=True, exist_ok=True)
    print(f"generating {case} under {data} ...", flush=True)
    rule = CASES[case](data)
    (folder / "pytest.ini").write_text("[pytest]\n")
    marker.write_text(rule)
    return folder, rule


def _tree_rss_kb(root: int) -> int:
    """The summed resident memory (kB) of `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grown = True
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
    return total


def measure(folder: Path, xdist: bool = False) -> dict:
    command = [sys.executable, "-m", "pytest", "--ftdata", "data", "-p", "no:cacheprovider", "-q", "-p", "no:randomly"]
    if xdist:
        command += ["-n", "2"]
    peak_tree = 0
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        if xdist:
            # Under xdist the run is three processes (controller and two workers):
            # ru_maxrss is the largest of them, so the sum is sampled from /proc.
            sampling = threading.Event()

            def sample() -> None:
                nonlocal peak_tree
                while not sampling.is_set():
                    peak_tree = max(peak_tree, _tree_rss_kb(process.pid))
                    sampling.wait(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if xdist:
            sampling.set()
            sampler.join()
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    peak = max(usage.ru_maxrss, peak_tree) / 1024
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak, 1), "status": os.waitstatus_to_exitcode(status), "output": output}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--data", type=Path, default=HERE / "data" / "hostile")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--xdist", action="store_true",
                        help="run with -n 2 and report the summed RSS of the controller and its workers (sampled from /proc)")
    args = parser.parse_args(argv)
    results = {}
    failed = broken = False
    print(f"{'case':<11} {'wall s':>7} {'peak RSS MB':>12}  finding")
    for case in args.cases:
        folder, rule = prepare(case, args.data)
        found = measure(folder, args.xdist)
        found_rule = rule in found["output"]
        clean = "Traceback" not in found["output"] and "INTERNALERROR" not in found["output"] and found["status"] in (0, 1)
        over = found["peak_rss_mb"] > TARGET_RSS_MB
        failed |= over or not found_rule
        broken |= not clean
        results[case] = {k: v for k, v in found.items() if k != "output"} | {"rule": rule, "found": found_rule}
        print(f"{case:<11} {found['wall_s']:>7} {found['peak_rss_mb']:>12}  {rule} {'found' if found_rule else 'MISSING'}"
              f"{'' if clean else '  (run went wrong)'}{'  OVER 1 GB' if over else ''}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 2 if broken else 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
