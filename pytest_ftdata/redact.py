"""Masking of private data and secrets: the one place text from the data becomes text a person sees.

Every excerpt, quoted value, message and report field that may carry dataset text is
made with `display()` (or passes through `redact()`): a found value is never shown in
full; it becomes its kind and a masked form such as ``[openai-key: sk-p...b8, 51 chars]``.

Three rules make this hold by construction rather than by care:

- Redaction runs on the whole decoded text, *before* anything is cut or normalized:
  `display()` redacts, collapses whitespace, redacts again (collapsing can join the
  groups of a card number), cuts, and redacts the cut piece once more. Text is never
  shown from raw line bytes or from the normalized keys duplicates are compared on.
- `redact()` is idempotent: it masks until no detector finds anything (a mask can
  give the text beside it a new boundary, and so a new match), and a text that has
  not settled after a few passes is withheld whole. So `redact(redact(t)) == redact(t)`
  for every `t`, and a second guard anywhere downstream is harmless.
- Redaction masks everything any detector can find, whatever `[tool.ftdata.pii]`
  says: allowed values, out-of-scope roles and high-entropy strings are masked too.
  Masking a value that did not need it costs a little readability; printing one that
  did cannot be undone.
"""

from __future__ import annotations

import re
import string

from .detectors import IBAN_LENGTHS, find_sensitive, iban_valid

_DIGIT = re.compile(r"\d")
#: Passes `redact` makes before it withholds a text that keeps revealing new matches.
MAX_PASSES = 4
#: What a text that never settles becomes (no detector matches it).
WITHHELD = "[text withheld: {size} chars that kept matching private-data patterns]"


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
        return f"{header[:40]}..., {size}"
    if kind == "url-credentials":
        user = value.split(":", 1)[0]
        return f"{user[:1]}***:***, {size}"
    if n >= 16:
        return f"{value[:4]}...{value[-2:]}, {size}"
    if n > 4:
        return f"{value[:1]}...{_DIGIT.sub('*', value[-1:])}, {size}"
    return f"***, {size}"


def _mask_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    out = []
    last = 0
    for start, end, kind in spans:
        out.append(text[last:start])
        out.append(f"[{kind}: {mask(text[start:end], kind)}]")
        last = end
    out.append(text[last:])
    return "".join(out)


#: Kinds whose values mean the same in any letter case: a lower-cased IBAN or AWS key id
#: still names the account or the key, so redaction looks for them upper-cased too.
CASELESS_KINDS = frozenset({"iban", "aws-access-key", "private-key"})
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


#: AWS key ids and IBANs anywhere, even glued to other letters (`nAKIA...` after a
#: mangled `\\n`): the detectors want a word boundary to stay quiet in findings, but an
#: output should rather mask one word too many.
_GLUED_AWS_ID = re.compile(r"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}")
_GLUED_IBAN = re.compile(r"(?=([A-Z]{2}\d{2}[A-Z0-9]{10,30}))")


#: `scheme://user:password@` whatever follows the `@` (the detector wants a host there).
_LOOSE_URL_CREDENTIALS = re.compile(r"://([^\s/@:'\"<>]{1,128}):([^\s/@'\"<>]{1,256})@")


def _glued(upper: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), "aws-access-key") for m in _GLUED_AWS_ID.finditer(upper)]
    if "://" in upper:
        found += [(m.start(1), m.end(2), "url-credentials") for m in _LOOSE_URL_CREDENTIALS.finditer(upper)]
    if _DIGIT.search(upper):
        for match in _GLUED_IBAN.finditer(upper):
            start = match.start()
            length = IBAN_LENGTHS.get(upper[start : start + 2])
            if length and len(match.group(1)) >= length and iban_valid(upper[start : start + length]):
                found.append((start, start + length, "iban"))
    found.sort()
    kept: list[tuple[int, int, str]] = []
    for span in found:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def sensitive_spans(text: str) -> list[tuple[int, int, str]]:
    """What redaction masks: every detector without its placeholder filters, including
    high-entropy strings, and the caseless kinds in any letter case and glued to text."""
    spans = find_sensitive(text, high_entropy=True, lenient=True)
    upper = text.translate(_ASCII_UPPER)  # ASCII only: the caseless kinds are ASCII, and positions stay put
    extra = find_sensitive(upper, kinds=CASELESS_KINDS, lenient=True) if upper != text else []
    if "A" in upper or "://" in upper or _DIGIT.search(upper):
        extra = _union(extra, _glued(upper))
    if extra:
        spans = _union(spans, extra)
    return spans


def _union(first: list[tuple[int, int, str]], second: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Both sorted span lists, the spans of `second` that overlap `first` left out (one sweep)."""
    out = list(first)
    index = 0
    for start, end, kind in second:
        while index < len(first) and first[index][1] <= start:
            index += 1
        if index < len(first) and first[index][0] < end:
            continue
        out.append((start, end, kind))
    out.sort()
    return out


def redact(text: str) -> str:
    """`text` with every detected secret or personal value replaced by its mask."""
    if not text:
        return text
    original_size = len(text)
    for _ in range(MAX_PASSES):
        spans = sensitive_spans(text)
        if not spans:
            return text
        text = _mask_spans(text, spans)
    if not sensitive_spans(text):
        return text
    return WITHHELD.format(size=original_size)


def collapse(text: str) -> str:
    """One line: every run of whitespace becomes one space, ends trimmed."""
    return " ".join(text.split())


def cut(text: str, width: int) -> str:
    """At most `width` characters, with an ellipsis when cut (no redaction: see `display`)."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "\N{HORIZONTAL ELLIPSIS}"


#: Characters of a text that `display` redacts and shows from. A longer text (a 30 MB
#: line) is shown from its head: only its first `width` characters are shown anyway,
#: and scanning all of it for each message would cost seconds.
DISPLAY_SCAN_LIMIT = 1_000_000


def display(text: str, width: int = 60) -> str:
    """Dataset text as a person may see it: redacted whole, on one line, at most `width` characters."""
    if not text:
        return ""
    if len(text) > DISPLAY_SCAN_LIMIT:
        text = text.lstrip()[:DISPLAY_SCAN_LIMIT]
    return redact(cut(redact(collapse(redact(text))), width))


def display_span(text: str, start: int, end: int, width: int = 80) -> str:
    """`text[start:end]` with some of the text around it, as `display` shows text.

    Every sensitive span of the whole text is masked *before* the window is cut, so a
    secret that begins outside the window (or crosses its edge) is never half shown; a
    window wider than `width` is shown from its start."""
    if not text:
        return ""
    if len(text) > DISPLAY_SCAN_LIMIT:
        low = max(0, start - DISPLAY_SCAN_LIMIT // 2)
        text, start, end = text[low : low + DISPLAY_SCAN_LIMIT], start - low, end - low
    spans = sensitive_spans(text)
    masked = _mask_spans(text, spans)
    new_start, new_end, shift = start, end, 0
    for span_start, span_end, kind in spans:
        grown = len(f"[{kind}: {mask(text[span_start:span_end], kind)}]") - (span_end - span_start)
        if span_end <= start:
            new_start += grown
        elif span_start < start:
            new_start = span_start + shift
        if span_end <= end:
            new_end += grown
        elif span_start < end:
            new_end = span_start + shift + grown + (span_end - span_start)
        shift += grown
    pad = max(0, (width - (new_end - new_start)) // 2)
    low, high = max(0, new_start - pad), min(len(masked), new_end + pad)
    shown = display(masked[low:high], width)
    return ("\N{HORIZONTAL ELLIPSIS}" if low > 0 else "") + shown


def display_repr(text: str, width: int = 60) -> str:
    """`display(text)` quoted like `repr`, for messages that quote a value."""
    return repr(display(text, width))


def display_value(value: object, width: int = 40) -> str:
    """A JSON value of the data, quoted for a message: its repr redacted whole, then cut."""
    if isinstance(value, (dict, list)):
        return type(value).__name__
    if isinstance(value, str):
        # Redact the value itself, not its repr: an escape such as `\n` glued to a key id
        # would hide it from the detectors.
        return display_repr(value, width)
    try:
        shown = repr(value)
    except Exception:  # a repr that fails is not the data's problem to explain
        shown = f"<{type(value).__name__}>"
    if len(shown) > 100_000:
        return f"<{type(value).__name__} of {len(shown):,} characters>"
    return display(shown, width)


#: Fields of reports, cache entries and baselines that hold where something is, not
#: what the data says: file paths and node ids (a SARIF location or a baseline entry
#: must name the real file) and content-derived hashes. Everything else is masked.
LOCATION_KEYS = frozenset({"path", "abspath", "nodeid", "dataset", "uri", "key", "digest", "files_digest"})
#: Containers nested deeper than this in something written out are withheld.
_MAX_TREE_DEPTH = 64


def redact_tree(value: object, keep: frozenset[str] = LOCATION_KEYS, _depth: int = 0) -> object:
    """`value` (JSON-like: dicts, lists, strings, numbers) with every string redacted,
    dictionary keys included, except the values of the `keep` keys.

    The last guard of every file written (the JSON report, result-cache entries, the
    baseline): whatever a family put in a summary or a setting echoed from the config,
    what is written holds no more than the outputs show. Idempotent, as `redact` is."""
    if isinstance(value, str):
        return redact(value)
    if _depth > _MAX_TREE_DEPTH:
        return "[withheld: nested too deeply]"
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            if isinstance(name, str) and name in keep:
                out[name] = item if not isinstance(item, (dict, list, tuple)) else redact_tree(item, keep, _depth + 1)
            else:
                out[redact(name) if isinstance(name, str) else name] = redact_tree(item, keep, _depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_tree(item, keep, _depth + 1) for item in value]
    return value
