"""Checks before a run writes anything, for what would otherwise fail after an agent worked: a
feature folder outside the repository, a tasks.md sdd cannot tick, a commit git will refuse
(signing that fails, a pre-commit hook that says no), git config read from files an agent could
edit, a sandbox that cannot start, and `--skip` naming what cannot be skipped.

Each refusal is one line naming the fix; nothing is written before all of them passed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from orchestrator.errors import GitStateError, InputError
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import Plan


def check_before_writing(
    repo: GitRepo, plan: Plan, landed: dict[str, str], skip: Iterable[str]
) -> list[str]:
    """Every check; raises the first refusal. Returns the `--skip` values as task ids."""
    check_inside(repo, plan)
    check_tasks_writable(plan)
    check_config_files(repo)
    check_signing(repo)
    if plan.config.commit_hooks:
        check_pre_commit(repo)
    if plan.config.bash.sandbox == "bwrap":
        from orchestrator.agent.tools.sandbox import unavailable

        problem = unavailable()
        if problem:
            raise InputError(f"bash.sandbox is bwrap in .specify/sdd.yaml, but {problem}")
    return skip_ids(plan, landed, skip)


def check_inside(repo: GitRepo, plan: Plan) -> None:
    """tasks.md is committed with each task, so the feature must live in this repository."""
    top = repo.root.resolve()
    for path in (plan.docs.dir, plan.docs.tasks_path):
        real = path.resolve()
        if not real.is_relative_to(top):
            shown = path.relative_to(plan.root) if path.is_relative_to(plan.root) else path
            raise InputError(
                f"{shown.as_posix()} is outside the repository (it leads to {real}); "
                f"sdd commits the feature's tasks.md, so the feature must be inside {top}"
            )


def check_tasks_writable(plan: Plan) -> None:
    path = plan.docs.tasks_path
    rel = path.relative_to(plan.root).as_posix()
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise InputError(
            f"{rel} cannot be written (read-only or immutable), so sdd cannot tick its tasks; "
            "make it writable (chmod u+w, chattr -i) and run again"
        )


def check_config_files(repo: GitRepo) -> None:
    """A git config file inside the work tree (an include.path) is one an agent can edit."""
    out = repo.git.out("config", "--list", "--show-origin", "-z")
    top = repo.root.resolve()
    git_dir = (repo.root / repo.git.out("rev-parse", "--git-common-dir").strip()).resolve()
    for entry in out.split("\0"):
        origin = entry.split("\n", 1)[0] if "\n" in entry else entry
        if not origin.startswith("file:"):
            continue
        path = Path(origin[len("file:") :])
        real = (repo.root / path).resolve()
        if real.is_relative_to(top) and not real.is_relative_to(git_dir):
            rel = real.relative_to(top).as_posix()
            raise GitStateError(
                f"git reads its config from {rel} (an include in .git/config), a file in the "
                "work tree that an agent could change; move it out of the work tree"
            )


def check_signing(repo: GitRepo) -> None:
    """With commit.gpgSign on, sign a trial commit (into a throwaway object store) now, not
    after the agent's work was verified."""
    code, out, _ = repo.git.run("config", "--bool", "commit.gpgSign", check=False)
    if code != 0 or out.strip() != "true":
        return
    objects = (repo.root / repo.git.out("rev-parse", "--git-path", "objects").strip()).resolve()
    with tempfile.TemporaryDirectory(prefix="sdd-sign-") as tmp:
        env = {"GIT_OBJECT_DIRECTORY": tmp, "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(objects)}
        code, _, err = repo.git.run(
            "commit-tree", "-S", "HEAD^{tree}", "-p", "HEAD", "-m", "sdd: signing check",
            env=env, check=False,
        )  # fmt: skip
    if code != 0:
        reason = next((ln for ln in err.splitlines() if ln.strip()), "git could not sign")
        raise GitStateError(
            f"commit.gpgSign is on, but signing a commit fails ({reason.strip()}); "
            "fix the signing key or set commit.gpgSign false for this repository"
        )


def check_pre_commit(repo: GitRepo) -> None:
    """With `commit_hooks: true`, a pre-commit hook that refuses the clean tree would refuse
    every task's commit after its work was done."""
    code, out, err = repo.git.run(
        "hook", "run", "--ignore-missing", "pre-commit", check=False, hooks=True
    )
    if code == 0 or "is not a git command" in err:  # git before 2.36 has no `git hook`
        return
    said = next((ln.strip() for ln in (err + out).splitlines() if ln.strip()), f"exit {code}")
    raise GitStateError(
        f"the pre-commit hook refuses a commit even before any task ({said}); "
        "fix the hook, or set commit_hooks: false in .specify/sdd.yaml"
    )


def skip_ids(plan: Plan, landed: dict[str, str], skip: Iterable[str]) -> list[str]:
    """`--skip` values as task ids; unknown or already landed ones are refused."""
    ids = []
    for raw in skip:
        task_id = next((t for t in plan.tasks if t.casefold() == raw.strip().casefold()), None)
        if task_id is None:
            raise InputError(f"no task {raw} in tasks.md")
        if task_id in landed:
            raise InputError(f"{task_id} has already landed; `sdd undo` reverts it")
        ids.append(task_id)
    return ids
