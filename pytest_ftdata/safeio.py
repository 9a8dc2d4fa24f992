"""Opening files the plugin did not write: regular files only, never blocking, bounded.

Every file pytest-ftdata reads (data files, config files, schemas, tokenizers,
baselines) is opened here. A FIFO named `train.jsonl` would block `open()` forever,
and `/dev/zero` would feed a reader forever, so a path is opened non-blocking and
refused unless `fstat` says it is a regular file (checked on the open descriptor,
so a swap between the check and the read cannot slip through). Small files (configs,
schemas) are read whole only up to a size limit.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

#: Largest config, schema or tokenizer file read whole.
MAX_SMALL_FILE_BYTES = 64 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(OSError):
    """A path that cannot be read as a regular file, with a reason a user can act on."""

    def __init__(self, path: str | os.PathLike, reason: str, *, not_regular: bool = False) -> None:
        super().__init__(reason)
        self.path = str(path)
        self.reason = reason
        #: The path exists but is a directory, a FIFO, a device or a socket.
        self.not_regular = not_regular


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | os.PathLike) -> tuple[io.FileIO, os.stat_result]:
    """An unbuffered binary reader of `path` and its `fstat`; `UnreadableFile` otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be opened: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(path, f"is {kind_of(info.st_mode)}, not a regular file", not_regular=True)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return io.FileIO(fd, "r", closefd=True), info
    except BaseException:
        os.close(fd)
        raise


def read_small(path: str | os.PathLike, limit: int = MAX_SMALL_FILE_BYTES) -> bytes:
    """The bytes of a small regular file (a config or a schema), at most `limit` of them."""
    handle, info = open_regular(path)
    with handle:
        if info.st_size > limit:
            raise UnreadableFile(path, f"is {info.st_size:,} bytes, more than the {limit:,} bytes a config or schema may have")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(path, f"is more than the {limit:,} bytes a config or schema may have")
    return data


def is_regular_file(path: str | os.PathLike) -> bool:
    """`path` names a regular file (following symlinks), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def file_state(info: os.stat_result) -> tuple[int, int, int, int, int]:
    """What identifies one version of a file: size, modification and change times,
    inode and device. Any write changes the change time, which no user can set back."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def same_file_state(before: os.stat_result, path: Path) -> bool:
    """The file at `path` still has the size, times and identity it had in `before`."""
    try:
        after = os.stat(path)
    except OSError:
        return False
    return (before.st_size, before.st_mtime_ns, before.st_ctime_ns, before.st_ino, before.st_dev) == (
        after.st_size, after.st_mtime_ns, after.st_ctime_ns, after.st_ino, after.st_dev,
    )
