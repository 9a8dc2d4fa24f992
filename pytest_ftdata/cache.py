"""Result caching: per-file checks of unchanged files are not redone.

Results live in pytest's cache (`.pytest_cache`, `config.cache`) under
`ftdata/v1/...`, one entry per file and check family, one per dataset and
dataset-level family. An entry's key hashes everything its findings depend on:

- the file's bytes (sha256), and its display path (findings carry it);
- the merged config that applies to the directory, and the bytes of the files it
  points to (`target_schema`, `record_schema`, a tokenizer file);
- the source of pytest-ftdata and of every registered check class (a custom check
  edited in a conftest invalidates its entries), and the Python version;
- for the `versions` family, the bytes of the dataset's lock (`ftdata.lock`); under
  `--ftdata-update-lock` that family is never read from or stored in the cache (its
  result is the lock to write).

A dataset-level entry also hashes every member file, so it is redone when any file
of the dataset changes, while the per-file results of the unchanged files are
reused (those files are still streamed to the dataset-level checks, but their
per-file checks do not run again).

Concurrency: `config.cache` is a directory of JSON files written in place, not
safe for concurrent writers. So workers only *read* it; each item attaches a small
note (the entry key and the file facts) to its test report, and the controller,
the only writer, stores the item's findings under that key as reports arrive. A
serial run takes the same path, so `-n 2` and a serial run cache the same
entries. A reader that catches an entry half-written gets invalid JSON, which
pytest's `Cache.get` treats as a miss. Under `-p no:cacheprovider` there is no
`config.cache` and nothing is cached; `--ftdata-no-cache` turns caching off.

Nothing here imports pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .families import BUILTIN_DATASET_FAMILIES, BUILTIN_FILE_FAMILIES
from .families.base import FileInfo
from .config import PATH_KEYS, FtdataConfig
from .engine import DatasetResult, FileResult, analyze_dataset, display_path, split_of
from .findings import Finding
from .redact import redact_tree
from .safeio import file_state, open_regular, same_file_state
from .tasks import detect_task

CACHE_VERSION = 1
PREFIX = f"ftdata/v{CACHE_VERSION}"
_CHUNK = 1 << 20
_PACKAGE_DIR = Path(__file__).resolve().parent


def file_digest(path: Path) -> str | None:
    """sha256 of a file's bytes, or None when it cannot be read (never cached)."""
    found = _digest_and_crc(path)
    return found[0] if found is not None else None


def _digest_and_crc(path: Path) -> tuple[str, int] | None:
    """(sha256, CRC-32) of a regular file's bytes in one pass, or None when it cannot be
    read. The CRC is what the analysis computes of the bytes it reads, to prove later
    that it analysed these very bytes."""
    found = _hashed(path)
    return found[:2] if found is not None else None


def _hashed(path: Path) -> tuple[str, int, tuple] | None:
    """(sha256, CRC-32, `safeio.file_state`) of a regular file read once, or None; None
    too when the file changed while it was hashed."""
    digest = hashlib.sha256()
    crc = 0
    try:
        handle, info = open_regular(path)
        with handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
            if not same_file_state(info, path):
                return None
    except OSError:
        return None
    return digest.hexdigest(), crc, file_state(info)


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:32]


def _source_digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


@lru_cache(maxsize=1)
def _package_digest() -> str:
    """The source of pytest-ftdata, read once per process: the code a process runs is
    the code it imported, whatever happens to the files afterwards."""
    parts = [
        (source.relative_to(_PACKAGE_DIR).as_posix(), _source_digest(source))
        for source in sorted(_PACKAGE_DIR.rglob("*.py"))
    ]
    return _hash(*parts)


def _origin_files(cls: type) -> set[str]:
    """Source files a check class's behaviour comes from, outside pytest-ftdata: its
    own module and its bases', and those of functions it wraps (a `@check` function
    is wrapped in a generated class that holds it in a closure)."""
    files: set[str] = set()
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        filename = getattr(module, "__file__", None)
        if filename:
            files.add(filename)
        for value in vars(klass).values():
            function = getattr(value, "__func__", value)
            for cell in getattr(function, "__closure__", None) or ():
                try:
                    content = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                code = getattr(content, "__code__", None)
                if code is not None:
                    files.add(code.co_filename)
    return {name for name in files if not Path(name).resolve().is_relative_to(_PACKAGE_DIR)}


def code_fingerprint(check_classes: Iterable[type]) -> str:
    """A digest of the code the results depend on: content, not mtimes, so a fresh
    `pip install` of the same version in CI still hits a restored cache. Custom
    checks count by their source files (not by helpers they import from elsewhere)."""
    parts: list = [CACHE_VERSION, sys.version_info[:2], _package_digest()]
    origins: set[str] = set()
    for cls in check_classes:
        parts.append((cls.__module__, cls.__qualname__))
        origins |= _origin_files(cls)
    parts.sort(key=str)
    for filename in sorted(origins):
        parts.append((filename, _source_digest(Path(filename))))
    return _hash(*parts)


def config_fingerprint(config: FtdataConfig) -> str:
    parts: list = [config.model_dump_json()]
    for key in (*PATH_KEYS, "tokenizer"):
        value = getattr(config, key, None)
        if isinstance(value, str):
            target = config.resolve(value)
            if target is not None and target.is_file():
                parts.append((key, file_digest(target)))
    return _hash(*parts)


def _info_dict(info: FileInfo) -> dict:
    return {
        "path": info.path,
        "split": info.split,
        "format": info.format,
        "examples": info.examples,
        "lines": info.lines,
    }


def _findings(value: Any) -> list[Finding] | None:
    try:
        return [Finding.from_dict(item) for item in value]
    except (KeyError, TypeError, AttributeError):
        return None


class ResultCache:
    """Reads cached results for one process and notes what the controller should store.

    `store` is anything with pytest's `Cache.get(key, default)` (a worker only reads).
    """

    def __init__(self, store) -> None:
        self.store = store
        #: (kind, where, family) -> the note an item of that family attaches to its report.
        self.pending: dict[tuple[str, str, str], dict] = {}
        self._known: dict[tuple[str, str, str], dict] = {}
        self._digests: dict[Path, tuple[str, int] | None] = {}
        self._config_fps: dict[str, str] = {}
        self._code_fps: dict[tuple, str] = {}

    # -- lookups ----------------------------------------------------------------------

    def digest(self, path: Path) -> str | None:
        if path not in self._digests:
            self._digests[path] = _hashed(path)
        found = self._digests[path]
        return found[0] if found is not None else None

    def _analysed_as_hashed(self, info: FileInfo) -> bool:
        """The analysis read exactly the bytes the digest was made of (same CRC-32, no
        change seen while reading): only then may its results be stored under it."""
        found = self._digests.get(info.abspath)
        if found is None or info.changed:
            return False
        # The analysis opened the very version that was hashed: a rewrite in between (even
        # to bytes of the same size and CRC-32, which is easy to forge) changes the state.
        if info.opened_state is not None and info.opened_state != found[2]:
            return False
        return info.crc32 == found[1] if info.checksummed else True

    def _config_fp(self, config: FtdataConfig) -> str:
        dumped = config.model_dump_json()
        if dumped not in self._config_fps:
            self._config_fps[dumped] = config_fingerprint(config)
        return self._config_fps[dumped]

    def _get(self, kind: str, key: str) -> dict | None:
        value = self.store.get(f"{PREFIX}/{kind}/{key}", None)
        if not isinstance(value, dict):
            return None
        findings = _findings(value.get("findings"))
        if findings is None:
            return None
        return {**value, "findings": findings}

    # -- analysis ---------------------------------------------------------------------

    def analyze(
        self,
        directory: Path,
        files: list[Path],
        config: FtdataConfig,
        rootdir: Path,
        families: Iterable[str],
        progress=None,
        extra_file_checks: dict | None = None,
        extra_dataset_checks: dict | None = None,
        update_lock: bool = False,
    ) -> DatasetResult:
        """`engine.analyze_dataset`, reusing what the cache holds."""
        wanted = frozenset(families)
        file_checks = {**BUILTIN_FILE_FAMILIES, **(extra_file_checks or {})}
        dataset_checks = {**BUILTIN_DATASET_FAMILIES, **(extra_dataset_checks or {})}
        file_families = [name for name in file_checks if name in wanted]
        dataset_families = [name for name in dataset_checks if name in wanted]
        classes = (*file_checks.values(), *dataset_checks.values())
        if classes not in self._code_fps:
            self._code_fps[classes] = code_fingerprint(classes)
        code = self._code_fps[classes]
        # The task decides default severities, and it depends on every file of the
        # dataset: it is part of every key (its detection reads only each file's start).
        choice = detect_task(files, config)
        conf = _hash(self._config_fp(config), choice.task)
        dataset_display = display_path(directory, rootdir)
        displays = {path: display_path(path, rootdir) for path in files}
        digests = {path: self.digest(path) for path in files}

        # Per-file entries: a file counts as cached only when every wanted family is.
        cached: dict[Path, dict[str, list[Finding]]] = {}
        infos: dict[Path, dict] = {}
        for path in files:
            if digests[path] is None:
                continue
            keys = {family: _hash("file", code, conf, displays[path], digests[path], family) for family in file_families}
            for family, key in keys.items():
                self._known[("file", displays[path], family)] = {"kind": "file", "key": key}
            found: dict[str, list[Finding]] = {}
            for family, key in keys.items():
                entry = self._get("file", key)
                if entry is None:
                    break
                found[family] = entry["findings"]
                if isinstance(entry.get("info"), dict):
                    infos[path] = entry["info"]
            else:
                cached[path] = found

        # Dataset entries: keyed by every member file, so any change redoes them.
        dataset_hits: dict[str, dict] = {}
        if dataset_families and all(digests[path] for path in files):
            members = [(displays[path], digests[path]) for path in files]
            for family in dataset_families:
                extra: tuple = ()
                if family == "versions":
                    if update_lock:
                        continue  # its result is the lock to write: always computed
                    lock = directory / config.lock
                    if os.path.lexists(lock) and not lock.is_file():
                        # A FIFO, a directory, a dangling link: no bytes to key on, and each
                        # says why it cannot be used in its own words, so it is computed.
                        continue
                    extra = (file_digest(lock) if lock.is_file() else "absent",)
                key = _hash("dataset", code, conf, dataset_display, members, sorted(file_families), family, *extra)
                self._known[("dataset", dataset_display, family)] = {"kind": "dataset", "key": key}
                entry = self._get("dataset", key)
                if entry is not None and isinstance(entry.get("files"), list):
                    dataset_hits[family] = entry
        for entry in dataset_hits.values():
            for info in entry["files"]:
                for path in files:
                    if displays[path] == info.get("path") and path not in infos:
                        infos[path] = info
        missing_datasets = [family for family in dataset_families if family not in dataset_hits]

        if missing_datasets:
            to_read = list(files)  # dataset-level checks need every file streamed
        else:
            to_read = [path for path in files if path not in cached or path not in infos]

        result = DatasetResult(path=dataset_display, families=wanted, task=choice)
        if to_read:
            fresh = analyze_dataset(
                directory,
                to_read,
                config,
                rootdir,
                families=[*file_families, *missing_datasets],
                progress=progress,
                extra_file_checks=extra_file_checks,
                extra_dataset_checks=extra_dataset_checks,
                cached_files={path: cached[path] for path in to_read if path in cached},
                checksum=True,
                task=choice,
                update_lock=update_lock,
            )
            result.findings.update(fresh.findings)
            result.summaries.update(fresh.summaries)
            result.outputs.update(fresh.outputs)
            fresh_files = fresh.files
        else:
            fresh_files = {}

        # Assemble in the order a fresh analysis would have produced.
        for path in files:
            display = displays[path]
            file_result = fresh_files.get(display)
            if file_result is None:
                info = infos[path]
                file_info = FileInfo(
                    path=display,
                    abspath=path,
                    split=info.get("split", split_of(path.name, config)),
                    format=info.get("format"),
                    examples=int(info.get("examples", 0)),
                    lines=int(info.get("lines", 0)),
                    task=choice.task,
                    task_reason=choice.reason,
                )
                file_result = FileResult(file_info, {family: cached[path][family] for family in file_families})
            file_result.info.digest = digests[path]
            result.files[display] = file_result
            if path not in cached and digests[path] is not None and self._analysed_as_hashed(file_result.info):
                for family in file_families:
                    self._note("file", display, family, info=_info_dict(file_result.info))
        ordered: dict[str, list[Finding]] = {}
        for family in dataset_families:
            if family in dataset_hits:
                ordered[family] = dataset_hits[family]["findings"]
                summary = dataset_hits[family].get("summary")
                if summary is not None:
                    result.summaries[family] = summary
            else:
                ordered[family] = result.findings.get(family, [])
        result.findings = ordered
        file_infos = [_info_dict(fr.info) for fr in result.files.values()]
        # A dataset result is stored only when every file it read was read as hashed.
        intact = all(self._analysed_as_hashed(fresh_files[d].info) for d in fresh_files) if missing_datasets else True
        for family in missing_datasets:
            if intact and ("dataset", dataset_display, family) in self._known:
                self._note("dataset", dataset_display, family, files=file_infos, summary=result.summaries.get(family))
        return result

    def _note(self, kind: str, where: str, family: str, **payload) -> None:
        known = self._known.get((kind, where, family))
        if known is not None:
            self.pending[(kind, where, family)] = {**known, **payload}

    def mark_changed(self, result: DatasetResult, touched: Iterable[tuple[str, str]]) -> None:
        """Findings of these `(where, family)` pairs gained keys: store them again."""
        file_infos = [_info_dict(fr.info) for fr in result.files.values()]
        # Files streamed in this run must have been read as hashed; reused ones were proven before.
        intact = {where: fr.info.crc32 is None or self._analysed_as_hashed(fr.info) for where, fr in result.files.items()}
        for where, family in touched:
            if where in result.files:
                if not intact[where]:
                    continue
                if ("file", where, family) not in self.pending:
                    self._note("file", where, family, info=_info_dict(result.files[where].info))
            elif all(intact.values()) and ("dataset", where, family) not in self.pending:
                self._note("dataset", where, family, files=file_infos, summary=result.summaries.get(family))

    def note_for(self, kind: str, where: str, family: str) -> dict | None:
        """The note an item attaches to its report (consumed: one store per run)."""
        return self.pending.pop((kind, where, family), None)


def store_from_report(store, note: dict, findings: list[dict], summary: dict | None) -> None:
    """Controller side: write one entry from what an item reported."""
    kind = note.get("kind")
    key = note.get("key")
    if kind not in ("file", "dataset") or not isinstance(key, str):
        return
    value: dict = {"findings": findings}
    if kind == "file":
        value["info"] = note.get("info")
    else:
        value["files"] = note.get("files") or []
        value["summary"] = summary if summary is not None else note.get("summary")
    # The cache holds no more text than the outputs do: masked once more, locations kept.
    store.set(f"{PREFIX}/{kind}/{key}", redact_tree(value))
