"""Small text helpers shared by checks and renderers: excerpts and JSON Pointers."""

from __future__ import annotations

from typing import Any

from .formats import Example

_MISSING = object()


def shorten(text: str, width: int = 60) -> str:
    """One line, at most `width` characters, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"


def excerpt(example: Example, width: int = 60) -> str:
    """`input -> target`, shortened and with private data masked."""
    from .redact import redact

    source = example.input_text or (example.system or "")
    return f"{shorten(redact(source), width)!r} -> {shorten(redact(example.target_text), width)!r}"


def resolve_pointer(document: Any, pointer: str, default: Any = None) -> Any:
    """RFC 6901 JSON Pointer lookup that returns `default` instead of raising."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        return default
    current = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict):
            current = current.get(token, _MISSING)
            if current is _MISSING:
                return default
        elif isinstance(current, list):
            if not token.isdigit() or int(token) >= len(current):
                return default
            current = current[int(token)]
        else:
            return default
    return current


def example_value(example: Example, spec: str | None) -> Any:
    """The value `spec` names in an example, or None.

    `spec` is a JSON Pointer into the record (`/metadata/intent`), `target:` plus a
    pointer into the target parsed as JSON (`target:/intent`), or `target` for the
    whole target text (plain-label classifiers).
    """
    if not spec:
        return None
    if spec == "target":
        return example.target_text.strip() or None
    if spec.startswith("target:"):
        import orjson

        try:
            parsed = orjson.loads(example.target_text)
        except orjson.JSONDecodeError:
            return None
        return resolve_pointer(parsed, spec[len("target:") :])
    return resolve_pointer(example.record, spec)


def example_label(example: Example, spec: str | None) -> str | None:
    """The label of an example as a string (None when missing or not a scalar)."""
    value = example_value(example, spec)
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)
