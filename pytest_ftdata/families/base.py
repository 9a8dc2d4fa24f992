"""The shapes of a family, and the contexts they run in: map per file, combine per dataset.

The engine reads each file once and hands every example to every selected family.
Nothing here imports pytest.

- `FileFamily`: sees the examples of one file and reports on it (schema, format,
  pii, policy, length).
- `FileMap`: the per-file half of the dataset families. It sees the examples of one
  file and keeps a compact result (counts, hashes, a few line numbers; never the
  parsed records) that is plain data, so it can be cached per file, or made by
  whichever process read the file and sent to the one that combines.
- `Combiner`: adds the results of one map, file after file in dataset order, into
  the dataset-wide state (a fingerprint index, label totals).
- `DatasetFamily`: names the maps it needs (`maps`) and turns the combined state into
  findings at the end. Several families may share one map (`duplicates` and
  `leakage` read one fingerprint index); it is made and combined once.

A project's own `DatasetFamily` may instead stream: it overrides `visit` (with
`begin_file` and `end_file`) and sees every example of the dataset in one process.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..config import FtdataConfig
from ..findings import Finding
from ..formats import Example
from ..io import ReadProblem


@dataclass
class FileInfo:
    """What the report says about one file (`files[]` of the JSON report)."""

    path: str  # relative to the rootdir, forward slashes
    abspath: Path
    split: str | None
    format: str | None = None
    examples: int = 0
    lines: int = 0
    #: sha256 of the file's bytes, filled in by the engine (used by caching and baselines).
    digest: str | None = None
    #: The task of the file's dataset, and why it was decided so (`tasks.detect_task`).
    task: str | None = None
    task_reason: str | None = None
    #: CRC-32 of exactly the bytes the analysis read (when the cache asked for it).
    crc32: int | None = None
    #: Whether `crc32` covers the file front to back (Parquet is read by seeking: its
    #: size, times and identity before and after the read vouch for it instead).
    checksummed: bool = True
    #: The file was modified while it was read: its results must not be cached.
    changed: bool = False
    #: `safeio.file_state` of the file when the analysis opened it: the cache stores a
    #: result only when this is the state the digest was made in (a rewrite between the
    #: hashing pass and the analysis changes it, even with the same size and CRC-32).
    opened_state: tuple | None = field(default=None, repr=False)
    #: Offsets of every `io.INDEX_STRIDE`-th line, to read a quoted example again.
    line_index: tuple[array, array] | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        data = {"path": self.path, "format": self.format, "split": self.split, "examples": self.examples}
        if self.task is not None:
            data["task"] = self.task
            data["task_reason"] = self.task_reason
        return data


@dataclass
class FileContext:
    file: FileInfo
    config: FtdataConfig

    @property
    def path(self) -> str:
        return self.file.path


@dataclass
class DatasetContext:
    #: The dataset directory, relative to the rootdir ("." for the rootdir itself).
    path: str
    files: list[FileInfo]
    config: FtdataConfig
    #: Findings each file family already produced, for families that build on them.
    file_findings: dict[str, list[Finding]] = field(default_factory=dict)
    #: The combined state of every map this run needed, by `FileMap.key`.
    combined: dict[str, object] = field(default_factory=dict)
    #: What the dataset teaches (`tasks.detect_task`): rules that depend on it read it here.
    task: str = "generation"
    #: The dataset directory itself (the `versions` family finds its lock beside the data).
    directory: Path | None = None
    #: `--ftdata-update-lock`: the `versions` family renders a new lock into `outputs`.
    update_lock: bool = False
    #: What families hand to the controller to write (only `versions`: {"lock": {...}}).
    outputs: dict[str, object] = field(default_factory=dict)
    #: What a dataset family works out once per dataset for its maps, by family (only
    #: `versions`: which files its lock's header vouches for, or None when there is no lock
    #: to read or write).
    shared: dict[str, object] = field(default_factory=dict)

    def split_files(self, split: str) -> list[FileInfo]:
        return [info for info in self.files if info.split == split]


class FileMap:
    """Per-file work of dataset families: `visit` each example, then `result()` once.

    The result must be plain data (numbers, strings, arrays, tuples, dicts of them):
    it may travel between processes or sit in a cache."""

    key: ClassVar[str]
    #: False when the map needs none of this file's examples (decided in `__init__`, as
    #: the `versions` map does for a file its lock vouches for): the engine then does not
    #: call `visit` for this file; `result()` is still taken.
    visits: bool = True

    def __init__(self, ctx: DatasetContext, file: FileInfo) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.file = file

    def visit(self, example: Example) -> None:
        raise NotImplementedError

    def result(self) -> object:
        raise NotImplementedError

    @classmethod
    def combiner(cls, ctx: DatasetContext) -> "Combiner":
        raise NotImplementedError


class Combiner:
    """The dataset-wide state a map's results add up to; see `FileMap`."""

    def add(self, file: FileInfo, result: object) -> None:
        raise NotImplementedError


class FileFamily:
    """Base class of a per-file check family."""

    family: ClassVar[str]
    #: Whether records of no recognised format are passed to `visit` too.
    sees_unknown_format: ClassVar[bool] = False

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.path = ctx.path

    def problem(self, problem: ReadProblem) -> None:
        """A line (or the file) could not be read."""

    def visit(self, example: Example) -> None:
        raise NotImplementedError

    def finish(self) -> list[Finding]:
        raise NotImplementedError


class DatasetFamily:
    """Base class of a family that spans the files of one dataset."""

    family: ClassVar[str]
    #: The per-file maps this family combines (shared by key with other families).
    maps: ClassVar[tuple[type[FileMap], ...]] = ()
    #: Whether `finish` builds a large model of its own (the suspect-label model). Such a
    #: family finishes after the others, so that the combined maps only they read (the
    #: fingerprint index) are released first and the two never share the memory.
    finishes_last: ClassVar[bool] = False

    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        self.config = ctx.config

    def combined(self, map_class: type[FileMap]):
        """The combined state of one of this family's maps (once every file is in)."""
        return self.ctx.combined[map_class.key]

    # A streaming family (a project's own) overrides `visit`, and these two if it likes.
    def begin_file(self, file: FileInfo) -> None:
        self.file = file

    def visit(self, example: Example) -> None:
        raise NotImplementedError

    def end_file(self, file: FileInfo) -> None:
        pass

    @classmethod
    def streams(cls) -> bool:
        """Whether the family sees examples itself rather than through maps."""
        return cls.visit is not DatasetFamily.visit

    def finish(self) -> list[Finding]:
        raise NotImplementedError

    def summary(self) -> dict | None:
        """JSON-able data for the end-of-run report (the subgroup tables), if any."""
        return None
