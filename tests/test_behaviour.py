"""`behaviour.behaviour_of`: what an answer teaches, as the coverage report counts it.

A user reads the `behaviour` row counts as "how many refusals does my data teach";
a refusal counted as an answer (or an enthusiastic answer counted as a refusal)
makes `[tool.ftdata.behaviour] min_share` pass or fail for the wrong reason.
"""

from __future__ import annotations

import time

import pytest

from pytest_ftdata.behaviour import BEHAVIOURS, HEAD_CHARS, behaviour_of, is_empty_json, is_empty_value

REFUSALS = [
    # English, in the shapes chat data writes them
    "I can't help with that.",
    "I can’t help with that.",  # typographic apostrophe
    "I cannot provide instructions for making weapons.",
    "I'm sorry, but I cannot provide that information.",
    "I am very sorry, but I can't share customer records.",
    "Sorry, I can't do that.",
    "Unfortunately, I cannot share account details.",
    "I won't write malware, even for a test.",
    "I am unable to assist with this request.",
    "I'm not able to help with hacking into accounts.",
    "We're not allowed to share customer data.",
    "I must decline this request.",
    "As an AI language model, I cannot browse the internet.",
    "That is not something I can help with.",
    "Thanks for asking. Unfortunately, I can't help with that.",
    "Hello! I'm sorry, but I can't assist with that request.",
    # German, French, Spanish, Portuguese, Italian, Dutch, Chinese, Japanese
    "Es tut mir leid, aber ich kann Ihnen dabei nicht helfen.",
    "Ich kann Ihnen dabei leider nicht helfen.",
    "Désolé, mais je ne peux pas vous aider.",
    "Je ne peux pas vous aider avec cela.",
    "Lo siento, pero no puedo ayudarte con eso.",
    "No puedo ayudarte con eso.",
    "Desculpe, mas não posso ajudar com isso.",
    "Mi dispiace, ma non posso aiutarti.",
    "Ik kan je daar niet mee helpen.",
    "Ik kan u daarmee helaas niet helpen.",
    "抱歉，我无法帮助你。",
    "申し訳ありませんが、お手伝いできません。",
]

#: Answers that open like a refusal and are not one.
NEAR_MISSES = [
    "I can't wait to help you plan the trip! First, pick the dates.",
    "I can't believe how easy this is: just restart the router.",
    "I won't lie, this recipe is great: mix the flour and eggs.",
    "I cannot stress enough how important backups are. Run them daily.",
    "I am unable to find any errors; your code works as written.",
    "Sorry for the delay! Your refund was sent today.",
    "I'm sorry to hear that. Restarting the app usually fixes it.",
    "No problem, here is the code you asked for.",
    "I'm not allowed to go out after ten, said the character in the story.",
    "Ich kann Ihnen gerne helfen: öffnen Sie die Einstellungen.",
    "Je peux vous aider : ouvrez les paramètres.",
]

CLARIFYING = [
    "Could you clarify which account you mean?",
    "Which order do you mean?",
    "What is your order number?",
    "Do you mean the desktop or the mobile app? Both have a reset option, but they differ in where it is.",
    "Could you tell me which version you are running? The fix depends on it, and older versions need an update first.",
    "I need more information to answer that. Which country are you shipping to?",
    "Können Sie bitte genauer beschreiben, welches Gerät Sie meinen?",
    "Pourriez-vous préciser votre numéro de commande ?",
]

EMPTY = ["{}", "[]", "null", '""', "", "   ", "None", "N/A", "No results.", "nothing found", "Keine", "Rien.",
         "ninguno", '{"name": null, "email": ""}', '{"entities": []}', '[{"name": null}]']

ANSWERS = ['{"name": "Ann Lee"}', "The answer is 42.", "Restart the router, then sign in again.",
           "Paris is the capital of France.", "none of the above options fit, so pick C"]


@pytest.mark.parametrize("text", REFUSALS)
def test_refusals_in_the_languages_data_uses(text):
    assert behaviour_of(text) == "refusal"


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_refusals(text):
    assert behaviour_of(text) != "refusal"


@pytest.mark.parametrize("text", CLARIFYING)
def test_clarifying_questions(text):
    assert behaviour_of(text) == "clarifying-question"


def test_a_long_answer_that_ends_with_a_question_is_an_answer():
    text = "Here is how to reset the password. " * 20 + "Does that help?"
    assert behaviour_of(text) == "answer"


@pytest.mark.parametrize("text", EMPTY)
def test_empty_answers(text):
    assert behaviour_of(text) == "empty-answer"


@pytest.mark.parametrize("text", ANSWERS)
def test_answers(text):
    assert behaviour_of(text) == "answer"


def test_a_tool_call_is_a_tool_call_whatever_its_text():
    assert behaviour_of("", True) == "tool-call"
    assert behaviour_of("I can't help with that.", True) == "tool-call"


def test_first_match_wins_in_the_documented_order():
    # a refusal that asks for something else is a refusal; a JSON answer holding a
    # question mark is an answer, not a question
    assert behaviour_of('{"question": "?"}') == "answer"
    assert behaviour_of("I'm sorry, but I can't do that. Could you ask something else?") == "refusal"
    assert BEHAVIOURS == ("refusal", "clarifying-question", "empty-answer", "tool-call", "answer")


def test_only_the_head_is_read():
    """A refusal far into a long answer is not the target's behaviour, and the cost does
    not grow with the target: a megabyte of hostile text is judged at once."""
    assert behaviour_of("Step one: open the app. " * 20 + "I can't help with that.") == "answer"
    hostile = "Sorry, " * 200_000 + "x"
    started = time.perf_counter()
    for text in (hostile, "{" * 1_000_000, "?" * 1_000_000, "I " + "am " * 300_000):
        assert behaviour_of(text) in BEHAVIOURS
    assert time.perf_counter() - started < 5  # generous: the point is "not minutes", see HEAD_CHARS
    assert HEAD_CHARS <= 1000


def test_empty_json_and_empty_values():
    assert is_empty_json({"a": None, "b": [], "c": {"d": ""}})
    assert is_empty_json({"a": 0}) is False and is_empty_json(False) is False
    # the key table also counts placeholders as "nothing here"
    for value in (None, "", "  ", [], {}, "N/A", "none", "Unknown", "-", "not found"):
        assert is_empty_value(value), value
    for value in (0, False, "Ann", "none of them", ["x"], {"a": 1}, "n" * 50):
        assert not is_empty_value(value), value


def test_deeply_nested_json_is_judged_without_recursion():
    """orjson reads 1,024 levels of nesting, deeper than Python's recursion limit: a
    hostile answer must be judged, not crash the subgroups check."""
    assert behaviour_of("[" * 1000 + "]" * 1000) == "empty-answer"
    assert behaviour_of("[" * 1000 + "1" + "]" * 1000) == "answer"
    assert is_empty_value({"a": [[[[[[None]]]]]] * 3})
