"""What an attempt may not leave behind, checked after the agent's turns and again after
verification (which runs the agent's code): a change to git's machinery (config, hooks), HEAD
or the branch moved (only sdd commits), and a change to sdd's own rules and agents that the
task does not name. Each is undone, and the attempt fails with the reason fed back.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable

from orchestrator.git.guard import Machinery, Position
from orchestrator.run.workspace import Workspace

# sdd's rules and agents for the next run (paths from the spec-kit root); `.git*` files anywhere.
RULES = (
    ".specify/sdd.yaml",
    ".specify/memory/constitution.md",
    "agents/*",
    ".claude/agents/*",
    ".claude/settings*.json",
)


def is_rules_file(path: str) -> bool:
    """Whether `path` (from the spec-kit root) is one of sdd's rules or a `.git*` file."""
    if posixpath.basename(path).startswith(".git"):
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in RULES)


def refused_paths(changed: Iterable[str], named: Iterable[str]) -> list[str]:
    """The rules files among `changed` that the task does not name."""
    allowed = {posixpath.normpath(p) for p in named}
    return sorted(p for p in changed if is_rules_file(p) and posixpath.normpath(p) not in allowed)


class AttemptGuard:
    """The state an attempt starts from in one workspace, and putting it back."""

    def __init__(
        self, ws: Workspace, base: str, machinery: Machinery | None, named: Iterable[str]
    ) -> None:
        self.ws, self.base, self.machinery = ws, base, machinery
        self.named = tuple(named)
        self.position = Position.of(ws.repo)

    def check(self) -> tuple[str, list[str], list[str]]:
        """Undo every breach; (what was undone, as feedback for the agent, or ''; the names
        of what the agent had changed there; the workspace's changes after that)."""
        problems: list[str] = []
        touched: list[str] = []
        moved = self.position.moved(self.ws.repo)
        if moved:
            self.position.restore(self.ws.repo)
            problems.append(
                f"{moved}. Only sdd commits or moves HEAD: the branch is back at "
                f"{self.base[:10]}, and what you committed is kept as uncommitted changes"
            )
            touched.append("HEAD")
        undone = self.machinery.restore() if self.machinery else []
        if undone:
            problems.append(
                f"You changed git's own files ({', '.join(undone)}); they are put back. "
                "Git's config and hooks are not yours to change"
            )
            touched += undone
        changed = self.ws.changed(self.base)
        refused = refused_paths(changed, self.named)
        if refused:
            self.ws.restore(self.base, refused)
            changed = [p for p in changed if p not in refused]
            problems.append(
                f"Your changes to {', '.join(refused)} are undone: sdd's rules, agents and "
                ".git* files change only when the task names them"
            )
            touched += refused
        return ". ".join(problems) + ("." if problems else ""), touched, changed

    def undo(self) -> None:
        """HEAD, the branch and git's files back as they were, before the tree is reset."""
        if self.position.moved(self.ws.repo):
            self.position.restore(self.ws.repo)
        if self.machinery:
            self.machinery.restore()
