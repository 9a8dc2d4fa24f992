"""The fingerprint index of one dataset, shared by `duplicates` and `leakage`.

Both families ask the same question of different pairs of examples (is this input
the same, or nearly the same, as that one?), so they share one index: each file's
`FingerprintMap` is made once, in the pass that reads the file, and the `Fingerprints`
combiner adds the files in dataset order (the near-duplicate search is incremental,
so the order of files decides which copy is "first", as in one stream).

What is kept per example (about 80 bytes of arrays plus the normalized input once per distinct
input; never the parsed record):

- file number, line number, and hashes of the system prompt, of the whole example
  (every turn, tools, rejected answer) and of the target (or of its label, when
  `label` is set), in typed arrays;
- no text of the target at all: the few examples a message quotes are read again
  from their file at the end (`prefetch`), so what a message shows is made from the
  decoded example, redacted whole before it is cut (`redact.display`), and the index
  never holds a cut piece of text that could carry half a secret;
- whether the raw input is tidy (no leading, trailing or doubled whitespace), to say
  which copy to keep;
- with `group_by`, a hash of the group id and its bytes (for the message); groups
  in several splits are found at the end by intersecting the splits' sets of hashes.

Identical inputs (after `neardup.normalize`) are grouped by a dict from the hash of
the normalized input to the example that first had it; only that first example's
text goes into the `NearDuplicateIndex`, so copies cost no near-duplicate search.
The normalized texts are compared and hashed, never shown: lower-casing hides a
lower-case AWS key id or IBAN from the detectors.

A memory budget (`fingerprint_memory_mb`) bounds the text-sized part of the index. Its
size is estimated as it grows (`EXAMPLE_BYTES` per example, `TEXT_BYTES` plus the
text per distinct input, in the file's map and in the combined index), because only
then is it known: a dataset's byte size says little about it (long answers cost
nothing here, duplicates cost no text, a gzip or Parquet file is a fraction of what it
holds). When the estimate passes the budget the index goes out of core
(`spill.FingerprintSpill`): what it holds so far and every later input become rows of
Parquet shards, and the identical-input groups, the near-duplicate candidates and the
leaked groups are joined in DuckDB, with the same results. Without the `scale` extra
the texts are dropped instead, and `duplicates` and `leakage` say so (DUP006, LEAK005):
the index never grows past the budget but by its per-example arrays.
"""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass
from functools import lru_cache

import orjson

from ..formats import Example
from ..neardup import NearDuplicateIndex, normalize
from ..redact import display_repr
from ..text import compile_value_getter, label_text
from .base import Combiner, DatasetContext, FileInfo, FileMap
from .refetch import read_again
from .spill import FingerprintSpill, leaked_group_keys, missing_packages

SPLIT_ORDER = ("train", "validation", "test")
#: The duplicate scope of the files that name no split.
UNSPLIT = "(no split)"
#: What a message shows for an example whose file can no longer be read.
UNAVAILABLE = "(text unavailable: the file changed during the run)"
#: Group ids longer than this are not kept; messages describe them by their length.
MAX_GROUP_CHARS = 512
#: XORed into label hashes so that a label never equals a target text's hash.
_LABEL_SALT = 0x3C6EF372FE94F82B
#: Estimated bytes of the index per example (its typed arrays, in the map and combined) ...
EXAMPLE_BYTES = 80
#: ... and per distinct input beyond its text (the map's dict entry and string header, the
#: combined index's dict entries for identical inputs and two anchor keys, their offsets).
TEXT_BYTES = 400


def normalized_input(example: Example, ignore_punctuation: bool) -> str:
    """`neardup.normalize` of the example's input, made once per example however many maps
    ask: the fingerprint map (duplicates, leakage) and the version map (`ftdata.lock`'s
    content key) read the same text, so the second one reads it from the example (the hot
    loops inline this test)."""
    norm = example.normalized
    if norm is None or example.normalized_punctuation != ignore_punctuation:
        norm = example.normalized = normalize(example.input_text, ignore_punctuation)
        example.normalized_punctuation = ignore_punctuation
    return norm


def _whole_hash(example: Example, raw_input: str) -> int:
    """A hash of everything the model trains on in `example` (metadata excluded).

    A plain chat record of system, user and assistant turns is identified by its three
    texts; any other chat record by its serialized messages and tools (roles, names,
    weights, tool calls all count); other formats by their texts. Reading `turns` is
    avoided: for chat records it is built lazily and costs more than all the rest."""
    if example.format == "chat":
        record = example.record
        messages = record.get("messages")
        if example.plain and len(messages) <= 3:
            return hash((example.system, raw_input, example.target_text))
        tools = record.get("tools")
        try:
            return hash(orjson.dumps([messages, tools]))
        except (orjson.JSONEncodeError, TypeError, RecursionError):
            pass  # nested too deeply to serialise: the texts still identify it
    return hash((example.format, example.system, raw_input, example.target_text, example.rejected_text))


@dataclass(frozen=True)
class Member:
    """One example of a reported cluster, resolved for messages."""

    eid: int
    path: str
    line: int
    split: str | None
    file_order: int

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


class FingerprintMap(FileMap):
    """What one file adds to the fingerprint index: hashes and the distinct inputs.

    Per example: line, tidiness, the hashes of raw input, system prompt, whole example,
    target (or label), group id and normalized input; per distinct normalized input of
    the file, its text once (the near-duplicate search needs it)."""

    key = "fingerprints"

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        super().__init__(ctx, file)
        config = ctx.config
        self.ignore_punctuation = config.ignore_punctuation
        self._group_of = compile_value_getter(config.group_by) if config.group_by else None
        self._label_of = compile_value_getter(config.label) if config.label else None
        self.line = array("I")
        self.tidy = bytearray()
        self.raw_input = array("q")
        self.system = array("q")
        self.whole = array("q")
        self.target = array("q")
        self.group_key = array("q")
        self.group_blob = bytearray()
        self.group_offsets = array("Q", [0])
        #: hash of the normalized input per example (0: empty), and the text of each distinct one
        self.norm = array("q")
        self.texts: dict[int, str] = {}
        # The memory budget: what this map may add before the dataset's index goes out of core.
        index = ctx.combined.get(self.key)
        self._index: Fingerprints | None = index if isinstance(index, Fingerprints) else None
        self._base = len(self._index) if self._index is not None else 0
        self._bytes = 0
        self._room = self._index.room() if self._index is not None else float("inf")
        self._spill = self._index.spill.inputs if self._index is not None and self._index.spill else None
        self._dropped = self._index is not None and self._index.dropped
        # Bound `append`s: `visit` runs once per example of the dataset.
        self._add_line = self.line.append
        self._add_tidy = self.tidy.append
        self._add_raw = self.raw_input.append
        self._add_system = self.system.append
        self._add_whole = self.whole.append
        self._add_target = self.target.append
        self._add_group = self.group_key.append
        self._add_group_end = self.group_offsets.append
        self._add_norm = self.norm.append

    def visit(self, example: Example) -> None:
        # Everything that can fail is computed before anything is appended: a failure
        # (caught by the engine) must not leave the arrays out of step.
        raw = example.input_text
        system = example.system
        if example.plain and len(example.record["messages"]) <= 3:  # the common case, inlined
            whole = hash((system, raw, example.target_text))
        else:
            whole = _whole_hash(example, raw)
        label = self._label_of(example) if self._label_of is not None else None
        if label is not None and type(label) is not str:
            label = None if isinstance(label, (dict, list)) else str(label)
        target = hash(label) ^ _LABEL_SALT if label else hash(example.target_text.strip())
        if self._group_of is not None:
            value = self._group_of(example)
            if type(value) is not str:
                value = "" if value is None or isinstance(value, (dict, list)) else str(value)
        norm = example.normalized
        if norm is None or example.normalized_punctuation != self.ignore_punctuation:
            norm = normalized_input(example, self.ignore_punctuation)
        norm_key = (hash(norm) or 1) if norm else 0

        self._add_line(example.line)
        self._add_tidy(raw == raw.strip() and "  " not in raw)
        self._add_raw(hash(raw))
        self._add_system(hash(system) if system else 0)
        self._add_whole(whole)
        self._add_target(target)
        if self._group_of is not None:
            # Only a hash and the id's bytes per example: groups in several splits are
            # found at the end with set intersections, cheaper than a dict updated here.
            group_blob = self.group_blob
            if value:
                self._add_group(hash(value) or 1)
                if len(value) <= MAX_GROUP_CHARS:
                    group_blob += value.encode("utf-8", "surrogatepass")
            else:
                self._add_group(0)
            self._add_group_end(len(group_blob))
        if self._spill is not None:
            # Out of core: the input goes to the shards (the combined index needs no `norm` then).
            if norm_key:
                self._spill.add_text(self._base + len(self.line) - 1, norm_key, norm)
            return
        self._add_norm(norm_key)
        if norm_key:
            if norm_key not in self.texts and not self._dropped:
                self.texts[norm_key] = norm
                self._bytes += len(norm) + TEXT_BYTES
                if self._bytes + EXAMPLE_BYTES * len(self.norm) > self._room:
                    self._over_budget()

    def _over_budget(self) -> None:
        """The dataset's index would pass its budget with this file: it goes out of core
        (or drops its texts, without the extra), and so does this map, from here on."""
        spill = self._index.go_out_of_core()
        if spill is not None:
            rows = spill.inputs
            texts = self.texts
            base = self._base
            for offset, key in enumerate(self.norm):
                if key:
                    rows.add_text(base + offset, key, texts[key])
            self._spill = rows
        else:
            self._dropped = True
        self.texts = {}

    def result(self) -> "FingerprintMap":
        del self._add_line, self._add_tidy, self._add_raw, self._add_system, self._add_whole
        del self._add_target, self._add_group, self._add_group_end, self._add_norm
        self._group_of = self._label_of = None
        self._index = self._spill = None
        return self

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "Fingerprints":
        return Fingerprints(ctx)


class Fingerprints(Combiner):
    """The fingerprints of one dataset, combined file by file, and the clusters they form."""

    def __init__(self, ctx: DatasetContext) -> None:
        config = ctx.config
        self.ctx = ctx
        self.threshold = config.near_duplicate_threshold
        self.ignore_punctuation = config.ignore_punctuation
        self.label_spec = config.label
        self.group_spec = config.group_by
        self._label_of = compile_value_getter(self.label_spec) if self.label_spec else None
        self.files: list[FileInfo] = []
        # per example, in dataset order
        self.file_of = array("I")
        self.line = array("I")
        self.system = array("q")
        self.whole = array("q")
        self.target = array("q")
        self.tidy = bytearray()
        self.raw_input = array("q")
        self.text_pos = array("i")  # position of the normalized input in `near` (-1: empty input)
        #: eid -> (input, target or label) of the examples messages quote (see `prefetch`)
        self._texts: dict[int, tuple[str, str]] = {}
        # identical normalized inputs: first example -> later ones, as two parallel arrays
        self._first: dict[int, int] = {}
        self._copy_of = array("I")
        self._copy = array("I")
        self.near = NearDuplicateIndex(self.threshold)
        self.group_key = array("q")
        self._group_blob = bytearray()
        self._group_offsets = array("Q", [0])
        #: first example of each file (examples are numbered in dataset order)
        self._file_start = array("I")
        self._analysed = False
        self._failed: Exception | None = None
        #: The memory budget of the index, and its estimated size so far (see the module docstring).
        self.budget_bytes = config.fingerprint_memory_mb << 20
        self._bytes = 0
        self._counted_texts = 0
        #: Out of core: the shards and joins (`spill.py`); `dropped`: over the budget without
        #: the `scale` extra (the packages missing are in `missing`).
        self.spill: FingerprintSpill | None = None
        self.dropped = False
        self.missing: list[str] = []
        self._spill_texts: dict[int, str] = {}
        self._first_of: dict[int, int] = {}
        self._leaked_keys: set[int] = set()

    # -- the memory budget ----------------------------------------------------------------

    def room(self) -> float:
        """Estimated bytes a new file's map may add before the index passes its budget."""
        return self.budget_bytes - self._bytes - EXAMPLE_BYTES * len(self.line)

    @property
    def complete(self) -> bool:
        """Whether the identical and near-duplicate groups are known (not dropped)."""
        return not self.dropped

    def go_out_of_core(self) -> FingerprintSpill | None:
        """Move the text-sized part of the index to disk (once); None without the extra,
        and then the texts are dropped. What the in-memory index found so far (its groups
        of copies, its anchor keys and candidate pairs) goes into the shards as it is, so
        the joins go on from where it stopped."""
        if self.spill is not None or self.dropped:
            return self.spill
        self.missing = missing_packages()
        if self.missing:
            self.dropped = True
        else:
            spill = FingerprintSpill(
                self.ctx.config.fingerprint_memory_mb, self.threshold, lambda: EXAMPLE_BYTES * len(self.line)
            )
            near = self.near
            text_pos = self.text_pos
            key_of: dict[int, int] = {}
            for key, first in self._first.items():
                key_of[first] = key
                spill.inputs.add_text(first, key, near.text(text_pos[first]))
            del self._first
            for first, copy in zip(self._copy_of, self._copy):
                spill.copies.add(copy, key_of[first])
            del key_of
            for key, eid in near.stored_keys():
                spill.stored.add(key, eid)
            for a, b in near.candidate_idents():
                spill.pairs.add(a, b)
            spill.switched_at = len(self.line)
            self.spill = spill
        self._first = {}
        self._copy_of = array("I")
        self._copy = array("I")
        self.near = NearDuplicateIndex(self.threshold)
        self.text_pos = array("i")
        return self.spill

    def add(self, file: FileInfo, part: FingerprintMap) -> None:
        """Append one file's fingerprints; identical inputs are grouped and each new
        distinct input goes into the near-duplicate index, in dataset order."""
        file_no = len(self.files)
        self.files.append(file)
        base = len(self.line)
        self._file_start.append(base)
        count = len(part.line)
        self.file_of.extend(array("I", [file_no]) * count)
        # Each of the part's arrays is dropped once copied: a large file's map and the
        # combined index are not held whole side by side.
        self.line.extend(part.line)
        part.line = array("I")
        self.tidy.extend(part.tidy)
        part.tidy = bytearray()
        self.raw_input.extend(part.raw_input)
        part.raw_input = array("q")
        self.system.extend(part.system)
        part.system = array("q")
        self.whole.extend(part.whole)
        part.whole = array("q")
        self.target.extend(part.target)
        part.target = array("q")
        if self.group_spec:
            shift = len(self._group_blob)
            self.group_key.extend(part.group_key)
            part.group_key = array("q")
            self._group_blob += part.group_blob
            part.group_blob = bytearray()
            self._group_offsets.extend(offset + shift for offset in part.group_offsets[1:])
            part.group_offsets = array("Q", [0])
        if self.spill is not None or self.dropped:
            # Out of core, the map wrote its inputs to the shards itself, numbered from its base.
            if part._base != base and self.spill is not None:
                raise RuntimeError("a file's fingerprints were numbered out of dataset order")
            part.texts = {}
            return
        first_of = self._first.setdefault
        text_pos = self.text_pos
        add_pos = text_pos.append
        add_near = self.near.add
        texts = part.texts
        added = 0
        for offset, key in enumerate(part.norm):
            if not key:
                add_pos(-1)
                continue
            eid = base + offset
            first = first_of(key, eid)
            if first == eid:
                text = texts[key]
                added += len(text)
                add_pos(add_near(eid, text))
            else:
                self._copy_of.append(first)
                self._copy.append(eid)
                add_pos(text_pos[first])
        part.texts = {}  # the index holds them now
        self._bytes += added + TEXT_BYTES * (len(self.near) - self._counted_texts)
        self._counted_texts = len(self.near)
        if self.room() < 0:
            self.go_out_of_core()

    # -- reading back ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.line)

    def member(self, eid: int) -> Member:
        file_no = self.file_of[eid]
        info = self.files[file_no]
        return Member(eid, info.path, self.line[eid], info.split, file_no)

    def split(self, eid: int) -> str | None:
        return self.files[self.file_of[eid]].split

    def scope(self, eid: int) -> str:
        """Where duplicates are looked for: the split; the files of the dataset that name
        no split (shards such as `part-0001.jsonl`, versions such as `v1`, `v2`) form one
        scope together, since a copy across two of them is as much a copy."""
        info = self.files[self.file_of[eid]]
        return info.split if info.split else UNSPLIT

    def input_text(self, eid: int) -> str:
        """The normalized input (what duplicates are compared and keyed on; never shown)."""
        if self.spill is not None:
            return self._spill_texts.get(self._first_of.get(eid, eid), "")
        position = self.text_pos[eid]
        return "" if position < 0 else self.near.text(position)

    def prefetch(self, eids) -> None:
        """Read the examples `eids` again from their files, for the messages that quote them.

        One pass per file, seeking by the reader's line index, and only for the few
        examples a message shows (see `display_members`)."""
        by_file: dict[int, list[int]] = {}
        for eid in eids:
            if eid not in self._texts:
                by_file.setdefault(self.file_of[eid], []).append(eid)
        for file_no, members in by_file.items():
            info = self.files[file_no]
            examples = read_again(info, [self.line[eid] for eid in members], self.ctx.config)
            for eid in members:
                example = examples.get(self.line[eid])
                if example is None:
                    self._texts[eid] = (UNAVAILABLE, UNAVAILABLE)
                    continue
                label = label_text(self._label_of(example)) if self._label_of is not None else None
                self._texts[eid] = (example.input_text or (example.system or ""), label or example.target_text)

    def input_shown(self, eid: int) -> str:
        """The decoded input of `eid` (prefetched), for `redact.display`."""
        return self._texts.get(eid, (UNAVAILABLE, UNAVAILABLE))[0]

    def target_shown(self, eid: int) -> str:
        """The decoded target (or label) of `eid` (prefetched), for `redact.display`."""
        return self._texts.get(eid, (UNAVAILABLE, UNAVAILABLE))[1]

    # -- clusters -------------------------------------------------------------------------

    def analyse(self) -> None:
        """Verify near-duplicate candidates and build the identical-input groups (once)."""
        if self._analysed:
            if self._failed is not None:
                raise self._failed  # each family that reads the index reports it (CHK002)
            return
        self._analysed = True
        if self.spill is not None:
            try:
                self._analyse_out_of_core()
            except Exception as exc:  # DuckDB out of disk, say: the shards are gone, so no second try
                self._failed = exc
                raise
            return
        groups: dict[int, list[int]] = {}
        for first, copy in zip(self._copy_of, self._copy):
            members = groups.get(first)
            if members is None:
                groups[first] = [first, copy]
            else:
                members.append(copy)
        #: first example -> every example with the same normalized input (2 or more)
        self.identical: dict[int, list[int]] = groups
        #: (first example of input a, first example of input b, similarity), a before b
        self.near_pairs: list[tuple[int, int, float]] = self.near.verify()
        self.near.release()
        self._first = {}
        self._copy_of = self._copy = array("I")

    def _analyse_out_of_core(self) -> None:
        """`analyse` by the DuckDB joins over the shards (`spill.py`); the shards are gone after."""

        def leaked(con) -> set[int]:
            if not self.group_spec:
                return set()
            return leaked_group_keys(self.spill, con, self.group_key, self.file_of, [f.split for f in self.files])

        found = self.spill.join(leaked)
        groups: dict[int, list[int]] = {}
        for first, copy in found.copies:
            members = groups.get(first)
            if members is None:
                groups[first] = [first, copy]
            else:
                members.append(copy)
        self.identical = groups
        self.near_pairs = found.near
        self._spill_texts = found.texts
        self._first_of = {copy: first for first, copy in found.copies}
        self._leaked_keys = found.groups

    def members_of(self, first: int) -> list[int]:
        return self.identical.get(first) or [first]

    def leaked_groups(self) -> dict[int, list[int]]:
        """group key -> the examples (in dataset order, split files only) of every group
        found in two or more splits."""
        ends = list(self._file_start[1:]) + [len(self.line)]
        ranges = [(start, end) for info, start, end in zip(self.files, self._file_start, ends) if info.split]
        if self.dropped:
            return {}
        if self.spill is not None:
            self.analyse()
            leaked = self._leaked_keys
        else:
            per_split: dict[str, set[int]] = {}
            for info, start, end in zip(self.files, self._file_start, ends):
                if info.split:
                    per_split.setdefault(info.split, set()).update(self.group_key[start:end])
            leaked = set()
            splits = list(per_split.values())
            for number, keys in enumerate(splits):
                for other in splits[number + 1 :]:
                    leaked |= keys & other
            leaked.discard(0)
        out: dict[int, list[int]] = {}
        if leaked:
            keys = self.group_key
            for start, end in ranges:
                for eid in range(start, end):
                    if keys[eid] in leaked:
                        out.setdefault(keys[eid], []).append(eid)
        return out

    def group_name(self, eid: int) -> str:
        name = self._group_blob[self._group_offsets[eid] : self._group_offsets[eid + 1]].decode(
            "utf-8", "surrogatepass"
        )
        return name or f"(a group id of more than {MAX_GROUP_CHARS} characters)"


class UnionFind:
    """Union-find over arbitrary hashable nodes (only the nodes that have relations)."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, node):
        parent = self.parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:  # path compression
            parent[node], node = root, parent.get(node, node)
        return root

    def union(self, a, b) -> None:
        self.parent.setdefault(a, a)
        self.parent.setdefault(b, b)
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb

    def components(self) -> list[list]:
        out: dict = {}
        for node in list(self.parent):
            out.setdefault(self.find(node), []).append(node)
        return [sorted(nodes) for nodes in out.values()]


# -- message helpers shared by duplicates and leakage --------------------------------------

#: At most this many members of one cluster go into a finding's `related` list.
MAX_RELATED = 1000
#: Locations written out in a message before "and N more".
SHOWN_LOCATIONS = 4


def locations(members: list[Member], limit: int = SHOWN_LOCATIONS) -> str:
    """`a.jsonl:3, a.jsonl:9 and 2 more`."""
    shown = [member.location for member in members[:limit]]
    if len(members) > limit:
        return ", ".join(shown) + f" and {len(members) - limit} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural_noun or noun + 's')}"


@lru_cache(maxsize=4096)
def quoted(text: str, width: int = 40) -> str:
    """A short, redacted, quoted rendering of dataset text for a message (cached: the
    same labels and targets recur in many findings, and redaction is not free)."""
    return display_repr(text, width)


def excerpt_of(index: Fingerprints, eid: int) -> str:
    """`'input' -> 'target'` of the decoded example, redacted whole, then shortened."""
    return f"{quoted(index.input_shown(eid), 60)} -> {quoted(index.target_shown(eid), 60)}"


def display_members(index: Fingerprints, members: list[Member]) -> set[int]:
    """The members of a cluster whose texts a message can quote: per split and distinct
    target, the first member and the first tidy one (what `keep_choice`,
    `targets_by_value` and the leakage messages pick from)."""
    chosen: set[int] = set()
    seen: set[tuple] = set()
    tidy_seen: set[tuple] = set()
    for member in members:
        key = (member.split, index.target[member.eid])
        if key not in seen:
            seen.add(key)
            chosen.add(member.eid)
        if key not in tidy_seen and index.tidy[member.eid]:
            tidy_seen.add(key)
            chosen.add(member.eid)
    return chosen


def keep_choice(index: Fingerprints, members: list[Member]) -> Member:
    """The member to keep: the first whose raw input is tidy (no stray whitespace), else
    the first."""
    for member in members:
        if index.tidy[member.eid]:
            return member
    return members[0]


def related_of(members: list[Member], at: Member) -> list[tuple[str, int]]:
    return [(m.path, m.line) for m in members if m is not at][:MAX_RELATED]


def cluster_key(*parts: str) -> str:
    """A stable content-derived key for a cluster finding (no line numbers in it)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def targets_by_value(index: Fingerprints, members: list[Member]) -> list[tuple[str, list[Member]]]:
    """The distinct targets (or labels) of `members`, most common first, each with its
    members; a target's text is what the first of its members shows."""
    by_key: dict[int, list[Member]] = {}
    for member in members:
        by_key.setdefault(index.target[member.eid], []).append(member)
    groups = sorted(by_key.values(), key=lambda group: (-len(group), group[0].file_order, group[0].line))
    return [(index.target_shown(group[0].eid), group) for group in groups]


def describe_targets(groups: list[tuple[str, list[Member]]], limit: int = 3) -> str:
    """`'a' (x.jsonl:3, x.jsonl:9), 'b' (x.jsonl:12)`."""
    parts = [f"{quoted(text, 30)} ({locations(group, 2)})" for text, group in groups[:limit]]
    if len(groups) > limit:
        parts.append(f"and {len(groups) - limit} more")
    return ", ".join(parts)
