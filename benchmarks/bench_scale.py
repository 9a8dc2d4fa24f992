"""Scale benchmark: the whole suite on millions of examples, the fingerprint join out of core.

    python benchmarks/bench_scale.py                              # 10,000,000 examples (about 4.5 GB)
    python benchmarks/bench_scale.py --examples 2000000 --budget-mb 256
    python benchmarks/bench_scale.py --examples 200000 --budget-mb 16 --compare
    python benchmarks/bench_scale.py --only duplicates leakage     # the fingerprint join alone, at 10M

Generates (once, under benchmarks/data/suite-<N>/, as bench_suite.py does) CLINC150-based
chat data with planted duplicates, near-duplicates, leakage and group leakage
(`generate.generate_suite`, listed in planted.json), then runs, each in a fresh
subprocess (wall, CPU and peak RSS of the child, `ru_maxrss` from `os.wait4`):

- `parse loop`: `orjson.loads` of every line of the three files;
- `suite serial`: every default family, `--ftdata-report json:...`, with
  `fingerprint_memory_mb` from `--budget-mb` (default: the setting's default, 1024), so
  past about 1.5 million examples the near-duplicate and leakage joins run out of core
  in DuckDB (`pytest_ftdata/families/spill.py`);
- with `--only duplicates leakage`, only those items (`-k`): the fingerprint index and
  its joins at full size, without the label model and the per-file families;
- with `--compare`, the same suite with a budget large enough to stay in memory, whose
  findings must equal the out-of-core run's (every field, in order).

It then checks that every planted pair of planted.json is found: the two lines sit in
one finding (location or `related`) of the family that should find them. Targets
(issue 14, at 10M): peak RSS at most 2 GB, every planted pair found. Exits 1 when a
target is missed, 2 when a run went wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_core import FILES, PARSE_LOOP, measure  # noqa: E402  (benchmarks/ is not a package)
from bench_dedup import PLANTED_FAMILIES  # noqa: E402
from bench_suite import PYPROJECT, _check, dataset, suite_command  # noqa: E402

TARGETS = {"peak_rss_mb": 2048.0}
#: A budget no generated dataset passes (the in-memory run of `--compare`).
IN_MEMORY_MB = 1 << 20


def _with_budget(folder: Path, budget_mb: int | None) -> None:
    text = PYPROJECT
    if budget_mb is not None:
        text = text.replace("[tool.ftdata]\n", f"[tool.ftdata]\nfingerprint_memory_mb = {budget_mb}\n")
    (folder / "pyproject.toml").write_text(text)


def planted_found(report: dict, planted: dict) -> dict[str, tuple[int, int]]:
    """kind -> (planted pairs found in one finding of the right family, planted pairs)."""
    members: dict[str, list[set]] = {}
    for finding in report["findings"]:
        where = {(finding["path"].rsplit("/", 1)[-1], finding["line"])}
        where |= {(item["path"].rsplit("/", 1)[-1], item["line"]) for item in finding.get("related") or []}
        members.setdefault(finding["check"], []).append(where)
    out = {}
    for kind, families in PLANTED_FAMILIES.items():
        pairs = planted.get(kind, [])
        found = 0
        for a, b in pairs:
            a, b = tuple(a), tuple(b)
            if any(a in group and b in group for family in families for group in members.get(family, ())):
                found += 1
        out[kind] = (found, len(pairs))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000_000)
    parser.add_argument("--budget-mb", type=int, default=None, help="fingerprint_memory_mb (default: the setting's)")
    parser.add_argument("--compare", action="store_true", help="also run in memory and compare the findings")
    parser.add_argument("--data-root", type=Path, default=HERE / "data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", metavar="FAMILY",
                        help="run only these families' items (`-k`), e.g. duplicates leakage: the join at full size")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    folder = dataset(args.examples, args.data_root.resolve(), args.seed)
    files = [str(folder / "data" / name) for name in FILES]
    results: dict[str, dict] = {}
    try:
        parse = measure([sys.executable, "-c", PARSE_LOOP, *files], folder)
        if parse["returncode"] != 0:
            print(parse["stderr"][-2000:], file=sys.stderr)
            return 2
        results["parse"] = parse
        reports = {}
        runs = [("out_of_core", args.budget_mb)] + ([("in_memory", IN_MEMORY_MB)] if args.compare else [])
        for name, budget in runs:
            _with_budget(folder, budget)
            report_path = folder / f"report-{name}.json"
            select = ["-k", " or ".join(args.only)] if args.only else []
            run = measure(suite_command(0, [f"--ftdata-report=json:{report_path}", *select]), folder, env=env)
            run["summary"] = _check(run, f"the {name} run")
            results[name] = run
            reports[name] = json.loads(report_path.read_text())
            print(f"measured {name}: wall {run['wall_s']:.1f} s, CPU {run['cpu_s']:.1f} s, peak RSS "
                  f"{run['peak_rss_mb']:.0f} MB, {run['wall_s'] / parse['wall_s']:.2f}x the parse loop", flush=True)
    finally:
        _with_budget(folder, None)

    planted = json.loads((folder / "planted.json").read_text())
    recall = planted_found(reports["out_of_core"], planted)
    if args.only:
        recall = {kind: value for kind, value in recall.items() if PLANTED_FAMILIES[kind] & set(args.only)}
    size_mb = sum(os.path.getsize(name) for name in files) / 1e6
    print()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs; {args.examples:,} examples, {size_mb:,.0f} MB; "
          f"fingerprint_memory_mb = {args.budget_mb if args.budget_mb is not None else 'default'}")
    print(f"{'run':14} {'wall s':>8} {'CPU s':>8} {'peak RSS':>9} {'vs parse':>9}")
    for name in results:
        run = results[name]
        print(f"{name:14} {run['wall_s']:>8.1f} {run['cpu_s']:>8.1f} {run['peak_rss_mb']:>6.0f} MB "
              f"{run['wall_s'] / results['parse']['wall_s']:>8.2f}x")
    ok = True
    for kind, (found, total) in recall.items():
        ok &= found == total
        print(f"planted {kind:17} found {found} of {total}")
    rss = results["out_of_core"]["peak_rss_mb"]
    met = rss <= TARGETS["peak_rss_mb"]
    ok &= met
    print(f"target: peak RSS at most {TARGETS['peak_rss_mb']:.0f} MB: {rss:.0f} MB {'met' if met else 'MISSED'}")
    if args.compare:
        same = reports["out_of_core"]["findings"] == reports["in_memory"]["findings"]
        ok &= same
        print(f"findings out of core == in memory: {same} ({len(reports['in_memory']['findings'])} findings)")
    print(f"summary: {results['out_of_core']['summary']}")
    if args.json:
        args.json.write_text(json.dumps({
            "python": platform.python_version(), "cpus": os.cpu_count(), "examples": args.examples, "size_mb": size_mb,
            "budget_mb": args.budget_mb, "recall": recall,
            "runs": {name: {k: run[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")} for name, run in results.items()},
        }, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
