"""The out-of-core fingerprint join: DuckDB over Parquet shards, for indexes beyond the budget.

When the fingerprint index of a dataset (`fingerprints.Fingerprints`) would grow past
`fingerprint_memory_mb`, its text-sized part leaves memory: the normalized inputs and the
dicts that join them (identical inputs, near-duplicate anchor keys) are written as rows
to Parquet shards in a private temporary directory, and the joins run in DuckDB, which
spills its own hash tables and sorts to disk inside the same budget
(`memory_limit`, `temp_directory`). What stays in memory is what the in-memory path keeps
per example anyway: the typed arrays of hashes and line numbers, about 80 bytes each.

The shards of one dataset (all in `FingerprintSpill.directory`):

- `inputs-N.parquet`: `eid` (the example's number in dataset order), `nkey` (the key of
  its normalized input, `hash(text) or 1` as in memory) and `text` (the normalized input,
  UTF-8 bytes; `surrogatepass`, so any Python string round-trips), one row per example
  with a non-empty input. Rows written when the index switched carry the text of the
  first copy of each input only, in the index's stored form (`neardup.stored_form`);
- `copies-N.parquet`: `eid`, `nkey` of the copies the in-memory index had grouped before
  the switch (their text is their first's);
- `stored-N.parquet`: `key`, `eid`: an anchor key and a text stored under it (the first
  `MAX_BUCKET` per key win, by `eid`), and `probe-N.parquet`: `key`, `eid`: a key a text
  looks up;
- `pairs-N.parquet`: `a`, `b`: candidate pairs the in-memory index had found before the
  switch.

Invariants (tests/test_outofcore.py checks the reports are identical):

- The same answers as the in-memory path: identical inputs are grouped by the same key,
  the first of a group is its first example in dataset order, and the candidate pairs
  are those `NearDuplicateIndex` finds when texts arrive in dataset order: a text only
  meets texts before it (`s.eid < p.eid`), and a key keeps its first `MAX_BUCKET` texts
  (`row_number() OVER (PARTITION BY key ORDER BY eid)`), which is what the incremental
  index's cap keeps. Pairs are verified with the same `rapidfuzz.fuzz.ratio` on the same
  stored forms, streamed from DuckDB in batches.
- Keys are Python's `hash()`, salted per process: the shards are joined by the process
  that wrote them. An engine that joins shards of several processes keys on `text`
  itself (docs/performance.md shows it).
- The directory is private (`tempfile.mkdtemp`, mode 0700) and removed when the join is
  done, or when the index is garbage collected, whichever comes first. With
  `FTDATA_FINGERPRINT_SHARDS=DIR` in the environment the shards are first copied to
  `DIR/fingerprints-N` (they hold normalized inputs: keep DIR private).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from array import array
from pathlib import Path
from typing import Iterable, Iterator

from rapidfuzz.fuzz import ratio

from ..neardup import MAX_BUCKET, STORED_CHARS, anchor_keys, min_near_length, stored_form

#: What to install for the out-of-core path.
SCALE_EXTRA = "pip install 'pytest-ftdata[scale]'"
#: Bytes of buffered rows written as one shard (smaller with a small budget).
SHARD_BYTES = 32 << 20
#: DuckDB is given at least this much memory, whatever the budget (it needs a few
#: buffers per thread to run at all).
MIN_ENGINE_MB = 256
#: An environment variable: a directory the shards are copied to before they are removed.
KEEP_SHARDS = "FTDATA_FINGERPRINT_SHARDS"
#: Rows per batch streamed back from DuckDB.
BATCH_ROWS = 65536


def missing_packages() -> list[str]:
    """The packages of the `scale` extra that cannot be imported."""
    missing = []
    try:
        # Lazy: duckdb and pyarrow are an optional extra, needed only past the budget.
        import duckdb  # noqa: F401
    except ImportError:
        missing.append("duckdb")
    try:
        # Lazy: an optional extra, as above.
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401  (the same extra: pyarrow writes the shards)
    except ImportError:
        missing.append("pyarrow")
    return missing


class _Rows:
    """Buffered rows of one shard kind: integer columns and at most one bytes column."""

    def __init__(self, spill: "FingerprintSpill", kind: str, columns: tuple[str, ...], text: bool = False) -> None:
        self.spill = spill
        self.kind = kind
        self.columns = columns
        self.values = [array("q") for _ in columns]
        self.appenders = [values.append for values in self.values]
        self.text = text
        self.blob = bytearray()
        self.ends = array("q", [0])

    def add(self, *values: int) -> None:
        for append, value in zip(self.appenders, values):
            append(value)
        if len(self.values[0]) >= self.spill.shard_bytes >> 4:
            self.flush()

    def add_text(self, eid: int, nkey: int, text: str) -> None:
        self.values[0].append(eid)
        self.values[1].append(nkey)
        self.blob += text.encode("utf-8", "surrogatepass")
        self.ends.append(len(self.blob))
        if len(self.blob) >= self.spill.shard_bytes:
            self.flush()

    def pending_bytes(self) -> int:
        return len(self.blob) + 8 * len(self.columns) * len(self.values[0])

    def flush(self) -> None:
        rows = len(self.values[0])
        if not rows:
            return
        pa = self.spill.pa
        arrays = [pa.Array.from_buffers(pa.int64(), rows, [None, pa.py_buffer(values)]) for values in self.values]
        names = list(self.columns)
        if self.text:
            arrays.append(
                pa.Array.from_buffers(pa.large_binary(), rows, [None, pa.py_buffer(self.ends), pa.py_buffer(self.blob)])
            )
            names.append("text")
        self.spill.write(self.kind, pa.table(arrays, names=names))
        self.values = [array("q") for _ in self.columns]
        self.appenders = [values.append for values in self.values]
        self.blob = bytearray()
        self.ends = array("q", [0])


class FingerprintSpill:
    """The shards and the DuckDB joins of one dataset's fingerprint index."""

    def __init__(self, budget_mb: int, threshold: float, resident=lambda: 0) -> None:
        # Lazy: the optional extra, checked by the caller with `missing_packages()`.
        import pyarrow
        import pyarrow.parquet  # the same extra: pyarrow writes the shards

        self.pa = pyarrow
        self.pq = pyarrow.parquet
        self.budget_mb = budget_mb
        #: Bytes of the index that stay in memory (its per-example arrays), asked at the join:
        #: DuckDB gets the rest of the budget.
        self.resident = resident
        self.threshold = threshold
        self.shard_bytes = max(4 << 20, min(SHARD_BYTES, (budget_mb << 20) // 16))
        self.directory = Path(tempfile.mkdtemp(prefix="ftdata-fingerprints-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.directory), True)
        self._shards: dict[str, list[Path]] = {}
        self.inputs = _Rows(self, "inputs", ("eid", "nkey"), text=True)
        self.copies = _Rows(self, "copies", ("eid", "nkey"))
        self.stored = _Rows(self, "stored", ("key", "eid"))
        self.pairs = _Rows(self, "pairs", ("a", "b"))
        #: Examples numbered from here on came after the switch: their keys are made at the join.
        self.switched_at = 0

    # -- writing ----------------------------------------------------------------------------

    def write(self, kind: str, table) -> None:
        shards = self._shards.setdefault(kind, [])
        path = self.directory / f"{kind}-{len(shards):06d}.parquet"
        self.pq.write_table(table, path, compression="zstd", row_group_size=1 << 20)
        shards.append(path)

    def flush(self) -> None:
        for rows in (self.inputs, self.copies, self.stored, self.pairs):
            rows.flush()

    def shards(self, kind: str) -> list[Path]:
        return list(self._shards.get(kind, ()))

    # -- joining ----------------------------------------------------------------------------

    def _connect(self):
        # Lazy: the optional extra (see `missing_packages`).
        import duckdb

        engine = self.directory / "duckdb"
        engine.mkdir()
        # A database file in the spill directory, so that its tables too can leave memory.
        con = duckdb.connect(
            str(self.directory / "join.duckdb"),
            config={
                "memory_limit": f"{self.engine_mb()}MB",
                "temp_directory": str(engine),
                "preserve_insertion_order": False,
                # One thread below 512 MB: each DuckDB thread wants buffers of its own, and
                # with less than about 250 MB a thread operators fail instead of spilling.
                "threads": 1 if self.engine_mb() < 512 else max(1, min(2, os.cpu_count() or 1)),
            }
        )
        con.execute("SET enable_progress_bar = false")  # a session option: no bar on the terminal
        return con

    def engine_mb(self) -> int:
        """DuckDB's memory limit: the budget less what the index keeps in memory, and at
        least `MIN_ENGINE_MB`."""
        return max(MIN_ENGINE_MB, self.budget_mb - (self.resident() >> 20))

    def _source(self, kind: str, columns: str) -> str:
        """A `read_parquet` of the shards of `kind`, or an empty relation of `columns`."""
        shards = self.shards(kind)
        if not shards:
            names = ", ".join(f"NULL::{kind_type} AS {name}" for name, kind_type in
                              (column.split() for column in columns.split(", ")))
            return f"(SELECT {names} WHERE false)"
        listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in shards)
        return f"read_parquet([{listed}])"

    def join(self, keep_groups) -> "JoinResult":
        """Run the joins: identical inputs, candidate pairs, their verification, and the
        leaked groups (`keep_groups`: a callable given the connection, see
        `Fingerprints.leaked_groups`). Removes the shards at the end."""
        try:
            self.flush()
            con = self._connect()
            try:
                return self._join(con, keep_groups)
            finally:
                con.close()
        finally:
            self._keep_copy()
            self.close()

    def _keep_copy(self) -> None:
        """With `FTDATA_FINGERPRINT_SHARDS=DIR`, copy the shards to a new `DIR/fingerprints-N`
        before they are removed, for another engine to join (docs/performance.md)."""
        target = os.environ.get(KEEP_SHARDS)
        if not target:
            return
        root = Path(target)
        root.mkdir(parents=True, exist_ok=True)
        number = 0
        while True:
            folder = root / f"fingerprints-{number}"
            try:
                folder.mkdir()
                break
            except FileExistsError:
                number += 1
        for path in sorted(self.directory.glob("*.parquet")):
            shutil.copyfile(path, folder / path.name)

    def _stream(self, con, sql: str) -> Iterator:
        relation = con.sql(sql)
        if hasattr(relation, "to_arrow_reader"):
            reader = relation.to_arrow_reader(BATCH_ROWS)
        else:  # duckdb 1.x
            reader = relation.fetch_arrow_reader(BATCH_ROWS)
        yield from reader

    def _join(self, con, keep_groups) -> "JoinResult":
        inputs = self._source("inputs", "eid BIGINT, nkey BIGINT, text BLOB")
        copies = self._source("copies", "eid BIGINT, nkey BIGINT")
        con.execute(f"CREATE VIEW inputs AS SELECT * FROM {inputs}")
        # Tables filled by INSERTs, not UNION ALLs: an aggregate over a UNION ALL of two
        # Parquet scans ran out of memory at 10M examples where the same over one table spills.
        con.execute("CREATE TABLE ex AS SELECT eid, nkey FROM inputs")
        con.execute(f"INSERT INTO ex SELECT eid, nkey FROM {copies}")
        con.execute("CREATE TABLE firsts AS SELECT nkey, min(eid) AS first, count(*) AS n FROM ex GROUP BY nkey")
        # Identical inputs: (first, copy) in the order of the copies, as the in-memory index adds them.
        pairs_of_copies: list[tuple[int, int]] = []
        sql = (
            "SELECT f.first, e.eid FROM ex e JOIN (SELECT nkey, first FROM firsts WHERE n > 1) f USING (nkey) "
            "WHERE e.eid <> f.first"
        )
        for batch in self._stream(con, sql):
            pairs_of_copies.extend(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))
        pairs_of_copies.sort(key=lambda pair: pair[1])

        # Anchor keys of the distinct inputs that came after the switch, made here from their text.
        fraction = self.threshold / 100.0
        min_length = min_near_length(fraction)
        probe = _Rows(self, "probe", ("key", "eid"))
        con.execute("DROP TABLE ex")
        con.execute(
            "CREATE TABLE texts AS SELECT i.eid, i.text FROM inputs i SEMI JOIN firsts f ON i.eid = f.first"
        )
        con.execute("DROP TABLE firsts")
        sql = f"SELECT eid, text FROM texts WHERE eid >= {int(self.switched_at)}"
        add_probe, add_stored = probe.add, self.stored.add
        for batch in self._stream(con, sql):
            for eid, data in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                keys, own = anchor_keys(data.decode("utf-8", "surrogatepass"), fraction, min_length)
                for key in keys:
                    add_probe(key, eid)
                if own is not None:
                    add_stored(own[0], eid)
                    add_stored(own[1], eid)
            if probe.pending_bytes() >= self.shard_bytes:
                probe.flush()
            if self.stored.pending_bytes() >= self.shard_bytes:
                self.stored.flush()
        probe.flush()
        self.stored.flush()

        stored = self._source("stored", "key BIGINT, eid BIGINT")
        probed = self._source("probe", "key BIGINT, eid BIGINT")
        old_pairs = self._source("pairs", "a BIGINT, b BIGINT")
        # A key keeps its first MAX_BUCKET texts. Most keys have fewer: only the others need
        # a top-N, made by an aggregate (hash aggregates spill to disk; a window over every
        # key would sort them all).
        con.execute(f"CREATE TABLE key_counts AS SELECT key, count(*) AS n FROM {stored} GROUP BY key")
        con.execute(
            "CREATE TABLE kept AS "
            f"SELECT s.key, s.eid FROM {stored} s JOIN key_counts c USING (key) WHERE c.n <= {MAX_BUCKET}"
        )
        con.execute(
            f"INSERT INTO kept SELECT key, unnest(min_by(eid, eid, {MAX_BUCKET})) AS eid FROM {stored} "
            f"WHERE key IN (SELECT key FROM key_counts WHERE n > {MAX_BUCKET}) GROUP BY key"
        )
        con.execute("DROP TABLE key_counts")
        con.execute(
            "CREATE TABLE candidates AS "
            f"SELECT DISTINCT k.eid AS a, p.eid AS b FROM {probed} p JOIN kept k USING (key) WHERE k.eid < p.eid"
        )
        con.execute(f"INSERT INTO candidates SELECT a, b FROM {old_pairs}")
        con.execute("DROP TABLE kept")
        candidate_count = con.execute("SELECT count(*) FROM candidates").fetchall()[0][0]
        near: list[tuple[int, int, float]] = []
        cutoff = self.threshold
        sql = (
            "SELECT c.a, c.b, ta.text, tb.text FROM candidates c "
            "JOIN texts ta ON ta.eid = c.a JOIN texts tb ON tb.eid = c.b"
        )
        for batch in self._stream(con, sql):
            columns = [batch.column(number).to_pylist() for number in range(4)]
            for a, b, text_a, text_b in zip(*columns):
                first = text_a.decode("utf-8", "surrogatepass")
                second = text_b.decode("utf-8", "surrogatepass")
                if len(first) > STORED_CHARS:
                    first = stored_form(first)
                if len(second) > STORED_CHARS:
                    second = stored_form(second)
                score = ratio(first, second, score_cutoff=cutoff)
                if score:
                    near.append((a, b, score))
        near.sort(key=lambda pair: (pair[1], pair[0]))

        # The texts the messages compare and key on: of every first in a cluster.
        wanted = sorted({first for first, _ in pairs_of_copies} | {e for a, b, _ in near for e in (a, b)})
        texts: dict[int, str] = {}
        if wanted:
            pa = self.pa
            con.register("wanted", pa.table({"eid": pa.array(wanted, pa.int64())}))
            for batch in self._stream(con, "SELECT t.eid, t.text FROM texts t SEMI JOIN wanted w USING (eid)"):
                for eid, data in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                    texts[eid] = stored_form(data.decode("utf-8", "surrogatepass"))
        groups = keep_groups(con)
        return JoinResult(pairs_of_copies, near, texts, groups, candidate_count)

    def close(self) -> None:
        self._cleanup()


class JoinResult:
    """What the joins found, small enough for memory (proportional to the clusters)."""

    def __init__(self, copies: list[tuple[int, int]], near: list[tuple[int, int, float]], texts: dict[int, str],
                 groups, candidate_count: int) -> None:
        #: (first, copy) of every copy of an input, in the order of the copies
        self.copies = copies
        #: (first a, first b, score), verified, in the order the in-memory index finds them
        self.near = near
        #: first -> its normalized input in stored form (every first of a cluster)
        self.texts = texts
        #: what `keep_groups` returned
        self.groups = groups
        self.candidate_count = candidate_count


def int64_column(pa, values: array):
    """A zero-copy Arrow column over an `array("q")` or `array("I")`."""
    kind = pa.int64() if values.typecode == "q" else pa.uint32()
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def leaked_group_keys(spill: FingerprintSpill, con, group_key: array, file_of: array,
                      split_of_file: Iterable[str | None]) -> set[int]:
    """The group keys found in two or more splits, by a DuckDB aggregate over the arrays."""
    pa = spill.pa
    splits = list(split_of_file)
    con.register("groups", pa.table({"gkey": int64_column(pa, group_key), "file": int64_column(pa, file_of)}))
    names = sorted({split for split in splits if split})
    numbers = [names.index(split) if split else None for split in splits]
    con.register("files", pa.table({"file": pa.array(range(len(splits)), pa.uint32()), "split": pa.array(numbers, pa.int8())}))
    leaked: set[int] = set()
    # Two splits or more: min and max differ (a DISTINCT count keeps a set per group in memory).
    sql = (
        "SELECT g.gkey FROM groups g JOIN files f USING (file) WHERE f.split IS NOT NULL AND g.gkey <> 0 "
        "GROUP BY g.gkey HAVING min(f.split) <> max(f.split)"
    )
    for batch in spill._stream(con, sql):
        leaked.update(batch.column(0).to_pylist())
    return leaked
