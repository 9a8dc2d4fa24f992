"""The subgroup coverage model the report renderers share.

Every renderer (terminal, Markdown, HTML, JSON) reads the same data: the `summary()`
of each dataset's `::subgroups` item, which reached the controller on its test
report and sits in `RunReport.coverage`. Nothing here reads data files or config,
so a `-n 2` run renders exactly what a serial run does.

A *cell* is one subgroup in one split; a cell with a minimum is *required*, and the
coverage of a run is the share of required cells that are met. Extraction datasets
also carry a key table (`summary["keys"]`); `keys_rows` gives every writer its rows.
"""

from __future__ import annotations

from .model import Coverage, RunReport

__all__ = ["Coverage", "RunReport"]


def dataset_title(summary: dict) -> str:
    path = summary.get("dataset") or "."
    return "./" if path in ("", ".") else f"{path.rstrip('/')}/"


def dimension_title(dimension: dict) -> str:
    source = dimension["source"]
    return dimension["name"] if source == "built-in" else f"{dimension['name']} ({source})"


def dimension_note(dimension: dict) -> str:
    rows = len(dimension["rows"])
    text = f"{rows} subgroup{'s' if rows != 1 else ''}"
    if dimension["required"]:
        text += f", {dimension['met']} of {dimension['required']} required cells met"
    else:
        text += ", no minimum"
    if dimension.get("truncated"):
        text += ", too many values (the rest are counted as '(other values)')"
    return text


def single_subgroup_line(dimension: dict) -> str | None:
    """One line instead of a table for a dimension with one subgroup and no minimum
    (`format: all 61 examples are 'chat'`); None otherwise."""
    rows = dimension["rows"]
    if dimension["required"] or len(rows) != 1:
        return None
    row = rows[0]
    effective = row.get("effective_total")
    left = f" ({effective} once near-copies count once)" if effective is not None and effective < row["total"] else ""
    return f"{dimension_title(dimension)}: all {row['total']} examples{left} are {row['subgroup']!r}, no minimum"


def share_text(share: float) -> str:
    percent = share * 100
    if percent == 0:
        return "0%"
    if percent < 0.1:
        return "<0.1%"
    if percent >= 99.95 and share < 1:
        return ">99.9%"
    return f"{percent:.1f}%" if percent < 100 else "100%"


def minimum_text(row: dict, splits: list[str]) -> str:
    """The minimum of a row, per split in column order (`20/1/1`), or `-`."""
    minimums = row.get("minimum") or {}
    if not minimums:
        return "-"
    if len(splits) == 1:
        return str(minimums.get(splits[0], "-"))
    return "/".join(str(minimums[split]) if split in minimums else "-" for split in splits)


def status_text(row: dict) -> str:
    return row.get("status") or "-"


def is_short(row: dict) -> bool:
    return row.get("status") in ("LOW", "MISSING")


def count_text(count: int, effective: int | None) -> str:
    """A cell's count, with the examples left when near-copies count once in brackets
    when that is fewer: `1000 (37)`."""
    return str(count) if effective is None or effective >= count else f"{count} ({effective})"


def has_copies(summary: dict) -> bool:
    """Whether any cell of the dataset counts near-copies (so the tables show brackets)."""
    effective = summary.get("effective_examples")
    return effective is not None and any(effective[split] < summary["examples"][split] for split in effective)


EFFECTIVE_NOTE = "(n): the examples left when near-duplicates count once"


def table_rows(dimension: dict, splits: list[str], missing_only: bool = False) -> list[list]:
    """Body rows: subgroup, one count per split, total, share, minimum, status."""
    out = []
    for row in dimension["rows"]:
        if missing_only and not is_short(row):
            continue
        effective = row.get("effective") or {}
        out.append(
            [row["subgroup"], *(count_text(row["counts"].get(split, 0), effective.get(split)) for split in splits),
             count_text(row["total"], row.get("effective_total")), share_text(row["share"]),
             minimum_text(row, splits), status_text(row)]
        )
    return out


def total_row(summary: dict, dimension: dict) -> list:
    splits = summary["splits"]
    examples = summary["examples"]
    effective = summary.get("effective_examples") or {}
    met = f"{dimension['met']}/{dimension['required']} met" if dimension["required"] else "-"
    return [
        "TOTAL", *(count_text(examples.get(split, 0), effective.get(split)) for split in splits),
        count_text(sum(examples.values()), sum(effective.values()) if effective else None), "100%", "", met,
    ]


def headers(splits: list[str], compact: bool = False) -> list[str]:
    names = {"validation": "val"} if compact else {}
    return ["subgroup", *(names.get(split, split) for split in splits), "total", "share",
            "min" if compact else "minimum", "status"]


def histogram_labels(edges: list) -> list[str]:
    """Bin labels of a log2 length histogram: `0`, `1`, `2-3`, `1k-2k`, ..."""

    def short(value: int) -> str:
        if value >= 1 << 20:
            return f"{value >> 20}M"
        if value >= 1024:
            return f"{value >> 10}k"
        return str(value)

    labels = []
    for low, high in zip(edges, edges[1:]):
        if high is None:
            labels.append(f"{short(low)}+")
        elif high - low <= 1:
            labels.append(short(low))
        elif high >= 2048:
            labels.append(f"{short(low)}-{short(high)}")
        else:
            labels.append(f"{short(low)}-{short(high - 1)}")
    return labels


# -- the key table of extraction datasets (`summary["keys"]`) ----------------------------------

#: The key-table rows of the answers that are empty as a whole, and of those that are no JSON object.
EMPTY_ANSWER_ROW = "(empty answer)"
NOT_OBJECT_ROW = "(not a JSON object)"
KEYS_NOTE = "cells: % of the split's JSON answers with the key set / null or empty / absent"


def keys_title(keys: dict) -> str:
    rows = len(keys["rows"])
    text = f"keys of the JSON answers: {rows} top-level key{'s' if rows != 1 else ''}"
    if keys.get("truncated"):
        text += f", more than {keys['max_keys']} (the rest are not tracked)"
    return text


def _percent(count: int, total: int) -> str:
    """A compact percentage for a key-table cell: `0`, `<1`, `37`, `>99`, `100`."""
    if not count:
        return "0"
    share = 100 * count / total
    if share < 1:
        return "<1"
    if count < total and share > 99:
        return ">99"
    return f"{share:.0f}"


def presence_text(row: dict, split: str, objects: int) -> str:
    """`80/15/5`: the shares of a split's JSON answers with a value, null or empty, absent."""
    if not objects:
        return "-"
    return "/".join(_percent(row[state].get(split, 0), objects) for state in ("present", "empty", "absent"))


def keys_headers(splits: list[str]) -> list[str]:
    return ["key", *splits, "status"]


def keys_rows(summary: dict) -> list[list[str]]:
    """Body rows of the key table: one per key (an expected-empty key is marked `*`), then
    the answers that are empty as a whole and those that are not a JSON object."""
    keys = summary["keys"]
    splits = summary["splits"]
    objects = keys["objects"]
    out = []
    for row in keys["rows"]:
        name = f"{row['key']} *" if row.get("expected_empty") else row["key"]
        out.append([name, *(presence_text(row, split, objects.get(split, 0)) for split in splits),
                    row.get("status") or "-"])
    examples = summary["examples"]

    def counted(counts: dict) -> list[str]:
        return [f"{counts.get(split, 0)} ({share_text(counts.get(split, 0) / examples[split]) if examples.get(split) else '0%'})"
                for split in splits]

    out.append([EMPTY_ANSWER_ROW, *counted(keys["empty_answers"]), keys.get("empty_answer_status") or "-"])
    if any(keys["not_objects"].values()):
        out.append([NOT_OBJECT_ROW, *counted(keys["not_objects"]), "-"])
    return out


KEYS_LEGEND = "*: in expect_empty; (empty answer): {}, null or every key empty, count (share)"
