"""Do two checkouts of pytest-ftdata find the same things? Compare their JSON reports.

    python benchmarks/compare_reports.py --old /work/main --new . PATH [PATH ...]
    python benchmarks/compare_reports.py --old /work/main --new . --shared ../shared/datasets
    python benchmarks/compare_reports.py --old /work/main --new . --modes serial n2 -- PATH

Each PATH (a folder holding data files, or a folder of such folders) is copied to a
temporary directory (the plugin never writes to data, but a copy also keeps a
project's pytest settings out of the way; a pyproject.toml or ftdata.toml beside the
data is copied with it), then `python -m pytest -p pytest_ftdata.plugin --ftdata
<copy> -p no:cacheprovider --ftdata-report json:<file>` runs once with PYTHONPATH set
to each checkout (and, with `--modes`, serially and/or with `-n 2`). The reports must
be equal except for nothing: findings (every field, in order), files, summary,
labels and subgroups. Prints the first differences and exits 1 when any report
differs, 2 when a run went wrong. Optimisations of the engine must keep this at 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def run(checkout: Path, folder: Path, report: Path, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "pytest_ftdata.plugin", "--ftdata", "data",
               "-p", "no:cacheprovider", "-q", f"--ftdata-report=json:{report}"]
    if mode == "n2":
        command[3:3] = ["-p", "xdist.plugin", "-n", "2"]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode == 5:  # no data file pytest-ftdata reads (a CSV-only dataset): nothing to compare
        return {"findings": []}
    if done.returncode not in (0, 1) or not report.is_file():
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"the run of {checkout} on {folder} ({mode}) went wrong (exit status {done.returncode})")
    return json.loads(report.read_text())


def differences(old: dict, new: dict, limit: int = 10) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key == "findings":
            continue
        if old.get(key) != new.get(key):
            out.append(f"section {key!r} differs")
    a, b = old.get("findings", []), new.get("findings", [])
    if len(a) != len(b):
        out.append(f"{len(a)} findings before, {len(b)} after")
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            out.append(f"finding {index}: {json.dumps(x)[:300]}\n    != {json.dumps(y)[:300]}")
            if len(out) >= limit:
                break
    return out


def prepare(path: Path, root: Path) -> Path:
    """A copy of `path` as `<root>/data`, with a pyproject.toml making `root` the rootdir
    (the copied dataset's own pyproject.toml, one level up, when there is one)."""
    root.mkdir(parents=True)
    shutil.copytree(path, root / "data", symlinks=True)
    project = path.parent / "pyproject.toml"
    if project.is_file():
        shutil.copy(project, root / "pyproject.toml")
    else:
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout whose findings are the reference")
    parser.add_argument("--new", type=Path, required=True, help="checkout under test")
    parser.add_argument("--shared", type=Path, help="a folder of datasets: each dataset's raw/ folder is one PATH")
    parser.add_argument("--modes", nargs="+", default=["serial"], choices=["serial", "n2"])
    parser.add_argument("paths", type=Path, nargs="*")
    args = parser.parse_args(argv)
    paths = list(args.paths)
    if args.shared:
        paths += sorted(p for p in args.shared.glob("*/raw") if p.is_dir())
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ftdata-compare-") as tmp:
        for number, path in enumerate(paths):
            root = prepare(path.resolve(), Path(tmp) / f"d{number}")
            reference = run(args.old.resolve(), root, root / "old.json", "serial")
            for mode in args.modes:
                found = run(args.new.resolve(), root, root / f"new-{mode}.json", mode)
                diff = differences(reference, found)
                status = "identical" if not diff else "DIFFERENT"
                print(f"{path} [{mode}]: {len(found.get('findings', []))} findings, {status}", flush=True)
                for line in diff:
                    print("  " + line)
                failed += bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
