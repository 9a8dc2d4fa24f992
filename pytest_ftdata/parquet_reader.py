"""Reader for `.parquet` files, the format the Hugging Face Hub serves every dataset in.

`read_parquet(path)` yields `(row, record or problem)` like `io.read_jsonl`: `row`
is the 1-based row number (counted across row groups), the value is the row as a
dict of plain Python values or an `io.ReadProblem`; file-level problems come with
line 0. pyarrow is an optional extra: without it the reader yields one
``reader-unavailable`` problem that says ``pip install 'pytest-ftdata[parquet]'``.

Invariants:

- No content in problems. Details are fixed phrases and numbers; pyarrow's
  error messages are never passed on (they can quote paths, column names or
  values). `excerpt` is always None.
- Never raises. A file pyarrow cannot open is one ``unreadable-file`` problem;
  a row group it cannot decode is one problem at its first row, and reading
  goes on with the next row group (row groups are independent in Parquet).
- Bounded memory. pyarrow reads column data through a buffer per leaf column,
  1 MiB each and 64 MiB in all (its default reads each column chunk whole: a
  300 MB row group costs 300 MB before the first row). Rows are decoded in batches of at most `batch_rows`
  rows and about 16 MiB (sized from the row group's metadata), and converted to
  Python one batch at a time. So the reader holds: the column buffers, one
  decompressed page per column (writers use 1 MiB), one decoded batch, and that
  batch as Python objects; none of it grows with the size of a row group or
  file (a 575 MB file of two 290 MB row groups reads in 40 MB). A row larger
  than `max_record_bytes` (its decoded Arrow size) is reported as ``too-large``
  and skipped before conversion to Python. Parquet cannot measure a row without
  decoding the page that holds it, so such a row is held in Arrow memory while
  it is measured, at a few times its size (the page compressed, decompressed
  and decoded); row groups that average more than the limit per row are decoded
  one row at a time, so only one such row is held at once.
- Never writes.

Values, chosen to match what the same data gives as JSON:

- structs are dicts, lists are lists, maps are dicts when their keys are
  strings (else lists of ``[key, value]`` pairs), nulls are None;
- floats NaN and ±infinity are None (JSON has no such numbers; pandas' `to_json`
  writes null);
- timestamps, dates and times are strings as Arrow formats them: ISO 8601 with
  a space between date and time, fractional seconds to the column's unit, and
  ``Z`` or an offset when the column has a time zone;
- decimals are ints when their scale is 0 and they fit 64 bits, else floats;
- durations are seconds (float); month-day-nano intervals are dicts;
- binary values are strings when they are valid UTF-8 (some writers store text
  as binary), else base64 (standard alphabet) strings, so the value stays
  lossless and JSON-like; images and audio stored as bytes become long base64
  strings that no text check mistakes for a turn's text unless a format maps it.

Hashing through `stream`: pyarrow reads the file out of order through it: the
last 64 KiB first (the footer; a smaller file is read whole at this point),
then every column chunk in buffered 1 MiB reads, seeking between them; it never
reads the 4-byte leading magic of a larger file. Once the last row has been
yielded, this reader reads every byte pyarrow skipped through the same stream,
so a hashing stream has seen each byte of the file at least once (some twice),
in an order fixed by the file's bytes and the pyarrow version: a hash of the
read sequence, not of the file in order. A caller that stops iterating early
gets no such guarantee.
"""

from __future__ import annotations

import base64
import math
import os
from typing import BinaryIO, Iterator

from .io import ReadProblem

DEFAULT_BATCH_ROWS = 1024
DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024
#: Decoded bytes per batch the reader aims at (it picks the batch's row count from the row group's metadata).
BATCH_BYTES = 16 * 1024 * 1024
#: pyarrow's read buffer per column; without one it reads each column chunk whole.
BUFFER_BYTES = 1024 * 1024
#: The most all column buffers take together (a file of 1,000 columns gets 64 KiB each).
ALL_BUFFERS_BYTES = 64 * 1024 * 1024
INSTALL_HINT = "pip install 'pytest-ftdata[parquet]'"


def read_parquet(
    path: str | os.PathLike | None = None,
    *,
    stream: BinaryIO | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[tuple[int, dict | ReadProblem]]:
    """Yield `(row, record or problem)` for every row of a Parquet file.

    Give `path`, or `stream`: an open, seekable binary file object (for example
    one that hashes what is read; see the module docstring for what pyarrow
    reads through it). With both, `stream` is read and `path` is not opened.
    """
    try:
        import pyarrow  # noqa: F401 - the [parquet] extra: imported on use, its absence is a finding
        import pyarrow.parquet  # noqa: F401 - same extra
    except ImportError:
        yield 0, ReadProblem("reader-unavailable", None, f"needs pyarrow to be read as Parquet: {INSTALL_HINT}")
        return
    if stream is None and hasattr(path, "read"):
        stream, path = path, None  # a file object passed where the path goes
    if stream is None:
        if path is None:
            yield 0, ReadProblem("open-failed", None, "cannot be opened: no path or stream was given")
            return
        if os.path.isdir(path):
            yield 0, ReadProblem("is-directory", None, "is a directory, not a Parquet file")
            return
        try:
            handle = open(path, "rb")
        except OSError as exc:
            yield 0, ReadProblem("open-failed", None, f"cannot be opened: {exc.strerror or type(exc).__name__}")
            return
        with handle:
            yield from _read(handle, max(1, int(batch_rows)), max(1, int(max_record_bytes)), fill_gaps=False)
    else:
        yield from _read(stream, max(1, int(batch_rows)), max(1, int(max_record_bytes)), fill_gaps=True)


def _read(raw: BinaryIO, batch_rows: int, limit: int, *, fill_gaps: bool):
    import pyarrow as pa  # the [parquet] extra, known to be there (see read_parquet)
    import pyarrow.parquet as pq  # same extra

    source = _Tracked(raw)
    try:
        size = source.seek(0, os.SEEK_END)
        source.seek(0)
    except (OSError, ValueError, AttributeError):
        yield 0, ReadProblem("unreadable-file", None, "cannot be read as Parquet: the stream is not seekable")
        return
    if size == 0:
        yield 0, ReadProblem("empty-file", None, "is empty")
        return
    try:
        meta = pq.read_metadata(source)
        # pyarrow buffers each leaf column separately: share out at most 64 MiB, at most 1 MiB each.
        buffer = max(64 * 1024, min(BUFFER_BYTES, ALL_BUFFERS_BYTES // max(1, meta.num_columns)))
        parquet = pq.ParquetFile(source, metadata=meta, buffer_size=buffer, pre_buffer=False)
        schema = parquet.schema_arrow
        groups = [(meta.row_group(k).num_rows, meta.row_group(k).total_byte_size) for k in range(meta.num_row_groups)]
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... with messages we do not repeat
        yield 0, ReadProblem("unreadable-file", None, f"is not a readable Parquet file: {_why(exc, 'its footer')}")
        return
    names = schema.names
    plans = [_plan(field.type, pa) for field in schema]
    first = 1
    rows_seen = 0
    for index, (num_rows, group_bytes) in enumerate(groups):
        per_row = group_bytes / num_rows if num_rows > 0 else 0
        # Rows per batch from the metadata; one at a time when rows average more than the limit.
        batch = max(1, min(batch_rows, int(BATCH_BYTES // per_row) if per_row else batch_rows))
        if per_row > limit:
            batch = 1
        row = first
        try:
            for record_batch in parquet.iter_batches(batch_size=batch, row_groups=[index], use_threads=False):
                for item in _rows(record_batch, row, names, plans, limit, pa):
                    if type(item[1]) is dict:
                        rows_seen += 1
                    yield item
                row += record_batch.num_rows
        except Exception as exc:
            end = first + max(num_rows, 1) - 1
            span = f"rows {row:,} to {end:,}" if end > row else f"row {row:,}"
            yield row, ReadProblem(
                "unreadable-file",
                row,
                f"is the first of {span} (row group {index + 1}), which could not be decoded: {_why(exc, 'the data')}; "
                "they were skipped",
            )
        first += max(num_rows, 0)
    if first == 1:
        yield 0, ReadProblem("empty-file", None, "has no rows")
    elif rows_seen == 0:
        yield 0, ReadProblem("empty-file", None, "has no rows that could be read")
    if fill_gaps:
        try:
            source.read_gaps(size)
        except Exception as exc:
            yield 0, ReadProblem("open-failed", None, f"could not be read to the end for hashing: {_why(exc, 'the file')}")


def _why(exc: BaseException, part: str) -> str:
    """A fixed phrase for a pyarrow failure, by exception type only."""
    name = type(exc).__name__
    if isinstance(exc, MemoryError) or name == "ArrowMemoryError":
        return f"{part} needs more memory than is available"
    if name == "ArrowNotImplementedError":
        return f"{part} uses a Parquet feature pyarrow cannot read (a codec, encoding or type)"
    if "too deeply nested" in str(exc):  # pyarrow's fixed wording for its schema depth limit (100)
        return f"{part} declares columns nested more than pyarrow's limit of 100 levels; flatten the nested columns"
    if isinstance(exc, OSError):
        return f"{part} could not be read ({name}: a damaged page, or the file is cut short)"
    return f"{part} is damaged or not Parquet ({name})"


def _rows(batch, first: int, names: list[str], plans: list, limit: int, pa):
    """The rows of one record batch as `(row, dict)`, oversized rows as problems."""
    skip: dict[int, int] = {}
    if batch.nbytes > limit:
        # Only a batch over the limit can hold a row over it: measure its rows one by one.
        for k in range(batch.num_rows):
            size = batch.slice(k, 1).nbytes
            if size > limit:
                skip[k] = size
        if skip:
            keep = pa.array([k not in skip for k in range(batch.num_rows)])
            batch = batch.filter(keep)
    columns = []
    for array, (target, convert) in zip(batch.columns, plans):
        if target is not None:
            try:
                array = array.cast(target)
            except Exception:
                target = None  # pyarrow cannot cast this nesting: convert the values in Python instead
                convert = _plain
        values = array.to_pylist()
        if convert is not None:
            values = [convert(v) for v in values]
        columns.append(values)
    kept = zip(*columns) if columns else iter([()] * batch.num_rows)
    row = first
    for k in range(batch.num_rows + len(skip)):
        if k in skip:
            yield row, ReadProblem(
                "too-large", row, f"is {skip[k]:,} bytes decoded, over the {_size(limit)} limit; it was skipped"
            )
        else:
            yield row, dict(zip(names, next(kept)))
        row += 1


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n:,} bytes"


# -- values ---------------------------------------------------------------------------------


def _plan(arrow_type, pa):
    """How to turn one column into JSON-like values: `(cast target or None, per-value function or None)`.

    Arrow casts what it can in bulk (temporal types to strings, decimals to
    numbers); a per-value function handles what needs Python (binary, floats
    that may be NaN, maps, durations, intervals). Columns of strings, integers,
    booleans, and lists and structs of them, need neither: `to_pylist` is
    already JSON-like.
    """
    target = _cast_target(arrow_type, pa)
    typ = target if target is not None else arrow_type
    return (None if target == arrow_type else target), _converter(typ, pa)


def _is(name: str, t, pa) -> bool:
    check = getattr(pa.types, name, None)  # some predicates are newer than pyarrow 14
    return bool(check and check(t))


def _cast_target(t, pa):
    """`t` with temporal leaves as strings and decimal leaves as numbers (`t` itself when nothing changes)."""
    types = pa.types
    if types.is_timestamp(t) or types.is_date(t) or types.is_time(t):
        return pa.string()
    if types.is_decimal(t):
        return pa.int64() if t.scale == 0 and t.precision <= 18 else pa.float64()
    if types.is_list(t) or types.is_large_list(t) or types.is_fixed_size_list(t):
        inner = _cast_target(t.value_type, pa)
        if inner == t.value_type:
            return t
        if types.is_large_list(t):
            return pa.large_list(pa.field(t.value_field.name, inner, t.value_field.nullable))
        return pa.list_(pa.field(t.value_field.name, inner, t.value_field.nullable))
    if types.is_struct(t):
        fields = [t.field(k) for k in range(t.num_fields)]
        inner = [_cast_target(f.type, pa) for f in fields]
        if all(a == f.type for a, f in zip(inner, fields)):
            return t
        return pa.struct([pa.field(f.name, a, f.nullable) for f, a in zip(fields, inner)])
    if types.is_dictionary(t):
        inner = _cast_target(t.value_type, pa)
        return t if inner == t.value_type else inner
    return t  # maps, unions and the rest: their values are converted in Python when needed


def _converter(t, pa):
    """A function making `to_pylist` values of type `t` JSON-like, or None when they already are."""
    types = pa.types
    if types.is_string(t) or types.is_large_string(t) or _is("is_string_view", t, pa):
        return None
    if types.is_integer(t) or types.is_boolean(t) or types.is_null(t):
        return None
    if types.is_floating(t):
        return _finite
    if types.is_binary(t) or types.is_large_binary(t) or types.is_fixed_size_binary(t) or _is("is_binary_view", t, pa):
        return _text_or_base64
    if types.is_dictionary(t):
        return _converter(t.value_type, pa)
    if types.is_list(t) or types.is_large_list(t) or types.is_fixed_size_list(t) or _is("is_list_view", t, pa) or _is(
        "is_large_list_view", t, pa
    ):
        inner = _converter(t.value_type, pa)
        if inner is None:
            return None
        return lambda v: None if v is None else [inner(x) for x in v]
    if types.is_struct(t):
        fields = [(t.field(k).name, _converter(t.field(k).type, pa)) for k in range(t.num_fields)]
        fields = [(name, f) for name, f in fields if f is not None]
        if not fields:
            return None

        def struct(v):
            if v is not None:
                for name, f in fields:
                    v[name] = f(v[name])
            return v

        return struct
    if types.is_map(t):
        key, item = _converter(t.key_type, pa) or _same, _converter(t.item_type, pa) or _same
        string_keys = types.is_string(t.key_type) or types.is_large_string(t.key_type)

        def mapping(v):
            if v is None:
                return None
            if string_keys:
                return {k: item(x) for k, x in v}
            return [[key(k), item(x)] for k, x in v]

        return mapping
    return _plain  # durations, intervals, unions, extension types, anything newer: by Python type


def _same(v):
    return v


def _finite(v):
    return v if v is None or math.isfinite(v) else None


def _text_or_base64(v):
    if v is None:
        return None
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(v).decode("ascii")


def _plain(v):
    """Any value `to_pylist` can give, made JSON-like by its Python type (the slow, general path)."""
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return _finite(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _text_or_base64(bytes(v))
    if isinstance(v, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        # A map gives a list of (key, value) tuples: a dict when the keys are strings, as JSON has it.
        if v and all(type(x) is tuple and len(x) == 2 and isinstance(x[0], str) for x in v) and not hasattr(v, "_fields"):
            return {k: _plain(x) for k, x in v}
        if hasattr(v, "_asdict"):  # named tuples such as MonthDayNano
            return {k: _plain(x) for k, x in v._asdict().items()}
        return [_plain(x) for x in v]
    if hasattr(v, "total_seconds"):  # timedelta, pandas.Timedelta
        return v.total_seconds()
    if hasattr(v, "isoformat"):  # datetime, date, time, pandas.Timestamp
        return v.isoformat()
    if hasattr(v, "as_tuple") and hasattr(v, "to_integral_value"):  # Decimal
        return int(v) if v == v.to_integral_value() else float(v)
    if hasattr(v, "months") and hasattr(v, "days") and hasattr(v, "nanoseconds"):
        return {"months": v.months, "days": v.days, "nanoseconds": v.nanoseconds}
    return str(v)  # UUID and other scalar objects


class _Tracked:
    """A file object over the caller's stream that remembers which byte ranges were read.

    pyarrow reads through it (its `read`, `seek`, `tell`); `read_gaps` then reads
    what pyarrow skipped, so the caller's stream sees every byte.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.spans: list[tuple[int, int]] = []
        self.closed = False

    def _note(self, start: int, length: int) -> None:
        if length > 0:
            self.spans.append((start, start + length))
            if len(self.spans) > 4096:  # keep the record small however many reads there are
                self.spans = _merge(self.spans)

    def read(self, n: int = -1) -> bytes:
        start = self.raw.tell()
        data = self.raw.read(n)
        self._note(start, len(data))
        return data

    def readinto(self, buffer) -> int:
        start = self.raw.tell()
        n = self.raw.readinto(buffer)
        self._note(start, n or 0)
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:  # pyarrow may close its file; the caller's stream is the caller's to close
        self.closed = True

    def read_gaps(self, size: int) -> None:
        at = 0
        for start, end in _merge(self.spans) + [(size, size)]:
            while at < start:
                self.raw.seek(at)
                data = self.raw.read(min(start - at, BUFFER_BYTES))
                if not data:
                    return
                at += len(data)
            at = max(at, end)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
