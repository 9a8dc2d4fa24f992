"""Streaming JSON Lines reader.

`read_jsonl(path)` yields `(line_number, value)` pairs (1-based) where `value` is the
parsed object (a dict) or a `ReadProblem` that says what is wrong with the line. Problems never stop
the stream: the next line is read as if nothing happened, so one broken line cannot
hide the state of the rest of the file. File-level problems (cannot open, truncated
gzip, empty file, a JSON array instead of JSON Lines) come as problems with
`line=None`, or the line where reading stopped.

The reader never writes, and it never holds more than one line in memory.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import orjson

#: How deep stdlib json may recurse while diagnosing a line orjson refused.
_DIAGNOSE_DEPTH_LIMIT = 1024
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ReadProblem:
    """Why a line (or the whole file) could not be read as a JSON object.

    `kind` is one of: ``open-failed``, ``is-directory``, ``not-gzip``,
    ``truncated-gzip``, ``empty-file``, ``bom``, ``blank-line``, ``nul-byte``,
    ``invalid-utf8``, ``nan``, ``trailing-data``, ``too-deep``, ``lone-surrogate``,
    ``invalid-json``, ``not-object``, ``json-array-file``.
    """

    kind: str
    line: int | None
    detail: str
    excerpt: str | None = None
    #: True when the line still produced a record (the problem is a warning only).
    recoverable: bool = False


def _excerpt(raw: bytes, column: int | None = None, width: int = 60) -> str:
    """A short printable slice of a raw line, around `column` when known."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    start = 0
    if column is not None and column > width // 2:
        start = column - width // 2
    piece = text[start : start + width]
    piece = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in piece)
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + width < len(text) else ""
    return f"{prefix}{piece}{suffix}"


def _reject_constant(name: str):
    raise ValueError(f"non-standard constant {name}")


def diagnose(raw: bytes, line: int) -> ReadProblem:
    """Explain why orjson refused a line, in terms a user can act on.

    orjson's messages are terse; stdlib json, run only on the failing line, tells
    NaN, trailing data and bad escapes apart.
    """
    nul = raw.find(b"\x00")
    if nul >= 0:
        return ReadProblem("nul-byte", line, f"contains a NUL byte at column {nul + 1}", _excerpt(raw, nul))
    try:
        # Without the line terminator, so an error at the end of a cut-off line gets its real column.
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        return ReadProblem(
            "invalid-utf8", line, f"is not valid UTF-8 (byte 0x{bad} at column {exc.start + 1})", _excerpt(raw, exc.start)
        )
    stripped = text.strip()
    depth = 0
    for ch in stripped[: _DIAGNOSE_DEPTH_LIMIT + 1]:
        if ch in "[{":
            depth += 1
        else:
            break
    if depth > _DIAGNOSE_DEPTH_LIMIT:
        return ReadProblem("too-deep", line, f"is nested more than {_DIAGNOSE_DEPTH_LIMIT} levels deep", _excerpt(raw, 0))
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        if str(exc).startswith("non-standard constant"):
            name = str(exc).rsplit(" ", 1)[-1]
            return ReadProblem(
                "nan", line, f"contains the bare value {name}, which JSON does not allow", _excerpt(raw, text.find(name))
            )
        if isinstance(exc, json.JSONDecodeError):
            if exc.msg == "Extra data":
                return ReadProblem(
                    "trailing-data",
                    line,
                    f"has data after the end of the JSON object, at column {exc.colno}",
                    _excerpt(raw, exc.pos),
                )
            return ReadProblem(
                "invalid-json", line, f"is not valid JSON: {exc.msg} at column {exc.colno}", _excerpt(raw, exc.pos)
            )
        return ReadProblem("invalid-json", line, f"is not valid JSON: {exc}", _excerpt(raw, 0))
    except RecursionError:
        return ReadProblem("too-deep", line, "is nested too deeply to read", _excerpt(raw, 0))
    # stdlib accepted what orjson refused: in practice a lone UTF-16 surrogate escape.
    if "\\ud" in text.lower():
        return ReadProblem(
            "lone-surrogate",
            line,
            "contains a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not valid Unicode text",
            _excerpt(raw, text.lower().find("\\ud")),
        )
    kind = type(value).__name__
    return ReadProblem("invalid-json", line, f"could not be read ({kind} value rejected by the strict parser)", _excerpt(raw))


def _open(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict | ReadProblem]]:
    """Yield `(line, record or problem)` for every line of a `.jsonl` or `.jsonl.gz` file.

    File-level problems come with line 0 (their `ReadProblem.line` is None or the
    line where reading stopped). Plain tuples keep the per-line cost low.
    """
    path = Path(path)
    if path.is_dir():
        yield 0, ReadProblem("is-directory", None, "is a directory, not a JSON Lines file")
        return
    try:
        handle = _open(path)
    except OSError as exc:
        yield 0, ReadProblem("open-failed", None, f"cannot be opened: {exc.strerror or exc}")
        return
    number = 0
    records = 0
    failed = False
    first_raw = b""
    array_file = False
    array_lines = 0
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    try:
        with handle:
            for number, raw in enumerate(handle, 1):
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
                        yield number, ReadProblem("blank-line", number, "is blank", recoverable=True)
                        continue
                    if number == 1 and raw.lstrip().startswith(b"["):
                        array_file = True
                        first_raw = raw
                    if array_file:
                        array_lines += 1
                        continue
                    yield number, diagnose(raw, number)
                    continue
                if type(value) is dict:
                    records += 1
                    yield number, value
                elif number == 1 and type(value) is list:
                    array_file = True
                    first_raw = raw
                    array_lines += 1
                elif array_file:
                    array_lines += 1
                else:
                    kind = _JSON_TYPE_NAMES.get(type(value), "null")
                    yield number, ReadProblem("not-object", number, f"is {kind}, not a JSON object", _excerpt(raw))
    except (EOFError, zlib.error) as exc:
        failed = True
        yield number + 1, ReadProblem(
            "truncated-gzip", number + 1, f"ends early: the compressed stream is cut off after line {number} ({exc})"
        )
    except gzip.BadGzipFile:
        failed = True
        yield 0, ReadProblem("not-gzip", None, "has a .gz name but is not gzip-compressed")
    except OSError as exc:
        failed = True
        yield number + 1, ReadProblem("open-failed", number + 1, f"could not be read past line {number}: {exc}")
    if array_file and records and array_lines == 1:
        # Only line 1 was an array and JSON records follow: a stray line, not an array file.
        try:
            kind = _JSON_TYPE_NAMES.get(type(orjson.loads(first_raw)), "null")
        except orjson.JSONDecodeError:
            yield 1, diagnose(first_raw, 1)
        else:
            yield 1, ReadProblem("not-object", 1, f"is {kind}, not a JSON object", _excerpt(first_raw))
    elif array_file:
        yield 0, ReadProblem(
            "json-array-file", None, f"is one JSON array, not JSON Lines ({array_lines} lines could not be read as records)"
        )
    elif records == 0 and not failed:
        detail = "is empty" if number == 0 else f"has {number} line{'s' if number != 1 else ''} but no JSON records"
        yield 0, ReadProblem("empty-file", None, detail)
