"""The Parquet reader: JSON-like rows, problems instead of exceptions, bounded memory, full reads through a stream.

pyarrow is an optional extra; every test that needs it asks for the `pq` fixture
and skips without it. The test of the missing extra hides pyarrow instead.
Corrupt files carry a planted fake secret that no problem may repeat.
"""

from __future__ import annotations

import functools
import io
import json
import secrets
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ftdata.io import ReadProblem
from pytest_ftdata.parquet_reader import INSTALL_HINT, read_parquet

DATA = Path(__file__).parent / "data" / "readers"
#: The checkout under test: the subprocess must import this one, not whatever copy is installed.
REPO = Path(__file__).resolve().parents[1]
FASTCHAT = Path("fastchat_dummy_conversation") / "raw" / "dummy_conversation.json"
SECRET = "sk-proj-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


@pytest.fixture(scope="module")
def pa():
    return pytest.importorskip("pyarrow", reason="pyarrow is the optional 'parquet' extra")


@pytest.fixture(scope="module")
def pq(pa):
    import pyarrow.parquet

    return pyarrow.parquet


def problems(items) -> list[ReadProblem]:
    return [value for _, value in items if isinstance(value, ReadProblem)]


def rows(items) -> list[dict]:
    return [value for _, value in items if isinstance(value, dict)]


def assert_no_content(items) -> None:
    pieces = {SECRET[k : k + 12].lower() for k in range(len(SECRET) - 11)}
    for _, value in items:
        if isinstance(value, ReadProblem):
            assert value.excerpt is None
            for field in (value.kind, value.detail, str(value.line)):
                assert not any(piece in field.lower() for piece in pieces), value


def write(pq, pa, path: Path, records, **kwargs) -> Path:
    pq.write_table(pa.Table.from_pylist(records), path, **kwargs)
    return path


def chat(i: int, text: str = "hello") -> dict:
    return {"id": f"r{i}", "messages": [{"role": "user", "content": f"{text} {i}"}, {"role": "assistant", "content": "ok"}]}


# -- real and committed files ---------------------------------------------------------------


def test_fastchat_as_parquet_reads_back_every_row_in_order(shared_datasets, tmp_path, pq, pa):
    records = json.loads((shared_datasets / FASTCHAT).read_bytes())
    path = write(pq, pa, tmp_path / "fastchat.parquet", records, row_group_size=128)
    items = list(read_parquet(path, batch_rows=50))
    assert not problems(items)
    assert [line for line, _ in items] == list(range(1, 501))
    assert rows(items) == records


def test_committed_fixture_gives_json_like_values(pq):
    items = list(read_parquet(DATA / "types.parquet"))
    assert [line for line, _ in items] == [1, 2, 3]  # two row groups, rows counted across them
    first, second, third = rows(items)
    assert first == {
        "id": 1,
        "messages": [{"role": "user", "content": "Card declined?"}, {"role": "assistant", "content": "declined_card"}],
        "score": 0.5,
        "created": "2024-01-02 03:04:05.123456Z",
        "day": "2024-01-02",
        "price": 12.5,
        "count": 7,
        "raw": "plain text",  # binary that is valid UTF-8 is text
        "attrs": {"lang": "en"},
        "wait": 1.5,
        "label": "a",
        "meta": {"source": "web", "seen": "2024-05-06 07:08:09.000000", "weights": [1.0, None]},
    }
    assert second["score"] is None  # NaN
    assert second["raw"] == "iVBORw0KGgo="  # PNG header bytes: base64
    assert second["attrs"] == {} and second["messages"][0]["content"] == "Où est ma carte ?"
    assert third["wait"] == 86400.0 and third["count"] == -3 and third["meta"] is None and third["messages"] == []
    # Every value is something json.dumps writes as it is: no bytes, dates, decimals or NaN left.
    for row in rows(items):
        assert json.loads(json.dumps(row, allow_nan=False)) == row


# -- broken files ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _valid(pq, pa) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([chat(i, SECRET) for i in range(20)]), buffer, row_group_size=5)
    return buffer.getvalue()


BROKEN = {
    "empty": lambda good: b"",
    "magic-only": lambda good: b"PAR1",
    "not-parquet": lambda good: json.dumps([{"text": SECRET}]).encode(),
    "cut-short": lambda good: good[: len(good) // 2],
    "no-footer-magic": lambda good: good[:-4] + b"XXXX",
    "footer-garbage": lambda good: good[:-200] + SECRET.encode() * 4 + good[-40:],
    "random": lambda good: secrets.token_bytes(3000) + SECRET.encode() + b"PAR1",
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_unreadable_file_is_one_problem_never_an_exception(tmp_path, pq, pa, name):
    path = tmp_path / f"{name}.parquet"
    path.write_bytes(BROKEN[name](_valid(pq, pa)))
    items = list(read_parquet(path))
    [(line, problem)] = items
    assert line == 0 and problem.line is None
    assert problem.kind == ("empty-file" if name == "empty" else "unreadable-file")
    assert_no_content(items)


def test_damaged_row_group_is_one_problem_and_the_others_are_read(tmp_path, pq, pa):
    good = _valid(pq, pa)
    meta = pq.ParquetFile(io.BytesIO(good)).metadata
    column = meta.row_group(1).column(1)  # the messages of rows 6 to 10
    data = bytearray(good)
    for k in range(column.data_page_offset, column.data_page_offset + 40):
        data[k] ^= 0x5A
    path = tmp_path / "damaged.parquet"
    path.write_bytes(bytes(data))
    items = list(read_parquet(path))
    assert [row["id"] for row in rows(items)] == [f"r{i}" for i in [0, 1, 2, 3, 4, *range(10, 20)]]
    [problem] = problems(items)
    assert problem.kind == "unreadable-file" and problem.line == 6 and (6, problem) in items
    assert "rows 6 to 10 (row group 2)" in problem.detail
    assert_no_content(items)


def test_too_large_row_is_reported_at_its_row_and_skipped(tmp_path, pq, pa):
    records = [chat(0), {"id": "big", "messages": [{"role": "user", "content": SECRET * 30_000}]}, chat(2)]
    path = write(pq, pa, tmp_path / "big.parquet", records)
    items = list(read_parquet(path, max_record_bytes=1_000_000))
    assert [row["id"] for row in rows(items)] == ["r0", "r2"]
    [problem] = problems(items)
    assert problem.kind == "too-large" and problem.line == 2 and "over the 1,000,000 bytes limit" in problem.detail
    assert_no_content(items)


def test_file_without_rows_is_empty(tmp_path, pq, pa):
    path = tmp_path / "none.parquet"
    pq.write_table(pa.table({"id": pa.array([], pa.int64())}), path)
    [(line, problem)] = list(read_parquet(path))
    assert line == 0 and problem.kind == "empty-file"


def test_missing_path_and_directory(tmp_path, pq):
    [(_, missing)] = list(read_parquet(tmp_path / "nope.parquet"))
    [(_, directory)] = list(read_parquet(tmp_path))
    assert missing.kind == "open-failed" and directory.kind == "is-directory"


def test_without_pyarrow_one_problem_says_how_to_install_it(monkeypatch, tmp_path):
    for name in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import pyarrow` raise ImportError
    [(line, problem)] = list(read_parquet(tmp_path / "any.parquet"))
    assert line == 0 and problem.kind == "reader-unavailable"
    assert INSTALL_HINT == "pip install 'pytest-ftdata[parquet]'"
    assert INSTALL_HINT in problem.detail


# -- streams and hashing --------------------------------------------------------------------


class Recording(io.RawIOBase):
    """A seekable stream that records which bytes were read through it (a hashing stream's view)."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)
        self.reads: list[tuple[int, int]] = []

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self.inner.seek(offset, whence)

    def tell(self):
        return self.inner.tell()

    def readinto(self, buffer):
        start = self.inner.tell()
        n = self.inner.readinto(buffer)
        self.reads.append((start, n))
        return n


def test_a_stream_sees_every_byte_of_the_file(tmp_path, pq, pa):
    records = [chat(i, secrets.token_hex(100)) for i in range(1000)]  # incompressible: well over 64 KiB
    path = write(pq, pa, tmp_path / "a.parquet", records, row_group_size=300)
    data = path.read_bytes()
    assert len(data) > 200_000
    stream = Recording(data)
    items = list(read_parquet(stream=stream))
    assert rows(items) == records
    seen = bytearray(len(data))
    for start, n in stream.reads:
        seen[start : start + n] = b"\x01" * n
    assert all(seen), "some bytes were never read through the stream"
    # pyarrow itself starts at the footer and never reads the leading magic: the reader filled that in.
    assert stream.reads[0][0] > 0
    assert stream.reads[-1] == (0, 4)
    assert not stream.closed


def test_a_file_object_in_place_of_the_path_is_read_as_the_stream(tmp_path, pq, pa):
    path = write(pq, pa, tmp_path / "a.parquet", [chat(0)])
    with open(path, "rb") as handle:
        assert rows(list(read_parquet(handle))) == [chat(0)]


def test_unseekable_stream_is_a_problem(pq):
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            return 0

    [(line, problem)] = list(read_parquet(stream=Pipe()))
    assert line == 0 and problem.kind == "unreadable-file"


# -- memory ---------------------------------------------------------------------------------

_MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    from pytest_ftdata.parquet_reader import read_parquet

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = 0
    for line, value in read_parquet(sys.argv[1]):
        assert isinstance(value, dict), value
        n += 1
    print(n, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """
)


def test_a_huge_row_group_is_read_in_bounded_memory(tmp_path, pq, pa):
    # One row group of 150 MB decoded (compressed to little on disk): pyarrow's default would read it whole.
    path = tmp_path / "wide.parquet"
    text = pa.array(["support ticket " * 100] * 100_000)
    pq.write_table(pa.table({"text": text}), path, row_group_size=100_000, use_dictionary=False, compression="zstd")
    del text
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path)], capture_output=True, text=True, timeout=60, check=True, cwd=REPO,
    )
    count, growth_mb = map(int, result.stdout.split())
    assert count == 100_000
    assert growth_mb < 80, result.stdout


# -- properties -----------------------------------------------------------------------------

RECORD = st.fixed_dictionaries(
    {
        "id": st.integers(-(2**63), 2**63 - 1),
        "text": st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
        "score": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
        "tags": st.lists(st.text(max_size=5), max_size=3),
        "turn": st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": st.text(max_size=10)}),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORD, min_size=1, max_size=30), group=st.integers(1, 8), batch=st.integers(1, 9))
def test_any_rows_come_back_in_order(pq, pa, records, group, batch):
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records), buffer, row_group_size=group)
    items = list(read_parquet(stream=io.BytesIO(buffer.getvalue()), batch_rows=batch))
    assert [line for line, _ in items] == list(range(1, len(records) + 1))
    assert rows(items) == records


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_files_never_raise_or_leak(pq, pa, flips):
    data = bytearray(_valid(pq, pa))
    for where, byte in flips:
        data[int(where * len(data))] = byte
    items = list(read_parquet(stream=io.BytesIO(bytes(data))))
    for line, value in items:
        assert type(line) is int and line >= 0 and isinstance(value, (dict, ReadProblem))
        if isinstance(value, dict):
            json.dumps(value, allow_nan=False)  # JSON-like whatever the damage
    assert_no_content(items)
