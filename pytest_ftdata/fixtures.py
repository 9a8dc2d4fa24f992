"""The pytest side of the user API: the `ftdata` fixture, the markers, project checks.

`plugin.py` keeps only the hook functions and delegates here:

- the `ftdata` fixture reads the configured datasets (ini `ftdata_paths`, else the
  paths of an `--ftdata` run), or the path of `@pytest.mark.ftdata(path=...)`. The
  marker path is applied by parametrizing the fixture indirectly, so the fixture
  stays session-scoped (one value per path) and fixtures of any scope may use it;
- `@pytest.mark.ftdata_each(...)` runs a test once per example, ids `train.jsonl:42`;
- failures of tests that use dataset examples are passed through `redact()`, so
  pytest's assertion introspection cannot print a secret from the data in full;
- project checks are discovered once per run (see `hooks.discover_checks`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .custom import CheckSet
from .dataset import Datasets, open_datasets
from .expectations import set_verbosity
from .config import ConfigError, ConfigLoader
from .readers import is_data_file
from .hooks import discover_checks
from .nodes import STATE_KEY
from .redact import display_repr, redact

CHECKS_KEY = pytest.StashKey[CheckSet]()
CACHE_KEY = pytest.StashKey[dict]()
VERBOSITY_KEY = pytest.StashKey[int]()

MARKERS = (
    "ftdata(path=None): a pytest-ftdata dataset test. Added to every dataset item; on a test that uses the "
    "`ftdata` fixture, path= (relative to the rootdir) chooses the datasets it reads.",
    "ftdata_each(split=None, *, path=None, where=None, argname='example', max_examples=2000): run the test "
    "once per example of the split (ids like train.jsonl:42). For small datasets.",
)

#: `ftdata_each` refuses more examples than this unless `max_examples=` says otherwise.
MAX_EACH = 2000


def configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    config.stash[VERBOSITY_KEY] = set_verbosity(config.get_verbosity())
    try:
        config.stash[CHECKS_KEY] = discover_checks(config)
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"pytest-ftdata: a project check is invalid: {exc}") from None


def unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(VERBOSITY_KEY, None)
    if previous is not None:
        set_verbosity(previous)


def project_checks(config: pytest.Config) -> CheckSet:
    return config.stash.get(CHECKS_KEY, None) or CheckSet()


def _configured_paths(config: pytest.Config) -> list[Path]:
    paths = config.getini("ftdata_paths")
    if paths:
        return [config.rootpath / path for path in paths]
    if config.getoption("ftdata", False) or config.getini("ftdata"):
        args = [Path(arg.split("::")[0]) for arg in config.args]
        return [arg for arg in args if arg.is_dir() or (is_data_file(arg.name) and arg.exists())]
    return []


def datasets_for(config: pytest.Config, path: str | os.PathLike | None = None) -> Datasets:
    """The datasets at `path` (relative to the rootdir), else the configured ones; cached per run."""
    paths = [config.rootpath / path] if path is not None else _configured_paths(config)
    if not paths:
        raise LookupError(
            "pytest-ftdata does not know which datasets to read: set `ftdata_paths` in the pytest ini "
            'options, or mark the test with @pytest.mark.ftdata(path="data/...")'
        )
    key = tuple(str(p) for p in paths)
    cache = config.stash.setdefault(CACHE_KEY, {})
    if key not in cache:
        state = config.stash.get(STATE_KEY, None)
        loader = state.loader if state is not None else ConfigLoader.from_rootdir(config.rootpath)
        cache[key] = open_datasets(paths, rootdir=config.rootpath, loader=loader, checks=project_checks(config))
    return cache[key]


def _datasets_or_fail(config: pytest.Config, path) -> Datasets:
    try:
        return datasets_for(config, path)
    except (ConfigError, LookupError, OSError, ValueError) as exc:
        text = str(exc)
        # The lookup's own message already names the plugin: say it once.
        message = text if text.startswith("pytest-ftdata") else f"pytest-ftdata: {text}"
    # Failed outside the `except`: inside it, pytest would show the LookupError too
    # ("During handling of the above exception ..."), and the message twice.
    pytest.fail(message, pytrace=False)


def fixture_value(request: pytest.FixtureRequest) -> Datasets:
    return _datasets_or_fail(request.config, getattr(request, "param", None))


def _marker_path(marker) -> str | None:
    if marker is None:
        return None
    return marker.kwargs.get("path", marker.args[0] if marker.args else None)


def generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    path = _marker_path(definition.get_closest_marker("ftdata"))
    each = definition.get_closest_marker("ftdata_each")
    if each is not None:
        _parametrize_each(metafunc, each, path)
    if path is not None and "ftdata" in metafunc.fixturenames:
        metafunc.parametrize("ftdata", [path], indirect=True, ids=[str(path)])


def _parametrize_each(metafunc: pytest.Metafunc, marker, default_path) -> None:
    options = dict(marker.kwargs)
    split = options.pop("split", marker.args[0] if marker.args else None)
    path = options.pop("path", default_path)
    argname = options.pop("argname", "example")
    where = options.pop("where", None)
    limit = options.pop("max_examples", MAX_EACH)
    if options:
        pytest.fail(f"ftdata_each: unknown argument(s) {', '.join(sorted(options))}", pytrace=False)
    if argname not in metafunc.fixturenames:
        pytest.fail(
            f"{metafunc.function.__name__} is marked ftdata_each but takes no `{argname}` argument "
            "(the example); add it, or name it with argname=",
            pytrace=False,
        )
    datasets = _datasets_or_fail(metafunc.config, path)
    try:
        selection = datasets.split(split) if split else datasets.examples
    except (LookupError, ValueError) as exc:
        pytest.fail(f"ftdata_each: {exc}", pytrace=False)
    if where is not None:
        selection = selection.where(where)
    examples = []
    for example in selection:
        examples.append(example)
        if len(examples) > limit:
            pytest.fail(
                f"ftdata_each: {selection.description} has more than {limit} examples; one test per example is "
                "for small datasets. Use ftdata.split(...).expect(...) (one test, every failure listed), "
                "or raise max_examples=.",
                pytrace=False,
            )
    metafunc.parametrize(argname, examples, ids=_example_ids(examples))


def _example_ids(examples: list) -> list[str]:
    """`train.jsonl:42`; the project-relative path where two datasets share a file name."""
    paths_by_name: dict[str, set[str]] = {}
    for example in examples:
        paths_by_name.setdefault(Path(example.path).name, set()).add(example.path)
    ids = []
    for example in examples:
        name = Path(example.path).name
        shown = name if len(paths_by_name[name]) == 1 else example.path
        ids.append(f"{shown}:{example.line}")
    return ids


def uses_dataset_examples(item: pytest.Item) -> bool:
    return isinstance(item, pytest.Function) and (
        "ftdata" in item.fixturenames
        or item.get_closest_marker("ftdata_each") is not None
        or item.get_closest_marker("ftdata") is not None
    )


#: Longest line of a redacted failure; cut only after redaction.
MAX_FAILURE_LINE = 2000


def _safe_line(line: str) -> str:
    line = redact(line)
    return line if len(line) <= MAX_FAILURE_LINE else redact(line[: MAX_FAILURE_LINE - 1]) + "\N{HORIZONTAL ELLIPSIS}"


def safe_comparison(op: str, left: object, right: object) -> list[str] | None:
    """What `pytest_assertrepr_compare` shows for a comparison in a test that reads
    dataset examples: both sides redacted whole, then shortened, instead of pytest's
    diff (which quotes the values from an arbitrary cut onwards). None for comparisons
    of values that hold no text."""
    if not any(isinstance(value, (str, bytes, dict, list, tuple, set)) for value in (left, right)):
        return None
    shown = [display_repr(str(value) if not isinstance(value, str) else value, 200) for value in (left, right)]
    return [f"{shown[0]} {op} {shown[1]}", "(values from the dataset are shown redacted and shortened by pytest-ftdata)"]


def redact_failure(report: pytest.TestReport) -> None:
    """Mask secrets and personal data in a failure's text, keeping its structure."""
    longrepr = report.longrepr
    if longrepr is None or isinstance(longrepr, tuple):  # tuple: a skip
        return
    if isinstance(longrepr, str):
        report.longrepr = "\n".join(_safe_line(line) for line in longrepr.splitlines())
        return
    chain = getattr(longrepr, "chain", None)
    if chain is None:
        traceback = getattr(longrepr, "reprtraceback", None)
        chain = [(traceback, getattr(longrepr, "reprcrash", None), None)] if traceback is not None else []
    for traceback, crash, _ in chain:
        for entry in getattr(traceback, "reprentries", ()):
            entry.lines = [_safe_line(line) for line in entry.lines]
            local_vars = getattr(entry, "reprlocals", None)
            if local_vars is not None:
                local_vars.lines = [_safe_line(line) for line in local_vars.lines]
            arguments = getattr(entry, "reprfuncargs", None)
            if arguments is not None:
                arguments.args = [(name, _safe_line(str(value))) for name, value in arguments.args]
        if crash is not None:
            crash.message = "\n".join(_safe_line(line) for line in crash.message.splitlines())
    for index, (name, content, sep) in enumerate(getattr(longrepr, "sections", ())):
        longrepr.sections[index] = (name, "\n".join(_safe_line(line) for line in content.splitlines()), sep)
