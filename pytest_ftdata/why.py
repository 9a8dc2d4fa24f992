""""Which examples taught it that?": the training examples nearest to a text.

`WhyIndex.build()` reads the training files of one dataset once (all files when no file
is named train) and keeps, per example, its file, line, label and number of distinct
words, and per word the examples that hold it (an inverted index). `WhyIndex.query()`
ranks examples in two stages:

1. candidates: every example sharing a word with the text, scored by the sum of the
   shared words' inverse document frequencies over the square root of the example's
   distinct words (words in more than a quarter of the examples are left out of this
   stage: they rank nothing and their lists are the longest). When every word of the
   text is that common, the candidates are the examples holding the least common of
   them, narrowed to those holding the next ones too (at most `COMMON_WORDS`, each
   only while some example is left), fewest distinct words first: the same order, as
   they share the same words, found with set operations instead of a loop over lists
   of a quarter of the examples or more;
2. the best `RERANK` candidates are read again from their files (seeking by the
   reader's line index) and scored by the cosine similarity of TF-IDF vectors
   (sublinear term frequency, smoothed idf, as scikit-learn's `TfidfVectorizer`),
   which is the similarity shown, 0-100%.

Why this and not the near-duplicate search (`neardup`): that filter finds texts that
are nearly *identical* (a shared prefix or suffix, then edit distance); a model output
that echoes a training example shares words and phrases with it, not its first
characters. Why not scikit-learn: it is an optional extra, and its matrices must be
built again in every process; this index is plain arrays that load with `mmap` in
milliseconds.

Invariants:

- The cached index holds no dataset text: words are stored as 64-bit blake2b hashes,
  examples as file, line and label (labels are labels). What a result shows is read
  from the file at query time and redacted whole before it is cut (`redact.display`).
- The cache lives under `.pytest_cache/ftdata/why/` of the project (or the directory
  given), never beside the data, and is rebuilt when a file's size or modification
  time changed.
- The cache is a hint, the data is the truth: a damaged or inconsistent cache is
  treated as missing and rebuilt, silently. Load checks a CRC-32 of the file after its
  first two lines (it finds every damage within 32 adjacent bits, so every damaged
  byte, and all but one in 4 billion of the rest; 25-40 ms for the 80 MB index of
  800,000 examples), so the arrays are those `build()` made, which hold the
  invariants per element: a pass over them in Python would cost more than a query
  (0.6 s for the postings of 800,000 examples). It checks what needs no such pass: header types, each
  section's name, type, bounds and order, that the arrays' lengths agree, that
  `term_start` spans `postings`, that line index marks are ordered. What a query reads
  per element it checks where it reads it (a term's span within `postings`, a label
  number; an example or file number out of range raises IndexError). And a loaded
  index has a rebuild from `open_index()`: when its query raises one of `DAMAGE`, the
  index is built again from the data, which answers. A freshly built index has none,
  so a fault of its own still raises.
- Nothing here imports pytest.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import mmap
import os
import re
import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zlib import crc32

from .config import FtdataConfig
from .engine import dataset_files, display_path, split_of
from .formats import detect_format, make_example
from .neardup import normalize
from .readers import fetch_records, open_reader
from .redact import display, display_repr, redact
from .tasks import detect_task
from .text import compile_value_getter, label_text

#: 2: a checksum line after the magic.
INDEX_VERSION = 2
MAGIC = b"FTDATA-WHY\n"
#: The typecode of each array of the cache; line index sections (`index_marks:N`,
#: `index_offsets:N`, N a file number) are "Q".
SECTION_TYPES = {"doc_file": "I", "doc_line": "I", "doc_words": "I", "doc_label": "i",
                 "term_hash": "Q", "term_start": "Q", "postings": "I"}
_LINE_INDEX_SECTION = re.compile(r"index_(marks|offsets):(0|[1-9][0-9]*)")
#: What a query of a damaged cache that passed the checks on load can raise (math
#: errors are ValueError or ArithmeticError): it is rebuilt from the data instead.
DAMAGE = (IndexError, KeyError, AttributeError, TypeError, ValueError, ArithmeticError)
#: Candidates read again and scored exactly.
RERANK = 50
#: Words in more than this share of the examples do not pick candidates.
COMMON_SHARE = 0.25
#: When every word of a text is common, at most this many of them (the least common) pick the candidates.
COMMON_WORDS = 3
_WORD = re.compile(r"\w+")
_ALIGN = 8
_CHECKSUM_LINE = 9


def words(text: str) -> list[str]:
    """The words of a text as the index counts them (normalized as duplicates are)."""
    return _WORD.findall(normalize(text))


def word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def example_text(example) -> str:
    """What an example is searched by: its input (or system prompt) and its target."""
    return (example.input_text or example.system or "") + "\n" + (example.target_text or "")


@dataclass(frozen=True)
class Neighbour:
    """One training example near the text."""

    path: str
    line: int
    split: str | None
    label: str | None
    #: TF-IDF cosine similarity, 0-1.
    similarity: float
    #: `'input' -> 'target'`, redacted whole, then shortened.
    excerpt: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "split": self.split, "label": self.label,
                "similarity": round(self.similarity, 4), "excerpt": self.excerpt}


class DamagedIndex(ValueError):
    """An array of the index breaks an invariant that query relies on."""


def _stat(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def training_files(directory: Path, config: FtdataConfig) -> list[Path]:
    """The files `why` searches: the train split, or every file when none is named train."""
    files = dataset_files(directory)
    train = [path for path in files if split_of(path.name, config) == "train"]
    return train or files


def default_cache_dir(start: Path) -> Path:
    """`.pytest_cache/ftdata/why` of the nearest project (pyproject.toml), else of the working directory."""
    probe = Path(os.path.abspath(start))
    probe = probe if probe.is_dir() else probe.parent
    while probe.parent != probe and not (probe / "pyproject.toml").is_file():
        probe = probe.parent
    root = probe if (probe / "pyproject.toml").is_file() else Path.cwd()
    return root / ".pytest_cache" / "ftdata" / "why"


class WhyIndex:
    """The inverted index of one dataset's training examples (see the module docstring)."""

    def __init__(self, header: dict, arrays: dict[str, object], keep=None) -> None:
        self.header = header
        self.files: list[dict] = header["files"]
        self.labels: list[str] = header["labels"]
        self.count: int = header["examples"]
        self.doc_file = arrays["doc_file"]
        self.doc_line = arrays["doc_line"]
        self.doc_words = arrays["doc_words"]
        self.doc_label = arrays["doc_label"]
        self.term_hash = arrays["term_hash"]
        self.term_start = arrays["term_start"]
        self.postings = arrays["postings"]
        self.line_index = {int(k): v for k, v in arrays.get("line_index", {}).items()}
        self._keep = keep  # the mmap the arrays are views of
        self.loaded_from_cache = keep is not None
        self.build_seconds = float(header.get("build_seconds", 0.0))
        #: Builds this index again from the data: set by `open_index()` on a loaded index.
        self.rebuild: Callable[[], WhyIndex] | None = None

    # -- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, directory: Path, config: FtdataConfig, rootdir: Path, files: list[Path] | None = None) -> "WhyIndex":
        started = time.perf_counter()
        files = training_files(directory, config) if files is None else files
        task = detect_task(files, config).task if files else "generation"
        label_of = compile_value_getter(config.label) if config.label else None
        by_target = label_of is None and task == "classification"
        vocabulary: dict[str, int] = {}
        postings: list[array] = []
        doc_file, doc_line, doc_words, doc_label = array("I"), array("I"), array("I"), array("i")
        labels: dict[str, int] = {}
        seen_labels: dict[str, int] = {}
        infos = []
        line_index: dict[int, tuple[array, array]] = {}
        for number, path in enumerate(files):
            infos.append({"path": display_path(path, rootdir), "abspath": str(path), "split": split_of(path.name, config),
                          "stat": _stat(path)})
            reader = open_reader(path, max_line_bytes=config.max_line_bytes)
            for line, record in reader:
                if type(record) is not dict:
                    continue
                fmt = detect_format(record) or config.format
                if fmt is None:
                    continue
                try:
                    example = make_example(str(path), line, record, fmt)
                    text = example_text(example)
                    if label_of is not None:
                        label = label_text(label_of(example))
                    else:
                        label = label_text(example.target_text.strip()) if by_target else None
                except Exception:  # noqa: BLE001 (an example no view can read is the schema check's to report)
                    continue
                doc = len(doc_line)
                distinct = set(words(text))
                for word in distinct:
                    term = vocabulary.get(word)
                    if term is None:
                        term = vocabulary[word] = len(postings)
                        postings.append(array("I"))
                    postings[term].append(doc)
                doc_file.append(number)
                doc_line.append(line)
                doc_words.append(len(distinct))
                if label is not None:
                    known = seen_labels.get(label)
                    if known is None:
                        # Redacted whole, then cut: labels repeat, so this runs once per distinct label.
                        shown = redact(label)
                        shown = shown if len(shown) <= 200 else display(shown, 200)
                        known = labels.setdefault(shown, len(labels))
                        if len(seen_labels) < 100_000:
                            seen_labels[label] = known
                    doc_label.append(known)
                else:
                    doc_label.append(-1)
            index = getattr(reader, "line_index", None)
            if index is not None:
                line_index[number] = index
        # Words are kept as hashes only, sorted for a binary search.
        hashed = sorted((word_hash(word), term) for word, term in vocabulary.items())
        vocabulary.clear()
        term_hash, term_start, flat = array("Q"), array("Q", [0]), array("I")
        for value, term in hashed:
            term_hash.append(value)
            flat.extend(postings[term])
            postings[term] = None
            term_start.append(len(flat))
        header = {
            "version": INDEX_VERSION, "files": infos, "labels": list(labels), "examples": len(doc_line),
            "build_seconds": round(time.perf_counter() - started, 3), "config": _config_key(config),
        }
        arrays = {"doc_file": doc_file, "doc_line": doc_line, "doc_words": doc_words, "doc_label": doc_label,
                  "term_hash": term_hash, "term_start": term_start, "postings": flat, "line_index": line_index}
        return cls(header, arrays)

    # -- the cache ----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """One file: magic, the CRC-32 of the rest as a line of 8 hex digits, a JSON header
        line, then each array's bytes, 8-byte aligned."""
        sections = []
        blobs = []
        offset = 0
        named = [(name, getattr(self, name)) for name in ("doc_file", "doc_line", "doc_words", "doc_label", "term_hash", "term_start", "postings")]
        for number, (marks, offsets) in sorted(self.line_index.items()):
            named += [(f"index_marks:{number}", array("Q", marks)), (f"index_offsets:{number}", array("Q", offsets))]
        for name, values in named:
            data = bytes(memoryview(values).cast("B")) if len(values) else b""
            code = values.typecode if isinstance(values, array) else values.format
            sections.append({"name": name, "type": code, "offset": offset, "bytes": len(data)})
            pad = (-len(data)) % _ALIGN
            blobs.append(data + b"\0" * pad)
            offset += len(data) + pad
        header = dict(self.header, sections=sections)
        head = json.dumps(header, sort_keys=True).encode("utf-8") + b"\n"
        start = len(MAGIC) + _CHECKSUM_LINE + len(head)
        head = head + b" " * ((-start) % _ALIGN)
        checksum = crc32(head)
        for blob in blobs:
            checksum = crc32(blob, checksum)
        path.parent.mkdir(parents=True, exist_ok=True)
        _gitignore(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(MAGIC + b"%08x\n" % checksum + head)
                for blob in blobs:
                    handle.write(blob)
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()

    @classmethod
    def load(cls, path: Path) -> "WhyIndex | None":
        """The index saved at `path`, or None when it is missing, damaged or stale."""
        try:
            handle = open(path, "rb")
        except OSError:
            return None
        with handle:
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
        try:
            index = cls._read(mapped)
            if index is None:
                return None
            for info in index.files:
                if _stat(Path(info["abspath"])) != info["stat"]:
                    return None
        except (OSError, RecursionError, *DAMAGE):  # RecursionError: a header of nested JSON lists
            return None
        return index

    @classmethod
    def _read(cls, mapped: mmap.mmap) -> "WhyIndex | None":
        """The index in a mapped cache file, or None when its checksum or an invariant fails."""
        view = memoryview(mapped)
        first = len(MAGIC) + _CHECKSUM_LINE
        if mapped[: len(MAGIC)] != MAGIC or mapped[len(MAGIC) : first] != b"%08x\n" % crc32(view[first:]):
            return None
        end = mapped.find(b"\n", first)
        header = json.loads(mapped[first:end]) if end >= 0 else None
        if not _valid_header(header):
            return None
        base = end + 1
        base += (-base) % _ALIGN
        arrays: dict[str, object] = {}
        position = 0
        for section in header["sections"]:
            name, code = section.get("name"), section.get("type")
            offset, size = section.get("offset"), section.get("bytes")
            numbered = _LINE_INDEX_SECTION.fullmatch(name) if type(name) is str else None
            if numbered is not None and int(numbered[2]) >= len(header["files"]):
                return None
            expected = "Q" if numbered is not None else SECTION_TYPES.get(name) if type(name) is str else None
            if (expected is None or code != expected or name in arrays or not _is_count(offset) or not _is_count(size)
                    or offset < position or offset % _ALIGN or size % array(code).itemsize
                    or base + offset + size > len(mapped)):
                return None
            position = offset + size
            arrays[name] = view[base + offset : base + position].cast(code) if size else array(code)
        if any(name not in arrays for name in SECTION_TYPES):
            return None
        examples = header["examples"]
        term_hash, term_start = arrays["term_hash"], arrays["term_start"]
        if (any(len(arrays[name]) != examples for name in ("doc_file", "doc_line", "doc_words", "doc_label"))
                or len(term_start) != len(term_hash) + 1 or term_start[0] != 0
                or term_start[-1] != len(arrays["postings"])):
            return None
        line_index = {}
        for name in arrays:
            if name.startswith("index_marks:"):
                number = int(name.split(":")[1])
                marks, offsets = arrays[name], arrays.get(f"index_offsets:{number}")
                if (offsets is None or len(marks) != len(offsets)
                        or not _ordered(marks, strictly=True) or not _ordered(offsets)):
                    return None
                line_index[number] = (array("Q", marks), array("Q", offsets))
        if sum(name.startswith("index_offsets:") for name in arrays) != len(line_index):
            return None
        arrays["line_index"] = line_index
        return cls(header, arrays, keep=mapped)

    # -- querying -----------------------------------------------------------------------

    def _term(self, value: int) -> int | None:
        position = bisect_left(self.term_hash, value)
        if position < len(self.term_hash) and self.term_hash[position] == value:
            return position
        return None

    def _idf(self, df: int) -> float:
        return math.log((1 + self.count) / (1 + df)) + 1.0

    def query(self, text: str, k: int = 5, config: FtdataConfig | None = None) -> list[Neighbour]:
        """The `k` training examples nearest to `text`, best first."""
        config = config or FtdataConfig()
        try:
            return self._query(text, k, config)
        except DAMAGE:
            if not self.loaded_from_cache or self.rebuild is None:
                raise  # a fault of a freshly built index is a bug to see, not a cache to drop
        # The cache passed the checks on load and still broke the query. The dataset holds
        # this object, so it becomes the rebuilt index, which has no rebuild of its own.
        vars(self).update(vars(self.rebuild()))
        return self._query(text, k, config)

    def _query(self, text: str, k: int, config: FtdataConfig) -> list[Neighbour]:
        counts = Counter(word_hash(word) for word in words(text))
        if not counts or not self.count:
            return []
        terms = {}
        for value in counts:
            term = self._term(value)
            if term is not None:
                terms[value] = term
        # Least common first, so that the common words below are the least common ones.
        by_df = sorted((self._df(term), term) for term in terms.values())
        common = COMMON_SHARE * self.count
        scores: dict[int, float] = {}
        get = scores.get
        for df, term in by_df:
            if df > common:
                break
            weight = self._idf(df)
            for doc in self._postings(term):
                scores[doc] = get(doc, 0.0) + weight
        wanted = max(RERANK, k)
        if scores:
            sizes = self.doc_words
            ranked = sorted(scores, key=lambda doc: (-scores[doc] / math.sqrt(sizes[doc] or 1), doc))[:wanted]
        elif by_df:
            # Every word is common (or the rare ones picked nothing): the examples holding them still answer.
            ranked = self._holding([term for _, term in by_df[:COMMON_WORDS]], wanted)
        else:
            return []
        return self._rerank(counts, ranked, k, config)

    def _span(self, term: int) -> tuple[int, int]:
        start, end = self.term_start[term], self.term_start[term + 1]
        if not start <= end <= len(self.postings):
            raise DamagedIndex(f"term {term} spans postings {start}-{end} of {len(self.postings)}")
        return start, end

    def _df(self, term: int) -> int:
        start, end = self._span(term)
        return end - start

    def _postings(self, term: int):
        start, end = self._span(term)
        return self.postings[start:end]

    def _holding(self, terms: list[int], n: int) -> list[int]:
        """The `n` examples with the fewest distinct words among those holding the first
        term, narrowed to those holding each next one too unless that leaves none.

        They share the same words, so this is stage 1's order (score over the square root
        of the distinct words, then example). The lists are a quarter of the examples or
        more, so set operations in C do it instead of a Python loop per posting: 0.05-0.35 s
        for one to three such words in 800,000 examples, against 0.3-1.1 s.
        """
        held = set(self._postings(terms[0]))
        for term in terms[1:]:
            both = held.intersection(self._postings(term))
            if both:
                held = both
        sizes = self.doc_words
        return [doc for _, doc in heapq.nsmallest(n, zip(map(sizes.__getitem__, held), held))]

    def _vector(self, counts: Counter) -> dict[int, float]:
        vector = {}
        for value, tf in counts.items():
            term = self._term(value)
            df = 0 if term is None else self._df(term)
            vector[value] = (1.0 + math.log(tf)) * self._idf(df)
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        return {value: w / norm for value, w in vector.items()}

    def _rerank(self, counts: Counter, docs: list[int], k: int, config: FtdataConfig) -> list[Neighbour]:
        query = self._vector(counts)
        by_file: dict[int, list[int]] = {}
        for doc in docs:
            by_file.setdefault(self.doc_file[doc], []).append(doc)
        found = []
        for number, members in by_file.items():
            info = self.files[number]
            records = fetch_records(info["abspath"], [self.doc_line[d] for d in members], self.line_index.get(number),
                                    max_line_bytes=config.max_line_bytes)
            for doc in members:
                record = records.get(self.doc_line[doc])
                if record is None:
                    continue
                fmt = detect_format(record) or config.format
                if fmt is None:
                    continue
                example = make_example(info["path"], self.doc_line[doc], record, fmt)
                vector = self._vector(Counter(word_hash(w) for w in words(example_text(example))))
                similarity = sum(weight * vector.get(value, 0.0) for value, weight in query.items())
                number = self.doc_label[doc]
                if not -1 <= number < len(self.labels):
                    raise DamagedIndex(f"example {doc} has label number {number} of {len(self.labels)}")
                label = self.labels[number] if number >= 0 else None
                excerpt = f"{display_repr(example.input_text or example.system or '', 60)} -> {display_repr(example.target_text, 60)}"
                found.append(Neighbour(info["path"], self.doc_line[doc], info["split"], label, min(1.0, similarity), excerpt))
        found.sort(key=lambda n: (-n.similarity, n.path, n.line))
        return found[:k]


def _config_key(config: FtdataConfig) -> str:
    relevant = {"label": config.label, "format": config.format, "splits": config.splits,
                "max_line_bytes": config.max_line_bytes, "task": config.task}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _is_count(value) -> bool:
    return type(value) is int and value >= 0


def _ordered(values, strictly: bool = False) -> bool:
    pairs = zip(values, values[1:])
    return all(a < b for a, b in pairs) if strictly else all(a <= b for a, b in pairs)


def _valid_file(info) -> bool:
    return (type(info) is dict and type(info.get("path")) is str and type(info.get("abspath")) is str
            and (info.get("split") is None or type(info.get("split")) is str)
            and type(info.get("stat")) is list and len(info["stat"]) == 2 and all(type(v) is int for v in info["stat"]))


def _valid_header(header) -> bool:
    """The header's keys have the types `WhyIndex` and query read them as."""
    return (type(header) is dict and header.get("version") == INDEX_VERSION and _is_count(header.get("examples"))
            and type(header.get("build_seconds", 0.0)) in (int, float)
            and type(header.get("labels")) is list and all(type(label) is str for label in header["labels"])
            and type(header.get("files")) is list and all(_valid_file(info) for info in header["files"])
            and type(header.get("sections")) is list and all(type(section) is dict for section in header["sections"]))


def _gitignore(folder: Path) -> None:
    """Mark a cache directory this module created as pytest marks `.pytest_cache`."""
    for parent in [folder, *folder.parents]:
        if parent.name == ".pytest_cache":
            marker = parent / ".gitignore"
            if not marker.exists():
                try:
                    marker.write_text("# Created by pytest-ftdata automatically.\n*\n", encoding="utf-8")
                except OSError:
                    pass
            return


def index_path(cache_dir: Path, directory: Path, config: FtdataConfig, files: list[Path]) -> Path:
    identity = json.dumps([os.path.abspath(directory), _config_key(config), [str(p) for p in files]])
    return Path(cache_dir) / f"{hashlib.sha256(identity.encode('utf-8', 'surrogatepass')).hexdigest()[:20]}.idx"


def open_index(directory: Path, config: FtdataConfig, rootdir: Path, cache_dir: Path | None = None) -> WhyIndex:
    """The cached index of the dataset in `directory`, built (and cached) when missing or stale."""
    files = training_files(directory, config)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(directory)
    path = index_path(cache_dir, directory, config, files)
    index = WhyIndex.load(path)

    def build() -> WhyIndex:
        built = WhyIndex.build(directory, config, rootdir, files)
        try:
            built.save(path)
        except OSError:
            pass  # a read-only project still answers, from the index in memory
        return built

    if index is not None and [info["abspath"] for info in index.files] == [str(p) for p in files]:
        index.rebuild = build
        return index
    return build()
