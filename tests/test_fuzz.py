"""Fuzzing the promises of issue 10 with hypothesis: hostile records and files, planted secrets.

For any file the strategies below can write:

- the reader never raises, and every physical line is accounted for (a record, a
  problem at that line, or part of a reported run of blank lines);
- the whole engine (every family, one dataset) never raises, and no planted secret
  appears in full, in any letter case, in any finding or coverage summary;
- the plugin, run with every report, the cache and a baseline, leaves no planted
  secret in any output and no traceback.

The default profile keeps the suite fast; `FTDATA_FUZZ=long` runs thousands of cases:

    FTDATA_FUZZ=long python3 -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pytest_ftdata.config import validate  # noqa: E402
from pytest_ftdata.engine import analyze_dataset  # noqa: E402
from pytest_ftdata.io import JsonlReader  # noqa: E402
from pytest_ftdata.redact import display, redact  # noqa: E402

settings.register_profile("ftdata-ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ftdata-long", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = "ftdata-long" if os.environ.get("FTDATA_FUZZ") == "long" else "ftdata-ci"

#: (kind, planted form, what must not appear) — the last is checked in any letter case.
SECRETS = [
    ("aws", "AKIAQ7ZT4MXN2KLW8RPB", "AKIAQ7ZT4MXN2KLW8RPB"),
    ("aws-lower", "akiaq7zt4mxn2klw8rpb", "akiaq7zt4mxn2klw8rpb"),
    ("iban", "FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ("iban-lower", "nl91abna0417164300", "nl91abna0417164300"),
    ("openai", "sk-proj-R4nd0mT0k3nW1thD1g1ts8Xq2Lp5Vz7Mc9Bn3Kj6Hg1Fd", "sk-proj-R4nd0mT0k3nW1thD1g1ts8Xq2Lp5Vz7Mc9Bn3Kj6Hg1Fd"),
    ("url", "https://deploy:S3cr3tPassw0rdQ@git.example-corp.io/repo", "S3cr3tPassw0rdQ"),
    ("email", "max.mustermann@firma-beispiel.de", "max.mustermann@firma-beispiel.de"),
    ("github", "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"),
]
NEEDLES = [needle.lower() for _, _, needle in SECRETS]
#: What may stand right before and after a planted secret: a detector may fairly need a boundary.
SEPARATORS = [" ", "\n", "\t", ", ", "(", ")", ": ", "; ", '"', "!"]


def leaks(text: str) -> list[str]:
    low = text.lower()
    return [needle for needle in NEEDLES if needle in low]


words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
secret = st.sampled_from([planted for _, planted, _ in SECRETS])


@st.composite
def texts(draw) -> str:
    """Ordinary words with a planted secret at a random place, between separators."""
    parts = draw(st.lists(st.one_of(words, st.builds(lambda s, a, b: a + s + b, secret, st.sampled_from(SEPARATORS),
                                                     st.sampled_from(SEPARATORS))), max_size=6))
    return "".join(parts)


@st.composite
def records(draw) -> dict:
    system = draw(st.one_of(st.none(), texts()))
    messages = ([{"role": "system", "content": system}] if system is not None else [])
    messages += [{"role": "user", "content": draw(texts())}, {"role": "assistant", "content": draw(texts())}]
    shape = draw(st.sampled_from(["chat", "chat", "instruction", "preference", "odd-keys", "wrong-types"]))
    metadata = {"intent": draw(texts()), "lang": draw(st.sampled_from(["en", "de"]) | texts()), "ticket": draw(texts())}
    if shape == "instruction":
        return {"instruction": draw(texts()), "input": draw(texts()), "output": draw(texts()), "metadata": metadata}
    if shape == "preference":
        return {"prompt": draw(texts()), "chosen": draw(texts()), "rejected": draw(texts())}
    if shape == "odd-keys":
        return {draw(texts()) or "k": draw(texts()), "metadata": metadata}
    if shape == "wrong-types":
        messages[-1]["content"] = draw(st.one_of(st.integers(), st.lists(texts(), max_size=3), texts()))
        messages[0]["role"] = draw(st.one_of(texts(), st.sampled_from(["user", "assistant"])))
    return {"messages": messages, "metadata": metadata}


def _escape_some(raw: str, indices: list[int]) -> str:
    """Write some ASCII characters of a JSON text as \\u escapes (valid, and what a raw excerpt would hide)."""
    out = list(raw)
    for index in indices:
        # Not the letter of an escape (`\\n`): that would glue the secret to letters.
        if index < len(out) and out[index].isalnum() and (index == 0 or out[index - 1] != "\\"):
            out[index] = f"\\u{ord(out[index]):04x}"
    return "".join(out)


@st.composite
def lines(draw) -> bytes:
    record = draw(records())
    raw = json.dumps(record, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        raw = raw.replace("/", "\\/")
    if draw(st.booleans()):
        raw = _escape_some(raw, draw(st.lists(st.integers(0, 400), max_size=20)))
    data = raw.encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "truncate", "insert", "nul", "bad-utf8", "trailing", "blank", "deep", "huge-number"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"}", b",", b'"', b"{", b"[", b"NaN", b"\\"])) + data[at:]
    elif damage == "nul":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\x00" + data[at:]
    elif damage == "bad-utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]
    elif damage == "trailing":
        data += b" " + raw.encode("utf-8")[:40]
    elif damage == "blank":
        data = b""
    elif damage == "huge-number":
        number = draw(st.sampled_from([b"1e999999", b"-1e400", b"9" * 5000]))
        data = data[:-1] + b', "n": ' + number + b"}" if data.endswith(b"}") else data
    elif damage == "deep":
        depth = draw(st.integers(200, 1100))
        data = b'{"messages": [{"role": "user", "content": ' + b"[" * depth + b'"x"' + b"]" * depth + b"}]}"
    return data


@st.composite
def files(draw) -> tuple[bytes, bool]:
    body = draw(st.lists(lines(), min_size=1, max_size=12))
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    content = newline.join(body) + (newline if draw(st.booleans()) else b"")
    if draw(st.integers(0, 9)) == 0:
        content = b"\xef\xbb\xbf" + content
    return content, draw(st.integers(0, 5)) == 0


def write(directory: Path, name: str, content: bytes, compressed: bool) -> Path:
    path = directory / (name + (".jsonl.gz" if compressed else ".jsonl"))
    path.write_bytes(gzip.compress(content) if compressed else content)
    return path


@settings.get_profile(PROFILE)
@given(files())
def test_every_line_is_accounted_for_and_nothing_raises(case):
    content, compressed = case
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "train", content, compressed)
        reader = JsonlReader(path, duplicate_keys=True)
        covered: set[int] = set()
        for line, value in reader:
            if isinstance(value, dict):
                covered.add(line)
            elif value.line:
                covered.update(range(value.line, value.line + value.span))
            elif value.kind == "json-array-file":  # one finding for the whole file, which is one JSON value
                covered.update(range(1, 1 << 30))
        missing = set(range(1, reader.lines + 1)) - covered
        assert not missing, f"lines {sorted(missing)[:10]} were neither read nor reported"


ANALYSIS_CONFIG = {
    "label": "/metadata/intent",
    "group_by": "/metadata/ticket",
    "subgroups": {"lang": "/metadata/lang"},
    "min_per_subgroup": 1,
    "required_fields": ["/metadata/ticket"],
    "banned": [{"pattern": "(?i)password|passw0rd", "message": "no passwords"}],
}


@settings.get_profile(PROFILE)
@given(files(), files(), st.booleans())
def test_no_finding_or_summary_holds_a_planted_secret(train, test, json_targets):
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        paths = [write(directory, "train", *train), write(directory, "test", *test)]
        config = validate({**ANALYSIS_CONFIG, **({"target_format": "json"} if json_targets else {})}, "fuzz")
        result = analyze_dataset(directory, paths, config, directory)
        for finding in result.all_findings():
            shown = json.dumps(finding.to_dict(), ensure_ascii=False)
            assert not leaks(shown), f"{finding.rule} shows {leaks(shown)}: {shown[:300]}"
        summaries = json.dumps(result.summaries, ensure_ascii=False)
        assert not leaks(summaries)


@settings.get_profile(PROFILE)
@given(st.one_of(texts(), st.text(max_size=200)))
def test_redact_is_idempotent_and_display_never_shows_a_planted_secret(text):
    once = redact(text)
    assert redact(once) == once
    for width in (10, 40, 60, 200):
        shown = display(text, width)
        assert display(shown, width) == shown
        assert not leaks(shown)


def test_the_plugin_leaves_no_planted_secret_in_any_output():
    """A few generated datasets through the real plugin, every report, cache and baseline."""

    @settings(max_examples=4 if PROFILE == "ftdata-ci" else 60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(files(), files())
    def run(train, test):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / "data").mkdir()
            write(root / "data", "train", *train)
            write(root / "data", "test", *test)
            (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
            (root / "data" / "ftdata.toml").write_text(
                'label = "/metadata/intent"\ngroup_by = "/metadata/ticket"\n[subgroups]\nlang = "/metadata/lang"\n'
                # Config values are echoed too (declared values in the coverage tables and the JSON report).
                f'ticket = {{ pointer = "/metadata/ticket", values = ["{SECRETS[6][1]}", "{SECRETS[0][1]}"] }}\n',
                encoding="utf-8",
            )
            env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(root / "summary.md")}
            base = [sys.executable, "-m", "pytest", "--ftdata", "data", "-p", "no:randomly", "-p", "no:hypothesispytest"]
            runs = [
                subprocess.run([*base, "-vv", "--junitxml=junit.xml", "--ftdata-report=json:r.json",
                                "--ftdata-report=sarif:r.sarif", "--ftdata-report=md:r.md", "--ftdata-report=html:r.html"],
                               cwd=root, env=env, capture_output=True, text=True, timeout=300),
                subprocess.run([*base, "--ftdata-baseline=b.json", "--ftdata-update-baseline"],
                               cwd=root, env=env, capture_output=True, text=True, timeout=300),
            ]
            texts_ = [r.stdout + r.stderr for r in runs]
            texts_ += [p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*")
                       if p.is_file() and p.suffix not in (".jsonl", ".gz", ".toml")]  # inputs, not outputs
            for run_output in (r.stdout for r in runs):
                assert "INTERNALERROR" not in run_output and "Traceback (most recent call last)" not in run_output
            for text in texts_:
                assert not leaks(text), leaks(text)

    run()
