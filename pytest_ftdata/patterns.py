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


def compile_error(pattern: str) -> str | None:
    """Why `pattern` does not compile, or None when it does."""
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
