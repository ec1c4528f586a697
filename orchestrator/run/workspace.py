"""Where an agent works: the spec-kit root inside one git work tree (the repository's own,
or a wave's worktree), and what the agent changed there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.git.repo import GitRepo


@dataclass(frozen=True, slots=True)
class Workspace:
    """`shared` are links (paths from the work tree's top) to the repository's own ignored
    folders, such as `.venv` or `node_modules`, which a wave's worktree needs to verify:
    never reset away, never committed."""

    root: Path
    repo: GitRepo
    tasks_md: str  # tasks.md relative to `root`: sdd ticks it, the agent does not
    shared: tuple[str, ...] = ()

    def reset(self, sha: str) -> None:
        self.repo.reset_to(sha, keep=self.shared)

    def commit(self, message: str, *, hooks: bool = False) -> str:
        return self.repo.commit_all(message, hooks=hooks, leave=self.shared)

    def restore(self, base: str, paths: list[str]) -> None:
        """`paths` (from the workspace root) back as they are at `base`."""
        self.repo.restore_paths(base, [self.top(p) for p in paths])

    def top(self, path: str) -> str:
        """A workspace path as git names it, from the work tree's top."""
        prefix = self.root.resolve().relative_to(self.repo.root.resolve()).as_posix()
        return path if prefix in ("", ".") else f"{prefix}/{path}"

    def changed(self, base: str) -> list[str]:
        """The task's changed paths against `base`, relative to the workspace root; tasks.md
        and the shared links left out."""
        paths = self.rel([p for p in self.repo.changed_files(base) if p not in self.shared])
        return [p for p in paths if p != self.tasks_md]

    def existed(self, base: str, paths: list[str]) -> set[str]:
        """Which of `paths` (from the workspace root) are files of the commit `base`."""
        prefix = self.root.resolve().relative_to(self.repo.root.resolve()).as_posix()
        top = [p if prefix in ("", ".") else f"{prefix}/{p}" for p in paths]
        return set(self.rel(sorted(self.repo.tracked_at(base, top))))

    def rel(self, paths: list[str]) -> list[str]:
        """git paths are relative to the work tree top; the workspace is the spec-kit root."""
        prefix = self.root.resolve().relative_to(self.repo.root.resolve()).as_posix()
        if prefix in ("", "."):
            return paths
        return [p[len(prefix) + 1 :] for p in paths if p.startswith(prefix + "/")]

    @property
    def tasks_path(self) -> Path:
        return self.root / self.tasks_md
