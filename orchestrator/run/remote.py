"""Runs that move between machines: push each landed commit as it lands, and before driving a
run from a shared store, make sure this clone has every commit the run already landed.

The records say which tasks landed; git holds their commits. A clone that lacks some of them
would redo those tasks and land them twice, so it is refused with the command that fixes it.
"""

from __future__ import annotations

from orchestrator.errors import GitStateError, RunStopped
from orchestrator.git.history import is_ancestor, task_commits
from orchestrator.git.repo import GitRepo
from orchestrator.store.records import TaskStatus
from orchestrator.store.store import Store


def push_landed(
    repo: GitRepo, remote: str, feature: str, task_id: str, sha: str, *, hooks: bool = False
) -> None:
    """Push the commit that just landed; a refusal pauses the run, the commit stays landed."""
    if not remote:
        return
    branch = repo.branch() or "HEAD"
    try:
        repo.push(remote, branch, hooks=hooks)
    except GitStateError as exc:
        raise RunStopped(
            f"{task_id} landed as {sha[:10]}, but pushing {branch} to {remote} failed ({exc}); "
            f"sdd resume {feature} pushes it"
        ) from None


def catch_up(
    repo: GitRepo, store: Store, feature: str, remote: str, *, hooks: bool = False
) -> None:
    """Fetch, refuse a branch that lacks landed commits, then push what the remote lacks."""
    branch = repo.branch() or "HEAD"
    if remote:
        try:
            repo.fetch(remote)
        except GitStateError as exc:
            raise GitStateError(f"cannot fetch {remote} before the run: {exc}") from None
    if store.url.shared:
        here = task_commits(repo, feature)
        missing = [
            (tid, r.commit_sha)
            for tid, r in sorted(store.tasks(feature).items())
            if r.status == TaskStatus.LANDED
            and tid not in here
            and not is_ancestor(repo, r.commit_sha)
        ]
        if missing:
            fetched = [sha for _, sha in missing if repo.resolve(sha) is not None]
            raise GitStateError(missing_message(feature, missing, remote, branch, len(fetched)))
    if remote:
        try:
            repo.push(remote, branch, hooks=hooks)
        except GitStateError as exc:
            raise GitStateError(
                f"cannot push {branch} to {remote} ({exc}): "
                f"git pull --ff-only {remote} {branch}, then sdd resume {feature}"
            ) from None


def missing_message(
    feature: str, missing: list[tuple[str, str]], remote: str, branch: str, reachable: int
) -> str:
    """Which landed tasks this clone lacks, and the command that brings them."""
    named = ", ".join(f"{tid} ({sha[:10]})" for tid, sha in missing[:8])
    more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
    head = (
        f"{branch} lacks {len(missing)} commit(s) the run of {feature} already landed: "
        f"{named}{more}"
    )
    if not remote:
        return (
            f"{head}; pull them from the remote they were pushed to "
            f"(git pull --ff-only REMOTE {branch}) or resume with --push REMOTE"
        )
    if reachable < len(missing):
        return (
            f"{head}; they are not on {remote}: run sdd resume {feature} on the machine that "
            "landed them, which pushes them, then try again here"
        )
    pull = f"git pull --ff-only {remote} {branch}"
    return f"{head}; bring them in with {pull}, then sdd resume {feature}"
