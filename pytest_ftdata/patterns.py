"""User regular expressions, run with a time budget.

`[[tool.ftdata.banned]]`, `pii.allow_patterns` and the `pattern` keywords of a JSON
Schema are written by users, or by whoever wrote the schema a project downloaded, and
run on every example. A pattern such as `^(a|a)+$` backtracks for minutes on a short
string, and a CI job that hangs is as bad as one that crashes.

So patterns run on the `regex` module (Python's `re` syntax, plus a timeout that its
matcher checks while it backtracks) rather than `re`, under two bounds:

- a single search or match that takes longer than `CALL_SECONDS` stops with
  `PatternTooSlow`;
- a pattern whose searches add up to more than `TOTAL_SECONDS` in one process stops
  too: a pattern at 10 ms a call is no hang on one example and hours on a million.

The caller turns `PatternTooSlow` into a finding that names the pattern and stops
using it; the rest of the run goes on.

Why `regex` and not a linear-time engine such as `google-re2`: RE2 refuses
look-arounds and back-references, which real banned-phrase lists use (`(?<!not )`),
and users write Python patterns; `regex` keeps their syntax and bounds the time.
"""

from __future__ import annotations

import re
import time

import regex

#: Longest one search or match may take, in seconds.
CALL_SECONDS = 0.25
#: Longest all searches of one pattern may take together in one process, in seconds.
TOTAL_SECONDS = 30.0


class PatternTooSlow(Exception):
    """A pattern ran over its time budget."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r} {reason}")
        self.pattern = pattern
        self.reason = reason


class PatternError(ValueError):
    """A pattern that does not compile, phrased for the user."""


#: Pattern steps a pattern's counted repeats may expand to. The `regex` module (as `re`)
#: compiles `x{1000}` into a thousand copies of `x`, so nested counts multiply:
#: `(?:a{1000}){1000}` takes seconds and hundreds of MB to compile, `a{100000000}` tens
#: of GB, and a compile cannot be given a timeout. Ordinary patterns (`\d{4}`,
#: `[A-Z]{2}\d{2}[A-Z0-9]{10,30}`) expand to a few dozen steps.
MAX_EXPANSION = 10_000
#: Deepest nesting of groups a pattern may have (the parser recurses once per group).
MAX_GROUP_DEPTH = 100
_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_BRACED_ESCAPES = frozenset("pPNxuUg")


def expansion(pattern: str) -> tuple[int, int]:
    """An upper bound of the steps `pattern` compiles to, and its deepest group nesting.

    Every atom counts one step, a group the sum of its atoms (over all alternatives),
    and a counted repeat `{m}`, `{m,}` or `{m,n}` multiplies what it repeats by `m`
    (only the minimum is copied; the rest is a loop). Stops counting past the bounds."""
    stack = [[0, 0]]  # per open group: [steps so far, steps of the last atom]
    deepest = 0
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        frame = stack[-1]
        if char == "\\":
            i += 2
            if i - 1 < n and pattern[i - 1] in _BRACED_ESCAPES and i < n and pattern[i] == "{":
                close = pattern.find("}", i)
                i = n if close < 0 else close + 1
            frame[0] += 1
            frame[1] = 1
            continue
        if char == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            frame[0] += 1
            frame[1] = 1
            continue
        if char == "(":
            if pattern.startswith("(?#", i):
                close = pattern.find(")", i)
                i = n if close < 0 else close + 1
                continue
            stack.append([0, 0])
            deepest = max(deepest, len(stack) - 1)
            if deepest > MAX_GROUP_DEPTH:
                return 0, deepest
            i += 1
            continue
        if char == ")" and len(stack) > 1:
            steps = stack.pop()[0]
            stack[-1][0] += steps
            stack[-1][1] = steps
            i += 1
        elif char == "|":
            frame[1] = 0
            i += 1
        elif char == "{" and (counted := _COUNTED.match(pattern, i)) and (counted.group(1) or counted.group(2)):
            times = max(int(counted.group(1) or 0), 1)
            frame[0] += frame[1] * (times - 1)
            frame[1] *= times
            i = counted.end()
        elif char in "*+?":
            i += 1
        else:
            frame[0] += 1
            frame[1] = 1
            i += 1
        if frame[0] > MAX_EXPANSION:
            return frame[0], deepest
    return sum(frame[0] for frame in stack), deepest


def compile_error(pattern: str) -> str | None:
    """Why `pattern` does not compile (or would take too long or too much memory to), or None when it does."""
    if not isinstance(pattern, str):
        return f"a pattern must be a string, not {type(pattern).__name__}"
    steps, deepest = expansion(pattern)
    if deepest > MAX_GROUP_DEPTH:
        return f"its groups nest more than {MAX_GROUP_DEPTH} levels deep; flatten the pattern"
    if steps > MAX_EXPANSION:
        return (
            f"its counted repeats expand to more than {MAX_EXPANSION:,} steps (nested counts such as "
            "`(?:a{100}){100}` multiply), which would take seconds and much memory to compile; "
            "use a smaller count or `+`"
        )
    try:
        regex.compile(pattern, regex.V0)
    except regex.error as exc:
        return str(exc)
    except (TypeError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return type(exc).__name__
    return None


class BoundedPattern:
    """One compiled user pattern and its time spent so far."""

    __slots__ = ("pattern", "_compiled", "spent", "call_seconds", "total_seconds")

    def __init__(self, pattern: str, *, call_seconds: float = CALL_SECONDS, total_seconds: float = TOTAL_SECONDS):
        error = compile_error(pattern)
        if error is not None:
            raise PatternError(f"{pattern!r} is not a valid regular expression: {error}")
        self.pattern = pattern
        self._compiled = regex.compile(pattern, regex.V0)
        self.spent = 0.0
        self.call_seconds = call_seconds
        self.total_seconds = total_seconds

    def _run(self, method, text: str):
        started = time.perf_counter()
        try:
            return method(text, timeout=self.call_seconds)
        except TimeoutError:
            raise PatternTooSlow(
                self.pattern, f"took longer than {self.call_seconds:g} s on one text (catastrophic backtracking)"
            ) from None
        finally:
            self.spent += time.perf_counter() - started
            if self.spent > self.total_seconds:
                raise PatternTooSlow(self.pattern, f"took more than {self.total_seconds:g} s in all on this file")

    def search(self, text: str):
        return self._run(self._compiled.search, text)

    def fullmatch(self, text: str):
        return self._run(self._compiled.fullmatch, text)

    def count(self, text: str, limit: int = 1000) -> int:
        """How many non-overlapping matches `text` has (at most `limit`)."""
        started = time.perf_counter()
        found = 0
        try:
            for _ in self._compiled.finditer(text, timeout=self.call_seconds):
                found += 1
                if found >= limit:
                    break
        except TimeoutError:
            raise PatternTooSlow(
                self.pattern, f"took longer than {self.call_seconds:g} s on one text (catastrophic backtracking)"
            ) from None
        finally:
            self.spent += time.perf_counter() - started
        return found
