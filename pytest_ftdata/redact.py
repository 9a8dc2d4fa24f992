"""Masking of private data and secrets in everything the plugin prints.

Every excerpt, message and report field that may carry dataset text passes
through `redact()`. A found value is never shown in full: it becomes its kind and
a masked form such as ``sk-p...b8 (51 chars)``.
"""

from __future__ import annotations


def mask(value: str) -> str:
    """A masked form of a sensitive value: a few characters each side and its length."""
    if len(value) <= 8:
        return f"{'*' * len(value)} ({len(value)} chars)"
    return f"{value[:4]}...{value[-2:]} ({len(value)} chars)"


def redact(text: str) -> str:
    """`text` with every detected secret or personal value replaced by its mask."""
    from .checks.pii import find_sensitive  # late import: pii builds on this module

    spans = find_sensitive(text)
    if not spans:
        return text
    out = []
    last = 0
    for start, end, kind in spans:
        if start < last:
            continue
        out.append(text[last:start])
        out.append(f"[{kind}: {mask(text[start:end])}]")
        last = end
    out.append(text[last:])
    return "".join(out)
