"""Taking a landed task back (`sdd undo`, and the first half of `sdd retry`): a new commit that
reverts the task's commit and unticks it in tasks.md, under the same locks as a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator import paths
from orchestrator.errors import GitStateError
from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.git.trailers import revert_commit_message
from orchestrator.plan.build import make_plan
from orchestrator.run.lock import take_lock
from orchestrator.speckit.documents import read_exact, write_exact
from orchestrator.speckit.tasks import Task
from orchestrator.speckit.ticks import set_done
from orchestrator.store.open import open_store, store_url
from orchestrator.store.records import TaskKind, TaskRecord, TaskStatus


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
    prefix = root.resolve().relative_to(repo.root).as_posix()
    repo.exclude(paths.exclude_pattern(prefix))
    lock = take_lock(root, feature)
    try:
        dirty = repo.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:10]) + (
                f" (and {len(dirty) - 10} more)" if len(dirty) > 10 else ""
            )
            raise GitStateError(
                f"uncommitted changes in the working tree: {shown}; commit or stash them"
            )
        records = open_store(root, store_url(root, store, plan.config.store))
        run_lock = records.lock_run(feature)
        try:
            record = records.task(feature, task.id)
            recorded = record.commit_sha if record and record.status == TaskStatus.LANDED else ""
            info = history.landed_commit(repo, feature, task.id, recorded)
            tasks_rel = plan.docs.tasks_path.resolve().relative_to(repo.root).as_posix()
            files = [f for f in info.files if f != tasks_rel]
            if not force:
                _refuse_later_overlap(repo, feature, info.sha, task.id, files)
            message = revert_commit_message(task.id, feature, info.subject, info.sha)
            sha = repo.revert(
                info.sha,
                message,
                rewrite=(tasks_rel, lambda path: _untick(path, task)),
                hooks=plan.config.commit_hooks,
            )
            record = record or TaskRecord(feature, task.id)
            record.status, record.commit_sha, record.kind = (
                TaskStatus.PENDING,
                "",
                TaskKind.NONE,
            )
            record.message = f"undone: {info.sha[:10]} reverted by {sha[:10]}"
            record.evidence = ""
            records.save_task(record)
        finally:
            if run_lock is not None:
                run_lock.close()
            records.close()
    finally:
        lock.close()
    return UndoResult(feature, task.id, info.sha, sha, files)


def _untick(path: Path, task: Task) -> None:
    write_exact(path, set_done(read_exact(path), task, False))


def _refuse_later_overlap(
    repo: GitRepo, feature: str, sha: str, task_id: str, files: list[str]
) -> None:
    """A later task built on these files; reverting under it would break it silently."""
    later = set(history.commits_since(repo, sha))
    mine = set(files)
    for other, other_sha in reversed(history.task_commits(repo, feature).items()):  # oldest first
        if other_sha not in later:
            continue
        other_info = history.commit_info(repo, other_sha)
        shared = sorted(mine.intersection(other_info.files)) if other_info else []
        if shared:
            raise GitStateError(
                f"{other} landed later and also changed {shared[0]}; undo {other} first, "
                f"or pass --force to revert {task_id} anyway"
            )
