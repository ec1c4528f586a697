"""Running git in one repository: the plumbing under `GitRepo` and the history readers.

Every call goes through the git CLI (GitPython's `execute`), which is faster than GitPython's
index and behaves exactly like the user's own git (ignore rules, identity). Any failure leaves
as a GitStateError carrying git's own first meaningful line.

Every call is hardened: an agent works in the same repository, and git settings it could write
(hooks, an fsmonitor command, the system config) must never make sdd's own git run its code.
Hooks run only for a commit that asks for them (`commit_hooks: true`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from orchestrator.errors import GitStateError

if TYPE_CHECKING:
    import git

NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0"}  # a remote asking for a password fails, never hangs
# Settings that run a program, overridden on every command line (which beats every config file).
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
HARDENED = ("-c", "core.fsmonitor=false")
# The system config is not the repository's or the user's own; nothing of sdd's needs it.
HARDENED_ENV = {"GIT_CONFIG_NOSYSTEM": "1"}


def git_argv(args: Sequence[str], *, hooks: bool = False) -> list[str]:
    """`git` with sdd's hardening, then `args`; `hooks` lets the repository's hooks run."""
    return ["git", *HARDENED, *(() if hooks else NO_HOOKS), *args]


class Git:
    """git commands in the repository holding `root` (found by walking up)."""

    def __init__(self, root: Path) -> None:
        import git  # GitPython, when a repository is opened: `sdd plan` never needs it

        self._not_found: type[Exception] = git.GitCommandNotFound
        try:
            self._repo: git.Repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitStateError(f"not a git repository: {root}") from None
        top = self._repo.working_tree_dir
        self.bare = top is None
        self.root = Path(top if top is not None else self._repo.git_dir).resolve()

    def out(
        self, *args: str, stdin: BinaryIO | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        return self.run(*args, stdin=stdin, env=env)[1]

    def run(
        self,
        *args: str,
        check: bool = True,
        stdin: BinaryIO | None = None,
        env: Mapping[str, str] | None = None,
        hooks: bool = False,
    ) -> tuple[int, str, str]:
        """(exit code, stdout, stderr); a failure raises unless `check` is false. `env` is
        added to sdd's environment; `hooks` lets the repository's git hooks run."""
        try:
            result: Any = self._repo.git.execute(
                git_argv(args, hooks=hooks),
                istream=stdin,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                env={**HARDENED_ENV, **(env or {})},
            )
        except self._not_found:
            raise GitStateError("git is not installed or not on PATH") from None
        code, out, err = result  # with_extended_output: (status, stdout bytes, stderr text)
        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out or "")
        if check and code != 0:
            raise GitStateError(first_line(str(err or "") or text, f"git {args[0]} failed"))
        return int(code), text, str(err or "")

    def blob(self, spec: str) -> bytes | None:
        """The exact bytes of the file `spec` names (`REV:PATH` from the top, or a blob id);
        None when there is none."""
        try:
            result: Any = self._repo.git.execute(
                git_argv(["cat-file", "blob", spec]),
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                env=HARDENED_ENV,
            )
        except self._not_found:
            raise GitStateError("git is not installed or not on PATH") from None
        code, out, _ = result
        return bytes(out) if code == 0 and isinstance(out, bytes) else None

    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names, or None (unknown, or history rewritten)."""
        code, out, _ = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        return out.strip() if code == 0 else None


def first_line(text: str, fallback: str) -> str:
    """git's own explanation: its `fatal:`/`error:` line if any, else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    lines = [line for line in lines if not line.startswith(("hint:", "warning:"))]
    return lines[0] if lines else fallback


def current_branch(root: Path) -> str | None:
    """The checked-out branch (also on a branch with no commits yet); None when detached or
    not in a repository. For naming a feature after its branch, as spec-kit does."""
    try:
        done = subprocess.run(
            git_argv(["symbolic-ref", "--quiet", "--short", "HEAD"]),
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **HARDENED_ENV},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def init_repo(path: Path, name: str, email: str, message: str) -> None:
    """A new repository at `path` on branch main, with everything in it as one commit."""
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.name", name),
        ("config", "user.email", email),
        ("add", "-A"),
        ("commit", "-q", "-m", message),
    ):
        done = subprocess.run(
            git_argv(args),
            cwd=path,
            capture_output=True,
            text=True,
            env={**os.environ, **HARDENED_ENV},
        )
        if done.returncode != 0:
            raise GitStateError(first_line(done.stderr, f"git {args[0]} failed in {path}"))
