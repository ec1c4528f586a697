"""One sdd run per working tree, whatever the feature: runs of two features would share the
tree and HEAD, and one's reset would wipe the other's work. A file lock under `.sdd/locks/`
that the kernel lets go of when the process dies, however it dies."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from typing import IO

from orchestrator import paths
from orchestrator.errors import SddError

PATIENCE = (0.02, 0.05, 0.1)  # seconds between tries: a probe lets go at once, a run never


def take_lock(root: Path, feature: str) -> IO[str]:
    """The working tree's lock, held until the returned file is closed; refused with what
    holds it when another sdd has it."""
    path = paths.lock_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    for wait in (*PATIENCE, None):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if wait is not None:  # `held_by` (sdd status) may hold it for an instant
                time.sleep(wait)
                continue
            handle.seek(0)
            holder = handle.read().strip() or "another feature"
            handle.close()
            raise _busy(holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{feature} (pid {os.getpid()} on {socket.gethostname()})")
    handle.flush()
    return handle


def check_free(root: Path) -> None:
    """Refuse, writing nothing, when another sdd holds the working tree's lock."""
    holder = held_by(root)
    if holder is not None:
        raise _busy(holder or "another feature")


def held_by(root: Path) -> str | None:
    """What holds the working tree's lock ("001-calc (pid 42 on host)"), or None when no
    live process does: the kernel lets go of it however its holder died."""
    try:
        handle = paths.lock_file(root).open("r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip()
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _busy(holder: str) -> SddError:
    return SddError(f"another sdd run is driving {holder} in this working tree; wait for it")
