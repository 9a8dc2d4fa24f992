"""Hook specifications of pytest-ftdata (added with `pytest_addhooks`), and check discovery.

A project adds its own check families in one of two ways; both end up in one
`CheckSet` per pytest run, which the plugin hands to the engine:

- the `@pytest_ftdata.check` decorator, on a function or a check class defined in
  (or imported into) the rootdir `conftest.py` or a plugin module (`-p module`);
- the `pytest_ftdata_checks` hook, for plugins that ship checks.
"""

from __future__ import annotations

import types
from typing import Any

import pluggy

from .custom import CheckSet, spec_of

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_ftdata_checks(config) -> list[Any]:
    """Return project-specific checks to run on every dataset.

    Each entry is a function or class marked with `@pytest_ftdata.check`, or a
    `FileFamily` / `DatasetFamily` subclass (named by its `family` attribute). Each
    check becomes one item per file (`data/train.jsonl::NAME`) or per dataset
    (`data/dataset::NAME`), and its findings reach the reports like a built-in one's.

    Implement it in the rootdir `conftest.py` or in a plugin: those are loaded before
    collection starts. A project that may also run with `-p no:ftdata` marks the
    implementation `@pytest.hookimpl(optionalhook=True)`.

    :param pytest.Config config: the pytest config object.
    """


def discover_checks(config) -> CheckSet:
    """Every project check of this run: hook results, then `@check` objects of loaded plugins."""
    checks = CheckSet()
    for result in config.hook.pytest_ftdata_checks(config=config):
        for obj in result if isinstance(result, (list, tuple)) else [result]:
            checks.add(obj, origin="a pytest_ftdata_checks hook")
    modules = [
        plugin
        for plugin in config.pluginmanager.get_plugins()
        if isinstance(plugin, types.ModuleType) and not plugin.__name__.startswith(("_pytest.", "pytest_ftdata."))
    ]
    # get_plugins() is a set: sort, so every xdist worker collects the same items in the same order.
    for plugin in sorted(modules, key=lambda module: (getattr(module, "__file__", None) or "", module.__name__)):
        for value in list(vars(plugin).values()):
            if isinstance(value, type) or isinstance(value, types.FunctionType):
                if spec_of(value) is not None:
                    checks.add(value, origin=getattr(plugin, "__file__", plugin.__name__))
    return checks
