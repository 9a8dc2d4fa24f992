"""Per-process run state: what to analyse, and the results already computed.

One `FtdataState` lives in `config.stash` for a pytest run, in every process. During
collection it learns which files and families were selected; the first item of a
dataset to run triggers one `analyze_dataset()` for that directory, and every later
item of it reads the result. (What the items found is gathered by the controller,
`controller.FtdataController`, from their test reports.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .baseline import Gate, assign_keys
from .cache import ResultCache
from .config import ConfigLoader
from .engine import DatasetResult, analyze_dataset, dataset_files, display_path


@dataclass
class Plan:
    files: set[Path] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    whole_dataset: bool = False


class FtdataState:
    def __init__(self, rootdir: Path, loader: ConfigLoader, verbose: int = 0) -> None:
        self.rootdir = rootdir
        self.loader = loader
        self.verbose = verbose
        self.plans: dict[Path, Plan] = {}
        self.results: dict[Path, DatasetResult] = {}
        self.progress: Callable[[str, int], None] | None = None
        self.extra_file_checks: dict = {}
        self.extra_dataset_checks: dict = {}
        # CI gates (see baseline.py and cache.py): set up by the plugin from its options.
        self.gate = Gate()
        self.cache: ResultCache | None = None
        #: `--ftdata-update-lock`: the `versions` items hand each dataset's new lock to the controller.
        self.update_lock = False

    # -- planning (collection) ---------------------------------------------------------

    def want_file(self, path: Path, family: str) -> None:
        plan = self.plans.setdefault(path.parent, Plan())
        plan.files.add(path)
        plan.families.add(family)

    def want_dataset(self, directory: Path, family: str) -> None:
        plan = self.plans.setdefault(directory, Plan())
        plan.whole_dataset = True
        plan.families.add(family)

    def display(self, path: Path) -> str:
        return display_path(path, self.rootdir)

    # -- running -----------------------------------------------------------------------

    def result(self, directory: Path, family: str, file: Path | None = None) -> DatasetResult:
        """The analysis that answers an item of `family`, computed on first use.

        When dataset-level items of the directory are selected, its whole dataset is
        read once for all of them. Otherwise only the item's own `file` is read (a
        `-k schema` run, a single file on the command line): a process then reads
        only the files whose items it runs, which lets xdist workers share the work.
        """
        plan = self.plans.setdefault(directory, Plan())
        key = file if file is not None and not plan.whole_dataset else directory
        cached = self.results.get(key)
        if cached is not None and family in cached.families:
            return cached
        plan.families.add(family)
        if plan.whole_dataset:
            files = dataset_files(directory)
        elif file is not None:
            files = [file]
        else:
            files = sorted(plan.files)
        config = self.loader.for_directory(directory)
        analyze = self.cache.analyze if self.cache is not None else analyze_dataset
        result = analyze(
            directory,
            files,
            config,
            self.rootdir,
            families=plan.families,
            progress=self.progress,
            extra_file_checks=self.extra_file_checks,
            extra_dataset_checks=self.extra_dataset_checks,
            update_lock=self.update_lock,
        )
        if self.gate.needs_keys:
            touched = assign_keys(result)
            if self.cache is not None:
                self.cache.mark_changed(result, touched)
        self.results[key] = result
        return result
