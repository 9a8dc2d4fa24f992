"""pytest glue of the CI gates: the options and ini settings into a `Gate` and a result cache.

Workers and the controller build the same `Gate` from the same options, so an item
fails the same way wherever it runs. What is written (the updated baseline, cache
entries, the step summary) is written by `controller.FtdataController` only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .baseline import Baseline, BaselineError, Gate
from .cache import ResultCache


def _baseline_path(config: pytest.Config) -> Path | None:
    option = config.getoption("ftdata_baseline", None)
    if option:
        return Path(config.invocation_params.dir, option)
    ini = config.getini("ftdata_baseline")
    if ini:
        return Path(config.rootpath, ini)
    return None


def make_gate(config: pytest.Config, specs) -> Gate:
    """The gate of this run; raises `pytest.UsageError` for unusable options."""
    strict = bool(config.getoption("ftdata_strict", False) or config.getini("ftdata_strict"))
    updating = bool(config.getoption("ftdata_update_baseline", False))
    path = _baseline_path(config)
    if updating and path is None:
        raise pytest.UsageError(
            "--ftdata-update-baseline needs the file to write: give --ftdata-baseline=PATH "
            "(or set ftdata_baseline in the ini file)."
        )
    baseline = None
    if path is not None and (path.exists() or not updating):
        try:
            baseline = Baseline.load(path)
        except BaselineError as exc:
            raise pytest.UsageError(f"pytest-ftdata: {exc}.") from None
    # Content keys cost a second look at the lines with findings: only for the outputs
    # that carry them (and the baseline, see `Gate.needs_keys`).
    want_keys = any(spec.type in ("sarif", "json") for spec in specs)
    return Gate(strict=strict, baseline=baseline, baseline_path=path, updating=updating, want_keys=want_keys)


def result_cache(config: pytest.Config):
    """The cache reader of this process, or None (`--ftdata-no-cache`, no cacheprovider)."""
    if config.getoption("ftdata_no_cache", False):
        return None
    store = getattr(config, "cache", None)
    return ResultCache(store) if store is not None else None
