"""A task's commit (`sdd diff`): found by its trailer on HEAD, or, for a task held by
`--approve each`, the verified commit waiting beside the branch; else explained."""

from __future__ import annotations

from pathlib import Path

from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import make_plan
from orchestrator.store.open import open_records
from orchestrator.store.records import TaskStatus


def task_diff(
    root: Path, feature_dir: Path, query: str, *, stat: bool, color: bool, store: str | None = None
) -> str:
    """`git show` of the task's commit: the patch, or its --stat."""
    plan = make_plan(root, feature_dir)
    task = plan.find_task(query)
    repo = GitRepo(root)
    records = open_records(root, store, plan.config.store)
    try:
        record = records.task(plan.feature, task.id) if records else None
    finally:
        if records:
            records.close()
    if record and record.status == TaskStatus.AWAITING:
        held = repo.resolve(history.pending_ref(plan.feature, task.id))
        if held:
            return history.diff(repo, held, stat=stat, color=color)
    recorded = record.commit_sha if record and record.status == TaskStatus.LANDED else ""
    info = history.landed_commit(repo, plan.feature, task.id, recorded)
    return history.diff(repo, info.sha, stat=stat, color=color)
