"""Redaction: a found secret or personal value is never printed in full, anywhere.

The unit tests pin the masked forms. The integration test plants secrets where
every check family could print them (the pii item itself, a duplicated example,
a rare system prompt, a label, a subgroup value, a banned-text match, a user test
that asserts on an example) and then searches every output of a run for the full
values: the terminal (with -rA -vv -l), the JUnit XML, the JSON, markdown, HTML and
SARIF reports and the GitHub annotations and step summary, in every run mode (serial, -n 2, -p no:xdist).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.detectors import find_sensitive
from pytest_ftdata.findings import Finding, Location
from pytest_ftdata.redact import mask, redact

PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

OPENAI_KEY = "sk-proj-Qw3rTy7uI9oP1aS5dF8gH2jK4lZ6xC0vB3nM5qW7eR9t"
SECRETS = {
    "email": "maria.lopez77@fastmail.fm",
    "phone": "+49 30 9087 6543",
    "payment-card": "4539 1488 0343 6467",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "ssn": "859-56-0028",
    "openai-key": OPENAI_KEY,
    "aws-access-key": "AKIA2OGYBAH6STMMNXNN",
    "github-token": "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",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjQyNDIifQ.c2lnbmF0dXJlLXZhbHVlLWhlcmUtMTIzNDU2",
    "url-credentials": "svc_admin:Hunter2Hunter2",
    "private-key-body": "MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQYwQ0Q",
}

# -- masks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,value,masked",
    [
        ("openai-key", "sk-p" + "x1" * 22 + "b8", "sk-p...b8, 50 chars"),
        ("email", "maria.lopez77@fastmail.fm", "m***@fastmail.fm, 25 chars"),
        ("phone", "+49 30 9087 6543", "+** ** **** **43, 16 chars"),
        ("payment-card", "4539 1488 0343 6467", "**** **** **** 6467, 19 chars"),
        ("iban", "FR14 2004 1010 0505 0001 3M02 606", "FR** **** **** **** **** *M** *06, 33 chars"),
        ("ssn", "859-56-0028", "***-**-**28, 11 chars"),
        ("ip-address", "203.0.113.9", "203.0.*.*, 11 chars"),
        ("url-credentials", "svc_admin:Hunter2Hunter2", "s***:***, 24 chars"),
        ("private-key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----", "BEGIN RSA PRIVATE KEY..., 66 chars"),
    ],
)
def test_masks_show_kind_shape_and_length_only(kind, value, masked):
    assert mask(value, kind) == masked


def test_redact_replaces_every_found_value_and_is_idempotent():
    text = " | ".join(f"{kind}: {value}" for kind, value in SECRETS.items() if kind not in ("private-key-body", "url-credentials"))
    text += "\n-----BEGIN RSA PRIVATE KEY-----\n" + SECRETS["private-key-body"] + "\n-----END RSA PRIVATE KEY-----"
    text += " and postgres://" + SECRETS["url-credentials"] + "@db.acme-corp.io/x"
    redacted = redact(text)
    assert sum(value in redacted for value in SECRETS.values()) == 0
    assert redact(redacted) == redacted
    assert "[openai-key: sk-p...9t, 52 chars]" in redacted
    assert find_sensitive(redacted) == []


def test_findings_redact_their_message_and_excerpt_whoever_builds_them():
    finding = Finding(
        "X001", "x", "schema", "error", "data/a.jsonl", 3, f"quoted {SECRETS['email']} here", (Location("data/a.jsonl", 4),),
        excerpt=f"'{OPENAI_KEY}' -> 'ok'",
    )
    assert SECRETS["email"] not in finding.message and OPENAI_KEY not in finding.excerpt
    again = Finding.from_dict(finding.to_dict())
    assert again == finding


# -- every output of a run -----------------------------------------------------------------------

USER_TEST = '''
import pytest

@pytest.mark.ftdata_each("train", where=lambda ex: "fastmail" in ex.input_text)
def test_inputs_have_no_addresses(example):
    text = example.input_text
    assert "@" not in text, text
'''


@pytest.fixture
def plant(chat, write_jsonl):
    def plant(root: Path) -> None:
        s = SECRETS
        train = [
            chat(f"Charge card {s['payment-card']} and mail {s['email']}", "Done.", metadata={"owner": s["email"], "source": "crm"}),
            chat(f"My key is {s['openai-key']} and {s['aws-access-key']}", "Revoke both.", metadata={"owner": "a", "source": "crm"}),
            chat(f"Token {s['github-token']} / {s['jwt']}", "As an AI language model I cannot.", metadata={"owner": "a"}),
            chat(f"IBAN {s['iban']}, SSN {s['ssn']}, phone {s['phone']}", "Noted.", metadata={"owner": "a", "source": "crm"}),
            chat(
                f"Connect to postgres://{s['url-credentials']}@db.acme-corp.io/prod with this key "
                f"-----BEGIN RSA PRIVATE KEY-----\n{s['private-key-body']}\n-----END RSA PRIVATE KEY-----",
                "Never paste keys.",
                metadata={"owner": "a", "source": "crm"},
            ),
            # A duplicate pair and a rare system prompt whose texts carry an address.
            chat(f"Where is my parcel? Reply to {s['email']}", "It ships today.", metadata={"owner": "b", "source": "crm"}),
            chat(f"Where is my parcel? Reply to {s['email']}", "It ships today.", metadata={"owner": "b", "source": "crm"}),
            chat("Hello", "Hi there " * 400, system=f"Escalate to {s['email']}", metadata={"owner": "b", "source": "crm"}),
        ] + [chat(f"Ordinary question number {i}", "Ordinary answer.", metadata={"owner": "c", "source": "crm"}) for i in range(22)]
        write_jsonl(root / "data" / "train.jsonl", train)
        write_jsonl(root / "data" / "val.jsonl", [chat(f"Where is my parcel? Reply to {s['email']}", "It ships today.", metadata={"owner": "b", "source": "crm"})])

    return plant


PYPROJECT = """
[tool.ftdata]
required_fields = ["/metadata/source"]
max_turn_chars = 1000
label = "/metadata/owner"
subgroups = { owner = "/metadata/owner" }

[[tool.ftdata.banned]]
pattern = "(?i)as an ai language model"
message = "Model boilerplate"
"""


def test_no_output_prints_a_found_value_in_full(pytester, monkeypatch, run_mode, plant):
    root = pytester.path
    plant(root)
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeini("[pytest]\nftdata_paths = data\n")
    pytester.makepyfile(test_user=USER_TEST)
    summary = root / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    reports = {"json": "r.json", "md": "r.md", "html": "r.html", "sarif": "r.sarif"}
    args = ["--ftdata", "data", "test_user.py", "-rA", "-vv", "-l", "--junitxml=junit.xml"]
    for kind, name in reports.items():
        args += ["--ftdata-report", f"{kind}:{name}"]
    result = run_mode(pytester, *args, *PLUGINS_OFF)

    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str(), "junit": (root / "junit.xml").read_text()}
    for name in [*reports.values(), summary.name]:
        outputs[name] = (root / name).read_text(encoding="utf-8")
    # Every output exists and has content, so searching it means something.
    assert all(len(text) > 100 for name, text in outputs.items() if name != "stderr")
    leaks = {f"{kind} in {name}": text.count(value) for kind, value in SECRETS.items() for name, text in outputs.items()}
    assert {where: count for where, count in leaks.items() if count} == {}

    # The planted values were found and reported in masked form by every family that saw them.
    report = json.loads(outputs["r.json"])
    families = {f["check"] for f in report["findings"]}
    assert {"pii", "policy", "length", "duplicates", "format"} <= families
    pii_rules = {f["rule"] for f in report["findings"] if f["check"] == "pii"}
    assert {"PII001", "PII002", "PII003", "PII004", "PII005", "PII010", "PII011", "PII012", "PII013"} <= pii_rules
    assert "(openai-key: sk-p...9t, 52 chars)" in outputs["stdout"]
    assert "m***@fastmail.fm" in outputs["junit"]
    # The user test failed on an example holding an address, and its failure text was masked.
    assert "test_inputs_have_no_addresses" in outputs["junit"] and "[email: m***@fastmail.fm" in outputs["stdout"]
