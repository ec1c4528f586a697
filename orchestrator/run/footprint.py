"""What an attempt in the repository's own work tree has changed so far, kept under `.sdd/` so
that after a crash its leftovers are told apart from the user's edits by record, not guessed.

After every tool call that can write, and around verification, the attempt's dirty files and
their digests are written down. A call still running when sdd died is marked "in flight" with
its start time and a heartbeat (the record's mtime, touched every second): a file changed in
that window may be the call's work. On the next start, a dirty file is the attempt's own when
it matches the record, or changed in the in-flight window; everything else is the user's, and
the run refuses to start instead of absorbing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.git.history import moved_past
from orchestrator.git.repo import GitRepo

_BEAT = 1.0  # seconds between heartbeats of an in-flight call
_SLACK = 2.0  # seconds of clock and write-back slack around the in-flight window


def digest(path: Path) -> str:
    """The content of a file (or a symlink's target); '-' when it does not exist."""
    try:
        if path.is_symlink():
            return "link:" + os.readlink(path)
        if not path.is_file():
            return "-"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


class Footprint:
    """The record of one task's attempt in the work tree of `repo`, at `path`."""

    def __init__(self, path: Path, repo: GitRepo, task_id: str, base: str) -> None:
        self.path, self.repo, self.task_id, self.base = path, repo, task_id, base
        self._files: dict[str, str] = {}
        self._since: float | None = None

    def record(self) -> None:
        """Write down the dirty files as they are now; atomically, so a kill leaves the last
        record or this one (a kill, not a power loss: there is no fsync)."""
        self._files = {p: digest(self.repo.root / p) for p in self.repo.dirty_files()}
        self._write()

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        """Around a call that may write: its window is on record while it runs."""
        self._since = time.time()
        self._write()
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(stop,), daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()
            self._since = None
            self.record()

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(_BEAT):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def _write(self) -> None:
        data: dict[str, object] = {"task": self.task_id, "base": self.base, "files": self._files}
        if self._since is not None:
            data["in_flight_since"] = self._since
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass(frozen=True, slots=True)
class Leftovers:
    """A dirty work tree after a crash: whose attempt it was, and which files are its own."""

    task_id: str | None
    own: list[str]
    foreign: list[str]


def leftovers(path: Path, repo: GitRepo, head: str, dirty: list[str]) -> Leftovers:
    """Split `dirty` (paths from the top) into the interrupted attempt's own and the rest."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        task, base, files = str(data["task"]), str(data["base"]), dict(data["files"])
        since = data.get("in_flight_since")
        beat = path.stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        return Leftovers(None, [], list(dirty))
    if base != head and not moved_past(repo, base, dirty, head):  # else: your commits since
        return Leftovers(None, [], list(dirty))  # (a raised budget) left the attempt's alone
    own, foreign = [], []
    for rel in dirty:
        target = repo.root / rel
        if files.get(rel) == digest(target) or (
            isinstance(since, int | float) and _changed_within(target, since, beat)
        ):
            own.append(rel)
        else:
            foreign.append(rel)
    return Leftovers(task, own, foreign)


def _changed_within(path: Path, since: float, beat: float) -> bool:
    """Whether `path` changed while the in-flight call could have changed it (a file that is
    gone has no time: the call may have removed it)."""
    try:
        mtime = path.lstat().st_mtime
    except OSError:
        return True
    return since - _SLACK <= mtime <= beat + _BEAT + _SLACK
