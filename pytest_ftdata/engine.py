"""The engine: read each file of a dataset once and run every selected check on it.

A *dataset* is the set of JSON Lines files in one directory; its files are its
splits. `analyze_dataset()` streams every file exactly once, handing each example
to the per-file checks of that file and to the dataset-level checks, and returns
all findings grouped by file and family. It knows nothing of pytest: the plugin,
`pytest_ftdata.load()` and the benchmarks all call it the same way.
"""

from __future__ import annotations

import fnmatch
import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .checks import DATASET_CHECKS, FILE_CHECKS, DatasetContext, FileContext, FileInfo
from .config import FtdataConfig
from .findings import FAMILIES, Finding, sort_key
from .formats import detect_format, make_example
from .io import read_jsonl

DATA_SUFFIXES = (".jsonl", ".jsonl.gz")

#: Words in a file name that name its split (matched as whole words of the stem).
SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "dev": "validation",
    "test": "test",
    "eval": "test",
    "holdout": "test",
}

#: Called as progress(label, examples_done) while a dataset is read.
Progress = Callable[[str, int], None]


def is_data_file(name: str) -> bool:
    return name.endswith(DATA_SUFFIXES)


def data_stem(name: str) -> str:
    for suffix in DATA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def split_of(name: str, config: FtdataConfig) -> str | None:
    """The split a file belongs to: from `splits` in the config, else from its name."""
    if config.splits:
        for split, patterns in config.splits.items():
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                return split
        return None
    words = re.split(r"[^a-z0-9]+", data_stem(name).lower())
    for word in reversed(words):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return None


def dataset_files(directory: Path) -> list[Path]:
    """The data files of a dataset directory, sorted by name (any file type, so that
    a broken symlink or a directory named `*.jsonl` is reported, not skipped)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return []
    return [Path(entry.path) for entry in entries if is_data_file(entry.name)]


def display_path(path: Path, rootdir: Path) -> str:
    """`path` relative to the rootdir with forward slashes (absolute when outside it)."""
    try:
        relative = os.path.relpath(path, rootdir)
    except ValueError:
        return Path(path).as_posix()
    if relative.startswith(".."):
        return Path(os.path.abspath(path)).as_posix()
    return Path(relative).as_posix()


def apply_rule_settings(findings: Iterable[Finding], config: FtdataConfig) -> list[Finding]:
    """Apply `[tool.ftdata.rules]`: per code, else per rule name, else per family,
    a severity or `off`."""
    settings = config.rules
    if not settings:
        return list(findings)
    out = []
    for finding in findings:
        setting = settings.get(finding.rule) or settings.get(finding.name) or settings.get(finding.check)
        if setting == "off":
            continue
        if setting is not None and setting != finding.severity:
            finding = finding.with_severity(setting)
        out.append(finding)
    return out


@dataclass
class FileResult:
    info: FileInfo
    findings: dict[str, list[Finding]] = field(default_factory=dict)


@dataclass
class DatasetResult:
    path: str
    files: dict[str, FileResult] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)
    families: frozenset[str] = frozenset()

    def all_findings(self) -> list[Finding]:
        out = [f for result in self.files.values() for fs in result.findings.values() for f in fs]
        out.extend(f for fs in self.findings.values() for f in fs)
        return sorted(out, key=sort_key)


def analyze_dataset(
    directory: Path,
    files: list[Path],
    config: FtdataConfig,
    rootdir: Path,
    families: Iterable[str] = FAMILIES,
    progress: Progress | None = None,
    extra_file_checks: dict | None = None,
    extra_dataset_checks: dict | None = None,
    cached_files: dict[Path, dict[str, list[Finding]]] | None = None,
) -> DatasetResult:
    """Read `files` (the dataset in `directory`) once and run the selected families.

    `cached_files` maps files whose per-file findings are already known (from the
    result cache) to them: their per-file checks do not run again, and they are
    streamed only for the dataset-level checks.
    """
    cached_files = cached_files or {}
    wanted = frozenset(families)
    file_checks = {**FILE_CHECKS, **(extra_file_checks or {})}
    dataset_checks = {**DATASET_CHECKS, **(extra_dataset_checks or {})}
    file_families = [name for name in file_checks if name in wanted]
    dataset_families = [name for name in dataset_checks if name in wanted]

    infos = [
        FileInfo(path=display_path(path, rootdir), abspath=path, split=split_of(path.name, config)) for path in files
    ]
    result = DatasetResult(path=display_path(directory, rootdir), families=wanted)
    dataset_ctx = DatasetContext(path=result.path, files=infos, config=config)
    dataset_runs = [dataset_checks[name](dataset_ctx) for name in dataset_families]

    for info in infos:
        ctx = FileContext(file=info, config=config)
        known = cached_files.get(info.abspath)
        runs = [] if known is not None else [file_checks[name](ctx) for name in file_families]
        for run in dataset_runs:
            run.begin_file(info)
        with _cyclic_gc_paused():
            _read_file(info, config, runs, dataset_runs, progress)
        for run in dataset_runs:
            run.end_file(info)
        file_result = FileResult(info)
        if known is not None:
            file_result.findings = {name: known.get(name, []) for name in file_families}
        for name, run in zip(file_families, runs):
            file_result.findings[name] = sorted(apply_rule_settings(run.finish(), config), key=sort_key)
        dataset_ctx.file_findings[info.path] = [f for fs in file_result.findings.values() for f in fs]
        result.files[info.path] = file_result

    for name, run in zip(dataset_families, dataset_runs):
        result.findings[name] = sorted(apply_rule_settings(run.finish(), config), key=sort_key)
        summary = run.summary()
        if summary is not None:
            result.summaries[name] = summary
    return result


@contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while a file streams through the checks.

    The loop allocates a few containers per line and frees them at once (records
    are trees, not cycles, and reference counting frees them), yet every allocation
    counts toward the collector's thresholds, and its passes rescan everything
    pytest and the checks hold. Cycles made meanwhile are collected after.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _read_file(info: FileInfo, config: FtdataConfig, runs: list, dataset_runs: list, progress: Progress | None) -> None:
    """Stream one file through the checks. This loop runs once per example of the
    whole dataset, so it binds everything it calls to locals first."""
    path = info.path
    configured = config.format
    formats: dict[str, int] = {}
    problem_handlers = [run.problem for run in runs]
    visitors = [run.visit for run in runs] + [run.visit for run in dataset_runs]
    unknown_visitors = [run.visit for run in runs if run.sees_unknown_format]
    build = make_example
    detect = detect_format
    count = 0
    lines = 0
    for number, record in read_jsonl(info.abspath):
        if number > lines:
            lines = number
        if type(record) is not dict:
            for handle in problem_handlers:
                handle(record)
            continue
        fmt = detect(record) or configured
        if fmt is None:
            example = build(path, number, record, "unknown")
            for visit in unknown_visitors:
                visit(example)
            continue
        example = build(path, number, record, fmt)
        formats[fmt] = formats.get(fmt, 0) + 1
        count += 1
        for visit in visitors:
            visit(example)
        if progress is not None and count % 100_000 == 0:
            progress(path, count)
    info.examples = count
    info.lines = lines
    info.format = configured or (max(formats, key=formats.get) if formats else None)
