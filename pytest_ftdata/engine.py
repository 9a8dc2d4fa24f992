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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from .families import BUILTIN_DATASET_FAMILIES, BUILTIN_FILE_FAMILIES, DatasetContext, FileContext, FileInfo
from .config import FtdataConfig
from .findings import ANY_FAMILY, FAMILIES, Finding, FindingList, rule, sort_key
from .formats import detect_format, make_example
from .io import ReadProblem
from .readers import data_stem, is_data_file, open_reader, printable_name
from .tasks import TaskChoice, detect_task, task_default


EXAMPLE_NOT_CHECKED = rule(
    code="CHK002", name="example-not-checked", family=ANY_FAMILY, severity="error",
    summary="A built-in check could not process one example or one file.",
    why="""A check family raised an error on this example (a value nested too deeply to
    serialise, a schema that fails while validating it, or a bug in pytest-ftdata). The
    example was skipped by that family only; every other example, and every other
    family, was still checked, but what that family checks is unknown for it. The
    message names the family and the kind of error (never the data).""",
    fix="""Fix the record if the message points at it (flatten a value nested too deeply);
    otherwise please report the problem, with the family and the kind of error.""",
)

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
    """`path` relative to the rootdir with forward slashes (absolute when outside it).

    A name that is not valid UTF-8 is shown with its odd bytes escaped (`bad\\xff.jsonl`):
    its raw form cannot be written to a UTF-8 report or cross to an xdist worker."""
    try:
        relative = os.path.relpath(path, rootdir)
    except ValueError:
        return printable_name(Path(path).as_posix())
    if relative.startswith(".."):
        return printable_name(Path(os.path.abspath(path)).as_posix())
    return printable_name(Path(relative).as_posix())


def has_undecodable_name(path: Path) -> bool:
    """Whether `path`'s name is not valid UTF-8 or holds unprintable characters."""
    return printable_name(path.name) != path.name


def apply_rule_settings(findings: Iterable[Finding], config: FtdataConfig, task: str | None = None) -> list[Finding]:
    """The default of the dataset's task (`tasks.TASK_DEFAULTS`), then
    `[tool.ftdata.rules]`: per code, else per rule name, else per family, a severity
    or `off`."""
    settings = config.rules
    if not settings and task is None:
        return list(findings)
    out = []
    for finding in findings:
        setting = settings.get(finding.rule) or settings.get(finding.name) or settings.get(finding.check)
        if setting is None and task is not None:
            setting = task_default(finding.rule, task)
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
    #: What dataset families asked the controller to write (the `versions` lock).
    outputs: dict[str, object] = field(default_factory=dict)
    families: frozenset[str] = frozenset()
    task: TaskChoice | None = None

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
    checksum: bool = False,
    task: TaskChoice | None = None,
    update_lock: bool = False,
) -> DatasetResult:
    """Read `files` (the dataset in `directory`) once and run the selected families.

    `cached_files` maps files whose per-file findings are already known (from the
    result cache) to them: their per-file checks do not run again, and they are
    streamed only for the dataset-level checks. With `checksum`, each file's CRC-32
    of the bytes actually read is recorded (`FileInfo.crc32`), for the result cache.
    With `update_lock`, the `versions` family renders the dataset's new lock into
    `DatasetResult.outputs` (nothing here writes it).
    """
    cached_files = cached_files or {}
    wanted = frozenset(families)
    file_checks = {**BUILTIN_FILE_FAMILIES, **(extra_file_checks or {})}
    dataset_checks = {**BUILTIN_DATASET_FAMILIES, **(extra_dataset_checks or {})}
    file_families = [name for name in file_checks if name in wanted]
    dataset_families = [name for name in dataset_checks if name in wanted]

    infos = [
        FileInfo(path=display_path(path, rootdir), abspath=path, split=split_of(path.name, config)) for path in files
    ]
    result = DatasetResult(path=display_path(directory, rootdir), families=wanted)
    choice = task or detect_task(files, config)
    result.task = choice
    for info in infos:
        info.task, info.task_reason = choice.task, choice.reason
    dataset_ctx = DatasetContext(
        path=result.path, files=infos, config=config, task=choice.task, directory=directory, update_lock=update_lock
    )
    dataset_runs = [dataset_checks[name](dataset_ctx) for name in dataset_families]
    streaming = [run for run in dataset_runs if run.streams()]
    # Each map is made once per file and combined once, however many families read it.
    map_classes = list(dict.fromkeys(cls for run in dataset_runs for cls in run.maps))
    map_users = {cls.key: [run.family for run in dataset_runs if cls in run.maps] for cls in map_classes}
    combiners = {cls.key: cls.combiner(dataset_ctx) for cls in map_classes}
    # Set before the files are read: a map may ask its combiner how much room is left (the
    # fingerprint index's memory budget, `families/fingerprints.py`).
    dataset_ctx.combined = combiners
    pending_crashes: dict[str, list[Finding]] = {}

    for info in infos:
        ctx = FileContext(file=info, config=config)
        known = cached_files.get(info.abspath)
        runs = [] if known is not None else [file_checks[name](ctx) for name in file_families]
        mappers = [cls(dataset_ctx, info) for cls in map_classes]
        guard = _Guard(info.path)
        for run in streaming:
            guard.call(run.family, None, "at the start of the file", run.begin_file, info)
        visitors = [
            *((run.family, run) for run in runs),
            *((tuple(map_users[mapper.key]), mapper) for mapper in mappers if mapper.visits),
            *((run.family, run) for run in streaming),
        ]
        with _cyclic_gc_paused():
            _read_file(info, config, runs, visitors, progress, checksum=checksum, guard=guard)
        for run in streaming:
            guard.call(run.family, None, "at the end of the file", run.end_file, info)
        for mapper in mappers:
            part = guard.call(map_users[mapper.key], None, "at the end of the file", mapper.result)
            if part is not None:
                guard.call(map_users[mapper.key], None, "while combining the file", combiners[mapper.key].add, info, part)
        file_result = FileResult(info)
        if known is not None:
            file_result.findings = {name: known.get(name, []) for name in file_families}
        for name, run in zip(file_families, runs):
            produced = guard.call(name, None, "while finishing the file", run.finish) or []
            found = apply_rule_settings([*produced, *guard.findings(name)], config, choice.task)
            file_result.findings[name] = sorted(found, key=sort_key)
        dataset_ctx.file_findings[info.path] = [f for fs in file_result.findings.values() for f in fs]
        result.files[info.path] = file_result
        for name in dataset_families:
            pending_crashes.setdefault(name, []).extend(guard.findings(name))

    finishing = _Guard(result.path)
    # Each combined map is released once the last family that reads it has finished, and
    # a family with a large model of its own finishes after the others (`finishes_last`).
    readers = {key: len(users) for key, users in map_users.items()}
    order = sorted(range(len(dataset_runs)), key=lambda i: dataset_runs[i].finishes_last)
    for i in order:
        name, run = dataset_families[i], dataset_runs[i]
        produced = finishing.call(name, None, "while finishing the dataset", run.finish) or []
        found = [*produced, *pending_crashes.get(name, ()), *finishing.findings(name)]
        result.findings[name] = sorted(apply_rule_settings(found, config, choice.task), key=sort_key)
        summary = finishing.call(name, None, "while summarising the dataset", run.summary)
        if summary is not None:
            result.summaries[name] = summary
        for cls in dict.fromkeys(run.maps):
            readers[cls.key] -= 1
            if not readers[cls.key]:
                del combiners[cls.key]
    result.findings = {name: result.findings[name] for name in dataset_families}
    result.summaries = {name: result.summaries[name] for name in dataset_families if name in result.summaries}
    result.outputs.update(dataset_ctx.outputs)
    return result


class _Guard:
    """Turns an exception inside one family into one finding of that family, so one
    bad example (or one family's bug) never costs the rest of the file or the other
    families their results. A failure of a map counts for every family that reads it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._found: dict[str, FindingList] = {}

    def record(self, families: str | tuple[str, ...], line: int | None, when: str, exc: BaseException) -> None:
        for family in (families,) if isinstance(families, str) else families:
            found = self._found.get(family)
            if found is None:
                found = self._found[family] = FindingList(self.path)
            if not found.room(EXAMPLE_NOT_CHECKED, line):
                continue
            what = f"Line {line}" if line is not None else "The file"
            finding = EXAMPLE_NOT_CHECKED.at(
                self.path, line,
                f"{what} could not be checked by the `{family}` check {when} ({_error_kind(exc)}); that check "
                "skipped it and checked the rest. Fix the record if the reason points at it, or report the problem.",
            )
            found.append(replace(finding, check=family))

    def call(self, families: str | tuple[str, ...], line: int | None, when: str, function, *args):
        try:
            return function(*args)
        except Exception as exc:  # one family's failure is reported, never propagated
            self.record(families, line, when, exc)
            return None

    def findings(self, family: str) -> list[Finding]:
        found = self._found.get(family)
        return found.finish() if found is not None else []


def _error_kind(exc: BaseException) -> str:
    """What went wrong, in words that never quote the data (exception texts can)."""
    if isinstance(exc, RecursionError) or "recursion" in str(exc).lower():
        return "a value is nested too deeply to process"
    return f"{type(exc).__name__} inside the check"


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


def _read_file(
    info: FileInfo,
    config: FtdataConfig,
    runs: list,
    visitors: list[tuple[str | tuple[str, ...], object]],
    progress: Progress | None,
    checksum: bool = False,
    guard: _Guard | None = None,
) -> None:
    """Stream one file through its file families (`runs`) and every visitor (file
    families, maps, streaming dataset families: `(family or families, object)`). This
    loop runs once per example of the whole dataset, so it binds what it calls first."""
    path = info.path
    configured = config.format
    formats: dict[str, int] = {}
    guard = guard or _Guard(path)
    problem_handlers = [(run.family, run.problem) for run in runs]
    visits = [visitor.visit for _, visitor in visitors]
    families = [family for family, _ in visitors]
    unknown_visitors = [(run.family, run.visit) for run in runs if run.sees_unknown_format]
    first_family = runs[0].family if runs else (families[0] if families else "schema")
    build = make_example
    detect = detect_format
    count = 0
    if has_undecodable_name(info.abspath):
        odd = ReadProblem("undecodable-name", None, "has a name that is not valid UTF-8 or holds control characters "
                          "(shown with them escaped)", recoverable=True)
        for family, handle in problem_handlers:
            guard.call(family, None, "while reporting the file name", handle, odd)
    reader = open_reader(
        info.abspath,
        max_line_bytes=config.max_line_bytes,
        checksum=checksum,
        duplicate_keys=any(run.family == "schema" for run in runs),
    )
    for number, record in reader:
        if type(record) is not dict:
            for family, handle in problem_handlers:
                guard.call(family, number or None, "while reporting an unreadable line", handle, record)
            continue
        fmt = detect(record) or configured
        try:
            example = build(path, number, record, fmt or "unknown")
        except Exception as exc:  # the view itself failed: no family can see this example
            guard.record(first_family, number, "while reading the record", exc)
            continue
        if fmt is None:
            for family, visit in unknown_visitors:
                guard.call(family, number, "on this example", visit, example)
            continue
        formats[fmt] = formats.get(fmt, 0) + 1
        count += 1
        try:
            for visit in visits:
                visit(example)
        except Exception as exc:  # rare: find the family that failed and let the others see the example
            _visit_after_failure(example, visits, families, exc, guard)
        if progress is not None and count % 100_000 == 0:
            progress(path, count)
    info.examples = count
    info.lines = reader.lines
    info.crc32 = reader.crc32
    info.checksummed = getattr(reader, "checksummed", True)
    info.changed = reader.changed
    info.opened_state = getattr(reader, "opened_state", None)
    info.line_index = reader.line_index
    if reader.changed:
        changed = ReadProblem("changed-while-read", None, "changed while it was read; its results were not cached", recoverable=True)
        for family, handle in problem_handlers:
            guard.call(family, None, "while reporting an unreadable line", handle, changed)
    info.format = configured or (max(formats, key=formats.get) if formats else None)


def _visit_after_failure(example, visitors: list, families: list[str], exc: Exception, guard: _Guard) -> None:
    """A visitor raised on `example` inside the fast loop: record it for its family and
    hand the example to the visitors after it, each guarded on its own.

    The failing visitor is found from the traceback (its first frame is the visitor's
    code), which keeps the fast loop free of any per-visitor bookkeeping."""
    callee = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    code = callee.tb_frame.f_code if callee is not None else None
    failed = 0
    for index, visit in enumerate(visitors):
        if getattr(getattr(visit, "__func__", visit), "__code__", None) is code:
            failed = index
            break
    guard.record(families[failed], example.line, "on this example", exc)
    for index in range(failed + 1, len(visitors)):
        guard.call(families[index], example.line, "on this example", visitors[index], example)
