"""Detectors of personal data and secrets: the one leaf both redaction and the `pii` family use.

`find_sensitive(text)` returns the spans `(start, end, kind)` of e-mail addresses,
phone numbers, card numbers, IBANs, SSNs, public IP addresses, API keys and tokens,
JWTs, private keys, passwords in URLs and (on request) high-entropy strings, each
confirmed by the structure of the value (Luhn for cards, mod-97 for IBANs,
`ipaddress` for IPs, a decodable header for JWTs).

This module imports nothing from pytest-ftdata: `redact` masks whatever it finds in
every output, and `checks.pii` reports it with the configuration applied on top, so
neither depends on the other and there is one definition of "sensitive".

Invariants: no detector raises on any `str`; every pattern is anchored on a consuming
literal or class and bounded, so a scan is linear in the length of the text (the fuzz
suite times adversarial inputs).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
import string
from typing import Callable, NamedTuple

#: Every kind `find_sensitive` can report (`pii.kinds` chooses among them).
KIND_NAMES = (
    "email", "phone", "payment-card", "iban", "ssn", "ip-address", "aws-access-key", "aws-secret-key",
    "github-token", "openai-key", "anthropic-key", "slack-token", "google-api-key", "stripe-key", "jwt",
    "private-key", "url-credentials", "high-entropy",
)

# -- validators ---------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    """The card network a number's prefix and length belong to, or None."""
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "mastercard"
    if two in (34, 37) and n == 15:
        return "amex"
    if (four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    return None


#: IBAN length by country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_valid(compact: str) -> bool:
    """`compact` (no spaces) has its country's length and a valid mod-97 checksum."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _ip_is_public(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return address.is_global and not address.is_multicast


def _jwt_valid(value: str) -> bool:
    header = value.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith(b"{") and (b'"alg"' in decoded or b'"typ"' in decoded)


def shannon_entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_SECRET_PLACEHOLDER = re.compile(r"(?i)example|xxxx|(.)\1{7,}|[<>{}\[\]]|\.\.\.")


def _secret_like(value: str) -> bool:
    """A credential body that is neither a placeholder nor a word: it has a digit."""
    return not _SECRET_PLACEHOLDER.search(value) and any(c.isdigit() for c in value)


# -- detectors ----------------------------------------------------------------------------
#
# Speed matters: `visit()` runs once per example of datasets with millions of lines.
# Three rules keep it cheap:
#
# 1. `gates()` gates every family of detectors on substring tests (memchr-fast), so
#    text with none of the trigger characters never reaches a regular expression.
# 2. Every pattern starts with a consuming literal or character class, so the regex
#    engine skips ahead to candidate positions instead of trying every position;
#    boundary checks are look-behinds placed after the first characters.
# 3. Numbers (cards, SSNs, phones, IPv4) are searched only inside short windows
#    around runs of at least 7 digit-like characters, found by one fast regex, so
#    text full of small numbers (arithmetic, dates, prices) costs one scan.

G_EMAIL, G_NUMBER, G_DASH, G_UNDERSCORE, G_URL, G_AWS_ID, G_GOOGLE, G_JWT, G_AWS_SECRET, G_ENTROPY, G_IBAN, G_IPV6 = (
    1 << i for i in range(12)
)

Span = tuple[int, int]


class Detector(NamedTuple):
    kind: str
    gate: int
    #: `find(text, windows, lenient)`: lenient finds skip the placeholder filters (see `find_sensitive`).
    find: Callable[[str, list[Span] | None, bool], list[Span]]
    #: Searched only in the number windows (`_number_windows`).
    numeric: bool = False


_SAME = object()


def _regex_finder(pattern: str, confirm: Callable[[str, re.Match], Span | None] | None = None, group: int = 0, lenient=_SAME):
    """A finder of `pattern`'s matches that `confirm` accepts. `lenient` is the confirm
    used when redacting: the filters that tell placeholders (`sk-your-key-here`,
    `user:${PASSWORD}@`) from real values keep findings quiet, but an output masks
    those too, since a password may well contain `$` or `}`."""
    compiled = re.compile(pattern)
    loose = confirm if lenient is _SAME else lenient

    def find(text: str, windows: list[Span] | None, lenient: bool = False) -> list[Span]:
        check = loose if lenient else confirm
        found = []
        if windows is None:
            matches = compiled.finditer(text)
        else:
            matches = (m for lo, hi in windows for m in compiled.finditer(text, lo, hi))
        for match in matches:
            span = match.span(group) if check is None else check(text, match)
            if span is not None:
                found.append(span)
        return found

    return find


def _any_group(group: int):
    return lambda text, match: match.span(group)


def _whole(check: Callable[[str], bool]):
    def confirm(text: str, match: re.Match) -> Span | None:
        return match.span() if check(match.group()) else None

    return confirm


def _confirm_card(text: str, match: re.Match) -> Span | None:
    raw = match.group()
    separators = {c for c in raw if not c.isdigit()}
    if len(separators) > 1:
        return None
    digits = raw.replace(" ", "").replace("-", "")
    if card_network(digits) and luhn_valid(digits):
        return match.span()
    return None


def _confirm_iban(text: str, match: re.Match) -> Span | None:
    length = IBAN_LENGTHS.get(match.group(1))
    if length is None:
        return None
    start = match.start()
    taken = 0
    end = start
    for offset, char in enumerate(match.group()):
        if char != " ":
            taken += 1
        if taken == length:
            end = start + offset + 1
            break
    else:
        return None
    if end < len(text) and text[end].isalnum():
        return None  # the IBAN runs on: not this country's length
    compact = text[start:end].replace(" ", "")
    return (start, end) if iban_valid(compact) else None


def _confirm_ssn(text: str, match: re.Match) -> Span | None:
    area, group, serial = match.group().split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return match.span()


def _confirm_phone(text: str, match: re.Match) -> Span | None:
    raw = match.group()
    digits = sum(c.isdigit() for c in raw)
    if raw.startswith("+"):
        ok = 8 <= digits <= 15
    elif raw.startswith("00"):  # the international prefix written as digits
        ok = 10 <= digits <= 17
    elif raw.startswith("0"):
        ok = 9 <= digits <= 13
    else:
        ok = digits in (10, 11)
    return match.span() if ok else None


def _confirm_openai(text: str, match: re.Match) -> Span | None:
    """`sk-` is a short prefix: the body must look random (a digit, or mixed case),
    which hyphenated words such as `sk-your-key-goes-here` do not."""
    body = match.group()[3:]
    if _SECRET_PLACEHOLDER.search(body) or not any(c.isalpha() for c in body):
        return None
    if any(c.isdigit() for c in body) or (any(c.isupper() for c in body) and any(c.islower() for c in body)):
        return match.span()
    return None


def _confirm_prefixed(text: str, match: re.Match) -> Span | None:
    """A token with a distinctive prefix: only placeholders are refused."""
    value = match.group()
    return None if _SECRET_PLACEHOLDER.search(value) else match.span()


def _confirm_secret(text: str, match: re.Match) -> Span | None:
    group = 1 if match.re.groups else 0
    return match.span(group) if _secret_like(match.group(group)) else None


def _confirm_url_credentials(text: str, match: re.Match) -> Span | None:
    user, password = match.group(1), match.group(2)
    low = password.lower()
    if low in _PASSWORD_PLACEHOLDERS or any(c in password for c in "<>{}[]$%*") or len(set(password)) == 1:
        return None
    if user.lower() in ("user", "username") and low.startswith("pass"):
        return None
    return match.start(1), match.end(2)  # user:password


_PASSWORD_PLACEHOLDERS = frozenset(
    {"password", "pass", "passwd", "pwd", "secret", "changeme", "token", "pw", "xxx", "mypassword", "yourpassword"}
)


def _confirm_entropy(text: str, match: re.Match) -> Span | None:
    value = match.group().rstrip("=")
    if len(value) < 20:
        return None
    has_upper = has_lower = has_digit = False
    for char in value:
        if char.isupper():
            has_upper = True
        elif char.islower():
            has_lower = True
        elif char.isdigit():
            has_digit = True
    if not (has_upper and has_lower and has_digit):
        return None
    # Random strings switch between upper case, lower case and digits at about 60% of
    # positions; words, paths and camelCase identifiers rarely do.
    if _class_switches(value) < 0.3 * len(value):
        return None
    return match.span() if shannon_entropy(value) >= 4.0 else None


def _class_switches(value: str) -> int:
    switches = 0
    previous = None
    for char in value:
        if not char.isalnum():
            continue  # separators of paths and slugs say nothing about randomness
        current = 0 if char.isupper() else 1 if char.islower() else 2
        if previous is not None and current != previous:
            switches += 1
        previous = current
    return switches


_EMAIL_LOCAL = frozenset(string.ascii_letters + string.digits + "._%+-")
_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w\-])")
_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tiff", "css", "js"})
_URL_USERINFO = re.compile(r"://[^\s/@:'\"<>]*:$")


def _find_emails(text: str, windows: list[Span] | None, lenient: bool = False) -> list[Span]:
    """Addresses around each `@`: the domain by regex, the local part scanned back."""
    found = []
    at = text.find("@")
    while at >= 0:
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if domain is not None and domain.group(1).lower() not in _FILE_TLDS:
            start = at
            while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
                start -= 1
            if start > 0 and (text[start - 1] in _EMAIL_LOCAL or text[start - 1].isalnum()):
                start = at  # a local part over 64 characters, or glued to other text
            while start < at and not text[start].isalnum():
                start += 1  # a local part starts with a letter or digit
            if start < at and not _URL_USERINFO.search(text, max(0, start - 300), start):
                found.append((start, domain.end()))
        at = text.find("@", at + 1)
    return found


_HEX_COLON = frozenset("0123456789abcdefABCDEF:")


def _find_ipv6(text: str, windows: list[Span] | None, lenient: bool = False) -> list[Span]:
    """Public IPv6 addresses: maximal runs of hex digits and colons around each `:`."""
    found = []
    colon = text.find(":")
    end = -1
    while colon >= 0:
        if colon >= end:
            start = colon
            while start > 0 and text[start - 1] in _HEX_COLON:
                start -= 1
            end = colon
            while end < len(text) and text[end] in _HEX_COLON:
                end += 1
            value = text[start:end]
            if value.count(":") >= 2 and (start == 0 or not (text[start - 1].isalnum() or text[start - 1] == ".")):
                if (end >= len(text) or not text[end].isalnum()) and _ip_is_public(value):
                    found.append((start, end))
        colon = text.find(":", colon + 1)
    return found


DETECTORS: list[Detector] = [
    # Most specific first: a span claimed by an earlier detector is not reported again.
    Detector(
        "private-key", G_DASH,
        _regex_finder(
            r"-----BEGIN[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
            r"(?:-----END[A-Z0-9 ]{0,30} PRIVATE KEY(?: BLOCK)?-----|\Z)"
            r"|PuTTY-User-Key-File-\d+:[\s\S]*?(?:Private-MAC: [0-9a-fA-F]+|\Z)"
        ),
    ),
    Detector(
        "url-credentials", G_URL,
        _regex_finder(
            r"://([^\s/@:'\"<>]{1,128}):([^\s/@'\"<>]{1,256})@(?=[\w\[])", _confirm_url_credentials,
            lenient=lambda text, match: (match.start(1), match.end(2)),
        ),
    ),
    Detector(
        "slack-token", G_URL,
        _regex_finder(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]{20,}", _confirm_secret, lenient=None),
    ),
    Detector(
        "jwt", G_JWT,
        _regex_finder(r"eyJ(?<![\w-]...)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", _whole(_jwt_valid), lenient=None),
    ),
    Detector(
        "anthropic-key", G_DASH,
        _regex_finder(r"sk-ant-(?<![\w-].......)[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{20,}", _confirm_secret, lenient=None),
    ),
    Detector(
        "openai-key", G_DASH,
        _regex_finder(r"sk-(?<![\w-]...)(?!ant-)[A-Za-z0-9_-]{20,}", _confirm_openai, lenient=None),
    ),
    Detector(
        "slack-token", G_DASH,
        _regex_finder(r"x(?:ox[abposre]|app)-(?<![\w-].....)[A-Za-z0-9-]{10,}", _confirm_secret, lenient=None),
    ),
    Detector(
        "github-token", G_UNDERSCORE,
        _regex_finder(
            r"g(?<![A-Za-z0-9_].)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
            _confirm_prefixed, lenient=None,
        ),
    ),
    Detector(
        "stripe-key", G_UNDERSCORE,
        _regex_finder(r"[sr]k_(?<!\w...)(?:live|test)_[0-9A-Za-z]{16,247}(?!\w)", _confirm_prefixed, lenient=None),
    ),
    Detector(
        "aws-access-key", G_AWS_ID,
        _regex_finder(r"A(?<![A-Z0-9].)(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])", _whole(lambda v: "EXAMPLE" not in v), lenient=None),
    ),
    Detector(
        "aws-secret-key", G_AWS_SECRET,
        _regex_finder(
            r"(?i:aws)[\w .-]{0,25}?(?i:secret)[\w .-]{0,25}?[\"'\s:=]{1,5}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
            _confirm_secret, lenient=_any_group(1),
        ),
    ),
    Detector(
        "google-api-key", G_GOOGLE,
        _regex_finder(r"AIza(?<![\w-]....)[0-9A-Za-z_-]{35}(?![\w-])", _confirm_prefixed, lenient=None),
    ),
    Detector(
        "payment-card", G_NUMBER,
        _regex_finder(r"\d(?<![\d+\-.].)(?:[ -]?\d){12,18}(?![\d\-]|\.\d)", _confirm_card),
        numeric=True,
    ),
    Detector(
        "iban", G_IBAN,
        _regex_finder(r"([A-Z]{2})(?<!\w..)\d{2}(?: ?[A-Z0-9]){10,30}", _confirm_iban),
    ),
    Detector(
        "ssn", G_NUMBER,
        _regex_finder(r"\d(?<![\w\-].)\d{2}-\d{2}-\d{4}(?![\w\-])", _confirm_ssn),
        numeric=True,
    ),
    Detector(
        "ip-address", G_NUMBER,
        # octets are checked by `ipaddress` (it also refuses leading zeros)
        _regex_finder(r"\d(?<![\w.].)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)", _whole(_ip_is_public)),
        numeric=True,
    ),
    Detector("ip-address", G_IPV6, _find_ipv6),
    Detector(
        "phone", G_NUMBER,
        _regex_finder(
            # international: +CC and groups
            r"\+(?<![\w+].)\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6}(?![\w\-]|\.\d)"
            # North American: (512) 555-0202, 1-800-555-0199, 1 (800) 555-0199, 512-555-0202
            r"|\((?<![\w+\-.].)\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}(?![\w\-]|\.\d)"
            r"|1(?<![\w+\-.].)[ .\-]?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w\-]|\.\d)"
            r"|\d(?<![\w+\-.].)\d{2}[ .\-]\d{3}[ .\-]\d{4}(?![\w\-]|\.\d)"
            # national with trunk prefix, grouped: 020 7946 0958, 06 12 34 56 78
            r"|0(?<![\w+\-.].)\d{1,4}(?:[ \-]\d{2,4}){2,4}(?![\w\-]|\.\d)",
            _confirm_phone,
        ),
        numeric=True,
    ),
    Detector("email", G_EMAIL, _find_emails),
    Detector(
        "high-entropy", G_ENTROPY,
        _regex_finder(r"[A-Za-z0-9+/_\-](?<![A-Za-z0-9+/=_\-].)[A-Za-z0-9+/_\-]{19,}={0,2}(?![A-Za-z0-9+/=_\-])", _confirm_entropy),
    ),
]

#: Cards, SSNs, IPv4 addresses and phone numbers all hold 7 characters in a row of
#: digits and number punctuation, starting and ending with a digit. This seed regex
#: finds such places (starting with a digit lets the regex engine skip to digits);
#: each seed grows to the whole run, and the numeric detectors search only there.
_RUN_SEED = re.compile(r"\d[\d ().\-]{5}\d")
_RUN_CHARS = frozenset("0123456789 ().-+")
#: Characters of context a numeric pattern may look at around a run.
_WINDOW_MARGIN = 3


def _number_windows(text: str) -> list[Span]:
    size = len(text)
    windows: list[Span] = []
    for match in _RUN_SEED.finditer(text):
        start, end = match.span()
        if windows and start < windows[-1][1]:
            continue  # inside the run of the previous seed
        while start > 0 and text[start - 1] in _RUN_CHARS:
            start -= 1
        while end < size and text[end] in _RUN_CHARS:
            end += 1
        windows.append((max(0, start - _WINDOW_MARGIN), min(size, end + _WINDOW_MARGIN)))
    return windows


_DIGITS = "0123456789"
#: Two colons with only hex digits between them: every address `_find_ipv6` reports
#: (a run of hex digits and colons holding at least two colons) has one. JSON keys
#: (`"confidence": 0.92`) have colons and digits but never this, and skip the scan.
#: Linear: each attempt reads one run of hex digits, and runs end at the next colon.
_IPV6_SEED = re.compile(r":[0-9A-Fa-f]*:").search
_AWS_ID = re.compile(r"A(?:KIA|SIA|BIA|CCA|3T)")


#: An underscore that starts or ends a GitHub (`ghp_`, `github_pat_`) or Stripe
#: (`sk_live_`, `rk_test_`) prefix. It starts with `_`, so the regex engine jumps from
#: underscore to underscore: identifiers and JSON labels are full of them, and "gh"
#: is common in English.
_UNDERSCORE_ANCHOR = re.compile(r"_(?:(?<=gh[pousr]_)|live_|test_|pat_)").search


#: Every detector needs one of these characters (digits for numbers and most keys).
#: One C-level pass over the bytes of an ASCII text tells whether any is there.
_TRIGGER_BYTES = b"0123456789@-_/AJ"


def gates(text: str, entropy: bool = False) -> int:
    """Gate bits for `text`: which detector families could possibly match."""
    if text.isascii():  # O(1) in CPython
        raw = text.encode()
        if len(raw.translate(None, _TRIGGER_BYTES)) == len(raw):
            return 0
    bits = 0
    if "@" in text:
        bits = G_EMAIL
    for digit in _DIGITS:
        if digit in text:
            # The numeric detectors search only the runs `_RUN_SEED` finds (`scan` drops
            # the bit when there is none), so a text whose digits form no run (a
            # confidence of 0.92, a date) is not sent to them: the common case of
            # targets that hold a number, which then skip the scan altogether.
            if _RUN_SEED.search(text):
                bits |= G_NUMBER
            if entropy:
                bits |= G_ENTROPY
            if ":" in text and text.count(":") >= 2 and _IPV6_SEED(text):
                bits |= G_IPV6
            if ("ws" in text or "WS" in text or "Ws" in text) and ("ecret" in text or "ECRET" in text):
                bits |= G_AWS_SECRET
            break
    if "-" in text and ("sk-" in text or "xox" in text or "xapp-" in text or "-----BEGIN" in text or "PuTTY-" in text):
        bits |= G_DASH
    if "_" in text and _UNDERSCORE_ANCHOR(text):
        bits |= G_UNDERSCORE
    if "/" in text and "://" in text:
        bits |= G_URL
    if "A" in text:
        if "AIza" in text:
            bits |= G_GOOGLE
        if _AWS_ID.search(text):
            bits |= G_AWS_ID
    if "J" in text and "eyJ" in text:
        bits |= G_JWT
    return bits


def scan(text: str, bits: int, kinds: frozenset[str] | None, lenient: bool = False) -> list[tuple[int, int, str]]:
    """The spans of the detectors `bits` selects (see `gates`), sorted and non-overlapping:
    where two detectors claim overlapping text, the earlier one in `DETECTORS` wins."""
    windows: list[Span] | None = None
    if bits & G_NUMBER:
        windows = _number_windows(text)
        if windows:
            bits |= G_IBAN  # an IBAN holds a run of digits too
        else:
            bits &= ~G_NUMBER
    found: list[tuple[int, int, str]] = []
    for detector in DETECTORS:
        if not detector.gate & bits or (kinds is not None and detector.kind not in kinds):
            continue
        spans = detector.find(text, windows if detector.numeric else None, lenient)
        if spans:
            found = _merge_claims(found, sorted(spans), detector.kind)
    return found


def _merge_claims(claimed: list[tuple[int, int, str]], spans: list[Span], kind: str) -> list[tuple[int, int, str]]:
    """`claimed` plus the `spans` that overlap none of it, in order: one sweep over both
    sorted lists, so a text with a hundred thousand matches stays linear."""
    out: list[tuple[int, int, str]] = []
    index = 0
    last_end = -1
    for start, end in spans:
        while index < len(claimed) and claimed[index][1] <= start:
            out.append(claimed[index])
            index += 1
        if start < last_end:
            continue  # overlaps a span of this detector kept just before
        if index < len(claimed) and claimed[index][0] < end:
            continue  # overlaps a span an earlier detector claimed
        out.append((start, end, kind))
        last_end = end
    out.extend(claimed[index:])
    return out


def find_sensitive(
    text: str, kinds: frozenset[str] | None = None, high_entropy: bool = False, lenient: bool = False
) -> list[tuple[int, int, str]]:
    """Spans `(start, end, kind)` of personal data and secrets in `text`, sorted and
    non-overlapping. `kinds` limits the search (default: every kind but high-entropy,
    which `high_entropy=True` adds). `lenient` keeps what looks like a placeholder
    too (`user:${PASSWORD}@`, `sk-your-key-goes-here`, `AKIA...EXAMPLE`): what
    redaction wants, as a real password may well contain `$` or `}`."""
    if not text:
        return []
    bits = gates(text, high_entropy)
    if not bits:
        return []
    return scan(text, bits, kinds, lenient)
