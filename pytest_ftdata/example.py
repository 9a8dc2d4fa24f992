"""The example view users see: one training example, whatever its file layout.

`Example` wraps the engine's `formats.Example` and computes the user-facing extras
(`.split`, `.target`, `.label`, `.group`) only when asked, so the engine loop pays
nothing for them. It is what `load()` and the `ftdata` fixture yield, what
`@pytest_ftdata.check` functions receive, and what assertions quote: its `repr` and
`excerpt` are redacted. Nothing here imports pytest.
"""

from __future__ import annotations

from typing import Any

import orjson

from .config import FtdataConfig
from .findings import Finding, Rule
from .formats import Example as _View
from .text import example_label, example_value, excerpt, resolve_pointer

__all__ = ["Example"]

_UNSET: Any = object()


class Example:
    """One example as user tests see it.

    The format-independent fields (`input_text`, `target_text`, `messages`, ...) come
    from the engine's view; `split` from the file name (or `splits` in the config);
    `target` is the target parsed as JSON (None when it is not JSON); `label` and
    `group` follow the `label` and `group_by` settings of the dataset.
    """

    __slots__ = ("_view", "split", "_config", "_target", "_label", "_group")

    def __init__(self, view: _View, split: str | None, config: FtdataConfig) -> None:
        self._view = view
        self.split = split
        self._config = config
        self._target = _UNSET
        self._label = _UNSET
        self._group = _UNSET

    # Delegated fields (plain attributes of the engine's view).
    path = property(lambda self: self._view.path, doc="File path, relative to the project root.")
    line = property(lambda self: self._view.line, doc="1-based line number in the file.")
    record = property(lambda self: self._view.record, doc="The JSON object of the line, as a dict.")
    format = property(lambda self: self._view.format, doc="chat, completion, instruction, sharegpt or preference.")
    turns = property(lambda self: self._view.turns)
    system = property(lambda self: self._view.system, doc="The system prompt, or None.")
    input_text = property(lambda self: self._view.input_text, doc="What the model reads (system prompt excluded).")
    target_text = property(lambda self: self._view.target_text, doc="The answer the model should learn.")
    rejected_text = property(lambda self: self._view.rejected_text, doc="The rejected answer (preference data).")
    target_is_tool_call = property(lambda self: self._view.target_is_tool_call)

    @property
    def messages(self) -> list[dict]:
        """The conversation as `{"role", "content"}` dicts, whatever the file format."""
        return self._view.messages

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def config(self) -> FtdataConfig:
        return self._config

    @property
    def target(self) -> Any:
        """The target parsed as JSON, or None when it is not valid JSON."""
        if self._target is _UNSET:
            text = self._view.target_text.strip()
            try:
                self._target = orjson.loads(text) if text else None
            except orjson.JSONDecodeError:
                self._target = None
        return self._target

    @property
    def label(self) -> str | None:
        """The label named by the `label` setting (None when unset or missing)."""
        if self._label is _UNSET:
            self._label = example_label(self._view, self._config.label)
        return self._label

    @property
    def group(self) -> Any:
        """The value named by the `group_by` setting (ticket, customer ...), or None."""
        if self._group is _UNSET:
            self._group = example_value(self._view, self._config.group_by)
        return self._group

    def get(self, pointer: str, default: Any = None) -> Any:
        """A value of the record by JSON Pointer: `ex.get("/metadata/language")`."""
        return resolve_pointer(self._view.record, pointer, default)

    def value(self, spec: str) -> Any:
        """A value by spec as the config writes it: `/pointer`, `target:/pointer` or `target`."""
        return example_value(self._view, spec)

    def excerpt(self, width: int = 60) -> str:
        """`'input' -> 'target'`, shortened, with secrets and personal data masked."""
        return excerpt(self._view, width)

    def finding(self, rule: Rule, message: str) -> Finding:
        """A finding of `rule` at this example, with its (redacted) excerpt."""
        return rule.at(self.path, self.line, message, excerpt=self.excerpt())

    def __repr__(self) -> str:
        # Shown by pytest's assertion introspection: never the raw text.
        return f"<Example {self.location} {self.excerpt(40)}>"
