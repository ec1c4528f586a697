"""One task from its base commit to a landed commit, in the repository's own work tree (or to
a clean tree and a recorded failure).

This is the body of the graph's `run_task` node. LangGraph re-runs a node from its first line
after a crash, so every step here is safe to repeat: a task already committed is found by its
trailer and never committed again, and an interrupted attempt either goes on (its conversation
kept in the store, its tree as it left it) or has its leftovers reset first.
"""

from __future__ import annotations

from orchestrator import paths
from orchestrator.errors import GitStateError
from orchestrator.git.history import moved_past, pending_ref
from orchestrator.run.attempt import Worked, work
from orchestrator.run.context import RunContext
from orchestrator.run.footprint import Footprint
from orchestrator.run.journal import (
    Conversation,
    go_on_or_start_over,
    open_conversation,
    rejoin,
    set_aside,
    task_paths,
    tree_state,
)
from orchestrator.run.landing import (
    TaskOutcome,
    record_found,
    record_landed,
    refuse_secrets,
    stage_landing,
)
from orchestrator.run.start import start_at
from orchestrator.run.verifying import base_blocker
from orchestrator.run.workspace import Workspace, main_workspace
from orchestrator.store.records import TaskRecord, TaskStatus


def execute_task(ctx: RunContext, task_id: str) -> TaskOutcome:
    if task_id in ctx.head.landed:  # committed before a crash, checkpoint not yet written
        record_found(ctx, task_id)
        return TaskOutcome(True)
    ws = main_workspace(ctx)
    clean = ctx.head.take_clean()  # the previous task landed in this process: tree == commit
    base = clean or ctx.repo.head()
    found = _continuing(ctx, ws, task_id, base)  # also after another task ran first
    if found is None and clean is None:
        _set_aside_note(ctx, ws, task_id, base)
        ctx.repo.reset_to(base)  # leftovers of an interrupted attempt
    footprint = Footprint(paths.footprint_file(ctx.root, ctx.feature), ctx.repo, task_id, base)
    footprint.record()
    try:
        return _attempt_and_land(ctx, ws, task_id, base, footprint, found)
    finally:  # a paused attempt's change stays in the tree, on record as its own (as a kill's)
        if open_conversation(ctx.store, ctx.feature, task_id) is None:
            footprint.clear()


def _set_aside_note(ctx: RunContext, ws: Workspace, task_id: str, base: str) -> None:
    """Say so when the tree holds another task's paused attempt (tasks.md reordered since):
    its change leaves the tree for this task, and its steps keep it for when it runs."""
    dirty = set(task_paths(ws))
    if not dirty:
        return
    for other in ctx.plan.tasks:
        if other == task_id or other in ctx.head.landed:
            continue
        found = open_conversation(ctx.store, ctx.feature, other)
        if found is not None and dirty & set(found.tree()):
            ctx.reporter.note(
                f"{other}'s paused change is set aside while {task_id} runs: its steps keep "
                f"it, and {other} goes on from them when it runs"
            )


def _continuing(ctx: RunContext, ws: Workspace, task_id: str, base: str) -> Conversation | None:
    """The task's conversation cut short in this tree, when it can go on; else None (and
    why it starts over, when there was one)."""
    found = open_conversation(ctx.store, ctx.feature, task_id)
    if found is None:
        return None
    now = tree_state(ws)  # with the files its steps recorded: a clean clone has none dirty
    if found.base != base and moved_past(ctx.repo, found.base, sorted({*now, *found.tree()})):
        ctx.reporter.note(  # e.g. a raised budget, committed while the task was paused
            f"{task_id}: the commits since its attempt paused touch none of its files; "
            f"it goes on on {base[:10]}"
        )
        base = found.base
    why = rejoin(ctx.store, ctx.feature, task_id, found, ws, base, ctx.reporter.note, now)
    return go_on_or_start_over(ctx.store, ctx.feature, task_id, found, why, ctx.reporter.note)


def _attempt_and_land(
    ctx: RunContext,
    ws: Workspace,
    task_id: str,
    base: str,
    footprint: Footprint,
    found: Conversation | None,
) -> TaskOutcome:
    task = ctx.plan.tasks[task_id]
    if found is None:
        start = start_at(ctx, task, base)
    else:  # the base is verified without the interrupted attempt's change in the tree
        with set_aside(ws, base):
            start = start_at(ctx, task, base)
    blocker = base_blocker(ctx, start.red)
    if blocker:  # nothing could be judged from this base: a person must act first
        return TaskOutcome(False, blocker)
    worked = work(ctx, task_id, ws, start, footprint, found)
    if not worked.landed:
        return TaskOutcome(False, worked.reason)
    outcome = _land(ctx, ws, task_id, base, footprint, worked)
    if worked.journal is not None:  # landed, held or refused: the conversation is over
        worked.journal.end(outcome.reason or "landed")
    return outcome


def _land(
    ctx: RunContext, ws: Workspace, task_id: str, base: str, footprint: Footprint, worked: Worked
) -> TaskOutcome:
    """The verified change as a commit (or held for approval), ticked and recorded."""
    task = ctx.plan.tasks[task_id]
    assert worked.verdict is not None
    record, hooks = worked.record, ctx.plan.config.commit_hooks
    refused = refuse_secrets(ctx, ws, base, record)
    if refused:
        return TaskOutcome(False, refused)
    with footprint.in_flight():  # the tick and the commit: a kill here leaves sdd's own files
        message, ticked = stage_landing(ctx, task, worked, worked.verdict, ws.tasks_path)
        try:
            if ctx.approve_each:  # hold the verified commit aside; the approval node lands it
                sha = ctx.repo.park(message, pending_ref(ctx.feature, task_id), base, hooks=hooks)
            else:
                sha = ctx.repo.commit_all(message, hooks=hooks)
        except GitStateError as exc:  # a hook refused it: the task fails, the tree goes back
            return _commit_refused(ctx, ws, base, record, str(exc))
    if ctx.approve_each:
        record.status, record.commit_sha = TaskStatus.AWAITING, sha
        ctx.store.save_task(record)
        ctx.reporter.note(f"{task_id} verified as {sha[:10]}; awaiting approval")
        return TaskOutcome(False, f"{task_id} awaits approval", awaiting=True)
    record_landed(ctx, record, sha, ticked, worked.passing)
    return TaskOutcome(True)


def _commit_refused(
    ctx: RunContext, ws: Workspace, base: str, record: TaskRecord, why: str
) -> TaskOutcome:
    ctx.repo.reset_to(base)
    reason = f"{record.task_id} verified, but git refused its commit: {why}"
    record.status, record.message = TaskStatus.FAILED, reason
    ctx.store.save_task(record)
    ctx.reporter.failed(record.task_id, reason)
    return TaskOutcome(False, reason)
