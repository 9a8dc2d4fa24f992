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
from .families import BUILTIN_DATASET_FAMILIES
from .share import ShareDir
from .tasks import detect_task


#: Dataset-level families an xdist worker analyses on their own (see `_shared_result`).
SEPARATE_DATASET_FAMILIES = frozenset({"labels"})


@dataclass
class Plan:
    files: set[Path] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    whole_dataset: bool = False
    #: Data files of the directory that pytest was told to ignore (`collect_ignore`,
    #: `--ignore`, `--ignore-glob`): they are not part of the dataset either.
    ignored: frozenset[Path] = frozenset()


class FtdataState:
    def __init__(self, rootdir: Path, loader: ConfigLoader, verbose: int = 0) -> None:
        self.rootdir = rootdir
        self.loader = loader
        self.verbose = verbose
        self.plans: dict[Path, Plan] = {}
        self.results: dict[Path, DatasetResult] = {}
        self.shared_results: dict[tuple, DatasetResult] = {}
        self.progress: Callable[[str, int], None] | None = None
        self.extra_file_checks: dict = {}
        self.extra_dataset_checks: dict = {}
        # CI gates (see baseline.py and cache.py): set up by the plugin from its options.
        self.gate = Gate()
        self.cache: ResultCache | None = None
        #: `--ftdata-update-lock`: the `versions` items hand each dataset's new lock to the controller.
        self.update_lock = False
        #: On an xdist worker, the run's shared results (`share.py`); None otherwise.
        self.share: ShareDir | None = None
        #: The shares of the work this worker may still help with while it waits (`_help`).
        self._pending_units: list | None = None

    # -- planning (collection) ---------------------------------------------------------

    def want_file(self, path: Path, family: str) -> None:
        plan = self.plans.setdefault(path.parent, Plan())
        plan.files.add(path)
        plan.families.add(family)

    def want_dataset(self, directory: Path, family: str) -> None:
        plan = self.plans.setdefault(directory, Plan())
        plan.whole_dataset = True
        plan.families.add(family)

    def ignore(self, directory: Path, paths: set[Path]) -> None:
        self.plans.setdefault(directory, Plan()).ignored = frozenset(paths)

    def dataset_files(self, directory: Path) -> list[Path]:
        """The files of the dataset in `directory`: its data files less the ignored ones."""
        ignored = self.plans[directory].ignored if directory in self.plans else frozenset()
        return [path for path in dataset_files(directory) if path not in ignored]

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
        if plan.whole_dataset and self._shares(directory):
            return self._shared_result(directory, plan, family, file)
        if plan.whole_dataset:
            files = self.dataset_files(directory)
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

    # -- sharing the work between xdist workers ------------------------------------------------

    def _shares(self, directory: Path) -> bool:
        """Whether this worker splits the analysis of `directory` with the others.

        Not with the result cache (its dataset entries are keyed by the file families
        analysed beside them), nor when the project registers dataset checks of its own
        (one may read the file families' findings, `DatasetContext.file_findings`)."""
        return self.share is not None and self.cache is None and not self.extra_dataset_checks

    def _unit(self, directory: Path, plan: Plan, family: str, file: Path | None) -> tuple[tuple, set[str], list[Path]]:
        """The share of the work an item of `family` needs: (key, families, files).

        A file's item needs that file's file-level families only; a dataset item, the
        dataset-level families over every file; a `labels` item, `labels` alone over
        every file: its suspect-label model is the largest single cost of a classification
        dataset, and on its own it can run on one worker while another does the
        fingerprints, for the price of one more read of the files (its maps are cheap)."""
        dataset_level = set(BUILTIN_DATASET_FAMILIES) | set(self.extra_dataset_checks)
        if file is not None and family not in dataset_level:
            return ("file", file), {name for name in plan.families if name not in dataset_level}, [file]
        alone = family in SEPARATE_DATASET_FAMILIES
        families = {
            name for name in plan.families
            if name in dataset_level and (name == family if alone else name not in SEPARATE_DATASET_FAMILIES)
        }
        return ("dataset", directory, family if alone else ""), families, self.dataset_files(directory)

    def _compute(self, directory: Path, families: set[str], files: list[Path]) -> Callable[[], DatasetResult]:
        config = self.loader.for_directory(directory)

        def compute() -> DatasetResult:
            return analyze_dataset(
                directory,
                files,
                config,
                self.rootdir,
                families=families,
                extra_file_checks=self.extra_file_checks,
                extra_dataset_checks=self.extra_dataset_checks,
                task=detect_task(self.dataset_files(directory), config),
            )

        return compute

    @staticmethod
    def _share_name(key: tuple, families: set[str]) -> str:
        return "\0".join([key[0], str(key[1]), *([key[2]] if len(key) > 2 else []), *sorted(families)])

    def _units(self) -> list[tuple[tuple, set[str], list[Path], Path]]:
        """Every share of the work this run's items need, largest first: the `labels`
        analyses, the other dataset-level ones, then the files by size."""
        units = []
        for directory, plan in self.plans.items():
            if not plan.whole_dataset or not self._shares(directory):
                continue
            wanted = [(family, None) for family in sorted(plan.families)]
            wanted += [(family, file) for file in sorted(plan.files) for family in sorted(plan.families)]
            seen = set()
            for family, file in wanted:
                key, families, files = self._unit(directory, plan, family, file)
                if key in seen or not families:
                    continue
                seen.add(key)
                units.append((key, families, files, directory))

        def size(unit) -> tuple:
            key = unit[0]
            if key[0] == "dataset":
                return (0 if key[2] in SEPARATE_DATASET_FAMILIES else 1, 0)
            try:
                return (2, -key[1].stat().st_size)
            except OSError:
                return (2, 0)

        return sorted(units, key=size)

    def _help(self) -> bool:
        """Compute one share of the run's work that no worker has claimed (see `share.py`)."""
        if self._pending_units is None:
            self._pending_units = self._units()
        while self._pending_units:
            key, families, files, directory = self._pending_units.pop(0)
            if key in self.shared_results:
                continue
            if self.share.offer(self._share_name(key, families), self._compute(directory, families, files)):
                return True
        return False

    def _shared_result(self, directory: Path, plan: Plan, family: str, file: Path | None) -> DatasetResult:
        """The analysis an item needs (`_unit`), made once per run by whichever worker
        needs it first, or by one that would otherwise wait (`_help`). The task, which
        decides default severities, is detected from every file of the dataset either
        way, so each finding is the one a serial run produces."""
        key, families, files = self._unit(directory, plan, family, file)
        cached = self.shared_results.get(key)
        if cached is not None and family in cached.families:
            return cached
        name = self._share_name(key, families)
        result = self.share.get(name, self._compute(directory, families, files), help=self._help)
        if self.gate.needs_keys:
            assign_keys(result)
        self.shared_results[key] = result
        return result
