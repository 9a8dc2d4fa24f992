"""The versions summary as every writer shows it: per split, what changed since the lock.

Like `git diff --stat`: one row per split with the examples now, in the lock, and how
many were added, removed, changed (same input, other target, label or provenance),
moved in and moved out. Pure functions of a `versions` summary dict.
"""

from __future__ import annotations

HEADERS = ["split", "examples", "in lock", "added", "removed", "changed", "moved in", "moved out"]
STATUS = {
    "compared": "changes since the lock",
    "written": "lock written; changes it records since the previous lock",
    "unreadable": "the lock cannot be read (VER007)",
    "unwritten": "the lock could not be written (the error above says why)",
    "incomparable": "content keys changed with ignore_punctuation: not compared",
}


def versions_title(summary: dict) -> str:
    status = summary.get("status", "compared")
    if status == "written" and not summary.get("had_lock"):
        return f"{summary.get('lock')}: lock written (no previous lock)"
    return f"{summary.get('lock')}: {STATUS.get(status, status)}"


def versions_rows(summary: dict) -> list[list]:
    rows = []
    for row in summary.get("splits", []):
        locked = row.get("locked")
        rows.append([
            row["split"], row.get("examples", 0), "-" if locked is None else locked,
            f"+{row.get('added', 0)}", f"-{row.get('removed', 0)}", f"~{row.get('changed', 0)}",
            row.get("moved_in", 0), row.get("moved_out", 0),
        ])
    return rows


def versions_line(summary: dict) -> str:
    """One line: `train +3 -0 ~1 moved 2 in 0 out; test ...`."""
    parts = []
    for row in summary.get("splits", []):
        parts.append(
            f"{row['split']} +{row.get('added', 0)} -{row.get('removed', 0)} ~{row.get('changed', 0)}"
            f" moved {row.get('moved_in', 0)} in {row.get('moved_out', 0)} out"
        )
    return "; ".join(parts)
