"""Taking a landed task back (`sdd undo`, and the first half of `sdd retry`): a new commit that
reverts the task's commit and unticks it in tasks.md, under the same locks as a run.

Everything that could refuse is checked before anything is written: the task landed, the tree
is clean and free, and no landed task builds on it (a graph dependency, or a later commit that
changed a file this one created or changed) unless `--force`. The run is then no longer
finished: `status` says the task is pending again and how to land it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator import paths
from orchestrator.errors import GitStateError
from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.git.trailers import revert_commit_message
from orchestrator.plan.build import Plan, make_plan
from orchestrator.run.footprint import leftovers
from orchestrator.run.lock import check_free, take_lock
from orchestrator.speckit.documents import read_exact, write_exact
from orchestrator.speckit.tasks import Task
from orchestrator.speckit.ticks import set_done
from orchestrator.store.open import open_existing, open_store, store_url
from orchestrator.store.records import RunStatus, TaskKind, TaskRecord, TaskStatus
from orchestrator.store.url import StoreUrl


@dataclass(frozen=True, slots=True)
class UndoResult:
    feature: str
    task_id: str
    reverted: str  # the task's commit
    revert: str  # the new commit taking it back
    files: list[str]  # what the revert changed besides tasks.md


def undo_task(
    root: Path, feature_dir: Path, query: str, *, force: bool = False, store: str | None = None
) -> UndoResult:
    """Revert the task's commit as a new commit that also unticks it; the record goes back to
    pending with its attempts kept, so a later run numbers new transcripts after them."""
    plan = make_plan(root, feature_dir)
    task = plan.find_task(query)
    feature = plan.feature
    repo = GitRepo(root)
    repo.check_writable()
    url = store_url(root, store, plan.config.store)
    check_free(root)
    _refuse_dirty(repo, paths.footprint_file(root, feature), feature)
    info, tasks_rel = _landed(root, url, plan, repo, task.id)
    files = [f for f in info.files if f != tasks_rel]
    if not force:
        _refuse_dependents(plan, repo, info.sha, task.id, files)
    prefix = root.resolve().relative_to(repo.root).as_posix()
    repo.exclude(paths.exclude_pattern(prefix))  # the first write, after every refusal
    lock = take_lock(root, feature)
    try:
        records = open_store(root, url)
        run_lock = records.lock_run(feature)
        try:
            message = revert_commit_message(task.id, feature, info.subject, info.sha)
            sha = repo.revert(
                info.sha,
                message,
                rewrite=(tasks_rel, lambda path: _untick(path, task)),
                hooks=plan.config.commit_hooks,
            )
            record = records.task(feature, task.id) or TaskRecord(feature, task.id)
            record.status, record.commit_sha, record.kind = (
                TaskStatus.PENDING,
                "",
                TaskKind.NONE,
            )
            record.message = f"undone: {info.sha[:10]} reverted by {sha[:10]}"
            record.evidence = ""
            records.save_task(record)
            run = records.latest_run(feature)
            if run is not None and run.status == RunStatus.FINISHED:
                why = f"{task.id} undone; `sdd run {feature}` lands it again"
                records.set_run_status(run.run_id, RunStatus.PAUSED, why)
        finally:
            if run_lock is not None:
                run_lock.close()
            records.close()
    finally:
        lock.close()
    return UndoResult(feature, task.id, info.sha, sha, files)


def _refuse_dirty(repo: GitRepo, record: Path, feature: str) -> None:
    """A dirty tree is refused; when it holds a paused or interrupted attempt, say whose."""
    dirty = repo.dirty_files()
    if dirty:
        shown = ", ".join(dirty[:10]) + (
            f" (and {len(dirty) - 10} more)" if len(dirty) > 10 else ""
        )
        found = leftovers(record, repo, repo.head(), dirty)
        if found.task_id and found.own:
            raise GitStateError(
                f"the working tree holds the paused attempt of {found.task_id} ({shown}); "
                f"finish it first with `sdd resume {feature}`"
            )
        raise GitStateError(
            f"uncommitted changes in the working tree: {shown}; commit or stash them"
        )


def _landed(
    root: Path, url: StoreUrl, plan: Plan, repo: GitRepo, task_id: str
) -> tuple[history.CommitInfo, str]:
    """The task's landing commit (or why there is none), and tasks.md's path in the repo."""
    records = open_existing(root, url)
    try:
        record = records.task(plan.feature, task_id) if records else None
    finally:
        if records is not None:
            records.close()
    recorded = record.commit_sha if record and record.status == TaskStatus.LANDED else ""
    info = history.landed_commit(repo, plan.feature, task_id, recorded)
    tasks_rel = plan.docs.tasks_path.resolve().relative_to(repo.root).as_posix()
    return info, tasks_rel


def _untick(path: Path, task: Task) -> None:
    write_exact(path, set_done(read_exact(path), task, False))


_ORDER_ONLY = ("earlier phase", "task order")  # scheduling order, not a use of the task's work


def dependents(plan: Plan, task_id: str) -> dict[str, str]:
    """Every task that builds on `task_id` in the graph (it names it, or shares a file with
    it), directly or through others, with why; a task that merely comes later is not one."""
    found: dict[str, str] = {}
    for tid in plan.graph.order:
        uses = {d: why for d, why in plan.graph.reasons(tid).items() if why not in _ORDER_ONLY}
        if task_id in uses:
            found[tid] = f"depends on {task_id} ({uses[task_id]})"
        elif via := next((d for d in uses if d in found), None):
            found[tid] = f"depends on {via}, which depends on {task_id}"
    return found


def _refuse_dependents(plan: Plan, repo: GitRepo, sha: str, task_id: str, files: list[str]) -> None:
    """A landed task that builds on this one would break silently under the revert."""
    landed = history.task_commits(repo, plan.feature)
    later = set(history.commits_since(repo, sha))
    why: dict[str, str] = {}
    for other, reason in dependents(plan, task_id).items():
        if other in landed:
            why[other] = reason
    mine = set(files)
    for other, other_sha in reversed(landed.items()):  # oldest first
        if other_sha not in later or other in why:
            continue
        other_info = history.commit_info(repo, other_sha)
        shared = sorted(mine.intersection(other_info.files)) if other_info else []
        if shared:
            why[other] = f"changed {shared[0]} after it"
    if why:
        named = "; ".join(f"{t} {w}" for t, w in why.items())
        raise GitStateError(
            f"landed tasks build on {task_id}: {named}; undo them first, "
            f"or pass --force to revert {task_id} anyway"
        )
