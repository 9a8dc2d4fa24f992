"""Streaming JSON Lines reader, safe on any input.

`JsonlReader(path)` yields `(line_number, value)` pairs (1-based) where `value` is the
parsed object (a dict) or a `ReadProblem` that says what is wrong with the line.
Problems never stop the stream: the next line is read as if nothing happened, so
one broken line cannot hide the state of the rest of the file. File-level problems
(cannot open, not a regular file, corrupt gzip, empty file, a JSON array instead of
JSON Lines, UTF-16) come with line 0.

Invariants, whatever the bytes:

- Only regular files are read (`safeio.open_regular`): a FIFO or `/dev/zero` named
  `train.jsonl` is a problem, not a hang.
- At most `max_line_bytes` of one line are held in memory: a longer line is measured
  while it is skipped and reported at its number. A gzip stream that expands more
  than `BOMB_RATIO` times is stopped. So memory is bounded by the limit, not the file.
- Nothing raw reaches a message: a problem's `detail` names positions and kinds
  only, and its excerpt is built (only when asked for) from the *decoded* line with
  every JSON string unescaped and redacted before anything is cut (`line_excerpt`).
- The reader never writes. After iteration it knows the CRC-32 of exactly the bytes
  it read (when asked to compute it) and whether the file changed while it was read,
  so the result cache never stores a result under the digest of other bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from array import array
from bisect import bisect_left
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from .redact import display, redact
from .safeio import UnreadableFile, file_state, open_regular, same_file_state

#: The default of the `max_line_bytes` setting: longer lines are skipped and reported.
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
#: How deep stdlib json may recurse while diagnosing a line orjson refused.
_DIAGNOSE_DEPTH_LIMIT = 1024
#: Lines larger than this are diagnosed from orjson's message alone (stdlib json would
#: build the whole half-parsed value in memory just to name the error).
_DIAGNOSE_BYTES_LIMIT = 1024 * 1024
#: A gzip stream that has produced more than BOMB_MIN_BYTES and more than BOMB_RATIO
#: times its compressed bytes is a decompression bomb (real JSONL compresses 3-20x).
BOMB_RATIO = 200
BOMB_MIN_BYTES = 256 * 1024 * 1024
#: One line offset is kept per this many lines, to find lines again (`fetch_records`).
INDEX_STRIDE = 1024
BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 20


class ReadProblem:
    """Why a line (or the whole file) could not be read as a JSON object.

    `kind` is one of: ``open-failed``, ``not-regular-file``, ``is-directory``,
    ``not-gzip``, ``corrupt-gzip``, ``truncated-gzip``, ``compression-bomb``,
    ``empty-file``, ``bom``, ``utf16``, ``blank-line``, ``line-too-long``, ``nul-byte``,
    ``invalid-utf8``, ``nan``, ``trailing-data``, ``too-deep``, ``lone-surrogate``,
    ``invalid-json``, ``not-object``, ``json-array-file``, ``changed-while-read``,
    ``duplicate-key``, ``undecodable-name``.

    `detail` never quotes the data. `excerpt` is the redacted view of the line around
    `column`, computed on first use from the raw line, which the problem keeps only
    until then (problems are consumed where they are made).
    """

    __slots__ = ("kind", "line", "detail", "recoverable", "column", "span", "_source", "_excerpt")

    def __init__(
        self,
        kind: str,
        line: int | None,
        detail: str,
        source: bytes | None = None,
        column: int | None = None,
        recoverable: bool = False,
        span: int = 1,
    ) -> None:
        self.kind = kind
        self.line = line
        self.detail = detail
        self.recoverable = recoverable
        #: How many consecutive lines, from `line` on, the problem stands for (a run of blank lines).
        self.span = span
        #: 0-based character position in the decoded line that the problem is about.
        self.column = column
        self._source = source
        self._excerpt: str | None = None

    @property
    def excerpt(self) -> str | None:
        if self._excerpt is None and self._source is not None:
            self._excerpt = line_excerpt(self._source, self.column)
            self._source = None
        return self._excerpt

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReadProblem):
            return NotImplemented
        return (self.kind, self.line, self.detail, self.recoverable) == (
            other.kind, other.line, other.detail, other.recoverable,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.line, self.detail))

    def __repr__(self) -> str:
        return f"ReadProblem({self.kind!r}, line={self.line!r}, detail={self.detail!r})"


# -- excerpts ----------------------------------------------------------------------------

#: A JSON string (possibly unterminated), a run of whitespace, a bare word, or one character.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|\s+|[^"\s,:\[\]{}]+|.', re.S)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"'}
#: Characters of one string shown in an excerpt (after redaction).
_STRING_SHOWN = 40


def _unescape(inner: str) -> str:
    """A JSON string body decoded leniently: an invalid escape stays as written."""

    def one(match: re.Match) -> str:
        code = match.group(1)
        if code[0] == "u" and len(code) == 5:
            value = int(code[1:], 16)
            return "\N{REPLACEMENT CHARACTER}" if 0xD800 <= value <= 0xDFFF else chr(value)
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(one, inner) if "\\" in inner else inner


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)


def line_excerpt(raw: bytes | str, column: int | None = None, width: int = 60) -> str:
    """A short view of a line that is not valid JSON, around `column`, that cannot leak.

    Every JSON string of the line is decoded (escapes such as `\\n` or `\\/` undone) and
    redacted whole before it is cut and escaped again; bare words are redacted too.
    Only then is the window of `width` characters taken.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text.rstrip("\r\n")
    pieces: list[str] = []
    starts: list[int] = []
    shown_at = 0
    focus = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            closed = len(token) >= 2 and token.endswith('"') and _closing_quote(token)
            inner = token[1:-1] if closed else token[1:]
            shown = json.dumps(display(_unescape(inner), _STRING_SHOWN), ensure_ascii=False)
            if not closed:
                shown = shown[:-1]
        elif first.isspace():
            shown = " "
        elif first in ",:[]{}":
            shown = first
        else:
            # A bare word can be the inside of a string whose quotes the damage shifted:
            # undo its escapes too, so `\\n` glued to a key id does not hide it.
            shown = _printable(display(_unescape(token), _STRING_SHOWN))
        if column is not None and match.start() <= column:
            focus = shown_at + min(column - match.start(), len(shown))
        starts.append(shown_at)
        pieces.append(shown)
        shown_at += len(shown)
    view = "".join(pieces)
    start = max(0, focus - width // 2) if column is not None and focus > width // 2 else 0
    piece = view[start : start + width]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + width < len(view) else ""
    return redact(f"{prefix}{piece}{suffix}")


def _closing_quote(token: str) -> bool:
    """Whether the final `"` of a string token closes it (is not escaped)."""
    backslashes = len(token) - 1 - len(token[:-1].rstrip("\\"))
    return backslashes % 2 == 0


# -- diagnosing a refused line --------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"non-standard constant {name}")


class _HugeNumber(ValueError):
    """A number no parser reads as written: past a 64-bit float, or thousands of digits."""

    def __init__(self, literal: str) -> None:
        super().__init__("huge number")
        self.literal = literal


#: Digits of an integer beyond which it is reported (Python refuses past 4,300 digits,
#: and orjson past 64-bit integers reads it as a float, losing all but 17 digits).
_MAX_INT_DIGITS = 1000


def _strict_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _HugeNumber(literal)
    return value


def _strict_int(literal: str) -> int:
    if len(literal) > _MAX_INT_DIGITS:
        raise _HugeNumber(literal)
    return int(literal)


def diagnose(raw: bytes, line: int) -> ReadProblem:
    """Explain why orjson refused a line, in terms a user can act on.

    orjson's messages are terse; stdlib json, run only on the failing line (and only
    on lines small enough to diagnose cheaply), tells NaN, trailing data and bad
    escapes apart.
    """
    nul = raw.find(b"\x00")
    if nul >= 0:
        column = len(raw[:nul].decode("utf-8", errors="replace"))
        return ReadProblem("nul-byte", line, f"contains a NUL byte at column {column + 1}", raw, column)
    try:
        # Without the line terminator, so an error at the end of a cut-off line gets its real column.
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        column = len(raw[: exc.start].decode("utf-8", errors="replace"))
        return ReadProblem(
            "invalid-utf8", line, f"is not valid UTF-8 (byte 0x{bad} at column {column + 1})", raw, column
        )
    stripped = text.strip()
    depth = 0
    for ch in stripped[: _DIAGNOSE_DEPTH_LIMIT + 1]:
        if ch in "[{":
            depth += 1
        else:
            break
    if depth > _DIAGNOSE_DEPTH_LIMIT:
        return ReadProblem("too-deep", line, f"is nested more than {_DIAGNOSE_DEPTH_LIMIT} levels deep", raw, 0)
    if len(raw) > _DIAGNOSE_BYTES_LIMIT:
        return _diagnose_from_orjson(raw, text, line)
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_strict_float, parse_int=_strict_int)
    except _HugeNumber as exc:
        shown = display(exc.literal, 24) if len(exc.literal) <= 24 else f"{display(exc.literal, 12)} ({len(exc.literal):,} characters)"
        return ReadProblem(
            "huge-number",
            line,
            f"has the number {shown}, too large to be read as written (JSON parsers turn it into infinity, "
            "refuse it, or keep only its first digits)",
            raw,
            max(text.find(exc.literal[:24]), 0),
        )
    except ValueError as exc:
        if str(exc).startswith("non-standard constant"):
            name = str(exc).rsplit(" ", 1)[-1]
            return ReadProblem(
                "nan", line, f"contains the bare value {name}, which JSON does not allow", raw, max(text.find(name), 0)
            )
        if isinstance(exc, json.JSONDecodeError):
            if exc.msg == "Extra data":
                return ReadProblem(
                    "trailing-data", line, f"has data after the end of the JSON object, at column {exc.colno}", raw, exc.pos
                )
            return ReadProblem("invalid-json", line, f"is not valid JSON: {exc.msg} at column {exc.colno}", raw, exc.pos)
        return ReadProblem("invalid-json", line, "is not valid JSON", raw, 0)
    except RecursionError:
        return ReadProblem("too-deep", line, "is nested too deeply to read", raw, 0)
    # stdlib accepted what orjson refused: in practice a lone UTF-16 surrogate escape.
    if "\\ud" in text.lower():
        return ReadProblem(
            "lone-surrogate",
            line,
            "contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not valid Unicode text",
            raw,
            text.lower().find("\\ud"),
        )
    kind = type(value).__name__
    return ReadProblem("invalid-json", line, f"could not be read ({kind} value rejected by the strict parser)", raw, 0)


def _diagnose_from_orjson(raw: bytes, text: str, line: int) -> ReadProblem:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "after document" in exc.msg:
            return ReadProblem(
                "trailing-data", line, f"has data after the end of the JSON object, at column {exc.colno}", raw, exc.pos
            )
        return ReadProblem("invalid-json", line, f"is not valid JSON: {exc.msg} at column {exc.colno}", raw, exc.pos)
    except RecursionError:  # pragma: no cover - orjson bounds its own depth
        return ReadProblem("too-deep", line, "is nested too deeply to read", raw, 0)
    return ReadProblem("invalid-json", line, "could not be read by the strict parser", raw, 0)


# -- the reader ------------------------------------------------------------------------------

_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class _Counting(io.RawIOBase):
    """The raw file, counting (and optionally checksumming) exactly the bytes read."""

    def __init__(self, raw, checksum: bool) -> None:
        self._raw = raw
        self.bytes = 0
        self.crc = 0 if checksum else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self.bytes += count
            if self.crc is not None:
                self.crc = zlib.crc32(memoryview(buffer)[:count], self.crc)
        return count or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


class JsonlReader:
    """One pass over a `.jsonl` or `.jsonl.gz` file; iterate it once.

    After iteration: `lines` (physical lines seen), `bytes_read` (of the file),
    `crc32` (of those bytes, when `checksum=True`), `changed` (the file was modified
    while it was read) and `line_index` (the offset of every `INDEX_STRIDE`-th line in
    the decompressed stream, for `fetch_records`).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        checksum: bool = False,
        duplicate_keys: bool = False,
    ):
        self.path = Path(path)
        self.max_line_bytes = max_line_bytes
        self.checksum = checksum
        #: Also report objects with a repeated key (a recoverable problem before the record).
        self.duplicate_keys = duplicate_keys
        self.lines = 0
        self.bytes_read = 0
        self.crc32: int | None = None
        self.changed = False
        #: `safeio.file_state` of the file as it was opened for this read.
        self.opened_state: tuple | None = None
        #: (lines consumed, stream offset) pairs, about one per `INDEX_STRIDE` lines.
        self.line_index: tuple[array, array] = (array("Q"), array("Q"))
        #: Whether the file was read to its end (a bomb or a read error stops early).
        self.complete = False

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
        buffered = io.BufferedReader(counting, buffer_size=_READ_CHUNK)
        try:
            head = buffered.peek(4)[:4]
            compressed = head[:2] == b"\x1f\x8b"
            if self.path.name.endswith(".gz") and not compressed:
                yield 0, ReadProblem("not-gzip", None, "has a .gz name but is not gzip-compressed (no gzip header)")
                return
            if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) >= 2 and head[0] != 0 and head[1] == 0) or (
                len(head) >= 2 and head[0] == 0 and head[1] != 0
            ):
                yield 0, ReadProblem(
                    "utf16", None, "is encoded as UTF-16 (or UTF-32), not UTF-8; re-encode it as UTF-8"
                )
                return
            handle = gzip.GzipFile(fileobj=buffered, mode="rb") if compressed else buffered
            yield from self._lines(handle, counting, compressed)
        finally:
            buffered.close()
            self.bytes_read = counting.bytes
            self.crc32 = counting.crc
            short = self.complete and counting.bytes != info.st_size
            self.changed = not same_file_state(info, self.path) or short

    def _lines(self, handle, counting: _Counting, compressed: bool) -> Iterator[tuple[int, dict | ReadProblem]]:
        limit = self.max_line_bytes
        readline = handle.readline
        loads = orjson.loads
        dumps = orjson.dumps
        duplicate_keys = self.duplicate_keys
        decode_error = orjson.JSONDecodeError
        index_lines, index_offsets = self.line_index
        next_mark = 0
        number = 0
        offset = 0
        records = 0
        failed = False
        array_file = False
        array_lines = 0
        first_raw = b""
        try:
            while True:
                if number >= next_mark:
                    index_lines.append(number)
                    index_offsets.append(offset)
                    next_mark = number + INDEX_STRIDE
                    if compressed and offset > BOMB_MIN_BYTES and offset > BOMB_RATIO * max(counting.bytes, 1):
                        failed = True
                        yield number + 1, ReadProblem(
                            "compression-bomb", number + 1,
                            f"expands more than {BOMB_RATIO} times its compressed size (over {offset:,} bytes from "
                            f"{counting.bytes:,}); reading stopped after line {number}",
                        )
                        break
                raw = readline(limit + 1)
                if not raw:
                    self.complete = True
                    break
                number += 1
                size = len(raw)
                offset += size
                if size > limit and raw[-1:] != b"\n":
                    size += self._skip_rest(readline)
                    offset += size - len(raw)
                    yield number, ReadProblem(
                        "line-too-long", number,
                        f"is {size:,} bytes long, over the limit of {limit:,} bytes (max_line_bytes); it was skipped",
                    )
                    continue
                if size < 3:  # no record fits in two bytes: blank lines never reach the parser
                    if not raw.strip():
                        first = number
                        run, skipped = _skip_blank_lines(handle)
                        number += run
                        offset += skipped
                        yield first, _blank(first, run + 1)
                        continue
                try:
                    value = loads(raw)
                except decode_error:
                    # The slow path: everything unusual is sorted out here, off the hot loop.
                    if number == 1 and raw.startswith(BOM):
                        yield 0, ReadProblem("bom", 1, "starts with a UTF-8 byte order mark (BOM)", recoverable=True)
                        raw = raw[len(BOM) :]
                        try:
                            value = loads(raw)
                        except decode_error:
                            pass
                        else:
                            if type(value) is dict:
                                records += 1
                                yield number, value
                                continue
                    if not raw.strip():
                        yield number, _blank(number, 1)
                        continue
                    if number == 1 and raw.lstrip().startswith(b"["):
                        array_file = True
                        first_raw = raw if len(raw) <= _DIAGNOSE_BYTES_LIMIT else b""
                    if array_file:
                        array_lines += 1
                        continue
                    yield number, diagnose(raw, number)
                    continue
                if type(value) is dict:
                    records += 1
                    if duplicate_keys:
                        # orjson keeps the last of a repeated key silently. A record that
                        # lost a pair re-serialises shorter; only then (or for writers that
                        # add spaces, when the key counts differ too) is it parsed again
                        # slowly to name the key.
                        try:
                            dumped = dumps(value)
                        except TypeError:  # nested deeper than orjson writes: check it the slow way
                            dumped = b""
                        if len(dumped) != len(raw.rstrip(b"\r\n")) and raw.count(b'":') != dumped.count(b'":'):
                            repeated = _repeated_key(raw)
                            if repeated is not None:
                                yield number, ReadProblem(
                                    "duplicate-key", number,
                                    f"has the key {display_repr_key(repeated)} twice in one object; parsers disagree "
                                    "on which value wins",
                                    recoverable=True,
                                )
                    yield number, value
                elif number == 1 and type(value) is list:
                    array_file = True
                    first_raw = raw if len(raw) <= _DIAGNOSE_BYTES_LIMIT else b""
                    array_lines += 1
                elif array_file:
                    array_lines += 1
                else:
                    kind = _JSON_TYPE_NAMES.get(type(value), "null")
                    yield number, ReadProblem("not-object", number, f"is {kind}, not a JSON object", raw, 0)
        except EOFError:
            failed = True
            yield number + 1, ReadProblem(
                "truncated-gzip", number + 1, f"ends early: the compressed stream is cut off after line {number}"
            )
        except gzip.BadGzipFile as exc:
            failed = True
            if "CRC" in str(exc) or "length" in str(exc):
                yield 0, ReadProblem(
                    "corrupt-gzip", None,
                    f"is a corrupt gzip file: its checksum does not match the data (after line {number}); the lines "
                    "read may be damaged",
                )
            else:
                yield 0, ReadProblem(
                    "corrupt-gzip", None,
                    f"has bytes after the end of its gzip stream that are not gzip data (after line {number})",
                )
        except zlib.error:
            failed = True
            yield number + 1, ReadProblem(
                "corrupt-gzip", number + 1, f"is a corrupt gzip file: the compressed data is damaged after line {number}"
            )
        except OSError as exc:
            failed = True
            yield number + 1, ReadProblem(
                "open-failed", number + 1, f"could not be read past line {number}: {exc.strerror or type(exc).__name__}"
            )
        self.lines = number
        if array_file and records and array_lines == 1:
            # Only line 1 was an array and JSON records follow: a stray line, not an array file.
            try:
                kind = _JSON_TYPE_NAMES.get(type(orjson.loads(first_raw)), "null")
            except orjson.JSONDecodeError:
                yield 1, diagnose(first_raw, 1)
            else:
                yield 1, ReadProblem("not-object", 1, f"is {kind}, not a JSON object", first_raw, 0)
        elif array_file:
            yield 0, ReadProblem(
                "json-array-file", None, f"is one JSON array, not JSON Lines ({array_lines} lines could not be read as records)"
            )
        elif records == 0 and not failed:
            detail = "is empty" if number == 0 else f"has {number} line{'s' if number != 1 else ''} but no JSON records"
            yield 0, ReadProblem("empty-file", None, detail)

    @staticmethod
    def _skip_rest(readline) -> int:
        """Read and drop the rest of an over-long line; how many bytes it had."""
        skipped = 0
        while True:
            chunk = readline(_READ_CHUNK)
            if not chunk:
                return skipped
            skipped += len(chunk)
            if chunk[-1:] == b"\n":
                return skipped


def _blank(line: int, count: int) -> ReadProblem:
    detail = "is blank" if count == 1 else f"is blank, and so are the {count - 1:,} lines after it"
    return ReadProblem("blank-line", line, detail, recoverable=True, span=count)


def _skip_blank_lines(handle) -> tuple[int, int]:
    """Consume the newlines that follow a blank line in one go: (lines, bytes).

    A file of a billion empty lines (a two-megabyte gzip) must cost a decompression,
    not a billion trips round the reader's loop, and one finding, not a billion."""
    lines = skipped = 0
    while True:
        ahead = handle.peek(_READ_CHUNK)[:_READ_CHUNK]
        if not ahead:
            return lines, skipped
        rest = ahead.lstrip(b"\r\n")
        blank = len(ahead) - len(rest)
        if rest:
            # Keep a "\r" that starts the next line's content out of the run.
            blank = ahead.rfind(b"\n", 0, blank) + 1
        if not blank:
            return lines, skipped
        lines += ahead.count(b"\n", 0, blank)
        skipped += blank
        handle.read(blank)
        if rest:
            return lines, skipped


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_repeats(pairs: list) -> dict:
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise _Repeated(key)
        seen.add(key)
    return dict(pairs)


def _repeated_key(raw: bytes) -> str | None:
    """The first key that repeats within one object of `raw` (a valid JSON line), or None."""
    if len(raw) > _DIAGNOSE_BYTES_LIMIT:
        return None
    try:
        json.loads(raw, object_pairs_hook=_no_repeats)
    except _Repeated as repeated:
        return repeated.key
    except (ValueError, RecursionError):
        return None
    return None


def display_repr_key(key: str) -> str:
    """A key of the data, quoted for a message (keys are data too: redacted, cut)."""
    return repr(display(key, 40))


def read_jsonl(path: str | os.PathLike, **options) -> Iterator[tuple[int, dict | ReadProblem]]:
    """Yield `(line, record or problem)` for every line of a `.jsonl` or `.jsonl.gz` file."""
    return iter(JsonlReader(path, **options))


def fetch_records(
    path: str | os.PathLike,
    lines: Iterable[int],
    line_index: tuple[array, array] | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> dict[int, dict]:
    """The records at the given 1-based line numbers of a file read before.

    With the `line_index` the reader left, each wanted line is reached by seeking to
    the nearest indexed line; without it, the file is read from the start. Lines that
    cannot be reached or parsed any more (the file changed) are missing from the result.
    """
    wanted = sorted(set(lines))
    found: dict[int, dict] = {}
    if not wanted:
        return found
    try:
        raw_file, _ = open_regular(path)
    except UnreadableFile:
        return found
    buffered = io.BufferedReader(raw_file, buffer_size=_READ_CHUNK)
    try:
        compressed = buffered.peek(2)[:2] == b"\x1f\x8b"
        handle = gzip.GzipFile(fileobj=buffered, mode="rb") if compressed else buffered
        current = 0  # lines consumed so far
        marks, offsets = line_index if line_index is not None else ((), ())
        for line in wanted:
            # The last mark before the wanted line: jump there when it is ahead of us.
            at = bisect_left(marks, line) - 1
            if at >= 0 and marks[at] > current:
                handle.seek(offsets[at])
                current = marks[at]
            raw = b""
            while current < line:
                raw = handle.readline(max_line_bytes + 1)
                if not raw:
                    return found
                current += 1
                if len(raw) > max_line_bytes and raw[-1:] != b"\n":
                    JsonlReader._skip_rest(handle.readline)
                    raw = b""
            content = raw.strip()
            if content:
                if content.startswith(BOM):
                    content = content[len(BOM) :]
                try:
                    value = orjson.loads(content)
                except orjson.JSONDecodeError:
                    continue
                if type(value) is dict:
                    found[line] = value
    except (OSError, EOFError, zlib.error):
        pass
    finally:
        buffered.close()
    return found
