"""Hostile input, class by class (issue 10): nothing leaks, fetches, crashes, hangs or grows.

Each test names the class of attack it holds off and plants the example the review
found, through the whole plugin where the class lives in outputs. `test_fuzz.py`
generates many more inputs of the same classes.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from pytest_ftdata.config import ConfigError, ConfigLoader, validate
from pytest_ftdata.engine import analyze_dataset
from pytest_ftdata.io import JsonlReader, line_excerpt
from pytest_ftdata.redact import display, redact, redact_tree


AWS = "AKIAZ3MPLQ7RT2XW9KLB"
OPENAI = "sk-proj-Qx7Lm2Vb9Nc4Rt6Yp8Ks1Hd3Fg5Jw0Ze7Ua2Ib4Oc6Pd8Qe1Rf3"
IBAN = "DE44500105175407324931"
PASSWORD = "Tr0ub4dorXyz"
DB_URL = f"postgres://admin:{PASSWORD}@db.acme-corp.io/prod"
EMAIL = "jane.doe@acme-corp.io"
#: What must never appear in any output, in any letter case.
SECRETS = (AWS, OPENAI, IBAN, PASSWORD, EMAIL)


def leaked(text: str) -> list[str]:
    low = text.lower()
    return [secret for secret in SECRETS if secret.lower() in low]


def outputs_of(root: Path) -> dict[str, str]:
    """Every file a run left under `root` that is not data or configuration."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and path.suffix not in (".jsonl", ".gz", ".toml", ".py") and "schemas" not in path.parts:
            found[str(path.relative_to(root))] = path.read_text(encoding="utf-8", errors="replace")
    return found


# -- 1. secrets printed through other findings -------------------------------------------------

HOSTILE_LINES = [
    # SCH001: the raw line of an unreadable record, the secret after a \n escape ...
    '{"messages": [{"role": "user", "content": "log:\\n' + AWS + '\\n"}, {"role": "assistant", "content": "ok"},]}',
    # ... in a URL written with \\/ escapes, and cut by the excerpt window around the error far to the right.
    '{"messages": [{"role": "user", "content": "use https:\\/\\/admin:' + PASSWORD + '@db.acme-corp.io\\/x '
    + "padding " * 6 + '"}, {"role": "assistant", "content": "ok"}] oops}',
]


@pytest.fixture
def hostile_dataset(chat, write_jsonl):
    def hostile_dataset(root: Path) -> Path:
        data = root / "data"
        key_input = f"My key {AWS} leaked, rotate it"
        iban_input = f"Please pay into {IBAN} today"
        train = [
            *HOSTILE_LINES,
            # DUP002: the normalized (lower-cased) input would hide the key id from the detectors.
            chat(key_input, '{"category": "security"}'),
            chat(key_input.upper().replace(AWS.upper(), AWS) + "  ", '{"category": "security"}'),
            # LEAK001 with an IBAN, compared lower-cased.
            chat(iban_input, '{"category": "billing"}'),
            # FMT002: a target that is not JSON, with the credentials right where a 60-character cut falls.
            chat("connect me", "x" * 44 + f" try {DB_URL} now"),
            # SCH103: a value of the wrong type, quoted and cut at 37 characters right after `user:pass@`.
            {"messages": [{"role": "x" * 16 + f"://admin:{PASSWORD}@db.acme-corp.io", "content": "hi"},
                          {"role": "assistant", "content": '{"category": "x"}'}]},
            # FMT006/FMT007: a rare system prompt that holds an e-mail address and an API key.
            chat("hello", '{"category": "greeting"}', system=f"Escalate to {EMAIL} with key {OPENAI}."),
        ]
        train += [chat(f"ordinary question {i}", '{"category": "other"}', metadata={"ticket": f"T-{i}"}) for i in range(12)]
        # LEAK003: a group id that is an e-mail address.
        train.append(chat("first message of a ticket", '{"category": "other"}', metadata={"ticket": EMAIL}))
        write_jsonl(data / "train.jsonl", train)
        write_jsonl(data / "test.jsonl", [chat(iban_input.lower(), '{"category": "billing"}'),
                                          chat("second message of a ticket", '{"category": "other"}', metadata={"ticket": EMAIL})])
        (data / "ftdata.toml").write_text('target_format = "json"\ngroup_by = "/metadata/ticket"\n', encoding="utf-8")
        return data

    return hostile_dataset


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-vv", "-rA"])
def test_no_secret_reaches_any_output_whatever_path_it_takes(pytester, run_mode, verbosity, monkeypatch, hostile_dataset):
    data = hostile_dataset(pytester.path)
    summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    args = [
        "--ftdata", str(data.relative_to(pytester.path)), verbosity, "--junitxml=junit.xml",
        "--ftdata-report=json:report.json", "--ftdata-report=sarif:report.sarif",
        "--ftdata-report=md:report.md", "--ftdata-report=html:report.html", "--ftdata-report=term",
    ]
    result = run_mode(pytester, *args)
    baseline = run_mode(pytester, "--ftdata", "data", "--ftdata-baseline=baseline.json", "--ftdata-update-baseline")
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str(), "baseline stdout": baseline.stdout.str()}
    texts.update(outputs_of(pytester.path))
    assert "report.json" in texts and "baseline.json" in texts and "junit.xml" in texts
    assert any(name.startswith(".pytest_cache") and "ftdata" in name for name in texts), "the cache was not written"
    report = json.loads(texts["report.json"])
    rules = {finding["rule"] for finding in report["findings"]}
    assert {"SCH001", "DUP002", "LEAK001", "FMT002", "SCH103", "FMT006", "LEAK003"} <= rules
    for name, text in texts.items():
        assert not leaked(text), f"{name} holds {leaked(text)}"
    assert "Traceback" not in texts["stdout"] and "INTERNALERROR" not in texts["stdout"]


def test_excerpts_come_from_the_decoded_text_not_the_comparison_key(tmp_path, hostile_dataset):
    data = hostile_dataset(tmp_path)
    result = analyze_dataset(data, sorted(data.glob("*.jsonl")), ConfigLoader(tmp_path).for_directory(data), tmp_path)
    duplicate = next(f for f in result.all_findings() if f.rule == "DUP002")
    assert "[aws-access-key:" in duplicate.excerpt and "My key" in duplicate.excerpt
    leak = next(f for f in result.all_findings() if f.rule == "LEAK001")
    assert "[iban:" in leak.excerpt


@pytest.mark.parametrize(
    "text",
    [
        "AKIA0000000000000000/00012345678AbB9CDEa",
        f"{AWS}{AWS}",
        f"x{OPENAI}/{AWS}:{PASSWORD}@db.acme-corp.io",
        "4111 1111\n1111 1111 and 5500 0000 0000 0004",
        f"{EMAIL}{EMAIL}",
    ],
)
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once
    assert display(once) == display(text) == display(display(text))


def test_a_secret_cut_by_the_excerpt_window_is_masked_before_the_cut():
    raw = ('{"text": "' + "a " * 26 + f'{DB_URL} and more", oops}}').encode()
    for column in range(0, len(raw), 7):
        excerpt = line_excerpt(raw, column)
        assert not leaked(excerpt), (column, excerpt)


# -- 2. no network from a JSON Schema ---------------------------------------------------------------


@pytest.fixture
def listener():
    """A local HTTP server that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def schema_cases(url: str) -> dict[str, dict]:
    return {
        "remote": {"$ref": f"{url}/schema.json"},
        "remote-nested": {"type": "object", "properties": {"a": {"$ref": f"{url}/a.json#/x"}}},
        "relative-missing": {"$ref": "missing.json"},
        "relative-outside": {"$ref": "../outside.json"},
        "self": {"$ref": "#"},
        "loop": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        "dangling": {"$ref": "#/definitions/nowhere"},
    }


@pytest.mark.parametrize("case", list(schema_cases("http://x")))
@pytest.mark.parametrize("setting, rule", [("record_schema", "SCH114"), ("target_schema", "FMT011")])
def test_an_unusable_schema_reference_is_one_finding_and_nothing_is_fetched(pytester, listener, case, setting, rule, chat, write_jsonl):
    url, requests = listener
    (pytester.path / "schemas").mkdir()
    (pytester.path / "schemas" / "s.json").write_text(json.dumps(schema_cases(url)[case]))
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", '{"a": 1}'), chat("yo", '{"a": 2}')])
    pytester.makepyprojecttoml(f'[tool.ftdata]\n{setting} = "schemas/s.json"\n')
    result = pytester.runpytest_subprocess("--ftdata", "data", "-k", "schema or format", "-p", "no:cacheprovider", timeout=120)
    output = result.stdout.str()
    assert requests == []
    assert f"{rule} " in output and "is unusable" in output
    assert output.count(f": {rule} ") == 1  # one finding (the summary names the rule once more, with its count)
    assert "Traceback" not in output and "INTERNALERROR" not in output


def test_a_local_reference_beside_the_schema_still_works(tmp_path, chat, write_jsonl):
    (tmp_path / "defs.json").write_text(json.dumps({"$defs": {"answer": {"type": "object", "required": ["a"]}}}))
    (tmp_path / "s.json").write_text(json.dumps({"$ref": "defs.json#/$defs/answer"}))
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("hi", '{"a": 1}'), chat("yo", '{"b": 2}')])
    config = validate({"target_schema": str(tmp_path / "s.json"), "target_format": "json"}, "test")
    result = analyze_dataset(data, [data / "train.jsonl"], config, tmp_path, families=["format"])
    assert [(f.rule, f.line) for f in result.all_findings() if f.rule.startswith("FMT00") and f.rule in ("FMT003", "FMT011")] == [("FMT003", 2)]


# -- 3. one bad example never costs the rest --------------------------------------------------------


@pytest.mark.parametrize("depth", [255, 600, 1024])
def test_a_deeply_nested_record_is_one_finding_per_family_at_its_line(tmp_path, depth, chat, write_jsonl):
    content = "[" * depth + '"x"' + "]" * depth  # deeper than any serialiser recurses: written by hand
    data = tmp_path / "data"
    lines = [chat("first", "ok", system=None), '{"messages": [{"role": "user", "content": ' + content + '}, {"role": "assistant", "content": "a"}]}']
    lines += [chat(f"question {i}", "ok", system=None) for i in range(8)]
    write_jsonl(data / "train.jsonl", lines)
    result = analyze_dataset(data, [data / "train.jsonl"], validate({}, "test"), tmp_path)
    [file_result] = result.files.values()
    unreadable = [f for f in result.all_findings() if f.rule == "SCH001"]
    assert file_result.info.examples + len(unreadable) == 10  # every line was read and checked or reported
    for finding in result.all_findings():
        if finding.line == 2:
            assert finding.rule in ("SCH103", "CHK002", "SCH001"), finding
    per_family = {}
    for finding in result.all_findings():
        if finding.line == 2:
            per_family[finding.check] = per_family.get(finding.check, 0) + 1
    assert all(count <= 2 for count in per_family.values()), per_family
    assert not [f for f in result.all_findings() if f.rule == "CHK002" and f.line is None]


# -- 4. hangs ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_fifo_named_like_a_data_file_is_a_finding_not_a_hang(pytester, chat, write_jsonl):
    data = pytester.path / "data"
    data.mkdir()
    write_jsonl(data / "train.jsonl", [chat("hi", "ok")])
    os.mkfifo(data / "val.jsonl")
    os.symlink("/dev/zero", data / "test.jsonl")
    result = pytester.runpytest_subprocess("--ftdata", "data", "-p", "no:cacheprovider", timeout=60)
    output = result.stdout.str()
    assert "data/val.jsonl: SCH006 The file is a named pipe (FIFO), not a regular file" in output
    assert "data/test.jsonl: SCH006 The file is a character device, not a regular file" in output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_a_schema_path_to_a_pipe_or_device_is_unusable_not_a_hang(pytester, target, chat, write_jsonl):
    if target == "fifo":
        os.mkfifo(pytester.path / "schema.json")
    else:
        os.symlink(target, pytester.path / "schema.json")
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", "ok")])
    pytester.makepyprojecttoml('[tool.ftdata]\nrecord_schema = "schema.json"\n')
    result = pytester.runpytest_subprocess("--ftdata", "data", "-k", "schema", "-p", "no:cacheprovider", timeout=60)
    assert "SCH114 record_schema is unusable" in result.stdout.str()
    assert "not a regular file" in result.stdout.str()


def test_a_catastrophic_banned_pattern_is_stopped_with_a_finding(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("a" * 32 + "b", "ok") for _ in range(50)])
    pytester.makepyprojecttoml('[[tool.ftdata.banned]]\npattern = "^(a|a)+$"\nmessage = "no"\n')
    result = pytester.runpytest_subprocess("--ftdata", "data", "-k", "policy", "-p", "no:cacheprovider", timeout=120)
    output = result.stdout.str()
    assert "POL003" in output and "catastrophic backtracking" in output
    assert output.count(": POL003 ") == 1  # stopped once, not tried on all 50 examples (the summary counts it once)


def test_a_catastrophic_schema_pattern_makes_the_schema_unusable(tmp_path, chat, write_jsonl):
    (tmp_path / "s.json").write_text(json.dumps({"properties": {"messages": {"items": {"properties": {"content": {"pattern": "^(a|a)+$"}}}}}}))
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("a" * 32 + "b", "ok") for _ in range(20)])
    config = validate({"record_schema": str(tmp_path / "s.json")}, "test")
    result = analyze_dataset(data, [data / "train.jsonl"], config, tmp_path, families=["schema"])
    [unusable] = [f for f in result.all_findings() if f.rule == "SCH114"]
    assert unusable.line == 1 and "catastrophic backtracking" in unusable.message


# -- 5. bounded memory --------------------------------------------------------------------------------


def test_an_over_long_line_is_skipped_and_measured_not_loaded(tmp_path, chat):
    path = tmp_path / "train.jsonl"
    with open(path, "wb") as handle:
        handle.write(json.dumps(chat("hi", "ok")).encode() + b"\n")
        handle.write(b'{"text": "' + b"x" * (3 * 1024 * 1024) + b'"}\n')
        handle.write(json.dumps(chat("yo", "ok")).encode() + b"\n")
    items = list(JsonlReader(path, max_line_bytes=1024 * 1024))
    [(line, problem)] = [(n, v) for n, v in items if not isinstance(v, dict)]
    assert line == 2 and problem.kind == "line-too-long" and "3,145,741 bytes" in problem.detail
    assert [n for n, v in items if isinstance(v, dict)] == [1, 3]


def test_a_gzip_of_a_billion_newlines_is_one_finding_and_stops(tmp_path, chat):
    path = tmp_path / "train.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(json.dumps(chat("hi", "ok")).encode() + b"\n")
        chunk = b"\n" * (1 << 24)
        for _ in range(20):  # 320 MiB of newlines in about 330 KB
            handle.write(chunk)
    reader = JsonlReader(path)
    problems = [v for _, v in reader if not isinstance(v, dict)]
    kinds = [p.kind for p in problems]
    assert kinds.count("blank-line") == 1
    assert "compression-bomb" in kinds


def test_a_million_broken_lines_keep_a_thousand_findings_and_count_the_rest(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"{broken\n" * 20_000)
    result = analyze_dataset(tmp_path, [path], validate({}, "test"), tmp_path, families=["schema"])
    findings = result.all_findings()
    listed = [f for f in findings if f.rule == "SCH001" and "not listed one by one" not in f.message]
    [summary] = [f for f in findings if "not listed one by one" in f.message]
    assert len(listed) == 1000 and "19,000 more invalid-json findings" in summary.message


# -- 6. the result cache stores only what it hashed --------------------------------------------------


def test_a_file_rewritten_while_it_is_read_is_not_cached(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat(f"question {i}", "ok") for i in range(30)])
    pytester.makeconftest(
        """
        import pathlib
        import pytest_ftdata

        @pytest_ftdata.check(scope="file")
        def rewrites_its_file(example):
            # What a concurrent writer does: rewrite the file (with the same bytes) mid-read.
            if example.line == 1:
                path = pathlib.Path("data/train.jsonl")
                path.write_bytes(path.read_bytes())
                with open("visits.txt", "a") as log:
                    log.write("visited\\n")
        """
    )
    first = pytester.runpytest("--ftdata", "data", "-k", "schema or rewrites")
    assert "SCH011 " in first.stdout.str() and "The file changed while it was read" in first.stdout.str()
    pytester.runpytest("--ftdata", "data", "-k", "schema or rewrites")
    assert (pytester.path / "visits.txt").read_text().count("visited") == 2  # nothing was replayed from the cache


# -- 7. odd names and configs -------------------------------------------------------------------------


def test_a_non_utf8_file_name_is_escaped_everywhere(pytester, run_mode, chat, write_jsonl):
    data = pytester.path / "data"
    data.mkdir()
    raw_name = os.path.join(os.fsencode(data), b"bad\xfftrain.jsonl")
    with open(raw_name, "wb") as handle:
        handle.write(json.dumps(chat("hi", "ok")).encode() + b"\n")
    write_jsonl(data / "val.jsonl", [chat("hi", "ok")])
    result = run_mode(pytester, "--ftdata", "data", "--ftdata-report=json:report.json", "--ftdata-report=sarif:r.sarif")
    output = result.stdout.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    # the compact summary names it escaped; -v lists it escaped too
    assert "SCH013" in output and "e.g. data/bad\\xfftrain.jsonl" in output
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert "data/bad\\xfftrain.jsonl" in [f["path"] for f in report["files"]]


def test_a_file_name_with_a_newline_or_escape_injects_nothing(pytester, run_mode_serial_and_xdist, chat, write_jsonl):
    """A data folder copied from elsewhere may hold `x\\n::error::...`: in a CI log, a line
    that starts with `::` is a workflow command, and an escape sequence rewrites the
    terminal. The name is printed escaped everywhere (-v lines, findings, reports, the
    lock), and the lock it is written into reads back. (No-xdist adds nothing: naming is
    collection and reporting, the same with xdist blocked.)"""
    data = pytester.path / "data"
    name = "x\n::error title=INJ::pwned \x1b[31m\u202etrain.jsonl"
    write_jsonl(data / name, [chat("hi", "ok")])
    write_jsonl(data / "val.jsonl", [chat("hello", "ok")])
    args = ["--ftdata", "data", "-v", "--ftdata-report=json:report.json", "--ftdata-report=html:report.html"]
    result = run_mode_serial_and_xdist(pytester, *args, "--ftdata-update-lock")
    assert result.ret == 0, result.stdout.str()
    again = run_mode_serial_and_xdist(pytester, *args)
    assert again.ret == 0, again.stdout.str()
    for output in (result.stdout.str(), again.stdout.str(), (pytester.path / "report.json").read_text(encoding="utf-8"),
                   (pytester.path / "report.html").read_text(encoding="utf-8"), (data / "ftdata.lock").read_text(encoding="utf-8")):
        assert "\x1b" not in output and "\u202e" not in output
        assert not any(line.lstrip().startswith("::error") for line in output.splitlines())
    assert "SCH013" in again.stdout.str() and "data/x\\x0a::error title=INJ::pwned \\x1b[31m\\u202etrain.jsonl" in again.stdout.str()
    assert "VER007" not in again.stdout.str()


def test_a_config_nested_five_thousand_deep_is_one_clear_error(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", "ok")])
    (pytester.path / "data" / "ftdata.toml").write_text("labels = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    result = pytester.runpytest_subprocess("--ftdata", "data", timeout=60)
    assert "nested too deeply to read" in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"max_chars": True}, "setting `max_chars` should be a valid integer (got True)"),
        ({"min_per_label": "5"}, "setting `min_per_label` should be a valid integer or a valid dictionary (got '5')"),
        ({"split_ratios": {"train": 0.8, "validation": 0.2, "test": 0.2}}, "must add up to at most 1 (they add up to 1.2)"),
        ({"base_dir": "/etc"}, "unknown setting `base_dir`"),
        ({"subgroups": {"lang": {"pointr": "/x"}}}, "unknown setting `subgroups.lang.pointr`; did you mean `pointer`?"),
    ],
)
def test_config_values_of_the_wrong_kind_are_refused(data, expected):
    with pytest.raises(ConfigError) as caught:
        validate(data, "ftdata.toml")
    assert expected in str(caught.value)
    assert str(caught.value).count("\n") == 1  # one mistake, one line


def test_a_label_error_says_what_it_got_once():
    with pytest.raises(ConfigError) as caught:
        validate({"label": "intent"}, "ftdata.toml")
    assert str(caught.value).count("(got 'intent')") == 1


def test_a_data_folder_may_not_point_the_run_outside_the_project(tmp_path):
    data = tmp_path / "project" / "data"
    data.mkdir(parents=True)
    (data / "ftdata.toml").write_text('record_schema = "/etc/passwd"\n', encoding="utf-8")
    loader = ConfigLoader(tmp_path / "project")
    with pytest.raises(ConfigError) as caught:
        loader.for_directory(data)
    assert "points outside the project" in str(caught.value)


# -- 8. messages that used to mislead, and what used to be silent -------------------------------------


def test_gzip_problems_say_what_is_wrong(tmp_path, chat):
    good = gzip.compress(json.dumps(chat("hi", "ok")).encode() + b"\n")
    bad_crc = good[:-8] + bytes([good[-8] ^ 0xFF]) + good[-7:]
    (tmp_path / "crc.jsonl.gz").write_bytes(bad_crc)
    (tmp_path / "trailing.jsonl.gz").write_bytes(good + b"trailing junk")
    (tmp_path / "plain.jsonl.gz").write_bytes(b'{"a": 1}\n')
    details = {
        name: [v.detail for _, v in JsonlReader(tmp_path / name) if not isinstance(v, dict)]
        for name in ("crc.jsonl.gz", "trailing.jsonl.gz", "plain.jsonl.gz")
    }
    assert any("checksum does not match" in d for d in details["crc.jsonl.gz"])
    assert any("bytes after the end of its gzip stream" in d for d in details["trailing.jsonl.gz"])
    assert details["plain.jsonl.gz"] == ["has a .gz name but is not gzip-compressed (no gzip header)"]


def test_a_utf16_file_is_one_finding(tmp_path, chat):
    path = tmp_path / "train.jsonl"
    path.write_bytes(("\n".join(json.dumps(chat(f"q{i}", "ok")) for i in range(50)) + "\n").encode("utf-16"))
    problems = [v for _, v in JsonlReader(path) if not isinstance(v, dict)]
    assert [p.kind for p in problems] == ["utf16"]


def test_duplicate_keys_and_hidden_characters_are_reported(tmp_path, chat):
    path = tmp_path / "train.jsonl"
    path.write_bytes(
        b'{"messages": [{"role": "user", "role": "system", "content": "hi"}, {"role": "assistant", "content": "ok"}]}\n'
        + json.dumps(chat("pay \u202eus", "ok\u200b")).encode() + b"\n"
    )
    result = analyze_dataset(tmp_path, [path], validate({}, "test"), tmp_path, families=["schema", "format"])
    found = {(f.rule, f.line) for f in result.all_findings()}
    assert {("SCH012", 1), ("FMT012", 2), ("FMT013", 2)} <= found
    message = next(f.message for f in result.all_findings() if f.rule == "FMT012")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in message


def test_a_30_megabyte_line_is_flagged_without_any_length_setting(tmp_path, chat, write_jsonl):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, [chat("x" * 30_000_000, "ok"), chat("hi", "ok")])
    result = analyze_dataset(tmp_path, [path], validate({}, "test"), tmp_path, families=["length"])
    assert [(f.rule, f.line) for f in result.all_findings() if f.rule == "LEN009"] == [("LEN009", 1)]


# -- user tests: pytest's assertion messages cut values before anything redacts them ----------


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-vv"])
def test_a_failing_user_assertion_never_quotes_a_secret(pytester, verbosity, chat, write_jsonl):
    # pytest cuts a 240-character repr after 118 characters: right after the password,
    # before the `@host` the detector needs (it leaked before the fix, at -q).
    answer = "z" * 88 + DB_URL + " " + "y" * 200
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("how do I connect?", answer)])
    pytester.makeini("[pytest]\nftdata_paths = data\n")
    pytester.makepyfile(
        test_user="""
        def test_contains(ftdata):
            example = next(iter(ftdata.split("train")))
            assert "password" in example.target_text

        def test_starts(ftdata):
            example = next(iter(ftdata.split("train")))
            assert example.target_text.startswith("q")

        def test_equals(ftdata):
            example = next(iter(ftdata.split("train")))
            assert example.target_text == example.target_text[:-1] + "!"
        """
    )
    result = pytester.runpytest(verbosity, "test_user.py")
    result.assert_outcomes(failed=3)
    output = result.stdout.str()
    assert not leaked(output), leaked(output)
    assert "[url-credentials:" in output


class _Store:
    """The two methods of pytest's `config.cache` the result cache uses."""

    def __init__(self) -> None:
        self.values: dict = {}

    def get(self, key, default):
        return self.values.get(key, default)

    def set(self, key, value) -> None:
        self.values[key] = value


@pytest.mark.parametrize("rewrite", [False, True])
def test_a_file_rewritten_between_hashing_and_analysis_is_not_cached(tmp_path, monkeypatch, rewrite, chat, write_jsonl):
    """The digest pass and the analysis read the file separately: a rewrite in between
    (here with the very same bytes, so size and CRC-32 agree) is a different version of
    the file, and its results are not stored under the digest."""
    import time

    from pytest_ftdata import cache as cache_module
    from pytest_ftdata.cache import ResultCache

    path = write_jsonl(tmp_path / "data" / "train.jsonl", [chat(f"question {i}", "ok") for i in range(20)])
    hashed = cache_module._hashed

    def hashed_then_rewritten(target):
        found = hashed(target)
        if rewrite:
            time.sleep(0.01)
            target.write_bytes(target.read_bytes())
        return found

    monkeypatch.setattr(cache_module, "_hashed", hashed_then_rewritten)
    results = ResultCache(_Store())
    config = ConfigLoader(tmp_path).for_directory(path.parent)
    results.analyze(path.parent, [path], config, tmp_path, ["schema"])
    note = results.note_for("file", "data/train.jsonl", "schema")
    assert (note is None) is rewrite


# -- review of issue 10: the variants the issue did not list, class by class -----------------------


def test_config_values_and_summaries_are_masked_in_the_report_and_the_cache(pytester, chat, write_jsonl):
    """Class 1: a declared subgroup value is a config value, echoed in the JSON report's
    settings and the dataset cache entry; it is masked like the data's own values."""
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat(f"question {i}", "ok", metadata={"cust": "acme"}) for i in range(4)])
    write_jsonl(data / "test.jsonl", [chat("other", "ok", metadata={"cust": "acme"})])
    (data / "ftdata.toml").write_text(f'[subgroups]\ncust = {{ pointer = "/metadata/cust", values = ["{EMAIL}", "{AWS}"] }}\n')
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report=json:report.json", "--ftdata-report=md:r.md")
    texts = {"stdout": result.stdout.str(), **outputs_of(pytester.path)}
    report = json.loads(texts["report.json"])
    [table] = [t for d in report["subgroups"]["datasets"] for t in d["dimensions"] if t["name"] == "cust"]
    assert table["settings"]["values"][0].startswith("[email: j***@acme-corp.io")
    assert any("ftdata" in name and "dataset" in name for name in texts), "the dataset cache entry was not written"
    for name, text in texts.items():
        assert not leaked(text), f"{name} holds {leaked(text)}"


def test_redact_tree_masks_every_string_but_locations():
    tree = {"path": f"data/{EMAIL}.jsonl", "key": "2d711642b726b04401627ca9fbac32f5",
            "rows": [{EMAIL: 3, "subgroup": AWS}], "values": [IBAN.lower()]}
    masked = redact_tree(tree)
    assert masked["path"] == tree["path"] and masked["key"] == tree["key"]  # locations stay as they are
    assert not leaked(json.dumps({k: v for k, v in masked.items() if k != "path"}))
    assert redact_tree(masked) == masked


@pytest.mark.parametrize(
    "ref, reason",
    [
        ("{url}/s.json", "is remote (http:)"),
        ("urn:uuid:0f7d1c6e-0000-4000-8000-000000000000", "is remote (urn:)"),
        ("file:///etc/passwd", "names a file outside the schema's directory"),
        ("../outside.json", "names a file outside the schema's directory"),
        ("file://fileserver/share/s.json", "names a file on another host (fileserver)"),
        ("link-to-zero.json", "names a file outside the schema's directory"),
        ("pipe.json", "is a named pipe (FIFO), not a regular file"),
    ],
)
def test_an_unusable_reference_says_why_and_reads_nothing_outside(tmp_path, listener, ref, reason):
    """Class 2: every way out of the schema's directory is refused with its reason."""
    from pytest_ftdata.schemas import SchemaUnusable, load_json_schema

    url, requests = listener
    folder = tmp_path / "schemas"
    folder.mkdir()
    (tmp_path / "outside.json").write_text('{"type": "string"}')
    os.symlink("/dev/zero", folder / "link-to-zero.json")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.json")
    elif ref == "pipe.json":
        pytest.skip("named pipes need a POSIX system")
    (folder / "s.json").write_text(json.dumps({"type": "object", "properties": {"a": {"$ref": ref.format(url=url)}}}))
    with pytest.raises(SchemaUnusable, match="the reference") as raised:
        load_json_schema(folder / "s.json")
    assert reason in str(raised.value)
    assert requests == []


def test_a_regex_format_value_cannot_hang_or_break_the_schema(tmp_path, chat, write_jsonl):
    """Class 4: `"format": "regex"` compiles a value of the data; a compile bomb or a
    pattern nested past the parser's recursion is one failing record, not a hang or an
    unusable schema."""
    (tmp_path / "s.json").write_text(json.dumps({"properties": {"metadata": {"properties": {"p": {"format": "regex"}}}}}))
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [
        chat("hi", "ok", metadata={"p": "a{100000000}"}),
        chat("yo", "ok", metadata={"p": "(" * 100_000}),
        chat("ok", "ok", metadata={"p": "^[a-z]+$"}),
    ])
    config = validate({"record_schema": str(tmp_path / "s.json")}, "test")
    result = analyze_dataset(data, [data / "train.jsonl"], config, tmp_path, families=["schema"])
    found = [(f.rule, f.line) for f in result.all_findings() if f.rule in ("SCH113", "SCH114")]
    assert found == [("SCH113", 1), ("SCH113", 2)]


@pytest.mark.parametrize("pattern", ["(?:a{1000}){1000}", "a{100000000}", "(((x{100}){100}){100})", "(" * 5000 + ")" * 5000],
                         ids=["nested-count", "huge-count", "three-levels", "deep-groups"])
@pytest.mark.parametrize("setting", ["banned", "allow_patterns"])
def test_a_pattern_that_would_take_minutes_to_compile_is_refused_at_once(pattern, setting):
    """Class 4: a regular expression's compile cannot be given a timeout, and counted
    repeats expand when compiled (`a{100000000}` takes tens of GB): such patterns are
    config errors, found without compiling them."""
    import time

    data = {"banned": [{"pattern": pattern, "message": "no"}]} if setting == "banned" else {"pii": {"allow_patterns": [pattern]}}
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expand to more than|nest more than"):
        validate(data, "test")
    assert time.perf_counter() - started < 5


def test_a_compile_bomb_in_a_schema_pattern_makes_the_schema_unusable(tmp_path):
    from pytest_ftdata.schemas import SchemaUnusable, load_json_schema

    (tmp_path / "s.json").write_text(json.dumps({"properties": {"a": {"pattern": "(?:a{1000}){1000}"}}}))
    with pytest.raises(SchemaUnusable, match="expand to more than"):
        load_json_schema(tmp_path / "s.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_an_ftdata_toml_that_is_a_pipe_or_device_stops_the_run_with_a_clear_error(pytester, kind, chat, write_jsonl):
    """Class 4 and 7: an ftdata.toml is never skipped silently (the run would pass under
    rules nobody wrote) nor read forever."""
    data = pytester.path / "data"
    write_jsonl(data / "train.jsonl", [chat("hi", "ok")])
    if kind == "fifo":
        os.mkfifo(data / "ftdata.toml")
    else:
        os.symlink("/dev/zero", data / "ftdata.toml")
    result = pytester.runpytest_subprocess("--ftdata", "data", "-p", "no:cacheprovider", timeout=60)
    err = result.stderr.str() + result.stdout.str()
    assert "ftdata.toml: is a " in err and "not a regular file; replace it with a regular TOML file" in err
    assert "Traceback" not in err and "INTERNALERROR" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_tokenizer_path_to_a_pipe_is_reported_as_a_pipe(tmp_path, chat, write_jsonl):
    pytest.importorskip("tokenizers")
    os.mkfifo(tmp_path / "tokenizer.json")
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat("hi", "ok")])
    config = validate({"tokenizer": str(tmp_path / "tokenizer.json"), "max_tokens": 100}, "test")
    result = analyze_dataset(data, [data / "train.jsonl"], config, tmp_path, families=["length"])
    [unusable] = {f.message for f in result.all_findings() if f.rule == "LEN008"}
    assert "is a named pipe (FIFO), not a regular file" in unusable


def test_a_parquet_file_is_read_through_the_plugin_and_a_too_nested_one_is_one_finding(tmp_path, chat):
    """Class 3: the readers give Parquet the seekable file (it reads its footer first),
    and columns nested past pyarrow's limit are one finding that says so."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = tmp_path / "data"
    data.mkdir()
    records = [chat(f"question {i}", "ok", system=None) for i in range(3)]
    pq.write_table(pa.Table.from_pylist(records), data / "train.parquet")
    nested: list = [1]
    for _ in range(120):
        nested = [nested]
    pq.write_table(pa.table({"messages": pa.array([records[0]["messages"]]), "deep": pa.array([nested])}), data / "deep_train.parquet")
    result = analyze_dataset(data, sorted(data.glob("*.parquet")), validate({}, "test"), tmp_path, families=["schema"])
    by_file = {path.rsplit("/", 1)[-1]: file_result for path, file_result in result.files.items()}
    assert by_file["train.parquet"].info.examples == 3
    [deep] = [f for f in result.all_findings() if f.path.endswith("deep_train.parquet")]
    assert deep.rule == "SCH006" and "nested more than pyarrow's limit of 100 levels" in deep.message


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"record_schema": "\x00schema.json"}, "`record_schema` must be a file path"),
        ({"tokenizer": ""}, "`tokenizer` must be a file path"),
        ({"max_line_bytes": 10**30}, "`max_line_bytes` should be less than or equal to 1073741824"),
    ],
)
def test_settings_that_would_fail_inside_a_system_call_are_refused(data, expected):
    """Class 7: a NUL in a path made the open raise (an INTERNALERROR at startup); a
    line limit of 10**30 failed inside the read."""
    with pytest.raises(ConfigError, match=expected.replace("`", "`").replace("(", r"\(")):
        validate(data, "test")


def test_a_tiny_near_duplicate_threshold_is_no_internal_error(tmp_path, chat, write_jsonl):
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", [chat(f"question {i}", "ok") for i in range(5)])
    config = validate({"near_duplicate_threshold": 1e-320}, "test")
    result = analyze_dataset(data, [data / "train.jsonl"], config, tmp_path, families=["duplicates"])
    assert not [f for f in result.all_findings() if f.rule.startswith("CHK")]


@pytest.mark.parametrize("number, shown", [("1e999999", "1e999999"), ("-" + "9" * 100_000, "100,001 characters")], ids=["float", "digits"])
def test_a_number_too_large_to_read_says_so(tmp_path, number, shown, chat):
    """Class 8: `1e999999` was "rejected by the strict parser" with no reason, and an
    integer of 100,000 digits "not valid JSON"."""
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(chat("hi", "ok"))[:-1] + f', "score": {number}}}\n')
    [problem] = [value for line, value in JsonlReader(path) if line == 1]
    assert problem.kind == "huge-number" and shown in problem.detail
    config = validate({}, "test")
    result = analyze_dataset(tmp_path, [path], config, tmp_path, families=["schema"])
    [finding] = [f for f in result.all_findings() if f.line == 1]
    assert finding.rule == "SCH003" and "too large to be read as written" in finding.message
