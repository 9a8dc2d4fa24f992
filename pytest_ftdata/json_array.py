"""Streaming reader for `.json` files that hold one JSON array of records.

Alpaca, FastChat and many Hub repositories publish a dataset as one (often
pretty-printed) JSON array. `read_json_array(stream)` yields `(line, record or
problem)` like `io.read_jsonl`: `line` is the 1-based line on which an array
element starts, the value is the element's `dict` or an `io.ReadProblem`;
file-level problems come with line 0.

Invariants (the product promises them under hostile input):

- No content in problems. Every `detail` is built from fixed phrases, numbers
  and JSON type names; `excerpt` is always None. A secret inside a malformed
  record cannot reach a report through this module.
- Bounded memory. The reader buffers at most one element of at most
  `max_record_bytes` plus two chunks (1 MiB each), and orjson's working memory
  for that element (the parsed record; while it probes an element's end, a few
  times at most 4 MiB). An element longer than the limit is reported at its
  start line and skipped by a streaming scan that keeps only the current chunk.
  No state grows with the number of elements or problems.
- Never raises, never hangs. Every failure is a problem; after a malformed
  element the reader resynchronises at the element's end and reads on. Every
  step of the loop consumes input, so the reader ends on any input.
- Never writes, never opens paths (`read_json_array_path` is a thin helper for
  tests and notebooks), never seeks: the bytes read are a prefix of the file that
  covers everything the output depends on, so a caller hashing what it hands
  out hashes what was analysed.

How an element is cut out (speed comes from doing almost nothing per byte in
Python):

1. Layout needle. After one element boundary has been seen, the reader knows
   what the next one looks like: ``}`` + the separator (``,\\n  `` when
   pretty-printed) + the opening of the next record up to its first key
   (``{\\n    "id":``). A regular expression search for that literal, starting
   as far in as the shortest record seen, locates the candidate end, and
   `orjson.loads` parses the candidate. If it parses, the cut is exact: a JSON
   object is self-delimiting, so a prefix that parses as one complete object is
   that object. A wrong guess only costs a failed parse, whose error says where
   the record really ends when the guess was too long.
2. Probe. Otherwise orjson parses a window from the element start; its error
   "unexpected content after document" gives the element's exact end, "unexpected
   end of data" grows the window (x4, up to 4 MiB; longer elements go to the
   scanner, which finds their end before anything parses them).
3. Layout, then scanner, for what orjson calls malformed. An element that
   starts its line ends where the layout says: at the closing bracket that ends
   its line, or at the next line holding its opening indentation and a closing
   bracket. Brackets and quotes inside the broken element cannot mislead that,
   so one bad record does not swallow the rest of a pretty-printed file.
   Otherwise (compact layouts), and for scalars and oversized elements, a small
   scanner tracks strings, escapes and bracket depth with `bytes` methods and
   regular expressions over the chunk; it treats any closing bracket as closing
   one level and a raw line break as the end of a string (valid JSON has
   neither).

Problem kinds, reused from `io` with the same meaning: ``empty-file`` (no bytes,
only whitespace, an empty array, or no element was an object), ``bom`` (UTF-8
byte order mark, recoverable), ``invalid-utf8`` (also file-level, for UTF-16 and
UTF-32 files), ``nul-byte``, ``nan`` (NaN, Infinity, or a number too large for a
double), ``lone-surrogate``, ``too-deep`` (more than 1024 levels, orjson's limit),
``invalid-json`` (also a missing or trailing comma between elements),
``not-object`` (an element that is a string, number, array, boolean or null),
``trailing-data`` (file-level: data after the closing bracket, not read),
``open-failed`` (a read error, or a text-mode stream).

New kinds:

- ``not-an-array`` (file-level): the top-level value is an object (one record,
  a dict of splits or of columns) or a scalar, not an array. Like
  ``jsonl-in-json``, ``trailing-data`` and a wide encoding, it ends the reading.
- ``jsonl-in-json`` (file-level): the file is JSON Lines under a `.json` name;
  read it with `io.read_jsonl` (`sniff_json_layout` tells the caller up front).
- ``truncated-array``: the file ends inside an element (at the element's line)
  or between elements before the closing ``]`` (file-level, line 0).
- ``too-large``: an element longer than `max_record_bytes`; it is skipped.

Line numbers count ``\\n`` only. Columns in problems are characters, counted
when the line's start is at most 4 KiB back; further out the problem gives the
byte offset in the file instead, so no problem costs more than a few KiB of
work whatever the line length.
"""

from __future__ import annotations

import os
import re
from typing import BinaryIO, Iterator

import orjson

from .io import BOM, ReadProblem

DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024
#: Bytes asked of the stream per read; also the most a read holds beyond one element.
CHUNK_BYTES = 1024 * 1024
#: How far the layout needle is searched before the probe takes over; grows with the records seen.
_MIN_SEARCH = 16 * 1024
#: The smallest first window of the probe.
_MIN_WINDOW = 256
#: After this many layout guesses in a row that were wrong, stop guessing (nested records that look alike).
_MAX_MISSES = 32
#: A column is counted in characters only this far back from the line start (bounds the work per problem).
_COLUMN_REACH = 4096
#: The probe lets orjson try windows up to this size; past it the scanner finds the end first, so orjson's
#: working memory (several times the input for records of many tiny values) never exceeds a few times this.
_PROBE_REACH = 4 * 1024 * 1024
#: orjson's (yyjson's) nesting limit.
_DEPTH_LIMIT = 1024

_WS = b" \t\r\n"
# No pattern here can backtrack (nothing after a repeat can fail), so each runs in linear time; and no
# pattern repeats a group without a small bound: `re` keeps state for every repetition of a group, which
# on a long run of escapes would cost memory in proportion to the input.
_SKIP_WS = re.compile(rb"[ \t\r\n]*").match
_COMMA_RUN = re.compile(rb"[ \t\r\n,]*").match
#: The opening of a record up to its first key, when it is a short plain string: the tail of the needle.
_FIRST_KEY = re.compile(rb'\{[ \t\r\n]*"[^"\\\n]{0,64}"[ \t\r\n]*:').match
#: Outside strings, the next byte that matters to the scanner; a run of brackets counts at once (deep nesting).
_STRUCTURAL = re.compile(rb'[\[{]+|[\]}]+|[",]').search

_TRAILING = "unexpected content after document"
_END = "unexpected end of data"
_UTF8 = "str is not valid UTF-8: surrogates not allowed"

#: orjson's messages that may be shown, each rephrased; any other message becomes "is not valid JSON".
#: A fixed table, not a filter over orjson's text: no message that could ever carry data is passed on.
_SAFE_MESSAGES = {
    "unexpected character, expected a JSON value": "expected a JSON value",
    "unexpected character, expected ',' or ']'": "expected ',' or ']'",
    "unexpected character, expected ',' or '}'": "expected ',' or '}'",
    "unexpected character, expected ':' after key": "expected ':' after a key",
    "unexpected character, expected a string key": "expected a key in double quotes",
    "trailing comma is not allowed": "a trailing comma",
    "invalid escaped sequence in string": "an invalid escape sequence in a string",
    "invalid literal, expected 'true'": "a misspelled true",
    "invalid literal, expected 'false'": "a misspelled false",
    "invalid literal, expected 'null'": "a misspelled null",
    "no digit after decimal point": "a number with no digit after the decimal point",
    "no digit after exponent sign": "a number with no digit in its exponent",
    "no digit after sign": "a sign with no number after it",
    "number with leading zero is not allowed": "a number with a leading zero",
    _END: "the element ends too early",
}
_SURROGATE_MESSAGES = {"no low surrogate in string", "invalid high surrogate in string", "invalid low surrogate in string"}

_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
_SCALAR_NAMES = {ord('"'): "string", ord("t"): "boolean", ord("f"): "boolean", ord("n"): "null"}


def _json_type(value) -> str:
    return _TYPE_NAMES.get(type(value), "null")


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    return f"{n:,} bytes"


def sniff_json_layout(first_bytes: bytes) -> str:
    """Tell a JSON array from JSON Lines by the first bytes of a `.json` file.

    Returns ``"array"`` when the first value opens with ``[``, ``"jsonl"`` when the
    first value is a complete object followed by a line break and another ``{``,
    and ``"other"`` for anything else (one object, a scalar, not JSON, not UTF-8,
    or a first record longer than `first_bytes`: give it at least 64 KiB). Pure:
    it reads nothing and keeps nothing.
    """
    data = bytes(first_bytes)
    if data.startswith(BOM):
        data = data[len(BOM) :]
    start = _SKIP_WS(data).end()
    if data[start : start + 1] == b"[":
        return "array"
    if data[start : start + 1] != b"{":
        return "other"
    end = _first_value_end(data, start)
    if end is None:
        return "other"
    gap = _SKIP_WS(data, end).end()
    if b"\n" in data[end:gap] and data[gap : gap + 1] == b"{":
        return "jsonl"
    return "other"


def _first_value_end(data: bytes, start: int) -> int | None:
    """End (exclusive) of the complete JSON value at `start`, or None."""
    window = data[start:]
    try:
        bad = window.decode("utf-8")
    except UnicodeDecodeError as exc:
        window = window[: exc.start]  # the value may well end before the first bad byte
    else:
        del bad
    try:
        orjson.loads(window)
    except orjson.JSONDecodeError as exc:
        if exc.msg == _TRAILING:
            return start + _value_end_before(exc, window)
        return None
    return start + len(window)


def _value_end_before(exc: orjson.JSONDecodeError, window) -> int:
    """Byte offset (in `window`) just after the value that orjson parsed before `exc` (trailing content).

    orjson reports character positions; the window was valid UTF-8, so the encoded
    prefix gives bytes. Whitespace before the trailing content is not part of the value.
    """
    cut = exc.pos
    doc = exc.doc
    prefix = doc[:cut] if isinstance(doc, str) else None
    offset = len(prefix.encode("utf-8")) if prefix is not None else cut
    view = bytes(window[max(0, offset - 64) : offset]) if offset else b""
    return offset - (len(view) - len(view.rstrip(_WS)))


def read_json_array_path(path: str | os.PathLike, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
    """`read_json_array` over a path, for tests and notebooks; the plugin passes its own hashing stream."""
    if os.path.isdir(path):
        yield 0, ReadProblem("is-directory", None, "is a directory, not a JSON file")
        return
    try:
        handle = open(path, "rb")
    except OSError as exc:
        yield 0, ReadProblem("open-failed", None, f"cannot be opened: {exc.strerror or type(exc).__name__}")
        return
    with handle:
        yield from read_json_array(handle, max_record_bytes=max_record_bytes)


def read_json_array(
    stream: BinaryIO, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, dict | ReadProblem]]:
    """Yield `(line, record or problem)` for each element of the JSON array in `stream`.

    `stream` is an open binary file object; it is read forward in chunks, never
    seeked, never closed. See the module docstring for the problem kinds.
    """
    return _ArrayReader(stream, max(1, int(max_record_bytes))).run()


class _Oversize(Exception):
    """Internal: the element being retained passed `max_record_bytes`."""


class _ArrayReader:
    """One pass over one stream.

    Positions named `at`/`end` are absolute byte offsets in the file; `i`/`j` index
    `buf`, which holds the file from offset `base`. `line` is the line number of
    offset `lp`: the line breaks before `lp` have been counted, the ones after not yet.
    """

    def __init__(self, stream: BinaryIO, max_record_bytes: int) -> None:
        self.stream = stream
        self.limit = max_record_bytes
        self.buf = b""
        self.base = 0
        self.eof = False
        self.lp = 0
        self.line = 1
        self.index = 0  # array elements seen (1-based ordinal of the current one)
        self.records = 0
        self.needle: bytes | None = None
        #: The needle's compiled search: `re` finds a literal faster than `bytes.find` in indented text,
        #: whose runs of spaces defeat `find`'s skip table (the needle holds spaces too).
        self.seek_needle = None
        #: The shortest object record measured (0: none yet): the needle cannot end a record sooner, so the
        #: search skips that much. A shorter record makes the search overshoot into the next one; its parse
        #: then fails with "content after the end", which gives the exact end, and this shrinks. So the skip
        #: is always safe. (Until a record has been measured the search skips nothing.)
        self.shortest = 0
        self.seplen = 0
        self.sepnl = 0
        self.misses = 0
        self.read_error: OSError | None = None
        #: How far the needle is searched: never more than the limit, so nothing parsed on the fast
        #: path can be longer than `max_record_bytes`.
        self.search = min(_MIN_SEARCH, max_record_bytes)
        #: The probe's first window: a few times the last probed element.
        self.window = _MIN_SEARCH

    # -- the stream -------------------------------------------------------------------------

    def _more(self, keep: int, need: int = 1) -> bool:
        """Read until `need` bytes are buffered from absolute offset `keep` (or the file ends).

        Drops what lies before `keep` (counting its line breaks first). Returns
        whether anything new arrived. Reads at least a chunk, and as much as is
        already kept (up to the element limit), so growing one long element costs
        amortised linear time and the buffer stays under `limit` + 2 chunks.
        """
        buf, base = self.buf, self.base
        cut = keep - base
        if self.lp < keep:
            self.line += buf.count(b"\n", self.lp - base, cut)
            self.lp = keep
        have = len(buf) - cut
        if self.eof or have >= need:
            return False
        # Keep the start of `keep`'s line too (from the line break before it), when it is near:
        # problems count their column from it.
        start = buf.rfind(b"\n", max(0, cut - _COLUMN_REACH), cut)
        if start < 0 and base == 0 and cut <= _COLUMN_REACH:
            start = 0  # the first line
        if 0 <= start < cut:
            need += cut - start
            cut, keep = start, base + start
        parts = [buf[cut:]] if len(buf) > cut else []
        have = len(buf) - cut
        got = 0
        while have + got < need and not self.eof:
            held = have + got
            want = max(CHUNK_BYTES, need - held, min(held, self.limit - held))
            try:
                data = self.stream.read(want)
            except OSError as exc:
                # Read what arrived before the error; the problem comes where the data stops.
                self.read_error = exc
                self.eof = True
                break
            if not isinstance(data, bytes):
                if isinstance(data, str):
                    raise _TextStream()
                data = bytes(data or b"")
            if not data:
                self.eof = True
                break
            parts.append(data)
            got += len(data)
        self.buf = b"".join(parts) if len(parts) != 1 else parts[0]
        self.base = keep
        return got > 0

    def _byte(self, at: int) -> int:
        """The byte at absolute offset `at` (reading on if needed; keeps from `at`), or -1 at the end."""
        if at - self.base >= len(self.buf):
            self._more(at)
            if at - self.base >= len(self.buf):
                return -1
        return self.buf[at - self.base]

    def _skip_ws(self, at: int) -> int:
        """The first non-whitespace absolute offset at or after `at` (may be the end of the file)."""
        while True:
            i = at - self.base
            j = _SKIP_WS(self.buf, i).end()
            if j < len(self.buf) or self.eof:
                return self.base + j
            at = self.base + j
            self._more(at)
            if at - self.base >= len(self.buf):
                return at

    def _line_of(self, at: int) -> int:
        """Line number of absolute offset `at` (at >= every offset asked before; never moves back)."""
        if at > self.lp:
            self.line += self.buf.count(b"\n", self.lp - self.base, at - self.base)
            self.lp = at
        return self.line

    def _where(self, at: int) -> str:
        """'line L column C' for absolute offset `at` (buffered, at >= lp), without moving the line mark."""
        buf, base = self.buf, self.base
        i = at - base
        line = self.line + buf.count(b"\n", self.lp - base, i)
        nl = buf.rfind(b"\n", max(0, i - _COLUMN_REACH), i)
        if nl >= 0 or (i <= _COLUMN_REACH and base == 0):
            column = len(buf[nl + 1 : i].decode("utf-8", "replace")) + 1
            return f"line {line} column {column}"
        return f"line {line} (byte offset {at:,} in the file)"

    # -- the whole file ---------------------------------------------------------------------

    def run(self) -> Iterator[tuple[int, dict | ReadProblem]]:
        # The element loop runs in this frame: a `yield from` level would cost on every record.
        try:
            at = None
            for item in self._start():
                if type(item) is int:
                    at = item
                else:
                    yield item
            if at is None:
                return
            end = yield from self._elements(at)
            if end is not None:
                yield from self._after_array(end)
            if self.read_error is not None:  # it struck after the closing bracket
                yield 0, self._cut(self.line, "")
            if self.records == 0 and self.index:
                n = self.index
                yield 0, ReadProblem(
                    "empty-file", None, f"holds {n} array element{'s' if n != 1 else ''} but no JSON object records"
                )
        except _TextStream:
            yield 0, ReadProblem("open-failed", None, "was opened in text mode; the JSON reader needs a binary stream")
        except OSError as exc:
            yield 0, ReadProblem(
                "open-failed", self.line, f"could not be read past line {self.line}: {exc.strerror or type(exc).__name__}"
            )
        except MemoryError:
            yield 0, ReadProblem("too-large", self.line, f"ran out of memory near line {self.line}")
        except Exception as exc:  # the product promise is "never raises"; tests fuzz for this path to stay unused
            yield 0, ReadProblem(
                "invalid-json", self.line, f"stopped at line {self.line}: the reader failed ({type(exc).__name__}); please report this"
            )

    def _start(self):
        """The file's problems before the first element, then the first element's offset (an int) if there is one."""
        self._more(0, 8)
        head = self.buf[:8]
        if not head:
            yield 0, self._cut(1, "") if self.read_error else ReadProblem("empty-file", None, "is empty")
            return
        encoding = _wide_encoding(head)
        if encoding:
            yield 0, ReadProblem("invalid-utf8", None, f"is encoded as {encoding}, not UTF-8")
            return
        at = 0
        if head.startswith(BOM):
            yield 0, ReadProblem("bom", 1, "starts with a UTF-8 byte order mark (BOM)", recoverable=True)
            at = len(BOM)
        at = self._skip_ws(at)
        first = self._byte(at)
        if first == -1:
            yield 0, self._cut(self.line, "") if self.read_error else ReadProblem("empty-file", None, "contains only whitespace")
            return
        if first != ord("["):
            yield 0, self._not_an_array(at, first)
            return
        at = self._skip_ws(at + 1)
        if self._byte(at) == ord("]"):
            yield from self._after_array(at + 1)
            yield 0, ReadProblem("empty-file", None, "holds an empty JSON array")
            return
        yield at

    def _not_an_array(self, at: int, first: int) -> ReadProblem:
        if first == ord("{"):
            self._more(at, _SNIFF_BYTES)
            i = at - self.base
            if sniff_json_layout(self.buf[i : i + _SNIFF_BYTES]) == "jsonl":
                return ReadProblem(
                    "jsonl-in-json", None, "holds JSON Lines (one object per line), not a JSON array; read it as JSON Lines"
                )
            return ReadProblem(
                "not-an-array",
                None,
                "holds one JSON object, not an array of records (a single record, or a dict of splits or columns?)",
            )
        if first == 0:
            return ReadProblem("nul-byte", None, f"has a NUL byte where the JSON array should start, at {self._where(at)}")
        kind = _SCALAR_NAMES.get(first, "number" if first == ord("-") or 48 <= first <= 57 else None)
        if kind:
            return ReadProblem("not-an-array", None, f"holds a single JSON {kind}, not an array of records")
        return ReadProblem(
            "invalid-json", None, f"is not JSON: the first character, at {self._where(at)}, cannot start a JSON value"
        )

    def _after_array(self, at: int):
        """After the closing bracket: only whitespace may follow."""
        at = self._skip_ws(at)
        if self._byte(at) != -1:
            yield 0, ReadProblem(
                "trailing-data", self._line_of(at), f"has data after the closing ']' of the array, from {self._where(at)}; it was not read"
            )

    # -- the elements -----------------------------------------------------------------------

    def _elements(self, at: int):
        """Read elements from absolute offset `at` (the first one's first byte).

        Returns the absolute offset just after the closing bracket, or None when the
        file ended first. The inner loop is the hot path: one search, one line count,
        one `loads` per record; everything else is in `_element`.
        """
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        while True:
            needle = self.needle
            buf = self.buf
            i = at - self.base
            if needle is not None and i < len(buf) and buf[i] == 123:  # '{'
                # The fast path, on locals; the state goes back to `self` before anything else runs.
                base, n, search, seplen, sepnl = self.base, len(buf), self.search, self.seplen, self.sepnl
                seek = self.seek_needle
                skip = max(0, min(self.shortest, search) - 1)
                line = self.line + buf.count(b"\n", self.lp - base, i)
                index = self.index
                records = first_records = self.records
                failed = None
                while True:
                    stop = i + search
                    if stop > n and not self.eof:
                        break  # refill first: a boundary may lie past the buffer
                    found = seek(buf, i + skip, stop)
                    if found is None:
                        q = -1
                        break
                    q = found.start()
                    index += 1
                    piece = buf[i : q + 1]
                    try:
                        value = loads(piece)
                    except decode_error as exc:
                        failed = exc
                        break
                    # A '{...}' piece that parses is a dict: no type check needed.
                    records += 1
                    yield line, value
                    # Line breaks of this element and of the separator: the next element's line.
                    # (`replace` finds them with memchr: faster than `count` on pieces of a few KiB.)
                    line += len(piece) - len(piece.replace(b"\n", b"")) + sepnl
                    i = q + 1 + seplen  # at the '{' the needle ends with
                at = base + i
                self.line, self.lp, self.index, self.records = line, at, index, records
                if records > first_records:
                    self.misses = 0
                if failed is not None:
                    # A cut that was too short or too long is a miss; a broken record inside a right cut is not.
                    if failed.msg == _END or failed.msg == _TRAILING:
                        self.misses += 1
                    end = yield from self._element(at, line, candidate=(at + len(piece), failed))
                elif stop > n and not self.eof:
                    self._more(at, search + len(needle))
                    continue
                else:  # no boundary of the known shape within reach: the last element, or one shaped otherwise
                    self.misses += 1
                    self.index += 1
                    end = yield from self._element(at, line)
            else:
                if i >= len(buf) and self._byte(at) == -1:
                    yield 0, self._unclosed(at)
                    return None
                self.index += 1
                end = yield from self._element(at, self._line_of(at))
            if self.misses >= _MAX_MISSES:
                self.needle = None  # the layout guess keeps failing here: probe every element instead
            if end is None:
                return None
            # Between elements: a comma, or the closing bracket.
            at = self._skip_ws(end)
            byte = self._byte(at)
            if byte == ord(","):
                nxt = self._skip_ws(at + 1)
                byte2 = self._byte(nxt)
                if byte2 == ord(","):
                    # Commas with nothing between them: one problem for the whole run, however long.
                    self._line_of(nxt)
                    line, where = self.line, self._where(nxt)
                    nxt, empty = self._skip_commas(nxt)
                    self.index += empty
                    yield line, ReadProblem(
                        "invalid-json",
                        line,
                        f"has {empty:,} empty array element{'s' if empty != 1 else ''} (a ',' with no value before it), "
                        f"from {where}",
                    )
                    byte2 = self._byte(nxt)
                if byte2 == ord("]"):
                    # Placed at the bracket: the comma may already be out of the buffer.
                    line = self._line_of(nxt)
                    yield 0, ReadProblem(
                        "invalid-json", line, f"has a trailing comma before the closing ']' at {self._where(nxt)}"
                    )
                    return nxt + 1
                if byte2 == -1:
                    yield 0, self._unclosed(nxt)
                    return None
                self._learn(end, nxt)
                at = nxt
            elif byte == ord("]"):
                return at + 1
            elif byte == -1:
                yield 0, self._unclosed(at)
                return None
            else:
                line = self._line_of(at)
                yield line, ReadProblem(
                    "invalid-json", line, f"has no ',' between array element {self.index} and the next one, at {self._where(at)}"
                )

    def _skip_commas(self, at: int) -> tuple[int, int]:
        """From a ',' at `at`: the offset after the run of commas (and blanks) and how many commas it holds."""
        count = 0
        while True:
            i = at - self.base
            j = _COMMA_RUN(self.buf, i).end()
            count += self.buf.count(b",", i, j)
            at = self.base + j
            if j < len(self.buf) or self.eof:
                return at, count
            self._more(at)
            if at - self.base >= len(self.buf):
                return at, count

    def _unclosed(self, at: int) -> ReadProblem:
        line = self._line_of(at)
        return self._cut(line, f"ends after array element {self.index} without the closing ']' of the array")

    def _cut(self, line: int, detail: str) -> ReadProblem:
        """The problem where the data stops: the file is cut short, or the stream failed there."""
        if self.read_error is not None:
            exc, self.read_error = self.read_error, None
            return ReadProblem("open-failed", line, f"could not be read past line {line}: {exc.strerror or type(exc).__name__}")
        return ReadProblem("truncated-array", line, detail)

    def _learn(self, end: int, nxt: int) -> None:
        """Remember what the boundary between two elements looked like, to find the next one by a search."""
        if self.misses >= _MAX_MISSES:
            return
        buf, base = self.buf, self.base
        if end - base < 1 or buf[end - base - 1] != 125:  # '}': only object records are guessed
            self.needle = None
            return
        sep = buf[end - base : nxt - base]
        key = _FIRST_KEY(buf, nxt - base)
        head = key.group() if key else b"{"
        self.needle = b"}" + sep + head
        self.seek_needle = re.compile(re.escape(self.needle)).search
        self.seplen = len(sep)
        self.sepnl = sep.count(b"\n")

    def _not_object(self, line: int, value) -> ReadProblem:
        return ReadProblem("not-object", line, f"starts array element {self.index}, which is {_json_type(value)}, not a JSON object")

    def _element(self, at: int, line: int, candidate=None):
        """Cut out, parse and yield the element at `at` (line `line`); return its end, or None at end of file.

        `candidate` is `(end, error)` when the layout needle proposed an end that
        did not parse. Content after a complete value means the needle overshot:
        the error gives the exact end. A parse error inside the candidate is the
        element's own fault, and the candidate, where the layout says the element
        ends, is the resync point. If the candidate was too short (a nested
        object that looks like a record boundary), the probe finds the end.
        """
        first = self._byte(at)
        if first in (123, 91):  # '{' or '['
            if candidate is not None:
                end, exc = candidate
                if exc.msg == _TRAILING:
                    i = at - self.base
                    end = at + _value_end_before(exc, self.buf[i : i + (end - at)])
                    self._measured(end - at)  # a record shorter than all before: search from here on
                    value = self._parse(at, end, line)
                    if type(value) is dict:
                        self.records += 1
                    yield line, value
                    return end
                if exc.msg != _END:
                    # The element is broken, or the search skipped its end (it is shorter than every
                    # record so far) and the damage, or a bad UTF-8 byte, is in a later one: an earlier
                    # boundary of the same shape inside the cut decides which.
                    i, base = at - self.base, self.base
                    early = self.seek_needle(self.buf, i, end - base) if self.seek_needle else None
                    if early is not None:
                        cut = base + early.start() + 1
                        piece = self.buf[i : cut - base]
                        try:
                            value = orjson.loads(piece)
                        except orjson.JSONDecodeError as inner:
                            if inner.msg != _END:  # (too early: a nested object that looks like a boundary)
                                yield line, self._diagnose(piece, at, line, inner)
                                return cut
                        else:
                            self._measured(cut - at)
                            self.records += 1
                            yield line, value
                            return cut
                    yield line, self._diagnose(self.buf[i : end - base], at, line, exc)
                    return end
            end = self._probe(at)
            if end > 0 and end - at <= self.limit:
                value = self._parse(at, end, line)
                if type(value) is dict:
                    self.records += 1
                yield line, value
                return end
            if end > 0:
                end = _PROBE_BIG  # a whole element of exactly limit + 1 bytes
            if end == _PROBE_BAD:
                # Malformed, and no needle: resync where the layout says the element ends, if it says.
                layout = self._layout_end(at)
                if layout > 0:
                    value = self._parse(at, layout, line)
                    if type(value) is dict:
                        self.records += 1
                    yield line, value
                    return layout
            if end == _PROBE_EOF:
                size = self.base + len(self.buf) - at
                yield line, self._cut(line, f"starts array element {self.index}, which the end of the file cuts off after {size:,} bytes")
                return None
        # Scalars, malformed elements with no layout candidate, and oversized elements: the scanner.
        try:
            end = self._scan(at, retain=True)
        except _Oversize:
            end = self._scan(at, retain=False)
            if end is None:
                size = self.base + len(self.buf) - at
                yield line, self._cut(
                    line,
                    f"starts array element {self.index}, which the end of the file cuts off after {size:,} bytes "
                    f"(over the {_size(self.limit)} limit)",
                )
                return None
            yield line, self._too_large(line, at, end)
            return end
        if end is None:
            size = self.base + len(self.buf) - at
            yield line, self._cut(line, f"starts array element {self.index}, which the end of the file cuts off after {size:,} bytes")
            return None
        if end - at > self.limit:  # the scanner checks the limit once per chunk: less than a chunk over it
            yield line, self._too_large(line, at, end)
            return end
        value = self._parse(at, end, line)
        if type(value) is dict:
            self.records += 1
        yield line, value
        return end

    def _measured(self, size: int) -> None:
        self.shortest = size if not self.shortest else min(self.shortest, size)

    def _layout_end(self, at: int) -> int:
        """Where the layout says the element at `at` ends (absolute, exclusive), or -1.

        Only for an element that starts its line: a one-line element ends at the
        closing bracket that ends its line (before a comma); a pretty-printed one
        at the next line that holds its opening line's indentation and a closing
        bracket. Brackets and strings inside a broken element cannot mislead this,
        which is why malformed elements resync here first. Looks only at what the
        probe buffered.
        """
        buf, i = self.buf, at - self.base
        start = i  # back over the indentation only: never a scan of a long line
        while start > 0 and i - start < 256 and buf[start - 1] in (32, 9):
            start -= 1
        if start > 0 and buf[start - 1] != 10:
            return -1  # something before the element on its line: not a layout to trust
        if start == 0 and self.base != 0:
            return -1  # the line's start is no longer buffered
        indent = buf[start:i]
        closer = b"}" if buf[i] == 123 else b"]"
        newline = buf.find(b"\n", i)
        first = buf[i : newline if newline >= 0 else len(buf)].rstrip(_WS)
        if first.endswith(b","):
            first = first[:-1].rstrip(_WS)
        if len(first) > 1 and first.endswith(closer):
            return at + len(first)
        q = buf.find(b"\n" + indent + closer, i, i + self.limit + len(indent) + 2)
        if q < 0 or q + 2 + len(indent) - i > self.limit:
            return -1
        return self.base + q + 1 + len(indent) + 1

    def _too_large(self, line: int, at: int, end: int) -> ReadProblem:
        return ReadProblem(
            "too-large",
            line,
            f"starts array element {self.index} of {end - at:,} bytes, over the {_size(self.limit)} limit; it was skipped",
        )

    def _probe(self, at: int) -> int:
        """Exact end (absolute, exclusive) of the valid container at `at`, found by orjson.

        Returns `_PROBE_EOF` when the file ends inside it, `_PROBE_BIG` when it is
        longer than the probe reaches (4 MiB or the limit), `_PROBE_BAD` when
        orjson finds it malformed (or cannot tell, e.g. invalid UTF-8 further on in
        the window): the scanner takes over for those.
        """
        window = self.window
        reach = min(self.limit + 1, _PROBE_REACH)
        while True:
            want = min(window, reach)
            self._more(at, want)
            i = at - self.base
            piece = self.buf[i : i + want]
            if len(piece) == want:
                # orjson checks the window's UTF-8 first: do not cut a character in two.
                piece = piece[: _utf8_boundary(piece)]
            try:
                orjson.loads(piece)
            except orjson.JSONDecodeError as exc:
                msg = exc.msg
                if msg == _TRAILING:
                    end = at + _value_end_before(exc, piece)
                    # Look for the next boundary about as far as this element reached, within one chunk;
                    # probe the next one with a window of a few times this one (orjson validates it all).
                    size = end - at
                    self._measured(size)
                    self.search = min(max(self.search, 8 * size), CHUNK_BYTES, self.limit)
                    self.window = min(max(_MIN_WINDOW, 4 * size), CHUNK_BYTES)
                    return end
                if msg != _END:
                    return _PROBE_BAD
                if self.base + len(self.buf) == at + len(piece) and self.eof:  # the file ends inside the element
                    return _PROBE_EOF
                if want >= reach:
                    return _PROBE_BIG
                window = want * 4
                continue
            return at + len(piece)

    def _parse(self, at: int, end: int, line: int):
        """Parse the buffered element [at, end): the record, a not-object problem, or the diagnosis."""
        i = at - self.base
        piece = self.buf[i : i + (end - at)]
        try:
            value = orjson.loads(piece)
        except orjson.JSONDecodeError as exc:
            return self._diagnose(piece, at, line, exc)
        if type(value) is dict:
            return value
        return self._not_object(line, value)

    def _diagnose(self, piece: bytes, at: int, line: int, exc: orjson.JSONDecodeError) -> ReadProblem:
        """Say what is wrong with an element, by position and shape only."""
        head = f"starts array element {self.index}, which"
        msg = exc.msg
        if msg == _UTF8:
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as err:
                bad = piece[err.start]
                return ReadProblem("invalid-utf8", line, f"{head} is not valid UTF-8 (byte 0x{bad:02x} at {self._where(at + err.start)})")
            return ReadProblem("invalid-json", line, f"{head} could not be read as text")
        doc = exc.doc if isinstance(exc.doc, str) else ""
        offset = len(doc[: exc.pos].encode("utf-8", "surrogatepass")) if doc else 0
        offset = min(offset, len(piece))
        where = self._where(at + offset)
        byte = piece[offset] if offset < len(piece) else -1
        if byte == 0:
            return ReadProblem("nul-byte", line, f"{head} contains a NUL byte at {where}")
        if msg in _SURROGATE_MESSAGES:
            return ReadProblem(
                "lone-surrogate", line, f"{head} contains a lone UTF-16 surrogate escape (\\ud800-\\udfff) at {where}"
            )
        if msg == "depth limit exceeded" or msg == "failed to allocate memory" and _deeper_than(piece, _DEPTH_LIMIT):
            return ReadProblem("too-deep", line, f"{head} is nested more than {_DEPTH_LIMIT} levels deep")
        if msg == "number is infinity when parsed as double":
            return ReadProblem("nan", line, f"{head} has a number too large for a 64-bit float at {where}")
        for name, back in ((b"-Infinity", 1), (b"NaN", 0), (b"Infinity", 0), (b"-Infinity", 0)):
            if offset >= back and piece.startswith(name, offset - back):
                return ReadProblem(
                    "nan", line, f"{head} contains the bare value {name.decode()}, which JSON does not allow, at {where}"
                )
        if not piece.strip(_WS):
            return ReadProblem("invalid-json", line, f"{head} is empty (a ',' with no value before it), at {where}")
        if msg == "unexpected control character in string":
            code = f"U+{byte:04X}" if byte >= 0 else "a control character"
            return ReadProblem("invalid-json", line, f"{head} has a raw control character ({code}) inside a string at {where}")
        if msg == _TRAILING:
            return ReadProblem("invalid-json", line, f"{head} has data after its end, at {where}")
        phrase = _SAFE_MESSAGES.get(msg)
        if phrase is None:
            return ReadProblem("invalid-json", line, f"{head} is not valid JSON at {where}")
        return ReadProblem("invalid-json", line, f"{head} is not valid JSON: {phrase} at {where}")

    # -- the scanner ------------------------------------------------------------------------

    def _scan(self, at: int, *, retain: bool) -> int | None:
        """End (absolute, exclusive) of the element at `at` by bracket depth, or None at end of file.

        A container ends where its depth returns to zero; a scalar (or junk) at the
        first ',' or ']' at depth zero. With `retain`, the element stays buffered
        for parsing and `_Oversize` is raised past the limit; without, only the
        current chunk is kept.
        """
        depth = 0
        container = self._byte(at) in (123, 91)
        pos = at
        in_string = False
        while True:
            buf, base = self.buf, self.base
            i = pos - base
            n = len(buf)
            while i < n:
                if in_string:
                    j = _string_end(buf, i, n)
                    if j < 0:  # the string goes on past the buffer: resume at -j - 1
                        i = -j - 1
                        break
                    in_string = False
                    i = j
                    continue
                m = _STRUCTURAL(buf, i)
                if m is None:
                    i = n
                    break
                j = m.start()
                c = buf[j]
                if c == 34:  # '"'
                    in_string = True
                    i = j + 1
                elif c == 123 or c == 91:
                    depth += m.end() - j
                    i = m.end()
                elif c == 44:  # ','
                    if depth == 0:
                        return base + j
                    i = j + 1
                elif container:  # a run of closing brackets; any kind closes one level
                    run = m.end() - j
                    if run >= depth:
                        return base + j + depth
                    depth -= run
                    i = m.end()
                else:  # closing brackets in a scalar or junk element
                    run_end = m.end()
                    if depth >= run_end - j:
                        depth -= run_end - j
                    else:
                        # Past depth zero, a ']' closes the array and ends the element; a stray '}' is junk.
                        close = buf.find(b"]", j + depth, run_end)
                        if close >= 0:
                            return base + close
                        depth = 0
                    i = run_end
            pos = base + i
            if retain and pos - at > self.limit:
                raise _Oversize()
            keep = at if retain else pos
            # One byte more than is buffered from `keep`: a backslash at the end needs its successor.
            if not self._more(keep, self.base + len(self.buf) - keep + 1):
                # The file ends here: inside a container or string the element is cut off; a scalar just ends.
                return None if (container or in_string or pos == at) else pos


class _TextStream(Exception):
    """Internal: the stream returned str."""


#: Openers, and keys between them, from the start of an element (alternatives start with different bytes).
_OPENING_RUN = re.compile(rb'(?:[ \t\r\n]*[\[{]|[ \t\r\n]*"[^"\\]{0,64}"[ \t\r\n]*:){0,1100}').match
_PROBE_EOF = -1
_PROBE_BAD = -2
_PROBE_BIG = -3
_SNIFF_BYTES = 64 * 1024


def _string_end(buf: bytes, i: int, n: int) -> int:
    """Offset just after the end of the string whose body starts at `buf[i]`, looking no further than `n`.

    The end is the closing quote or, in a broken string, a raw line break (valid
    JSON has none inside strings, so that is the best place to stop). When the
    string goes on past `n`, returns -1 - the offset to resume from: `n`, or
    `n - 1` when the last backslash escapes whatever byte comes next.
    Only `bytes` methods run per byte (memchr, replace), so long strings and
    strings full of escapes cost little, and nothing grows with their length.
    """
    quote = buf.find(b'"', i, n)
    stop = n if quote < 0 else quote
    if buf.find(b"\\", i, stop) < 0:  # no escapes before the first quote: the common case
        newline = buf.find(b"\n", i, stop)
        if newline >= 0:
            return newline + 1
        return quote + 1 if quote >= 0 else -1 - n
    # Escapes: neutralise escaped backslashes, then escaped quotes, keeping every offset. Pairing
    # backslashes left to right is right here because `buf[i - 1]` is the opening quote.
    width = max(256, 4 * (stop - i))
    while True:
        end = min(n, i + width)
        plain = buf[i:end].replace(b"\\\\", b"__").replace(b'\\"', b"__")
        found = [k for k in (plain.find(b'"'), plain.find(b"\n")) if k >= 0]
        if found:
            return i + min(found) + 1
        if end >= n:
            # Pairs are gone from `plain`: at most one backslash is left at its end, escaping the next byte.
            return -1 - (n - (len(plain) - len(plain.rstrip(b"\\"))))
        width *= 2


def _utf8_boundary(piece: bytes) -> int:
    """The length of `piece` without a UTF-8 sequence cut off at its end."""
    n = len(piece)
    k = n
    while k > 0 and n - k < 4 and piece[k - 1] & 0xC0 == 0x80:  # continuation bytes
        k -= 1
    if k > 0 and piece[k - 1] >= 0xC0:  # the lead byte of the cut sequence
        need = 2 if piece[k - 1] < 0xE0 else 3 if piece[k - 1] < 0xF0 else 4
        if n - (k - 1) < need:
            return k - 1
    return n


def _deeper_than(piece: bytes, limit: int) -> bool:
    """Whether the piece opens more than `limit` brackets before closing any (orjson's odd error for it)."""
    run = _OPENING_RUN(piece)
    return bool(run) and piece.count(b"[", 0, run.end()) + piece.count(b"{", 0, run.end()) > limit


def _wide_encoding(head: bytes) -> str | None:
    """Name of a UTF-16/UTF-32 encoding the first bytes show (a BOM, or ASCII padded with NULs), or None."""
    if head.startswith(b"\xff\xfe\x00\x00"):
        return "UTF-32 (little-endian)"
    if head.startswith(b"\x00\x00\xfe\xff"):
        return "UTF-32 (big-endian)"
    if head.startswith(b"\xff\xfe"):
        return "UTF-16 (little-endian)"
    if head.startswith(b"\xfe\xff"):
        return "UTF-16 (big-endian)"
    # Without a BOM: every character of '[' or '{' and the next one, padded the same way.
    if len(head) >= 8 and head[0] and head[4] and not any(head[1:4] + head[5:8]):
        return "UTF-32 (little-endian)"
    if len(head) >= 8 and head[3] and head[7] and not any(head[0:3] + head[4:7]):
        return "UTF-32 (big-endian)"
    if len(head) >= 4 and head[0] and head[2] and not head[1] and not head[3]:
        return "UTF-16 (little-endian)"
    if len(head) >= 4 and head[1] and head[3] and not head[0] and not head[2]:
        return "UTF-16 (big-endian)"
    return None
