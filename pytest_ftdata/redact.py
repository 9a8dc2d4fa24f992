"""Masking of private data and secrets in everything the plugin prints.

Every excerpt, message and report field that may carry dataset text passes
through `redact()` (findings redact their message and excerpt when they are made,
see `findings.Finding`). A found value is never shown in full: it becomes its kind
and a masked form such as ``[openai-key: sk-p...b8, 51 chars]``.

Redaction masks everything any detector can find, whatever `[tool.ftdata.pii]`
says: allowed values, out-of-scope roles and high-entropy strings are masked too.
Masking a value that did not need it costs a little readability; printing one that
did cannot be undone.
"""

from __future__ import annotations

import re

_DIGIT = re.compile(r"\d")


def _keep_last_digits(value: str, keep: int) -> str:
    """Every digit but the last `keep` replaced by `*`, separators kept."""
    total = sum(c.isdigit() for c in value)
    seen = 0
    out = []
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep else "*")
        else:
            out.append(char)
    return "".join(out)


def mask(value: str, kind: str | None = None) -> str:
    """A masked form of a sensitive value: enough to recognise it, never all of it.

    >>> mask("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFb8", "openai-key")
    'sk-p...b8, 51 chars'
    """
    n = len(value)
    size = f"{n} chars"
    if kind == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}, {size}"
    if kind in ("phone", "ssn"):
        return f"{_keep_last_digits(value, 2)}, {size}"
    if kind == "payment-card":
        return f"{_keep_last_digits(value, 4)}, {size}"
    if kind == "iban":
        return f"{value[:2]}{_keep_last_digits(value[2:], 2)}, {size}"
    if kind == "ip-address":
        if "." in value:
            parts = value.split(".")
            return f"{parts[0]}.{parts[1]}.*.*, {size}"
        return f"{value.split(':', 1)[0]}:*, {size}"
    if kind == "private-key":
        header = value.split("-----", 2)[1] if value.startswith("-----") else value.split(":", 1)[0]
        return f"{header}..., {size}"
    if kind == "url-credentials":
        user = value.split(":", 1)[0]
        return f"{user[:1]}***:***, {size}"
    if n >= 16:
        return f"{value[:4]}...{value[-2:]}, {size}"
    if n > 4:
        return f"{value[:1]}...{_DIGIT.sub('*', value[-1:])}, {size}"
    return f"***, {size}"


def redact(text: str) -> str:
    """`text` with every detected secret or personal value replaced by its mask."""
    if not text:
        return text
    from .checks.pii import find_sensitive  # late import: checks import findings, which imports this

    spans = find_sensitive(text, high_entropy=True)
    if not spans:
        return text
    out = []
    last = 0
    for start, end, kind in spans:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(f"[{kind}: {mask(text[start:end], kind)}]")
        last = end
    out.append(text[last:])
    return "".join(out)
