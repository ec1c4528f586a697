"""Where an agent works: the spec-kit root inside one git work tree, and what the agent changed
there. The work tree is the repository's own (`main_workspace`) or a detached worktree linked
to its ignored folders (`linked_worktree`), where a wave's task works or a phase check verifies
an older commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.git.repo import GitRepo

if TYPE_CHECKING:
    from orchestrator.run.context import RunContext


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


def main_workspace(ctx: RunContext) -> Workspace:
    tasks_md = ctx.plan.docs.tasks_path.relative_to(ctx.root).as_posix()
    return Workspace(ctx.root, ctx.repo, tasks_md)


def linked_worktree(ctx: RunContext, path: Path, base: str, *, reuse: bool = False) -> Workspace:
    """A detached worktree at `base`, linked to the ignored folders verification needs;
    `reuse` takes the one already at `path`."""
    if not reuse:
        ctx.repo.add_worktree(path, base)
    prefix = ctx.root.resolve().relative_to(ctx.repo.root.resolve())
    root = path / prefix
    shared: list[str] = []
    for name in ctx.plan.config.worktree_links:
        top = (prefix / name).as_posix()
        source = ctx.root / name
        if reuse and (root / name).is_symlink():
            shared.append(top)
        elif source.exists() and not (root / name).exists() and ctx.repo.is_ignored(top):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).symlink_to(source.resolve(), target_is_directory=source.is_dir())
            shared.append(top)
    tasks_md = ctx.plan.docs.tasks_path.relative_to(ctx.root).as_posix()
    return Workspace(root, GitRepo(path), tasks_md, tuple(shared))
