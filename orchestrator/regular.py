"""Reading a regular file without being trapped by one that is not.

A FIFO blocks the reader forever, `/dev/zero` never ends and a socket cannot be opened: each
is refused before a byte is read (also behind a symlink), and a file past the limit is refused
without reading it all. Callers turn `NotRegular` into their own kind of error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegular(Exception):
    """`kind` is "special" (device, FIFO, socket), "directory" or "too-large" (with `size`,
    -1 when it grew past the limit while being read)."""

    def __init__(self, kind: str, size: int = 0) -> None:
        super().__init__(kind)
        self.kind, self.size = kind, size


def read_regular(path: Path, limit: int) -> bytes:
    """The file's bytes, at most `limit`. OSError (missing, unreadable) passes through."""
    mode = os.stat(path).st_mode  # a socket cannot even be opened
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise NotRegular("special")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    info = os.fstat(fd)  # what was opened, which a rename may have changed since the stat
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotRegular("directory" if stat.S_ISDIR(info.st_mode) else "special")
    with os.fdopen(fd, "rb") as f:
        if info.st_size > limit:
            raise NotRegular("too-large", info.st_size)
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NotRegular("too-large", -1)
    return data
