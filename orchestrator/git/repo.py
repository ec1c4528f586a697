"""The repository sdd lands commits in: state checks, commits, resets, worktrees and remotes.

Reading history (which task landed as which commit) is `history.py`; both run git through
`runner.Git`, so this package is the only code that runs git.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from orchestrator.errors import GitStateError
from orchestrator.git.runner import NO_PROMPT, Git, first_line

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


class GitRepo:
    """The work tree holding the spec-kit root; `root` is its top level."""

    def __init__(self, root: Path) -> None:
        self.git = Git(root)
        self.root, self.bare = self.git.root, self.git.bare
        self._sdd_env: dict[str, str] | None = None

    # -- state -----------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Refuse any state where a commit could land somewhere surprising or mix with an
        operation the user has not finished."""
        if self.bare:
            raise GitStateError(f"the repository at {self.root} is bare: sdd needs a work tree")
        if self.git.run("rev-parse", "--verify", "-q", "HEAD", check=False)[0] != 0:
            raise GitStateError("the repository has no commits: make an initial commit first")
        markers = [m for m, _, _ in _IN_PROGRESS]
        paths = self.git.out("rev-parse", *[a for m in markers for a in ("--git-path", m)])
        for (_, what, fix), path in zip(_IN_PROGRESS, paths.splitlines(), strict=True):
            if (self.root / path).exists():
                raise GitStateError(f"{what} is in progress: finish it first ({fix})")
        if self.branch() is None:
            raise GitStateError(f"HEAD is detached at {self.head()[:10]}: check out a branch first")
        lock = self.root / self.git.out("rev-parse", "--git-path", "index.lock").strip()
        if lock.exists():
            raise GitStateError(
                f"{lock} exists: another git command is running, or one crashed; "
                "if no git is running, remove that file"
            )

    def branch(self) -> str | None:
        code, out, _ = self.git.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return (out.strip() or None) if code == 0 else None

    def head(self) -> str:
        code, out, _ = self.git.run("rev-parse", "--verify", "-q", "HEAD", check=False)
        if code != 0:
            raise GitStateError("the repository has no commits: make an initial commit first")
        return out.strip()

    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names, or None (unknown, or history rewritten)."""
        return self.git.resolve(rev)

    def dirty_files(self) -> list[str]:
        """Everything `git status` would show, untracked included, ignored files not. Without
        git's optional index lock: a kill -9 meanwhile must not leave `index.lock` behind."""
        out = self.git.out(
            "status", "--porcelain", "-z", "--untracked-files=all", env={"GIT_OPTIONAL_LOCKS": "0"}
        )
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
        tracked = self.git.out("diff", "--name-only", "--no-renames", "-z", base, "--")
        untracked = self.git.out("ls-files", "--others", "--exclude-standard", "-z")
        return sorted({p for p in (tracked + "\0" + untracked).split("\0") if p})

    def diff_text(self, base: str) -> str:
        """The work tree against `base` as a patch, new untracked files included."""
        text = self.git.out("diff", "--no-color", "--no-ext-diff", base, "--")
        untracked = self.git.out("ls-files", "--others", "--exclude-standard", "-z")
        for path in (p for p in untracked.split("\0") if p):
            _, out, _ = self.git.run(
                "diff", "--no-color", "--no-ext-diff", "--no-index", "--", "/dev/null", path,
                check=False,
            )  # fmt: skip
            text += out
        return text

    def tracked_at(self, rev: str, paths: Sequence[str]) -> set[str]:
        """Which of `paths` (from the top) are files of the commit `rev`."""
        out = self.git.out("ls-tree", "-r", "--name-only", "-z", "--full-tree", rev, "--", *paths)
        return {p for p in out.split("\0") if p} & set(paths)

    def is_ignored(self, path: str) -> bool:
        """Whether git ignores `path` (from the top), as `git status` would."""
        return self.git.run("check-ignore", "-q", "--", path, check=False)[0] == 0

    def identity(self) -> str:
        """The repository's key in a shared store: its root commit along first parents, the
        same in every full clone (a merged-in unrelated history does not change it)."""
        if self.git.out("rev-parse", "--is-shallow-repository").strip() == "true":
            raise GitStateError(
                "this clone is shallow, so its first commit is unknown: "
                "run git fetch --unshallow (CI: fetch-depth 0) to use a shared store"
            )
        roots = self.git.out("rev-list", "--first-parent", "--max-parents=0", "HEAD").split()
        if not roots:
            raise GitStateError("the repository has no commits: make an initial commit first")
        return roots[0]

    # -- remotes -----------------------------------------------------------------------------

    def fetch(self, remote: str) -> None:
        self.git.out("fetch", "-q", remote, env=NO_PROMPT)

    def push(self, remote: str, branch: str, *, hooks: bool = False) -> None:
        """The branch to the same name on `remote`; git's own reason when it refuses. `hooks`
        lets the repository's pre-push hook run."""
        self.git.run("push", "-q", remote, f"HEAD:refs/heads/{branch}", env=NO_PROMPT, hooks=hooks)

    # -- writing ---------------------------------------------------------------------------

    def excludes(self, pattern: str) -> bool:
        """Whether .git/info/exclude already has `pattern` (read only)."""
        path = self._exclude_file()
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return pattern in (line.strip() for line in text.splitlines())

    def exclude(self, pattern: str) -> None:
        """Ignore `pattern` locally (.git/info/exclude), leaving the user's .gitignore alone."""
        if self.excludes(pattern):
            return
        path = self._exclude_file()
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        path.parent.mkdir(parents=True, exist_ok=True)
        sep = "\n" if text and not text.endswith("\n") else ""
        path.write_text(f"{text}{sep}{pattern}\n", encoding="utf-8")

    def _exclude_file(self) -> Path:
        return self.root / self.git.out("rev-parse", "--git-path", "info/exclude").strip()

    def reset_to(self, base: str, *, keep: Sequence[str] = ()) -> None:
        """Back to `base` exactly; ignored files (.sdd/, .venv/) and `keep` (paths from the
        top) are never removed."""
        self.git.out("reset", "-q", "--hard", base)
        self.git.out("clean", "-fdq", *[a for p in keep for a in ("-e", f"/{p}")])

    def uncommit(self, base: str) -> None:
        """HEAD back to `base`, what the commits since held kept as uncommitted changes."""
        self.git.out("reset", "-q", base)

    def restore_paths(self, base: str, paths: Sequence[str]) -> None:
        """`paths` (from the top) back as they are at `base`: checked out, or removed when
        `base` lacks them; the index follows."""
        if not paths:
            return
        listed = self.git.out("ls-tree", "-r", "--name-only", "-z", base, "--", *paths)
        tracked = {p for p in listed.split("\0") if p}
        if tracked:
            self.git.out("checkout", "-q", base, "--", *sorted(tracked))
        for path in paths:
            if path not in tracked:
                self.git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", path, check=False)
                target = self.root / path
                if target.is_file() or target.is_symlink():
                    target.unlink()

    def commit_all(self, message: str, *, hooks: bool = False, leave: Sequence[str] = ()) -> str:
        """Everything in the work tree but `leave` (paths from the top) as one commit; sdd's
        identity only when git has none."""
        self.git.out("add", "-A", "--", ":/", *[f":(top,exclude){p}" for p in leave])
        return self._commit(message, hooks=hooks, env=self._identity_env())

    def park(self, message: str, ref: str, base: str, *, hooks: bool = False) -> str:
        """Commit the work tree, keep the commit under `ref`, and put the branch back at `base`.

        An approval gate holds a verified task this way: the tree is clean while the run waits,
        and landing it later is a fast-forward to exactly what was verified.
        """
        sha = self.commit_all(message, hooks=hooks)
        self.git.out("update-ref", ref, sha)
        self.reset_to(base)
        return sha

    def drop_ref(self, ref: str) -> None:
        self.git.run("update-ref", "-d", ref, check=False)

    def fast_forward(self, sha: str) -> None:
        """Move the branch to `sha`, which must have the current HEAD as its parent."""
        if self.resolve(f"{sha}^") != self.head():
            raise GitStateError(
                f"the branch moved since {sha[:10]} was verified; reject it to redo it on top"
            )
        self.git.out("merge", "-q", "--ff-only", sha)

    def apply_commit(self, sha: str) -> bool:
        """Bring `sha`'s change into the work tree (not committed); False, and the tree back at
        HEAD, when it no longer applies cleanly."""
        code, _, _ = self.git.run("cherry-pick", "--no-commit", sha, check=False)
        if code != 0:
            self.git.run("cherry-pick", "--abort", check=False)
            self.reset_to("HEAD")
        return code == 0

    def commit_user_changes(self, message: str, *, hooks: bool = False) -> str:
        """The user's uncommitted work as a commit of their own, under their identity."""
        if self._identity_env():
            raise GitStateError(
                "git has no user identity to commit your changes with: "
                "set it with git config user.name and git config user.email"
            )
        self.git.out("add", "-A")
        return self._commit(message, hooks=hooks, env={})

    def revert(
        self,
        sha: str,
        message: str,
        *,
        rewrite: tuple[str, Callable[[Path], None]] | None = None,
        hooks: bool = False,
    ) -> str:
        """Take back one commit as a new commit; on conflict leave the tree as it was.

        `rewrite` = (path from the top, edit) leaves that file to `edit`, which gets it as it is
        at HEAD, instead of a textual revert: the ticks of tasks.md sit on adjacent lines, so
        reverting one tick textually conflicts with the next.
        """
        keep = rewrite[0] if rewrite else None
        code, _, err = self.git.run("revert", "--no-commit", sha, check=False)
        try:
            unmerged = self.git.out("diff", "--name-only", "--diff-filter=U", "-z").split("\0")
            conflicts = [p for p in unmerged if p and p != keep]
            if conflicts:
                named = ", ".join(conflicts)
                raise GitStateError(
                    f"cannot revert {sha[:10]} cleanly: later commits changed {named}"
                )
            if code != 0 and keep not in unmerged:
                raise GitStateError(first_line(err, f"cannot revert {sha[:10]}"))
            if rewrite:
                path, edit = rewrite
                self.git.out("checkout", "-q", "HEAD", "--", path)
                edit(self.root / path)
            return self.commit_all(message, hooks=hooks)
        except BaseException:
            self._abort_revert()
            raise

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
        self.git.run("worktree", "prune", check=False)

    def prune_worktrees(self) -> None:
        """Forget the records of worktrees whose folders are gone."""
        self.git.run("worktree", "prune", check=False)

    def add_worktree(self, path: Path, sha: str) -> None:
        """A detached worktree at `sha`: no branch to leave behind if sdd is killed."""
        self.git.out("worktree", "add", "-q", "--detach", str(path), sha)

    def remove_worktree(self, path: Path) -> None:
        self.git.run("worktree", "remove", "--force", "--force", str(path), check=False)

    def worktrees(self) -> list[Path]:
        out = self.git.out("worktree", "list", "--porcelain", "-z")
        return [Path(e[len("worktree ") :]) for e in out.split("\0") if e.startswith("worktree ")]

    # -- plumbing ----------------------------------------------------------------------------

    def _commit(self, message: str, *, hooks: bool, env: Mapping[str, str]) -> str:
        args = ["commit", "-q", "--cleanup=whitespace", "-F", "-"]
        if not hooks:
            args.append("--no-verify")
        with tempfile.TemporaryFile() as stdin:
            stdin.write(message.encode("utf-8"))
            stdin.seek(0)
            code, out, err = self.git.run(*args, stdin=stdin, env=env, check=False, hooks=hooks)
        if code != 0:
            if "nothing to commit" in out and not err.strip():  # git says so on stdout
                raise GitStateError("nothing to commit: the work tree matches HEAD")
            raise GitStateError(first_line(err or out, "git commit failed"))
        return self.head()

    def _identity_env(self) -> dict[str, str]:
        """sdd's own identity for each role git cannot name (CI runners have none)."""
        if self._sdd_env is None:
            name, email = SDD_IDENTITY
            env: dict[str, str] = {}
            for role in ("AUTHOR", "COMMITTER"):
                if self.git.run("var", f"GIT_{role}_IDENT", check=False)[0] != 0:
                    env |= {f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email}
            self._sdd_env = env
        return self._sdd_env

    def _abort_revert(self) -> None:
        if self.git.run("revert", "--abort", check=False)[0] != 0:
            self.git.out("reset", "-q", "--hard", "HEAD")
            self.git.run("revert", "--quit", check=False)
