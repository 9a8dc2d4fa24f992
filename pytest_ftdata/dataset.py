"""The read API: `load()`, `Dataset`, `Datasets` and lazy selections of examples.

`load(path, **config)` (and the `ftdata` fixture, which builds the same objects)
returns a `Datasets`: every dataset directory under the given paths, each with its
merged configuration. Selections of examples (`Examples`) are lazy and re-iterable:
each iteration streams the files again, so a large dataset never sits in memory
as parsed records. `Dataset.check(family)` runs one family through the engine.
Nothing here imports pytest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import findings as _findings
from .config import SPLITS, ConfigLoader, FtdataConfig, check_rule_selectors, with_overrides
from .custom import CheckSet
from .engine import SPLIT_WORDS, analyze_dataset, dataset_files, display_path, split_of
from .readers import is_data_file
from .example import Example
from .expectations import assert_all
from .families import BUILTIN_DATASET_FAMILIES, BUILTIN_FILE_FAMILIES
from .findings import Finding
from .formats import detect_format, make_example
from .readers import open_reader
from .why import Neighbour, WhyIndex, open_index

__all__ = ["DataFile", "Dataset", "Datasets", "Examples", "load", "open_datasets", "run_check"]


@dataclass(frozen=True)
class DataFile:
    path: str  # display path, relative to the project root
    abspath: Path
    split: str | None

    @property
    def name(self) -> str:
        return self.abspath.name


def normalize_split(name: str) -> str:
    """`train`, `validation`, `test`, or one of their usual aliases (`val`, `dev`, `eval` ...)."""
    if name in SPLITS:
        return name
    alias = SPLIT_WORDS.get(str(name).lower())
    if alias is None:
        raise ValueError(f"unknown split {name!r}: splits are {', '.join(SPLITS)} (or val, dev, eval ...)")
    return alias


class Examples:
    """A lazy, re-iterable selection of examples (a split, a dataset, a filter of them).

    Every iteration streams the files again; lines that cannot be read, or records of
    no known format, are skipped (the `schema` check reports them).
    """

    def __init__(
        self,
        sources: list[tuple["Dataset", DataFile]],
        description: str,
        predicates: tuple[Callable[[Example], Any], ...] = (),
    ) -> None:
        self._sources = sources
        self.description = description
        self._predicates = predicates

    @property
    def files(self) -> list[DataFile]:
        return [file for _, file in self._sources]

    @property
    def filtered(self) -> bool:
        return bool(self._predicates)

    def __iter__(self) -> Iterator[Example]:
        predicates = self._predicates
        for dataset, file in self._sources:
            for example in _read_examples(file, dataset.config):
                if all(predicate(example) for predicate in predicates):
                    yield example

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def where(self, predicate: Callable[[Example], Any], description: str | None = None) -> "Examples":
        """The examples for which `predicate(example)` is true (still lazy)."""
        what = f"{self.description}, where {description}" if description else f"{self.description} (filtered)"
        return Examples(self._sources, what, self._predicates + (predicate,))

    def expect(self, predicate: Callable[[Example], Any], why: str, **options: Any) -> None:
        """Assert `predicate(example)` for every example; see `expectations.assert_all`."""
        __tracebackhide__ = True
        assert_all(self, predicate, why, **options)

    def __repr__(self) -> str:
        return f"<Examples {self.description}: {len(self._sources)} file(s)>"


def _read_examples(file: DataFile, config: FtdataConfig) -> Iterator[Example]:
    configured = config.format
    split = file.split
    for number, record in open_reader(file.abspath, max_line_bytes=config.max_line_bytes):
        if type(record) is not dict:
            continue
        fmt = detect_format(record) or configured
        if fmt is None:
            continue
        yield Example(make_example(file.path, number, record, fmt), split, config)


class _Selection:
    """What `Dataset` and `Datasets` share: splits, iteration and running checks."""

    description: str

    def _file_sources(self) -> list[tuple["Dataset", DataFile]]:
        raise NotImplementedError

    @property
    def examples(self) -> Examples:
        return Examples(self._file_sources(), self.description)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @property
    def files(self) -> list[DataFile]:
        return [file for _, file in self._file_sources()]

    @property
    def split_names(self) -> list[str]:
        found = {file.split for _, file in self._file_sources() if file.split}
        return [name for name in SPLITS if name in found]

    def split(self, name: str) -> Examples:
        """The examples of one split (`train`, `validation`/`val`, `test`)."""
        wanted = normalize_split(name)
        sources = [(dataset, file) for dataset, file in self._file_sources() if file.split == wanted]
        if not sources:
            files = ", ".join(f"{file.path} ({file.split or 'no split'})" for _, file in self._file_sources()) or "none"
            raise LookupError(f"{self.description} has no {wanted} split; its files are: {files}")
        return Examples(sources, f"split {wanted} of {self.description}")

    def where(self, predicate: Callable[[Example], Any], description: str | None = None) -> Examples:
        return self.examples.where(predicate, description)

    def expect(self, predicate: Callable[[Example], Any], why: str, **options: Any) -> None:
        __tracebackhide__ = True
        self.examples.expect(predicate, why, **options)

    def nearest(self, text: str, k: int = 5, *, cache_dir: str | os.PathLike | None = None) -> list[Neighbour]:
        """The `k` training examples nearest to `text` (a model output, a prompt, or both),
        best first: "which examples taught it that?" (see `pytest_ftdata.why`). The index is
        built once per dataset and cached under `.pytest_cache/ftdata/why/` (or `cache_dir`)."""
        found = []
        for dataset in self._datasets():
            index = dataset._why_index(cache_dir)
            found.extend(index.query(text, k, dataset.config))
        found.sort(key=lambda n: (-n.similarity, n.path, n.line))
        return found[:k]

    def _datasets(self) -> list["Dataset"]:
        raise NotImplementedError

    def check(self, family: str, **config: Any) -> list[Finding]:
        """Run one check family (built-in or project-specific) and return all its findings."""
        return run_check(self, family, **config)


class Dataset(_Selection):
    """One dataset: the data files of one directory and the config that applies there."""

    def __init__(
        self,
        directory: Path,
        files: list[DataFile],
        config: FtdataConfig,
        rootdir: Path,
        checks: CheckSet,
    ) -> None:
        self.directory = directory
        self.config = config
        self.rootdir = rootdir
        self.checks = checks
        self._files = files
        self.path = display_path(directory, rootdir)
        self.name = directory.name
        self.description = self.path

    def _file_sources(self) -> list[tuple["Dataset", DataFile]]:
        return [(self, file) for file in self._files]

    def _datasets(self) -> list["Dataset"]:
        return [self]

    def _why_index(self, cache_dir) -> WhyIndex:
        key = None if cache_dir is None else str(cache_dir)
        cached = getattr(self, "_why", None)
        if cached is None or cached[0] != key:
            self._why = (key, open_index(self.directory, self.config, self.rootdir, cache_dir))
        return self._why[1]

    def __repr__(self) -> str:
        return f"<Dataset {self.path}: {', '.join(file.name for file in self._files)}>"


class Datasets(_Selection):
    """Every dataset found under some paths (what `load()` and the `ftdata` fixture give)."""

    def __init__(self, datasets: list[Dataset], description: str) -> None:
        self.datasets = datasets
        self.description = description

    def _file_sources(self) -> list[tuple[Dataset, DataFile]]:
        return [source for dataset in self.datasets for source in dataset._file_sources()]

    def _datasets(self) -> list[Dataset]:
        return list(self.datasets)

    def dataset(self, name: str) -> Dataset:
        """A dataset by directory name (`support`) or path (`data/support`)."""
        wanted = name.strip("/").replace(os.sep, "/")
        matches = [d for d in self.datasets if d.path == wanted or d.name == wanted or d.path.endswith("/" + wanted)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(d.path for d in self.datasets) or "none"
        if not matches:
            raise LookupError(f"no dataset named {name!r} in {self.description}; datasets: {known}")
        raise LookupError(f"{name!r} names several datasets ({', '.join(d.path for d in matches)}); use its path")

    def __repr__(self) -> str:
        return f"<Datasets {self.description}: {', '.join(d.path for d in self.datasets)}>"


# -- opening datasets --------------------------------------------------------------------------

_SKIPPED_DIRS = ("node_modules", "__pycache__")


def _dataset_dirs(path: Path) -> list[tuple[Path, list[Path] | None]]:
    """(directory, files or None for all) of every dataset under `path`."""
    if is_data_file(path.name) and not path.is_dir():
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"dataset file {path} does not exist")
        return [(path.parent, [path])]
    if not path.is_dir():
        raise FileNotFoundError(f"dataset path {path} does not exist or is not a directory")
    found = []
    for folder, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS)
        if any(is_data_file(name) for name in filenames + dirnames):
            found.append((Path(folder), None))
    return found


def open_datasets(
    paths: Iterable[str | os.PathLike],
    *,
    rootdir: Path,
    loader: ConfigLoader,
    checks: CheckSet | None = None,
    overrides: dict[str, Any] | None = None,
) -> Datasets:
    """The datasets under `paths`, with the config `loader` gives each directory."""
    rootdir = Path(rootdir)
    checks = checks or CheckSet()
    by_dir: dict[Path, list[Path] | None] = {}
    shown = []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            path = rootdir / path
        path = Path(os.path.abspath(path))
        shown.append(display_path(path, rootdir))
        for directory, files in _dataset_dirs(path):
            if directory in by_dir and (by_dir[directory] is None or files is None):
                by_dir[directory] = None
            elif directory in by_dir:
                by_dir[directory] = sorted(set(by_dir[directory]) | set(files))
            else:
                by_dir[directory] = files
    datasets = []
    for directory in sorted(by_dir):
        config = with_overrides(loader.for_directory(directory), overrides or {})
        chosen = by_dir[directory] if by_dir[directory] is not None else dataset_files(directory)
        files = [DataFile(display_path(p, rootdir), p, split_of(p.name, config)) for p in chosen]
        datasets.append(Dataset(directory, files, config, rootdir, checks))
    return Datasets(datasets, ", ".join(shown))


def _project_root(path: Path) -> Path:
    """What paths are shown relative to: the nearest project (pyproject.toml), else the
    working directory when `path` is inside it, else the folder holding the dataset."""
    start = path if path.is_dir() else path.parent
    probe = start
    while probe.parent != probe and not (probe / "pyproject.toml").is_file():
        probe = probe.parent
    if (probe / "pyproject.toml").is_file():
        return probe
    cwd = Path.cwd()
    return cwd if cwd == start or cwd in start.parents else start.parent


def load(path: str | os.PathLike = ".", *, checks: Iterable[Any] = (), **config: Any) -> Datasets:
    """The datasets under `path`, as the `ftdata` fixture gives them, outside pytest.

    The configuration is read as in a pytest run (`[tool.ftdata]` of the nearest
    pyproject.toml, then `ftdata.toml` files); keyword arguments override it, e.g.
    `load("data", label="target:/intent", group_by="/metadata/ticket_id")`.
    `checks` are project-specific checks (functions or classes marked `@check`)
    that `Dataset.check()` and `assert_check()` can run by name.
    """
    target = Path(os.path.abspath(path))
    rootdir = _project_root(target)
    project_checks = CheckSet.from_objects(checks)
    selectors = _findings.RULES.selectors() | set(project_checks.names())
    loader = ConfigLoader.from_rootdir(rootdir, selectors)
    if isinstance(config.get("rules"), dict):
        check_rule_selectors(config["rules"], selectors, "load() arguments")
    return open_datasets([target], rootdir=rootdir, loader=loader, checks=project_checks, overrides=config)


# -- running a family on a selection ---------------------------------------------------------


def run_check(selection: _Selection | Examples, family: str, **config: Any) -> list[Finding]:
    """Run `family` through the engine on the files of `selection`; all its findings."""
    if isinstance(selection, Examples):
        if selection.filtered:
            raise ValueError("checks run on whole files: pass a dataset or an unfiltered split, not a filtered selection")
        sources = selection._sources
    elif isinstance(selection, _Selection):
        sources = selection._file_sources()
    else:
        raise TypeError(f"expected a dataset, datasets or a split, got {type(selection).__name__}")
    by_dataset: dict[int, tuple[Dataset, list[DataFile]]] = {}
    for dataset, file in sources:
        by_dataset.setdefault(id(dataset), (dataset, []))[1].append(file)
    out: list[Finding] = []
    for dataset, files in by_dataset.values():
        _require_family(family, dataset.checks)
        result = analyze_dataset(
            dataset.directory,
            [file.abspath for file in files],
            with_overrides(dataset.config, config),
            dataset.rootdir,
            families=[family],
            extra_file_checks=dataset.checks.file,
            extra_dataset_checks=dataset.checks.dataset,
        )
        out.extend(result.all_findings())
    return sorted(out, key=_findings.sort_key)


def _require_family(family: str, checks: CheckSet) -> None:
    known = {*BUILTIN_FILE_FAMILIES, *BUILTIN_DATASET_FAMILIES, *checks.names()}
    if family not in known:
        raise ValueError(f"unknown family {family!r}; families of this run: {', '.join(sorted(known))}")
