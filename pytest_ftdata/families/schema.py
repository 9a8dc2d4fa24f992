"""`schema`: every line is a readable record with the structure its format needs.

The structure of each format is declared once as pydantic TypedDict models and
validated in strict mode; the conversation rules pydantic cannot express (role
order, tool calls answered, a target at the end) are checked on the validated turns.
Unreadable lines reach this family from the reader, so a broken file fails its
`::schema` item rather than collection.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from ..findings import Finding, FindingList, example, rule
from ..formats import SHAREGPT_ROLES, Example
from ..io import ReadProblem
from ..redact import display, display_value
from ..schemas import SchemaUnusable, load_json_schema
from ..text import excerpt
from .base import FileFamily, FileContext

# -- rules --------------------------------------------------------------------------------

INVALID_JSON = rule(
    code="SCH001", name="invalid-json", family="schema", severity="error",
    summary="A line is not valid JSON.",
    why="""The line cannot be parsed as JSON: a syntax error (a missing comma or quote),
    data after the closing brace, or nesting too deep to read. A trainer rejects the
    file or drops the line, so the example is lost to training, and a writer that
    breaks one line usually breaks others.""",
    fix="""Fix the writer that produced the line (serialise every record with a JSON
    library, never by pasting strings together) and write the file again, or delete the
    line. The message names the column where parsing stopped.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Where can I download my invoice?"}, {"role": "assistant", "content": "Open Billing > History and choose Download next to the invoice."}]}
        {"messages": [{"role": "user", "content": "Can I pay by bank transfer?"} {"role": "assistant", "content": "Yes: choose Bank transfer at checkout."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Where can I download my invoice?"}, {"role": "assistant", "content": "Open Billing > History and choose Download next to the invoice."}]}
        {"messages": [{"role": "user", "content": "Can I pay by bank transfer?"}, {"role": "assistant", "content": "Yes: choose Bank transfer at checkout."}]}
    """),
)
INVALID_ENCODING = rule(
    code="SCH002", name="invalid-encoding", family="schema", severity="error",
    summary="A line is not valid UTF-8 text.",
    why="""The line holds bytes that are not UTF-8 (typically text saved as Latin-1 or
    Windows-1252), a NUL byte, or a lone UTF-16 surrogate escape (`\\ud83d` without its
    pair). Tokenizers and fine-tuning APIs reject such text, or replace the bytes with
    U+FFFD, and the model then learns the replacement character as part of the text.""",
    fix="""Re-encode the source as UTF-8 (for example `iconv -f WINDOWS-1252 -t UTF-8`),
    strip NUL and other control bytes, and replace a broken surrogate escape with the
    character it was meant to be. The message says which it is and, for a bad byte,
    where it is.""",
    bad=example(
        b'{"messages": [{"role": "user", "content": "O\xc3\xb9 est ma facture ?"}, '
        b'{"role": "assistant", "content": "Dans Facturation > Historique."}]}\n'
        b'{"messages": [{"role": "user", "content": "Ma facture de mars est erron\xe9e."}, '
        b'{"role": "assistant", "content": "Je corrige la facture et vous envoie la version r\xe9vis\xe9e."}]}\n'
    ),
    good=example("""
        {"messages": [{"role": "user", "content": "Où est ma facture ?"}, {"role": "assistant", "content": "Dans Facturation > Historique."}]}
        {"messages": [{"role": "user", "content": "Ma facture de mars est erronée."}, {"role": "assistant", "content": "Je corrige la facture et vous envoie la version révisée."}]}
    """),
)
NON_STANDARD_NUMBER = rule(
    code="SCH003", name="non-standard-number", family="schema", severity="error",
    summary="A line uses NaN or Infinity, which JSON does not allow, or a number too large to read.",
    why="""JSON has no NaN or Infinity, but Python's `json` module writes them by default
    (a missing score becomes `NaN`). Strict readers, and fine-tuning APIs, refuse the
    line, so the example is dropped or the whole upload fails. A number past a 64-bit
    float (`1e999999`) or of thousands of digits fares the same: one parser reads it as
    infinity, another refuses it, a third keeps its first 17 digits.""",
    fix="""Replace them with `null` or a number, and dump with `json.dumps(record,
    allow_nan=False)` so that the writer fails instead of writing them.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Can I change the delivery address?"}, {"role": "assistant", "content": "Yes, until the order ships: open the order and choose Edit address."}], "metadata": {"csat": 4.5}}
        {"messages": [{"role": "user", "content": "My order arrived damaged."}, {"role": "assistant", "content": "Sorry about that: I have sent a replacement, it ships today."}], "metadata": {"csat": NaN}}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Can I change the delivery address?"}, {"role": "assistant", "content": "Yes, until the order ships: open the order and choose Edit address."}], "metadata": {"csat": 4.5}}
        {"messages": [{"role": "user", "content": "My order arrived damaged."}, {"role": "assistant", "content": "Sorry about that: I have sent a replacement, it ships today."}], "metadata": {"csat": null}}
    """),
)
NOT_AN_OBJECT = rule(
    code="SCH004", name="not-an-object", family="schema", severity="error",
    summary="A line is JSON but not an object.",
    why="""Each line of a fine-tuning file must be one JSON object (one example) with the
    keys of its format. A bare array, string or number is not an example: trainers
    reject the file or skip the line, and whatever it was meant to teach is lost.""",
    fix="""Wrap the value in an object with the keys of your format (for chat,
    `{"messages": [...]}` with a user and an assistant turn), or delete the line.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "How do I change my plan?"}, {"role": "assistant", "content": "Go to Billing > Plan and choose Change plan."}]}
        ["How do I close my account?", "Go to Settings > Account and choose Close account."]
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "How do I change my plan?"}, {"role": "assistant", "content": "Go to Billing > Plan and choose Change plan."}]}
        {"messages": [{"role": "user", "content": "How do I close my account?"}, {"role": "assistant", "content": "Go to Settings > Account and choose Close account."}]}
    """),
)
JSON_ARRAY_FILE = rule(
    code="SCH005", name="json-array-file", family="schema", severity="error",
    summary="The file is one JSON array instead of JSON Lines.",
    why="""The file holds a single JSON array (often pretty-printed) where one object per
    line is expected. A JSON Lines reader finds no example in it, or one broken example
    per line, so nothing of it is trained on.""",
    fix="""Convert it to one object per line with `jq -c '.[]' data.json > data.jsonl`.""",
    bad=example("""
        [
          {"messages": [{"role": "user", "content": "Is there a student discount?"}, {"role": "assistant", "content": "Yes: 30% off with a valid student e-mail address."}]},
          {"messages": [{"role": "user", "content": "Can I pause my subscription?"}, {"role": "assistant", "content": "Yes, for up to three months under Billing > Plan."}]}
        ]
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Is there a student discount?"}, {"role": "assistant", "content": "Yes: 30% off with a valid student e-mail address."}]}
        {"messages": [{"role": "user", "content": "Can I pause my subscription?"}, {"role": "assistant", "content": "Yes, for up to three months under Billing > Plan."}]}
    """),
)
UNREADABLE_FILE = rule(
    code="SCH006", name="unreadable-file", family="schema", severity="error",
    summary="The file cannot be read.",
    why="""The path cannot be opened (a directory named `*.jsonl`, a symlink loop, no
    permission, a pipe or device instead of a regular file), is not gzip data despite
    its `.gz` name, or its compressed stream is damaged, cut off (a partial download)
    or expands far more than real data does. A trainer given the same file fails, or
    trains on part of it. Lines read before the failure are still checked.""",
    fix="""Check that the path is a readable regular file. Compress a `.gz` file with gzip
    or drop the suffix; re-create a damaged archive from its source file. The message
    says which of these it is.""",
    bad=example({"train.jsonl.gz": """
        {"messages": [{"role": "user", "content": "Do you ship to Canada?"}, {"role": "assistant", "content": "Yes, in 5 to 8 business days."}]}
    """}),
    good=example({"train.jsonl": """
        {"messages": [{"role": "user", "content": "Do you ship to Canada?"}, {"role": "assistant", "content": "Yes, in 5 to 8 business days."}]}
    """}),
)
EMPTY_FILE = rule(
    code="SCH007", name="empty-file", family="schema", severity="error",
    summary="The file holds no examples.",
    why="""The file is empty, or none of its lines is a JSON record. An empty split
    silently trains or evaluates on nothing: an empty validation file leaves training
    unmeasured, and usually means the export that should have filled it failed.""",
    fix="""Fill the file (run the export that should have written it again) or remove it.""",
    bad=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I add a team member?"}, {"role": "assistant", "content": "Open Settings > Team and choose Invite."}]}
        """,
        "val.jsonl": b"",
    }),
    good=example({
        "train.jsonl": """
            {"messages": [{"role": "user", "content": "How do I add a team member?"}, {"role": "assistant", "content": "Open Settings > Team and choose Invite."}]}
        """,
        "val.jsonl": """
            {"messages": [{"role": "user", "content": "How do I remove a team member?"}, {"role": "assistant", "content": "Open Settings > Team, select the member and choose Remove."}]}
        """,
    }),
)
BYTE_ORDER_MARK = rule(
    code="SCH008", name="byte-order-mark", family="schema", severity="warning",
    summary="The file starts with a UTF-8 byte order mark.",
    why="""The file starts with the bytes EF BB BF, which some Windows editors and
    exports add to UTF-8 text. Some JSON Lines readers fail on the first line or glue
    the mark to its first key, so the first example is lost or misread. The line is
    still checked here, without the mark.""",
    fix="""Save the file as UTF-8 without BOM (in Python, write with `encoding="utf-8"`,
    not `"utf-8-sig"`).""",
    bad=example(
        b'\xef\xbb\xbf{"messages": [{"role": "user", "content": "Can I get a receipt?"}, '
        b'{"role": "assistant", "content": "Yes: every payment has one under Billing > History."}]}\n'
    ),
    good=example("""
        {"messages": [{"role": "user", "content": "Can I get a receipt?"}, {"role": "assistant", "content": "Yes: every payment has one under Billing > History."}]}
    """),
)
BLANK_LINE = rule(
    code="SCH009", name="blank-line", family="schema", severity="warning",
    summary="A line is blank.",
    why="""Blank lines are skipped by lenient readers and rejected by strict ones, so the
    same file trains on one platform and fails on another. They usually come from
    concatenating files or from a writer that adds an extra newline. A run of blank
    lines is reported once, at its first line.""",
    fix="""Remove the blank lines, for example with `grep -v '^[[:space:]]*$' train.jsonl >
    fixed.jsonl`.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "What are your support hours?"}, {"role": "assistant", "content": "We answer chats from 8:00 to 20:00 CET, Monday to Saturday."}]}

        {"messages": [{"role": "user", "content": "Do you have phone support?"}, {"role": "assistant", "content": "Phone support is included in the Business plan."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "What are your support hours?"}, {"role": "assistant", "content": "We answer chats from 8:00 to 20:00 CET, Monday to Saturday."}]}
        {"messages": [{"role": "user", "content": "Do you have phone support?"}, {"role": "assistant", "content": "Phone support is included in the Business plan."}]}
    """),
)
LINE_TOO_LONG = rule(
    code="SCH010", name="line-too-long", family="schema", severity="error",
    summary="A line is longer than `max_line_bytes`.",
    why="""The line holds more bytes than `max_line_bytes` (default 64 MiB). It was
    measured and skipped without being loaded, so one runaway line (a pasted log, a
    decompression accident) cannot exhaust memory. No fine-tuning job accepts an
    example of that size.""",
    fix="""Remove the line, or cut it down to what the example needs (the log line that
    matters, not the whole log). Raise `max_line_bytes` only if a line that long is
    really meant.""",
    settings=("max_line_bytes",),
    bad=example(
        '{"messages": [{"role": "user", "content": "How do I export my data?"}, '
        '{"role": "assistant", "content": "Open Settings > Export and choose Start export."}]}\n'
        '{"messages": [{"role": "user", "content": "The export keeps failing, here is the log: '
        + "2024-05-02T10:14:07Z WARN export-worker retrying batch 17 after a timeout\\n" * 16
        + '2024-05-02T10:15:12Z ERROR export-worker gave up: disk quota exceeded"}, '
        '{"role": "assistant", "content": "The export stops because your storage quota is full. Delete old exports '
        'under Settings > Storage, or upgrade the plan, and run it again."}]}',
        max_line_bytes=1024,
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "How do I export my data?"}, {"role": "assistant", "content": "Open Settings > Export and choose Start export."}]}
        {"messages": [{"role": "user", "content": "The export keeps failing, here is the log: 2024-05-02T10:15:12Z ERROR export-worker gave up: disk quota exceeded"}, {"role": "assistant", "content": "The export stops because your storage quota is full. Delete old exports under Settings > Storage, or upgrade the plan, and run it again."}]}
        """,
        max_line_bytes=1024,
    ),
)
FILE_CHANGED = rule(
    code="SCH011", name="file-changed-during-read", family="schema", severity="warning",
    summary="The file was modified while it was being checked.",
    why="""The file's size, modification times or identity differed after the read from
    before it (or fewer bytes were read than it holds), so the findings may describe a
    mix of the old and the new file. Nothing was stored in the result cache for it.""",
    fix="""Run again once whatever writes the file (an export, a sync, an editor) has
    finished.""",
)
UNDECODABLE_NAME = rule(
    code="SCH013", name="file-name-not-utf8", family="schema", severity="warning",
    summary="A data file's name is not valid UTF-8, or holds control characters.",
    why="""The name holds bytes that are not UTF-8 (often a name written on another system
    in Latin-1), or characters no log may print as they are: a newline (in a CI log, a
    line that starts with `::` is a workflow command), an escape sequence, a
    bidirectional override. It is shown with those escaped (`bad\\xff.jsonl`,
    `x\\x0a.jsonl`), which is not a name you can pass back on the command line, and other
    tools mangle or refuse such names.""",
    fix="""Rename the file to a plain UTF-8 name (by hand, or with `convmv -f latin1 -t utf8`).""",
)
NOT_A_RECORD_ARRAY = rule(
    code="SCH014", name="not-a-record-array", family="schema", severity="error",
    summary="A `.json` file holds neither an array of records nor JSON Lines.",
    why="""A `.json` data file is read as one JSON array of records (the layout Alpaca and
    FastChat publish) or, when it is laid out that way, as JSON Lines. This one holds a
    single object (one record, or a table of splits or of columns) or a single value, so
    no example could be read from it.""",
    fix="""Write the records as a JSON array (`[{...}, {...}]`) or as JSON Lines, or move the
    file out of the dataset directory if it is not data (a JSON Schema is named
    `*.schema.json`, which is never read as data).""",
    bad=example({"train.json": """
        {"instruction": "Name a primary colour.", "output": "Red."}
    """}),
    good=example({"train.json": """
        [{"instruction": "Name a primary colour.", "output": "Red."}]
    """}),
)
READER_UNAVAILABLE = rule(
    code="SCH015", name="reader-unavailable", family="schema", severity="error",
    summary="A data file needs an optional package that is not installed.",
    why="""`.parquet` files are read with pyarrow, an optional extra. Without it the file is
    not checked at all, and saying so is the only honest result.""",
    fix="""Install the extra: `pip install 'pytest-ftdata[parquet]'`.""",
)
DUPLICATE_KEY = rule(
    code="SCH012", name="duplicate-key", family="schema", severity="error",
    summary="A JSON object has the same key twice.",
    why="""JSON parsers disagree on which value of a repeated key wins (most keep the last,
    some the first, some refuse the record), so the example a trainer sees depends on
    its parser, and a reviewer may read the other value. A repeated key usually comes
    from an edit that appended a corrected value instead of replacing the old one. The
    message names the key and the line.""",
    fix="""Keep one value for the key: decide which one is right and delete the other.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "When does my trial end?"}, {"role": "assistant", "content": "Your trial ends after 7 days.", "content": "Your trial ends after 14 days; we remind you 3 days before."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "When does my trial end?"}, {"role": "assistant", "content": "Your trial ends after 14 days; we remind you 3 days before."}]}
    """),
)
UNKNOWN_FORMAT = rule(
    code="SCH101", name="unknown-format", family="schema", severity="error",
    summary="A record matches no known dataset format.",
    why="""The record has none of the keys of the supported layouts (`messages`,
    `prompt`/`completion`, `instruction`/`output`, `question`/`answer`, `conversations`,
    `chosen`/`rejected`, `preferred_output`), so neither a trainer nor the other checks
    can tell its input from its answer.""",
    fix="""Rename the keys to those of one layout (a `query`/`response` pair becomes a
    chat record with a user and an assistant turn). Setting `format` in the config makes
    the schema check read such records as that format instead, and report the keys they
    lack.""",
    settings=("format",),
    bad=example("""
        {"query": "How do I export my contacts?", "response": "Open Contacts, choose Export and pick CSV."}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "How do I export my contacts?"}, {"role": "assistant", "content": "Open Contacts, choose Export and pick CSV."}]}
    """),
)
WRONG_FORMAT = rule(
    code="SCH102", name="wrong-format", family="schema", severity="error",
    summary="A record does not use the configured format.",
    why="""`format` is set in the config, and this record has the keys of another layout
    (a `prompt`/`completion` record in a chat file, say). A trainer set up for one
    layout misreads or rejects it. The record is then checked as the configured format,
    so structure findings may follow.""",
    fix="""Convert the record to the configured format, or fix the `format` setting if the
    file really uses the other layout.""",
    settings=("format",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Can I change my username?"}, {"role": "assistant", "content": "Yes, once every 30 days under Settings > Profile."}]}
        {"prompt": "Can I change my e-mail address?", "completion": "Yes, under Settings > Profile; we send a confirmation link to the new address."}
        """,
        format="chat",
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Can I change my username?"}, {"role": "assistant", "content": "Yes, once every 30 days under Settings > Profile."}]}
        {"messages": [{"role": "user", "content": "Can I change my e-mail address?"}, {"role": "assistant", "content": "Yes, under Settings > Profile; we send a confirmation link to the new address."}]}
        """,
        format="chat",
    ),
)
INVALID_STRUCTURE = rule(
    code="SCH103", name="invalid-structure", family="schema", severity="error",
    summary="A record lacks a required key or has a value of the wrong type.",
    why="""The record does not match the structure of its format: a required key is
    missing, a role is unknown (`agent`, `customer`), or a value has the wrong type (a
    number where text is expected). A trainer rejects the record or reads it otherwise
    than meant. The message gives the path of the offending value inside the record
    (`messages[1].role`); at most three errors are listed per record.""",
    fix="""Fix the record at the path the message gives: add the missing key, use one of the
    roles `system`, `user`, `assistant` and `tool`, or write the value with the expected
    type. The exporter that wrote the record usually needs the same fix.""",
    settings=("format",),
    bad=example("""
        {"messages": [{"role": "customer", "content": "My discount code does not work."}, {"role": "agent", "content": "Codes expire after 30 days; here is a new one: SPRING-24."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "My discount code does not work."}, {"role": "assistant", "content": "Codes expire after 30 days; here is a new one: SPRING-24."}]}
    """),
)
EMPTY_CONTENT = rule(
    code="SCH104", name="empty-content", family="schema", severity="error",
    summary="A turn has empty content.",
    why="""A message whose content is empty or whitespace teaches nothing, and an empty
    target teaches the model to answer with nothing. Empty turns usually come from an
    export that lost a message, or from a placeholder never filled in. For completion and
    instruction records the input (`prompt`, `instruction`) and the target are checked;
    for preference pairs, the chosen answer.""",
    fix="""Write the missing text, or remove the turn (for an empty target, the example).""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Why was my card declined?"}, {"role": "assistant", "content": ""}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Why was my card declined?"}, {"role": "assistant", "content": "Banks decline a payment when the card has expired or the address does not match; check both under Billing > Payment method, or try another card."}]}
    """),
)
NO_TARGET = rule(
    code="SCH105", name="no-target", family="schema", severity="error",
    summary="An example has no assistant turn to learn from.",
    why="""Fine-tuning learns from assistant turns: the loss is computed on them. An example
    without one contributes no training signal, and some trainers reject it.""",
    fix="""Add the answer the model should learn as the final assistant turn, or remove the
    example.""",
    bad=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud."}, {"role": "user", "content": "How much storage does the Team plan include?"}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud."}, {"role": "user", "content": "How much storage does the Team plan include?"}, {"role": "assistant", "content": "The Team plan includes 1 TB shared by all members."}]}
    """),
)
LAST_TURN_NOT_TARGET = rule(
    code="SCH106", name="last-turn-not-target", family="schema", severity="error",
    summary="An example ends on a turn other than the assistant's.",
    why="""The final turn is the behaviour the example demonstrates. A conversation ending
    on a user or tool turn is a partial transcript (a chat log cut off, say): what the
    model should do next is missing.""",
    fix="""Cut the conversation after the last assistant answer, or add the missing answer.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Can I get a refund for last month?"}, {"role": "assistant", "content": "Yes: refunds are possible within 30 days. Shall I start one?"}, {"role": "user", "content": "Yes please."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Can I get a refund for last month?"}, {"role": "assistant", "content": "Yes: refunds are possible within 30 days. Shall I start one?"}, {"role": "user", "content": "Yes please."}, {"role": "assistant", "content": "Done: the refund is on its way and reaches your card in 5 to 10 days."}]}
    """),
)
MISPLACED_SYSTEM = rule(
    code="SCH107", name="misplaced-system", family="schema", severity="error",
    summary="A system turn appears after the first turn.",
    why="""System prompts belong at the start of the conversation, as they are served. A
    system turn later on is usually an instruction a product flow injected mid-chat; the
    model learns to depend on an instruction in a place where serving never puts it.""",
    fix="""Move the system turn to the start (merge it with the existing system prompt), or
    drop it if it only patched a product flow ("Leave out prompts that only exist to
    patch a bad product flow").""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Is my data stored in the EU?"}, {"role": "system", "content": "Answer data-residency questions from the EU hosting policy."}, {"role": "assistant", "content": "Yes: accounts created in the EU are stored in Frankfurt."}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "Answer data-residency questions from the EU hosting policy."}, {"role": "user", "content": "Is my data stored in the EU?"}, {"role": "assistant", "content": "Yes: accounts created in the EU are stored in Frankfurt."}]}
    """),
)
REPEATED_ROLE = rule(
    code="SCH108", name="repeated-role", family="schema", severity="error",
    summary="Two user turns or two assistant turns follow each other.",
    why="""Consecutive turns of the same speaker usually mean a turn was lost in export, or
    that two messages should be merged; either way the model learns a conversation shape
    it will not be served. An assistant turn right after an assistant turn with
    `tool_calls` is not reported.""",
    fix="""Merge the two turns into one, or restore the missing turn between them.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "My invoice shows the wrong company name."}, {"role": "user", "content": "It should say Northwind Traders Ltd."}, {"role": "assistant", "content": "I have updated the billing name; the corrected invoice is in Billing > History."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "My invoice shows the wrong company name. It should say Northwind Traders Ltd."}, {"role": "assistant", "content": "I have updated the billing name; the corrected invoice is in Billing > History."}]}
    """),
)
ORPHAN_TOOL_TURN = rule(
    code="SCH109", name="orphan-tool-turn", family="schema", severity="error",
    summary="A tool turn does not answer a tool call.",
    why="""A `tool` message must follow an assistant message with `tool_calls` (or another
    tool message), and its `tool_call_id` must name one of those calls. A result that
    answers no call teaches the model that tool output arrives unasked, and trainers that
    pair calls with results reject the example.""",
    fix="""Add the assistant turn with the `tool_calls` that asked for the result, set
    `tool_call_id` to the id of its call, or remove the tool turn.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Where is order A-1042?"}, {"role": "tool", "tool_call_id": "call_1", "content": "{\\"status\\": \\"shipped\\", \\"eta\\": \\"2024-05-06\\"}"}, {"role": "assistant", "content": "Order A-1042 has shipped and should arrive on 6 May."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Where is order A-1042?"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_order_status", "arguments": "{\\"order_id\\": \\"A-1042\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "{\\"status\\": \\"shipped\\", \\"eta\\": \\"2024-05-06\\"}"}, {"role": "assistant", "content": "Order A-1042 has shipped and should arrive on 6 May."}]}
    """),
)
INVALID_TOOL_ARGUMENTS = rule(
    code="SCH110", name="invalid-tool-arguments", family="schema", severity="error",
    summary="A tool call's arguments are not a JSON object.",
    why="""`function.arguments` must be a string holding a JSON object; the model learns to
    emit exactly this string, so broken arguments in training become broken tool calls
    in production.""",
    fix="""Write the arguments with a JSON library (`json.dumps({"order_id": "A-1042"})`)
    so that they are one JSON object, with quoted keys.""",
    bad=example("""
        {"messages": [{"role": "user", "content": "Cancel order A-1042."}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "cancel_order", "arguments": "{order_id: A-1042}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "cancelled"}, {"role": "assistant", "content": "Order A-1042 is cancelled; you will not be charged."}]}
    """),
    good=example("""
        {"messages": [{"role": "user", "content": "Cancel order A-1042."}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "cancel_order", "arguments": "{\\"order_id\\": \\"A-1042\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "cancelled"}, {"role": "assistant", "content": "Order A-1042 is cancelled; you will not be charged."}]}
    """),
)
UNKNOWN_TOOL = rule(
    code="SCH111", name="unknown-tool", family="schema", severity="error",
    summary="A tool call names a function missing from `tools`.",
    why="""The example calls a function its `tools` list does not declare, teaching the
    model to call tools it will not have; usually a tool was renamed and the examples
    were not updated. Examples without a `tools` list are not checked.""",
    fix="""Call the function by its declared name, or add the function to the example's
    `tools`.""",
    bad=example("""
        {"tools": [{"type": "function", "function": {"name": "get_order_status", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}}], "messages": [{"role": "user", "content": "Where is order A-1042?"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\\"order_id\\": \\"A-1042\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}, {"role": "assistant", "content": "Order A-1042 has shipped."}]}
    """),
    good=example("""
        {"tools": [{"type": "function", "function": {"name": "get_order_status", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}}], "messages": [{"role": "user", "content": "Where is order A-1042?"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_order_status", "arguments": "{\\"order_id\\": \\"A-1042\\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}, {"role": "assistant", "content": "Order A-1042 has shipped."}]}
    """),
)
NO_USER_TURN = rule(
    code="SCH112", name="no-user-turn", family="schema", severity="error",
    summary="An example has no user turn before its target.",
    why="""Without user input the example teaches the model to speak unprompted; at
    inference time it will always receive user input ("train on the same interaction
    shape you expect to serve").""",
    fix="""Add the user turn the answer responds to, or remove the example.""",
    bad=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud."}, {"role": "assistant", "content": "Our status page is status.acme.example; incidents are posted there first."}]}
    """),
    good=example("""
        {"messages": [{"role": "system", "content": "You are the support assistant of Acme Cloud."}, {"role": "user", "content": "Is there an outage right now?"}, {"role": "assistant", "content": "Our status page is status.acme.example; incidents are posted there first."}]}
    """),
)
RECORD_SCHEMA = rule(
    code="SCH113", name="record-schema", family="schema", severity="error",
    summary="A record does not validate against `record_schema`.",
    why="""The JSON Schema given as `record_schema` rejects the record: a field the
    project's contract requires is missing, or a value is outside what it allows. Use
    it for what the format does not say (metadata, ids, allowed values). The message
    gives the JSON path of the failing value and the schema's reason (at most three per
    record).""",
    fix="""Fix the record so that it validates, or the schema if the record is right.""",
    settings=("record_schema",),
    bad=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "Can I move my booking to Friday?"}, {"role": "assistant", "content": "Yes: I have moved it to Friday at 10:00."}], "metadata": {"ticket_id": "T-2291", "channel": "chat"}}
                {"messages": [{"role": "user", "content": "Can I bring my dog?"}, {"role": "assistant", "content": "Dogs are welcome in the lounge but not in the meeting rooms."}], "metadata": {"channel": "email"}}
            """,
            "record.schema.json": """
                {"type": "object", "required": ["metadata"], "properties": {"metadata": {"type": "object", "required": ["ticket_id", "channel"]}}}
            """,
        },
        record_schema="data/record.schema.json",
    ),
    good=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "Can I move my booking to Friday?"}, {"role": "assistant", "content": "Yes: I have moved it to Friday at 10:00."}], "metadata": {"ticket_id": "T-2291", "channel": "chat"}}
                {"messages": [{"role": "user", "content": "Can I bring my dog?"}, {"role": "assistant", "content": "Dogs are welcome in the lounge but not in the meeting rooms."}], "metadata": {"ticket_id": "T-2304", "channel": "email"}}
            """,
            "record.schema.json": """
                {"type": "object", "required": ["metadata"], "properties": {"metadata": {"type": "object", "required": ["ticket_id", "channel"]}}}
            """,
        },
        record_schema="data/record.schema.json",
    ),
)
SCHEMA_FILE_UNUSABLE = rule(
    code="SCH114", name="schema-file-unusable", family="schema", severity="error",
    summary="The configured `record_schema` file cannot be used.",
    why="""`record_schema` names a file that is missing, not a regular file, not JSON or not a
    valid JSON Schema, or the schema cannot be used: a `$ref` that points nowhere, to a
    missing file, outside the schema's directory or to the network (references are
    resolved only inside the schema file and files in its directory, never fetched), a
    reference cycle, or a `pattern` too slow to run. No line (or no line after the one
    named) was checked against it, so the contract it states goes unchecked.""",
    fix="""Fix the path (relative to the config file that sets it) or the schema.
    (`target_schema` problems are FMT011.)""",
    settings=("record_schema",),
    bad=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "Can I move my booking to Friday?"}, {"role": "assistant", "content": "Yes: I have moved it to Friday at 10:00."}], "metadata": {"ticket_id": "T-2291"}}
            """,
            "record.schema.json": """
                {"type": "object", "required": ["metadata"], "properties": {"metadata": {"type": "object", "required": ["ticket_id"]}}}
            """,
        },
        record_schema="data/records.schema.json",
    ),
    good=example(
        {
            "train.jsonl": """
                {"messages": [{"role": "user", "content": "Can I move my booking to Friday?"}, {"role": "assistant", "content": "Yes: I have moved it to Friday at 10:00."}], "metadata": {"ticket_id": "T-2291"}}
            """,
            "record.schema.json": """
                {"type": "object", "required": ["metadata"], "properties": {"metadata": {"type": "object", "required": ["ticket_id"]}}}
            """,
        },
        record_schema="data/record.schema.json",
    ),
)
IDENTICAL_PREFERENCE = rule(
    code="SCH115", name="identical-preference", family="schema", severity="error",
    summary="A preference pair has the same chosen and rejected answer.",
    why="""A pair whose two answers are equal carries no preference signal: preference
    training (DPO and similar methods) learns from the difference between the chosen and
    the rejected answer, and here there is none. Usually both sides were filled from the
    same source.""",
    fix="""Write a real rejected answer (the behaviour the model should move away from), or
    remove the pair.""",
    bad=example("""
        {"prompt": "My package is late. What can I do?", "chosen": "I am sorry it is late. I have opened a trace with the carrier and will e-mail you an update within 24 hours.", "rejected": "I am sorry it is late. I have opened a trace with the carrier and will e-mail you an update within 24 hours."}
    """),
    good=example("""
        {"prompt": "My package is late. What can I do?", "chosen": "I am sorry it is late. I have opened a trace with the carrier and will e-mail you an update within 24 hours.", "rejected": "Packages are sometimes late. Please wait."}
    """),
)

_READ_RULES = {
    "invalid-json": INVALID_JSON,
    "trailing-data": INVALID_JSON,
    "too-deep": INVALID_JSON,
    "invalid-utf8": INVALID_ENCODING,
    "nul-byte": INVALID_ENCODING,
    "lone-surrogate": INVALID_ENCODING,
    "nan": NON_STANDARD_NUMBER,
    "huge-number": NON_STANDARD_NUMBER,
    "not-object": NOT_AN_OBJECT,
    "json-array-file": JSON_ARRAY_FILE,
    "open-failed": UNREADABLE_FILE,
    "is-directory": UNREADABLE_FILE,
    "not-regular-file": UNREADABLE_FILE,
    "not-gzip": UNREADABLE_FILE,
    "corrupt-gzip": UNREADABLE_FILE,
    "truncated-gzip": UNREADABLE_FILE,
    "compression-bomb": UNREADABLE_FILE,
    "utf16": INVALID_ENCODING,
    "empty-file": EMPTY_FILE,
    "bom": BYTE_ORDER_MARK,
    "blank-line": BLANK_LINE,
    "line-too-long": LINE_TOO_LONG,
    "changed-while-read": FILE_CHANGED,
    "undecodable-name": UNDECODABLE_NAME,
    "duplicate-key": DUPLICATE_KEY,
    "not-an-array": NOT_A_RECORD_ARRAY,
    "jsonl-in-json": NOT_A_RECORD_ARRAY,
    "truncated-array": INVALID_JSON,
    "too-large": LINE_TOO_LONG,
    "reader-unavailable": READER_UNAVAILABLE,
    "unreadable-file": UNREADABLE_FILE,
}

_READ_ADVICE = {
    "invalid-json": "fix or remove the line",
    "trailing-data": "keep one JSON object per line",
    "too-deep": "flatten the record",
    "invalid-utf8": "re-encode the file as UTF-8",
    "nul-byte": "strip NUL bytes from the source",
    "lone-surrogate": "replace the broken escape with real text",
    "nan": "write null or a number instead",
    "huge-number": "write it as a string, or as a number a 64-bit float holds",
    "not-object": "wrap the value in an object with the keys of your format",
    "json-array-file": "name it .json (pytest-ftdata reads a JSON array from a .json file) or convert it with `jq -c '.[]' FILE > FILE.jsonl`",
    "open-failed": "check that the path is a readable regular file",
    "is-directory": "rename the directory so it does not end in .jsonl, or point --ftdata elsewhere",
    "not-regular-file": "replace it with a regular file (pytest-ftdata never reads pipes or devices)",
    "not-gzip": "compress it with gzip or drop the .gz suffix",
    "corrupt-gzip": "re-create the archive from the source file",
    "truncated-gzip": "re-create the archive from the source file",
    "compression-bomb": "check where the archive came from; a real dataset does not compress that well",
    "utf16": "re-encode it as UTF-8 (for example `iconv -f UTF-16 -t UTF-8`)",
    "empty-file": "fill the file or remove it",
    "bom": "save the file as UTF-8 without BOM",
    "blank-line": "remove the blank line",
    "line-too-long": "remove the line, or raise max_line_bytes if it is really meant",
    "changed-while-read": "run again once the file is no longer being written",
    "undecodable-name": "rename it to a UTF-8 name",
    "duplicate-key": "keep one value for the key",
    "not-an-array": "write the records as a JSON array or as JSON Lines",
    "jsonl-in-json": "read it as JSON Lines: name it .jsonl",
    "truncated-array": "re-create the file from its source",
    "too-large": "remove the record, or raise max_line_bytes if it is really meant",
    "reader-unavailable": "install the extra it names",
    "unreadable-file": "re-create the file from its source",
}

# -- structure models -----------------------------------------------------------------------

Role = Literal["system", "user", "assistant", "tool"]


class _FunctionCall(TypedDict):
    name: str
    arguments: str


class _ToolCall(TypedDict):
    id: NotRequired[str]
    type: NotRequired[Literal["function"]]
    function: _FunctionCall


class _ContentPart(TypedDict):
    type: str
    text: NotRequired[str]


class ChatMessage(TypedDict):
    role: Role
    content: NotRequired[Union[str, list[_ContentPart], None]]
    name: NotRequired[str]
    tool_calls: NotRequired[list[_ToolCall]]
    tool_call_id: NotRequired[str]
    weight: NotRequired[Literal[0, 1]]


class _ToolFunction(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]


class _Tool(TypedDict):
    type: Literal["function"]
    function: _ToolFunction


class ChatRecord(TypedDict):
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    tools: NotRequired[list[_Tool]]


class CompletionRecord(TypedDict):
    prompt: str
    completion: str


class QaRecord(TypedDict):
    question: str
    answer: str


class InstructionRecord(TypedDict):
    instruction: str
    input: NotRequired[str]
    output: str


# `from` is a Python keyword, so the ShareGPT turn uses the functional TypedDict syntax.
_ShareGptTurn = TypedDict("_ShareGptTurn", {"from": str, "value": str})


class ShareGptRecord(TypedDict):
    conversations: Annotated[list[_ShareGptTurn], Field(min_length=1)]


class _ChatInput(TypedDict):
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    tools: NotRequired[list[_Tool]]


class OpenAIPreferenceRecord(TypedDict):
    input: _ChatInput
    preferred_output: Annotated[list[ChatMessage], Field(min_length=1)]
    non_preferred_output: Annotated[list[ChatMessage], Field(min_length=1)]


class PreferenceRecord(TypedDict):
    prompt: NotRequired[Union[str, list[ChatMessage]]]
    chosen: Union[str, list[ChatMessage]]
    rejected: Union[str, list[ChatMessage]]


_ADAPTERS = {
    "chat": TypeAdapter(ChatRecord),
    "completion": TypeAdapter(CompletionRecord),
    "instruction": TypeAdapter(InstructionRecord),
    "qa": TypeAdapter(QaRecord),
    "sharegpt": TypeAdapter(ShareGptRecord),
    "preference": TypeAdapter(PreferenceRecord),
    "preference-openai": TypeAdapter(OpenAIPreferenceRecord),
}

#: At most this many structure errors are reported per record; the rest are counted.
MAX_ERRORS_PER_RECORD = 3


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in ("str", "list[_ContentPart]", "none", "list[ChatMessage]") or "[" in str(part):
            continue  # union member names pydantic adds to the location
        else:
            out += f".{part}" if out else str(part)
    return out or "(record)"


def structure_errors(record: dict, format: str) -> list[str]:
    """Human-readable structure errors of `record` read as `format` (empty when valid)."""
    key = "preference-openai" if format == "preference" and "preferred_output" in record else format
    try:
        _ADAPTERS[key].validate_python(record, strict=True)
    except ValidationError as exc:
        messages = []
        seen = set()
        for error in exc.errors():
            where = _loc(error["loc"])
            if error["type"] == "missing":
                text = f"is missing the required key `{where}`"
            else:
                shown = display_value(error.get("input"), 40)
                text = f"has `{where}`: {error['msg'][0].lower()}{error['msg'][1:]} (got {shown})"
            if where not in seen:
                seen.add(where)
                messages.append(text)
        return messages
    return []


class SchemaFamily(FileFamily):
    family = "schema"
    sees_unknown_format = True

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.findings = FindingList(self.path)
        self.record_validator = None
        if self.config.record_schema:
            try:
                self.record_validator = load_json_schema(self.config.resolve(self.config.record_schema))
            except SchemaUnusable as exc:
                self._schema_unusable(exc, None)

    def problem(self, problem: ReadProblem) -> None:
        found = _READ_RULES[problem.kind]
        if not self.findings.room(found, problem.line):
            return  # counted, not listed: and its excerpt is never built
        advice = _READ_ADVICE[problem.kind]
        where = "The file" if problem.line is None else f"Line {problem.line}"
        self.findings.append(
            found.at(self.path, problem.line, f"{where} {problem.detail}: {advice}.", excerpt=problem.excerpt)
        )

    def visit(self, example: Example) -> None:
        record, line = example.record, example.line
        fmt = example.format
        if fmt == "unknown":
            keys = ", ".join(display(key, 30) for key in sorted(record)[:8]) or "none"
            self.findings.append(
                UNKNOWN_FORMAT.at(
                    self.path, line,
                    f"Record has keys ({keys}) that match no known format; use the keys of one of chat, "
                    "completion, instruction, sharegpt or preference, or set `format`.",
                )
            )
            return
        if self.config.format and fmt != self.config.format:
            self.findings.append(
                WRONG_FORMAT.at(
                    self.path, line,
                    f"Record looks like `{fmt}` but the config sets format = \"{self.config.format}\"; "
                    "convert the record or fix the setting.",
                )
            )
            fmt = self.config.format
        if fmt == "chat" and example.plain:
            errors = []  # the plain canonical shape is valid by construction (formats._plain_chat)
        else:
            errors = structure_errors(record, fmt)
            if not errors:
                self._check_conversation(example, fmt)
        for text in errors[:MAX_ERRORS_PER_RECORD]:
            self.findings.append(
                INVALID_STRUCTURE.at(self.path, line, f"Record {text}.", excerpt=excerpt(example))
            )
        if len(errors) > MAX_ERRORS_PER_RECORD:
            self.findings.append(
                INVALID_STRUCTURE.at(
                    self.path, line,
                    f"Record has {len(errors) - MAX_ERRORS_PER_RECORD} more structure errors; fix the ones above first.",
                )
            )
        if self.record_validator is not None:
            try:
                errors = self.record_validator.errors(record, MAX_ERRORS_PER_RECORD)
            except SchemaUnusable as exc:
                self._schema_unusable(exc, line)
                errors = []
            for text in errors:
                self.findings.append(RECORD_SCHEMA.at(self.path, line, f"Record fails record_schema {text}."))

    def _schema_unusable(self, exc: SchemaUnusable, line: int | None) -> None:
        """The one SCH114 finding; the schema is not used for the rest of the file."""
        self.record_validator = None
        where = "" if line is None else f" (it failed while validating line {line})"
        checked = "no line was checked against it" if line is None else "the lines after it were not checked against it"
        self.findings.append(
            SCHEMA_FILE_UNUSABLE.at(self.path, line, f"record_schema is unusable{where}: {exc}; {checked}.")
        )

    # -- conversation rules -------------------------------------------------------------

    def _check_conversation(self, example: Example, fmt: str) -> None:
        record, line = example.record, example.line
        if fmt == "chat":
            self._check_messages(example, record["messages"], record.get("tools"))
        elif fmt == "sharegpt":
            messages = []
            for index, turn in enumerate(record["conversations"]):
                role = SHAREGPT_ROLES.get(turn["from"].lower())
                if role is None:
                    self.findings.append(
                        INVALID_STRUCTURE.at(
                            self.path, line,
                            f"Record has `conversations[{index}].from` = {display_value(turn['from'])}, which is not a known "
                            "speaker (human, gpt, system, ...).",
                        )
                    )
                    return
                messages.append({"role": role, "content": turn["value"]})
            self._check_messages(example, messages, None)
        elif fmt == "preference":
            if "preferred_output" in record:
                self._check_messages(example, record["input"]["messages"] + record["preferred_output"][:1], record["input"].get("tools"))
            if example.rejected_text is not None and example.target_text == example.rejected_text and example.target_text:
                self.findings.append(
                    IDENTICAL_PREFERENCE.at(
                        self.path, line, "Chosen and rejected answers are identical; the pair teaches no preference.",
                        excerpt=excerpt(example),
                    )
                )
            if not example.target_text.strip():
                self.findings.append(EMPTY_CONTENT.at(self.path, line, "Chosen answer is empty; write the preferred answer.", excerpt=excerpt(example)))
        else:  # completion, instruction, qa
            target_key = {"completion": "completion", "qa": "answer"}.get(fmt, "output")
            if not example.target_text.strip():
                self.findings.append(
                    EMPTY_CONTENT.at(self.path, line, f"Target `{target_key}` is empty; write the answer the model should give.", excerpt=excerpt(example))
                )
            if not example.input_text.strip():
                source = {"completion": "prompt", "qa": "question"}.get(fmt, "instruction")
                self.findings.append(
                    EMPTY_CONTENT.at(self.path, line, f"Input `{source}` is empty; the example shows no task.", excerpt=excerpt(example))
                )

    def _check_messages(self, example: Example, messages: list[dict], tools: list | None) -> None:
        path, line = self.path, example.line
        add = self.findings.append
        declared = {tool["function"]["name"] for tool in tools} if tools else None
        open_calls: set[str] | None = None  # ids of tool calls waiting for an answer
        previous = None
        has_user = False
        has_target = False
        for index, message in enumerate(messages):
            role = message["role"]
            where = f"messages[{index}]"
            content = message.get("content")
            calls = message.get("tool_calls")
            text = content if isinstance(content, str) else " ".join(
                part.get("text", "") for part in content or () if isinstance(part, dict)
            )
            if not text.strip() and not (role == "assistant" and calls):
                add(EMPTY_CONTENT.at(path, line, f"Turn `{where}` ({role}) has empty content; write it or remove the turn."))
            if role == "system" and index > 0:
                add(MISPLACED_SYSTEM.at(path, line, f"Turn `{where}` is a system turn after the start; move it to the first turn."))
            if role in ("user", "assistant") and role == previous and not (role == "assistant" and messages[index - 1].get("tool_calls")):
                add(REPEATED_ROLE.at(path, line, f"Turns `messages[{index - 1}]` and `{where}` are both {role} turns; merge them or restore the missing turn between them."))
            if role == "user":
                has_user = True
            if role == "tool":
                call_id = message.get("tool_call_id")
                if open_calls is None:
                    add(ORPHAN_TOOL_TURN.at(path, line, f"Turn `{where}` is a tool result with no tool call before it; add the assistant's tool_calls turn."))
                elif call_id is not None and open_calls and call_id not in open_calls:
                    add(ORPHAN_TOOL_TURN.at(path, line, f"Turn `{where}` answers tool_call_id {call_id!r}, which no preceding tool call has."))
            else:
                open_calls = None
            if role == "assistant":
                has_target = True
                if calls:
                    open_calls = {call.get("id") for call in calls if call.get("id")}
                    for number, call in enumerate(calls):
                        function = call["function"]
                        try:
                            arguments = orjson.loads(function["arguments"])
                        except orjson.JSONDecodeError as exc:
                            add(INVALID_TOOL_ARGUMENTS.at(path, line, f"Tool call `{where}.tool_calls[{number}]` has arguments that are not valid JSON ({exc}); the model would learn to emit broken calls."))
                        else:
                            if not isinstance(arguments, dict):
                                add(INVALID_TOOL_ARGUMENTS.at(path, line, f"Tool call `{where}.tool_calls[{number}]` has arguments that are JSON but not an object."))
                        if declared is not None and function["name"] not in declared:
                            names = ", ".join(display_value(name, 40) for name in sorted(declared)[:10]) or "none"
                            add(UNKNOWN_TOOL.at(path, line, f"Tool call `{where}.tool_calls[{number}]` calls {display_value(function['name'], 40)}, which `tools` does not declare (declared: {names})."))
            previous = role
        if not has_target:
            add(NO_TARGET.at(path, line, "Example has no assistant turn; add the answer the model should learn.", excerpt=excerpt(example)))
        elif messages and messages[-1]["role"] != "assistant":
            add(LAST_TURN_NOT_TARGET.at(path, line, f"Example ends on a {messages[-1]['role']} turn; end it with the assistant's answer or cut the trailing turn.", excerpt=excerpt(example)))
        if has_target and not has_user:
            add(NO_USER_TURN.at(path, line, "Example has no user turn; add the user input the answer responds to.", excerpt=excerpt(example)))

    def finish(self) -> list[Finding]:
        return self.findings.finish()
