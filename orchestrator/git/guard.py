"""Git's machinery that an agent must leave alone, and undoing what it changed anyway.

An agent's Bash (or code its tests run) can write `.git/config` (an fsmonitor command or a
hooks path that would run its code inside sdd's own git), plant a hook, or commit and move the
branch. `Machinery` is a snapshot of the repository's config, hooks and info files, taken when
a run opens and compared after every attempt; `Position` is where HEAD and its branch stand in
one work tree. Whatever differs is put back exactly, and the attempt fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from orchestrator.git.repo import GitRepo

_FILES = ("config", "config.worktree")  # under the common git dir
_DIRS = ("hooks", "info")  # every file below them


def _read(path: Path) -> tuple[int, bytes] | None:
    """(mode, bytes) of a regular file, (0, target) of a symlink, None for anything else."""
    try:
        if path.is_symlink():
            return (0, os.readlink(path).encode())
        if path.is_file():
            return (path.stat().st_mode & 0o7777, path.read_bytes())
    except OSError:
        pass
    return None


class Machinery:
    """The repository's config, hooks and info files as they were when captured."""

    def __init__(self, git_dir: Path, files: dict[str, tuple[int, bytes]]) -> None:
        self.git_dir, self.files = git_dir, files
        self._lock = threading.Lock()  # the tasks of a wave share one repository

    @classmethod
    def capture(cls, repo: GitRepo) -> Machinery:
        common = repo.root / repo.git.out("rev-parse", "--git-common-dir").strip()
        git_dir = common.resolve()
        return cls(git_dir, _scan(git_dir))

    def changes(self) -> list[str]:
        """The watched files added, removed or changed since the capture (`.git/...` names)."""
        now = _scan(self.git_dir)
        names = sorted(set(now) | set(self.files))
        return [f".git/{n}" for n in names if now.get(n) != self.files.get(n)]

    def restore(self) -> list[str]:
        """Put every watched file back as captured; the names of those that differed."""
        with self._lock:
            changed = self.changes()
            now = _scan(self.git_dir)
            for name in sorted(set(now) - set(self.files), reverse=True):
                path = self.git_dir / name
                with contextlib.suppress(OSError):
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
            for name, (mode, data) in self.files.items():
                if now.get(name) == (mode, data):
                    continue
                path = self.git_dir / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    path.unlink()
                path.parent.mkdir(parents=True, exist_ok=True)
                if mode == 0:
                    path.symlink_to(data.decode())
                else:
                    path.write_bytes(data)
                    path.chmod(mode)
            return changed


def _scan(git_dir: Path) -> dict[str, tuple[int, bytes]]:
    found: dict[str, tuple[int, bytes]] = {}
    for name in _FILES:
        entry = _read(git_dir / name)
        if entry is not None:
            found[name] = entry
    for folder in _DIRS:
        top = git_dir / folder
        if top.is_symlink():
            found[folder] = (0, os.readlink(top).encode())
            continue
        for dirpath, dirs, files in os.walk(top):
            for name in [*files, *(d for d in dirs if (Path(dirpath) / d).is_symlink())]:
                path = Path(dirpath) / name
                entry = _read(path)
                if entry is not None:
                    found[path.relative_to(git_dir).as_posix()] = entry
    return found


@dataclass(frozen=True, slots=True)
class Position:
    """Where HEAD stands in one work tree: its commit and its branch (None when detached)."""

    head: str
    branch: str | None

    @classmethod
    def of(cls, repo: GitRepo) -> Position:
        """One git call: HEAD's commit, then its full ref name ("HEAD" when detached)."""
        head, ref = repo.git.out("rev-parse", "HEAD", "--symbolic-full-name", "HEAD").split()
        return cls(head, ref.removeprefix("refs/heads/") if ref != "HEAD" else None)

    def moved(self, repo: GitRepo) -> str:
        """How HEAD or the branch moved since, in words; '' when they did not."""
        now = Position.of(repo)
        branch, head = now.branch, now.head
        if branch != self.branch:
            return f"HEAD was moved to {branch or 'a detached commit'}"
        if head != self.head:
            count = repo.git.out("rev-list", "--count", f"{self.head}..{head}").strip()
            return f"{count or 'some'} commit(s) were made or HEAD was moved to {head[:10]}"
        return ""

    def restore(self, repo: GitRepo) -> None:
        """HEAD and the branch back where they were; the work tree keeps every change, so what
        was committed is now an uncommitted change against this commit."""
        if self.branch is None:
            repo.git.out("update-ref", "--no-deref", "HEAD", self.head)
        else:
            ref = f"refs/heads/{self.branch}"
            if repo.branch() != self.branch:
                repo.git.out("symbolic-ref", "HEAD", ref)
            if repo.resolve(ref) != self.head:
                repo.git.out("update-ref", ref, self.head)
        repo.git.out("reset", "-q", self.head)
