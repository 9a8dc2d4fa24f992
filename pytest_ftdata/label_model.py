"""Suspect labels: classification examples whose label the rest of the dataset contradicts.

"Remove examples with wrong answers." For a classification dataset this module asks
a fast text model, trained without the example, which label the example's text
looks like; confident learning (cleanlab) then decides which disagreements are
label issues rather than ordinary model mistakes. It also counts the label pairs
the model confuses most: the "confusing label pairs" a dataset must cover.

    find_suspect_labels(texts, labels, splits=None, *, folds=5, seed=0,
                        max_related=3, max_pairs=20, train_split="train")
        -> LabelModelResult(suspects, confused_pairs, skipped_reason, unjudged, diagnostics)

How (benchmarks/README_labels.md has the measurements behind each choice):

1. Features. Each text is lower-cased with runs of whitespace collapsed, and cut to
   its first and last `MAX_CHARS // 2` characters. Its character 2-5-grams inside
   word boundaries (scikit-learn's `char_wb`: each word padded with a space on each
   side) and its word unigrams and bigrams (runs of `\\w`) are hashed with a fixed
   64-bit hash (never Python's salted `hash()`), weighted by sublinear TF times IDF
   (document frequencies from at most `IDF_SAMPLE` texts, every k-th), and the two
   blocks, each of unit length, words weighted `WORD_WEIGHT`, are added into a
   count sketch of `dim` coordinates: each n-gram adds its weight, with a hashed
   sign, to one hashed coordinate, a sparse random projection that keeps inner
   products in expectation. Rows are scaled to unit length and stored as int8 codes
   with one float32 scale per row. `dim` is `MAX_DIM` up to `SKETCH_BUDGET / MAX_DIM`
   examples and halves down to `MIN_DIM` as n grows, so the model's cost (n x dim)
   stays flat up to twice that size; no n x vocabulary matrix is ever built.
2. Out-of-sample probabilities. A multinomial logistic regression (softmax, Adam on
   minibatches, a linearly decaying step) is trained `folds` times, each time on all
   but one fold of the training pool (folds stratified by label, seeded). Each pool
   example is predicted by the model that did not see it; every other example
   (validation, test, no split) by the mean of the `folds` models, so a wrong label
   in the test split is judged too and no example is judged by a model that saw it.
   The pool is the examples whose split is `train_split`, or all of them when no
   example has that split.
3. Confident learning. `cleanlab.filter.find_label_issues(..., filter_by=
   "low_self_confidence")` runs once on the pool and once on each other split, on
   its own probabilities: the number of issues is cleanlab's estimate (the
   off-diagonal of its confident joint, with per-class thresholds learnt from that
   group), and the examples flagged are those with the lowest probability of their
   own label. `prune_by_noise_rate`, cleanlab's default, rounds its count per label
   pair and so misses random errors spread over many pairs. A flagged example whose
   own label is still the likeliest would be ambiguous, not contradicted, and is
   dropped; cleanlab's count leaves such examples out already (none was dropped on
   CLINC150 or Banking77), so this only guarantees `suggested != given`.
4. Each suspect names the likeliest other label (`suggested`), the model's
   out-of-sample probability of it (`confidence`) and of the given label
   (`given_probability`, cleanlab's self-confidence score), and up to `max_related`
   examples that carry the suggested label, are not suspects themselves and are
   the most similar by cosine on the exact TF-IDF vectors (a shortlist of
   `SHORTLIST` from the sketch, re-ranked exactly), best first.
5. Confused pairs: over every judged example, the out-of-sample predictions of `a`
   for examples labelled `b` plus those of `b` for examples labelled `a`, for the
   `max_pairs` pairs with the most (at least 2), with each split's count of both.

What to expect (CLINC150 and Banking77, benchmarks/README_labels.md): 95% of 60
planted wrong labels found with 1-2% of train flagged. Most flags that were not
planted are ambiguous or vague texts rather than errors, but the model's confidence
tells them apart: the sampled flags with `confidence` of 0.9 or more were real
label errors, so a caller should show suspects by confidence. cleanlab's count is
conservative where the model is near-certain of almost every example (templated
text), and a catch-all label such as CLINC150's `oos`, learnt from few examples, is
over-represented among the flags of a split where it is common.

Invariants:

- The same input gives the same output on one machine: folds, minibatch orders and
  hashes are seeded or fixed, and ties are broken by position.
- Nothing here raises on data. A blank text, a missing label, or a label with fewer
  than `folds` examples in the pool leaves the example unjudged (`unjudged` says
  why); when fewer than `MIN_EXAMPLES` pool examples, fewer than two labels or more
  than `MAX_LABELS` remain, there are no suspects and `skipped_reason` says why.
- The one exception is `LabelModelUnavailable` (an `ImportError`), raised when numpy
  or cleanlab is missing, whose message ends with the install command. The caller
  turns it into a finding: a missing extra is never a silent pass.
- Memory: the sketch (n x dim bytes), the probabilities (n x labels float32, and
  one copy of a split's share inside cleanlab) and one chunk of n-grams at a time.
- Nothing here imports pytest or another pytest_ftdata module; numpy and cleanlab
  are imported when `find_suspect_labels` runs, so importing this module is free
  and works without the extra.
"""

from __future__ import annotations

import contextlib

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

#: The install command of the optional dependencies, quoted for a POSIX shell.
INSTALL_COMMAND = "pip install 'pytest-ftdata[labels]'"

#: Fewer pool examples than this and the model has too little to learn from.
MIN_EXAMPLES = 50
#: More labels than this is not a classification task this model can judge (a free
#: text target read as a label, most often), and the probabilities (n x labels) and
#: weights (dim x folds x labels, four copies) would grow without bound.
MAX_LABELS = 1000
#: Characters of a text the model reads: its first and last half of this. Intent
#: utterances are far shorter; a long prompt keeps its opening and its end, and the
#: n-grams of one chunk stay bounded.
MAX_CHARS = 2000
#: Document frequencies come from at most this many texts (every k-th).
IDF_SAMPLE = 50_000
#: Weight of the word block beside the character block (both of unit length).
WORD_WEIGHT = 0.6
#: Largest and smallest sketch dimension (powers of two), and the budget of n * dim.
MAX_DIM = 1024
MIN_DIM = 512
SKETCH_BUDGET = 50_000 * MAX_DIM
#: Characters hashed per chunk. The n-gram arrays of a chunk peak at about 150 bytes
#: a character (hashes, positions and the sort that counts them): about 15 MB.
CHUNK_CHARS = 100_000
#: Size of the document-frequency table (at most; a small sample gets a table about
#: 8 times its n-gram count); a collision merges the frequencies of two n-grams,
#: which matters only when both are rare.
IDF_BITS = 22
#: Training: minibatch size, Adam's step, and the epochs, which shrink as the pool
#: grows (a large pool gives as many steps in fewer passes): each fold model sees
#: about `TARGET_SEEN` examples, within [MIN_EPOCHS, MAX_EPOCHS] passes, and takes at
#: least `MIN_STEPS` steps (a pool of a few hundred is one minibatch a pass).
BATCH = 512
LEARNING_RATE = 0.05
MIN_EPOCHS = 1
MAX_EPOCHS = 4
TARGET_SEEN = 150_000
MIN_STEPS = 100
#: Candidates per suspect taken from the sketch before the exact re-ranking.
SHORTLIST = 12


class LabelModelUnavailable(ImportError):
    """numpy or cleanlab is not installed: the `labels` extra is missing."""


@dataclass(frozen=True)
class Suspect:
    """An example whose label the rest of the dataset contradicts."""

    index: int  # position in the `texts` given
    split: str | None
    given: str
    suggested: str  # the likeliest other label, out of sample
    confidence: float  # the model's out-of-sample probability of `suggested`, in [0, 1]
    given_probability: float  # ... and of `given` (cleanlab's self-confidence score)
    related: tuple[int, ...]  # positions of the most similar examples labelled `suggested`


@dataclass(frozen=True)
class ConfusedPair:
    """Two labels the model mixes up, `a` < `b`: `count` = `a_to_b` + `b_to_a`."""

    a: str
    b: str
    count: int
    a_to_b: int  # examples labelled a predicted b, out of sample
    b_to_a: int
    examples: dict[str | None, tuple[int, int]]  # split -> (judged examples of a, of b)


@dataclass(frozen=True)
class LabelModelResult:
    suspects: list[Suspect]  # by index
    confused_pairs: list[ConfusedPair]  # most confusions first
    skipped_reason: str | None = None  # why nothing was judged, or None
    #: index -> why that example was not judged (no label, no text, a rare label).
    unjudged: dict[int, str] = field(default_factory=dict)
    #: sizes, the model's out-of-sample agreement with the given labels, seconds per stage.
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _require():
    """numpy and cleanlab's `find_label_issues`, or `LabelModelUnavailable`."""
    try:
        import numpy  # the [labels] extra: imported on use, and its absence is a finding
        from cleanlab.filter import find_label_issues  # same extra
    except ImportError as exc:
        raise LabelModelUnavailable(
            f"the suspect-label check needs numpy, scikit-learn and cleanlab ({exc}); "
            f"install them with: {INSTALL_COMMAND}"
        ) from exc
    return numpy, find_label_issues


# -- features -------------------------------------------------------------------------------

_NON_WORD = re.compile(r"\W+")


def _clip(text: str) -> str:
    text = " ".join(text.lower().split())
    if len(text) > MAX_CHARS:
        half = MAX_CHARS // 2
        text = text[:half] + " " + text[-half:]
    return text


class _Hasher:
    """Hashes of the n-grams of a list of clipped texts, as flat numpy arrays.

    Texts are joined with `\\x01` (which no n-gram may contain) and hashed all at
    once: a polynomial hash of every character window, kept where the window does
    not cross a word boundary. Word hashes use prefix sums of `c[q] * R**q`, so the
    hash of any span is one subtraction and one multiplication (mod 2**64)."""

    def __init__(self, np):
        self.np = np
        U = np.uint64
        self.U = U
        self.M = U(0x9E3779B97F4A7C15)
        self.R = U(0x100000001B3)
        self.R_INV = U(pow(0x100000001B3, -1, 1 << 64))

    def _mix(self, h):
        # splitmix64's finalizer: every output bit depends on every input bit, so the
        # bit fields cut from one hash below (IDF slot, coordinate, sign) are independent.
        U = self.U
        h = h ^ (h >> U(30))
        h = h * U(0xBF58476D1CE4E5B9)
        h = h ^ (h >> U(27))
        h = h * U(0x94D049BB133111EB)
        return h ^ (h >> U(31))

    def _codes(self, docs: list[str]):
        np = self.np
        # surrogatepass: a lone surrogate (valid in JSON, not in UTF-32) is a code point
        # like any other here, not an error.
        codes = np.frombuffer("\x01".join(docs).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths + 1)[: len(codes)]
        return codes, doc_of

    def chars(self, texts: list[str]):
        np, U = self.np, self.U
        codes, doc_of = self._codes([f" {t} " for t in texts])
        c = codes.astype(U)
        n = len(c)
        separator = codes == 1
        boundary = (codes == 32) | separator
        boundary_cum = np.concatenate([[0], np.cumsum(boundary, dtype=np.int64)])
        separator_cum = np.concatenate([[0], np.cumsum(separator, dtype=np.int64)])
        docs, hashes = [], []
        h = c
        with np.errstate(over="ignore"):
            for size in range(2, 6):
                m = n - size + 1
                if m <= 0:
                    break
                h = h[:m] * self.M + c[size - 1 : size - 1 + m]
                # No boundary strictly inside the window, no separator anywhere in it:
                # the window lies in one space-padded word of one text.
                keep = (boundary_cum[size - 1 : size - 1 + m] == boundary_cum[1 : 1 + m]) & (
                    separator_cum[size : size + m] == separator_cum[:m]
                )
                docs.append(doc_of[:m][keep])
                hashes.append(self._mix(h[keep] ^ U(size)))
        if not docs:
            return np.zeros(0, np.int64), np.zeros(0, U)
        return np.concatenate(docs), np.concatenate(hashes)

    def words(self, texts: list[str]):
        np, U = self.np, self.U
        docs = [" " + " ".join(_NON_WORD.sub(" ", t).split()) + " " for t in texts]
        codes, doc_of = self._codes(docs)
        n = len(codes)
        with np.errstate(over="ignore"):
            powers = np.full(n, self.R, dtype=U)
            powers[0] = 1
            powers = np.cumprod(powers)
            inverse = np.full(n, self.R_INV, dtype=U)
            inverse[0] = 1
            inverse = np.cumprod(inverse)
            prefix = np.concatenate([np.zeros(1, U), np.cumsum(codes.astype(U) * powers)])
            cuts = np.flatnonzero((codes == 32) | (codes == 1))
            start, end = cuts[:-1] + 1, cuts[1:]
            real = end > start
            start, end = start[real], end[real]
            word_doc = doc_of[start]
            out_docs = [word_doc]
            out_hashes = [self._mix(((prefix[end] - prefix[start]) * inverse[start]) ^ U(101))]
            if len(start) > 1:
                same = word_doc[1:] == word_doc[:-1]
                s2, e2 = start[:-1][same], end[1:][same]
                out_docs.append(word_doc[:-1][same])
                out_hashes.append(self._mix(((prefix[e2] - prefix[s2]) * inverse[s2]) ^ U(202)))
        return np.concatenate(out_docs), np.concatenate(out_hashes)


def _chunks(lengths: Sequence[int], max_texts: int = 1 << 16) -> list[tuple[int, int]]:
    """Consecutive index ranges of about `CHUNK_CHARS` characters and at most
    `max_texts` texts each."""
    out, start, total = [], 0, 0
    for i, length in enumerate(lengths):
        total += length + 8
        if total >= CHUNK_CHARS or i + 1 - start >= max_texts:
            out.append((start, i + 1))
            start, total = i + 1, 0
    if start < len(lengths):
        out.append((start, len(lengths)))
    return out


class _Sketch:
    """Unit-length sketch rows as int8 codes times one float32 scale per row.

    A quarter of float32's memory (100 MB instead of 400 at 200,000 x 512). The
    rounding error, at most half of 1/127 of a row's largest coordinate, is far
    below the sketch's own; recall and flagged share measured identical to float32."""

    def __init__(self, np, rows: int, dim: int):
        self.np = np
        self.codes = np.empty((rows, dim), np.int8)
        self.scales = np.empty(rows, np.float32)

    def store(self, start: int, rows) -> None:
        np = self.np
        norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        norms[norms == 0] = 1.0
        rows /= norms[:, None]
        peak = np.abs(rows).max(axis=1)
        peak[peak == 0] = 1.0
        self.scales[start : start + len(rows)] = peak / 127.0
        self.codes[start : start + len(rows)] = np.rint(rows * (127.0 / peak)[:, None])

    def rows(self, indices):
        """float32 rows at `indices` (an integer array)."""
        out = self.codes[indices].astype(self.np.float32)
        out *= self.scales[indices][:, None]
        return out


class _Features:
    """Sublinear TF-IDF over hashed n-grams of `texts[positions[r]]` for each row r:
    the sketch for the model, and exact sparse vectors of a few rows for the
    related-example ranking. Texts are clipped when read, not copied up front."""

    def __init__(self, np, texts: Sequence[str], positions: list[int]):
        self.np = np
        self.hasher = _Hasher(np)
        self.source = texts
        self.positions = positions
        n = len(positions)
        step = max(1, math.ceil(n / IDF_SAMPLE))
        sample = [self.text(r) for r in range(0, n, step)]
        # About 5 n-grams a character, 8 slots an n-gram; the table's setup is then
        # no longer the fixed cost of a small dataset.
        bits = min(IDF_BITS, max(12, math.ceil(math.log2(40 * sum(map(len, sample)) + 1))))
        self.mask = np.uint64((1 << bits) - 1)
        self.idf = []
        for kind in (0, 1):
            df = np.zeros(1 << bits, np.int32)
            for lo, hi in _chunks([len(t) for t in sample]):
                _, h, _ = self._distinct(kind, sample[lo:hi])
                # Counted by sorting rather than by a bincount over the whole table,
                # which would allocate 32 MB per chunk.
                slots, counts = np.unique((h & self.mask).astype(np.int64), return_counts=True)
                df[slots] += counts.astype(np.int32)
            idf = df.astype(np.float32)
            del df
            idf += 1.0
            np.log(np.float32(1 + len(sample)) / idf, out=idf)
            idf += 1.0
            # float16 halves the two tables (8 MB each); an IDF needs no more than
            # its three significant digits.
            self.idf.append(idf.astype(np.float16))

    def text(self, row: int) -> str:
        return _clip(self.source[self.positions[row]])

    def _distinct(self, kind: int, texts: list[str]):
        """(text, hash, count) of each distinct n-gram of each text, as three aligned
        arrays sorted by text, then hash. Hashes keep their top 44 bits."""
        np = self.np
        U = np.uint64
        docs, hashes = (self.hasher.chars, self.hasher.words)[kind](texts)
        # 20 bits of position in the chunk (at most 2**16 texts) above 44 of hash.
        key = (docs.astype(U) << U(44)) | (hashes >> U(20))
        del docs, hashes
        key, counts = np.unique(key, return_counts=True)
        return (key >> U(44)).astype(np.int64), key & U((1 << 44) - 1), counts

    def _weighted(self, kind: int, texts: list[str]):
        """(text, hash, weight): sublinear TF times IDF, of unit length per text."""
        np = self.np
        d, h, counts = self._distinct(kind, texts)
        w = np.log(counts.astype(np.float32))
        w += 1.0
        w *= self.idf[kind][(h & self.mask).astype(np.int64)]
        norms = np.sqrt(np.bincount(d, weights=w * w, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0
        w /= norms[d]
        return d, h, w

    def sketch(self, dim: int) -> _Sketch:
        """The sketch of every row, `dim` coordinates each (a power of two)."""
        np = self.np
        n = len(self.positions)
        sketch = _Sketch(np, n, dim)
        # At most 8 MB of float64 rows per chunk.
        max_texts = max(64, (1 << 20) // dim)
        lengths = [min(len(self.source[p]), MAX_CHARS + 1) for p in self.positions]
        for lo, hi in _chunks(lengths, max_texts):
            texts = [self.text(r) for r in range(lo, hi)]
            rows = np.zeros((hi - lo) * dim, np.float64)
            for kind, scale in ((0, 1.0), (1, WORD_WEIGHT)):
                d, h, w = self._weighted(kind, texts)
                # Bits 22-33 pick the coordinate, bit 43 the sign; bits 0-21 were the
                # IDF slot: independent fields of one mixed hash.
                coordinate = ((h >> np.uint64(IDF_BITS)) & np.uint64(dim - 1)).astype(np.int64)
                sign = np.where((h >> np.uint64(43)) & np.uint64(1), scale, -scale)
                rows += np.bincount(d * dim + coordinate, weights=w * sign, minlength=(hi - lo) * dim)
            sketch.store(lo, rows.reshape(hi - lo, dim))
        return sketch

    def exact(self, rows: Sequence[int]) -> "_Exact":
        """Exact TF-IDF vectors (n-gram key -> weight, unit length) of `rows`, as flat
        arrays: each row's keys in one order (the character block, then the word block,
        each by key) and its weights in float64, as Python floats would hold them."""
        np = self.np
        rows = list(rows)
        parts: dict[int, list] = {}
        lengths = [min(len(self.source[self.positions[r]]), MAX_CHARS + 1) for r in rows]
        for lo, hi in _chunks(lengths):
            texts = [self.text(r) for r in rows[lo:hi]]
            for kind, scale in ((0, 1.0), (1, WORD_WEIGHT)):
                d, h, w = self._weighted(kind, texts)
                # One key space for both blocks: the low bit says which block.
                keys = (h.astype(np.int64) << 1) | kind
                weights = (w * scale).astype(np.float64)
                cuts = np.searchsorted(d, np.arange(hi - lo + 1))
                for doc in range(hi - lo):
                    a, b = cuts[doc], cuts[doc + 1]
                    if b > a:
                        parts.setdefault(rows[lo + doc], []).append((keys[a:b], weights[a:b]))
        return _Exact(np, rows, parts)


class _Exact:
    """The exact vectors of some rows and the cosine of two of them.

    Every sum adds the same float64 terms in the same order, one at a time, as the
    Python sums over `{key: weight}` dicts this replaces did (the norm over a row's
    terms in its order; a cosine over the candidate's terms that the query shares, in
    the candidate's order), so every score, ranking and tie is bit for bit what it was;
    the arrays take a tenth of the dicts' memory."""

    def __init__(self, np, rows: list[int], parts: dict[int, list]):
        self.np = np
        self.keys: dict[int, Any] = {}
        self.weights: dict[int, Any] = {}
        self._sorted: dict[int, tuple] = {}
        empty_keys, empty_weights = np.zeros(0, np.int64), np.zeros(0, np.float64)
        for row in rows:
            pieces = parts.get(row)
            if not pieces:
                self.keys[row], self.weights[row] = empty_keys, empty_weights
                continue
            keys = np.concatenate([k for k, _ in pieces])
            weights = np.concatenate([w for _, w in pieces])
            norm = math.sqrt(sum((weights * weights).tolist())) or 1.0
            self.keys[row], self.weights[row] = keys, weights / norm

    def cosines(self, query: int, candidates: Sequence[int]) -> list[float]:
        """The cosine of row `query` with each of `candidates`."""
        np = self.np
        if query not in self._sorted:
            order = np.argsort(self.keys[query], kind="stable")
            self._sorted[query] = (self.keys[query][order], self.weights[query][order])
        query_keys, query_weights = self._sorted[query]
        if not len(query_keys):
            return [0.0] * len(candidates)
        keys = np.concatenate([self.keys[r] for r in candidates])
        weights = np.concatenate([self.weights[r] for r in candidates])
        offsets = np.cumsum([0] + [len(self.keys[r]) for r in candidates])
        at = np.minimum(np.searchsorted(query_keys, keys), len(query_keys) - 1)
        shared = query_keys[at] == keys
        # Only the shared terms are added (a term the query lacks would add an exact 0.0),
        # each candidate's left to right, as Python's sum does.
        terms = (weights[shared] * query_weights[at[shared]]).tolist()
        bounds = np.concatenate([[0], np.cumsum(shared)])[offsets].tolist()
        return [sum(terms[a:b]) for a, b in zip(bounds, bounds[1:])]


def _dimension(n: int) -> int:
    dim = MAX_DIM
    while dim > MIN_DIM and n * dim > SKETCH_BUDGET:
        dim //= 2
    return dim


def _epochs(pool: int, folds: int) -> int:
    per_model = max(1, pool * (folds - 1) // folds)
    epochs = max(MIN_EPOCHS, min(MAX_EPOCHS, math.ceil(TARGET_SEEN / per_model)))
    return max(epochs, math.ceil(MIN_STEPS / math.ceil(pool / BATCH)))


# -- model ----------------------------------------------------------------------------------


def _one_blas_thread():
    """BLAS limited to one thread while the model trains.

    The plugin's items run one process per core under xdist, where a BLAS thread pool
    per process oversubscribes the cores; on the shared 2-core benchmark machine one
    thread fitted 200,000 examples in 12 s against 21 s with two. One thread also
    makes the sums, and so the flags, the same whatever the core count.
    threadpoolctl comes with scikit-learn; without it the fit runs as BLAS likes."""
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn (the [labels] extra)
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _softmax(np, logits):
    """Softmax over the last axis, in place."""
    logits -= logits.max(axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-1, keepdims=True)
    return logits


def _folds(np, y, folds: int, rng):
    """The fold of each pool example: every label spread evenly over the folds."""
    fold = np.empty(len(y), np.int64)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        members = members[rng.permutation(len(members))]
        # A random offset per label keeps the small labels from all starting in fold 0.
        fold[members] = (np.arange(len(members)) + int(rng.integers(folds))) % folds
    return fold


def _probabilities(np, Z: _Sketch, y, in_pool, classes: int, folds: int, epochs: int, seed: int):
    """Out-of-sample probabilities of every row (the module docstring, step 2).

    The `folds` models train side by side as one weight matrix of `folds * classes`
    columns: a minibatch of pool rows is one matrix product for all of them, and the
    gradient of model k ignores the rows of fold k. That computes a quarter more than
    training them apart (with 5 folds), but in products five times as wide, which
    keeps the time in BLAS rather than in Python (4x faster at 200,000 examples)."""
    pool = np.flatnonzero(in_pool)
    rest = np.flatnonzero(~in_pool)
    fold = _folds(np, y[pool], folds, np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, 1])
    dim = Z.codes.shape[1]
    width = folds * classes
    W = np.zeros((dim, width), np.float32)
    b = np.zeros(width, np.float32)
    mW, vW = np.zeros_like(W), np.zeros_like(W)
    mb, vb = np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    steps = epochs * math.ceil(len(pool) / BATCH)
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(pool))
        for start in range(0, len(pool), BATCH):
            batch = order[start : start + BATCH]
            rows = np.arange(len(batch))
            X = Z.rows(pool[batch])
            G = _softmax(np, (X @ W + b).reshape(len(batch), folds, classes))
            G[rows, :, y[pool[batch]]] -= 1.0  # softmax minus one-hot: the logit gradient
            held_out = fold[batch]
            G[rows, held_out, :] = 0.0
            # Each model averages over the rows it trains on.
            seen = len(batch) - np.bincount(held_out, minlength=folds)
            G /= np.maximum(seen, 1).astype(np.float32)[None, :, None]
            G = G.reshape(len(batch), width)
            gW = X.T @ G
            gb = G.sum(axis=0)
            t += 1
            # Adam, with a step decaying linearly to zero: large early steps, a settled
            # model at the end, and no schedule to tune per dataset.
            step = LEARNING_RATE * (1.0 - t / (steps + 1)) / (1.0 - beta1**t)
            correction = 1.0 / (1.0 - beta2**t)
            mW *= beta1
            mW += (1 - beta1) * gW
            vW *= beta2
            vW += (1 - beta2) * (gW * gW)
            mb = beta1 * mb + (1 - beta1) * gb
            vb = beta2 * vb + (1 - beta2) * (gb * gb)
            W -= step * mW / (np.sqrt(vW * correction) + eps)
            b -= step * mb / (np.sqrt(vb * correction) + eps)
    P = np.empty((len(y), classes), np.float32)
    for rows, own in ((pool, fold), (rest, None)):
        for start in range(0, len(rows), 4096):
            part = rows[start : start + 4096]
            probs = _softmax(np, (Z.rows(part) @ W + b).reshape(len(part), folds, classes))
            if own is None:
                P[part] = probs.mean(axis=1)
            else:
                P[part] = probs[np.arange(len(part)), own[start : start + 4096]]
    return P


# -- the check ------------------------------------------------------------------------------


def _split_order(split: str | None) -> tuple[bool, str]:
    return (split is not None, str(split))


def find_suspect_labels(
    texts: Sequence[str],
    labels: Sequence[str | None],
    splits: Sequence[str | None] | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    max_related: int = 3,
    max_pairs: int = 20,
    train_split: str = "train",
) -> LabelModelResult:
    """Examples whose label the rest of the dataset contradicts, and the label pairs it
    confuses. `texts[i]` is what the model reads (the input of example i), `labels[i]`
    its label (None or blank: no label; other values are compared as strings),
    `splits[i]` its split (None: no split; default: every example has none).

    Raises `LabelModelUnavailable` when the `labels` extra is not installed, and
    ValueError for arguments that cannot describe one dataset (lengths that differ,
    fewer than 2 folds), never for what the data holds."""
    np, find_label_issues = _require()
    n = len(texts)
    if len(labels) != n or (splits is not None and len(splits) != n):
        sizes = (n, len(labels), n if splits is None else len(splits))
        raise ValueError(f"texts, labels and splits need one entry per example, not {sizes}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, not {folds}")
    started = time.perf_counter()
    split_of = list(splits) if splits is not None else [None] * n
    label_of: list[str | None] = [None if v is None else v if isinstance(v, str) else str(v) for v in labels]
    unjudged: dict[int, str] = {}
    candidates: list[int] = []
    for i in range(n):
        label, text = label_of[i], texts[i]
        if label is None or not label.strip():
            unjudged[i] = "no label"
        elif not isinstance(text, str) or not text.strip():
            unjudged[i] = "no text"
        else:
            candidates.append(i)
    in_train = [i for i in candidates if split_of[i] == train_split]
    pool_is_train = bool(in_train)
    pool_name = f"the {train_split} split" if pool_is_train else "the dataset"
    pool_counts: dict[str, int] = {}
    for i in in_train if pool_is_train else candidates:
        pool_counts[label_of[i]] = pool_counts.get(label_of[i], 0) + 1
    judged: list[int] = []
    for i in candidates:
        count = pool_counts.get(label_of[i], 0)
        if count < folds:
            unjudged[i] = (
                f"label {label_of[i]!r} has {count} example{'' if count == 1 else 's'} in {pool_name}, "
                f"fewer than the {folds} folds need"
            )
        else:
            judged.append(i)
    names = sorted({label_of[i] for i in judged})
    pool_size = sum(1 for i in judged if not pool_is_train or split_of[i] == train_split)
    diagnostics: dict[str, Any] = {
        "examples": n, "judged": len(judged), "pool": pool_size, "labels": len(names), "folds": folds,
    }
    reason = None
    if pool_size < MIN_EXAMPLES:
        reason = f"{pool_name} has {pool_size} usable examples; judging labels needs at least {MIN_EXAMPLES}"
    elif len(names) > MAX_LABELS:
        reason = (
            f"{pool_name} has {len(names)} labels with at least {folds} examples; the label model "
            f"judges at most {MAX_LABELS} (is the label a free text?)"
        )
    elif len(names) < 2:
        reason = (
            f"{pool_name} has {len(names)} label{'' if len(names) == 1 else 's'} with at least "
            f"{folds} examples; judging labels needs two"
        )
    if reason is not None:
        diagnostics["seconds"] = {"total": round(time.perf_counter() - started, 3)}
        return LabelModelResult([], [], reason, unjudged, diagnostics)

    # cleanlab judges a group of examples only if it holds two labels: a split with
    # one label (a single validation example, say) is judged with the pool instead.
    split_labels: dict[str | None, set[str]] = {}
    for i in judged:
        split_labels.setdefault(split_of[i], set()).add(label_of[i])
    with_pool = {split for split, found in split_labels.items() if len(found) < 2}

    # Rows are the judged examples, the pool first and then each other split, so that
    # every group's rows of the probabilities are a slice (a view) when cleanlab reads
    # them, not a copy.
    def group(i: int):
        if not pool_is_train or split_of[i] == train_split or split_of[i] in with_pool:
            return None
        return _split_order(split_of[i])

    judged.sort(key=lambda i: (group(i) is not None, group(i) or (False, ""), i))
    code = {name: c for c, name in enumerate(names)}
    y = np.fromiter((code[label_of[i]] for i in judged), dtype=np.int64, count=len(judged))
    in_pool = np.fromiter(
        ((not pool_is_train) or split_of[i] == train_split for i in judged), dtype=bool, count=len(judged)
    )
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    features = _Features(np, texts, judged)
    dim = _dimension(len(judged))
    Z = features.sketch(dim)
    seconds["features"] = time.perf_counter() - clock

    clock = time.perf_counter()
    epochs = _epochs(pool_size, folds)
    with _one_blas_thread():
        P = _probabilities(np, Z, y, in_pool, len(names), folds, epochs, seed)
    seconds["model"] = time.perf_counter() - clock
    diagnostics.update(dim=dim, epochs=epochs)

    clock = time.perf_counter()
    predicted = P.argmax(axis=1)
    flagged = np.zeros(len(judged), bool)
    bounds = [0]
    for row in range(1, len(judged) + 1):
        if row == len(judged) or group(judged[row]) != group(judged[row - 1]):
            bounds.append(row)
    for start, stop in zip(bounds, bounds[1:]):
        # Per group: the thresholds and the number of issues come from the group's own
        # probabilities. (The pool's thresholds on the other splits flagged fewer but
        # found fewer planted errors on CLINC150: benchmarks/README_labels.md.)
        flagged[start:stop] = find_label_issues(
            y[start:stop], P[start:stop], filter_by="low_self_confidence", n_jobs=1
        )
    flagged &= predicted != y  # ambiguous, not contradicted: the given label is still likeliest
    rows = np.flatnonzero(flagged)
    suggested_probability = P[rows, predicted[rows]].tolist()
    given_probability = P[rows, y[rows]].tolist()
    diagnostics["agreement"] = round(float((predicted == y).mean()), 4)
    del P
    seconds["cleanlab"] = time.perf_counter() - clock

    clock = time.perf_counter()
    related = _related(np, features, Z, y, rows, predicted, flagged, max_related) if max_related > 0 else {}
    del Z
    seconds["related"] = time.perf_counter() - clock
    suspects = [
        Suspect(
            index=judged[row],
            split=split_of[judged[row]],
            given=names[y[row]],
            suggested=names[predicted[row]],
            confidence=round(suggested_probability[k], 4),
            given_probability=round(given_probability[k], 4),
            related=tuple(judged[r] for r in related.get(row, ())),
        )
        for k, row in enumerate(rows.tolist())
    ]
    suspects.sort(key=lambda s: s.index)
    pairs = _confused_pairs(np, y, predicted, names, [split_of[i] for i in judged], max_pairs)
    seconds["total"] = time.perf_counter() - started
    diagnostics["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return LabelModelResult(suspects, pairs, None, unjudged, diagnostics)


def _related(np, features: _Features, Z: _Sketch, y, suspect_rows, predicted, flagged, limit: int):
    """Row -> rows of the examples most similar to that suspect that carry its
    suggested label and are not suspects, best first: a shortlist by sketch cosine,
    re-ranked by exact TF-IDF cosine, ties by position."""
    shortlists: dict[int, list[int]] = {}
    by_label: dict[int, list[int]] = {}
    for row in suspect_rows.tolist():
        by_label.setdefault(int(predicted[row]), []).append(row)
    for label, rows in sorted(by_label.items()):
        members = np.flatnonzero((y == label) & ~flagged)
        if len(members) == 0:
            continue
        scores = Z.rows(members) @ Z.rows(np.asarray(rows)).T  # members x suspects
        take = min(SHORTLIST, len(members))
        for column, row in enumerate(rows):
            if take < len(members):
                best = np.argpartition(-scores[:, column], take - 1)[:take]
            else:
                best = np.arange(len(members))
            shortlists[row] = sorted(members[best].tolist())
    out: dict[int, list[int]] = {}
    # One suggested label at a time: only its suspects' and their shortlists' vectors
    # are held, so memory follows the largest label, not the number of suspects.
    for label, rows in sorted(by_label.items()):
        rows = [row for row in rows if row in shortlists]
        if not rows:
            continue
        vectors = features.exact(sorted({r for row in rows for r in (row, *shortlists[row])}))
        for row in rows:
            shortlist = shortlists[row]
            ranked = sorted(zip([-score for score in vectors.cosines(row, shortlist)], shortlist))
            out[row] = [r for _, r in ranked[:limit]]
    return out


def _confused_pairs(np, y, predicted, names: list[str], splits: list[str | None], limit: int) -> list[ConfusedPair]:
    """The label pairs with the most out-of-sample confusions, both directions added."""
    classes = len(names)
    confusion = np.bincount(y * classes + predicted, minlength=classes * classes).reshape(classes, classes)
    np.fill_diagonal(confusion, 0)
    both = confusion + confusion.T
    a_index, b_index = np.nonzero(np.triu(both, 1) >= 2)
    order = sorted(
        zip(a_index.tolist(), b_index.tolist()), key=lambda ab: (-int(both[ab]), names[ab[0]], names[ab[1]])
    )[:limit]
    per_split = {}
    for split in sorted(set(splits), key=_split_order):
        mask = np.fromiter((s == split for s in splits), dtype=bool, count=len(splits))
        per_split[split] = np.bincount(y[mask], minlength=classes)
    return [
        ConfusedPair(
            a=names[a],
            b=names[b],
            count=int(both[a, b]),
            a_to_b=int(confusion[a, b]),
            b_to_a=int(confusion[b, a]),
            examples={split: (int(counts[a]), int(counts[b])) for split, counts in per_split.items()},
        )
        for a, b in order
    ]
