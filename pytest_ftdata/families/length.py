"""`length`: examples and turns too long to train on, odd lengths, blank answers.

A fine-tuning job truncates or rejects examples over the model's context, and one
runaway example (a pasted log, a looping answer) can dominate a batch. The limits
are `max_chars` and `max_tokens` per example and `max_turn_chars` and
`max_turn_tokens` per turn; tokens come from `pytest_ftdata.tokens` (tiktoken, a
local `tokenizer.json`, or an estimate that the messages call an estimate).

Without limits the check still reports examples whose length is far from the rest
of their file (a warning), blank answers the schema cannot see, and preference
conversations that end on a user turn.

Where `schema` already reports a defect, this family does not report it again:
empty or whitespace-only targets are SCH104 (empty-content) and chat or ShareGPT
conversations ending on a user or tool turn are SCH106 (last-turn-not-target).
"""

from __future__ import annotations

import math
from array import array

from ..findings import Finding, example, rule
from ..formats import Example
from ..tokens import TokenCounter, get_counter
from .base import FileFamily, FileContext
from .turns import scoped_texts, turn_label

#: A log pasted into a ticket: what the examples of the length rules are made too long with.
_PASTED_LOG = "2024-05-02T10:14:07Z WARN sync-agent retrying upload of batch 17 after a timeout (attempt 3)\\n" * 14

EXAMPLE_TOO_LONG = rule(
    code="LEN001", name="example-too-long", family="length", severity="error",
    summary="An example has more characters than `max_chars`.",
    why="""The characters of all turns of the example (for preference pairs: the prompt and
    the longer of the two answers) exceed `max_chars`. An example over the model's
    context is truncated or rejected by the trainer, and one runaway example can
    dominate a batch.""",
    fix="""Shorten the example (trim pasted material to what the answer needs), split the
    conversation, or drop it.""",
    settings=("max_chars",),
    bad=example(
        '{"messages": [{"role": "user", "content": "Sync stopped on my laptop, here is the log: '
        + _PASTED_LOG
        + '"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example '
        'in your firewall, then choose Resume sync."}]}',
        max_chars=600,
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Sync stopped on my laptop; the log says: retrying upload of batch 17 after a timeout (attempt 3)"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example in your firewall, then choose Resume sync."}]}
        """,
        max_chars=600,
    ),
)
EXAMPLE_TOO_MANY_TOKENS = rule(
    code="LEN002", name="example-too-many-tokens", family="length", severity="error",
    summary="An example has more tokens than `max_tokens`.",
    why="""The tokens of all turns (content only, without the few tokens a chat template
    adds per message) exceed `max_tokens`, so the trainer would truncate or reject
    the example. Tokens are counted with `tokenizer` (tiktoken, a `tokenizer.json`, or
    the estimate, which the message calls an estimate).""",
    fix="""Set `max_tokens` a little below the context length of the model you tune, then
    shorten, split or drop the examples over it.""",
    settings=("max_tokens", "tokenizer"),
    bad=example(
        '{"messages": [{"role": "user", "content": "Sync stopped on my laptop, here is the log: '
        + _PASTED_LOG
        + '"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example '
        'in your firewall, then choose Resume sync."}]}',
        max_tokens=120, tokenizer="estimate",
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Sync stopped on my laptop; the log says: retrying upload of batch 17 after a timeout (attempt 3)"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example in your firewall, then choose Resume sync."}]}
        """,
        max_tokens=120, tokenizer="estimate",
    ),
)
TURN_TOO_LONG = rule(
    code="LEN003", name="turn-too-long", family="length", severity="error",
    summary="A turn has more characters than `max_turn_chars`.",
    why="""One turn (a pasted document, a looping answer) is longer than `max_turn_chars`.
    Long single turns are usually export mistakes, and a long answer teaches the model
    to answer at that length.""",
    fix="""Trim the turn to what the example needs, or split the conversation.""",
    settings=("max_turn_chars",),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "How do I cancel?"}, {"role": "assistant", "content": "To cancel, open Billing > Plan and choose Cancel plan. To cancel, open Billing > Plan and choose Cancel plan. To cancel, open Billing > Plan and choose Cancel plan. To cancel, open Billing > Plan and choose Cancel plan. To cancel, open Billing > Plan and choose Cancel plan."}]}
        """,
        max_turn_chars=200,
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "How do I cancel?"}, {"role": "assistant", "content": "To cancel, open Billing > Plan and choose Cancel plan."}]}
        """,
        max_turn_chars=200,
    ),
)
TURN_TOO_MANY_TOKENS = rule(
    code="LEN004", name="turn-too-many-tokens", family="length", severity="error",
    summary="A turn has more tokens than `max_turn_tokens`.",
    why="""Like LEN002 for a single turn, counted with `tokenizer`. Useful to cap answer
    length: the model learns to produce answers as long as its targets.""",
    fix="""Trim the turn below `max_turn_tokens` (keep the answer to what the user asked),
    or split the conversation.""",
    settings=("max_turn_tokens", "tokenizer"),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "Can I change my plan?"}, {"role": "assistant", "content": "Yes. Plans can be changed at any time from Billing > Plan. Upgrades apply immediately and are charged pro rata for the rest of the month; downgrades apply at the next renewal, and any storage above the new limit becomes read-only until you delete files or upgrade again. Annual plans can be changed too, but the price difference is credited, not refunded."}]}
        """,
        max_turn_tokens=40, tokenizer="estimate",
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Can I change my plan?"}, {"role": "assistant", "content": "Yes, at any time under Billing > Plan: upgrades apply now, downgrades at the next renewal."}]}
        """,
        max_turn_tokens=40, tokenizer="estimate",
    ),
)
BLANK_ANSWER = rule(
    code="LEN005", name="blank-answer", family="length", severity="error",
    summary="An answer has no visible text that the schema check would see as empty.",
    why="""A target made only of invisible characters (zero-width spaces, byte order marks,
    other format characters), or an empty or blank rejected answer of a preference
    pair. It looks filled in but teaches the model to answer with nothing (or compares
    a real answer with nothing). Plain empty and whitespace-only targets are reported by
    the schema check as SCH104 and not again here.""",
    fix="""Write the answer, or drop the example; for a preference pair, write a real
    unwanted answer to compare with.""",
    bad=example(r"""
        {"messages": [{"role": "user", "content": "Do you have a referral programme?"}, {"role": "assistant", "content": "\u200b"}]}
    """),
    good=example(r"""
        {"messages": [{"role": "user", "content": "Do you have a referral programme?"}, {"role": "assistant", "content": "Yes: you and your friend each get one month free when they subscribe."}]}
    """),
)
ENDS_ON_USER_TURN = rule(
    code="LEN006", name="ends-on-user-turn", family="length", severity="error",
    summary="A preference pair's chosen conversation ends on a user turn.",
    why="""A preference record whose `chosen` (or `rejected`) message list ends with a user
    turn: the answer being judged is missing, so the pair teaches nothing about it.
    Chat and ShareGPT conversations that end on a user or tool turn are reported by
    the schema check as SCH106, and transcripts with an empty final answer as SCH104.""",
    fix="""End both conversations with the assistant answer being judged (cut the trailing
    user turn, or add the answer).""",
    bad=example("""
        {"chosen": [{"role": "user", "content": "My package is late."}, {"role": "assistant", "content": "Sorry about that: I have opened a trace with the carrier."}, {"role": "user", "content": "Thanks."}], "rejected": [{"role": "user", "content": "My package is late."}, {"role": "assistant", "content": "Packages are sometimes late."}]}
    """),
    good=example("""
        {"chosen": [{"role": "user", "content": "My package is late."}, {"role": "assistant", "content": "Sorry about that: I have opened a trace with the carrier."}], "rejected": [{"role": "user", "content": "My package is late."}, {"role": "assistant", "content": "Packages are sometimes late."}]}
    """),
)
_TWENTY_TICKETS = """
    {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page."}]}
    {"messages": [{"role": "user", "content": "Can I change my username?"}, {"role": "assistant", "content": "Yes, once every 30 days under Settings > Profile."}]}
    {"messages": [{"role": "user", "content": "Where is my invoice?"}, {"role": "assistant", "content": "Under Billing > History, next to each payment."}]}
    {"messages": [{"role": "user", "content": "Do you ship to Canada?"}, {"role": "assistant", "content": "Yes, in 5 to 8 business days."}]}
    {"messages": [{"role": "user", "content": "Is there a dark mode?"}, {"role": "assistant", "content": "Yes: Settings > Appearance > Dark."}]}
    {"messages": [{"role": "user", "content": "Can I pause my plan?"}, {"role": "assistant", "content": "Yes, for up to three months under Billing > Plan."}]}
    {"messages": [{"role": "user", "content": "Do you have an API?"}, {"role": "assistant", "content": "Yes, a REST API on every paid plan."}]}
    {"messages": [{"role": "user", "content": "How do I add a team member?"}, {"role": "assistant", "content": "Open Settings > Team and choose Invite."}]}
    {"messages": [{"role": "user", "content": "Can I pay by bank transfer?"}, {"role": "assistant", "content": "Yes: choose Bank transfer at checkout."}]}
    {"messages": [{"role": "user", "content": "Is my data backed up?"}, {"role": "assistant", "content": "Yes, every night, kept for 30 days."}]}
    {"messages": [{"role": "user", "content": "Can I export my contacts?"}, {"role": "assistant", "content": "Yes: open Contacts and choose Export."}]}
    {"messages": [{"role": "user", "content": "Do you support single sign-on?"}, {"role": "assistant", "content": "Yes, SAML and OIDC on the Business plan."}]}
    {"messages": [{"role": "user", "content": "Can I change the language?"}, {"role": "assistant", "content": "Yes: Settings > Language."}]}
    {"messages": [{"role": "user", "content": "Is there a student discount?"}, {"role": "assistant", "content": "Yes, 30% off with a student e-mail address."}]}
    {"messages": [{"role": "user", "content": "How do I close my account?"}, {"role": "assistant", "content": "Open Settings > Account and choose Close account."}]}
    {"messages": [{"role": "user", "content": "Can I get a receipt?"}, {"role": "assistant", "content": "Yes: every payment has one under Billing > History."}]}
    {"messages": [{"role": "user", "content": "Which browsers work?"}, {"role": "assistant", "content": "The last two versions of Chrome, Firefox, Safari and Edge."}]}
    {"messages": [{"role": "user", "content": "Can I archive a project?"}, {"role": "assistant", "content": "Yes: open the project, then Settings > Archive."}]}
    {"messages": [{"role": "user", "content": "Where are my files stored?"}, {"role": "assistant", "content": "In the region you chose at sign-up."}]}
"""
LENGTH_OUTLIER = rule(
    code="LEN007", name="length-outlier", family="length", severity="warning",
    summary="An example is far longer or shorter than the rest of its file.",
    why="""Lengths (in characters) are compared on a log scale with the median and the
    median absolute deviation of the file: an example more than 3.5 robust standard
    deviations away and at least 4 times longer (or shorter) than the median is
    reported. Such examples are often pasted logs, looping generations or truncated
    exports, and one of them can teach more (or less) than the rest of the file. Needs
    at least 20 examples in the file. A warning: it does not fail the run.""",
    fix="""Look at the example: trim a pasted log or a looping answer, complete a truncated
    one, or drop it. Keep it when it is a real case the model must handle.""",
    bad=example(
        _TWENTY_TICKETS.strip() + "\n"
        '{"messages": [{"role": "user", "content": "Sync stopped on my laptop, here is the log: '
        + _PASTED_LOG
        + '"}, {"role": "assistant", "content": "Pause the VPN or allow sync.acme.example, then choose Resume sync."}]}'
    ),
    good=example(
        _TWENTY_TICKETS.strip() + "\n"
        '{"messages": [{"role": "user", "content": "Sync stopped on my laptop: upload timeouts."}, '
        '{"role": "assistant", "content": "Pause the VPN or allow sync.acme.example, then choose Resume sync."}]}'
    ),
)
TOKENIZER_UNAVAILABLE = rule(
    code="LEN008", name="tokenizer-unavailable", family="length", severity="warning",
    summary="The configured tokenizer cannot be used; token counts are estimates.",
    why="""`tokenizer` names tiktoken or a `tokenizer.json` that cannot be loaded offline
    (not installed, the encoding not in tiktoken's cache, a missing file). Token limits
    are then checked with the estimate, which can be off by a few percent, so examples
    just over `max_tokens` may pass. Only looked at when a token limit is set.""",
    fix="""Install the tokenizer, cache its encoding (TIKTOKEN_CACHE_DIR), or fix the path of
    the `tokenizer.json` (relative to the config file that sets it); or set
    `tokenizer = "estimate"` to make the choice explicit.""",
    settings=("tokenizer", "max_tokens", "max_turn_tokens"),
    bad=example(
        """
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page."}]}
        """,
        max_tokens=4000, tokenizer="data/tokenizer.json",
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page."}]}
        """,
        max_tokens=4000, tokenizer="estimate",
    ),
)

HUGE_EXAMPLE = rule(
    code="LEN009", name="huge-example", family="length", severity="error",
    summary="An example is over `huge_example_chars` characters while no `max_chars` is set.",
    why="""An example of more than `huge_example_chars` characters (default 1,000,000, about
    250,000 tokens: beyond the context any fine-tuning job accepts) is a pasted log, a
    file dumped into a turn or an export accident, and it is reported even when no length
    limit is configured.""",
    fix="""Remove the example or cut it down. Set `max_chars` (or `max_tokens`) to the limit
    of your model to replace this safety net with a real limit.""",
    settings=("huge_example_chars", "max_chars"),
    bad=example(
        '{"messages": [{"role": "user", "content": "Sync stopped on my laptop, here is the log: '
        + _PASTED_LOG
        + '"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example '
        'in your firewall, then choose Resume sync."}]}',
        huge_example_chars=1000,
    ),
    good=example(
        """
        {"messages": [{"role": "user", "content": "Sync stopped on my laptop; the log says: retrying upload of batch 17 after a timeout (attempt 3)"}, {"role": "assistant", "content": "The upload times out: pause the VPN or allow sync.acme.example in your firewall, then choose Resume sync."}]}
        """,
        huge_example_chars=1000,
    ),
)

#: Findings listed one by one per rule and file; the rest are summed up in one finding.
MAX_LISTED = 1000
_BLANK_TARGET = (
    "The target contains only invisible characters (zero-width spaces or other format characters); write the "
    "answer or drop the example."
)
#: Fewer examples than this say nothing about the length distribution of a file.
MIN_EXAMPLES_FOR_OUTLIERS = 20
OUTLIER_Z = 3.5
OUTLIER_RATIO = 4.0


def _has_visible(text: str) -> bool:
    for char in text:
        if not char.isspace() and char.isprintable():
            return True
    return False


class LengthFamily(FileFamily):
    family = "length"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        config = self.config
        self.findings: list[Finding] = []
        self.max_chars = config.max_chars
        self.max_tokens = config.max_tokens
        self.max_turn_chars = config.max_turn_chars
        self.max_turn_tokens = config.max_turn_tokens
        self.counter: TokenCounter | None = None
        if self.max_tokens is not None or self.max_turn_tokens is not None:
            self.counter, problem = get_counter(self._tokenizer_spec())
            if problem:
                self.findings.append(
                    TOKENIZER_UNAVAILABLE.at(
                        self.path, None,
                        f"The tokenizer {config.tokenizer!r} cannot be used: {problem}; token limits are checked "
                        "with the estimate instead.",
                    )
                )
        #: The smallest token limit: examples whose token bound stays below it are not counted.
        limits = [limit for limit in (self.max_tokens, self.max_turn_tokens) if limit is not None]
        self.token_floor = min(limits) if limits else 0
        #: A plain chat example of at most this many characters can break no limit: a turn
        #: is never longer than the example, and a character is at most `per_char` tokens.
        #: Without `max_chars`, the safety net of LEN009 applies.
        self.huge_chars = config.huge_example_chars if self.max_chars is None else None
        quick = [limit for limit in (self.max_chars, self.max_turn_chars, self.huge_chars) if limit is not None]
        if self.counter is not None:
            quick.append(-1 if self.counter.per_text else self.token_floor // self.counter.per_char)
        self.quick_chars = min(quick) if quick else 1 << 62
        self.listed: dict[str, int] = {}
        self.overflow: dict[str, array] = {}
        #: Example lengths in characters and their lines, for the outlier statistics.
        self.lengths = array("I")
        self.lines = array("I")
        self.lengths_append = self.lengths.append
        self.lines_append = self.lines.append

    def _tokenizer_spec(self) -> str | None:
        spec = self.config.tokenizer
        if spec is None or spec == "estimate" or spec.startswith("tiktoken:"):
            return spec
        resolved = self.config.resolve(spec)
        return str(resolved) if resolved is not None else spec

    # -- per example -------------------------------------------------------------------

    def visit(self, example: Example) -> None:
        if example.plain:
            # Plain chat (the common case): system prompt, input (its turns joined by
            # newlines) and target hold all the text. Measure them, and look closer only
            # when the total could break a limit.
            system = example.system
            target = example.target_text
            turns = len(example.record["messages"])
            if system:
                total = len(system) + len(example.input_text) + len(target) - (turns - 3 if turns > 3 else 0)
            else:
                total = len(example.input_text) + len(target) - (turns - 2 if turns > 2 else 0)
            if total <= self.quick_chars:
                self.lengths_append(total)
                self.lines_append(example.line)
                if not target.isprintable() and target.strip() and not _has_visible(target):
                    self._add(BLANK_ANSWER, example, _BLANK_TARGET)
                return
        self._visit(example)

    def _visit(self, example: Example) -> None:
        rejected = example.rejected_text
        max_turn_chars = self.max_turn_chars
        if example.plain:
            # Plain chat: system prompt, input (its turns joined by newlines) and target
            # hold all of the text; the turns are built only when one may be too long.
            turn_count = len(example.record["messages"])
            system = example.system
            input_size = len(example.input_text)
            target_size = len(example.target_text)
            if system:
                system_size = len(system)
                joined = turn_count - 2
            else:
                system_size = 0
                joined = turn_count - 1
            total = system_size + input_size + target_size - (joined - 1 if joined > 1 else 0)
            longest = max(system_size, input_size, target_size)
        else:
            sizes = [len(turn.text) for turn in example.turns]
            total = sum(sizes)
            longest = max(sizes, default=0)
            turn_count = len(sizes)
        if max_turn_chars is not None:
            if longest > max_turn_chars:
                turns = example.turns
                sizes = [len(turn.text) for turn in turns]
                for index, size in enumerate(sizes):
                    if size > max_turn_chars:
                        self._add(
                            TURN_TOO_LONG, example,
                            f"{self._where(example, index, turns[index].role)} has {size:,} characters, over "
                            f"max_turn_chars = {max_turn_chars:,}; trim it or split the conversation.",
                        )
            if rejected is not None and len(rejected) > max_turn_chars:
                self._add(
                    TURN_TOO_LONG, example,
                    f"{self._where(example, -1, 'assistant')} has {len(rejected):,} characters, over "
                    f"max_turn_chars = {max_turn_chars:,}; trim it.",
                )
        if rejected is not None:
            # The longest sequence a preference trainer builds is the prompt plus the longer answer.
            total += max(0, len(rejected) - len(example.target_text))
        self.lengths_append(total if total < 0xFFFFFFFF else 0xFFFFFFFF)
        self.lines_append(example.line)
        if self.max_chars is not None and total > self.max_chars:
            self._add(
                EXAMPLE_TOO_LONG, example,
                f"Example has {total:,} characters, over max_chars = {self.max_chars:,}; shorten it, split the "
                "conversation or drop it.",
            )
        elif self.huge_chars is not None and total > self.huge_chars:
            self._add(
                HUGE_EXAMPLE, example,
                f"Example has {total:,} characters, more than huge_example_chars = {self.huge_chars:,} and beyond "
                "the context of any model you can fine-tune; remove it or cut it down, and set max_chars to your "
                "model's limit.",
            )
        # Bound the token count from the characters first; count only examples the bound
        # cannot clear (a few long ones), so token limits cost almost nothing.
        counter = self.counter
        if counter is not None:
            chars = total + len(rejected or "")
            if counter.per_char * chars + counter.per_text * (turn_count + 1) > self.token_floor and (
                not self._ascii_under_floor(example, chars, turn_count)
            ):
                self._check_tokens(example)
        if example.format == "preference":
            self._check_preference(example)
        else:
            target = example.target_text
            if target and not target.isprintable() and target.strip() and not example.target_is_tool_call:
                if not _has_visible(target):
                    self._add(BLANK_ANSWER, example, _BLANK_TARGET)

    def _ascii_under_floor(self, example: Example, chars: int, turn_count: int) -> bool:
        """Whether all text is ASCII (one byte per character; `isascii()` is O(1)) and
        that tighter bound already keeps the example under every token limit."""
        counter = self.counter
        if max(1, counter.per_char // 4) * chars + counter.per_text * (turn_count + 1) > self.token_floor:
            return False
        texts = [example.system or "", example.input_text, example.target_text, example.rejected_text or ""]
        if not example.plain:
            texts.extend(turn.text for turn in example.turns)
        return all(text.isascii() for text in texts)

    def _where(self, example: Example, index: int, role: str) -> str:
        label = turn_label(example, index, role)
        return label[0].upper() + label[1:]

    def _check_tokens(self, example: Example) -> None:
        counter = self.counter
        bound = counter.upper_bound
        max_tokens, max_turn_tokens = self.max_tokens, self.max_turn_tokens
        texts = list(scoped_texts(example, None))
        bounds = [bound(scoped.text) for scoped in texts]
        # Skip counting when no bound can reach a limit (nearly always).
        example_bound = sum(bounds)
        need_example = max_tokens is not None and example_bound > max_tokens
        need_turns = max_turn_tokens is not None and max(bounds, default=0) > max_turn_tokens
        if not (need_example or need_turns):
            return
        counts = {}
        for scoped, upper in zip(texts, bounds):
            if need_example or upper > (max_turn_tokens or 0):
                counts[scoped.index] = counter.count(scoped.text)
        if need_turns:
            for scoped in texts:
                tokens = counts.get(scoped.index)
                if tokens is not None and tokens > max_turn_tokens:
                    self._add(
                        TURN_TOO_MANY_TOKENS, example,
                        f"{self._where(example, scoped.index, scoped.role)} has {counter.describe(tokens)}, over "
                        f"max_turn_tokens = {max_turn_tokens:,}; trim it.",
                    )
        if need_example:
            tokens = sum(count for index, count in counts.items() if index >= 0)
            rejected = counts.get(-1)
            if rejected is not None:
                tokens += max(0, rejected - counts.get(len(example.turns) - 1, 0))
            if tokens > max_tokens:
                self._add(
                    EXAMPLE_TOO_MANY_TOKENS, example,
                    f"Example has {counter.describe(tokens)}, over max_tokens = {max_tokens:,}; shorten it, split "
                    "the conversation or drop it.",
                )

    def _check_preference(self, example: Example) -> None:
        record = example.record
        rejected = example.rejected_text
        if rejected is not None and not _has_visible(rejected):
            self._add(
                BLANK_ANSWER, example,
                "The rejected answer is empty or blank; a pair needs a real unwanted answer to compare with.",
            )
        target = example.target_text
        if target and target.strip() and not _has_visible(target):
            self._add(
                BLANK_ANSWER, example,
                "The chosen answer contains only invisible characters; write the answer or drop the pair.",
            )
        for key in ("chosen", "rejected"):
            messages = record.get(key)
            if isinstance(messages, list) and messages:
                last = messages[-1]
                if isinstance(last, dict) and last.get("role") == "user":
                    self._add(
                        ENDS_ON_USER_TURN, example,
                        f"The `{key}` conversation ends on a user turn (`{key}[{len(messages) - 1}]`); end it with "
                        "the assistant answer being judged.",
                    )

    def _add(self, found, example: Example, message: str) -> None:
        code = found.code
        listed = self.listed.get(code, 0)
        if listed >= MAX_LISTED:
            self.overflow.setdefault(code, array("I")).append(example.line)
            return
        self.listed[code] = listed + 1
        self.findings.append(found.at(self.path, example.line, message))

    # -- per file ----------------------------------------------------------------------

    def finish(self) -> list[Finding]:
        self._outliers()
        rules = {r.code: r for r in (
            EXAMPLE_TOO_LONG, EXAMPLE_TOO_MANY_TOKENS, TURN_TOO_LONG, TURN_TOO_MANY_TOKENS, BLANK_ANSWER,
            ENDS_ON_USER_TURN, LENGTH_OUTLIER, HUGE_EXAMPLE,
        )}
        for code, lines in self.overflow.items():
            found = rules[code]
            self.findings.append(
                found.at(
                    self.path, lines[0],
                    f"{len(lines)} more {found.name} findings in this file are not listed one by one "
                    f"(the first {MAX_LISTED} are).",
                    related=[(self.path, line) for line in lines[1:100]],
                )
            )
        return self.findings

    def _outliers(self) -> None:
        n = len(self.lengths)
        if n < MIN_EXAMPLES_FOR_OUTLIERS:
            return
        logs = sorted(math.log1p(size) for size in self.lengths)
        median = _median(logs)
        mad = _median(sorted(abs(value - median) for value in logs))
        scale = 1.4826 * mad
        if scale == 0:
            scale = 1e-9
        median_chars = math.expm1(median)
        high = max(median + OUTLIER_Z * scale, math.log1p(OUTLIER_RATIO * median_chars))
        low = min(median - OUTLIER_Z * scale, math.log1p(median_chars / OUTLIER_RATIO))
        for size, line in zip(self.lengths, self.lines):
            value = math.log1p(size)
            if value > high or value < low:
                ratio = size / median_chars if median_chars else float("inf")
                if value > high:
                    how = f"{ratio:.1f} times the median of this file ({median_chars:,.0f})"
                    advice = "check for pasted logs or looping text"
                else:
                    how = f"1/{1 / ratio:.0f} of the median of this file ({median_chars:,.0f})" if ratio else (
                        f"far below the median of this file ({median_chars:,.0f})"
                    )
                    advice = "check for a truncated or partial example"
                self._add(
                    LENGTH_OUTLIER, _Line(line),
                    f"Example has {size:,} characters, {how}; {advice}.",
                )


class _Line:
    """Stands in for an example when only its line is known (outliers are found at the end)."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line


def _median(values: list[float]) -> float:
    n = len(values)
    middle = n // 2
    return values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
