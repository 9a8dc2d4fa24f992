"""`pii`: private data and secrets. (Minimal detector set; extended by the pii issue.)"""

from __future__ import annotations

import re

_PATTERNS = [
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("openai-key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
]


def find_sensitive(text: str) -> list[tuple[int, int, str]]:
    """Spans (start, end, kind) of sensitive values in `text`, sorted by start."""
    spans = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            spans.append((match.start(), match.end(), kind))
    spans.sort()
    return spans
