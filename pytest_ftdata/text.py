"""Small helpers shared by checks and renderers: excerpts, JSON Pointers and the
`label` / `group_by` specs (`example_value` reads a spec; `compile_value_getter` is
its fast twin for the per-example loop, kept equal by tests/test_labels.py).

There is deliberately no helper here that shortens dataset text: cutting before
redacting can cut a secret out of the reach of its detector, so every piece of data
text shown to a person goes through `redact.display`."""

from __future__ import annotations

from typing import Any, Callable

import orjson

from .formats import Example
from .redact import display_repr

_MISSING = object()


def excerpt(example: Example, width: int = 60) -> str:
    """`'input' -> 'target'` of the decoded example, redacted whole, then shortened."""
    source = example.input_text or (example.system or "")
    return f"{display_repr(source, width)} -> {display_repr(example.target_text, width)}"


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
        try:
            parsed = orjson.loads(example.target_text)
        except orjson.JSONDecodeError:
            return None
        return resolve_pointer(parsed, spec[len("target:") :])
    return resolve_pointer(example.record, spec)


def label_text(value: Any) -> str | None:
    """A label value as the checks count it: a scalar as a string; None when it is
    missing, a container, empty or whitespace."""
    if value is None or isinstance(value, (dict, list)):
        return None
    label = value if type(value) is str else str(value)
    if not label or label.isspace():
        return None
    return label


def example_label(example: Example, spec: str | None) -> str | None:
    """The label of an example, as the `labels` check counts it."""
    return label_text(example_value(example, spec))


def compile_value_getter(spec: str) -> Callable[[Example], Any]:
    """A fast `text.example_value(example, spec)`: the spec is parsed once, not per
    example (this runs for every example of the dataset, in two checks)."""
    if spec == "target":
        return lambda example: example.target_text.strip() or None
    if spec.startswith("target:"):
        inner = _compile_pointer(spec[len("target:") :])
        loads = orjson.loads
        error = orjson.JSONDecodeError

        def from_target(example: Example) -> Any:
            try:
                parsed = loads(example.target_text)
            except error:
                return None
            return inner(parsed)

        return from_target
    inner = _compile_pointer(spec)
    return lambda example: inner(example.record)


def _compile_pointer(pointer: str) -> Callable[[Any], Any]:
    if pointer == "":
        return lambda document: document
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]
    if any(token.isdigit() for token in tokens):
        return lambda document: resolve_pointer(document, pointer)  # list indexes: the general path
    if len(tokens) == 1:
        (first,) = tokens
        return lambda document: document.get(first) if type(document) is dict else None
    if len(tokens) == 2:
        first, second = tokens

        def two(document: Any) -> Any:
            if type(document) is dict:
                document = document.get(first)
                if type(document) is dict:
                    return document.get(second)
            return None

        return two

    def walk(document: Any) -> Any:
        for token in tokens:
            if type(document) is not dict:
                return None
            document = document.get(token)
        return document

    return walk

