"""`pii`: personal data and secrets in the text a model would learn from.

Support logs and chat transcripts carry e-mail addresses, phone numbers, card
numbers and pasted credentials. A fine-tune memorises rare strings, so a secret in
a training example can come back in an answer. This family finds them offline,
with no model download: regular expressions behind cheap substring gates, each
match confirmed by the structure of the value (Luhn for cards, mod-97 for IBANs,
`ipaddress` for IPs, a decodable header for JWTs).

The detectors live in `pytest_ftdata.detectors` (shared with `redact`, which masks
whatever they find in every output); this family applies the configuration on top:
kinds, roles, the allow-lists and allowed example ids.
"""

from __future__ import annotations

import re
from array import array
from typing import NamedTuple

from ..detectors import KIND_NAMES, gates, scan
from ..findings import Finding, Rule, example, rule
from ..formats import Example
from ..patterns import BoundedPattern, PatternTooSlow
from ..redact import mask
from ..text import resolve_pointer
from .base import FileFamily, FileContext
from .turns import scoped_texts, turn_label

# -- rules --------------------------------------------------------------------------------

#: What every `PII` rule reads: the family switch, the kinds and roles looked at, and the
#: allow-lists (`pii.allow_domains` applies to e-mail addresses and URLs only).
_PII_SETTINGS = ("pii.enabled", "pii.kinds", "pii.roles", "pii.allow", "pii.allow_patterns", "pii.allow_ids", "id_field")

EMAIL = rule(
    code="PII001", name="email-address", family="pii", severity="error",
    summary="A turn contains an e-mail address.",
    why="""An e-mail address identifies a person and is memorised verbatim by a fine-tune,
    which can then repeat it to someone else; a support log pasted into training data
    usually carries the customer's ("Leave out secrets and personal data unless there is
    a strong, compliant reason and a retention plan"). Addresses at the domains in
    `pii.allow_domains` and their subdomains, at the documentation domains
    `example.com`, `example.org` and `example.net`, and at the reserved `.test`,
    `.example`, `.invalid` and `.localhost` top-level domains are not reported.""",
    fix="""Replace the address with a placeholder such as `[EMAIL]` or an address at
    `example.com`. Allow a public address that belongs in the answers (your support
    desk's) with `pii.allow`, or its domain with `pii.allow_domains`.""",
    settings=_PII_SETTINGS + ("pii.allow_domains",),
    bad=example("""
        {"messages": [{"role": "user", "content": "Please send my invoices to jane.doe@acme-mail.io from now on."}, {"role": "assistant", "content": "Done: invoices now go to jane.doe@acme-mail.io."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Please send my invoices to [EMAIL] from now on."}, {"role": "assistant", "content": "Done: invoices now go to [EMAIL]."}]}
    """),
)
PHONE = rule(
    code="PII002", name="phone-number", family="pii", severity="error",
    summary="A turn contains a phone number.",
    why="""A phone number identifies a person, and a fine-tune can repeat it. International
    numbers (`+44 20 7946 0958`, `0044 ...`), North American numbers
    (`(512) 555-0202`, `512-555-0202`, `+1 512.555.0202`) and grouped national numbers
    with a trunk prefix (`020 7946 0958`, `06 12 34 56 78`) are found; bare runs of
    digits are not, as they are usually ids. The fictional range 555-0100 to 555-0199 is
    not reported.""",
    fix="""Replace real numbers with a placeholder such as `[PHONE]` (or a number in the
    fictional 555-0100 to 555-0199 range); allow a public number, such as your hotline,
    with `pii.allow`.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "Can someone call me back on +44 20 7946 0321?"}, {"role": "assistant", "content": "Yes: an agent will call +44 20 7946 0321 within the hour."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Can someone call me back on [PHONE]?"}, {"role": "assistant", "content": "Yes: an agent will call [PHONE] within the hour."}]}
    """),
)
PAYMENT_CARD = rule(
    code="PII003", name="payment-card-number", family="pii", severity="error",
    summary="A turn contains a payment card number.",
    why="""A run of 13 to 19 digits (optionally grouped by spaces or dashes) with the prefix
    of a card network and a valid Luhn checksum. Card numbers must never reach a
    training set (PCI DSS): a model that memorised one can print it for anyone. Well-known
    test numbers such as `4242 4242 4242 4242` are not reported.""",
    fix="""Delete the number or replace it with a placeholder such as `[CARD]`; where the
    conversation needs to name the card, keep only its last four digits.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "My card 4111 2222 3333 4448 was charged twice this month."}, {"role": "assistant", "content": "I see two charges of 12.00 EUR on 3 May; I have refunded the second one."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "My card ending in 4448 was charged twice this month."}, {"role": "assistant", "content": "I see two charges of 12.00 EUR on 3 May; I have refunded the second one."}]}
    """),
)
IBAN = rule(
    code="PII004", name="iban", family="pii", severity="error",
    summary="A turn contains an IBAN.",
    why="""An International Bank Account Number with the length of its country and a valid
    mod-97 checksum, written with or without spaces. It identifies a person's bank
    account, and a fine-tune can repeat it. The documentation examples
    `DE89 3704 0044 0532 0130 00` and `GB82 WEST 1234 5698 7654 32` are not reported.""",
    fix="""Replace it with a placeholder such as `[IBAN]`.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "Please refund me to DE87 1234 5678 1234 5678 90."}, {"role": "assistant", "content": "The refund of 49.00 EUR is on its way to your account and arrives within 3 business days."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Please refund me to [IBAN]."}, {"role": "assistant", "content": "The refund of 49.00 EUR is on its way to your account and arrives within 3 business days."}]}
    """),
)
SSN = rule(
    code="PII005", name="us-ssn", family="pii", severity="error",
    summary="A turn contains a US Social Security number.",
    why="""A number written `AAA-GG-SSSS` with a valid area (not 000, 666 or 9xx), group and
    serial. It is the key to a person's identity in the US, and a fine-tune can repeat
    it. Undashed nine-digit numbers are not reported: they are usually ids. The
    advertising sample numbers `123-45-6789` and `078-05-1120` are not reported.""",
    fix="""Replace it with a placeholder such as `[SSN]`.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "For the 1099 form, my SSN is 401-27-3859."}, {"role": "assistant", "content": "Thanks. Please enter it in the secure tax form under Billing > Tax rather than in the chat."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "For the 1099 form, my SSN is [SSN]."}, {"role": "assistant", "content": "Thanks. Please enter it in the secure tax form under Billing > Tax rather than in the chat."}]}
    """),
)
IP_ADDRESS = rule(
    code="PII006", name="ip-address", family="pii", severity="warning",
    summary="A turn contains a public IP address.",
    why="""A public IPv4 or IPv6 address can identify a user or a host. Private, loopback,
    link-local and documentation ranges (`192.0.2.0/24`, `2001:db8::/32`) are not
    reported. A warning, because public addresses of well-known services (`8.8.8.8`)
    are common in technical answers.""",
    fix="""Replace a user's or a host's address with a placeholder such as `[IP]` or an
    address of a documentation range; allow the addresses of well-known services with
    `pii.allow`.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "I am locked out after too many attempts. My IP is 185.41.22.7."}, {"role": "assistant", "content": "I have lifted the block; please wait five minutes and sign in again."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "I am locked out after too many attempts. My IP is [IP]."}, {"role": "assistant", "content": "I have lifted the block; please wait five minutes and sign in again."}]}
    """),
)
API_KEY = rule(
    code="PII010", name="api-key", family="pii", severity="error",
    summary="A turn contains an API key or access token.",
    why="""Credentials recognised by their documented prefixes: AWS access key ids
    (`AKIA...`, `ASIA...`) and secret keys written next to an AWS secret keyword,
    GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), OpenAI keys
    (`sk-...`, `sk-proj-...`), Anthropic keys (`sk-ant-...`), Slack tokens (`xoxb-...`)
    and webhook URLs, Google API keys (`AIza...`) and Stripe secret keys (`sk_live_`,
    `rk_live_`, `sk_test_`). A key in training data can be reproduced by the model for
    anyone who asks. Values containing `EXAMPLE`, long runs of one character or
    template brackets are taken for placeholders.""",
    fix="""Revoke the key first (it has leaked already), then remove it from the data or
    replace it with a placeholder such as `[GITHUB_TOKEN]`.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "The deploy hook fails; I set GITHUB_TOKEN=ghp_R7mK2xQ9pL4vN8wZ3cT6yB1hJ5dF0gS2aE7u in the settings."}, {"role": "assistant", "content": "The token needs the repo scope. Revoke this one, since it was shared in chat, and create a new token with repo selected."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "The deploy hook fails; I set GITHUB_TOKEN=[GITHUB_TOKEN] in the settings."}, {"role": "assistant", "content": "The token needs the repo scope. Revoke this one, since it was shared in chat, and create a new token with repo selected."}]}
    """),
)
JWT = rule(
    code="PII011", name="jwt", family="pii", severity="error",
    summary="A turn contains a JSON Web Token.",
    why="""A `header.payload.signature` token whose header decodes to JSON. Session tokens
    grant access until they expire and their payload often names the user; a model that
    memorised one can hand it out.""",
    fix="""Replace the token with a placeholder such as `[JWT]`; if it may still be valid,
    revoke the session.""",
    settings=_PII_SETTINGS,
    bad=example("""
        {"messages": [{"role": "user", "content": "The API says 401 with my token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjdXN0LTQ4MjEiLCJleHAiOjE3NjcyMjU2MDB9.Xk2pQ8rT5vW1yZ4bN7cM0dF3gH6jK9lA2sD5fG8hJ1k"}, {"role": "assistant", "content": "That token has expired: tokens last one hour. Request a new one from /oauth/token."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "The API says 401 with my token [JWT]"}, {"role": "assistant", "content": "That token has expired: tokens last one hour. Request a new one from /oauth/token."}]}
    """),
)
PRIVATE_KEY = rule(
    code="PII012", name="private-key", family="pii", severity="error",
    summary="A turn contains a private key block.",
    why="""A PEM (`-----BEGIN ... PRIVATE KEY-----`), OpenSSH, PGP or PuTTY private key:
    whoever holds it can sign in or sign as its owner. The whole block is masked in
    every output.""",
    fix="""Revoke the key (remove it from every `authorized_keys` and certificate it
    unlocks) and remove the block, or replace it with a placeholder such as
    `[PRIVATE_KEY]`.""",
    settings=_PII_SETTINGS,
    bad=example(r"""
        {"messages": [{"role": "user", "content": "Which key do I upload for SFTP? I have this one:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----"}, {"role": "assistant", "content": "Upload the public key (the .pub file), never the private one. Since it was shared here, create a new key pair."}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "Which key do I upload for SFTP? I have this one:\n[PRIVATE_KEY]"}, {"role": "assistant", "content": "Upload the public key (the .pub file), never the private one. Since it was shared here, create a new key pair."}]}
    """),
)
URL_CREDENTIALS = rule(
    code="PII013", name="url-credentials", family="pii", severity="error",
    summary="A URL carries a user name and password.",
    why="""A URL of the form `scheme://user:password@host` (database and proxy URLs, `git`
    remotes) hands the password to whoever reads it, and to whoever the model repeats it
    to. Placeholders such as `user:password@`, `<password>` or `${PASSWORD}` are not
    reported.""",
    fix="""Change the password, then write the URL with a placeholder (`${DB_PASSWORD}`)
    instead of it; allow the URLs of a public host with `pii.allow_domains`.""",
    settings=_PII_SETTINGS + ("pii.allow_domains",),
    bad=example("""
        {"messages": [{"role": "user", "content": "The connector cannot reach postgres://billing_app:Kp7-walrus-19@db.northwind-internal.io:5432/billing"}, {"role": "assistant", "content": "The connector runs in our EU region: allow its addresses in your database firewall and try again."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "The connector cannot reach postgres://billing_app:${DB_PASSWORD}@db.northwind-internal.io:5432/billing"}, {"role": "assistant", "content": "The connector runs in our EU region: allow its addresses in your database firewall and try again."}]}
    """),
)
HIGH_ENTROPY = rule(
    code="PII014", name="high-entropy-string", family="pii", severity="warning",
    summary="A turn contains a long random-looking string that may be a secret.",
    why="""Off unless `pii.high_entropy = true`. A token of at least 20 characters from the
    base64 alphabet with upper case, lower case and digits, and a Shannon entropy of at
    least 4 bits per character, catches secrets of unknown formats at the price of
    some false positives (random ids, hashes in mixed case). Hex strings are never
    reported: they are mostly hashes.""",
    fix="""Replace a secret with a placeholder such as `[SECRET]` (and rotate it); allow a
    harmless value with `pii.allow` or a family of them with `pii.allow_patterns`.""",
    settings=_PII_SETTINGS + ("pii.high_entropy",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Webhooks fail the signature check. My signing secret is Qm8vT2xLp9Rz4Wn7Kc1Yh5Bd3Fj6Gs0A."}, {"role": "assistant", "content": "Compute the signature over the raw request body, before any JSON parsing, and compare it in constant time."}]}
        """,
        pii={"high_entropy": True},
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Webhooks fail the signature check. My signing secret is [SECRET]."}, {"role": "assistant", "content": "Compute the signature over the raw request body, before any JSON parsing, and compare it in constant time."}]}
        """,
        pii={"high_entropy": True},
    ),
)
ALLOW_IDS_UNUSED = rule(
    code="PII020", name="allow-ids-without-id-field", family="pii", severity="warning",
    summary="`pii.allow_ids` is set but `id_field` is not.",
    why="""Examples are allowed by the id found at the JSON Pointer `id_field`; without it
    `pii.allow_ids` matches nothing, and the findings it was meant to accept are still
    reported.""",
    fix="""Set `id_field` to the JSON Pointer of your example ids (`id_field = "/id"`, or
    wherever they live).""",
    settings=("pii.allow_ids", "id_field", "pii.enabled"),
    bad=example(
        """
        {"id": "T-1041", "messages": [{"role": "user", "content": "How do I contact support?"}, {"role": "assistant", "content": "Write to help@northwind-support.io or use the chat."}]}
        """,
        pii={"allow_ids": ["T-1041"]},
    ),
    good=example(
        """
        {"id": "T-1041", "messages": [{"role": "user", "content": "How do I contact support?"}, {"role": "assistant", "content": "Write to help@northwind-support.io or use the chat."}]}
        """,
        pii={"allow_ids": ["T-1041"]},
        id_field="/id",
    ),
)

# -- kinds --------------------------------------------------------------------------------


class Kind(NamedTuple):
    rule: Rule
    label: str  # "an e-mail address"
    placeholder: str


#: Every kind `find_sensitive` reports, with its rule. `pii.kinds` selects among these.
KINDS: dict[str, Kind] = {
    "email": Kind(EMAIL, "an e-mail address", "[EMAIL]"),
    "phone": Kind(PHONE, "a phone number", "[PHONE]"),
    "payment-card": Kind(PAYMENT_CARD, "a payment card number", "[CARD]"),
    "iban": Kind(IBAN, "an IBAN", "[IBAN]"),
    "ssn": Kind(SSN, "a US Social Security number", "[SSN]"),
    "ip-address": Kind(IP_ADDRESS, "a public IP address", "[IP]"),
    "aws-access-key": Kind(API_KEY, "an AWS access key id", "[AWS_KEY]"),
    "aws-secret-key": Kind(API_KEY, "an AWS secret access key", "[AWS_SECRET]"),
    "github-token": Kind(API_KEY, "a GitHub token", "[GITHUB_TOKEN]"),
    "openai-key": Kind(API_KEY, "an OpenAI API key", "[OPENAI_KEY]"),
    "anthropic-key": Kind(API_KEY, "an Anthropic API key", "[ANTHROPIC_KEY]"),
    "slack-token": Kind(API_KEY, "a Slack token or webhook URL", "[SLACK_TOKEN]"),
    "google-api-key": Kind(API_KEY, "a Google API key", "[GOOGLE_KEY]"),
    "stripe-key": Kind(API_KEY, "a Stripe secret key", "[STRIPE_KEY]"),
    "jwt": Kind(JWT, "a JSON Web Token", "[JWT]"),
    "private-key": Kind(PRIVATE_KEY, "a private key block", "[PRIVATE_KEY]"),
    "url-credentials": Kind(URL_CREDENTIALS, "a password in a URL", "user:[PASSWORD]"),
    "high-entropy": Kind(HIGH_ENTROPY, "a high-entropy string", "[SECRET]"),
}

# -- allow-lists ----------------------------------------------------------------------------

_TEST_CARDS = frozenset(
    {
        "4111111111111111", "4242424242424242", "4000056655665556", "4012888888881881", "4222222222222",
        "5555555555554444", "2223003122003222", "5200828282828210", "5105105105105100", "378282246310005",
        "371449635398431", "6011111111111117", "6011000990139424", "3056930009020004", "36227206271667",
        "3566002020360505", "6200000000000005",
    }
)
_SAMPLE_SSNS = frozenset({"123-45-6789", "078-05-1120", "219-09-9999"})
_SAMPLE_IBANS = frozenset({"DE89370400440532013000", "GB82WEST12345698765432", "GB29NWBK60161331926819"})
_RESERVED_TLDS = ("test", "example", "invalid", "localhost")
#: Reserved for documentation by RFC 2606: nobody's address, whatever `allow_domains` says.
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net")


def is_builtin_placeholder(kind: str, value: str) -> bool:
    """Documentation and test values that are not anyone's data."""
    if kind == "payment-card":
        return value.replace(" ", "").replace("-", "") in _TEST_CARDS
    if kind == "ssn":
        return value in _SAMPLE_SSNS
    if kind == "iban":
        return value.replace(" ", "") in _SAMPLE_IBANS
    if kind == "phone":
        digits = "".join(c for c in value if c.isdigit())
        return len(digits) >= 10 and digits[-7:-2] == "55501"
    if kind == "email":
        domain = value.rsplit("@", 1)[-1].lower()
        return domain.rsplit(".", 1)[-1] in _RESERVED_TLDS or any(
            domain == reserved or domain.endswith("." + reserved) for reserved in _RESERVED_DOMAINS
        )
    return False


def _domain_of(kind: str, value: str, text: str, start: int) -> str | None:
    if kind == "email":
        return value.rsplit("@", 1)[-1].lower()
    if kind == "url-credentials":
        host = re.match(r"@([\w.\-]+)", text[start + len(value) :])
        return host.group(1).lower() if host else None
    return None


class AllowList:
    """`pii.allow`, `pii.allow_patterns` and `pii.allow_domains`, plus built-in placeholders."""

    def __init__(self, values: list[str], patterns: list[str], domains: list[str]) -> None:
        self.values = frozenset(values)
        self.patterns = [BoundedPattern(p) for p in patterns]
        self.domains = tuple(d.lower().lstrip(".").lstrip("@") for d in domains)

    def allows(self, kind: str, value: str, text: str, start: int) -> bool:
        if value in self.values or is_builtin_placeholder(kind, value):
            return True
        for pattern in self.patterns:
            try:
                if pattern.fullmatch(value):
                    return True
            except PatternTooSlow:
                continue  # a pattern too slow to decide allows nothing: the value is reported

        if self.domains:
            domain = _domain_of(kind, value, text, start)
            if domain and any(domain == d or domain.endswith("." + d) for d in self.domains):
                return True
        return False


# -- the check -------------------------------------------------------------------------------

#: Findings listed one by one per rule and file; the rest are summed up in one finding.
MAX_LISTED = 1000


class PiiFamily(FileFamily):
    family = "pii"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        settings = self.config.pii
        self.enabled = settings.enabled
        self.findings: list[Finding] = []
        kinds = set(settings.kinds) if settings.kinds is not None else set(KINDS) - {"high-entropy"}
        if settings.high_entropy:
            kinds.add("high-entropy")
        self.kinds = frozenset(kinds)
        self.entropy = "high-entropy" in self.kinds
        self.roles = frozenset(settings.roles) if settings.roles is not None else None
        self.all_roles = self.roles is None
        self.allow = AllowList(settings.allow, settings.allow_patterns, settings.allow_domains)
        self.allow_ids = frozenset(settings.allow_ids)
        self.id_field = self.config.id_field
        self.listed: dict[str, int] = {}
        self.overflow: dict[str, array] = {}
        #: Texts repeated verbatim across examples (system prompts) are scanned once.
        self.clean_repeats: set[str] = set()
        self.target_plans: dict[str, int] = {}
        if self.allow_ids and not self.id_field and self.enabled:
            self.findings.append(
                ALLOW_IDS_UNUSED.at(
                    self.path, None,
                    f"pii.allow_ids lists {len(self.allow_ids)} id(s) but `id_field` is not set, so no example "
                    "is allowed by id; set `id_field` to the JSON Pointer of your example ids.",
                )
            )

    def visit(self, example: Example) -> None:
        if not self.enabled:
            return
        entropy = self.entropy
        clean = self.clean_repeats
        if example.plain and self.all_roles:
            # A plain chat record's system prompt, input and target hold all of its text:
            # gate on those and build the turns only when something may be there.
            # Targets repeat in many datasets (labels, templates): remember their gate bits.
            target = example.target_text
            target_plan = self.target_plans.get(target)
            if target_plan is None:
                target_plan = gates(target, entropy)
                if len(self.target_plans) < 4096:
                    self.target_plans[target] = target_plan
            system = example.system
            if target_plan == 0 and gates(example.input_text, entropy) == 0 and (
                not system or system in clean or gates(system, entropy) == 0
            ):
                return
        texts = [t for t in scoped_texts(example, self.roles) if not (t.role == "system" and t.text in clean)]
        if not texts:
            return
        if len(texts) == 1:
            plan = gates(texts[0].text, entropy)
        else:
            plan = gates("\n".join([t.text for t in texts]), entropy)
        if not plan:
            return
        if self.allow_ids and self.id_field:
            value = resolve_pointer(example.record, self.id_field)
            if value is not None and str(value) in self.allow_ids:
                return
        for scoped in texts:
            text = scoped.text
            text_plan = gates(text, entropy) & plan
            spans = scan(text, text_plan, self.kinds) if text_plan else []
            if not spans:
                # System prompts repeat verbatim across a file: scan each one once.
                if scoped.role == "system" and len(clean) < 64:
                    clean.add(text)
                continue
            for start, end, kind in spans:
                value = text[start:end]
                if self.allow.allows(kind, value, text, start):
                    continue
                self._report(example, scoped, start, end, kind, value)

    def _report(self, example: Example, scoped, start: int, end: int, kind: str, value: str) -> None:
        info = KINDS[kind]
        code = info.rule.code
        listed = self.listed.get(code, 0)
        if listed >= MAX_LISTED:
            self.overflow.setdefault(code, array("I")).append(example.line)
            return
        self.listed[code] = listed + 1
        where = turn_label(example, scoped.index, scoped.role)
        where = where[0].upper() + where[1:]
        allow_hint = "allow the value with pii.allow"
        if self.id_field:
            example_id = resolve_pointer(example.record, self.id_field)
            if example_id is not None and not isinstance(example_id, (dict, list)):
                allow_hint = f"allow the example with pii.allow_ids = [{str(example_id)!r}]"
        self.findings.append(
            info.rule.at(
                self.path, example.line,
                f"{where} contains {info.label} ({kind}: {mask(value, kind)}) at character {start + 1}; "
                f"remove it or replace it with a placeholder such as {info.placeholder}, or {allow_hint} "
                "if it is not private.",
            )
        )

    def finish(self) -> list[Finding]:
        for code, lines in self.overflow.items():
            found = RULES_BY_CODE[code]
            shown = sorted(set(lines))
            self.findings.append(
                found.at(
                    self.path, shown[0],
                    f"{len(lines)} more {found.name} findings in this file are not listed one by one "
                    f"(the first {MAX_LISTED} are); clean the file and run again.",
                    related=[(self.path, line) for line in shown[1:100]],
                )
            )
        return self.findings


RULES_BY_CODE = {kind.rule.code: kind.rule for kind in KINDS.values()}
