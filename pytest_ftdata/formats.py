"""Dataset formats and the one `Example` view every check reads.

Six layouts are recognised:

- ``chat``: OpenAI ``{"messages": [...]}``, with ``tool_calls``, the ``tool`` role,
  ``name``, ``weight`` and a top-level ``tools`` list;
- ``completion``: ``{"prompt", "completion"}``;
- ``instruction``: Alpaca ``{"instruction", "input", "output"}``;
- ``qa``: ``{"question", "answer"}``, as GSM8K publishes it;
- ``sharegpt``: ``{"conversations": [{"from", "value"}]}``;
- ``preference``: ``{"prompt", "chosen", "rejected"}`` (``prompt`` optional when
  chosen/rejected are ``Human:``/``Assistant:`` transcripts), and OpenAI's
  ``{"input": {"messages"}, "preferred_output", "non_preferred_output"}``.

Whatever the layout, an example becomes turns (role, text), an input text (what
the model sees, system prompt excluded) and a target text (what it should answer).
Building the view never raises: a malformed record yields empty texts, and the
schema check reports why.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

FORMATS = ("chat", "completion", "instruction", "qa", "sharegpt", "preference")

#: ShareGPT speaker names mapped to chat roles.
SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "model": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}

TARGET_ROLES = frozenset({"assistant"})


class Turn(NamedTuple):
    role: str
    text: str


def detect_format(record: dict) -> str | None:
    """The layout a single record uses, or None when it matches none."""
    if "messages" in record:
        return "chat"
    if "conversations" in record:
        return "sharegpt"
    if "preferred_output" in record or ("chosen" in record and "rejected" in record):
        return "preference"
    if "instruction" in record:
        return "instruction"
    if "prompt" in record and "completion" in record:
        return "completion"
    if "question" in record and "answer" in record:
        return "qa"
    return None


def content_text(content: Any) -> str:
    """Text of a chat `content` value: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def _tool_calls_text(calls: Any) -> str:
    """A canonical text for assistant tool calls, so they can be compared and measured."""
    if not isinstance(calls, list):
        return ""
    out = []
    for call in calls:
        if isinstance(call, dict):
            function = call.get("function")
            if isinstance(function, dict):
                out.append({"name": function.get("name"), "arguments": function.get("arguments")})
    if not out:
        return ""
    try:
        return orjson.dumps(out).decode()
    except (orjson.JSONEncodeError, TypeError):  # arguments nested too deeply to serialise
        return orjson.dumps([{"name": str(call["name"])} for call in out]).decode()


def _chat_turns(messages: Any) -> list[Turn]:
    if not isinstance(messages, list):
        return []
    turns = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        role = role if isinstance(role, str) else ""
        text = content_text(message.get("content"))
        if not text and role == "assistant" and message.get("tool_calls"):
            text = _tool_calls_text(message.get("tool_calls"))
        turns.append(Turn(role, text))
    return turns


def split_transcript(transcript: str) -> list[Turn]:
    """Turns of an Anthropic-style ``\\n\\nHuman: ...\\n\\nAssistant: ...`` transcript."""
    turns: list[Turn] = []
    pieces = transcript.split("\n\nHuman:")
    for index, piece in enumerate(pieces):
        if index == 0 and not piece.strip():
            continue
        human, sep, rest = piece.partition("\n\nAssistant:")
        if index > 0 or human.strip():
            turns.append(Turn("user", human.strip()))
        if sep:
            answers = rest.split("\n\nAssistant:")
            for answer in answers:
                turns.append(Turn("assistant", answer.strip()))
    return turns


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return ""


def _preference_turns(record: dict) -> tuple[list[Turn], str, str]:
    """(prompt turns, chosen text, rejected text) of a preference record."""
    if "preferred_output" in record:
        prompt_value = record.get("input")
        messages = prompt_value.get("messages") if isinstance(prompt_value, dict) else None
        turns = _chat_turns(messages)
        chosen = _chat_turns(record.get("preferred_output"))
        rejected = _chat_turns(record.get("non_preferred_output"))
        return turns, "\n".join(t.text for t in chosen), "\n".join(t.text for t in rejected)
    chosen_value, rejected_value = record.get("chosen"), record.get("rejected")
    prompt = record.get("prompt")
    if isinstance(chosen_value, list):
        chosen_turns = _chat_turns(chosen_value)
        rejected_turns = _chat_turns(rejected_value)
        prompt_turns = _chat_turns(prompt) if isinstance(prompt, list) else [Turn("user", _text(prompt))] if prompt else []
        chosen_target = chosen_turns[-1].text if chosen_turns else ""
        rejected_target = rejected_turns[-1].text if rejected_turns else ""
        if not prompt_turns:
            prompt_turns = chosen_turns[:-1]
        return prompt_turns, chosen_target, rejected_target
    if prompt is None and isinstance(chosen_value, str) and "\n\nAssistant:" in chosen_value:
        chosen_turns = split_transcript(chosen_value)
        rejected_turns = split_transcript(_text(rejected_value))
        rejected_target = rejected_turns[-1].text if rejected_turns and rejected_turns[-1].role == "assistant" else ""
        if chosen_turns and chosen_turns[-1].role == "assistant":
            return chosen_turns[:-1], chosen_turns[-1].text, rejected_target
        return chosen_turns, "", rejected_target
    prompt_turns = [Turn("user", _text(prompt))] if isinstance(prompt, str) else _chat_turns(prompt)
    return prompt_turns, _text(chosen_value), _text(rejected_value)


class Example:
    """One training example, whatever its file layout.

    ``turns`` are the conversation up to and including the target; ``input_text``
    is everything the model reads before the target except the system prompt;
    ``target_text`` is the last assistant turn (the completion, the Alpaca output,
    the chosen answer). ``rejected_text`` is set for preference data only.

    For the common chat record the texts are computed in one pass and ``turns``
    only when a check asks for them: the engine builds a million of these.
    """

    __slots__ = (
        "path", "line", "record", "format", "_turns", "system", "input_text", "target_text", "rejected_text",
        "target_is_tool_call", "plain", "normalized", "normalized_punctuation",
    )

    def __init__(
        self,
        path: str,
        line: int,
        record: dict,
        format: str,
        turns: list[Turn] | None,
        system: str | None,
        input_text: str,
        target_text: str,
        rejected_text: str | None = None,
        target_is_tool_call: bool = False,
    ) -> None:
        self.path = path
        self.line = line
        self.record = record
        self.format = format
        self._turns = turns
        self.system = system
        self.input_text = input_text
        self.target_text = target_text
        self.rejected_text = rejected_text
        #: True when the target is an assistant tool call rather than text.
        self.target_is_tool_call = target_is_tool_call
        #: True for a chat record in the plain canonical shape (see `_plain_chat`).
        self.plain = False
        #: The normalized input (`neardup.normalize`) once a map has computed it, and the
        #: `ignore_punctuation` it was made with: the fingerprint and version maps both
        #: need it, and `families.fingerprints.normalized_input` makes it once for both.
        self.normalized: str | None = None
        self.normalized_punctuation = False

    @property
    def turns(self) -> list[Turn]:
        if self._turns is None:
            self._turns = _chat_turns(self.record.get("messages"))
        return self._turns

    @property
    def messages(self) -> list[dict]:
        """The conversation as OpenAI-style ``{"role", "content"}`` dicts."""
        return [{"role": turn.role, "content": turn.text} for turn in self.turns]

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def __repr__(self) -> str:
        return f"<Example {self.location} {self.format}>"


def _split_turns(turns: list[Turn]) -> tuple[str | None, str, str]:
    """(system prompt, input text, target text) of a turn list."""
    system = None
    if turns and turns[0].role == "system":
        system = turns[0].text
    target_index = None
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role in TARGET_ROLES:
            target_index = index
            break
    if target_index is None:
        before, target = turns, ""
    else:
        before, target = turns[:target_index], turns[target_index].text
    input_text = "\n".join(turn.text for turn in before if turn.role != "system")
    return system, input_text, target


def _common_chat(path: str, line: int, record: dict, messages: list) -> Example | None:
    """`_plain_chat` unrolled for the two shapes nearly every chat file uses,
    [system, user, assistant] and [user, assistant]; None for any other record.

    It gives exactly what `_plain_chat` gives, without its loop: this runs once per
    example, and on a million examples the loop is a visible share of the run.
    """
    count = len(messages)
    if count == 3:
        system, user, answer = messages
        if type(system) is not dict or system.get("role") != "system":
            return None
        system_text = system.get("content")
        if type(system_text) is not str:
            return None
        plain = len(system) == 2 and bool(system_text) and not system_text.isspace()
    elif count == 2:
        user, answer = messages
        system, system_text, plain = None, None, True
    else:
        return None
    if type(user) is not dict or type(answer) is not dict:
        return None
    user_text, answer_text = user.get("content"), answer.get("content")
    if (
        type(user_text) is not str
        or type(answer_text) is not str
        or user.get("role") != "user"
        or answer.get("role") != "assistant"
    ):
        return None
    example = Example(path, line, record, "chat", None, system_text, user_text, answer_text)
    example.plain = (
        plain
        and len(user) == 2
        and len(answer) == 2
        and bool(user_text)
        and bool(answer_text)
        and not user_text.isspace()
        and not answer_text.isspace()
        and "tools" not in record
    )
    return example


def _plain_chat(path: str, line: int, record: dict, messages: list) -> Example | None:
    """The example view of a chat record whose messages are all `{role, content: str}`
    dicts, computed in one pass without building turns; None for anything else.

    The same pass tells whether the record is *plain*: exactly `{role, content}`
    messages with non-empty content, an optional leading system turn, then user and
    assistant alternating and ending on the assistant, and no `tools`. The schema
    check trusts a plain record without running the full validation.
    """
    last = -1
    plain = "tools" not in record
    previous = None
    for index, message in enumerate(messages):
        if type(message) is not dict:
            return None
        content = message.get("content")
        if type(content) is not str:
            return None
        role = message.get("role")
        if role == "assistant":
            last = index
        if plain:
            if len(message) != 2 or not content or content.isspace():
                plain = False
            elif role == "user":
                plain = previous != "user"
            elif role == "assistant":
                plain = previous == "user"
            else:
                plain = role == "system" and index == 0
            previous = role
    if last < 0:
        return None
    first = messages[0]
    system = first["content"] if first.get("role") == "system" else None
    start = 1 if system is not None else 0
    if last - start == 1:
        input_text = messages[start]["content"] if messages[start].get("role") != "system" else ""
    else:
        input_text = "\n".join(m["content"] for m in messages[start:last] if m.get("role") != "system")
    example = Example(path, line, record, "chat", None, system, input_text, messages[last]["content"])
    example.plain = plain and previous == "assistant"
    return example


def make_example(path: str, line: int, record: dict, format: str) -> Example:
    """Build the example view of `record` read as `format`."""
    rejected = None
    if format == "chat":
        messages = record.get("messages")
        if type(messages) is list and messages:
            fast = _common_chat(path, line, record, messages) or _plain_chat(path, line, record, messages)
            if fast is not None:
                return fast
        turns = _chat_turns(messages)
    elif format == "sharegpt":
        conversations = record.get("conversations")
        turns = []
        if isinstance(conversations, list):
            for item in conversations:
                if isinstance(item, dict):
                    speaker = item.get("from")
                    role = SHAREGPT_ROLES.get(speaker.lower(), speaker) if isinstance(speaker, str) else ""
                    turns.append(Turn(role, _text(item.get("value"))))
    elif format == "instruction":
        instruction, given = _text(record.get("instruction")), _text(record.get("input"))
        user = f"{instruction}\n{given}" if given else instruction
        turns = [Turn("user", user), Turn("assistant", _text(record.get("output")))]
    elif format == "completion":
        turns = [Turn("user", _text(record.get("prompt"))), Turn("assistant", _text(record.get("completion")))]
    elif format == "qa":
        turns = [Turn("user", _text(record.get("question"))), Turn("assistant", _text(record.get("answer")))]
    elif format == "preference":
        prompt_turns, chosen, rejected = _preference_turns(record)
        turns = [*prompt_turns, Turn("assistant", chosen)]
    else:
        turns = []
    system, input_text, target_text = _split_turns(turns)
    tool_call = format == "chat" and _ends_in_tool_call(record.get("messages"))
    return Example(path, line, record, format, turns, system, input_text, target_text, rejected, tool_call)


def _ends_in_tool_call(messages: Any) -> bool:
    if not isinstance(messages, list):
        return False
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return bool(message.get("tool_calls")) and not content_text(message.get("content"))
    return False
