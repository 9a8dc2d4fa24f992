"""Text normalization and near-duplicate candidate search, in one streaming pass.

Nothing here knows about examples or pytest: `normalize()` turns a text into the
form duplicates are compared in, and `NearDuplicateIndex` finds pairs of texts whose
rapidfuzz similarity (`fuzz.ratio`, the normalized Indel similarity, 0-100) is at or
above a threshold without comparing every pair.

How candidates are found (a pigeonhole filter, as in PassJoin):

- Texts are bucketed by length on a geometric scale (each bucket 50% wider than the
  last). Two texts can only reach similarity `t` if their lengths are within a factor
  `(2 - t) / t` of each other, so a text only meets the few buckets that overlap its
  own length range.
- Each text is stored under two keys: its first `P` and its last `P` characters,
  where `P` (about 40% of the bucket's smallest length) is fixed per bucket. A later
  text looks up its own first and last `P` characters for every bucket in its range.
- Any edit confined to one contiguous region (a typo, a changed, added or removed
  word or phrase, different punctuation, a truncated end) leaves either the prefix or
  the suffix intact, so the pair shares a key. A single-character edit is always
  found, at any length, which is what MinHash with 5-character shingles misses on
  short inputs.
- Candidates are then verified with `rapidfuzz.fuzz.ratio` on the stored texts.

Pairs whose differences sit in two separate places, one in each half of the text,
share no key and are not found; at the thresholds where a pair still reads as a
near-duplicate (the default is 92) such pairs are rare, and they are the price of a
filter that costs a few microseconds per text. A key held by more than `MAX_BUCKET`
texts (a template's common opening) is compared with its first `MAX_BUCKET` only.

State per text: its UTF-8 bytes in one shared `bytearray` (inputs longer than
`STORED_CHARS` keep their head and tail), an 8-byte offset, and two dict entries.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from array import array
from functools import lru_cache
from typing import Iterator

from rapidfuzz.fuzz import ratio

#: Texts longer than this are stored (and verified) as their first and last half of it.
STORED_CHARS = 4000
#: At most this many texts are remembered per key; later texts are compared with them
#: only. Keeps a very common prefix (a greeting, a template) from making the search
#: quadratic.
MAX_BUCKET = 8
#: Bucket lower bounds grow by this factor.
BUCKET_GROWTH = 1.5

_PUNCTUATION: re.Pattern | None = None
_ASCII_PUNCTUATION = str.maketrans("", "", "!\"#%&'()*,-./:;?@[\\]_{}")


def _punctuation_pattern() -> re.Pattern:
    """Every Unicode punctuation character (general category P*)."""
    global _PUNCTUATION
    if _PUNCTUATION is None:
        chars = [chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")]
        _PUNCTUATION = re.compile("[" + "".join(re.escape(c) for c in chars) + "]+")
    return _PUNCTUATION


def normalize(text: str, ignore_punctuation: bool = False) -> str:
    """The form inputs are compared in: Unicode NFKC, case folded, runs of whitespace
    collapsed to one space and trimmed; with `ignore_punctuation`, punctuation
    (Unicode category P, so `’` and `¿` too, but not `$` or `€`) is removed first."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = text.casefold()
        if ignore_punctuation:
            text = _punctuation_pattern().sub("", text)
    else:
        text = text.lower()
        if ignore_punctuation:
            text = text.translate(_ASCII_PUNCTUATION)
        # Most inputs are already tidy: printable ASCII has no whitespace but the space.
        if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text
    return " ".join(text.split())


def length_range(length: int, threshold: float) -> tuple[int, int]:
    """The lengths a text of `length` characters can have a `threshold` (0-1) ratio with."""
    if threshold <= 0:
        return 0, sys.maxsize
    low = math.ceil(length * threshold / (2 - threshold) - 1e-9)
    high = length * (2 - threshold) / threshold + 1e-9
    # A tiny threshold (`near_duplicate_threshold = 1e-320`) overflows the float.
    return low, math.floor(high) if math.isfinite(high) and high < sys.maxsize else sys.maxsize


def min_near_length(threshold: float) -> int:
    """The shortest text that can have a near-duplicate (not an identical one) at
    `threshold` (0-1): one inserted character already costs `1 / (2L + 1)`."""
    if threshold >= 1:
        return sys.maxsize
    return max(1, math.ceil(threshold / (2 * (1 - threshold)) - 1e-9))


@lru_cache(maxsize=None)
def _bucket_bounds() -> tuple[int, ...]:
    bounds = [1]
    while bounds[-1] < 1 << 40:
        bounds.append(max(bounds[-1] + 1, math.floor(bounds[-1] * BUCKET_GROWTH)))
    return tuple(bounds)


@lru_cache(maxsize=65536)
def bucket_of(length: int) -> int:
    """The index of the length bucket holding `length`."""
    bounds = _bucket_bounds()
    low, high = 0, len(bounds) - 1
    while low < high:  # the last bound <= length
        middle = (low + high + 1) // 2
        if bounds[middle] <= length:
            low = middle
        else:
            high = middle - 1
    return low


def anchor_length(bucket: int) -> int:
    """Characters in the prefix and suffix keys of a bucket: at most `(B - 1) // 2` for
    its smallest length `B`, so one edited character can never hit both."""
    smallest = _bucket_bounds()[bucket]
    return max(1, min(2 * smallest // 5, (smallest - 1) // 2))


#: Per bucket, the salts of its prefix and suffix keys (keys are `hash(piece) ^ salt`:
#: cheaper than hashing a tuple, and the same piece in two buckets gets two keys).
_SALTS = [(0x5BD1E995 * (2 * b + 1) * 0x9E3779B97F4A7C15 & 0x7FFFFFFFFFFFFFFF,
           0x27D4EB2F * (2 * b + 2) * 0xC2B2AE3D27D4EB4F & 0x7FFFFFFFFFFFFFFF) for b in range(len(_bucket_bounds()))]


@lru_cache(maxsize=65536)
def _probe_plan(length: int, threshold: float) -> tuple[tuple[int, int, int, int], ...]:
    """(anchor length, prefix salt, suffix salt, own?) for every bucket a text of
    `length` must look into; the text's own bucket comes first."""
    low, high = length_range(length, threshold)
    low = max(low, 1)
    own = bucket_of(length)
    plan = []
    for bucket in [own] + [b for b in range(bucket_of(low), bucket_of(high) + 1) if b != own]:
        anchor = anchor_length(bucket)
        if anchor <= length:
            plan.append((anchor, *_SALTS[bucket], bucket == own))
    return tuple(plan)


class NearDuplicateIndex:
    """Streams texts in; finds the pairs at or above `threshold` (0-100) similarity.

    `add(ident, text)` stores a text (the caller's integer id) and records candidate
    pairs with the texts added before it; `verify()` checks them with rapidfuzz and
    returns `(ident_a, ident_b, score)` for the true near-duplicates, `ident_a` added
    first. Add each distinct text once: identical texts are the caller's business.
    """

    def __init__(self, threshold: float = 90.0, max_bucket: int = MAX_BUCKET) -> None:
        self.threshold = threshold
        self._fraction = threshold / 100.0
        self._min_length = min_near_length(self._fraction)
        self._max_bucket = max_bucket
        self._keys: dict[int, int | list[int]] = {}
        self._plans: dict[int, tuple] = {}
        self._blob = bytearray()
        self._offsets = array("Q", [0])
        self._idents = array("q")
        self._cand_a = array("I")
        self._cand_b = array("I")

    def __len__(self) -> int:
        return len(self._idents)

    @property
    def candidate_count(self) -> int:
        return len(self._cand_a)

    def add(self, ident: int, text: str) -> int:
        """Store `text`; returns its position in the index."""
        position = len(self._idents)
        self._idents.append(ident)
        length = len(text)
        if length > STORED_CHARS:
            half = STORED_CHARS // 2
            self._blob += (text[:half] + text[-half:]).encode("utf-8", "surrogatepass")
        else:
            self._blob += text.encode("utf-8", "surrogatepass")
        self._offsets.append(len(self._blob))
        if length < self._min_length:
            return position
        plan = self._plans.get(length)
        if plan is None:
            plan = self._plans[length] = _probe_plan(length, self._fraction)
        keys = self._keys
        get = keys.get
        found = None
        own_keys = None
        for anchor, head_salt, tail_salt, own in plan:
            head = hash(text[:anchor]) ^ head_salt
            tail = hash(text[-anchor:]) ^ tail_salt
            at_head = get(head)
            at_tail = get(tail)
            if own:
                own_keys = ((head, at_head), (tail, at_tail))
            if at_head is not None or at_tail is not None:
                if found is None:
                    found = set()
                for stored_at in (at_head, at_tail):
                    if stored_at is None:
                        continue
                    if type(stored_at) is int:
                        found.add(stored_at)
                    else:
                        found.update(stored_at)
        if found:
            for other in sorted(found):
                self._cand_a.append(other)
                self._cand_b.append(position)
        if own_keys is not None:
            for key, stored_at in own_keys:
                if stored_at is None:
                    keys[key] = position
                elif type(stored_at) is int:
                    keys[key] = [stored_at, position]
                elif len(stored_at) < self._max_bucket:
                    stored_at.append(position)
        return position

    def text(self, position: int) -> str:
        """The stored text at `position` (head and tail only for very long texts)."""
        return self._blob[self._offsets[position] : self._offsets[position + 1]].decode("utf-8", "surrogatepass")

    def ident(self, position: int) -> int:
        return self._idents[position]

    def candidates(self) -> Iterator[tuple[int, int]]:
        return zip(self._cand_a, self._cand_b)

    def verify(self) -> list[tuple[int, int, float]]:
        """The candidate pairs at or above the threshold, as (ident_a, ident_b, score)."""
        out = []
        cutoff = self.threshold
        text = self.text
        idents = self._idents
        for a, b in zip(self._cand_a, self._cand_b):
            score = ratio(text(a), text(b), score_cutoff=cutoff)
            if score:
                out.append((idents[a], idents[b], score))
        return out

    def stored_keys(self) -> Iterator[tuple[int, int]]:
        """(key, ident) of every text stored under a key: per key, the first `max_bucket`
        texts in the order they were added (what later texts can still meet)."""
        idents = self._idents
        for key, stored_at in self._keys.items():
            if type(stored_at) is int:
                yield key, idents[stored_at]
            else:
                for position in stored_at:
                    yield key, idents[position]

    def candidate_idents(self) -> Iterator[tuple[int, int]]:
        """The candidate pairs found so far, as (ident_a, ident_b), in the order found."""
        idents = self._idents
        for a, b in zip(self._cand_a, self._cand_b):
            yield idents[a], idents[b]

    def release(self) -> None:
        """Drop the key table (only `text()` is needed after `verify()`)."""
        self._keys = {}


def stored_form(text: str) -> str:
    """The form `NearDuplicateIndex` stores and verifies a text in: its first and last
    `STORED_CHARS // 2` characters when it is longer than `STORED_CHARS`."""
    if len(text) > STORED_CHARS:
        half = STORED_CHARS // 2
        return text[:half] + text[-half:]
    return text


def anchor_keys(text: str, fraction: float, min_length: int) -> tuple[list[int], tuple[int, int] | None]:
    """The keys `NearDuplicateIndex.add` would look `text` up under (every bucket of its
    probe plan, head and tail), and the two it would store it under (its own bucket's),
    or None: the same values, computed the same way, so that an out-of-core join on
    them finds the candidate pairs the in-memory index finds (`families/spill.py`).
    `fraction` is the threshold as 0-1; `min_length` is `min_near_length(fraction)`."""
    length = len(text)
    if length < min_length:
        return [], None
    probe: list[int] = []
    own = None
    for anchor, head_salt, tail_salt, is_own in _probe_plan(length, fraction):
        head = hash(text[:anchor]) ^ head_salt
        tail = hash(text[-anchor:]) ^ tail_salt
        probe.append(head)
        probe.append(tail)
        if is_own:
            own = (head, tail)
    return probe, own


def similarity(a: str, b: str) -> float:
    """The score candidates are verified with: rapidfuzz's normalized Indel similarity."""
    return ratio(a, b)
