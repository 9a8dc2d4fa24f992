"""What an answer teaches: a refusal, a clarifying question, an empty answer, a tool call, or an answer.

"A dataset should cover common cases, edge cases, refusal cases, ambiguous cases ...
For extraction, coverage means missing fields, messy phrasing, weird ordering, and
inputs that should produce an empty answer." Labels and metadata say what an example
is about; this says what its target *does*, so the coverage report can count
refusals per split the way it counts labels.

`behaviour_of(target, is_tool_call)` returns one of `BEHAVIOURS`, first match wins:

1. `tool-call`: the target is an assistant tool call.
2. `empty-answer`: the target says there is nothing: `{}`, `[]`, `null`, `""`, a JSON
   object whose every value is empty (`{"name": null, "email": ""}`), or a short
   "none" / "N/A" / "no results" (and the same in a few other languages).
3. `refusal`: the target declines in its first sentence, or right after a short one: "I can't help with
   that", "I'm sorry, but I cannot ...", "I won't ...", "I am unable to ..." (English,
   German, French, Spanish, Portuguese, Italian, Dutch, Chinese, Japanese).
4. `clarifying-question`: the target asks instead of answering: it is short (at most
   `CLARIFYING_CHARS`) and ends with a question mark, or it opens with a request for
   more detail ("Could you clarify ...", "Which account do you mean?").
5. `answer`: everything else.

Only the head of a target is looked at (`HEAD_CHARS`), so the cost does not grow with
its length; every pattern is a plain regular expression without nested repeats. This
is a heuristic, documented as one: it reads wording, not intent, so a refusal phrased
as an answer is counted as an answer.
"""

from __future__ import annotations

import re
import orjson

BEHAVIOURS = ("refusal", "clarifying-question", "empty-answer", "tool-call", "answer")

#: Characters of a target that the refusal and clarifying patterns read.
HEAD_CHARS = 300
#: A target ending with `?` counts as a clarifying question up to this length.
CLARIFYING_CHARS = 300
#: A JSON target longer than this is not parsed to decide whether it is empty.
EMPTY_JSON_CHARS = 4096

#: Whole targets (case-folded, end punctuation and quotes stripped) that say "nothing".
_EMPTY_TEXTS = frozenset(
    {
        "none", "n/a", "na", "null", "nil", "nothing", "empty", "-", "--", "unknown", '""', "''",
        "no results", "no result", "no results found", "no matches", "no match", "no match found", "not found",
        "not applicable", "no entities", "no answer", "nothing found",
        "keine", "kein", "nichts", "keine ergebnisse", "aucun", "aucune", "rien", "aucun résultat",
        "ninguno", "ninguna", "nada", "sin resultados", "nenhum", "nenhuma", "nenhum resultado",
        "nessuno", "niente", "nessun risultato", "geen", "niets", "geen resultaten", "无", "没有", "なし",
    }
)

#: A refusal, matched at the start of the target and of its next few sentences.
# -- refusals: the phrases, by the word they open with ---------------------------------------

_CANNOT = r"(?:can(?:no|['’])t|cannot|can\ not|won['’]?t|will\ not)"
_DECLINE = (
    rf"(?:{_CANNOT}|am\ unable|['’]m\ unable|am\ not\ able|['’]m\ not\ able|must\ decline|don['’]?t\ think\ i\ can)"
)
_VERB = (
    r"(?:help|assist|provide|do|share|give|comply|create|write|answer|support|generate|fulfil|fulfill|engage"
    r"|participate|offer|recommend|discuss|tell|disclose|reveal|produce|make|access|browse|process|complete)\b"
)
#: "..., but I can't": what follows an apology.
_BUT_I_CANNOT = rf",?\ (?:but\ )?(?:i|we)\ {_DECLINE}"
_FIRST_PERSON = (
    rf"\ {_CANNOT}\ {_VERB}"  # I can't help ...
    # I'm unable to help ... (a verb of the list: "I am unable to find any errors" answers)
    rf"|(?:['’]m|\ am|\ are|['’]re)\ (?:unable|not\ able|not\ allowed|not\ permitted)\ to\ {_VERB}"
    rf"|\ (?:must|have\ to)\ (?:decline|refuse)\b"  # I must decline
)
#: opener (the first word, case-folded) -> what a refusal that opens with it says next.
_REFUSAL_AFTER = {
    "i": rf"(?:['’]m|\ am)\ (?:very\ |so\ |really\ |truly\ )?sorry{_BUT_I_CANNOT}|\ apologi[sz]e{_BUT_I_CANNOT}|{_FIRST_PERSON}",
    "im": rf"\ (?:very\ |so\ |really\ |truly\ )?sorry{_BUT_I_CANNOT}|\ (?:unable|not\ able)\ to\ {_VERB}",
    "we": _FIRST_PERSON,
    "sorry": _BUT_I_CANNOT,
    "unfortunately": _BUT_I_CANNOT,
    "apologies": _BUT_I_CANNOT,
    "as": rf"\ an\ ai[^.]{{0,40}}?\ (?:i\ )?(?:can(?:no|['’])t|cannot|am\ unable|do\ not|don['’]?t)\b",
    "that": r"\ (?:is|would\ be)\ (?:not\ something\ i\ can|something\ i\ can(?:no|['’])t)\b",
    "this": r"\ (?:is|would\ be)\ (?:not\ something\ i\ can|something\ i\ can(?:no|['’])t)\b",
    # German, French, Spanish, Portuguese, Italian, Dutch
    "es": r"\ tut\ mir\ leid,?\ (?:aber\ )?ich\ kann\ (?:ihnen\ |dir\ )?(?:dabei\ |damit\ |das\ )?(?:leider\ )?nicht\b",
    "ich": r"\ kann\ (?:ihnen\ |dir\ )?(?:dabei\ |damit\ |das\ )?(?:leider\ )?nicht\ (?:helfen|weiterhelfen|beantworten|tun)",
    "désolé": r"e?,?\ (?:mais\ )?je\ ne\ (?:peux|pourrai)\ pas\b",
    "je": r"\ ne\ (?:peux|pourrai)\ pas\ (?:vous\ |t['’])?(?:aider|répondre|fournir|faire)",
    "lo": r"\ siento,?\ (?:pero\ )?no\ (?:puedo|podré)\b",
    "no": r"\ (?:puedo|podré)\ (?:ayudar|ayudarte|ayudarle|responder|proporcionar|hacer)",
    "desculpe": r",?\ (?:mas\ )?(?:eu\ )?não\ (?:posso|consigo)\b",
    "eu": r"\ não\ (?:posso|consigo)\ (?:ajudar|responder|fornecer|fazer)",
    "não": r"\ (?:posso|consigo)\ (?:ajudar|responder|fornecer|fazer)",
    "mi": r"\ dispiace,?\ (?:ma\ )?non\ (?:posso|sono\ in\ grado\ di)\b",
    "non": r"\ (?:posso|sono\ in\ grado\ di)\ (?:aiutar|rispondere|fornire|fare)",
    # Ik kan je (daar) niet (mee) helpen, ik kan u daarmee helaas niet helpen
    "ik": r"\ kan\ (?:je\ |u\ )?(?:daar\ |hier\ |daarmee\ |hiermee\ )?(?:helaas\ )?niet\ (?:mee\ |bij\ )?(?:helpen|beantwoorden)",
}
_REFUSAL_AFTER["désolée"] = _REFUSAL_AFTER["désolé"]
_REFUSAL_AFTER_OPENER = {word: re.compile(after, re.IGNORECASE | re.VERBOSE) for word, after in _REFUSAL_AFTER.items()}

#: The first word of a sentence, after at most three non-word characters (quotes, a dash).
_FIRST_WORD = re.compile(r"\W{0,3}(\w+)")
#: Where the next sentence of a target starts: `.`, `!` or `?` and a space, or a new line.
_SENTENCE_END = re.compile(r"[.!?\n]\s*")
#: A first sentence this short (a greeting, an apology) may be followed by the refusal.
SHORT_SENTENCE_CHARS = 80

#: Chinese and Japanese refusals, which carry no word boundaries.
_REFUSAL_CJK = re.compile(r"(?:抱歉|对不起|很抱歉)[，,]?\s*(?:我)?(?:无法|不能)|我(?:无法|不能)(?:帮助|提供|回答|协助)|申し訳(?:ありません|ございません)が|お答えできません|お手伝いできません")

#: A request for more detail, matched at the start of the target.
_CLARIFYING = re.compile(
    r"""(?ix)
    \W{0,3}
    (?:
        (?:could|can|would)\ you\ (?:please\ )?(?:clarify|specify|tell\ me|let\ me\ know|share|provide|confirm|give\ me|send|describe|explain\ what)\b
      | (?:do|did)\ you\ mean\b
      | (?:which|what)\ (?:one|kind|type|exactly|specifically|account|order|version|product|do\ you\ mean)\b
      | (?:i\ need|i['’]?d\ need|i\ would\ need)\ (?:a\ bit\ )?more\ (?:information|details|context)\b
      | to\ help\ (?:you\ )?(?:better|with\ that)?,?\ (?:could|can|would|may)\ (?:you|i\ ask)\b
      | (?:können|könnten)\ sie\ (?:bitte\ )?(?:genauer|präzisieren|mir\ sagen)
      | pourriez-vous\ (?:préciser|m'indiquer|clarifier)
      | (?:podría|puedes|podrías)\ (?:aclarar|especificar|indicar|decirme)
    )
    """
)


def is_empty_json(value: object) -> bool:
    """`{}`, `[]`, `null`, `""`, or an object or list of only such values.

    Walked with a stack, not recursion: orjson parses 1,024 levels of nesting, more
    than Python's recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        kind = type(item)
        if kind is str:
            if item.strip():
                return False
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        else:
            return False  # a number or a boolean says something
    return True


def is_empty_value(value: object) -> bool:
    """A value of a JSON answer's key that says "nothing": an empty JSON value
    (`is_empty_json`) or a placeholder string such as "N/A", "none" or "unknown"
    (`_EMPTY_TEXTS`). The extraction key table counts these as null or empty."""
    if type(value) is str:
        text = value.strip()
        return not text or (len(text) <= 40 and text.strip(" .!`").casefold() in _EMPTY_TEXTS)
    return is_empty_json(value)


def _is_empty_answer(text: str) -> bool:
    first = text[0]
    if first in "{[" and len(text) <= EMPTY_JSON_CHARS:
        try:
            return is_empty_json(orjson.loads(text))
        except orjson.JSONDecodeError:
            return False
    if len(text) > 40:
        return False
    return text.strip(" .!`").casefold() in _EMPTY_TEXTS


def _refuses_at(head: str, start: int) -> bool:
    opener = _FIRST_WORD.match(head, start)
    if opener is None:
        return False
    after = _REFUSAL_AFTER_OPENER.get(opener.group(1).casefold())
    return after is not None and after.match(head, opener.end()) is not None


def _is_refusal(head: str) -> bool:
    """A refusal at the start of `head`, or right after a short first sentence ("Thanks
    for asking. Unfortunately, I cannot ..."): the first word picks the one pattern
    (`_REFUSAL_AFTER`) that can follow it."""
    if _refuses_at(head, 0):
        return True
    end = _SENTENCE_END.search(head, 1, SHORT_SENTENCE_CHARS)
    while end is not None and end.group()[0] != "\n" and end.end() == end.start() + 1 and end.end() < len(head):
        end = _SENTENCE_END.search(head, end.end(), SHORT_SENTENCE_CHARS)  # `3.5`, `e.g`: not a sentence end
    if end is not None and _refuses_at(head, end.end()):
        return True
    return not head.isascii() and _REFUSAL_CJK.search(head) is not None


def behaviour_of(target: str, is_tool_call: bool = False) -> str:
    """The behaviour (one of `BEHAVIOURS`) a target teaches; see the module docstring."""
    if is_tool_call:
        return "tool-call"
    text = target.strip()
    if not text:
        return "empty-answer"
    if _is_empty_answer(text):
        return "empty-answer"
    head = text[:HEAD_CHARS]
    if _is_refusal(head):
        return "refusal"
    last = text[-1]
    if (last == "?" or last == "？") and len(text) <= CLARIFYING_CHARS:
        return "clarifying-question"
    if text.find("?", 0, CLARIFYING_CHARS * 2) >= 0 and _CLARIFYING.match(head):
        return "clarifying-question"
    return "answer"
