"""`versions`: what changed since the dataset's lock (`ftdata.lock`).

A run with `--ftdata-update-lock` writes, per dataset directory, a lock of every
example: its content key, file, line, split (through its file), label, a hash of its
target, a hash of its group id and its provenance fields; and, for the whole
dataset, the file digests, formats, the task and hashes of the effective settings and
of the schema files. Every later run compares the data with that lock.

Invariants:

- The content key is the duplicate check's: the system prompt and the input after
  `neardup.normalize` (NFKC, case folded, whitespace collapsed, punctuation removed
  with `ignore_punctuation`), hashed with blake2b to 64 bits. A whitespace edit is
  therefore not a new example. Python's `hash()` is salted per process, so it is
  never used for anything written down.
- The lock holds no example text: keys, targets and groups are hashes; labels are
  labels (redacted and at most `MAX_LABEL_CHARS`, else hashed); provenance values
  are redacted and capped the same way.
- The lock is deterministic: the header first, then one JSON array per example,
  sorted by (key, file, line), no timestamps, paths relative to the dataset
  directory. A serial run and `-n 2` write byte-identical locks.
- The family never writes a file: it puts the lock text in `DatasetContext.outputs`
  and the controller writes it (`write_lock`), once, as the only file beside the data.
- A lock that cannot be read (a merge conflict, a hostile or huge line, another
  version) is one VER007 finding, never an exception.
- A file whose name, split and sha256 the lock's header records, under the same
  definition (task, settings, schemas, `ignore_punctuation`), has the rows the lock
  has for it: its map hashes nothing (`FileMap.visits` is False) and, when another
  file changed, its rows are taken from the lock, and only for the content keys the
  changed files touch: every other key is in vouched files alone, identical in the lock
  and now, so `diff` matches only the lock's rows of the touched keys
  (`Snapshot.compared`). A lock update hashes every example.
  The normalized input comes from the example when the fingerprint map made it first
  (`fingerprints.normalized_input`).

Matching is by content key, as a multiset: per key and split, the examples present
in both are kept (and are `changed` when target, label or provenance differ); what
is left over in one split of the lock and in another split now is `moved`; the rest
is `added` or `removed`. With `group_by`, a group with no example matched by key that
now sits on the other side of the train boundary is a move too.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import inspect
import io
import os
import re
import sys
import tempfile
import zlib
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import add, and_, eq, itemgetter, lshift, not_, or_
from pathlib import Path

import orjson

from ..config import FtdataConfig, validate
from ..findings import Finding, FindingList, example, rule
from ..formats import Example, detect_format, make_example
from ..neardup import normalize
from ..readers import UNPRINTABLE, open_reader, printable_name
from ..redact import redact
from ..safeio import UnreadableFile, open_regular
from ..tasks import detect_task
from ..text import compile_value_getter, label_text
from .base import Combiner, DatasetContext, DatasetFamily, FileInfo, FileMap
from .fingerprints import cluster_key, normalized_input, quoted
from .refetch import read_again

LOCK_VERSION = 1
#: The columns of an example line, in order (trailing nulls are left out).
COLUMNS = ("key", "file", "line", "target", "label", "group", "provenance")
#: Labels and provenance values longer than this are stored as a hash.
MAX_LABEL_CHARS = 200
#: The header line may be this long (a dataset of many files); example lines far less.
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
#: A gzip lock may decompress to this many times its size (a lock of hashes compresses
#: about 3 times), plus a MiB: more is a decompression bomb, refused before it is read.
MAX_GZIP_RATIO = 64
#: Blank lines a lock may hold beyond its header's count of examples (a hand edit may
#: leave a few; a flood of them would be read one by one).
MAX_SPARE_LINES = 1000
_HEX = {width: re.compile(f"[0-9a-fA-F]{{{width}}}") for width in (8, 16)}
#: Example lines parsed at once (one JSON array for orjson).
CHUNK_ROWS = 65536
#: Settings left out of the lock's hash of the configuration: where the lock lives, the
#: schemas and tokenizer (hashed by their content instead), and how much memory the
#: fingerprint index may use (it changes how the join runs, never what it finds).
NOT_HASHED = ("lock", "target_schema", "record_schema", "tokenizer", "fingerprint_memory_mb")
SCHEMA_KEYS = ("record_schema", "target_schema")
TRAIN = "train"
EVALUATION = ("validation", "test")
UNSPLIT = "(no split)"


def _split_name(split: str | None) -> str:
    return split if split else UNSPLIT


def _words(split: str) -> str:
    return "the files that name no split" if split == UNSPLIT else f"the {split} split"


# -- rules -------------------------------------------------------------------------------------

def _lock_example(files: dict[str, str], then: dict[str, str] | None = None, **config):
    """A rule example: `then` (the data as it was) is locked, `files` is the data now.

    The lock is built by the same code a run uses, so the example can never drift from
    the format."""
    lock_of = then if then is not None else files
    cleaned = {name: inspect.cleandoc(text) + "\n" for name, text in lock_of.items()}
    lock_config = config.pop("lock_config", config)
    lock = lock_text_for(cleaned, dict(lock_config))
    return example({**files, "ftdata.lock": lock}, **config)


# -- content keys ------------------------------------------------------------------------------

def _digest64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


_blake2b = hashlib.blake2b
_crc32 = zlib.crc32
#: Distinct system prompts whose hashed prefix a map keeps (most datasets have a few).
MAX_PREFIXES = 4096


#: The array types the packed columns are converted with have the widths of the lock's columns.
_NATIVE_WIDTHS = array("Q").itemsize == 8 and array("I").itemsize == 4
_FIRST_FOUR = tuple(itemgetter(i) for i in range(4))


def _keys_from_bytes(data: bytes | bytearray, typecode: str = "Q") -> array:
    """Big-endian integers packed one after another (content keys as 8-byte digests,
    `typecode` "I" for 4-byte target hashes), as an array of ints (in C)."""
    keys = array(typecode)
    keys.frombytes(bytes(data))
    if sys.byteorder == "little":
        keys.byteswap()
    return keys


def content_key(example: Example, ignore_punctuation: bool = False) -> int:
    """The 64-bit content key of an example (see the module docstring; `VersionMap.visit`
    inlines it)."""
    system = example.system or ""
    return _digest64(system + "\x1f" + normalize(example.input_text, ignore_punctuation))


def target_hash(text: str) -> int:
    """CRC-32 of the stripped target: it is only compared for examples of one content key."""
    return _crc32(text.strip().encode("utf-8", "surrogatepass"))


def _stored_value(value) -> str | None:
    """A label or provenance value as the lock stores it: redacted, short, or a hash."""
    text = label_text(value) if not isinstance(value, (dict, list)) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if text is None:
        return None
    text = redact(text)
    if len(text) > MAX_LABEL_CHARS:
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return text


class _Interned:
    """Values to small ids (labels, provenance tuples): one array entry per example."""

    def __init__(self) -> None:
        self.ids: dict = {}
        self.values: list = []

    def __call__(self, value) -> int:
        if value is None:
            return -1
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


class VersionMap(FileMap):
    """Per example of one file: content key, line, target hash, label, group hash, provenance."""

    key = "versions"

    def __init__(self, ctx: DatasetContext, file: FileInfo, vouched: bool = True) -> None:
        super().__init__(ctx, file)
        config = ctx.config
        #: The file's sha256 once known (it is hashed here when the lock may vouch for it).
        self.sha256: str | None = None
        lock_files = ctx.shared.get("versions", {})
        entry = lock_files.get(printable_name(file.abspath.name)) if vouched and lock_files is not None else None
        if lock_files is None:
            self.visits = False
        elif entry is not None and entry[0] == file.split:
            self.sha256 = file.digest or _file_sha256(file.abspath)
            # The bytes the lock recorded, under the same definition: its rows for this
            # file are this file's rows, so none is computed (see `snapshot_of`).
            self.visits = self.sha256 is None or self.sha256 != entry[1]
        self.ignore_punctuation = config.ignore_punctuation
        self._label_of = compile_value_getter(config.label) if config.label else None
        self._classification = config.label is None and ctx.task == "classification"
        self._group_of = compile_value_getter(config.group_by) if config.group_by else None
        pointers = provenance_pointers(config)
        self._provenance = [compile_value_getter(p) for p in pointers]
        #: No label, group or provenance to record: the columns after the target are constant.
        self._plain = self._label_of is None and not self._classification and self._group_of is None and not pointers
        # The keys as 8-byte big-endian digests, one after another (an array at `result`).
        self._key_bytes = bytearray()
        self.keys = array("Q")
        self.lines = array("I")
        self.targets = array("I")
        self.labels = array("i")
        self.groups = array("Q")
        self.provenance = array("i")
        self.label_values = _Interned()
        self.provenance_values = _Interned()
        #: raw label text -> its id (labels repeat: redaction runs once per distinct label)
        self._label_ids: dict[str, int] = {}
        #: system prompt -> a blake2b that has hashed it and the separator (prompts repeat)
        self._prefixes: dict[str | None, object] = {}
        # Bound `append`s: `visit` runs once per example of the dataset.
        self._add_key = self._key_bytes.extend
        self._add_line = self.lines.append
        self._add_target = self.targets.append

    def _prefix(self, system: str | None):
        hasher = _blake2b((system + "\x1f" if system else "\x1f").encode("utf-8", "surrogatepass"), digest_size=8)
        if len(self._prefixes) < MAX_PREFIXES:
            self._prefixes[system] = hasher
        return hasher

    def visit(self, example: Example) -> None:
        # Everything that can fail is computed before anything is appended. This runs once
        # per example of the dataset: the key is the blake2b of the system prompt's cached
        # state continued with the normalized input (which the fingerprint map has usually
        # made already), the target a CRC-32.
        norm = example.normalized
        if norm is None or example.normalized_punctuation != self.ignore_punctuation:
            norm = normalized_input(example, self.ignore_punctuation)
        system = example.system
        hasher = self._prefixes.get(system) or self._prefix(system)
        hasher = hasher.copy()
        hasher.update(norm.encode("utf-8", "surrogatepass"))
        key = hasher.digest()
        raw_target = example.target_text.strip()
        target = _crc32(raw_target.encode("utf-8", "surrogatepass"))
        if self._plain:
            self._add_key(key)
            self._add_line(example.line)
            self._add_target(target)
            return
        label = -1
        if self._label_of is not None or self._classification:
            raw = self._label_of(example) if self._label_of is not None else raw_target
            label = self._label_ids.get(raw) if type(raw) is str else None
            if label is None:
                label = self.label_values(_stored_value(raw))
                if type(raw) is str and len(self._label_ids) < 100_000:
                    self._label_ids[raw] = label
        group = 0
        if self._group_of is not None:
            value = label_text(self._group_of(example))
            group = _digest64(value) if value else 0
        prov = -1
        if self._provenance:
            values = tuple(_stored_value(getter(example)) for getter in self._provenance)
            prov = self.provenance_values(values) if any(v is not None for v in values) else -1
        self._add_key(key)
        self._add_line(example.line)
        self._add_target(target)
        self.labels.append(label)
        self.groups.append(group)
        self.provenance.append(prov)

    def result(self) -> "VersionMap":
        self.keys = _keys_from_bytes(self._key_bytes)
        self._key_bytes = bytearray()
        if self._plain:
            count = len(self.lines)
            self.labels = array("i", [-1]) * count
            self.groups = array("Q", bytes(8 * count))
            self.provenance = array("i", [-1]) * count
        self._label_of = self._group_of = None
        self._provenance = []
        self._prefixes = {}
        del self._add_key, self._add_line, self._add_target
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "VersionState":
        return VersionState(ctx)


class VersionState(Combiner):
    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        self.parts: list[tuple[FileInfo, VersionMap]] = []

    def add(self, file: FileInfo, result: object) -> None:
        self.parts.append((file, result))


def provenance_pointers(config: FtdataConfig) -> list[str]:
    pointers = list(config.required_fields)
    if config.id_field and config.id_field not in pointers:
        pointers.append(config.id_field)
    return pointers


# -- the lock: a snapshot of one dataset -----------------------------------------------------

@dataclass
class Snapshot:
    """One dataset, as the lock records it (the data now, or a lock read back)."""

    files: list[dict] = field(default_factory=list)  # name, split, format, sha256, examples
    task: str | None = None
    ignore_punctuation: bool = False
    config: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, str | None] = field(default_factory=dict)
    provenance: list[str] = field(default_factory=list)
    keys: array = field(default_factory=lambda: array("Q"))
    file: array = field(default_factory=lambda: array("I"))
    line: array = field(default_factory=lambda: array("I"))
    target: array = field(default_factory=lambda: array("I"))
    label: array = field(default_factory=lambda: array("i"))
    group: array = field(default_factory=lambda: array("Q"))
    prov: array = field(default_factory=lambda: array("i"))
    labels: list = field(default_factory=list)
    provenances: list = field(default_factory=list)
    #: The header's count of examples (a lock read with `header_only` has no rows).
    examples: int | None = None
    #: Set on the data now when some files' rows came from the lock (`snapshot_of`): the
    #: lock's rows whose content key the changed files touch. The snapshot then holds
    #: only the rows of those keys, and `diff` matches only those rows of the lock: every
    #: other key is in unchanged files alone, where the lock's rows are the data's.
    compared: array | None = None
    #: Set on a lock read in full (`read_lock`): its rows per file number, counted once.
    locked_per_file: Counter = field(default_factory=Counter)

    def split_of(self, index: int) -> str:
        return _split_name(self.files[self.file[index]].get("split"))

    def label_of(self, index: int) -> str | None:
        found = self.label[index]
        return None if found < 0 else self.labels[found]

    def prov_of(self, index: int):
        found = self.prov[index]
        return None if found < 0 else self.provenances[found]

    def order(self) -> list[int]:
        keys, files, lines = self.keys, self.file, self.line
        return sorted(range(len(keys)), key=lambda i: (keys[i], files[i], lines[i]))


def _hash_json(value) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def definition(config: FtdataConfig) -> tuple[dict[str, str], dict[str, str | None]]:
    """Hashes of the effective settings, key by key, and of the schema files' bytes.

    Schema paths are absolute on each machine: their bytes are hashed, never the path."""
    dumped = config.model_dump(mode="json")
    settings = {key: _hash_json(value) for key, value in sorted(dumped.items()) if key not in NOT_HASHED}
    if config.tokenizer:
        path = config.resolve(config.tokenizer)
        settings["tokenizer"] = (_file_sha256(path) or "missing")[:12] if path and path.is_file() else _hash_json(config.tokenizer)
    schemas: dict[str, str | None] = {}
    for key in SCHEMA_KEYS:
        value = getattr(config, key)
        if value is None:
            schemas[key] = None
        else:
            digest = _file_sha256(Path(value))
            schemas[key] = digest[:16] if digest else "missing"
    return settings, schemas


def snapshot_of(ctx: DatasetContext, state: VersionState, lock: Snapshot | None = None) -> Snapshot:
    """The data now, as a `Snapshot` (file digests are read here unless known already).

    A file the lock vouched for (`VersionMap.visits` is False) was not visited: its rows
    are taken from `lock` (the lock read in full), or, without it, left out (only its
    count of examples is known, which is all the header comparison needs). When the lock
    no longer holds those rows (it changed during the run) or the file changed while it
    was read, the file is read again here."""
    config = ctx.config
    settings, schemas = definition(config)
    snap = Snapshot(
        task=ctx.task, ignore_punctuation=config.ignore_punctuation, config=settings, schemas=schemas,
        provenance=provenance_pointers(config),
    )
    labels = _Interned()
    provenances = _Interned()
    examples = 0
    # The lock's file number -> the snapshot's, for the files whose rows the lock gives.
    taken: dict[int, int] = {}
    locked_files = _locked_numbers(lock) if lock is not None else {}
    locked_counts = lock.locked_per_file if lock is not None else Counter()
    for number, (info, part) in enumerate(state.parts):
        digest = info.digest or part.sha256 or _file_sha256(info.abspath)
        part.sha256 = digest
        snap.files.append({
            "name": printable_name(info.abspath.name), "split": info.split, "format": info.format,
            "sha256": digest, "examples": info.examples,
        })
        if not part.visits:
            if lock is None:
                examples += info.examples
                continue
            found = locked_files.get(printable_name(info.abspath.name))
            if (not info.changed and digest is not None and found is not None
                    and lock.files[found].get("sha256") == digest and locked_counts[found] == info.examples):
                taken[found] = number
                examples += info.examples
                continue
            part = _map_file(ctx, info)
        examples += len(part.keys)
        snap.keys.extend(part.keys)
        snap.file.extend(array("I", [number]) * len(part.keys))
        snap.line.extend(part.lines)
        snap.target.extend(part.targets)
        snap.group.extend(part.groups)
        # Ids renumbered into the snapshot's tables (a part with no values has only -1s).
        if part.label_values.values:
            label_ids = [labels(value) for value in part.label_values.values]
            snap.label.extend(array("i", (label_ids[i] if i >= 0 else -1 for i in part.labels)))
        else:
            snap.label.extend(part.labels)
        if part.provenance_values.values:
            prov_ids = [provenances(value) for value in part.provenance_values.values]
            snap.prov.extend(array("i", (prov_ids[i] if i >= 0 else -1 for i in part.provenance)))
        else:
            snap.prov.extend(part.provenance)
    if taken:
        _take_rows(snap, lock, taken, labels, provenances)
    snap.labels = labels.values
    snap.provenances = provenances.values
    snap.examples = examples
    return snap


def _locked_numbers(lock: Snapshot) -> dict[str, int]:
    """File name -> its number in the lock (names a lock lists twice are left out: their
    rows cannot be told apart)."""
    names = Counter(f["name"] for f in lock.files)
    return {f["name"]: number for number, f in enumerate(lock.files) if names[f["name"]] == 1}


def _take_rows(snap: Snapshot, lock: Snapshot, taken: dict[int, int], labels: _Interned, provenances: _Interned) -> None:
    """Append the lock's rows of the files in `taken` (the lock's file number -> the
    snapshot's) that the other files touch, every column in C, and set `snap.compared`.

    A content key is touched when an example of a file that is not taken has it, now
    (`snap`'s rows so far) or in the lock. Every row of an untouched key is in a taken
    file, the same in the lock and now, so it can only be kept: it is left out of both
    sides of the diff. The rows come in the lock's order, not the files' line order: the
    matching sorts what it reports by file and line."""
    # One byte per row of the lock for each mask (0 or 1), so the masks stay small.
    in_taken = bytes(map(taken.__contains__, lock.file))
    touched = set(snap.keys)
    touched.update(compress(lock.keys, map(not_, in_taken)))
    in_touched = bytes(map(touched.__contains__, lock.keys))
    del touched
    snap.compared = array("I", compress(range(len(in_touched)), in_touched))
    chosen = bytes(map(and_, in_taken, in_touched))
    snap.keys.extend(array("Q", compress(lock.keys, chosen)))
    snap.file.extend(array("I", map(taken.__getitem__, compress(lock.file, chosen))))
    snap.line.extend(array("I", compress(lock.line, chosen)))
    snap.target.extend(array("I", compress(lock.target, chosen)))
    snap.group.extend(array("Q", compress(lock.group, chosen)))
    for column, values, own, table in ((snap.label, lock.labels, lock.label, labels),
                                       (snap.prov, lock.provenances, lock.prov, provenances)):
        if values:  # the lock's ids renumbered into the snapshot's table
            ids = {-1: -1, **{i: table(value) for i, value in enumerate(values)}}
            column.extend(array("i", map(ids.__getitem__, compress(own, chosen))))
        else:
            column.extend(array("i", compress(own, chosen)))


def _map_file(ctx: DatasetContext, info: FileInfo, count: bool = False) -> "VersionMap":
    """Read one file through a `VersionMap` of its own (with `count`, its examples and
    format are recorded on `info`, as the engine would)."""
    part = VersionMap(ctx, info, vouched=False)
    config = ctx.config
    formats: dict[str, int] = {}
    examples = 0
    for number, record in open_reader(info.abspath, max_line_bytes=config.max_line_bytes):
        if type(record) is not dict:
            continue
        fmt = detect_format(record) or config.format
        if fmt is None:
            continue
        formats[fmt] = formats.get(fmt, 0) + 1
        try:
            part.visit(make_example(info.path, number, record, fmt))
        except Exception:  # as in the engine's pass: the example is left out of the lock
            continue
        examples += 1
    if count:
        info.examples = examples
        info.format = max(formats, key=formats.get) if formats else None
    return part.result()


def render_lock(snap: Snapshot) -> str:
    """The lock's text: a header line, then one line per example sorted by (key, file, line)."""
    order = sorted(range(len(snap.files)), key=lambda i: snap.files[i]["name"])
    renumber = {old: new for new, old in enumerate(order)}
    header = {
        "ftdata_lock": LOCK_VERSION,
        "columns": list(COLUMNS),
        "examples": len(snap.keys),
        "files": [snap.files[i] for i in order],
        "task": snap.task,
        "content_key": "blake2b-64 of the system prompt and the normalized input",
        "ignore_punctuation": snap.ignore_punctuation,
        "settings": snap.config,
        "schemas": snap.schemas,
        "provenance": snap.provenance,
    }
    out = [orjson.dumps(header, option=orjson.OPT_SORT_KEYS).decode()]
    keys, files, lines, targets, groups = snap.keys, snap.file, snap.line, snap.target, snap.group
    rows = sorted(range(len(keys)), key=lambda i: (keys[i], renumber[files[i]], lines[i]))
    dumps = orjson.dumps
    for i in rows:
        row = [f"{keys[i]:016x}", renumber[files[i]], lines[i], f"{targets[i]:08x}",
               snap.label_of(i), f"{groups[i]:016x}" if groups[i] else None, snap.prov_of(i)]
        while row[-1] is None:
            row.pop()
        out.append(dumps(row).decode())
    return "\n".join(out) + "\n"


class LockError(Exception):
    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _line_blocks(handle, limit_first: int, limit: int):
    """(number of the first line, the lines) of each block of the file: a line over its
    limit raises without being held (at most one block beyond the limit is in memory),
    once the lines before it have been yielded."""
    number = 0
    pending = b""
    while True:
        block = handle.read(1 << 20)
        if not block:
            break
        # An example entry is at least 36 bytes: a block of far shorter lines (a flood of
        # blank lines, in a small gzip) is refused before it is split into line objects.
        if block.count(b"\n") > len(block) // 32 + MAX_SPARE_LINES:
            raise LockError(number + 1, f"from line {number + 1} on it has lines far shorter than any example entry")
        parts = (pending + block).split(b"\n")
        pending = parts.pop()
        if parts:
            start = number + 1
            if max(map(len, parts)) > limit:
                for offset, part in enumerate(parts):
                    cap = limit_first if start + offset == 1 else limit
                    if len(part) > cap:
                        if offset:
                            yield start, parts[:offset]
                        raise LockError(start + offset, f"line {start + offset} is longer than {cap:,} bytes, which no lock line is")
            yield start, parts
            number += len(parts)
        cap = limit_first if number == 0 else limit
        if len(pending) > cap:
            raise LockError(number + 1, f"line {number + 1} is longer than {cap:,} bytes, which no lock line is")
    if pending:
        yield number + 1, [pending]


def _hex(value, width: int, number: int, what: str) -> int:
    # Exactly `width` hex digits: `int(value, 16)` alone takes " 1f", "0x1f" and "1_f".
    if type(value) is not str or _HEX[width].fullmatch(value) is None:
        raise LockError(number, f"line {number} has no valid {what}")
    return int(value, 16)


def read_lock(path: Path, header_only: bool = False) -> Snapshot:
    """Read a lock back (only its header line with `header_only`); any problem raises
    `LockError` with the line and the reason.

    Only a regular file is read: it is opened without blocking (a FIFO would wait for a
    writer forever) and its kind checked on the open descriptor. A gzip lock may not
    decompress to more than `MAX_GZIP_RATIO` times its size."""
    try:
        unbuffered, info = open_regular(path)
    except UnreadableFile as exc:
        raise LockError(None, f"it {exc.reason}") from None
    with io.BufferedReader(unbuffered) as raw:
        size = info.st_size
        handle = raw
        if raw.peek(2)[:2] == b"\x1f\x8b":
            handle = _Capped(gzip.GzipFile(fileobj=raw), MAX_GZIP_RATIO * size + (1 << 20))
        try:
            return _parse(handle, header_only)
        except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            raise LockError(None, f"it cannot be read ({type(exc).__name__})") from None


class _Capped:
    """A gzip stream that raises `LockError` once it has given more than `limit` bytes."""

    def __init__(self, handle, limit: int) -> None:
        self.handle = handle
        self.limit = limit
        self.given = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size if size >= 0 else self.limit + 1 - self.given)
        self.given += len(data)
        if self.given > self.limit:
            raise LockError(None, f"it decompresses to more than {self.limit:,} bytes, {MAX_GZIP_RATIO} times its size, "
                                  "which no lock does (a gzip bomb?)")
        return data


def _parse(handle: io.BufferedIOBase, header_only: bool = False) -> Snapshot:
    snap = Snapshot()
    blocks = _line_blocks(handle, MAX_HEADER_BYTES, MAX_LINE_BYTES)
    opening = next(blocks, None)
    if opening is None:
        raise LockError(None, "it is empty")
    first = (1, opening[1][0])
    try:
        header = orjson.loads(first[1])
    except orjson.JSONDecodeError:
        conflict = first[1].startswith(b"<<<<<<<")
        raise LockError(1, "it holds an unresolved merge conflict" if conflict else "line 1 is not a JSON header") from None
    if not isinstance(header, dict) or "ftdata_lock" not in header:
        raise LockError(1, "line 1 is not a pytest-ftdata lock header")
    if header["ftdata_lock"] != LOCK_VERSION:
        raise LockError(1, f"it is a lock of format version {header['ftdata_lock']!r}, and this pytest-ftdata reads version {LOCK_VERSION}")
    files = header.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in files):
        raise LockError(1, "its header lists no valid files")
    # Names, splits, formats and the task are printed in findings: only plain text is taken.
    for f in files:
        if not _plain(f["name"]) or "/" in f["name"]:
            raise LockError(1, "its header lists a file name with a path or control characters in it")
        for what in ("split", "format"):
            if f.get(what) is not None and not _plain(f.get(what)):
                raise LockError(1, f"its header has a {what} that is not plain text")
    if header.get("task") is not None and not _plain(header.get("task")):
        raise LockError(1, "its header has a task that is not plain text")
    snap.files = [{"name": f["name"], "split": f.get("split"), "format": f.get("format"),
                   "sha256": f.get("sha256"), "examples": f.get("examples")} for f in files]
    snap.task = header.get("task")
    snap.ignore_punctuation = bool(header.get("ignore_punctuation"))
    snap.config = {str(k): str(v) for k, v in header.get("settings", {}).items()} if isinstance(header.get("settings"), dict) else {}
    schemas = header.get("schemas")
    snap.schemas = {str(k): (v if isinstance(v, str) else None) for k, v in schemas.items()} if isinstance(schemas, dict) else {}
    snap.examples = header.get("examples") if type(header.get("examples")) is int else None
    if header_only:
        return snap
    if snap.examples is None or snap.examples < 0:
        raise LockError(1, "its header has no valid count of examples")
    most_lines = 1 + snap.examples + MAX_SPARE_LINES
    labels = _Interned()
    provenances = _Interned()
    count = len(snap.files)
    # Rows are parsed a chunk of CHUNK_ROWS lines at a time, as one JSON array (orjson in
    # C); only a chunk that fails is walked row by row, to name the bad line.
    chunk: list[bytes] = []
    first_number = 2
    for start, block in _blocks_after(opening, blocks):
        if start + len(block) - 1 > most_lines:
            raise LockError(most_lines + 1, f"it has more lines than its header's {snap.examples:,} examples")
        if not chunk:
            first_number = start
        chunk.extend(block)
        while len(chunk) >= CHUNK_ROWS:
            _rows(snap, chunk[:CHUNK_ROWS], first_number, count, labels, provenances)
            chunk = chunk[CHUNK_ROWS:]
            first_number += CHUNK_ROWS
    if chunk:
        _rows(snap, chunk, first_number, count, labels, provenances)
    snap.labels = labels.values
    snap.provenances = provenances.values
    _check_counts(snap)
    return snap


def _plain(value) -> bool:
    # Names, splits, formats and the task are printed in findings (`readers.UNPRINTABLE`:
    # a newline in a CI log starts a workflow command, an escape recolours the terminal).
    return type(value) is str and 0 < len(value) <= 1024 and UNPRINTABLE.search(value) is None


def _check_counts(snap: Snapshot) -> None:
    """The rows agree with the header's counts, in all and per file: a lock cut short or
    with rows taken out would otherwise read as examples that were added since."""
    if len(snap.keys) != snap.examples:
        raise LockError(None, f"it has {len(snap.keys):,} example entries, and its header says {snap.examples:,}; "
                              "it was cut short or edited")
    # A file's count in the header is its examples; an example whose entry could not be
    # made (a check error, reported when the lock was written) has none, so a file may
    # have fewer entries than examples, never more.
    per_file = snap.locked_per_file = Counter(snap.file)
    for number, f in enumerate(snap.files):
        if type(f.get("examples")) is int and per_file[number] > f["examples"]:
            raise LockError(None, f"it has {per_file[number]:,} example entries for {f['name']}, and its header "
                                  f"says it has {f['examples']:,} examples; it was edited")


def _blocks_after(opening: tuple[int, list[bytes]], blocks):
    """The example lines: the rest of the first block, then every later block."""
    if len(opening[1]) > 1:
        yield 2, opening[1][1:]
    yield from blocks


def _rows(snap: Snapshot, chunk: list[bytes], first: int, count: int, labels: _Interned, provenances: _Interned) -> None:
    if _plain_rows(snap, chunk, count):
        return
    body = [line for line in chunk if line.strip()]
    try:
        rows = orjson.loads(b"[" + b",".join(body) + b"]")
        # Bad types fail the conversions; what converts but is out of range, or is not
        # exactly its hex digits, is checked column by column.
        # Hex digits only: `fromhex` takes whitespace too, which the byte counts show.
        key_bytes = bytes.fromhex("".join([row[0] for row in rows]))
        target_bytes = bytes.fromhex("".join([row[3] for row in rows]))
        hex_only = len(key_bytes) == 8 * len(rows) and len(target_bytes) == 4 * len(rows)
        keys = _keys_from_bytes(key_bytes)
        files = array("I", [row[1] for row in rows])
        lines = array("I", [row[2] for row in rows])
        targets = _keys_from_bytes(target_bytes, "I")
        widths = {len(row) for row in rows}
        extra = [row[4:] for row in rows] if max(widths, default=4) > 4 else None
        ok = (
            widths <= set(range(4, len(COLUMNS) + 1))
            and (not rows or (max(files) < count and min(lines) > 0))
            and {type(row[0]) for row in rows} <= {str} and {type(row[1]) for row in rows} <= {int}
            and {type(row[2]) for row in rows} <= {int}
            and {len(row[0]) for row in rows} <= {16} and {len(row[3]) for row in rows} <= {8}
            and hex_only
        )
        if ok and extra is not None:
            ok = all(
                (not e or e[0] is None or (type(e[0]) is str and len(e[0]) <= MAX_LABEL_CHARS + 8))
                and (len(e) < 2 or e[1] is None or (type(e[1]) is str and _HEX[16].fullmatch(e[1]) is not None))
                and (len(e) < 3 or e[2] is None or (type(e[2]) is list and all(v is None or type(v) is str for v in e[2])))
                for e in extra
            )
        groups = array("Q", [int(row[5], 16) if len(row) > 5 and row[5] is not None else 0 for row in rows]) if extra else array("Q", bytes(8 * len(rows)))
    except (orjson.JSONDecodeError, ValueError, TypeError, IndexError, KeyError, OverflowError):
        ok = False
    if not ok:
        _rows_slowly(chunk, first, count)
        raise LockError(first, f"an example entry from line {first} on is invalid")  # when the row walk names none
    snap.keys.extend(keys)
    snap.file.extend(files)
    snap.line.extend(lines)
    snap.target.extend(targets)
    snap.group.extend(groups)
    if extra is None:
        snap.label.extend(array("i", [-1]) * len(rows))
        snap.prov.extend(array("i", [-1]) * len(rows))
        return
    snap.label.extend(array("i", [labels(e[0] if e else None) for e in extra]))
    snap.prov.extend(array("i", [provenances(tuple(e[2])) if len(e) > 2 and e[2] is not None else -1 for e in extra]))


def _plain_rows(snap: Snapshot, chunk: list[bytes], count: int) -> bool:
    """The fast path of `_rows` for a chunk of rows without label, group or provenance
    (what a lock of a dataset with none of those settings holds): every column is taken
    and checked in C (`map`, `bytes.fromhex`, `array`). False, with `snap` untouched,
    when the chunk is anything else: `_rows` then takes it (and names a bad line)."""
    if not _NATIVE_WIDTHS:
        return False
    try:
        rows = orjson.loads(b"[" + b",".join(chunk) + b"]")
        if set(map(len, rows)) - {4}:
            return False
        keys, files, lines, targets = (list(map(getter, rows)) for getter in _FIRST_FOUR)
        if not (set(map(type, keys)) <= {str} and set(map(type, targets)) <= {str}
                and set(map(type, files)) <= {int} and set(map(type, lines)) <= {int}
                and set(map(len, keys)) <= {16} and set(map(len, targets)) <= {8}):
            return False
        key_bytes = bytes.fromhex("".join(keys))
        target_bytes = bytes.fromhex("".join(targets))
        file_numbers = array("I", files)
        line_numbers = array("I", lines)
    except (orjson.JSONDecodeError, ValueError, TypeError, IndexError, KeyError, OverflowError):
        return False
    # `fromhex` skips whitespace: the byte counts show that every digit was a hex digit.
    if len(key_bytes) != 8 * len(rows) or len(target_bytes) != 4 * len(rows):
        return False
    if rows and (max(file_numbers) >= count or min(line_numbers) < 1):
        return False
    snap.keys.extend(_keys_from_bytes(key_bytes))
    snap.target.extend(_keys_from_bytes(target_bytes, "I"))
    snap.file.extend(file_numbers)
    snap.line.extend(line_numbers)
    snap.group.extend(array("Q", bytes(8 * len(rows))))
    snap.label.extend(array("i", [-1]) * len(rows))
    snap.prov.extend(array("i", [-1]) * len(rows))
    return True


def _rows_slowly(chunk: list[bytes], first: int, count: int) -> None:
    """Walk a chunk that failed row by row and raise `LockError` at the first bad line."""
    loads = orjson.loads
    for offset, line in enumerate(chunk):
        number = first + offset
        if not line.strip():
            continue
        try:
            row = loads(line)
        except orjson.JSONDecodeError:
            conflict = line.startswith((b"<<<<<<<", b"=======", b">>>>>>>"))
            raise LockError(number, f"line {number} is {'a merge conflict marker' if conflict else 'not valid JSON'}") from None
        if type(row) is not list or not 4 <= len(row) <= len(COLUMNS):
            raise LockError(number, f"line {number} is not an example entry")
        file_no, line_no = row[1], row[2]
        if type(file_no) is not int or not 0 <= file_no < count or type(line_no) is not int or not 0 < line_no < 2**32:
            raise LockError(number, f"line {number} names no valid file and line")
        _hex(row[0], 16, number, "content key")
        _hex(row[3], 8, number, "target hash")
        label = row[4] if len(row) > 4 else None
        group = row[5] if len(row) > 5 else None
        prov = row[6] if len(row) > 6 else None
        if label is not None and (type(label) is not str or len(label) > MAX_LABEL_CHARS + 8):
            raise LockError(number, f"line {number} has no valid label")
        if group is not None:
            _hex(group, 16, number, "group hash")
        if prov is not None and (type(prov) is not list or not all(v is None or type(v) is str for v in prov)):
            raise LockError(number, f"line {number} has no valid provenance")


def lock_text_for(files: dict[str, str], config_table: dict) -> str:
    """The lock of a small dataset given as {file name: JSON Lines text}, for the rule
    examples and tests. A file's split is its stem when that is `train`, `validation` or
    `test` (what the examples use); a run decides splits as the engine does."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = []
        for name, text in sorted(files.items()):
            (root / name).write_text(text, encoding="utf-8")
            paths.append(root / name)
        config = validate(dict(config_table), "example", folder)
        task = detect_task(paths, config).task
        infos = []
        for path in paths:
            stem = path.name.split(".")[0]
            infos.append(FileInfo(path=path.name, abspath=path, split=stem if stem in (TRAIN, *EVALUATION) else None))
        ctx = DatasetContext(path=".", files=infos, config=config, task=task, directory=root)
        state = VersionState(ctx)
        for info in infos:
            state.add(info, _map_file(ctx, info, count=True))
        return render_lock(snapshot_of(ctx, state))


# -- comparing the data with its lock -----------------------------------------------------------

@dataclass
class Diff:
    """What changed per split: counts, and the pairs and leftovers findings are made of."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    moved: list[tuple[int, int]] = field(default_factory=list)  # (old index, new index)
    relabelled: list[tuple[int, int]] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def count(self, split: str, what: str, number: int = 1) -> None:
        row = self.counts.setdefault(split, {"added": 0, "removed": 0, "changed": 0, "moved_in": 0, "moved_out": 0})
        row[what] += number


_SPLIT_RANK = {TRAIN: 0, "validation": 1, "test": 2, UNSPLIT: 3}


def _rank(split: str) -> tuple:
    return (_SPLIT_RANK.get(split, 4), split)


def _split_column(snap: Snapshot, names: list[str], ids: dict[str, int]):
    """The split of every example of `snap`, as small ids shared by both sides."""
    table = [ids.setdefault(name, len(ids)) for name in names]
    if len(table) <= 256:
        return bytes(array("B", snap.file)).translate(bytes(table + [0] * (256 - len(table))))
    return array("I", map(table.__getitem__, snap.file))


def _signatures(keys, targets, splits, labels, provs, full: bool):
    """One exact int per example: key, target hash and split (and label and provenance
    ids, with `full`) in bit fields side by side, so that equal ints are equal examples."""
    packed = map(or_, map(lshift, keys, repeat(64)), map(or_, map(lshift, targets, repeat(32)), splits))
    if full:
        # ids are at least -2 and below 2**31: shifted by 2, each fits in 32 bits
        packed = map(or_, map(lshift, packed, repeat(64)),
                     map(or_, map(lshift, map(add, labels, repeat(2)), repeat(32)), map(add, provs, repeat(2))))
    return packed


def _gather(column: array, rows: array) -> array:
    """The entries of `column` at `rows`, in C."""
    return array(column.typecode, map(column.__getitem__, rows))


def _repeated(keys) -> set[int]:
    """The keys that are in `keys` more than once (sorted in C, neighbours compared)."""
    ordered = sorted(keys)
    return set(compress(ordered[1:], map(eq, ordered[1:], ordered)))


def _kept(old: Snapshot, new: Snapshot, old_split: list[str], new_split: list[str], label_map: list[int],
          prov_map: list[int]) -> tuple[list[int], list[int]]:
    """The examples of `old` and `new` that are left once those kept as they were are
    taken out, in index order.

    An example is kept when its key is once in `old` and once in `new`, in the same split,
    with the same target, label and provenance: the matching would pair the two and
    count nothing, and no other example has that key. They are found with set
    operations on one exact int per example, in C (most of a dataset is kept)."""
    ids: dict[str, int] = {}
    osplit, nsplit = _split_column(old, old_split, ids), _split_column(new, new_split, ids)
    full = bool(old.labels or new.labels or old.provenances or new.provenances)
    nlabel = nprov = new.label
    if full:
        # new label and provenance ids as the old side's (-2: a value the lock lacks)
        label_of = {-1: -1, **dict(enumerate(label_map))}.__getitem__
        prov_of = {-1: -1, **dict(enumerate(prov_map))}.__getitem__
        nlabel, nprov = array("i", map(label_of, new.label)), array("i", map(prov_of, new.prov))
    okeys, otargets, olabel, oprov = old.keys, old.target, old.label, old.prov
    rows = new.compared
    if rows is not None:  # only the lock's rows of the keys the changed files touch
        okeys, otargets, olabel, oprov = (_gather(column, rows) for column in (okeys, otargets, olabel, oprov))
        osplit = _gather(array("B", osplit) if type(osplit) is bytes else osplit, rows)
    repeated = _repeated(okeys) | _repeated(new.keys)
    old_sigs = list(_signatures(okeys, otargets, osplit, olabel, oprov, full))
    new_sigs = list(_signatures(new.keys, new.target, nsplit, nlabel, nprov, full))
    old_set = set(compress(old_sigs, map(not_, map(repeated.__contains__, okeys))) if repeated else old_sigs)
    new_kept = list(map(old_set.__contains__, new_sigs))
    del old_set
    new_set = set(compress(new_sigs, new_kept))
    old_rest = list(compress(rows if rows is not None else range(len(old_sigs)), map(not_, map(new_set.__contains__, old_sigs))))
    new_rest = list(compress(range(len(new_sigs)), map(not_, new_kept)))
    return old_rest, new_rest


def diff(old: Snapshot, new: Snapshot) -> Diff:
    """Match the examples of `old` and `new` by content key (see the module docstring)."""
    out = Diff()
    okeys, nkeys = old.keys, new.keys
    old_split = [_split_name(f.get("split")) for f in old.files]
    new_split = [_split_name(f.get("split")) for f in new.files]
    ofile, nfile = old.file, new.file
    otarget, ntarget = old.target, new.target
    # Labels and provenance compared as ids: each new id mapped to the old id of the same value.
    old_label_id = {value: i for i, value in enumerate(old.labels)}
    label_map = [old_label_id.get(value, -2) for value in new.labels]
    old_prov_id = {value: i for i, value in enumerate(old.provenances)}
    prov_map = [old_prov_id.get(value, -2) for value in new.provenances]
    olabel, nlabel, oprov, nprov = old.label, new.label, old.prov, new.prov

    # What must be equal for an old and a new example of one key to be the same example:
    # target, label and provenance (the new ids mapped to the old side's).
    def old_sig(o: int) -> tuple:
        return otarget[o], olabel[o], oprov[o]

    def new_sig(n: int) -> tuple:
        lab, pv = nlabel[n], nprov[n]
        return ntarget[n], label_map[lab] if lab >= 0 else -1, prov_map[pv] if pv >= 0 else -1

    def same(o: int, n: int) -> bool:
        return old_sig(o) == new_sig(n)

    def relabel(o: int, n: int) -> None:
        a, b = old.label_of(o), new.label_of(n)
        if a is not None and b is not None and a != b:
            out.relabelled.append((o, n))

    # Examples kept as they were (nearly all) are left out first, in C; every count and
    # pairing below is the same with or without them (see `_kept`).
    old_rest, new_rest = _kept(old, new, old_split, new_split, label_map, prov_map)
    # Keys once on each side pair up through one dict; the rest are grouped per key below.
    # (No kept example shares a key with one left, so these are the keys' full counts.)
    old_count = Counter([okeys[o] for o in old_rest])
    new_count = Counter([nkeys[n] for n in new_rest])
    single_old = {okeys[o]: o for o in old_rest if old_count[okeys[o]] == 1}
    groups: dict[int, tuple[list[int], list[int]]] = {}
    matched = bytearray(len(okeys))
    for n in new_rest:
        key = nkeys[n]
        if new_count[key] == 1:
            o = single_old.get(key)
            if o is not None:
                matched[o] = 1
                a, b = old_split[ofile[o]], new_split[nfile[n]]
                if a == b:
                    if not same(o, n):
                        out.count(b, "changed")
                        relabel(o, n)
                else:
                    out.moved.append((o, n))
                    out.count(a, "moved_out")
                    out.count(b, "moved_in")
                    relabel(o, n)
                continue
            if key not in old_count:
                out.added.append(n)
                out.count(new_split[nfile[n]], "added")
                continue
        groups.setdefault(key, ([], []))[1].append(n)
    for o in old_rest:
        if matched[o]:
            continue
        key = okeys[o]
        if old_count[key] == 1 and key not in new_count:
            out.removed.append(o)
            out.count(old_split[ofile[o]], "removed")
            continue
        groups.setdefault(key, ([], []))[0].append(o)

    # Every step below is linear in the key's examples (a key may have thousands: one
    # short input with many targets), with the same pairs as the plain reading: each new
    # example takes the first old one, in file and line order, that is identical to it.
    for olds, news in groups.values():
        by_old: dict[str, list[int]] = {}
        by_new: dict[str, list[int]] = {}
        for o in sorted(olds, key=lambda x: (ofile[x], old.line[x])):
            by_old.setdefault(old_split[ofile[o]], []).append(o)
        for n in sorted(news, key=lambda x: (nfile[x], new.line[x])):
            by_new.setdefault(new_split[nfile[n]], []).append(n)
        # The old examples left over, per split in rank order (each in file and line order).
        spare_old: list[tuple[str, deque]] = []
        spare_new: list[int] = []
        for split in sorted(by_old.keys() | by_new.keys(), key=_rank):
            o_list, n_list = by_old.get(split, []), by_new.get(split, [])
            identical: dict[tuple, deque] = {}
            for o in o_list:
                identical.setdefault(old_sig(o), deque()).append(o)
            used: set[int] = set()
            unmatched = []
            for n in n_list:  # identical pairs first, then the rest pair up as changed
                candidates = identical.get(new_sig(n))
                if candidates:
                    used.add(candidates.popleft())
                else:
                    unmatched.append(n)
            rest = deque(o for o in o_list if o not in used)
            paired = min(len(unmatched), len(rest))
            for n in unmatched[:paired]:
                o = rest.popleft()
                out.count(split, "changed")
                relabel(o, n)
            spare_new.extend(unmatched[paired:])
            spare_old.append((split, rest))
        for n in spare_new:
            b = new_split[nfile[n]]
            # the first old example left, in rank order, of another split
            source = next((rest for split, rest in spare_old if split != b and rest), None)
            if source is None:
                out.added.append(n)
                out.count(b, "added")
                continue
            o = source.popleft()
            a = old_split[ofile[o]]
            out.moved.append((o, n))
            out.count(a, "moved_out")
            out.count(b, "moved_in")
            relabel(o, n)
        for _, rest in spare_old:
            for o in rest:
                out.removed.append(o)
                out.count(old_split[ofile[o]], "removed")
    return out


def _definition_changes(old: Snapshot, new: Snapshot) -> list[tuple[str, str]]:
    """(aspect, what changed) of the dataset's definition since the lock."""
    changes: list[tuple[str, str]] = []
    if old.task != new.task:
        changes.append(("task", f"the task was {old.task or 'unknown'} and is now {new.task or 'unknown'}"))
    # Settings only one side knows are a newer or older pytest-ftdata, not a change of the data.
    keys = sorted(set(old.config) & set(new.config))
    changed = [key for key in keys if old.config[key] != new.config[key]]
    if changed:
        shown = ", ".join(f"`{key}`" for key in changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
        changes.append(("settings", f"the settings {shown} changed"))
    for key in SCHEMA_KEYS:
        if old.schemas.get(key) != new.schemas.get(key):
            was, now = old.schemas.get(key), new.schemas.get(key)
            what = "was added" if was is None else "was removed" if now is None else "changed"
            changes.append(("schema", f"the `{key}` file {what}"))
    old_formats = {f["name"]: f.get("format") for f in old.files}
    for f in new.files:
        if f["name"] in old_formats and old_formats[f["name"]] != f.get("format"):
            changes.append(("format", f"{f['name']} was {old_formats[f['name']] or 'of no known format'} and is now {f.get('format') or 'of no known format'}"))
    return changes


def _unchanged(old: Snapshot, new: Snapshot) -> bool:
    """Whether the lock's header vouches for the data as it is: every file by name, split
    and sha256, and the same definition."""
    def files(snap: Snapshot) -> list[tuple]:
        return sorted((f["name"], f.get("split"), f.get("sha256"), f.get("format")) for f in snap.files)

    return (
        files(old) == files(new) and all(f.get("sha256") for f in new.files)
        and old.examples == new.examples and not _definition_changes(old, new)
        and old.ignore_punctuation == new.ignore_punctuation
    )


class VersionsFamily(DatasetFamily):
    family = "versions"
    maps = (VersionMap,)

    def __init__(self, ctx: DatasetContext) -> None:
        super().__init__(ctx)
        self._summary: dict | None = None
        # None when there is no lock to compare with and none to write: `finish` then has
        # nothing to do, and the maps compute nothing (a project without locks pays nothing).
        path = self.lock_path()
        wanted = path is not None and (ctx.update_lock or os.path.lexists(path))
        ctx.shared["versions"] = self._vouched() if wanted else None

    def _vouched(self) -> dict[str, tuple[str | None, str]]:
        """File name -> (split, sha256) of the files the lock's header records, when its
        definition (task, settings, schemas, `ignore_punctuation`) is today's: a file of
        that name, split and sha256 has exactly the rows the lock has for it, so its map
        computes none (a lock update computes every row)."""
        path = self.lock_path()
        if path is None or self.ctx.update_lock or not os.path.isfile(path):
            return {}
        try:
            header = read_lock(path, header_only=True)
        except LockError:
            return {}
        settings, schemas = definition(self.config)
        now = Snapshot(task=self.ctx.task, ignore_punctuation=self.config.ignore_punctuation, config=settings, schemas=schemas)
        if header.ignore_punctuation != now.ignore_punctuation or _definition_changes(header, now):
            return {}
        names = Counter(f["name"] for f in header.files)
        return {f["name"]: (f.get("split"), f["sha256"]) for f in header.files
                if names[f["name"]] == 1 and isinstance(f.get("sha256"), str)}

    def _where(self, name: str) -> str:
        return name if self.ctx.path in (".", "") else f"{self.ctx.path.rstrip('/')}/{name}"

    def lock_path(self) -> Path | None:
        if self.ctx.directory is None:
            return None
        return Path(self.ctx.directory, self.config.lock)

    def finish(self) -> list[Finding]:
        path = self.lock_path()
        if path is None:
            return []
        shown = self._where(self.config.lock)
        present = os.path.lexists(path)
        if not present and not self.ctx.update_lock:
            return []
        new = snapshot_of(self.ctx, self.combined(VersionMap))
        old: Snapshot | None = None
        problem: LockError | None = None
        if present:
            try:
                old = read_lock(path, header_only=True)
                if not self.ctx.update_lock and _unchanged(old, new):
                    # The same bytes under the same definition: nothing can differ (the
                    # common CI run), so the rows are not read.
                    self._summary = self._summarise(old, new, Diff(), shown, "compared", locked_from_header=True)
                    return []
                old = read_lock(path)
                state = self.combined(VersionMap)
                if any(not part.visits for _, part in state.parts):
                    new = snapshot_of(self.ctx, state, old)  # the rows of the files the lock vouched for
            except LockError as exc:
                problem = exc
        if self.ctx.update_lock:
            self.ctx.outputs["lock"] = {"path": str(path), "shown": shown, "text": render_lock(new),
                                        "dataset": self.ctx.path, "directory": str(self.ctx.directory)}
            self._summary = self._summarise(old, new, diff(old, new) if old is not None and old.ignore_punctuation == new.ignore_punctuation else None, shown, "written")
            return []  # the lock now agrees with the data: nothing to report against it
        if problem is not None:
            self._summary = {"dataset": self.ctx.path, "lock": shown, "status": "unreadable", "splits": []}
            return [LOCK_UNREADABLE.at(
                shown, problem.line,
                f"The lock {shown} cannot be used: {problem.reason}. Nothing was compared with it; make it again "
                f"with `pytest --ftdata {self.ctx.path} --ftdata-update-lock` (in a merge conflict, keep either side "
                "and make it again).",
            )]
        found = FindingList(self.ctx.path)
        for aspect, change in _definition_changes(old, new):
            found.append(DEFINITION_CHANGED.at(
                shown, None,
                f"The dataset's {aspect} changed since the lock {shown}: {change}; findings and scores may differ "
                "from the release the lock records for that reason alone. Review the change, then run with "
                "--ftdata-update-lock.",
                key=cluster_key(DEFINITION_CHANGED.code, aspect, change),
            ))
        if old.ignore_punctuation != new.ignore_punctuation:
            found.append(DEFINITION_CHANGED.at(
                shown, None,
                f"`ignore_punctuation` changed since the lock {shown}, which changes every example's content key, "
                "so the examples were not compared; run with --ftdata-update-lock to record the new keys.",
                key=cluster_key(DEFINITION_CHANGED.code, "ignore_punctuation"),
            ))
            self._summary = self._summarise(old, new, None, shown, "incomparable")
            return found.finish()
        changes = diff(old, new)
        self._findings(found, old, new, changes)
        self._summary = self._summarise(old, new, changes, shown, "compared")
        return found.finish()

    # -- findings ---------------------------------------------------------------------------

    def _findings(self, found: FindingList, old: Snapshot, new: Snapshot, changes: Diff) -> None:
        parts = self.combined(VersionMap).parts
        new_path = [info.path for info, _ in parts]

        def was(o: int) -> str:
            return f"{self._where(old.files[old.file[o]]['name'])}:{old.line[o]}"

        reported_moves: set[int] = set()
        for o, n in sorted(changes.moved, key=lambda pair: (new.file[pair[1]], new.line[pair[1]])):
            a, b = old.split_of(o), new.split_of(n)
            path, line = new_path[new.file[n]], new.line[n]
            key = cluster_key("VER-move", f"{new.keys[n]:016x}", a, b)
            if b == TRAIN and a in EVALUATION:
                rule_, message = MOVED_INTO_TRAIN, (
                    f"Example moved from the {a} split into the train split since the lock (it was at {was(o)}): "
                    f"once trained on, its {a} score measures memory, not generalization; move it back to {a}, or, if "
                    f"the move is meant, stop comparing {a} scores with the last release and run with --ftdata-update-lock."
                )
            elif a == TRAIN and b in EVALUATION:
                rule_, message = MOVED_OUT_OF_TRAIN, (
                    f"Example moved from the train split into the {b} split since the lock (it was at {was(o)}): the "
                    f"model trained on the locked data has seen it, so its {b} score on it measures memory; move it "
                    f"back to train, or keep it out of {b} until no compared model trained on it, then update the lock."
                )
            else:
                rule_, message = MOVED_BETWEEN_SPLITS, (
                    f"Example moved from {_words(a)} to {_words(b)} since the lock (it was at {was(o)}): scores on "
                    "both no longer compare with the last release; move it back, or run with --ftdata-update-lock if "
                    "the move is meant."
                )
            reported_moves.add(n)
            if found.room(rule_, line):
                found.append(rule_.at(path, line, message, key=key))
        for o, n in sorted(changes.relabelled, key=lambda pair: (new.file[pair[1]], new.line[pair[1]])):
            path, line = new_path[new.file[n]], new.line[n]
            if not found.room(RELABELLED, line):
                continue
            before, after = old.label_of(o), new.label_of(n)
            found.append(RELABELLED.at(
                path, line,
                f"Label changed for the same input since the lock: {quoted(before, 30)} -> {quoted(after, 30)} (it was "
                f"at {was(o)}); a relabel changes what the model learns, so have it reviewed, then run with "
                "--ftdata-update-lock.",
                key=cluster_key(RELABELLED.code, f"{new.keys[n]:016x}", before, after),
            ))
        for o in sorted(changes.removed, key=lambda x: (old.file[x], old.line[x])):
            a = old.split_of(o)
            if a not in EVALUATION:
                continue
            path = self._where(old.files[old.file[o]]["name"])
            if not found.room(REMOVED_FROM_EVALUATION, old.line[o]):
                continue
            found.append(REMOVED_FROM_EVALUATION.at(
                path, old.line[o],
                f"The example the lock has at {path}:{old.line[o]} is gone from the {a} split: {a} scores no longer "
                "compare with the last release's; restore it, or accept the smaller split with --ftdata-update-lock "
                "and evaluate the last model on it again.",
                key=cluster_key(REMOVED_FROM_EVALUATION.code, f"{old.keys[o]:016x}", a),
            ))
        self._group_moves(found, old, new, changes, new_path, reported_moves)

    def _group_moves(self, found, old: Snapshot, new: Snapshot, changes: Diff, new_path, reported: set[int]) -> None:
        """Groups (`group_by`) whose new examples sit across the train boundary from where the lock had the group."""
        if not self.config.group_by or not changes.added:
            return
        old_splits: dict[int, set[str]] = {}
        for o, group in enumerate(old.group):
            if group:
                old_splits.setdefault(group, set()).add(old.split_of(o))
        seen: set[tuple[int, str]] = set()
        hits = []
        for n in sorted(changes.added, key=lambda x: (new.file[x], new.line[x])):
            group = new.group[n]
            was = old_splits.get(group)
            b = new.split_of(n)
            if not group or not was or (group, b) in seen or n in reported:
                continue
            if (b == TRAIN and TRAIN not in was and was & set(EVALUATION)) or (
                b in EVALUATION and was == {TRAIN}
            ):
                seen.add((group, b))
                hits.append((n, sorted(was, key=_rank), b))
        if not hits:
            return
        getter = compile_value_getter(self.config.group_by)
        parts = self.combined(VersionMap).parts
        names: dict[int, str] = {}
        by_file: dict[int, list[int]] = {}
        for n, _, _ in hits:
            by_file.setdefault(new.file[n], []).append(n)
        for file_no, members in by_file.items():
            examples = read_again(parts[file_no][0], [new.line[n] for n in members], self.config)
            for n in members:
                example_ = examples.get(new.line[n])
                value = label_text(getter(example_)) if example_ is not None else None
                names[n] = quoted(value, 40) if value else "(unreadable)"
        for n, was, b in hits:
            rule_ = MOVED_INTO_TRAIN if b == TRAIN else MOVED_OUT_OF_TRAIN
            path, line = new_path[new.file[n]], new.line[n]
            if found.room(rule_, line):
                found.append(rule_.at(
                    path, line,
                    f"Group {names[n]} was in the {' and '.join(was)} split in the lock and now has examples in the {b} "
                    "split: examples of one group teach the same thing, so this leaks across releases; keep the group "
                    "in one split, or run with --ftdata-update-lock if the move is meant.",
                    key=cluster_key(rule_.code, "group", f"{new.group[n]:016x}", b),
                ))

    # -- the summary ------------------------------------------------------------------------

    def _summarise(self, old: Snapshot | None, new: Snapshot, changes: Diff | None, shown: str, status: str,
                   locked_from_header: bool = False) -> dict:
        now: dict[str, int] = {}
        for f in new.files:
            now[_split_name(f.get("split"))] = now.get(_split_name(f.get("split")), 0) + int(f.get("examples") or 0)
        locked: dict[str, int] = {}
        if locked_from_header:
            locked = dict(now)
        elif old is not None:
            for file_no, number in old.locked_per_file.items():
                split = _split_name(old.files[file_no].get("split"))
                locked[split] = locked.get(split, 0) + number
        splits = []
        for split in sorted(now.keys() | locked.keys(), key=_rank):
            row = {"split": split, "examples": now.get(split, 0), "locked": locked.get(split, 0) if old is not None else None}
            counts = (changes.counts.get(split) if changes is not None else None) or {}
            if old is None:
                counts = {"added": now.get(split, 0)}
            for what in ("added", "removed", "changed", "moved_in", "moved_out"):
                row[what] = counts.get(what, 0)
            splits.append(row)
        return {"dataset": self.ctx.path, "lock": shown, "status": status, "had_lock": old is not None, "splits": splits}

    def summary(self) -> dict | None:
        return self._summary


# -- the rules (their examples are locks made by `lock_text_for`) --------------------------------

_TRAIN = """
    {"messages": [{"role": "user", "content": "How do I reset my password?"}, {"role": "assistant", "content": "Choose Forgot password on the sign-in page."}]}
    {"messages": [{"role": "user", "content": "How do I change my e-mail address?"}, {"role": "assistant", "content": "Open Settings > Profile and edit E-mail."}]}
"""
_TEST = """
    {"messages": [{"role": "user", "content": "Can I pay by invoice?"}, {"role": "assistant", "content": "Yes, on the Business plan."}]}
    {"messages": [{"role": "user", "content": "Where do I download my receipts?"}, {"role": "assistant", "content": "Under Billing > History."}]}
"""
_TEST_LINE = _TEST.strip().splitlines()
_TRAIN_LINES = _TRAIN.strip().splitlines()
_LABELLED = """
    {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "I was charged twice for my plan."}, {"role": "assistant", "content": "billing"}]}
    {"messages": [{"role": "system", "content": "Classify the support ticket."}, {"role": "user", "content": "The app crashes when I upload a photo."}, {"role": "assistant", "content": "technical"}]}
"""
_RELABELLED = _LABELLED.replace('"billing"', '"account"')

MOVED_INTO_TRAIN = rule(
    code="VER001", name="moved-into-train", family="versions", severity="error",
    summary="An example (or a group) moved from validation or test into train since the lock.",
    why="""The lock (`ftdata.lock`) records the split every example was in when it was made,
    usually at the last release. An example that was in validation or test then and is in
    train now will be trained on by the next model, while the scores that release is compared
    with were measured on it: the comparison then measures memory. No single version of the
    data shows this; only the history does. With `group_by`, a group that now has examples
    on the other side of the train boundary from where the lock had it counts too.""",
    fix="""Move the example back to the split the message names. If the move is meant, compare
    no scores across it, then run `pytest --ftdata DATA --ftdata-update-lock` and commit the lock.""",
    settings=("lock", "group_by", "ignore_punctuation"),
    bad=_lock_example({"train.jsonl": _TRAIN + "\n" + _TEST_LINE[0], "test.jsonl": _TEST_LINE[1]},
                      then={"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
    good=_lock_example({"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
)
MOVED_OUT_OF_TRAIN = rule(
    code="VER002", name="moved-out-of-train", family="versions", severity="error",
    summary="An example (or a group) moved from train into validation or test since the lock.",
    why="""The model trained on the locked data has seen this example; scored on it now, in
    validation or test, it is tested on what it memorised, and the new split looks better than
    it is.""",
    fix="""Move the example back to train, or keep it out of evaluation until no model you
    compare was trained on it; then run with `--ftdata-update-lock`.""",
    settings=("lock", "group_by", "ignore_punctuation"),
    bad=_lock_example({"train.jsonl": _TRAIN_LINES[0], "test.jsonl": _TEST + "\n" + _TRAIN_LINES[1]},
                      then={"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
    good=_lock_example({"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
)
MOVED_BETWEEN_SPLITS = rule(
    code="VER003", name="moved-between-splits", family="versions", severity="warning",
    summary="An example moved between validation and test (or to or from files of no split) since the lock.",
    why="""It never touched train, so it is no leak, but each split's scores no longer compare
    with the last release's. A warning: reshuffling evaluation splits is sometimes meant.""",
    fix="""Move it back, or run with `--ftdata-update-lock` if the move is meant.""",
    settings=("lock",),
    bad=_lock_example({"validation.jsonl": _TEST_LINE[0], "test.jsonl": _TEST_LINE[1] + "\n" + _TRAIN_LINES[0]},
                      then={"validation.jsonl": _TEST_LINE[0] + "\n" + _TRAIN_LINES[0], "test.jsonl": _TEST_LINE[1]}),
    good=_lock_example({"validation.jsonl": _TEST_LINE[0] + "\n" + _TRAIN_LINES[0], "test.jsonl": _TEST_LINE[1]}),
)
RELABELLED = rule(
    code="VER004", name="relabelled", family="versions", severity="warning",
    summary="The same input has another label than in the lock.",
    why="""A relabel changes what the model learns, and is often how a labelling error gets
    in (or out). Relabels deserve a review, so each is named with the old and the new label.
    The label is the `label` setting, or the target of a classification dataset.""",
    fix="""Have the relabel reviewed; keep it and run with `--ftdata-update-lock`, or undo it.""",
    settings=("lock", "label"),
    bad=_lock_example({"train.jsonl": _RELABELLED}, then={"train.jsonl": _LABELLED}, label="target"),
    good=_lock_example({"train.jsonl": _LABELLED}, label="target"),
)
REMOVED_FROM_EVALUATION = rule(
    code="VER005", name="removed-from-evaluation", family="versions", severity="warning",
    summary="An example the lock has in validation or test is gone.",
    why="""A validation or test set that quietly shrinks between releases changes the honest
    comparison with the last model: its scores were measured on examples that are no longer
    there. The message names the line the example had in the lock.""",
    fix="""Restore the example, or accept the smaller split with `--ftdata-update-lock` and
    evaluate the last model on it again.""",
    settings=("lock",),
    bad=_lock_example({"train.jsonl": _TRAIN, "test.jsonl": _TEST_LINE[0]}, then={"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
    good=_lock_example({"train.jsonl": _TRAIN, "test.jsonl": _TEST}),
)
DEFINITION_CHANGED = rule(
    code="VER006", name="definition-changed", family="versions", severity="warning",
    summary="The task, the settings, a schema file or a file's format changed since the lock.",
    why="""The lock records a hash of every effective setting (the filtering rules), of the
    `record_schema` and `target_schema` files, the detected task and each file's format. When
    one changes, findings and scores can differ from the locked release for that reason alone;
    the message names what changed.""",
    fix="""Review the change; run with `--ftdata-update-lock` to record it.""",
    settings=("lock", "record_schema", "target_schema", "task"),
    bad=_lock_example({"train.jsonl": _TRAIN}, lock_config={"near_duplicate_threshold": 95}),
    good=_lock_example({"train.jsonl": _TRAIN}),
)
LOCK_UNREADABLE = rule(
    code="VER007", name="lock-unreadable", family="versions", severity="error",
    summary="The lock file cannot be read, so nothing was compared with it.",
    why="""A lock with an unresolved merge conflict, a line that is not JSON, a line too long
    for any lock, or a lock of another format version protects nothing: every check of this
    family depends on it. The message gives the line and the reason.""",
    fix="""Make the lock again with `pytest --ftdata DATA --ftdata-update-lock` (in a merge
    conflict, keep either side first) and commit it.""",
    settings=("lock",),
    bad=example({"train.jsonl": _TRAIN, "ftdata.lock": '{"ftdata_lock": 1, "files": []}\n<<<<<<< HEAD\n'}),
    good=_lock_example({"train.jsonl": _TRAIN}),
)


# -- handing the lock to the controller, and writing it ----------------------------------------

def pack_lock(lock: dict) -> dict:
    """The lock as it crosses from an xdist worker: its text zlib-compressed, base64."""
    data = base64.b64encode(zlib.compress(lock["text"].encode("utf-8"), 6)).decode("ascii")
    return {"path": lock["path"], "shown": lock["shown"], "dataset": lock["dataset"], "directory": lock["directory"],
            "zlib": data, "examples": lock["text"].count("\n") - 1}


def unpack_lock(packed: dict) -> tuple[str, str, bytes]:
    return packed["path"], packed["shown"], zlib.decompress(base64.b64decode(packed["zlib"]))


def write_lock(path: str, data: bytes) -> None:
    """Write the lock atomically (a temporary file beside it, then a rename): a reader never
    sees half a lock. A name ending in `.gz` is gzip-compressed, deterministically (no
    name, no time in the gzip header)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)  # `lock = "locks/support.lock"`
    if target.name.endswith(".gz"):
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
            handle.write(data)
        data = buffer.getvalue()
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
