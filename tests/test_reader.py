"""The streaming reader on every kind of malformed input.

Unit tests call `io.read_jsonl` directly (milliseconds each); the integration test
puts every malformed file in one dataset and runs pytest on it, serially and under
`-n 2`: each file fails its `::schema` item with a `path:line: CODE` finding, the
lines after the broken one are still checked, and nothing crashes.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from pytest_ftdata.io import ReadProblem, read_jsonl

GOOD = {"messages": [{"role": "user", "content": "Where is my card?"}, {"role": "assistant", "content": "On its way."}]}
GOOD_LINE = json.dumps(GOOD).encode()

#: (case id, raw bytes of one bad line, problem kind the reader must report)
BAD_LINES = [
    ("invalid-json", b'{"messages": [}', "invalid-json"),
    ("doubled-quotes", b'{"instruction": "Add", "input": """", "output": "4"}', "invalid-json"),
    ("cut-off-line", b'{"messages": [{"role": "user"', "invalid-json"),
    ("invalid-utf8", b'{"messages": "caf\xe9 \xff"}', "invalid-utf8"),
    ("nul-in-string", b'{"messages": "a\x00b"}', "nul-byte"),
    ("nul-after-object", b'{"messages": []}\x00', "nul-byte"),
    ("array-line", b"[1, 2, 3]", "not-object"),
    ("string-line", b'"just a string"', "not-object"),
    ("number-line", b"42", "not-object"),
    ("null-line", b"null", "not-object"),
    ("nan", b'{"score": NaN}', "nan"),
    ("infinity", b'{"score": Infinity}', "nan"),
    ("minus-infinity", b'{"score": -Infinity}', "nan"),
    ("trailing-garbage", b'{"messages": []} trailing', "trailing-data"),
    ("two-objects", b'{"a": 1}{"b": 2}', "trailing-data"),
    ("lone-high-surrogate", b'{"text": "\\ud800"}', "lone-surrogate"),
    ("lone-low-surrogate", b'{"text": "x\\udc00y"}', "lone-surrogate"),
    ("deep-arrays", b"[" * 100_000 + b"]" * 100_000, "too-deep"),
    ("deep-objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too-deep"),
]


def write_lines(path: Path, *lines: bytes, newline: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(line + newline for line in lines))
    return path


def read(path: Path) -> list[tuple[int, object]]:
    return list(read_jsonl(path))


def problems(items) -> list[ReadProblem]:
    return [value for _, value in items if isinstance(value, ReadProblem)]


def records(items) -> list[int]:
    return [line for line, value in items if isinstance(value, dict)]


@pytest.mark.parametrize("raw, kind", [case[1:] for case in BAD_LINES], ids=[case[0] for case in BAD_LINES])
def test_bad_line_is_reported_at_its_line_and_the_rest_is_read(tmp_path, raw, kind):
    path = write_lines(tmp_path / "train.jsonl", GOOD_LINE, raw, GOOD_LINE, GOOD_LINE)
    items = read(path)
    assert records(items) == [1, 3, 4]
    [problem] = problems(items)
    assert problem.kind == kind
    assert problem.line == 2
    assert (2, problem) in items
    assert not problem.recoverable
    # A clear, bounded explanation: a sentence fragment and a short excerpt, never the whole line.
    assert problem.detail and len(problem.detail) < 200
    assert problem.excerpt is None or len(problem.excerpt) <= 80


def test_error_column_of_a_cut_off_line_points_at_its_end(tmp_path):
    raw = b'{"messages": [{"role": "user", "content": "hi"}'
    [problem] = problems(read(write_lines(tmp_path / "a.jsonl", GOOD_LINE, raw)))
    assert f"column {len(raw) + 1}" in problem.detail


def test_invalid_utf8_names_the_byte_and_column(tmp_path):
    [problem] = problems(read(write_lines(tmp_path / "a.jsonl", b'{"a": "\xff"}', GOOD_LINE)))
    assert "0xff" in problem.detail and "column 8" in problem.detail


def test_nan_names_the_constant(tmp_path):
    [problem] = problems(read(write_lines(tmp_path / "a.jsonl", b'{"a": -Infinity}', GOOD_LINE)))
    assert "-Infinity" in problem.detail


def test_huge_valid_line_is_read(tmp_path):
    big = {"messages": [{"role": "user", "content": "x" * 30_000_000}, {"role": "assistant", "content": "ok"}]}
    path = write_lines(tmp_path / "big.jsonl", GOOD_LINE, json.dumps(big).encode(), GOOD_LINE)
    items = read(path)
    assert records(items) == [1, 2, 3]
    assert len(items[1][1]["messages"][0]["content"]) == 30_000_000


def test_huge_invalid_line_gives_a_short_excerpt(tmp_path):
    raw = b'{"messages": [{"role": "user", "content": "' + b"x" * 30_000_000 + b'"}'
    items = read(write_lines(tmp_path / "big.jsonl", GOOD_LINE, raw, GOOD_LINE))
    assert records(items) == [1, 3]
    [problem] = problems(items)
    assert problem.kind == "invalid-json" and problem.line == 2
    assert len(problem.excerpt) <= 80 and len(problem.detail) < 200


def test_bom_is_a_recoverable_warning_and_the_first_record_is_kept(tmp_path):
    items = read(write_lines(tmp_path / "a.jsonl", b"\xef\xbb\xbf" + GOOD_LINE, GOOD_LINE))
    assert records(items) == [1, 2]
    [problem] = problems(items)
    assert problem.kind == "bom" and problem.recoverable and problem.line == 1


def test_blank_lines_are_recoverable_and_keep_line_numbers(tmp_path):
    items = read(write_lines(tmp_path / "a.jsonl", GOOD_LINE, b"", b"   ", GOOD_LINE))
    assert records(items) == [1, 4]
    assert [(p.kind, p.line, p.recoverable) for p in problems(items)] == [("blank-line", 2, True), ("blank-line", 3, True)]


def test_crlf_line_endings_and_missing_final_newline_are_fine(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(GOOD_LINE + b"\r\n" + GOOD_LINE + b"\r\n" + GOOD_LINE)
    items = read(path)
    assert records(items) == [1, 2, 3] and not problems(items)


def test_line_numbers_are_one_based_physical_lines(tmp_path):
    lines = [json.dumps({"prompt": str(i), "completion": str(i)}).encode() for i in range(1, 6)]
    items = read(write_lines(tmp_path / "a.jsonl", *lines))
    assert [(line, value["prompt"]) for line, value in items] == [(i, str(i)) for i in range(1, 6)]


@pytest.mark.parametrize(
    "content",
    [
        b"[" + GOOD_LINE + b", " + GOOD_LINE + b"]\n",
        b"[\n  " + GOOD_LINE + b",\n  " + GOOD_LINE + b"\n]\n",
        json.dumps([GOOD, GOOD], indent=2).encode(),
    ],
    ids=["one-line", "one-record-per-line", "pretty-printed"],
)
def test_whole_file_json_array_is_one_file_level_problem(tmp_path, content):
    path = tmp_path / "a.jsonl"
    path.write_bytes(content)
    kinds = [p.kind for p in problems(read(path))]
    assert kinds.count("json-array-file") == 1
    assert "invalid-json" not in kinds and "not-object" not in kinds


def test_array_on_line_one_of_a_jsonl_file_is_a_line_problem(tmp_path):
    items = read(write_lines(tmp_path / "a.jsonl", b'["stray"]', GOOD_LINE, GOOD_LINE))
    assert records(items) == [2, 3]
    assert [(p.kind, p.line) for p in problems(items)] == [("not-object", 1)]


@pytest.mark.parametrize("content", [b"", b"\n\n"], ids=["empty", "only-blank-lines"])
def test_file_without_records_is_reported(tmp_path, content):
    path = tmp_path / "a.jsonl"
    path.write_bytes(content)
    kinds = [p.kind for p in problems(read(path))]
    assert "empty-file" in kinds


def test_gzip_file_is_read(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(GOOD_LINE + b"\n" + GOOD_LINE + b"\n"))
    items = read(path)
    assert records(items) == [1, 2] and not problems(items)


def test_truncated_gzip_keeps_the_lines_before_the_cut(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    data = gzip.compress(b"".join(json.dumps({"prompt": str(i), "completion": "x" * 50}).encode() + b"\n" for i in range(3000)))
    path.write_bytes(data[: len(data) // 2])
    items = read(path)
    read_lines = records(items)
    assert read_lines and read_lines == list(range(1, len(read_lines) + 1))
    [problem] = problems(items)
    assert problem.kind == "truncated-gzip"
    assert problem.line == read_lines[-1] + 1


def test_plain_file_with_gz_name_is_reported_once(tmp_path):
    path = write_lines(tmp_path / "a.jsonl.gz", GOOD_LINE)
    assert [p.kind for p in problems(read(path))] == ["not-gzip"]


def test_directory_named_like_a_data_file(tmp_path):
    (tmp_path / "x.jsonl").mkdir()
    [(line, problem)] = read(tmp_path / "x.jsonl")
    assert line == 0 and problem.kind == "is-directory"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loop_named_like_a_data_file(tmp_path):
    os.symlink("x.jsonl", tmp_path / "x.jsonl")
    [(line, problem)] = read(tmp_path / "x.jsonl")
    assert line == 0 and problem.kind == "open-failed"
    assert "symbolic links" in problem.detail or "loop" in problem.detail.lower()


def test_reader_is_lazy(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", *([GOOD_LINE] * 1000))
    stream = read_jsonl(path)
    assert next(stream)[0] == 1  # one line at a time, not the whole file first


# -- integration: every malformed input in one pytest run --------------------------------------

#: A record whose defect the schema check must still find after the broken line.
LATER_DEFECT = json.dumps({"messages": [{"role": "system", "content": "S"}, {"role": "assistant", "content": "A"}]}).encode()


def _malformed_dataset(root: Path) -> dict[str, tuple[int | None, str]]:
    """Write one file per malformed input; return {file name: (line or None, rule code)}."""
    data = root / "data"
    data.mkdir()
    expected: dict[str, tuple[int | None, str]] = {}
    codes = {
        "invalid-json": "SCH001", "trailing-data": "SCH001", "too-deep": "SCH001", "invalid-utf8": "SCH002",
        "nul-byte": "SCH002", "lone-surrogate": "SCH002", "nan": "SCH003", "not-object": "SCH004",
    }
    for name, raw, kind in BAD_LINES:
        write_lines(data / f"{name}.jsonl", GOOD_LINE, raw, GOOD_LINE, LATER_DEFECT)
        expected[f"{name}.jsonl"] = (2, codes[kind])
    huge = b'{"messages": [{"role": "user", "content": "' + b"x" * 30_000_000 + b'"}'
    write_lines(data / "huge-line.jsonl", GOOD_LINE, huge, GOOD_LINE, LATER_DEFECT)
    expected["huge-line.jsonl"] = (2, "SCH001")
    write_lines(data / "bom.jsonl", b"\xef\xbb\xbf" + GOOD_LINE, GOOD_LINE, GOOD_LINE, LATER_DEFECT)
    expected["bom.jsonl"] = (1, "SCH008")
    (data / "array.jsonl").write_bytes(json.dumps([GOOD, GOOD], indent=2).encode())
    expected["array.jsonl"] = (None, "SCH005")
    (data / "empty.jsonl").write_bytes(b"")
    expected["empty.jsonl"] = (None, "SCH007")
    payload = gzip.compress(b"".join(GOOD_LINE + b"\n" for _ in range(3000)) + LATER_DEFECT + b"\n")
    (data / "truncated.jsonl.gz").write_bytes(payload[: len(payload) // 2])
    expected["truncated.jsonl.gz"] = (-1, "SCH006")  # line: where the stream was cut
    (data / "folder.jsonl").mkdir()
    expected["folder.jsonl"] = (None, "SCH006")
    os.symlink("loop.jsonl", data / "loop.jsonl")
    expected["loop.jsonl"] = (None, "SCH006")
    return expected


# Serial and xdist only: the run reads a 30 MB line (seconds per run), and turning xdist
# off changes nothing in how a file is read; what -n 2 adds is the findings crossing
# from the workers.
def test_every_malformed_input_fails_its_schema_item_cleanly(pytester, run_mode_serial_and_xdist):
    expected = _malformed_dataset(pytester.path)
    result = run_mode_serial_and_xdist(pytester, "--ftdata", "data", "-k", "schema", "-p", "no:cacheprovider", "--ftdata-report", "json:report.json")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    assert len(output) < 200_000  # the 30 MB line is never printed
    outcomes = result.parseoutcomes()
    assert "error" not in outcomes and "errors" not in outcomes  # nothing broke collection
    report = json.loads((pytester.path / "report.json").read_text())
    by_file: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_file.setdefault(finding["path"].removeprefix("data/"), []).append(finding)
    for name, (line, code) in expected.items():
        found = by_file.get(name, [])
        codes_found = [(f["rule"], f["line"]) for f in found]
        if line == -1:
            assert any(rule == code and isinstance(at, int) and at > 1 for rule, at in codes_found), (name, codes_found)
        else:
            assert (code, line) in codes_found, (name, codes_found)
        if name.endswith(".jsonl") and (pytester.path / "data" / name).is_file() and line not in (None, -1):
            # the rest of the file was still checked: the defect on line 4 is found too
            assert ("SCH112", 4) in codes_found, (name, codes_found)
        result.stdout.fnmatch_lines([f"*data/{name}{'' if line in (None, -1) else f':{line}'}*: {code} *"])
    # every file has an error (bom.jsonl: its line-4 defect), so every ::schema item fails
    failed = {nodeid.split("::")[0] for nodeid in _failed_nodeids(result)}
    assert failed == {f"data/{name}" for name in expected}


def _failed_nodeids(result) -> list[str]:
    return [line.split(" ")[1] for line in result.outlines if line.startswith("FAILED ")]
