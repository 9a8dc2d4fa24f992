"""Reading a few examples of a dataset again, to quote them.

Dataset families keep compact state (hashes, counts) and find their clusters and
suspects at the end; the handful of examples a message quotes are read back from
their files here, so what a person sees is made from the decoded example and
redacted whole before it is cut (`redact.display`), never from a cut piece of text
kept along the way.
"""

from __future__ import annotations

from ..config import FtdataConfig
from ..formats import Example, detect_format, make_example
from ..readers import fetch_records
from .base import FileInfo


def read_again(info: FileInfo, lines, config: FtdataConfig) -> dict[int, Example]:
    """The examples at `lines` of the file `info`; a line that cannot be read any more
    (the file changed during the run) is missing from the result."""
    records = fetch_records(info.abspath, lines, info.line_index, max_line_bytes=config.max_line_bytes)
    out: dict[int, Example] = {}
    for line, record in records.items():
        fmt = detect_format(record) or config.format
        if fmt is not None:
            out[line] = make_example(info.path, line, record, fmt)
    return out
