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
from dataclasses import dataclass
from pathlib import Path

from .config import FtdataConfig
from .engine import dataset_files, display_path, split_of
from .formats import detect_format, make_example
from .neardup import normalize
from .readers import fetch_records, open_reader
from .redact import display, display_repr, redact
from .tasks import detect_task
from .text import compile_value_getter, label_text

INDEX_VERSION = 1
MAGIC = b"FTDATA-WHY\n"
#: Candidates read again and scored exactly.
RERANK = 50
#: Words in more than this share of the examples do not pick candidates.
COMMON_SHARE = 0.25
#: When every word of a text is common, at most this many of them (the least common) pick the candidates.
COMMON_WORDS = 3
_WORD = re.compile(r"\w+")
_ALIGN = 8


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
        """One file: magic, a JSON header line, then each array's bytes, 8-byte aligned."""
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
        start = len(MAGIC) + len(head)
        head_pad = (-start) % _ALIGN
        path.parent.mkdir(parents=True, exist_ok=True)
        _gitignore(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(MAGIC + head + b" " * head_pad)
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
            if mapped[: len(MAGIC)] != MAGIC:
                return None
            end = mapped.find(b"\n", len(MAGIC))
            header = json.loads(mapped[len(MAGIC) : end])
            if header.get("version") != INDEX_VERSION:
                return None
            base = end + 1
            base += (-base) % _ALIGN
            view = memoryview(mapped)
            arrays: dict[str, object] = {"line_index": {}}
            marks: dict[int, object] = {}
            for section in header["sections"]:
                start = base + section["offset"]
                part = view[start : start + section["bytes"]]
                if start + section["bytes"] > len(mapped):
                    return None
                values = part.cast(section["type"]) if section["bytes"] else array(section["type"])
                name = section["name"]
                if name.startswith("index_marks:"):
                    marks[int(name.split(":")[1])] = values
                elif name.startswith("index_offsets:"):
                    number = int(name.split(":")[1])
                    arrays["line_index"][number] = (array("Q", marks.get(number, ())), array("Q", values))
                else:
                    arrays[name] = values
            for info in header["files"]:
                if _stat(Path(info["abspath"])) != info["stat"]:
                    return None
        except (ValueError, KeyError, TypeError, OSError, json.JSONDecodeError):
            return None
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
        config = config or FtdataConfig()
        counts = Counter(word_hash(word) for word in words(text))
        if not counts or not self.count:
            return []
        terms = {}
        for value in counts:
            term = self._term(value)
            if term is not None:
                terms[value] = term
        starts = self.term_start
        # Least common first, so that the common words below are the least common ones.
        by_df = sorted((starts[term + 1] - starts[term], term) for term in terms.values())
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

    def _postings(self, term: int):
        return self.postings[self.term_start[term] : self.term_start[term + 1]]

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
            df = 0 if term is None else self.term_start[term + 1] - self.term_start[term]
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
                label = self.labels[self.doc_label[doc]] if self.doc_label[doc] >= 0 else None
                excerpt = f"{display_repr(example.input_text or example.system or '', 60)} -> {display_repr(example.target_text, 60)}"
                found.append(Neighbour(info["path"], self.doc_line[doc], info["split"], label, min(1.0, similarity), excerpt))
        found.sort(key=lambda n: (-n.similarity, n.path, n.line))
        return found[:k]


def _config_key(config: FtdataConfig) -> str:
    relevant = {"label": config.label, "format": config.format, "splits": config.splits,
                "max_line_bytes": config.max_line_bytes, "task": config.task}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


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
    if index is not None and [info["abspath"] for info in index.files] == [str(p) for p in files]:
        return index
    index = WhyIndex.build(directory, config, rootdir, files)
    try:
        index.save(path)
    except OSError:
        pass  # a read-only project still answers, from the index in memory
    return index
