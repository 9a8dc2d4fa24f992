"""`format`: the examples of a file agree with each other on how answers look.

A model copies formatting exactly. One target in fifty with a stray trailing space,
a JSON answer with different keys, or a forgotten system prompt variant is learned
as a legitimate alternative. These rules find the odd ones out (and the oddities
every example shares) so the file teaches one interface.
"""

from __future__ import annotations

import re
import unicodedata
from array import array

import orjson

from ..findings import Finding, FindingList, example, rule
from ..formats import Example
from ..redact import display_repr
from ..schemas import SchemaUnusable, load_json_schema
from .base import FileFamily, FileContext
from .turns import scoped_texts, turn_label

MIXED_FORMATS = rule(
    code="FMT001", name="mixed-formats", family="format", severity="error",
    summary="A file mixes dataset formats.",
    why="""Most records of the file use one layout and these use another (a
    `prompt`/`completion` record among chat records, say). Trainers read a file with one
    layout, so the minority records are misread or rejected; and where both are read,
    the model learns two interfaces for one task ("train on the same interaction shape
    you expect to serve").""",
    fix="""Convert the minority records to the main layout, or move them to a file of their
    own.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I turn on two-factor sign-in?"}, {"role": "assistant", "content": "Open Settings > Security and choose Two-factor sign-in."}]}
        {"prompt": "How do I sign out on all devices?", "completion": "Open Settings > Security and choose Sign out everywhere."}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page; we e-mail you a link."}]}
        {"messages": [{"role": "user", "content": "How do I turn on two-factor sign-in?"}, {"role": "assistant", "content": "Open Settings > Security and choose Two-factor sign-in."}]}
        {"messages": [{"role": "user", "content": "How do I sign out on all devices?"}, {"role": "assistant", "content": "Open Settings > Security and choose Sign out everywhere."}]}
    """),
)
TARGET_NOT_JSON = rule(
    code="FMT002", name="target-not-json", family="format", severity="error",
    summary="A target is not valid JSON although `target_format = \"json\"`.",
    why="""The config says answers are JSON; this one does not parse (an unquoted value, a
    missing brace, prose around the object), so the model learns to emit broken JSON
    some of the time. "If the answer is JSON, validate it mechanically before
    training.\"""",
    fix="""Fix the answer so that it parses; build JSON targets with a JSON library rather
    than by hand.""",
    settings=("target_format",),
    bad=example(
        r"""
        {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": high}"}]}
        """,
        target_format="json",
    ),
    good=example(
        r"""
        {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": \"high\"}"}]}
        """,
        target_format="json",
    ),
)
_TICKET_ANSWER_SCHEMA = """
    {"type": "object", "required": ["category", "priority"], "properties": {"category": {"enum": ["billing", "technical", "account"]}, "priority": {"enum": ["low", "medium", "high"]}}}
"""
TARGET_SCHEMA = rule(
    code="FMT003", name="target-schema", family="format", severity="error",
    summary="A JSON target does not validate against `target_schema`.",
    why="""The answer parses but breaks the contract given by `target_schema` (a missing
    key, a value outside the enum, a wrong type). The model learns the broken variant as
    a legitimate answer, and the code that consumes its output fails on it. The message
    gives the JSON path.""",
    fix="""Fix the answer to match the schema (use a value the schema allows), or extend the
    schema if the new value is intended.""",
    settings=("target_schema",),
    bad=example(
        {
            "train.jsonl": r"""
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "Nobody can sign in since this morning!"}, {"role": "assistant", "content": "{\"category\": \"account\", \"priority\": \"urgent\"}"}]}
            """,
            "answer.schema.json": _TICKET_ANSWER_SCHEMA,
        },
        target_schema="data/answer.schema.json",
    ),
    good=example(
        {
            "train.jsonl": r"""
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "Nobody can sign in since this morning!"}, {"role": "assistant", "content": "{\"category\": \"account\", \"priority\": \"high\"}"}]}
            """,
            "answer.schema.json": _TICKET_ANSWER_SCHEMA,
        },
        target_schema="data/answer.schema.json",
    ),
)
TARGET_SHAPE = rule(
    code="FMT004", name="target-shape", family="format", severity="warning",
    summary="A JSON target has different keys, or keys in a different order, from most targets.",
    why="""Most JSON answers in the file share one sequence of top-level keys; this one has
    another. Key order matters too: the model learns the exact token sequence, so it
    learns to emit either shape, and code that expects one breaks on the other. Shapes
    used by more than 10% of the JSON targets are not reported.""",
    fix="""Write the targets from one template so they share keys and order. If both shapes
    are intended, document them with `target_schema`.""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": \"high\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "{\"category\": \"account\", \"priority\": \"low\"}"}]}
        {"messages": [{"role": "user", "content": "Please send me last year's invoices."}, {"role": "assistant", "content": "{\"priority\": \"low\", \"category\": \"billing\"}"}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": \"high\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "{\"category\": \"account\", \"priority\": \"low\"}"}]}
        {"messages": [{"role": "user", "content": "Please send me last year's invoices."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"low\"}"}]}
    """),
)
MOSTLY_JSON = rule(
    code="FMT005", name="mostly-json", family="format", severity="warning",
    summary="Most targets are JSON but this one is not.",
    why="""When most answers are JSON (at least half of them), a plain-text answer is
    usually an export or labelling mistake, and it teaches the model that prose is an
    acceptable answer some of the time. Not checked when `target_format` is set.""",
    fix="""Write the answer as JSON like the others. Set `target_format = "json"` to make
    this an error (FMT002), or `"text"` to silence it when plain-text answers are
    intended.""",
    settings=("target_format",),
    bad=example(r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": \"high\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "account, low"}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
        {"messages": [{"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "{\"category\": \"technical\", \"priority\": \"high\"}"}]}
        {"messages": [{"role": "user", "content": "How do I add a second admin?"}, {"role": "assistant", "content": "{\"category\": \"account\", \"priority\": \"low\"}"}]}
    """),
)
SYSTEM_PROMPT_VARIANTS = rule(
    code="FMT006", name="system-prompt-variants", family="format", severity="warning",
    summary="The file uses more than one system prompt.",
    why="""One finding for the file lists its distinct system prompts (counting "none" as
    one) with how many examples use each. The model conditions on the exact system
    prompt: behaviour learned under one prompt is weaker under another, and a stale
    prompt keeps teaching the behaviour it was written for.""",
    fix="""Train with the prompts you will serve: rewrite the examples to the current prompt,
    or keep several variants only when production really uses several.""",
    bad=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I rename a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Rename."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I archive a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Archive."}]}
        {"messages": [{"role": "system", "content": "You are AcmeBot, the helpful assistant of Acme Hosting."}, {"role": "user", "content": "Can I delete a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Delete."}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I rename a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Rename."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I archive a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Archive."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I delete a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Delete."}]}
    """),
)
RARE_SYSTEM_PROMPT = rule(
    code="FMT007", name="rare-system-prompt", family="format", severity="warning",
    summary="An example uses a rare system prompt variant.",
    why="""This example's system prompt (or its lack of one) is used by at most 10% of
    the file (or by one example, in a small file). Rare variants are usually stale
    prompts or export mistakes, and the model learns an old prompt's behaviour along
    with them.""",
    fix="""Rewrite the example to the main system prompt (add it, when the example has
    none), or delete the example if the prompt it was written for is retired.""",
    bad=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I rename a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Rename."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I archive a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Archive."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I move a project to another team?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Transfer."}]}
        {"messages": [{"role": "user", "content": "Can I delete a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Delete."}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I rename a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Rename."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I archive a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Archive."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I move a project to another team?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Transfer."}]}
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud. Be brief."}, {"role": "user", "content": "Can I delete a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Delete."}]}
    """),
)
TARGET_WHITESPACE = rule(
    code="FMT008", name="target-whitespace", family="format", severity="warning",
    summary="A target starts or ends with whitespace.",
    why="""Leading or trailing spaces and newlines in answers are learned and emitted, and
    code that compares or parses the answers trips over them. When every target shares
    it, or more than 20 targets and at least half of them do, one finding is given for
    the whole file (naming the first lines); otherwise each target is flagged at its
    line.""",
    fix="""Strip the targets (`text.strip()`) when you build the dataset, unless the model
    must emit the whitespace.""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "Do you offer annual billing?"}, {"role": "assistant", "content": "Yes: annual plans cost the price of ten months."}]}
        {"messages": [{"role": "user", "content": "Can I switch to annual billing mid-year?"}, {"role": "assistant", "content": "Yes: we credit the rest of the current month.\n\n"}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "Do you offer annual billing?"}, {"role": "assistant", "content": "Yes: annual plans cost the price of ten months."}]}
        {"messages": [{"role": "user", "content": "Can I switch to annual billing mid-year?"}, {"role": "assistant", "content": "Yes: we credit the rest of the current month."}]}
    """),
)
TARGET_LINE_ENDINGS = rule(
    code="FMT009", name="target-line-endings", family="format", severity="warning",
    summary="A target contains Windows (CRLF) or bare CR line endings.",
    why="""Windows (`\\r\\n`) and bare `\\r` line endings become different tokens from
    `\\n`: a model trained on a mix emits either, and answers that should be identical
    differ.""",
    fix="""Normalise the line endings of the targets to `\\n` (for example
    `text.replace("\\r\\n", "\\n").replace("\\r", "\\n")`).""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "How do I connect my calendar?"}, {"role": "assistant", "content": "1. Open Settings > Integrations.\r\n2. Choose Calendar.\r\n3. Sign in and allow access."}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "How do I connect my calendar?"}, {"role": "assistant", "content": "1. Open Settings > Integrations.\n2. Choose Calendar.\n3. Sign in and allow access."}]}
    """),
)
TARGET_SCHEMA_UNUSABLE = rule(
    code="FMT011", name="target-schema-unusable", family="format", severity="error",
    summary="The configured `target_schema` file cannot be used.",
    why="""`target_schema` names a file that is missing, not a regular file, not JSON or not a
    valid JSON Schema, or the schema cannot be used (a `$ref` that points nowhere, to a
    missing file, outside the schema's directory or to the network, a reference cycle,
    a `pattern` too slow to run), so no target (or no target after the one that showed
    it) was checked against it, and the answers' contract goes unchecked.""",
    fix="""Fix the path (relative to the config file that sets it) or the schema.""",
    settings=("target_schema",),
    bad=example(
        {
            "train.jsonl": r"""
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
            """,
            "answer.schema.json": """
                {"type": "object", "required": ["category", "priority"], "properties": {"category": {"$ref": "#/$defs/category"}}}
            """,
        },
        target_schema="data/answer.schema.json",
    ),
    good=example(
        {
            "train.jsonl": r"""
                {"messages": [{"role": "system", "content": "You classify support tickets."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "{\"category\": \"billing\", \"priority\": \"medium\"}"}]}
            """,
            "answer.schema.json": """
                {"type": "object", "required": ["category", "priority"], "properties": {"category": {"$ref": "#/$defs/category"}}, "$defs": {"category": {"enum": ["billing", "technical", "account"]}}}
            """,
        },
        target_schema="data/answer.schema.json",
    ),
)
SHARED_TARGET_SUFFIX = rule(
    code="FMT010", name="shared-target-suffix", family="format", severity="warning",
    summary="Every target ends with the same unusual suffix.",
    why="""All answers end with the same few characters (for example `!!!` or `</s>`), a
    typical export artifact: an end-of-sequence token written out as text, or a
    template's signature. The model will learn to append it. Checked on files of at
    least 10 targets that are all plain text.""",
    fix="""Remove the suffix from the targets unless your serving stack expects it.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Do you have a mobile app?"}, {"role": "assistant", "content": "Yes, for iOS and Android.</s>"}]}
        {"messages": [{"role": "user", "content": "Is there a dark mode?"}, {"role": "assistant", "content": "Yes: Settings > Appearance > Dark.</s>"}]}
        {"messages": [{"role": "user", "content": "Can I use it offline?"}, {"role": "assistant", "content": "The mobile app keeps your last 30 days offline.</s>"}]}
        {"messages": [{"role": "user", "content": "Which browsers are supported?"}, {"role": "assistant", "content": "The last two versions of Chrome, Firefox, Safari and Edge.</s>"}]}
        {"messages": [{"role": "user", "content": "Is there an API?"}, {"role": "assistant", "content": "Yes, a REST API on every paid plan.</s>"}]}
        {"messages": [{"role": "user", "content": "Can I import from a spreadsheet?"}, {"role": "assistant", "content": "Yes: choose Import and upload a CSV file.</s>"}]}
        {"messages": [{"role": "user", "content": "Do you support single sign-on?"}, {"role": "assistant", "content": "Yes, SAML and OIDC on the Business plan.</s>"}]}
        {"messages": [{"role": "user", "content": "Where are my files stored?"}, {"role": "assistant", "content": "In the region you chose at sign-up.</s>"}]}
        {"messages": [{"role": "user", "content": "Can I change the language?"}, {"role": "assistant", "content": "Yes: Settings > Language.</s>"}]}
        {"messages": [{"role": "user", "content": "Is my data backed up?"}, {"role": "assistant", "content": "Yes, every night, kept for 30 days.</s>"}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Do you have a mobile app?"}, {"role": "assistant", "content": "Yes, for iOS and Android."}]}
        {"messages": [{"role": "user", "content": "Is there a dark mode?"}, {"role": "assistant", "content": "Yes: Settings > Appearance > Dark."}]}
        {"messages": [{"role": "user", "content": "Can I use it offline?"}, {"role": "assistant", "content": "The mobile app keeps your last 30 days offline."}]}
        {"messages": [{"role": "user", "content": "Which browsers are supported?"}, {"role": "assistant", "content": "The last two versions of Chrome, Firefox, Safari and Edge."}]}
        {"messages": [{"role": "user", "content": "Is there an API?"}, {"role": "assistant", "content": "Yes, a REST API on every paid plan."}]}
        {"messages": [{"role": "user", "content": "Can I import from a spreadsheet?"}, {"role": "assistant", "content": "Yes: choose Import and upload a CSV file."}]}
        {"messages": [{"role": "user", "content": "Do you support single sign-on?"}, {"role": "assistant", "content": "Yes, SAML and OIDC on the Business plan."}]}
        {"messages": [{"role": "user", "content": "Where are my files stored?"}, {"role": "assistant", "content": "In the region you chose at sign-up."}]}
        {"messages": [{"role": "user", "content": "Can I change the language?"}, {"role": "assistant", "content": "Yes: Settings > Language."}]}
        {"messages": [{"role": "user", "content": "Is my data backed up?"}, {"role": "assistant", "content": "Yes, every night, kept for 30 days."}]}
    """),
)

BIDI_CONTROL = rule(
    code="FMT012", name="bidi-control", family="format", severity="error",
    summary="A turn contains a bidirectional override or isolate control character.",
    why="""Characters such as U+202E RIGHT-TO-LEFT OVERRIDE or U+2066 LEFT-TO-RIGHT ISOLATE
    change how the text around them is displayed without being visible themselves: a
    reviewer reads one thing while the model learns another ("Trojan Source"), and the
    model learns to emit them. The message names the character and where it is.""",
    fix="""Remove the character; right-to-left languages need none of these controls.""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "Is the attachment invoice_\u202efdp.exe from you?"}, {"role": "assistant", "content": "No. We only send invoices as PDF links to your dashboard; delete the attachment and do not open it."}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "Is the attachment invoice_exe.pdf from you?"}, {"role": "assistant", "content": "No. We only send invoices as PDF links to your dashboard; delete the attachment and do not open it."}]}
    """),
)
INVISIBLE_CHARACTER = rule(
    code="FMT013", name="invisible-character", family="format", severity="warning",
    summary="A turn contains an invisible character (zero-width space, word joiner, stray byte order mark).",
    why="""Invisible format characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF
    inside the text, invisible operators, tag characters) usually come from copying out
    of web pages or word processors. They split words into odd tokens and the model
    learns to emit them. The zero-width joiner and non-joiner (U+200D, U+200C), which
    emoji sequences and several scripts need, are not reported.""",
    fix="""Strip these characters from the text, keeping U+200D and U+200C where a script
    or an emoji sequence needs them.""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "How do I enable auto\u200brenewal?"}, {"role": "assistant", "content": "Open Billing > Plan and switch on Auto\u200brenew."}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "How do I enable auto-renewal?"}, {"role": "assistant", "content": "Open Billing > Plan and switch on Auto-renew."}]}
    """),
)

#: Bidirectional embedding, override and isolate controls (FMT012).
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: Invisible characters that are rarely meant (FMT013).
_INVISIBLE = "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"
_HIDDEN = re.compile(f"[{_BIDI}{_INVISIBLE}\U000e0000-\U000e007f]")

#: Distinct system prompts, and JSON target key shapes, told apart per file (bounded
#: memory: a file of a million distinct prompts is summarised, not remembered).
MAX_VARIANTS = 1000
#: The bucket of everything past `MAX_VARIANTS`.
_OTHER = ("(other variants)",)

#: A variant used by at most this share of a file (and not the most common) is rare.
RARE_SHARE = 0.10
#: Distinct target texts whose traits are remembered per file (bounded memory).
MAX_REMEMBERED_TARGETS = 20_000
#: Lines listed in `related` by a file-level finding that stands for many lines.
MAX_RELATED = 20
#: Fewer targets than this say nothing about a shared suffix.
MIN_TARGETS_FOR_SUFFIX = 10


def _keys_text(shape: tuple) -> str:
    """JSON keys of a target for a message (keys are data too: each redacted and cut)."""
    if shape is _OTHER:
        return "(one of many other key sets)"
    shown = ", ".join(display_repr(str(key), 30) for key in shape[:12])
    return f"[{shown}{', ...' if len(shape) > 12 else ''}]"


def _variant_text(text) -> str:
    if text is None:
        return "(none)"
    if text is _OTHER:
        return f"(more than {MAX_VARIANTS} other prompts)"
    return display_repr(text, 50)


def _rare_limit(total: int) -> float:
    return max(1.0, RARE_SHARE * total)


class FormatFamily(FileFamily):
    family = "format"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.findings = FindingList(self.path)
        self.count = 0
        self.lines_by_format: dict[str, array] = {}
        self.json_lines = 0
        self.non_json: array = array("I")
        self.shapes: dict[tuple, array] = {}
        self.traits: dict[str, tuple] = {}
        self.systems: dict[str | None, array] = {}
        self.leading_ws: array = array("I")
        self.trailing_ws: array = array("I")
        self.carriage_returns: array = array("I")
        self.suffix: str | None = None
        self.target_format = self.config.target_format
        self.target_validator = None
        if self.config.target_schema:
            try:
                self.target_validator = load_json_schema(self.config.resolve(self.config.target_schema))
            except SchemaUnusable as exc:
                self.findings.append(
                    TARGET_SCHEMA_UNUSABLE.at(self.path, None, f"target_schema is unusable: {exc}; no target was checked against it.")
                )

    def visit(self, example: Example) -> None:
        self.count += 1
        line = example.line
        lines = self.lines_by_format.get(example.format)
        if lines is None:
            lines = self.lines_by_format[example.format] = array("I")
        lines.append(line)

        system_lines = self.systems.get(example.system)
        if system_lines is None:
            key = example.system if len(self.systems) < MAX_VARIANTS else _OTHER
            system_lines = self.systems.get(key)
            if system_lines is None:
                system_lines = self.systems[key] = array("I")
        system_lines.append(line)

        if not (example.input_text.isascii() and example.target_text.isascii() and (example.system or "").isascii()):
            self._hidden_characters(example)
        elif not example.plain and not all(turn.text.isascii() for turn in example.turns):
            self._hidden_characters(example)

        target = example.target_text
        if not target or example.target_is_tool_call:
            return
        traits = self.traits.get(target)
        if traits is None:
            traits = self._traits(target)
            if len(self.traits) < MAX_REMEMBERED_TARGETS:
                self.traits[target] = traits
        leading, trailing, carriage_return, parsed, shape, problems = traits
        if leading:
            self.leading_ws.append(line)
        if trailing:
            self.trailing_ws.append(line)
        if carriage_return:
            self.carriage_returns.append(line)
        for found, message in problems:
            self.findings.append(found.at(self.path, line, message, excerpt=display_repr(target)))
        if parsed:
            self.json_lines += 1
            if shape is not None:
                shape_lines = self.shapes.get(shape)
                if shape_lines is None:
                    if len(self.shapes) >= MAX_VARIANTS:
                        shape = _OTHER
                    shape_lines = self.shapes.get(shape)
                    if shape_lines is None:
                        shape_lines = self.shapes[shape] = array("I")
                shape_lines.append(line)
        else:
            self.non_json.append(line)
            if self.suffix is None:
                self.suffix = target
            elif not target.endswith(self.suffix):
                self.suffix = _common_suffix(self.suffix, target)

    def _hidden_characters(self, example: Example) -> None:
        """FMT012/FMT013 at the first hidden character of each kind in the example (only
        examples with non-ASCII text get here: `isascii()` is O(1))."""
        reported: set[str] = set()
        for scoped in scoped_texts(example, None):
            if scoped.text.isascii():
                continue
            for match in _HIDDEN.finditer(scoped.text):
                char = match.group()
                found = BIDI_CONTROL if char in _BIDI else INVISIBLE_CHARACTER
                if found.code in reported:
                    continue
                reported.add(found.code)
                name = unicodedata.name(char, "an unnamed format character")
                where = turn_label(example, scoped.index, scoped.role)
                self.findings.append(
                    found.at(
                        self.path, example.line,
                        f"{where[0].upper()}{where[1:]} contains U+{ord(char):04X} {name} at character "
                        f"{match.start() + 1}; remove it (it is invisible, and the model would learn to emit it).",
                    )
                )
                if len(reported) == 2:
                    return

    def _traits(self, target: str) -> tuple:
        """What the rules need to know of one target text (remembered per distinct text:
        classification targets repeat, and parsing them once is enough)."""
        first = target[0]
        leading = first.isspace()
        if leading:
            first = target.lstrip()[:1]
        value = None
        parsed = False
        problems: list[tuple] = []
        if first == "{" or first == "[" or self.target_format == "json":
            try:
                value = orjson.loads(target)  # orjson ignores surrounding whitespace
                parsed = True
            except orjson.JSONDecodeError as exc:
                if self.target_format == "json":
                    problems.append((TARGET_NOT_JSON, f"Target is not valid JSON ({exc}); fix the answer so it parses."))
        if parsed and self.target_validator is not None:
            try:
                errors = self.target_validator.errors(value)
            except SchemaUnusable as exc:
                self.target_validator = None
                self.findings.append(
                    TARGET_SCHEMA_UNUSABLE.at(
                        self.path, None,
                        f"target_schema is unusable (it failed while validating a target): {exc}; the targets after "
                        "it were not checked against it.",
                    )
                )
                errors = []
            for text in errors:
                problems.append((TARGET_SCHEMA, f"Target fails target_schema {text}."))
        shape = tuple(value) if type(value) is dict else None
        return leading, target[-1].isspace(), "\r" in target, parsed, shape, tuple(problems)

    def finish(self) -> list[Finding]:
        add = self.findings.append
        self._finish_formats()
        self._finish_systems()
        targets_seen = self.json_lines + len(self.non_json)
        if self.target_format is None and self.json_lines and self.json_lines >= len(self.non_json) and self.non_json:
            for line in self.non_json:
                add(MOSTLY_JSON.at(self.path, line, f"Target is plain text while {self.json_lines} of {targets_seen} targets in the file are JSON; make it JSON or set target_format."))
        if self.shapes:
            dominant, dominant_lines = max(self.shapes.items(), key=lambda item: len(item[1]))
            total = sum(len(lines) for lines in self.shapes.values())
            for shape, lines in self.shapes.items():
                if shape is dominant or shape is _OTHER or len(lines) > _rare_limit(total):
                    continue
                for line in lines:
                    add(TARGET_SHAPE.at(self.path, line, f"Target JSON has keys {_keys_text(shape)} while {len(dominant_lines)} of {total} JSON targets have {_keys_text(dominant)}; align the keys or declare both in target_schema."))
        self._finish_whitespace()
        suffix = (self.suffix or "").lstrip()
        if (
            len(self.non_json) == targets_seen >= MIN_TARGETS_FOR_SUFFIX
            and len(suffix) >= 2
            and not suffix.strip().isalnum()
            and len(suffix.split()) <= 3
        ):
            add(SHARED_TARGET_SUFFIX.at(self.path, None, f"All {targets_seen} targets end with {display_repr(suffix, 30)}; the model will learn to append it. Remove it unless serving expects it."))
        return self.findings.finish()

    def _finish_formats(self) -> None:
        if len(self.lines_by_format) < 2:
            return
        ranked = sorted(self.lines_by_format.items(), key=lambda item: -len(item[1]))
        main_format, main_lines = ranked[0]
        for fmt, lines in ranked[1:]:
            for line in lines:
                self.findings.append(
                    MIXED_FORMATS.at(self.path, line, f"Record uses the `{fmt}` format while {len(main_lines)} of {self.count} records use `{main_format}`; convert it or move it to its own file.")
                )

    def _finish_systems(self) -> None:
        if len(self.systems) < 2:
            return
        ranked = sorted(self.systems.items(), key=lambda item: -len(item[1]))
        limit = _rare_limit(self.count)
        described = "; ".join(f"{_variant_text(text)} x{len(lines)}" for text, lines in ranked[:5])
        if len(ranked) > 5:
            described += f"; and {len(ranked) - 5} more"
        self.findings.append(
            SYSTEM_PROMPT_VARIANTS.at(self.path, None, f"File uses {len(ranked)} system prompt variants: {described}. Train with the prompts you serve.")
        )
        dominant_text, dominant_lines = ranked[0]
        for text, lines in ranked[1:]:
            if len(lines) > limit or text is _OTHER:
                continue
            what = "has no system prompt" if text is None else f"uses the system prompt {display_repr(text, 50)}"
            for line in lines:
                self.findings.append(
                    RARE_SYSTEM_PROMPT.at(self.path, line, f"Example {what}, shared by {len(lines)} of {self.count} examples; {len(dominant_lines)} use the main variant.")
                )

    def _finish_whitespace(self) -> None:
        targets = self.json_lines + len(self.non_json)
        for lines, what in ((self.leading_ws, "starts"), (self.trailing_ws, "ends")):
            if not lines:
                continue
            if len(lines) == targets and targets > 1:
                self.findings.append(
                    TARGET_WHITESPACE.at(self.path, None, f"All {targets} targets {what[:-1]} with whitespace; strip it unless the model must emit it.")
                )
                continue
            if len(lines) > MAX_RELATED and len(lines) * 2 >= targets:
                # A habit of the file rather than stray examples: one finding, not thousands.
                shown = ", ".join(str(line) for line in lines[:5])
                self.findings.append(
                    TARGET_WHITESPACE.at(
                        self.path, None,
                        f"{len(lines)} of {targets} targets {what[:-1]} with whitespace (lines {shown}, ...); "
                        "strip it unless the model must emit it.",
                        related=[(self.path, line) for line in lines[:MAX_RELATED]],
                    )
                )
                continue
            for line in lines:
                self.findings.append(TARGET_WHITESPACE.at(self.path, line, f"Target {what} with whitespace; strip it."))
        for line in self.carriage_returns:
            self.findings.append(TARGET_LINE_ENDINGS.at(self.path, line, "Target contains carriage returns (CRLF or CR); normalise line endings to \\n."))


def _common_suffix(a: str, b: str) -> str:
    size = 0
    limit = min(len(a), len(b))
    while size < limit and a[-1 - size] == b[-1 - size]:
        size += 1
    return a[len(a) - size :] if size else ""
