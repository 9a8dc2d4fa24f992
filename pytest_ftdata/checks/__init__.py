"""Check families: one module per family, each a set of documented rules.

`FILE_CHECKS` and `DATASET_CHECKS` map a family name to its check class; the
plugin makes one pytest item per registered family, in this order.
"""

from __future__ import annotations

from .base import DatasetCheck, DatasetContext, FileCheck, FileContext, FileInfo
from .duplicates import DuplicatesCheck
from .format import FormatCheck
from .labels import LabelCheck
from .leakage import LeakageCheck
from .length import LengthCheck
from .pii import PiiCheck
from .policy import PolicyCheck
from .schema import SchemaCheck
from .splits import SplitsCheck
from .subgroups import SubgroupCheck

FILE_CHECKS: dict[str, type[FileCheck]] = {
    "schema": SchemaCheck,
    "format": FormatCheck,
    "pii": PiiCheck,
    "policy": PolicyCheck,
    "length": LengthCheck,
}

DATASET_CHECKS: dict[str, type[DatasetCheck]] = {
    "duplicates": DuplicatesCheck,
    "leakage": LeakageCheck,
    "splits": SplitsCheck,
    "labels": LabelCheck,
    "subgroups": SubgroupCheck,
}

__all__ = [
    "DATASET_CHECKS",
    "FILE_CHECKS",
    "DatasetCheck",
    "DatasetContext",
    "FileCheck",
    "FileContext",
    "FileInfo",
]
