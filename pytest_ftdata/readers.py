"""Which reader reads a data file: JSON Lines, a JSON array, or Parquet.

Every reader yields `(line, record or io.ReadProblem)` and, after iteration, tells
how many lines it saw, whether the file changed while it was read, and (where it
reads the file front to back) the CRC-32 of exactly the bytes it read:

- `.jsonl`, `.jsonl.gz`: `io.JsonlReader`;
- `.json`: one JSON array of records (Alpaca, FastChat), streamed by
  `json_array.read_json_array`, each record located by the line it starts on; a
  `.json` file that is really JSON Lines is read as such;
- `.parquet`: `parquet_reader.read_parquet` (the `[parquet]` extra), rows numbered
  from 1 as lines. pyarrow seeks (the footer first), so the bytes it reads are not the
  file in order: a Parquet file is verified by its size, times and identity before
  and after the read instead of by a checksum (`checksummed` is False).

Files named `*.schema.json` are JSON Schemas, never data.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from .io import DEFAULT_MAX_LINE_BYTES, JsonlReader, ReadProblem, _Counting
from .io import fetch_records as fetch_jsonl_records
from .json_array import read_json_array, sniff_json_layout
from .parquet_reader import read_parquet
from .safeio import UnreadableFile, file_state, open_regular, same_file_state

DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")
#: What a file of this format is called in messages.
FORMAT_NAMES = {".jsonl": "JSON Lines", ".jsonl.gz": "JSON Lines", ".json": "a JSON array", ".parquet": "Parquet"}
_NOT_DATA = (".schema.json",)
_SNIFF_BYTES = 64 * 1024


#: Characters a file name may hold that no output may print as they are: control
#: characters (a newline in a CI log starts a workflow command, an escape sequence
#: recolours or rewrites the terminal), line separators and bidirectional overrides.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable_name(name: str) -> str:
    """A file name as printable Unicode: undecodable bytes (kept by Python as surrogates)
    and unprintable characters (`UNPRINTABLE`) escaped, `\\xff` and `\\x0a`."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return UNPRINTABLE.sub(lambda found: f"\\x{ord(found.group()):02x}" if ord(found.group()) < 0x100
                           else f"\\u{ord(found.group()):04x}", name)


def is_data_file(name: str) -> bool:
    return name.endswith(DATA_SUFFIXES) and not name.endswith(_NOT_DATA)


def data_stem(name: str) -> str:
    for suffix in DATA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def suffix_of(name: str) -> str:
    for suffix in (".jsonl.gz", *DATA_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return ""


class StreamReader:
    """A reader over a regular file opened here, with the bookkeeping every format shares.

    `read(stream, max_record_bytes)` yields the records of the opened binary stream."""

    def __init__(self, path: Path, read, *, max_line_bytes: int, checksum: bool, checksummed: bool = True) -> None:
        self.path = Path(path)
        self._read = read
        self.max_line_bytes = max_line_bytes
        #: Whether the format reads the file front to back, so its CRC-32 is the file's.
        self.checksummed = checksummed
        self.checksum = checksum and checksummed
        self.lines = 0
        self.crc32: int | None = None
        self.changed = False
        #: `safeio.file_state` of the file as it was opened for this read.
        self.opened_state: tuple | None = None
        self.complete = False
        self.line_index = None

    def __iter__(self) -> Iterator[tuple[int, dict | ReadProblem]]:
        try:
            raw_file, info = open_regular(self.path)
        except UnreadableFile as exc:
            kind = "is-directory" if exc.reason.startswith("is a directory") else (
                "not-regular-file" if exc.not_regular else "open-failed"
            )
            yield 0, ReadProblem(kind, None, exc.reason)
            return
        self.opened_state = file_state(info)
        counting = _Counting(raw_file, self.checksum)
        # A format that seeks (Parquet reads its footer first) gets the seekable file
        # itself: the counting wrapper reads front to back only, and pyarrow buffers.
        buffered = io.BufferedReader(counting, buffer_size=1 << 20) if self.checksummed else raw_file
        try:
            for line, value in self._read(buffered, self.max_line_bytes):
                if line > self.lines:
                    self.lines = line
                yield line, value
            self.complete = True
        finally:
            buffered.close()
            self.crc32 = counting.crc
            read_all = not self.checksummed or counting.bytes == info.st_size
            self.changed = not same_file_state(info, self.path) or (self.complete and not read_all)


def _json_array(stream, limit: int):
    return read_json_array(stream, max_record_bytes=limit)


def _parquet(stream, limit: int):
    return read_parquet(stream=stream, max_record_bytes=limit)


def _layout(path: Path) -> str:
    """`array`, `jsonl` or `other`: how a `.json` file is laid out (from its first bytes)."""
    try:
        handle, _ = open_regular(path)
    except UnreadableFile:
        return "array"  # the array reader reports why it cannot be read
    with handle:
        return sniff_json_layout(handle.read(_SNIFF_BYTES))


def open_reader(
    path: str | os.PathLike,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    checksum: bool = False,
    duplicate_keys: bool = False,
):
    """The reader of a data file, by its name (and, for `.json`, its first bytes)."""
    path = Path(path)
    suffix = suffix_of(path.name)
    if suffix == ".parquet":
        return StreamReader(path, _parquet, max_line_bytes=max_line_bytes, checksum=checksum, checksummed=False)
    if suffix == ".json" and _layout(path) != "jsonl":
        return StreamReader(path, _json_array, max_line_bytes=max_line_bytes, checksum=checksum)
    return JsonlReader(path, max_line_bytes=max_line_bytes, checksum=checksum, duplicate_keys=duplicate_keys)


def fetch_records(path: str | os.PathLike, lines: Iterable[int], line_index=None, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> dict[int, dict]:
    """The records at the given lines (rows, for Parquet) of a file read before; lines
    that cannot be reached any more are missing from the result."""
    path = Path(path)
    reader = open_reader(path, max_line_bytes=max_line_bytes)
    if isinstance(reader, JsonlReader):
        return fetch_jsonl_records(path, lines, line_index, max_line_bytes=max_line_bytes)
    wanted = set(lines)
    found: dict[int, dict] = {}
    last = max(wanted, default=0)
    for line, value in reader:
        if line in wanted and isinstance(value, dict):
            found[line] = value
        if line >= last:
            break
    return found
