"""The fingerprint shards joined by another engine: DuckDB in a separate process, over the shards alone.

    python benchmarks/external_join.py benchmarks/data/suite-1000000/data

Runs `duplicates` on the dataset with `fingerprint_memory_mb = 0` (out of core from
the first example, so every example's normalized input is in `inputs-*.parquet`) and
`FTDATA_FINGERPRINT_SHARDS` set, so the shards are kept. Then a fresh `python -c`
process that imports only duckdb runs `EXTERNAL_SQL` over the kept shards, the way
Spark, Ray or DuckDB on a bigger machine would, and the groups of identical inputs it
returns must equal the ones pytest-ftdata found in process (`Fingerprints.identical`).
Prints both times and the group count; exits 1 when they differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Groups of identical normalized inputs, from the shards alone. Within one run's shards `nkey`
#: joins rows (it is Python's salted hash of the text, the same in one process); across runs,
#: group on `text` (or the engine's own hash of it) instead.
EXTERNAL_SQL = """
SELECT list(eid ORDER BY eid) AS members
FROM (SELECT eid, nkey FROM read_parquet('{shards}/inputs-*.parquet')
      UNION ALL SELECT eid, nkey FROM read_parquet('{shards}/copies-*.parquet', union_by_name = true))
GROUP BY nkey HAVING count(*) > 1
"""

EXTERNAL = """
import duckdb, json, sys, time
started = time.perf_counter()
con = duckdb.connect(config={"memory_limit": "1GB"})
rows = con.execute(sys.argv[1]).fetchall()
print(json.dumps({"seconds": time.perf_counter() - started, "groups": sorted(r[0] for r in rows)}))
"""


def main() -> int:
    data = Path(sys.argv[1]).resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pytest_ftdata.config import FtdataConfig
    from pytest_ftdata.engine import analyze_dataset, dataset_files
    from pytest_ftdata.families import fingerprints

    kept = Path(tempfile.mkdtemp(prefix="ftdata-shards-"))
    os.environ["FTDATA_FINGERPRINT_SHARDS"] = str(kept)
    made = []
    original = fingerprints.FingerprintMap.combiner.__func__
    fingerprints.FingerprintMap.combiner = classmethod(lambda cls, ctx: made.append(original(cls, ctx)) or made[-1])
    started = time.perf_counter()
    analyze_dataset(data, dataset_files(data), FtdataConfig(fingerprint_memory_mb=0), data.parent, families=["duplicates"])
    in_process = time.perf_counter() - started
    index = made[-1]
    ours = sorted(sorted(members) for members in index.identical.values())
    shards = kept / "fingerprints-0"
    copies = list(shards.glob("copies-*.parquet"))
    sql = EXTERNAL_SQL.format(shards=shards)
    if not copies:  # out of core from the first example: no copies were grouped in memory
        sql = sql.replace(f"\n      UNION ALL SELECT eid, nkey FROM read_parquet('{shards}/copies-*.parquet', union_by_name = true)", "")
    done = subprocess.run([sys.executable, "-c", EXTERNAL, sql], capture_output=True, text=True, check=True)
    theirs = json.loads(done.stdout)
    size = sum(path.stat().st_size for path in shards.glob("*.parquet")) / 1e6
    print(f"shards: {len(list(shards.glob('*.parquet')))} files, {size:.0f} MB in {shards}")
    print(f"pytest-ftdata (duplicates, in process, out of core): {in_process:.1f} s, {len(ours)} groups of identical inputs")
    print(f"external DuckDB over the shards: {theirs['seconds']:.2f} s, {len(theirs['groups'])} groups")
    same = theirs["groups"] == ours
    print(f"same groups: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
