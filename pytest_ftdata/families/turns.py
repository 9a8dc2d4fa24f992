"""Where a text sits in an example, in the words of its file format.

The `pii`, `policy` and `length` checks look at the turns of an example one by
one and must say which turn they mean in terms the user can find in the record:
`messages[2]` for chat, `output` for Alpaca, `completion` for prompt/completion,
the chosen or rejected answer for preference pairs.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from ..formats import Example

#: The role under which a preference pair's rejected answer is scoped (`roles = [...]`).
REJECTED_ROLE = "assistant"


class ScopedText(NamedTuple):
    #: Position in `example.turns`, or -1 for the rejected answer of a preference pair.
    index: int
    role: str
    text: str


def turn_label(example: Example, index: int, role: str) -> str:
    """A human name for turn `index` (-1: the rejected answer) of `example`."""
    fmt = example.format
    if index < 0:
        return "the rejected answer (`non_preferred_output`)" if "non_preferred_output" in example.record else (
            "the rejected answer (`rejected`)"
        )
    last = index == len(example.turns) - 1
    if fmt == "chat":
        return f"turn `messages[{index}]` ({role})"
    if fmt == "sharegpt":
        return f"turn `conversations[{index}]` ({role})"
    if fmt == "instruction":
        return "the target `output`" if role == "assistant" else "the `instruction`/`input`"
    if fmt == "completion":
        return "the target `completion`" if role == "assistant" else "the `prompt`"
    if fmt == "qa":
        return "the target `answer`" if role == "assistant" else "the `question`"
    if fmt == "preference":
        if last:
            return "the chosen answer (`preferred_output`)" if "preferred_output" in example.record else (
                "the chosen answer (`chosen`)"
            )
        return f"prompt turn {index + 1} ({role})"
    return f"turn {index + 1} ({role})"


def scoped_texts(example: Example, roles: frozenset[str] | None, rejected: bool = True) -> Iterator[ScopedText]:
    """The non-empty turn texts of `example` whose role is in `roles` (all when None),
    followed by a preference pair's rejected answer (scoped as an assistant turn)."""
    for index, turn in enumerate(example.turns):
        if turn.text and (roles is None or turn.role in roles):
            yield ScopedText(index, turn.role, turn.text)
    if rejected and example.rejected_text and (roles is None or REJECTED_ROLE in roles):
        yield ScopedText(-1, REJECTED_ROLE, example.rejected_text)
