"""The JSON array reader on real, committed and hostile input.

Every malformed case plants a fake secret next to the damage and checks that no
problem field carries it, in any letter case: the reader describes position and
shape only. Memory is measured in a subprocess (its own peak RSS) while a
200 MB record streams through with a 1 MB limit. Hypothesis checks that any
list of records, in any indentation, comes back with each record's start line,
also when the stream arrives in tiny reads and the reader's chunks are a few
bytes, and that mutated files never raise or hang.
"""

from __future__ import annotations

import io
import json
import random
import secrets
import string
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ftdata import json_array
from pytest_ftdata.io import ReadProblem
from pytest_ftdata.json_array import read_json_array, read_json_array_path, sniff_json_layout

DATA = Path(__file__).parent / "data" / "readers"
#: The checkout under test: the subprocess must import this one, not whatever copy is installed.
REPO = Path(__file__).resolve().parents[1]
FASTCHAT = Path("fastchat_dummy_conversation") / "raw" / "dummy_conversation.json"

#: A fresh fake key per run, shaped like an OpenAI project key: nothing may echo it.
SECRET = "sk-proj-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def read(data: bytes, **kwargs) -> list[tuple[int, object]]:
    return list(read_json_array(io.BytesIO(data), **kwargs))


def problems(items) -> list[ReadProblem]:
    return [value for _, value in items if isinstance(value, ReadProblem)]


def records(items) -> list[tuple[int, dict]]:
    return [(line, value) for line, value in items if isinstance(value, dict)]


def assert_no_content(items, secret: str = SECRET) -> None:
    """No problem field holds the secret, or any 12-character piece of it, in any case."""
    pieces = {secret[k : k + 12].lower() for k in range(len(secret) - 11)}
    for _, value in items:
        if isinstance(value, ReadProblem):
            assert value.excerpt is None
            fields = [value.kind, value.detail, str(value.line)]
            for field in fields:
                assert not any(piece in field.lower() for piece in pieces), value


def chat(i: int, text: str = "hello") -> dict:
    return {"id": f"r{i}", "messages": [{"role": "user", "content": f"{text} {i}"}, {"role": "assistant", "content": "ok"}]}


def pretty(recs, indent=2) -> str:
    return json.dumps(recs, indent=indent, ensure_ascii=False)


GOOD5 = [chat(i) for i in range(5)]
PRETTY5 = pretty(GOOD5)
#: Start lines of the five records of PRETTY5 (each record is 13 lines).
LINES5 = [2, 15, 28, 41, 54]


def expected_lines(recs, indent) -> list[int]:
    """Start lines of json.dumps(recs, indent=indent)'s elements, computed element by element."""
    if indent is None:
        return [1] * len(recs)
    line, out = 2, []
    for record in recs:
        out.append(line)
        line += json.dumps(record, indent=indent).count("\n") + 1
    return out


# -- real and committed files ---------------------------------------------------------------


def test_fastchat_file_is_read_whole_with_the_start_line_of_each_record(shared_datasets):
    path = shared_datasets / FASTCHAT
    items = list(read_json_array_path(path))
    assert not problems(items)
    assert [value for _, value in items] == json.loads(path.read_bytes())
    assert len(items) == 500
    lines = {value["id"]: line for line, value in items}
    # Checked by hand: the line of each record's opening '{' (its "id" is on the next line).
    assert lines["identity_0"] == 2
    assert lines["identity_1"] == 23
    assert lines["identity_2"] == 36
    assert lines["identity_100"] == 2102
    assert lines["identity_499"] == 10489
    text = path.read_text(encoding="utf-8").splitlines()
    for line, value in items:
        assert text[line - 1].strip() == "{" and f'"id": "{value["id"]}"' in text[line]


def test_alpaca_style_file_indented_by_four(tmp_path):
    path = DATA / "alpaca_indent4.json"
    items = list(read_json_array_path(path))
    assert [value for _, value in items] == json.loads(path.read_bytes())
    assert [line for line, _ in items] == [2, 7, 12, 17, 22, 27]


def test_compact_single_line_file_with_brackets_in_strings():
    path = DATA / "chat_compact.json"
    items = list(read_json_array_path(path))
    assert [value for _, value in items] == json.loads(path.read_bytes())
    assert [line for line, _ in items] == [1, 1, 1]


def test_committed_broken_file_reports_each_bad_element_and_reads_the_rest():
    data = (DATA / "broken_indent2.json").read_bytes().replace(b"@SECRET@", SECRET.encode())
    items = read(data)
    assert [(line, value["id"]) for line, value in records(items)] == [(2, "good-1"), (16, "good-2"), (29, "good-3")]
    assert [(p.line, p.kind) for p in problems(items)] == [
        (6, "invalid-json"),  # a missing comma between two fields
        (11, "nan"),
        (20, "not-object"),  # a bare string
        (21, "invalid-json"),  # a ']' where '}' belongs: resynced by the layout, not by counting brackets
        (25, "invalid-json"),  # an invalid escape
    ]
    assert "line 9 column 5" in problems(items)[0].detail
    assert_no_content(items)


# -- malformed input, case by case ----------------------------------------------------------

S = SECRET


def _case(text: str) -> bytes:
    return text.encode("utf-8")


#: (case id, file bytes, problem kinds in order, ids of the records that must still be read)
CASES = [
    ("syntax-error", _case(PRETTY5.replace('"hello 2"', f'"{S}" "x"')), ["invalid-json"], [0, 1, 3, 4]),
    ("unbalanced-brackets", _case(PRETTY5.replace('"content": "hello 2"', f'"content": ["{S}"}}')), ["invalid-json"], [0, 1, 3, 4]),
    ("unescaped-quote", _case(PRETTY5.replace('"hello 2"', f'"he said "{S}" ok"')), ["invalid-json"], [0, 1, 3, 4]),
    ("nan", _case(PRETTY5.replace('"hello 2"', f'NaN, "k": "{S}"')), ["nan"], [0, 1, 3, 4]),
    ("infinity", _case(PRETTY5.replace('"hello 2"', f'Infinity, "k": "{S}"')), ["nan"], [0, 1, 3, 4]),
    ("minus-infinity", _case(PRETTY5.replace('"hello 2"', f'-Infinity, "k": "{S}"')), ["nan"], [0, 1, 3, 4]),
    ("huge-number", _case(PRETTY5.replace('"hello 2"', f'1e999, "k": "{S}"')), ["nan"], [0, 1, 3, 4]),
    ("invalid-utf8", PRETTY5.replace('"hello 2"', f'"{S}\udcff"').encode("utf-8", "surrogateescape"), ["invalid-utf8"], [0, 1, 3, 4]),
    ("nul-byte", _case(PRETTY5.replace('"hello 2"', f'"{S}\x00"')), ["nul-byte"], [0, 1, 3, 4]),
    ("raw-control-char", _case(PRETTY5.replace('"hello 2"', f'"{S}\x01"')), ["invalid-json"], [0, 1, 3, 4]),
    ("lone-surrogate", _case(PRETTY5.replace('"hello 2"', f'"{S}\\ud800"')), ["lone-surrogate"], [0, 1, 3, 4]),
    ("bad-escape", _case(PRETTY5.replace('"hello 2"', f'"{S}\\q"')), ["invalid-json"], [0, 1, 3, 4]),
    (
        "deep-nesting",
        _case(PRETTY5.replace('"hello 2"', "[" * 3000 + f'"{S}"' + "]" * 3000)),
        ["too-deep"],
        [0, 1, 3, 4],
    ),
    ("missing-comma", _case(PRETTY5.replace('},\n  {\n    "id": "r3"', f'}}\n  {{\n    "id": "r3", "k": "{S}"')), ["invalid-json"], [0, 1, 2, 3, 4]),
    ("trailing-comma", _case(PRETTY5[:-2] + f',\n  "{S}",\n]'), ["not-object", "invalid-json"], [0, 1, 2, 3, 4]),
    ("double-comma", _case(PRETTY5.replace('},\n  {\n    "id": "r3"', '},,,\n  {\n    "id": "r3"')), ["invalid-json"], [0, 1, 2, 3, 4]),
    ("not-objects", _case(f'[1, "{S}", null, true, [{{"a": "{S}"}}], {{"id": "r0"}}]'), ["not-object"] * 5, [0]),
    ("truncated-in-element", _case(PRETTY5[: PRETTY5.index('"hello 3"')] + f'"{S}'), ["truncated-array"], [0, 1, 2]),
    ("truncated-between", _case(PRETTY5[: PRETTY5.index(",\n  {", PRETTY5.index('"r2"'))]), ["truncated-array"], [0, 1, 2]),
    ("truncated-after-comma", _case(PRETTY5[: PRETTY5.index("\n  {", PRETTY5.index('"r2"'))]), ["truncated-array"], [0, 1, 2]),
    ("trailing-data", _case(PRETTY5 + f'\n{{"k": "{S}"}}'), ["trailing-data"], [0, 1, 2, 3, 4]),
    ("second-array", _case(PRETTY5 + f'[{{"k": "{S}"}}]'), ["trailing-data"], [0, 1, 2, 3, 4]),
    ("bom", b"\xef\xbb\xbf" + _case(PRETTY5), ["bom"], [0, 1, 2, 3, 4]),
    ("object", _case(json.dumps({"train": GOOD5, "k": S})), ["not-an-array"], []),
    ("jsonl", _case("\n".join(json.dumps({**r, "k": S}) for r in GOOD5)), ["jsonl-in-json"], []),
    ("scalar", _case(json.dumps(S)), ["not-an-array"], []),
    ("not-json", _case(f"{S} is not JSON"), ["invalid-json"], []),
    ("empty", b"", ["empty-file"], []),
    ("whitespace", b" \n\t\r\n", ["empty-file"], []),
    ("empty-array", b"[\n]\n", ["empty-file"], []),
    ("utf16-bom", PRETTY5.replace("hello", S).encode("utf-16"), ["invalid-utf8"], []),
    ("utf16-le", PRETTY5.replace("hello", S).encode("utf-16-le"), ["invalid-utf8"], []),
    ("utf16-be", PRETTY5.replace("hello", S).encode("utf-16-be"), ["invalid-utf8"], []),
    ("utf32", PRETTY5.replace("hello", S).encode("utf-32"), ["invalid-utf8"], []),
    ("nul-only", b"\x00" * 100, ["nul-byte"], []),
    ("only-open-bracket", b"[", ["truncated-array", "empty-file"], []),
]


@pytest.mark.parametrize("data, kinds, kept", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_input_is_reported_by_shape_and_the_rest_is_read(data, kinds, kept):
    items = read(data)
    found = [p.kind for p in problems(items)]
    # Only the element's own problem(s), plus "no records" when nothing was an object.
    assert [k for k in found if k != "empty-file"] == [k for k in kinds if k != "empty-file"]
    if kept is not None:
        assert [value["id"] for _, value in records(items)] == [f"r{i}" for i in kept]
        if data.lstrip(b"\xef\xbb\xbf").startswith(PRETTY5[:20].encode()):
            assert [line for line, _ in records(items)] == [LINES5[i] for i in kept]
    for line, value in items:
        assert type(line) is int and line >= 0
        if isinstance(value, ReadProblem):
            assert value.line is None or value.line >= 1
            assert 0 < len(value.detail) < 200
            if line:
                assert value.line == line
    assert_no_content(items)


def test_a_short_record_after_long_ones_is_cut_exactly_even_when_broken():
    """The boundary search skips as far as the shortest record seen; a shorter one must still be cut right."""
    long = json.dumps([{"id": f"r{i}", "text": "x" * 300} for i in range(4)], indent=2)[:-2]
    broken = long + f',\n  {{\n    "id": "bad" "{S}"\n  }},\n  {{\n    "id": "r9",\n    "text": "ok"\n  }}\n]'
    items = read(broken.encode())
    assert [(line, value["id"]) for line, value in records(items)] == [(2, "r0"), (6, "r1"), (10, "r2"), (14, "r3"), (21, "r9")]
    assert [(p.line, p.kind) for p in problems(items)] == [(18, "invalid-json")]
    bad_byte_next = long + ',\n  {\n    "id": "short"\n  },\n  {\n    "id": "caf\xe9"\n  },\n  {\n    "id": "r10"\n  }\n]'
    items = read(bad_byte_next.encode("latin-1"))
    assert [(line, value["id"]) for line, value in records(items)][-2:] == [(18, "short"), (24, "r10")]
    assert [(p.line, p.kind) for p in problems(items)] == [(21, "invalid-utf8")]
    assert_no_content(items)


def test_problem_positions_are_lines_and_columns_of_the_file():
    data = _case(PRETTY5.replace('"hello 2"', '"hello" "x"'))
    [problem] = problems(read(data))
    assert problem.line == 28
    text = data.decode().splitlines()
    column = text[33 - 1].index('"x"') + 1
    assert f"at line 33 column {column}" in problem.detail


def test_column_counts_characters_not_bytes():
    data = _case('[{"é€😀": 1 "x"}]')
    [problem, _no_records] = problems(read(data))
    assert "line 1 column 12" in problem.detail  # '{"é€😀": 1 ' is 11 characters (19 bytes)


def test_invalid_utf8_names_the_byte():
    [problem, _no_records] = problems(read(b'[\n{"a": "caf\xe9"}\n]'))
    assert problem.kind == "invalid-utf8" and problem.line == 2
    assert "0xe9" in problem.detail and "line 2 column 11" in problem.detail


def test_a_million_broken_pieces_are_read_without_keeping_them():
    """One problem per piece, yielded as found: the reader keeps no list of them."""
    data = b"[" + b'{"a": 1 "b"},' * 20_000 + b'{"a": 2}]'
    count = 0
    last = None
    for _, value in read_json_array(io.BytesIO(data)):
        count += 1
        last = value
    assert count == 20_001 and last == {"a": 2}


def test_a_run_of_empty_elements_is_one_problem():
    items = read(b"[" + b'{"a": 1},' + b"," * 1_000_000 + b'{"a": 2}]')
    assert [v for _, v in records(items)] == [{"a": 1}, {"a": 2}]
    [problem] = problems(items)
    assert "1,000,000 empty array elements" in problem.detail


def test_too_large_record_is_reported_at_its_start_and_skipped():
    big = {"id": "big", "text": S * 1000}
    data = _case(pretty([chat(0), big, chat(2)]))
    items = read(data, max_record_bytes=10_000)
    assert [value["id"] for _, value in records(items)] == ["r0", "r2"]
    [problem] = problems(items)
    assert problem.kind == "too-large" and problem.line == 15
    assert "over the 10,000 bytes limit" in problem.detail
    assert_no_content(items)


def test_record_at_the_limit_is_read():
    record = {"text": "x" * 1000}
    size = len(json.dumps(record))
    assert [v for _, v in records(read(_case(json.dumps([record])), max_record_bytes=size))] == [record]
    assert [p.kind for p in problems(read(_case(json.dumps([record])), max_record_bytes=size - 1))] == [
        "too-large",
        "empty-file",
    ]


class FailingStream(io.RawIOBase):
    def __init__(self, data: bytes, fail_at: int):
        self.data, self.pos, self.fail_at = data, 0, fail_at

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.pos >= self.fail_at:
            raise OSError(5, "Input/output error")
        chunk = self.data[self.pos : min(self.fail_at, self.pos + len(buffer))]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def test_read_error_is_a_problem_after_the_records_before_it(monkeypatch):
    monkeypatch.setattr(json_array, "CHUNK_BYTES", 64)
    data = _case(PRETTY5)
    items = list(read_json_array(FailingStream(data, 500)))
    assert [v["id"] for _, v in records(items)][:2] == ["r0", "r1"]
    assert problems(items)[-1].kind == "open-failed"
    assert "Input/output error" in problems(items)[-1].detail


def test_text_mode_stream_is_a_problem_not_an_exception():
    [(line, problem)] = list(read_json_array(io.StringIO(PRETTY5)))
    assert line == 0 and problem.kind == "open-failed" and "text mode" in problem.detail


def test_path_helper_reports_missing_files_and_directories(tmp_path):
    [(_, missing)] = list(read_json_array_path(tmp_path / "nope.json"))
    [(_, directory)] = list(read_json_array_path(tmp_path))
    assert missing.kind == "open-failed" and directory.kind == "is-directory"


def test_reader_never_writes_and_never_closes_the_stream(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(PRETTY5)
    with open(path, "rb") as handle:
        assert len(list(read_json_array(handle))) == 5
        assert not handle.closed
    assert path.read_text() == PRETTY5


# -- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, layout",
    [
        (b'[\n  {"a": 1}', "array"),
        (b"\xef\xbb\xbf  [", "array"),
        (b'{"a": 1}\n{"a": 2}\n', "jsonl"),
        (b'{"a": "}\\n{"}\r\n  {"b"', "jsonl"),
        (b'{"a": 1}', "other"),  # one object: a single record or a dict of splits
        (b'{"train": [\n{"a": 1}\n]}', "other"),
        (b'{"a": 1} {"b": 2}', "other"),  # two objects on one line are not JSON Lines
        (b'{"a": "' + b"x" * 100, "other"),  # the first record is longer than the sample
        (b"", "other"),
        (b"hello", "other"),
        ('[{"a": 1}]'.encode("utf-16"), "other"),
    ],
)
def test_sniff_json_layout(head, layout):
    assert sniff_json_layout(head) == layout


# -- memory -------------------------------------------------------------------------------

_MEMORY_PROBE = textwrap.dedent(
    """
    import io, resource, sys
    from pytest_ftdata.json_array import read_json_array

    class Generated(io.RawIOBase):
        # A 200 MB record, made while it is read: the test holds no copy of it.
        def __init__(self, parts):
            self.parts, self.current = iter(parts), b""
        def readable(self):
            return True
        def readinto(self, buffer):
            while not self.current:
                self.current = next(self.parts, None)
                if self.current is None:
                    return 0
            n = min(len(buffer), len(self.current))
            buffer[:n], self.current = self.current[:n], self.current[n:]
            return n

    def parts(block):
        yield b'[\\n{"id": 0},\\n{"id": 1, "text": ' + block[:1]
        for _ in range(int(sys.argv[2])):
            yield block[1:]
        yield block[:1] + b'},\\n{"id": 2}\\n]\\n'

    kind = sys.argv[1]
    block = {"string": b'"' + b"A" * (1 << 20), "escapes": b'"' + b'\\\\n\\\\"' * (1 << 18)}[kind]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = []
    for line, value in read_json_array(io.BufferedReader(Generated(parts(block))), max_record_bytes=1 << 20):
        out.append((line, value if isinstance(value, dict) else value.kind))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(repr(out), growth // 1024)
    """
)


@pytest.mark.parametrize("kind, megabytes", [("string", 200), ("escapes", 50)])
def test_a_200_mb_record_streams_through_in_bounded_memory(kind, megabytes):
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, kind, str(megabytes)],
        capture_output=True, text=True, timeout=60, check=True, cwd=REPO,
    )
    out, growth_mb = result.stdout.rsplit(" ", 1)
    assert eval(out) == [(2, {"id": 0}), (3, "too-large"), (4, {"id": 2})]
    # The record is 50 or 200 MB; the reader holds about two 1 MiB chunks and the 1 MB limit.
    assert int(growth_mb) < 40, result.stdout


def test_a_structure_heavy_oversized_record_is_skipped_by_the_scanner():
    data = b'[{"id": 0}, [' + b'{"a": [1, "x"]}, ' * 20_000 + b'1], {"id": 2}]'
    items = read(data, max_record_bytes=50_000)
    assert [v for _, v in records(items)] == [{"id": 0}, {"id": 2}]
    assert [p.kind for p in problems(items)] == ["too-large"]


# -- properties -----------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
    st.sampled_from(['}, {"id": ', "},\n  {", "\\", '"', "[", "]", "\n", "é😀"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["id", "a", "}, {", "text"]), inner, max_size=4),
    max_leaves=12,
)
RECORDS = st.lists(st.dictionaries(st.sampled_from(["id", "messages", "text", "x"]), JSON_VALUES, max_size=4), max_size=12)
INDENTS = st.sampled_from([None, 0, 1, 2, 4, "\t"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recs=RECORDS, indent=INDENTS, ascii_only=st.booleans())
def test_any_records_come_back_with_their_start_lines(recs, indent, ascii_only):
    data = json.dumps(recs, indent=indent, ensure_ascii=ascii_only).encode()
    items = read(data)
    if not recs:
        assert [p.kind for p in problems(items)] == ["empty-file"]
        return
    assert [value for _, value in items] == recs
    assert [line for line, _ in items] == expected_lines(recs, indent)


class Trickle(io.RawIOBase):
    """A stream that returns at most `step` bytes per read."""

    def __init__(self, data: bytes, step: int):
        self.data, self.pos, self.step = data, 0, step

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.data[self.pos : self.pos + min(len(buffer), self.step)]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    recs=RECORDS.filter(bool),
    indent=INDENTS,
    chunk=st.sampled_from([1, 2, 7, 64]),
    search=st.sampled_from([1, 16, 256]),
    step=st.sampled_from([1, 3, 1000]),
)
def test_chunk_boundaries_anywhere_change_nothing(recs, indent, chunk, search, step):
    data = json.dumps(recs, indent=indent).encode()
    with mock.patch.object(json_array, "CHUNK_BYTES", chunk), mock.patch.object(json_array, "_MIN_SEARCH", search):
        items = list(read_json_array(Trickle(data, step)))
    assert [value for _, value in items] == recs
    assert [line for line, _ in items] == expected_lines(recs, indent)


_BASE = pretty([chat(0, S), {"id": "r1", "list": [1, 2.5, None, True], "nested": {"k": [S, {"x": "}, {"}]}}, chat(2, S)])


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["insert", "delete", "replace", "cut"]),
            st.integers(0, len(_BASE.encode())),
            st.sampled_from(list(b'{}[]",:\\\n \x00\xff\xc3\xe2NaIt0-') + [random.Random(0).randrange(256)]),
        ),
        min_size=1,
        max_size=6,
    ),
    limit=st.sampled_from([64 * 1024 * 1024, 200]),
)
def test_mutated_files_never_raise_hang_or_leak(edits, limit):
    data = bytearray(_BASE.encode())
    for op, where, byte in edits:
        where = min(where, len(data))
        if op == "insert":
            data.insert(where, byte)
        elif op == "delete" and where < len(data):
            del data[where]
        elif op == "replace" and where < len(data):
            data[where] = byte
        elif op == "cut":
            del data[where:]
    items = read(bytes(data), max_record_bytes=limit)
    for line, value in items:
        assert type(line) is int and line >= 0
        assert isinstance(value, (dict, ReadProblem))
        if isinstance(value, ReadProblem):
            assert "reader failed" not in value.detail  # the last-resort guard stays unused
    assert_no_content(items)
