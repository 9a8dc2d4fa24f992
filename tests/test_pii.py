"""`pii`: the detectors, the configuration on top of them, the pytest item, real data.

Detector tests feed single strings to `find_sensitive`. Check tests run the engine
on small files (no pytest in between). Integration tests run pytest in a pytester
project, serially and under `-n 2`. The HH-RLHF test reads red-team text: it
asserts on counts, kinds and line numbers only, and never on anything that could
echo the text if it failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_ftdata.families import pii
from pytest_ftdata.families.pii import KINDS
from pytest_ftdata.detectors import card_network, find_sensitive, iban_valid, luhn_valid
from pytest_ftdata.config import validate
from pytest_ftdata.engine import analyze_dataset

#: The same scenario under `-n 2` is part of tests/test_redaction.py, which checks every output.
NO_CACHE = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

# -- detectors ------------------------------------------------------------------------------

POSITIVES = [
    ("email", "jane.roe+billing@mail.acme-corp.co.uk"),
    ("phone", "+44 20 7946 0958"),
    ("phone", "+1 (512) 555-0202"),
    ("phone", "(647) 321-1199"),
    ("phone", "512.555.0234"),
    ("phone", "0044 20 7946 0958"),
    ("phone", "06 12 34 56 78"),
    ("payment-card", "4539 1488 0343 6467"),
    ("payment-card", "5425-2334-3010-9903"),
    ("payment-card", "374245455400126"),
    ("iban", "FR14 2004 1010 0505 0001 3M02 606"),
    ("iban", "NL91ABNA0417164300"),
    ("ssn", "859-56-0028"),
    ("ip-address", "8.8.4.4"),
    ("ip-address", "2606:4700:4700::1111"),
    ("aws-access-key", "AKIA2OGYBAH6STMMNXNN"),
    ("github-token", "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"),
    ("github-token", "github_pat_11ABCDEFG0123456789abc_" + "x1Y2z3" * 10),
    ("openai-key", "sk-proj-aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"),
    ("anthropic-key", "sk-ant-api03-" + "Zq9Xw8" * 16),
    ("slack-token", "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("google-api-key", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"),
    ("stripe-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"),
    ("url-credentials", "deploy:Tr0ub4dor3x"),
]


@pytest.mark.parametrize("kind,value", POSITIVES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(POSITIVES)])
def test_each_kind_is_found_with_its_exact_span(kind, value):
    text = f"Please use postgres://{value}@db.internal:5432/app now." if kind == "url-credentials" else (
        f"Hello, here it is: {value} (thanks)."
    )
    start = text.index(value)
    assert find_sensitive(text) == [(start, start + len(value), kind)]


NEGATIVES = [
    "Meet me on 2023-01-10 at 12:30:45, bring version 1.2.3 and order 5125550202.",
    "The hash is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 and id 123e4567-e89b-12d3-a456-426614174000.",
    "Card 4539 1488 0343 6468 fails Luhn; IBAN FR14 2004 1010 0505 0001 3M02 607 fails mod-97.",
    "SSNs 000-12-3456, 666-12-3456 and 912-12-3456 are never issued.",
    "Private hosts 10.0.0.1, 192.168.1.20, 127.0.0.1 and fe80::1 and docs 192.0.2.7.",
    "Code: getUserAccountBalanceForCustomer2(x) and path /usr/local/lib/python3.11/site-packages/Foo2Bar.",
    "Keys like sk-your-api-key-goes-here-please and AKIAIOSFODNN7EXAMPLE are placeholders.",
    "Write to [EMAIL] or {email}, call [PHONE], token <API_KEY>, icon@2x.png.",
    "A URL with placeholders: https://user:password@example.com and https://me:<password>@host.io.",
    "Values 3.14159 and 1,234,567 and 2+2=4 and 1e10.",
]


@pytest.mark.parametrize("text", NEGATIVES, ids=range(len(NEGATIVES)))
def test_lookalikes_are_not_found(text):
    assert find_sensitive(text, high_entropy=True) == []


def test_high_entropy_strings_only_when_asked():
    text = "the secret is Xk9pL2mQ7rT4vW8yZ1bN3cF6hJ0dS5gA for the vault"
    assert find_sensitive(text) == []
    start = text.index("Xk9p")
    assert find_sensitive(text, high_entropy=True) == [(start, start + 32, "high-entropy")]


def test_kinds_limit_the_search_and_spans_never_overlap():
    text = "mail a@b-corp.com, key sk-proj-aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b, ip 8.8.8.8"
    assert [kind for _, _, kind in find_sensitive(text)] == ["email", "openai-key", "ip-address"]
    assert [kind for _, _, kind in find_sensitive(text, kinds=frozenset({"ip-address"}))] == ["ip-address"]
    spans = find_sensitive("4111 1111 1111 1111 then +1 512 555 0199 and 859-56-0028")
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_checksums():
    assert luhn_valid("4539148803436467") and not luhn_valid("4539148803436468")
    assert card_network("4539148803436467") == "visa" and card_network("374245455400126") == "amex"
    assert card_network("9999999999999995") is None
    assert iban_valid("DE89370400440532013000") and not iban_valid("DE89370400440532013001")
    assert not iban_valid("DE8937040044053201300")  # one character short for Germany


def test_config_kinds_match_the_detectors():
    import typing

    from pytest_ftdata.config import PiiKind

    assert set(typing.get_args(PiiKind)) == set(KINDS)


# -- the check on files ------------------------------------------------------------------------

SECRET = "sk-proj-aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"


@pytest.fixture
def run_pii(write_jsonl):
    def run_pii(tmp_path: Path, records, **config) -> list:
        path = write_jsonl(tmp_path / "data" / "train.jsonl", records)
        result = analyze_dataset(path.parent, [path], validate(config, "test", None), tmp_path, families=("pii",))
        return result.files["data/train.jsonl"].findings["pii"]

    return run_pii


def test_findings_name_kind_turn_and_a_mask_never_the_value(tmp_path, chat, run_pii):
    findings = run_pii(tmp_path, [chat("hi", "ok"), chat(f"my key {SECRET}", "Revoke it and mail ops@acme-corp.io.")])
    assert [(f.rule, f.line) for f in findings] == [("PII001", 2), ("PII010", 2)]
    email, key = findings
    assert email.message.startswith("Turn `messages[2]` (assistant) contains an e-mail address (email: o***@acme-corp.io")
    assert key.message.startswith("Turn `messages[1]` (user) contains an OpenAI API key (openai-key: sk-p...7b, 48 chars)")
    assert all(SECRET not in f.message and "ops@acme-corp.io" not in f.message for f in findings)


def test_roles_scope_the_search(tmp_path, chat, run_pii):
    records = [chat(f"key {SECRET}", "fine"), chat("fine", "write to jo@acme-corp.io")]
    assert [f.line for f in run_pii(tmp_path, records, pii={"roles": ["assistant"]})] == [2]
    assert [f.line for f in run_pii(tmp_path, records, pii={"roles": ["user"]})] == [1]


def test_allow_lists(tmp_path, chat, run_pii):
    records = [
        chat("write to help@acme-corp.io", "ok"),
        chat("write to jo@eu.example.com", "ok"),
        chat("write to jo@shop.acme-corp.io", "ok"),
        chat("order ref ORD-2024-555-1234 or call 512-555-1234", "ok"),
        chat("card 4242 4242 4242 4242 is Stripe's test card", "ok"),
    ]
    assert [f.line for f in run_pii(tmp_path, records)] == [1, 3, 4]
    allowed = run_pii(
        tmp_path, records,
        pii={"allow": ["help@acme-corp.io"], "allow_domains": ["acme-corp.io"], "allow_patterns": [r"512-555-\d{4}"]},
    )
    assert allowed == []


def test_allow_ids_need_id_field(tmp_path, chat, run_pii):
    records = [chat(f"key {SECRET}", "ok", id="a-1"), chat(f"key {SECRET}", "ok", id="a-2")]
    findings = run_pii(tmp_path, records, id_field="/id", pii={"allow_ids": ["a-1"]})
    assert [(f.rule, f.line) for f in findings] == [("PII010", 2)]
    assert "pii.allow_ids = ['a-2']" in findings[0].message
    without = run_pii(tmp_path, records, pii={"allow_ids": ["a-1"]})
    assert [(f.rule, f.severity) for f in without if f.rule == "PII020"] == [("PII020", "warning")]
    assert sum(f.rule == "PII010" for f in without) == 2


def test_kinds_high_entropy_and_disabling(tmp_path, chat, run_pii):
    records = [chat("ip 8.8.8.8 and token Xk9pL2mQ7rT4vW8yZ1bN3cF6hJ0dS5gA", "ok")]
    assert [(f.rule, f.severity) for f in run_pii(tmp_path, records)] == [("PII006", "warning")]
    assert [f.rule for f in run_pii(tmp_path, records, pii={"high_entropy": True})] == ["PII006", "PII014"]
    assert [f.rule for f in run_pii(tmp_path, records, pii={"kinds": ["email"]})] == []
    assert run_pii(tmp_path, records, pii={"enabled": False, "high_entropy": True}) == []


def test_every_format_and_the_rejected_answer_are_scanned(tmp_path, run_pii):
    records = [
        {"prompt": "mail a.b@acme-corp.io", "completion": "ok"},
        {"instruction": "Summarise", "input": "call +44 20 7946 0958", "output": "done"},
        {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": f"use {SECRET}"}]},
        {"prompt": "Which?", "chosen": "This one.", "rejected": "Mail x.y@acme-corp.io"},
        {"chosen": "\n\nHuman: my SSN is 859-56-0028\n\nAssistant: Do not share it.", "rejected": "\n\nHuman: my SSN is 859-56-0028\n\nAssistant: Fine."},
    ]
    findings = run_pii(tmp_path, records)
    assert [(f.line, f.rule) for f in findings] == [(1, "PII001"), (2, "PII002"), (3, "PII010"), (4, "PII001"), (5, "PII005")]
    assert findings[3].message.startswith("The rejected answer (`rejected`) contains an e-mail address")
    assert findings[4].message.startswith("Prompt turn 1 (user) contains a US Social Security number")


def test_non_plain_chat_records_are_scanned_turn_by_turn(tmp_path, run_pii):
    # A trailing user turn and a misplaced system turn are outside the plain fast path.
    record = {"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "escalate to 859-56-0028"}, {"role": "user", "content": f"key {SECRET}"},
    ]}
    findings = run_pii(tmp_path, [record])
    assert [(f.rule, f.message.split(" contains")[0]) for f in findings] == [
        ("PII005", "Turn `messages[2]` (system)"), ("PII010", "Turn `messages[3]` (user)"),
    ]


def test_repeated_system_prompts_are_reported_in_every_example(tmp_path, chat, run_pii):
    records = [chat(f"question {i}", "ok", system="Escalate to boss@acme-corp.io") for i in range(3)]
    assert [f.line for f in run_pii(tmp_path, records)] == [1, 2, 3]


def test_long_lists_are_capped_and_summed_up(tmp_path, monkeypatch, chat, run_pii):
    monkeypatch.setattr(pii, "MAX_LISTED", 3)
    findings = run_pii(tmp_path, [chat(f"mail me{i}@acme-corp.io", "ok") for i in range(7)])
    assert [f.line for f in findings] == [1, 2, 3, 4]
    assert findings[-1].message.startswith("4 more email-address findings in this file are not listed one by one")
    assert [loc.line for loc in findings[-1].related] == [5, 6, 7]


# -- pytest ---------------------------------------------------------------------------------------


def test_pii_item_fails_with_linter_lines_and_json_family(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", "ok"), chat(f"my key {SECRET}", "ok"), chat("ip 8.8.8.8", "ok")])
    pytester.makepyprojecttoml('[tool.ftdata.pii]\nallow = []\n')
    result = pytester.runpytest("--ftdata", "data", "--ftdata-report", "json:out.json", *NO_CACHE)
    result.stdout.fnmatch_lines(["*1 pii error in data/train.jsonl: api-key (1).*", "*FAILED data/train.jsonl::pii*"])
    assert (
        "data/train.jsonl:2: PII010 Turn `messages[1]` (user) contains an OpenAI API key (openai-key: sk-p...7b, 48 chars)"
        in result.stdout.str()
    )
    report = json.loads((pytester.path / "out.json").read_text())
    pii_findings = [(f["rule"], f["line"], f["severity"]) for f in report["findings"] if f["check"] == "pii"]
    assert pii_findings == [("PII010", 2, "error"), ("PII006", 3, "warning")]
    assert SECRET not in result.stdout.str() + (pytester.path / "out.json").read_text()


def test_invalid_pii_settings_are_usage_errors(pytester, chat, write_jsonl):
    write_jsonl(pytester.path / "data" / "train.jsonl", [chat("hi", "ok")])
    pytester.makepyprojecttoml('[tool.ftdata.pii]\nkinds = ["emial"]\nroles = ["assistent"]\n')
    result = pytester.runpytest("--ftdata", "data", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*`pii.roles.0` should be 'system'*(got 'assistent')*", "*`pii.kinds.0` should be 'email'*(got 'emial')*"])


# -- real data ------------------------------------------------------------------------------------


def _pii_findings(directory: Path, tmp_path: Path, **config) -> list:
    files = sorted(directory.rglob("*.jsonl*"))
    result = analyze_dataset(files[0].parent, files, validate(config, "test", None), tmp_path, families=("pii",))
    return [f for file_result in result.files.values() for f in file_result.findings["pii"]]


def test_hh_rlhf_personal_data_is_found_and_never_echoed(shared_datasets, tmp_path):
    """SOURCE.md: e-mail addresses, phone numbers and one SSN-shaped string. Counts only."""
    findings = _pii_findings(shared_datasets / "hh_rlhf_harmless", tmp_path)
    by_rule: dict[str, set[int]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, set()).add(finding.line)
    emails, phones, ssns = by_rule.get("PII001", set()), by_rule.get("PII002", set()), by_rule.get("PII005", set())
    assert len(emails) >= 6 and len(phones) >= 10 and len(ssns) == 1
    # Every reported line really holds such a value: an @ for e-mails, digits for phones.
    import gzip

    raw = gzip.open(next((shared_datasets / "hh_rlhf_harmless").rglob("*.jsonl.gz")), "rt", encoding="utf-8").read().splitlines()
    assert sum("@" not in raw[line - 1] for line in emails) == 0
    # No finding carries a found value in full (counts only, so a failure echoes nothing).
    values = set()
    for line in emails | phones | ssns:
        record = json.loads(raw[line - 1])
        for text in (record["chosen"], record["rejected"]):
            values.update(text[s:e] for s, e, kind in find_sensitive(text) if kind in ("email", "phone", "ssn"))
    leaked = sum(value in f.message or value in (f.excerpt or "") for value in values for f in findings)
    assert len(values) >= 15 and leaked == 0


def test_clean_real_datasets_have_no_findings(shared_datasets, tmp_path):
    assert _pii_findings(shared_datasets / "gsm8k", tmp_path) == []
    assert _pii_findings(shared_datasets / "orca_dpo_foundry", tmp_path) == []


def test_alpaca_libre_phone_list_and_email(shared_datasets, tmp_path):
    """SOURCE.md: about 10 US-style phone numbers and 2 e-mails (synthetic)."""
    findings = _pii_findings(shared_datasets / "alpaca_libre", tmp_path)
    rules = [f.rule for f in findings if f.path.endswith("v2.jsonl")]
    assert rules.count("PII002") == 10 and rules.count("PII001") == 2


@pytest.mark.parametrize(
    "text",
    [
        "server 2001:4860:4860::8888 is down",
        "ping 2606:4700:4700::1111, please",
        "addr=2a00:1450:4001:81b::200e",
    ],
)
def test_ipv6_addresses_pass_the_gate_and_are_found(text):
    from pytest_ftdata.detectors import G_IPV6, gates

    assert gates(text) & G_IPV6
    assert [kind for _, _, kind in find_sensitive(text)] == ["ip-address"]


def test_json_keys_with_digits_do_not_open_the_ipv6_gate():
    from pytest_ftdata.detectors import G_IPV6, gates

    assert not gates('{"intent": "credit_score", "confidence": 0.92, "reply": "ok"}') & G_IPV6


def test_the_ipv6_gate_never_hides_an_address_the_detector_finds():
    from hypothesis import given, settings, strategies as st

    from pytest_ftdata.detectors import G_IPV6, _find_ipv6, gates

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet="0123456789abcdefAF:. x\"", max_size=60))
    def check(text):
        if _find_ipv6(text, None):
            assert gates(text) & G_IPV6

    check()
