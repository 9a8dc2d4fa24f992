"""What users call from their own tests, scripts and notebooks.

`load(path, **config)` (and the `ftdata` fixture, which builds the same objects)
returns a `Datasets`: every dataset directory under the given paths, each with its
merged configuration. Selections of examples (`Examples`) are lazy and re-iterable:
each iteration streams the files again, so a large dataset never sits in memory
as parsed records. The `Example` objects they yield wrap the engine's
`formats.Example` view and compute the user-facing extras (`.split`, `.target`,
`.label`, `.group`) only when asked, so the engine loop pays nothing for them.

Project-specific checks are declared here too: `rule()` for their rule codes and
the `check` decorator, which turns a function (or marks a `FileCheck` /
`DatasetCheck` subclass) into a check family the engine runs like a built-in one.
Nothing here imports pytest.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

import orjson

from . import findings as _findings
from .checks import DATASET_CHECKS, FILE_CHECKS, DatasetCheck, FileCheck
from .config import SPLITS, ConfigLoader, FtdataConfig, with_overrides
from .engine import SPLIT_WORDS, analyze_dataset, dataset_files, display_path, is_data_file, split_of
from .findings import FAMILIES, Finding, Rule
from .formats import Example as _View
from .formats import detect_format, make_example
from .io import read_jsonl
from .redact import display
from .text import example_label, example_value, excerpt, resolve_pointer

__all__ = [
    "CheckSpec",
    "Dataset",
    "Datasets",
    "Example",
    "Examples",
    "check",
    "load",
    "open_datasets",
    "rule",
]

_UNSET: Any = object()

# -- the example view users see --------------------------------------------------------------


class Example:
    """One example as user tests see it.

    The format-independent fields (`input_text`, `target_text`, `messages`, ...) come
    from the engine's view; `split` from the file name (or `splits` in the config);
    `target` is the target parsed as JSON (None when it is not JSON); `label` and
    `group` follow the `label` and `group_by` settings of the dataset.
    """

    __slots__ = ("_view", "split", "_config", "_target", "_label", "_group")

    def __init__(self, view: _View, split: str | None, config: FtdataConfig) -> None:
        self._view = view
        self.split = split
        self._config = config
        self._target = _UNSET
        self._label = _UNSET
        self._group = _UNSET

    # Delegated fields (plain attributes of the engine's view).
    path = property(lambda self: self._view.path, doc="File path, relative to the project root.")
    line = property(lambda self: self._view.line, doc="1-based line number in the file.")
    record = property(lambda self: self._view.record, doc="The JSON object of the line, as a dict.")
    format = property(lambda self: self._view.format, doc="chat, completion, instruction, sharegpt or preference.")
    turns = property(lambda self: self._view.turns)
    system = property(lambda self: self._view.system, doc="The system prompt, or None.")
    input_text = property(lambda self: self._view.input_text, doc="What the model reads (system prompt excluded).")
    target_text = property(lambda self: self._view.target_text, doc="The answer the model should learn.")
    rejected_text = property(lambda self: self._view.rejected_text, doc="The rejected answer (preference data).")
    target_is_tool_call = property(lambda self: self._view.target_is_tool_call)

    @property
    def messages(self) -> list[dict]:
        """The conversation as `{"role", "content"}` dicts, whatever the file format."""
        return self._view.messages

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def config(self) -> FtdataConfig:
        return self._config

    @property
    def target(self) -> Any:
        """The target parsed as JSON, or None when it is not valid JSON."""
        if self._target is _UNSET:
            text = self._view.target_text.strip()
            try:
                self._target = orjson.loads(text) if text else None
            except orjson.JSONDecodeError:
                self._target = None
        return self._target

    @property
    def label(self) -> str | None:
        """The label named by the `label` setting (None when unset or missing)."""
        if self._label is _UNSET:
            self._label = example_label(self._view, self._config.label)
        return self._label

    @property
    def group(self) -> Any:
        """The value named by the `group_by` setting (ticket, customer ...), or None."""
        if self._group is _UNSET:
            self._group = example_value(self._view, self._config.group_by)
        return self._group

    def get(self, pointer: str, default: Any = None) -> Any:
        """A value of the record by JSON Pointer: `ex.get("/metadata/language")`."""
        return resolve_pointer(self._view.record, pointer, default)

    def value(self, spec: str) -> Any:
        """A value by spec as the config writes it: `/pointer`, `target:/pointer` or `target`."""
        return example_value(self._view, spec)

    def excerpt(self, width: int = 60) -> str:
        """`'input' -> 'target'`, shortened, with secrets and personal data masked."""
        return excerpt(self._view, width)

    def finding(self, rule: Rule, message: str) -> Finding:
        """A finding of `rule` at this example, with its (redacted) excerpt."""
        return rule.at(self.path, self.line, message, excerpt=self.excerpt())

    def __repr__(self) -> str:
        # Shown by pytest's assertion introspection: never the raw text.
        return f"<Example {self.location} {self.excerpt(40)}>"


# -- datasets and selections ------------------------------------------------------------------


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
        """Assert `predicate(example)` for every example; see `assertions.assert_all`."""
        __tracebackhide__ = True
        from .assertions import assert_all

        assert_all(self, predicate, why, **options)

    def __repr__(self) -> str:
        return f"<Examples {self.description}: {len(self._sources)} file(s)>"


def _read_examples(file: DataFile, config: FtdataConfig) -> Iterator[Example]:
    configured = config.format
    split = file.split
    for number, record in read_jsonl(file.abspath):
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
        checks: "CheckSet",
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

    def __repr__(self) -> str:
        return f"<Dataset {self.path}: {', '.join(file.name for file in self._files)}>"


class Datasets(_Selection):
    """Every dataset found under some paths (what `load()` and the `ftdata` fixture give)."""

    def __init__(self, datasets: list[Dataset], description: str) -> None:
        self.datasets = datasets
        self.description = description

    def _file_sources(self) -> list[tuple[Dataset, DataFile]]:
        return [source for dataset in self.datasets for source in dataset._file_sources()]

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
    checks: "CheckSet | None" = None,
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
    loader = ConfigLoader.from_rootdir(rootdir)
    return open_datasets([target], rootdir=rootdir, loader=loader, checks=CheckSet.from_objects(checks), overrides=config)


# -- running checks on a selection -------------------------------------------------------------


class CheckNotAvailable(LookupError):
    """A built-in check family that this version does not provide."""


def run_check(selection: "_Selection | Examples", family: str, **config: Any) -> list[Finding]:
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


def _require_family(family: str, checks: "CheckSet") -> None:
    if family in FILE_CHECKS or family in DATASET_CHECKS or family in checks.names():
        return
    if family in FAMILIES:
        raise CheckNotAvailable(f"the built-in `{family}` check is not available in this version of pytest-ftdata")
    known = sorted({*FILE_CHECKS, *DATASET_CHECKS, *checks.names()})
    raise ValueError(f"unknown check {family!r}; registered checks: {', '.join(known)}")


# -- user rules ---------------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z][A-Z0-9_-]*[0-9]$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: User rules record where they were declared, so re-running a notebook cell may redefine one.
_RULE_ORIGINS: dict[str, str] = {}


def _prefix(code: str) -> str:
    return re.match(r"[A-Z]*", code).group(0)


def rule(
    code: str,
    name: str,
    summary: str,
    *,
    severity: Literal["error", "warning"] = "error",
    doc: str = "",
    check: str = "custom",
) -> Rule:
    """Declare a project rule: `ACME001 = rule("ACME001", "refund-cites-policy", "...")`.

    The code is yours (upper-case letters and digits, ending in a digit, with a prefix
    no built-in rule uses); the name is kebab-case. Findings of the rule made by a
    project check carry that check's name as their `check`.
    """
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must be upper-case letters and digits ending in a digit, like ACME001")
    if not _NAME.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case, like refund-cites-policy")
    if severity not in ("error", "warning"):
        raise ValueError(f"rule severity must be 'error' or 'warning' (got {severity!r})")
    if check in FAMILIES:
        raise ValueError(f"rule {code} cannot join the built-in `{check}` check; leave `check` unset")
    # Prefixes of the plugin's own rules (built-in families and CHK) are reserved.
    reserved = {_prefix(r.code): r.check for c, r in _findings.RULES.items() if c not in _RULE_ORIGINS}
    if _prefix(code) in reserved:
        raise ValueError(
            f"rule code {code} uses the prefix {_prefix(code)} of the built-in `{reserved[_prefix(code)]}` check; "
            "choose a prefix of your own, like ACME"
        )
    for other in _findings.RULES.values():
        if other.name == name and other.code != code:
            raise ValueError(f"rule name {name!r} is already used by {other.code}")
    declared = Rule(code, name, check, severity, summary, " ".join(doc.split()))
    origin = _caller_origin()
    existing = _findings.RULES.get(code)
    if existing is not None:
        # The same declaration again (a conftest imported twice) gives the same rule;
        # `check` may since have been bound to the check that reports it.
        if (replace(existing, check=check) if check == "custom" else existing) == declared:
            return existing
        if _RULE_ORIGINS.get(code) != origin:
            raise ValueError(f"rule code {code} is already declared differently ({existing.name}: {existing.summary})")
    _findings.RULES[code] = declared
    _RULE_ORIGINS[code] = origin
    return declared


def _caller_origin() -> str:
    frame = sys._getframe(2)
    return f"{frame.f_globals.get('__file__') or frame.f_globals.get('__name__')}:{frame.f_code.co_name}"


# -- project-specific checks -------------------------------------------------------------------

_SPEC_ATTR = "__ftdata_check__"

CHECK_CRASHED = _findings.rule(
    "CHK001", "check-crashed", "custom", "error",
    "A project-specific check raised an exception.",
    """A check registered with `@pytest_ftdata.check` or the `pytest_ftdata_checks` hook
    raised instead of returning findings. The finding names the example it was looking
    at and where in the check's code it failed; the check stopped there, so the rest
    of the file went unchecked. Fix the check (a missing key, a target that is not
    JSON) and run again.""",
)


@dataclass(frozen=True)
class CheckSpec:
    """A project-specific check: its family name, its scope and what implements it."""

    name: str
    scope: Literal["file", "dataset"]
    target: Any
    rule: Rule | None = None


def check(
    name: str | Callable | type | None = None,
    *,
    rule: Rule | None = None,
    scope: Literal["file", "dataset"] = "file",
):
    """Register a project-specific check (in a `conftest.py` or a plugin module).

    On a function, the function receives each `Example` and returns or yields
    findings (`ex.finding(RULE, "message")`), messages (strings, reported under
    `rule`), or a bool (False reports `rule`'s summary). It runs once per file
    (`scope="file"`, items `data/train.jsonl::NAME`) or over a whole dataset
    (`scope="dataset"`, item `data/dataset::NAME`).

    On a `FileCheck` or `DatasetCheck` subclass, it registers the class (named by
    `name` or its `family` attribute); its `visit()` receives the same `Example`
    objects as function checks and user tests.

    Either way, an exception inside the check becomes a CHK001 finding on its own
    item instead of stopping the run.
    """
    if callable(name) and not isinstance(name, str):  # bare @check
        return check(None, rule=rule, scope=scope)(name)

    def mark(target):
        spec = make_spec(target, name, rule=rule, scope=scope)
        setattr(target, _SPEC_ATTR, spec)
        if rule is not None and rule.check == "custom" and _findings.RULES.get(rule.code) is rule:
            # The registry lists the rule under its check, so `rules = {NAME = "off"}` is a known selector.
            _findings.RULES[rule.code] = replace(rule, check=spec.name)
        return target

    return mark


def make_spec(target: Any, name: str | None = None, *, rule: Rule | None = None, scope: str = "file") -> CheckSpec:
    if scope not in ("file", "dataset"):
        raise ValueError(f"check scope must be 'file' or 'dataset' (got {scope!r})")
    if isinstance(target, type):
        if issubclass(target, FileCheck):
            scope = "file"
        elif issubclass(target, DatasetCheck):
            scope = "dataset"
        else:
            raise TypeError(f"{target.__name__} is neither a function nor a FileCheck/DatasetCheck subclass")
        name = name or getattr(target, "family", None)
    elif not callable(target):
        raise TypeError(f"a check must be a function or a check class, not {type(target).__name__}")
    name = name or target.__name__.replace("_", "-")
    if not _NAME.match(name):
        raise ValueError(f"check name {name!r} must be kebab-case, like refund-policy")
    if name in FAMILIES:
        raise ValueError(f"check name {name!r} is the name of a built-in check; choose another")
    if rule is not None and not isinstance(rule, Rule):
        raise TypeError(f"rule= takes a Rule made with pytest_ftdata.rule(), not {type(rule).__name__}")
    return CheckSpec(name, scope, target, rule)


def spec_of(obj: Any) -> CheckSpec | None:
    """The spec of an object marked with `@check`, or None (inherited marks do not count)."""
    if isinstance(obj, CheckSpec):
        return obj
    if isinstance(obj, type):
        return obj.__dict__.get(_SPEC_ATTR)
    if inspect.isfunction(obj):
        return getattr(obj, _SPEC_ATTR, None)
    return None


class CheckSet:
    """Project-specific checks, as the engine takes them (name -> check class)."""

    def __init__(self) -> None:
        self.file: dict[str, type[FileCheck]] = {}
        self.dataset: dict[str, type[DatasetCheck]] = {}
        self._specs: dict[str, CheckSpec] = {}

    def names(self) -> list[str]:
        return list(self._specs)

    def add(self, obj: Any, origin: str = "") -> None:
        spec = spec_of(obj)
        if spec is None:
            spec = make_spec(obj)
        existing = self._specs.get(spec.name)
        if existing is not None:
            if existing.target is spec.target:
                return
            where = f" (in {origin})" if origin else ""
            raise ValueError(f"two project checks are named {spec.name!r}{where}; rename one")
        self._specs[spec.name] = spec
        engine_class = _engine_class(spec)
        if spec.scope == "file":
            self.file[spec.name] = engine_class
        else:
            self.dataset[spec.name] = engine_class

    @classmethod
    def from_objects(cls, objects: Iterable[Any]) -> "CheckSet":
        checks = cls()
        for obj in objects:
            checks.add(obj)
        return checks


def _crash(family: str, exc: BaseException, path: str, line: int | None, when: str) -> Finding:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    detail = display(str(exc), 80)
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    finding = CHECK_CRASHED.at(
        path, line, f"Check `{family}` raised {text}{where} {when}; it checked nothing after this, fix the check."
    )
    return replace(finding, check=family)


def _bind(family: str, produced: list[Finding]) -> list[Finding]:
    return [replace(f, check=family) if f.check == "custom" else f for f in produced]


def _engine_class(spec: CheckSpec) -> type:
    if isinstance(spec.target, type):
        return _guarded_class(spec)
    return _function_class(spec)


def _function_class(spec: CheckSpec) -> type:
    function, family, declared = spec.target, spec.name, spec.rule
    base = FileCheck if spec.scope == "file" else DatasetCheck

    class FunctionCheck(base):  # type: ignore[misc, valid-type]
        def __init__(self, ctx) -> None:
            super().__init__(ctx)
            self.found: list[Finding] = []
            self.crashed = False
            self.split = ctx.file.split if spec.scope == "file" else None

        def begin_file(self, file) -> None:
            super().begin_file(file)
            self.split = file.split

        def visit(self, example: _View) -> None:
            if self.crashed:
                return
            view = Example(example, self.split, self.config)
            try:
                self._collect(function(view), view)
            except Exception as exc:  # a broken project check fails its own item, not the run
                self.crashed = True
                self.found.append(_crash(family, exc, view.path, view.line, "on this example"))

        def _collect(self, produced: Any, view: Example) -> None:
            if produced is None or produced is True:
                return
            if produced is False:
                self.found.append(view.finding(_need_rule(), _need_rule().summary))
            elif isinstance(produced, str):
                self.found.append(view.finding(_need_rule(), produced))
            elif isinstance(produced, Finding):
                self.found.append(produced)
            elif isinstance(produced, Iterable):
                for item in produced:
                    if isinstance(item, Iterable) and not isinstance(item, str):
                        raise TypeError(f"check yielded a nested {type(item).__name__}")
                    self._collect(item, view)
            else:
                raise TypeError(f"a check returns findings, messages or a bool, not {type(produced).__name__}")

        def finish(self) -> list[Finding]:
            return _bind(family, self.found)

    def _need_rule() -> Rule:
        if declared is None:
            raise TypeError(f"check `{family}` reported a message or False but declares no rule; use @check(rule=...)")
        return declared

    FunctionCheck.family = family
    FunctionCheck.__name__ = FunctionCheck.__qualname__ = f"FunctionCheck[{family}]"
    return FunctionCheck


def _guarded_class(spec: CheckSpec) -> type:
    """`spec.target` with every call guarded (an exception becomes a CHK001 finding),
    seeing the same `Example` objects as function checks and user tests."""
    family = spec.name

    class Guarded(spec.target):  # type: ignore[misc, valid-type]
        def __init__(self, ctx) -> None:
            self._ftdata_crash: Finding | None = None
            self._ftdata_where = getattr(ctx, "path", "")
            file = getattr(ctx, "file", None)
            self._ftdata_split = file.split if file is not None else None
            try:
                super().__init__(ctx)
            except Exception as exc:
                self.ctx, self.config = ctx, ctx.config
                self._ftdata_crash = _crash(family, exc, self._ftdata_where, None, "while starting")

        def _guard(self, method, *args, line=None, when="") -> Any:
            if self._ftdata_crash is not None:
                return None
            try:
                return method(*args)
            except Exception as exc:
                path = getattr(args[0], "path", self._ftdata_where) if args else self._ftdata_where
                self._ftdata_crash = _crash(family, exc, path, line, when)
                return None

        def problem(self, problem) -> None:
            self._guard(super().problem, problem)

        def begin_file(self, file) -> None:
            self._ftdata_split = file.split
            self._guard(super().begin_file, file, when="at the start of the file")

        def visit(self, example) -> None:
            view = Example(example, self._ftdata_split, self.config)
            self._guard(super().visit, view, line=example.line, when="on this example")

        def end_file(self, file) -> None:
            self._guard(super().end_file, file, when="at the end of the file")

        def finish(self) -> list[Finding]:
            produced = self._guard(super().finish, when="while finishing") or []
            if self._ftdata_crash is not None:
                produced = [*produced, self._ftdata_crash]
            return _bind(family, list(produced))

        def summary(self) -> dict | None:
            if self._ftdata_crash is not None:
                return None
            return super().summary() if hasattr(super(), "summary") else None

    Guarded.family = family
    Guarded.__name__ = spec.target.__name__
    Guarded.__qualname__ = spec.target.__qualname__
    return Guarded
