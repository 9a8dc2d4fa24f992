"""Check families: one module per family, each a set of documented rules.

`FILE_CHECKS` and `DATASET_CHECKS` map a family name to its check class; the
plugin makes one pytest item per registered family, in this order.
"""

from __future__ import annotations

from .base import DatasetCheck, DatasetContext, FileCheck, FileContext, FileInfo
from .format import FormatCheck
from .schema import SchemaCheck

FILE_CHECKS: dict[str, type[FileCheck]] = {
    "schema": SchemaCheck,
    "format": FormatCheck,
}

DATASET_CHECKS: dict[str, type[DatasetCheck]] = {}

__all__ = [
    "DATASET_CHECKS",
    "FILE_CHECKS",
    "DatasetCheck",
    "DatasetContext",
    "FileCheck",
    "FileContext",
    "FileInfo",
]
