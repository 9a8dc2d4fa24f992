"""The task a dataset teaches, and the rule defaults that depend on it.

The same fact means different things across tasks: one prompt with two different
answers is a contradiction for a classifier and ordinary for a poem. So the task is
decided once per dataset directory, shown, settable (`task = "generation"`), and the
rules read it for their defaults instead of each guessing.

`detect_task` looks at the first `SAMPLE` records of every file (a bounded read that
does not depend on the rest of the run, so every process decides the same) and
follows this list, first match wins:

1. `task` is set in the config (not `auto`): that task.
2. Most records use the preference layout: `preference`.
3. `label` is set: `classification`.
4. Most targets end in a final-answer marker (`#### 42`, `\\boxed{42}`, "The answer is
   42"): `reasoning`.
5. Most targets are JSON objects: with one key (mostly) `classification`, with
   several keys `extraction`.
6. The targets are short strings (nine in ten at most 60 characters and three words)
   that repeat (at most a tenth as many distinct ones as targets, or 50) or are all
   single words such as `reset_pin`: `classification`.
7. Otherwise: `generation`.

`TASK_DEFAULTS` changes default severities per task; `[tool.ftdata.rules]` still wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import orjson

from .arithmetic import final_answer_marker
from .config import FtdataConfig
from .formats import detect_format, make_example
from .readers import open_reader

TASKS = ("classification", "extraction", "generation", "reasoning", "preference")
#: Records read per file to decide the task.
SAMPLE = 2000
#: Targets longer than this are not labels.
LABEL_CHARS = 60

#: rule code -> task -> severity ("off" turns the rule off for that task). Rules not
#: listed keep their declared severity for every task.
TASK_DEFAULTS: dict[str, dict[str, str]] = {
    # Several answers to one prompt: a contradiction for a classifier or an extractor,
    # variety for a poem, a proof or a ranked pair (the messages say so too).
    "DUP004": {"generation": "warning", "reasoning": "warning", "preference": "warning"},
    "LEAK004": {"generation": "warning", "reasoning": "warning", "preference": "warning"},
    # Near-identical prompts with different answers are the point of open-ended data (a
    # reasoning problem with a name swapped is still worth a look: it stays a warning).
    "DUP005": {"generation": "off", "preference": "off"},
}


@dataclass(frozen=True)
class TaskChoice:
    task: str
    #: Why, in one phrase a person can check ("`label` is set").
    reason: str


def task_default(code: str, task: str) -> str | None:
    """The severity (or "off") `code` has by default for `task`, when it differs."""
    return TASK_DEFAULTS.get(code, {}).get(task)


def _targets(paths: Iterable[Path], config: FtdataConfig) -> tuple[list[str], int, int]:
    """(sampled targets, sampled records, preference records)."""
    targets: list[str] = []
    records = preference = 0
    for path in paths:
        seen = 0
        for _, value in open_reader(path, max_line_bytes=config.max_line_bytes):
            if type(value) is not dict:
                continue
            fmt = detect_format(value) or config.format
            if fmt is None:
                continue
            seen += 1
            records += 1
            if fmt == "preference":
                preference += 1
            try:
                targets.append(make_example(str(path), 0, value, fmt).target_text)
            except Exception:  # a record too odd to view: the schema family says why
                pass
            if seen >= SAMPLE:
                break
    return targets, records, preference


def detect_task(paths: Iterable[Path], config: FtdataConfig) -> TaskChoice:
    """The task of the dataset made of `paths` (see the module docstring for the order)."""
    if config.task != "auto":
        return TaskChoice(config.task, "set by `task` in the configuration")
    targets, records, preference = _targets(paths, config)
    if records and preference * 2 > records:
        return TaskChoice("preference", "most records are preference pairs (chosen and rejected answers)")
    if config.label:
        return TaskChoice("classification", f"`label` is set ({config.label})")
    texts = [t.strip() for t in targets if t and t.strip()]
    if not texts:
        return TaskChoice("generation", "no targets to look at")
    marked = sum(1 for text in texts if final_answer_marker(text))
    if marked * 2 > len(texts):
        return TaskChoice("reasoning", f"{marked} of {len(texts)} sampled targets end in a final-answer marker")
    objects = []
    for text in texts:
        if text[:1] == "{":
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if type(value) is dict:
                objects.append(value)
    if len(objects) * 2 > len(texts):
        one_key = sum(1 for value in objects if len(value) == 1)
        if one_key * 2 > len(objects):
            return TaskChoice("classification", f"{len(objects)} of {len(texts)} sampled targets are one-key JSON objects")
        return TaskChoice("extraction", f"{len(objects)} of {len(texts)} sampled targets are JSON objects with several keys")
    distinct = len(set(texts))
    short = sum(1 for text in texts if len(text) <= LABEL_CHARS and len(text.split()) <= 3)
    repeated = distinct <= max(50, len(texts) // 10) and len(texts) >= 2 * distinct
    names = all(len(text) <= LABEL_CHARS and not any(c.isspace() for c in text) for text in texts)
    if short * 10 >= len(texts) * 9 and (repeated or names):
        return TaskChoice("classification", f"the {len(texts)} sampled targets are {distinct} distinct short strings")
    return TaskChoice("generation", f"the sampled targets are free text ({distinct} distinct in {len(texts)})")
