"""Format detection and the one Example view, for all five layouts.

Only the public surface is used: `detect_format`, `make_example` and the attributes
checks read (`turns`, `system`, `input_text`, `target_text`, `rejected_text`,
`target_is_tool_call`, `messages`, `location`).
"""

from __future__ import annotations

import json

import pytest

from pytest_ftdata.formats import FORMATS, detect_format, make_example


def view(record: dict):
    fmt = detect_format(record)
    return make_example("data/train.jsonl", 7, record, fmt or "unknown")


def roles(example) -> list[str]:
    return [turn.role for turn in example.turns]


# -- detection ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "record, expected",
    [
        ({"messages": []}, "chat"),
        ({"messages": [], "tools": []}, "chat"),
        ({"prompt": "p", "completion": "c"}, "completion"),
        ({"instruction": "i", "input": "", "output": "o"}, "instruction"),
        ({"instruction": "i", "output": "o"}, "instruction"),
        ({"conversations": []}, "sharegpt"),
        ({"prompt": "p", "chosen": "a", "rejected": "b"}, "preference"),
        ({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"}, "preference"),
        ({"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []}, "preference"),
        ({"prompt": "only a prompt"}, None),
        ({"text": "raw text"}, None),
        ({}, None),
    ],
)
def test_detect_format(record, expected):
    assert detect_format(record) == expected
    assert expected is None or expected in FORMATS


# -- chat -----------------------------------------------------------------------------------

def test_chat_view():
    example = view(
        {
            "messages": [
                {"role": "system", "content": "You classify tickets."},
                {"role": "user", "content": "My card has not arrived."},
                {"role": "assistant", "content": '{"intent": "card_arrival"}'},
            ]
        }
    )
    assert example.format == "chat"
    assert example.system == "You classify tickets."
    assert example.input_text == "My card has not arrived."
    assert example.target_text == '{"intent": "card_arrival"}'
    assert example.rejected_text is None
    assert not example.target_is_tool_call
    assert roles(example) == ["system", "user", "assistant"]
    assert example.messages[1] == {"role": "user", "content": "My card has not arrived."}
    assert example.location == "data/train.jsonl:7"


def test_chat_multi_turn_with_weights_targets_the_last_assistant_turn():
    example = view(
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello", "weight": 0},
                {"role": "user", "content": "Block my card"},
                {"role": "assistant", "content": "Done", "weight": 1},
            ]
        }
    )
    assert example.system is None
    assert example.target_text == "Done"
    assert example.input_text.split("\n") == ["Hi", "Hello", "Block my card"]


def test_chat_with_named_turns_and_content_parts():
    example = view(
        {
            "messages": [
                {"role": "user", "name": "alice", "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "part two"}]},
                {"role": "assistant", "content": "answer"},
            ]
        }
    )
    assert example.input_text == "part one\npart two"
    assert example.target_text == "answer"


TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_current_stock_price", "parameters": {"type": "object", "properties": {"company_name": {"type": "string"}}}},
    }
]


def _tool_call(call_id="call_1", name="get_current_stock_price", arguments='{"company_name": "Microsoft"}'):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_chat_ending_in_a_tool_call_has_the_call_as_target():
    example = view(
        {
            "messages": [
                {"role": "system", "content": "You answer stock questions."},
                {"role": "user", "content": "What does Microsoft trade at?"},
                {"role": "assistant", "tool_calls": [_tool_call()]},
            ],
            "tools": TOOLS,
        }
    )
    assert example.target_is_tool_call
    # the call is a canonical text: comparable (duplicates) and measurable (length)
    call = json.loads(example.target_text)
    assert call == [{"name": "get_current_stock_price", "arguments": '{"company_name": "Microsoft"}'}]


def test_chat_with_tool_results_targets_the_final_answer():
    example = view(
        {
            "messages": [
                {"role": "user", "content": "Price?"},
                {"role": "assistant", "content": None, "tool_calls": [_tool_call()]},
                {"role": "tool", "tool_call_id": "call_1", "name": "get_current_stock_price", "content": "412.3"},
                {"role": "assistant", "content": "Microsoft trades at 412.3."},
            ],
            "tools": TOOLS,
        }
    )
    assert not example.target_is_tool_call
    assert example.target_text == "Microsoft trades at 412.3."
    assert roles(example) == ["user", "assistant", "tool", "assistant"]
    assert "412.3" in example.input_text  # the tool result is part of what the model reads


# -- the other layouts ----------------------------------------------------------------------

def test_completion_view():
    example = view({"prompt": "Q: 2+2?\nA:", "completion": " 4"})
    assert example.format == "completion"
    assert (example.input_text, example.target_text, example.system) == ("Q: 2+2?\nA:", " 4", None)
    assert roles(example) == ["user", "assistant"]


@pytest.mark.parametrize(
    "record, expected_input",
    [
        ({"instruction": "Translate to French.", "input": "Hello", "output": "Bonjour"}, "Translate to French.\nHello"),
        ({"instruction": "Name a colour.", "input": "", "output": "Blue"}, "Name a colour."),
        ({"instruction": "Name a colour.", "output": "Blue"}, "Name a colour."),
    ],
)
def test_instruction_view(record, expected_input):
    example = view(record)
    assert example.format == "instruction"
    assert example.input_text == expected_input
    assert example.target_text == record["output"]


def test_sharegpt_view_maps_speakers_to_roles():
    example = view(
        {
            "id": "identity_0",
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "Who are you?"},
                {"from": "gpt", "value": "A model."},
                {"from": "human", "value": "Thanks"},
                {"from": "gpt", "value": "You're welcome."},
            ],
        }
    )
    assert example.format == "sharegpt"
    assert roles(example) == ["system", "user", "assistant", "user", "assistant"]
    assert example.system == "Be brief."
    assert example.target_text == "You're welcome."


def test_preference_prompt_chosen_rejected_strings():
    example = view({"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."})
    assert example.format == "preference"
    assert (example.input_text, example.target_text, example.rejected_text) == ("Say hi", "Hi!", "No.")


def test_preference_message_lists():
    example = view(
        {
            "prompt": [{"role": "user", "content": "Say hi"}],
            "chosen": [{"role": "assistant", "content": "Hi!"}],
            "rejected": [{"role": "assistant", "content": "No."}],
        }
    )
    assert (example.input_text, example.target_text, example.rejected_text) == ("Say hi", "Hi!", "No.")


def test_preference_transcripts_without_prompt():
    example = view(
        {
            "chosen": "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant: Sure.",
            "rejected": "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant: No.",
        }
    )
    assert roles(example) == ["user", "assistant", "user", "assistant"]
    assert example.target_text == "Sure."
    assert example.rejected_text == "No."
    assert example.input_text.split("\n") == ["Hi", "Hello", "Help me"]


def test_preference_openai_layout():
    example = view(
        {
            "input": {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Rate my poem"}], "tools": []},
            "preferred_output": [{"role": "assistant", "content": "It has a lovely rhythm."}],
            "non_preferred_output": [{"role": "assistant", "content": "Bad."}],
        }
    )
    assert example.format == "preference"
    assert example.system == "Be kind."
    assert example.input_text == "Rate my poem"
    assert example.target_text == "It has a lovely rhythm."
    assert example.rejected_text == "Bad."


# -- robustness: building the view never raises ------------------------------------------------

@pytest.mark.parametrize(
    "record, fmt",
    [
        ({"messages": "not a list"}, "chat"),
        ({"messages": [1, None, "x", {"role": 3, "content": {"a": 1}}]}, "chat"),
        ({"messages": [{"role": "assistant", "tool_calls": "nope"}]}, "chat"),
        ({"messages": [{"role": "assistant", "tool_calls": [1, {"function": None}]}]}, "chat"),
        ({"prompt": 1, "completion": None}, "completion"),
        ({"instruction": ["x"], "output": {"a": 1}}, "instruction"),
        ({"conversations": [{"from": None, "value": 3}, "x"]}, "sharegpt"),
        ({"conversations": "nope"}, "sharegpt"),
        ({"chosen": 1, "rejected": None}, "preference"),
        ({"input": "x", "preferred_output": "y", "non_preferred_output": None}, "preference"),
        ({"anything": True}, "unknown"),
        ({"messages": []}, "chat"),
    ],
)
def test_malformed_records_give_an_empty_view_not_an_exception(record, fmt):
    example = make_example("data/x.jsonl", 1, record, fmt)
    assert isinstance(example.input_text, str)
    assert isinstance(example.target_text, str)
    assert all(isinstance(turn.text, str) and isinstance(turn.role, str) for turn in example.turns)


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}],
        [{"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}],
        [{"role": "system", "content": " "}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}],
        [{"role": "user", "content": ""}, {"role": "assistant", "content": "A"}],
        [{"role": "user", "content": "U", "name": "n"}, {"role": "assistant", "content": "A"}],
        [{"role": "user", "content": "U"}, {"role": "assistant", "content": "A", "weight": 0}],
        [{"role": "assistant", "content": "A"}, {"role": "user", "content": "U"}],
        [{"role": "user", "content": "U"}, {"role": "user", "content": "A"}],
        [{"role": "system", "content": "S"}, {"role": "assistant", "content": "A"}, {"role": "assistant", "content": "B"}],
        [{"role": "user", "content": ["part"]}, {"role": "assistant", "content": "A"}],
        [{"role": "user", "content": "U"}, "not a message"],
    ],
)
@pytest.mark.parametrize("tools", [False, True])
def test_fast_chat_view_agrees_with_the_general_one(messages, tools):
    """The unrolled view of common shapes gives what the general loop gives."""
    from pytest_ftdata.formats import _common_chat, _plain_chat

    record = {"messages": messages, **({"tools": []} if tools else {})}
    fast = _common_chat("p", 1, record, messages)
    general = _plain_chat("p", 1, record, messages)
    if fast is None:
        return  # not a common shape: the general path alone decides
    assert general is not None
    view = lambda ex: (ex.system, ex.input_text, ex.target_text, ex.plain)  # noqa: E731
    assert view(fast) == view(general)
