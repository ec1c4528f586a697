"""The repository sdd lands commits in: the only module that talks to git.

Every call goes through the git CLI (`repo.git`), which is faster than GitPython's index and
behaves exactly like the user's own git (hooks, ignore rules, identity). Any git failure leaves
this module as a GitStateError carrying git's own first meaningful line.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import git

from orchestrator.commitmsg import FEATURE, REVERT, TASK, parse_trailers
from orchestrator.errors import GitStateError

SDD_IDENTITY = ("sdd", "sdd@localhost")

# (marker under the git dir, what is in progress, how to get out of it)
_IN_PROGRESS = (
    ("rebase-merge", "a rebase", "git rebase --continue or git rebase --abort"),
    ("rebase-apply/applying", "a git am", "git am --continue or git am --abort"),
    ("rebase-apply", "a rebase", "git rebase --continue or git rebase --abort"),
    ("MERGE_HEAD", "a merge", "git commit or git merge --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue or --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue or git revert --abort"),
    ("BISECT_LOG", "a bisect", "git bisect reset"),
)
_US, _RS = "\x1f", "\x1e"
_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0"}  # a remote asking for a password fails, never hangs


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    subject: str
    message: str
    trailers: dict[str, str]
    files: list[str]
    author: str  # "Name <email>"
    date: str  # author date, strict ISO 8601


class GitRepo:
    """The work tree holding the spec-kit root; `root` is its top level."""

    def __init__(self, root: Path) -> None:
        try:
            self._repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitStateError(f"not a git repository: {root}") from None
        top = self._repo.working_tree_dir
        self.bare = top is None
        self.root = Path(top if top is not None else self._repo.git_dir).resolve()
        self._sdd_env: dict[str, str] | None = None

    # -- state checks ---------------------------------------------------------------------

    def check_writable(self) -> None:
        """Refuse any state where a commit could land somewhere surprising or mix with an
        operation the user has not finished."""
        if self.bare:
            raise GitStateError(f"the repository at {self.root} is bare: sdd needs a work tree")
        if self._run("rev-parse", "--verify", "-q", "HEAD", check=False)[0] != 0:
            raise GitStateError("the repository has no commits: make an initial commit first")
        markers = [m for m, _, _ in _IN_PROGRESS]
        paths = self._out("rev-parse", *[a for m in markers for a in ("--git-path", m)])
        for (_, what, fix), path in zip(_IN_PROGRESS, paths.splitlines(), strict=True):
            if (self.root / path).exists():
                raise GitStateError(f"{what} is in progress: finish it first ({fix})")
        if self.branch() is None:
            raise GitStateError(f"HEAD is detached at {self.head()[:10]}: check out a branch first")

    def branch(self) -> str | None:
        code, out, _ = self._run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return (out.strip() or None) if code == 0 else None

    def head(self) -> str:
        code, out, _ = self._run("rev-parse", "--verify", "-q", "HEAD", check=False)
        if code != 0:
            raise GitStateError("the repository has no commits: make an initial commit first")
        return out.strip()

    def dirty_files(self) -> list[str]:
        """Everything `git status` would show, untracked included, ignored files not."""
        out = self._out("status", "--porcelain", "-z", "--untracked-files=all")
        entries = iter(out.split("\0"))
        files: list[str] = []
        for entry in entries:
            if not entry:
                continue
            files.append(entry[3:])
            if entry[0] in "RC":  # a rename or copy is followed by its source path
                files.append(next(entries, ""))
        return sorted({f for f in files if f})

    def changed_files(self, base: str) -> list[str]:
        """Work tree against `base`, new untracked files included, ignored ones not."""
        tracked = self._out("diff", "--name-only", "--no-renames", "-z", base, "--")
        untracked = self._out("ls-files", "--others", "--exclude-standard", "-z")
        return sorted({p for p in (tracked + "\0" + untracked).split("\0") if p})

    def commits_since(self, base: str) -> list[str]:
        """Commits on HEAD that `base` lacks, oldest first."""
        return self._out("rev-list", "--reverse", f"{base}..HEAD").split()

    def is_ancestor(self, sha: str, rev: str = "HEAD") -> bool:
        if self._resolve(sha) is None:
            return False
        code, _, err = self._run("merge-base", "--is-ancestor", sha, rev, check=False)
        if code in (0, 1):
            return code == 0
        raise GitStateError(_first_line(err, f"git merge-base failed for {sha}"))

    def identity(self) -> str:
        """The repository's key in a shared store: its root commit along first parents, the
        same in every full clone (a merged-in unrelated history does not change it)."""
        if self._out("rev-parse", "--is-shallow-repository").strip() == "true":
            raise GitStateError(
                "this clone is shallow, so its first commit is unknown: "
                "run git fetch --unshallow (CI: fetch-depth 0) to use a shared store"
            )
        roots = self._out("rev-list", "--first-parent", "--max-parents=0", "HEAD").split()
        if not roots:
            raise GitStateError("the repository has no commits: make an initial commit first")
        return roots[0]

    # -- remotes -----------------------------------------------------------------------------

    def fetch(self, remote: str) -> None:
        self._out("fetch", "-q", remote, env=_NO_PROMPT)

    def push(self, remote: str, branch: str) -> None:
        """The branch to the same name on `remote`; git's own reason when it refuses."""
        self._out("push", "-q", remote, f"HEAD:refs/heads/{branch}", env=_NO_PROMPT)

    def on_remote(self, sha: str, remote: str, branch: str) -> bool:
        """Whether `remote`'s branch, as last fetched, contains `sha`."""
        tip = self._resolve(f"refs/remotes/{remote}/{branch}")
        return tip is not None and self.is_ancestor(sha, tip)

    # -- writing ---------------------------------------------------------------------------

    def exclude(self, pattern: str) -> None:
        """Ignore `pattern` locally (.git/info/exclude), leaving the user's .gitignore alone."""
        path = self.root / self._out("rev-parse", "--git-path", "info/exclude").strip()
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if pattern in (line.strip() for line in text.splitlines()):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        sep = "\n" if text and not text.endswith("\n") else ""
        path.write_text(f"{text}{sep}{pattern}\n", encoding="utf-8")

    def reset_to(self, base: str, *, keep: Sequence[str] = ()) -> None:
        """Back to `base` exactly; ignored files (.sdd/, .venv/) and `keep` (paths from the
        top) are never removed."""
        self._out("reset", "-q", "--hard", base)
        self._out("clean", "-fdq", *[a for p in keep for a in ("-e", f"/{p}")])

    def commit_all(self, message: str, *, hooks: bool = False, leave: Sequence[str] = ()) -> str:
        """Everything in the work tree but `leave` (paths from the top) as one commit; sdd's
        identity only when git has none."""
        self._out("add", "-A", "--", ":/", *[f":(top,exclude){p}" for p in leave])
        return self._commit(message, hooks=hooks, env=self._identity_env())

    def is_ignored(self, path: str) -> bool:
        """Whether git ignores `path` (from the top), as `git status` would."""
        return self._run("check-ignore", "-q", "--", path, check=False)[0] == 0

    def park(self, message: str, ref: str, base: str, *, hooks: bool = False) -> str:
        """Commit the work tree, keep the commit under `ref`, and put the branch back at `base`.

        An approval gate holds a verified task this way: the tree is clean while the run waits,
        and landing it later is a fast-forward to exactly what was verified.
        """
        sha = self.commit_all(message, hooks=hooks)
        self._out("update-ref", ref, sha)
        self.reset_to(base)
        return sha

    def stash_leftovers(self, message: str) -> str:
        """Put aside an interrupted attempt's changes (untracked files too), recoverable
        with `git stash pop`, so nothing is lost if some of them were the user's."""
        self._out("stash", "push", "--include-untracked", "-q", "-m", message)
        return self._out("rev-parse", "-q", "--verify", "refs/stash").strip()

    def fast_forward(self, sha: str) -> None:
        """Move the branch to `sha`, which must have the current HEAD as its parent."""
        parent = self._resolve(f"{sha}^")
        if parent != self.head():
            raise GitStateError(
                f"the branch moved since {sha[:10]} was verified; reject it to redo it on top"
            )
        self._out("merge", "-q", "--ff-only", sha)

    def apply_commit(self, sha: str) -> bool:
        """Bring `sha`'s change into the work tree (not committed); False, and the tree back at
        HEAD, when it no longer applies cleanly."""
        code, _, _ = self._run("cherry-pick", "--no-commit", sha, check=False)
        if code != 0:
            self._run("cherry-pick", "--abort", check=False)
            self.reset_to("HEAD")
        return code == 0

    # -- worktrees ---------------------------------------------------------------------------

    def clear_worktrees(self, under: Path) -> None:
        """Remove the worktrees a wave left under `under` (a kill -9 mid-wave) and git's
        records of them, so `git worktree list` shows only the user's own."""
        if not under.exists():
            return
        top = under.resolve()
        for path in self.worktrees():
            if path.resolve().is_relative_to(top):
                self.remove_worktree(path)
        shutil.rmtree(top, ignore_errors=True)
        self._run("worktree", "prune", check=False)

    def add_worktree(self, path: Path, sha: str) -> None:
        """A detached worktree at `sha`: no branch to leave behind if sdd is killed."""
        self._out("worktree", "add", "-q", "--detach", str(path), sha)

    def remove_worktree(self, path: Path) -> None:
        self._run("worktree", "remove", "--force", "--force", str(path), check=False)

    def worktrees(self) -> list[Path]:
        out = self._out("worktree", "list", "--porcelain", "-z")
        return [Path(e[len("worktree ") :]) for e in out.split("\0") if e.startswith("worktree ")]

    def drop_ref(self, ref: str) -> None:
        self._run("update-ref", "-d", ref, check=False)

    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names, or None (unknown, or history rewritten)."""
        return self._resolve(rev)

    def commit_user_changes(self, message: str, *, hooks: bool = False) -> str:
        """The user's uncommitted work as a commit of their own, under their identity."""
        if self._identity_env():
            raise GitStateError(
                "git has no user identity to commit your changes with: "
                "set it with git config user.name and git config user.email"
            )
        self._out("add", "-A")
        return self._commit(message, hooks=hooks, env={})

    def revert(self, sha: str, message: str) -> str:
        """Take back one commit as a new commit; on conflict leave the tree as it was."""
        code, _, err = self._run("revert", "--no-commit", sha, check=False)
        if code != 0:
            conflicts = self._out("diff", "--name-only", "--diff-filter=U", "-z").split("\0")
            self._abort_revert()
            named = ", ".join(p for p in conflicts if p)
            if named:
                raise GitStateError(
                    f"cannot revert {sha[:10]} cleanly: later commits changed {named}"
                )
            raise GitStateError(_first_line(err, f"cannot revert {sha[:10]}"))
        try:
            return self.commit_all(message)
        except GitStateError:
            self._abort_revert()
            raise

    # -- reading history ----------------------------------------------------------------------

    def task_commits(self, feature: str, rev: str = "HEAD") -> dict[str, str]:
        """Task id -> sha of its landing commit, newest first; a later Sdd-Revert unlands it."""
        fields = (
            f"%(trailers:key={key},valueonly,unfold,separator=%x2C)" for key in (TASK, REVERT)
        )
        fmt = "%H%x1f{}%x1f{}%x1f%(trailers:key={},valueonly,unfold,separator=%x2C)%x1e".format(
            *fields, FEATURE
        )
        out = self._out("log", f"--format={fmt}", "-i", "-F", f"--grep={FEATURE}", rev, "--")
        decided: set[str] = set()
        landed: dict[str, str] = {}
        for record in out.split(_RS):
            parts = record.strip().split(_US)
            if len(parts) != 4 or feature not in _values(parts[3]):
                continue
            sha, tasks, reverts = parts[0], _values(parts[1]), _values(parts[2])
            for task in reverts:
                decided.add(task)
            for task in tasks:
                if task not in decided:
                    decided.add(task)
                    landed[task] = sha
        return landed

    def commit_info(self, sha: str) -> CommitInfo | None:
        """The commit, or None when it is gone (history rewritten since it landed)."""
        full = self._resolve(sha)
        if full is None:
            return None
        out = self._out("show", "-s", "--format=%an <%ae>%x1f%aI%x1f%B", full)
        author, date, message = out.split(_US, 2)
        files = self._out("diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "--root", full)
        return CommitInfo(
            sha=full,
            subject=message.split("\n", 1)[0],
            message=message.rstrip(),
            trailers=parse_trailers(message),
            files=[f for f in files.split("\0") if f],
            author=author,
            date=date,
        )

    def diff(self, sha: str, *, stat: bool = False, color: bool = False) -> str:
        """`git show` of one commit: its header and patch, or its --stat."""
        if self._resolve(sha) is None:
            raise GitStateError(f"commit {sha[:10]} is not in this repository")
        mode = ["--stat"] if stat else ["--patch"]
        colour = "--color=always" if color else "--color=never"
        return self._out("show", "--no-ext-diff", colour, *mode, sha, "--")

    # -- plumbing ----------------------------------------------------------------------------

    def _commit(self, message: str, *, hooks: bool, env: Mapping[str, str]) -> str:
        args = ["commit", "-q", "--cleanup=whitespace", "-F", "-"]
        if not hooks:
            args.append("--no-verify")
        with tempfile.TemporaryFile() as stdin:
            stdin.write(message.encode("utf-8"))
            stdin.seek(0)
            code, out, err = self._run(*args, stdin=stdin, env=env, check=False)
        if code != 0:
            if "nothing to commit" in out and not err.strip():  # git says so on stdout
                raise GitStateError("nothing to commit: the work tree matches HEAD")
            raise GitStateError(_first_line(err or out, "git commit failed"))
        return self.head()

    def _identity_env(self) -> dict[str, str]:
        """sdd's own identity for each role git cannot name (CI runners have none)."""
        if self._sdd_env is None:
            name, email = SDD_IDENTITY
            env: dict[str, str] = {}
            for role in ("AUTHOR", "COMMITTER"):
                if self._run("var", f"GIT_{role}_IDENT", check=False)[0] != 0:
                    env |= {f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email}
            self._sdd_env = env
        return self._sdd_env

    def _abort_revert(self) -> None:
        if self._run("revert", "--abort", check=False)[0] != 0:
            self._out("reset", "-q", "--hard", "HEAD")
            self._run("revert", "--quit", check=False)

    def _resolve(self, rev: str) -> str | None:
        code, out, _ = self._run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        return out.strip() if code == 0 else None

    def _out(
        self, *args: str, stdin: IO[bytes] | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        return self._run(*args, stdin=stdin, env=env)[1]

    def _run(
        self,
        *args: str,
        check: bool = True,
        stdin: IO[bytes] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[int, str, str]:
        try:
            code, out, err = self._repo.git.execute(
                ["git", *args],
                istream=stdin,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                env=env,
            )
        except git.GitCommandNotFound:
            raise GitStateError("git is not installed or not on PATH") from None
        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out or "")
        if check and code != 0:
            raise GitStateError(_first_line(err or text, f"git {args[0]} failed"))
        return code, text, str(err or "")


def _values(field: str) -> list[str]:
    return [v.strip() for v in field.split(",") if v.strip()]


def _first_line(text: str, fallback: str) -> str:
    """git's own explanation: its `fatal:`/`error:` line if any, else its first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line[len(prefix) :]
    lines = [line for line in lines if not line.startswith(("hint:", "warning:"))]
    return lines[0] if lines else fallback
