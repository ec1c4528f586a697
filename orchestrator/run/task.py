"""One task from its base commit to a landed commit, in the repository's own work tree (or to
a clean tree and a recorded failure).

This is the body of the graph's `run_task` node. LangGraph re-runs a node from its first line
after a crash, so every step here is safe to repeat: a task already committed is found by its
trailer and never committed again, and leftovers of an interrupted attempt are reset first.
"""

from __future__ import annotations

from orchestrator.run.attempt import start_at, work
from orchestrator.run.context import RunContext
from orchestrator.run.landing import (
    TaskOutcome,
    pending_ref,
    record_found,
    record_landed,
    stage_landing,
)
from orchestrator.run.verifying import base_blocker
from orchestrator.run.workspace import Workspace
from orchestrator.store.records import TaskStatus


def main_workspace(ctx: RunContext) -> Workspace:
    tasks_md = ctx.plan.docs.tasks_path.relative_to(ctx.root).as_posix()
    return Workspace(ctx.root, ctx.repo, tasks_md)


def execute_task(ctx: RunContext, task_id: str) -> TaskOutcome:
    if task_id in ctx.head.landed:  # committed before a crash, checkpoint not yet written
        record_found(ctx, task_id)
        return TaskOutcome(True)
    base = ctx.head.take_clean()  # the previous task landed in this process: tree == commit
    if base is None:
        base = ctx.repo.head()
        ctx.repo.reset_to(base)  # leftovers of an interrupted attempt
    task = ctx.plan.tasks[task_id]
    ws = main_workspace(ctx)
    start = start_at(ctx, task, base)
    blocker = base_blocker(ctx, start.red)
    if blocker:  # nothing could be judged from this base: a person must act first
        return TaskOutcome(False, blocker)
    worked = work(ctx, task_id, ws, start)
    if not worked.landed:
        return TaskOutcome(False, worked.reason)
    assert worked.verdict is not None
    record, hooks = worked.record, ctx.plan.config.commit_hooks
    message, ticked = stage_landing(ctx, task, worked, worked.verdict, ws.tasks_path)
    if ctx.approve_each:  # hold the verified commit aside; the approval node lands it
        sha = ctx.repo.park(message, pending_ref(ctx, task_id), base, hooks=hooks)
        record.status, record.commit_sha = TaskStatus.AWAITING, sha
        ctx.store.save_task(record)
        ctx.reporter.note(f"{task_id} verified as {sha[:10]}; awaiting approval")
        return TaskOutcome(False, f"{task_id} awaits approval", awaiting=True)
    sha = ctx.repo.commit_all(message, hooks=hooks)
    record_landed(ctx, record, sha, ticked, worked.passing)
    return TaskOutcome(True)
