"""The few private pytest internals pytest-ftdata relies on, in one place.

Each has a public alternative that does not do the job; each is used only where the
comment says why, so a pytest upgrade that moves one breaks one function here.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest
from _pytest._code.code import ExceptionChainRepr, ReprEntryNative, ReprFileLocation, ReprTraceback

__all__ = ["ExceptionChainRepr", "ReprEntryNative", "ReprFileLocation", "ReprTraceback", "whole_assertion_values"]


class _AssertionVerbosity:
    """A stand-in for the config the assertion rewriter asks how much to show."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def get_verbosity(self, verbosity_type: str | None = None) -> int:
        if verbosity_type == pytest.Config.VERBOSITY_ASSERTIONS:
            return max(2, self._config.get_verbosity(verbosity_type))
        return self._config.get_verbosity(verbosity_type)

    def __getattr__(self, name: str):
        return getattr(self._config, name)


@contextmanager
def whole_assertion_values(config: pytest.Config) -> Iterator[None]:
    """While a test that reads dataset examples runs, let assertion messages quote
    values whole instead of cutting them to 240 characters.

    pytest cuts a long value in its middle before anything can redact it, which can
    leave a password in the first half and its `@host` in the other, out of the
    detector's reach. Whole values are redacted afterwards (`fixtures.redact_failure`)
    and only then shortened. The rewriter reads `_pytest.assertion.util._config`;
    there is no public hook for the repr size.
    """
    from _pytest.assertion import util  # read at call time: pytest sets `_config` per test

    saved = util._config
    util._config = _AssertionVerbosity(saved) if saved is not None else _AssertionVerbosity(config)
    try:
        yield
    finally:
        util._config = saved
