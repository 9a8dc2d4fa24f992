"""The two shapes of a check, and the contexts they run in.

A check is a small streaming visitor: the engine reads each file once and hands
every example to every selected check, then asks each for its findings. Checks
keep compact state (hashes, counts, line numbers), never the parsed records, so a
million-example dataset fits in memory. Nothing here imports pytest.

- `FileFamily`: sees the examples of one file (schema, format, duplicates, pii,
  policy, length).
- `DatasetFamily`: sees every file of one dataset directory, split by split
  (leakage, splits, labels, subgroups).
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
    #: CRC-32 of exactly the bytes the analysis read (when the cache asked for it).
    crc32: int | None = None
    #: The file was modified while it was read: its results must not be cached.
    changed: bool = False
    #: Offsets of every `io.INDEX_STRIDE`-th line, to read a quoted example again.
    line_index: tuple[array, array] | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "split": self.split, "examples": self.examples}


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
    #: Findings each file check already produced, for checks that build on them.
    file_findings: dict[str, list[Finding]] = field(default_factory=dict)
    #: State that several families of this run build once and share (duplicates and
    #: leakage share one fingerprint index), keyed by a name the owner chooses.
    shared: dict[str, object] = field(default_factory=dict)

    def split_files(self, split: str) -> list[FileInfo]:
        return [info for info in self.files if info.split == split]


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
    """Base class of a check family that spans the files of one dataset."""

    family: ClassVar[str]

    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        self.config = ctx.config

    def begin_file(self, file: FileInfo) -> None:
        self.file = file

    def visit(self, example: Example) -> None:
        raise NotImplementedError

    def end_file(self, file: FileInfo) -> None:
        pass

    def finish(self) -> list[Finding]:
        raise NotImplementedError

    def summary(self) -> dict | None:
        """JSON-able data for the end-of-run report (the subgroup tables), if any."""
        return None
