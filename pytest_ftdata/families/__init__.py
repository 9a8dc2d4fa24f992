"""Check families: one module per family, each a set of documented rules.

`BUILTIN_FILE_FAMILIES` and `BUILTIN_DATASET_FAMILIES` map a family name to its check class; the
plugin makes one pytest item per registered family, in this order.
"""

from __future__ import annotations

from .base import DatasetFamily, DatasetContext, FileFamily, FileContext, FileInfo
from .duplicates import DuplicatesFamily
from .format import FormatFamily
from .labels import LabelsFamily
from .leakage import LeakageFamily
from .length import LengthFamily
from .pii import PiiFamily
from .policy import PolicyFamily
from .reasoning import ReasoningFamily
from .schema import SchemaFamily
from .splits import SplitsFamily
from .subgroups import SubgroupsFamily
from .versions import VersionsFamily

BUILTIN_FILE_FAMILIES: dict[str, type[FileFamily]] = {
    "schema": SchemaFamily,
    "format": FormatFamily,
    "pii": PiiFamily,
    "policy": PolicyFamily,
    "length": LengthFamily,
    "reasoning": ReasoningFamily,
}

BUILTIN_DATASET_FAMILIES: dict[str, type[DatasetFamily]] = {
    "duplicates": DuplicatesFamily,
    "leakage": LeakageFamily,
    "splits": SplitsFamily,
    "labels": LabelsFamily,
    "subgroups": SubgroupsFamily,
    "versions": VersionsFamily,
}

__all__ = [
    "BUILTIN_DATASET_FAMILIES",
    "BUILTIN_FILE_FAMILIES",
    "DatasetFamily",
    "DatasetContext",
    "FileFamily",
    "FileContext",
    "FileInfo",
]
