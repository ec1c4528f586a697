"""Parallel waves: a wave's ready tasks work at once, up to `jobs` of them, each in a git
worktree of its own, and land one by one in plan order on the moving branch.

A pool keeps `jobs` tasks busy: when one ends, the finished prefix of the wave (in plan order)
lands and the next task starts, from the new head. The branch only ever fast-forwards to a
commit made and verified in a worktree, so the user's work tree is never half-merged and a
kill -9 at any point leaves it clean. A task whose change no longer applies on the new head,
or whose verification fails there, is not landed: the engine redoes it alone on the new head.
"""

from __future__ import annotations

import shutil
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator import paths
from orchestrator.git.repo import GitRepo
from orchestrator.run.attempt import Worked, work
from orchestrator.run.context import RunContext
from orchestrator.run.journal import (
    Conversation,
    end_conversation,
    open_conversation,
    tree_state,
    where,
    why_not_continue,
)
from orchestrator.run.landing import record_landed, refuse_secrets, stage_landing
from orchestrator.run.start import Start, phase_end, start_at
from orchestrator.run.verifying import base_blocker, baseline, judge_in, verify_head
from orchestrator.run.workspace import Workspace
from orchestrator.store.records import TaskKind, TaskStatus
from orchestrator.store.store import Store


@dataclass(slots=True)
class WaveOutcome:
    landed: list[str] = field(default_factory=list)
    redo: list[str] = field(default_factory=list)  # to run again alone, on the new head
    failed: list[str] = field(default_factory=list)  # reasons, one per failed task
    paused: str = ""  # budget or model trouble: the run pauses after the wave


@dataclass(slots=True)
class _Done:
    """A worker's result: the verified change as a commit in its worktree (not yet landed)."""

    task_id: str
    ws: Workspace
    start: Start
    worked: Worked
    sha: str  # the worktree's commit of the change; the base itself for a pure check


def run_wave(ctx: RunContext, batch: list[str]) -> WaveOutcome:
    """Work on `batch`, land what verifies, and say what to redo, what failed and why."""
    done = ctx.done_ids()
    batch = [t for t in batch if t not in done]  # re-run after a crash: landed stays landed
    out = WaveOutcome()
    if not batch:
        return out
    head = ctx.repo.head()
    if ctx.head.take_clean() != head:
        ctx.repo.reset_to(head)
    blocker = base_blocker(ctx, ctx.head.verification(lambda: baseline(ctx)))
    if blocker:  # before any task starts: nothing could be judged from this base
        return WaveOutcome(paused=blocker)
    home = paths.worktrees_dir(ctx.root, ctx.feature)
    keep_worktrees(ctx.repo, ctx.store, ctx.feature, home)
    queue, settled = list(batch), 0
    futures: dict[str, Future[_Done]] = {}
    errors: list[BaseException] = []
    try:
        with ThreadPoolExecutor(ctx.jobs, thread_name_prefix="sdd-task") as pool:
            try:
                while settled < len(batch):
                    busy = [f for f in futures.values() if not f.done()]
                    while queue and len(busy) < ctx.jobs:
                        busy.append(_start(ctx, pool, queue.pop(0), home, batch[settled:], futures))
                    wait(busy, return_when=FIRST_COMPLETED)
                    while settled < len(batch) and _finished(futures.get(batch[settled])):
                        task_id = batch[settled]
                        settled += 1
                        try:
                            _settle(ctx, futures[task_id].result(), out)
                        except BaseException as exc:  # land the siblings first, then raise
                            errors.append(exc)
                        ctx.repo.remove_worktree(home / task_id)
            except BaseException:  # a second Ctrl-C: workers stop before their next call
                ctx.cancel.set()
                raise
    finally:
        ctx.repo.clear_worktrees(home)
    if errors:
        raise errors[0]
    return out


def _finished(future: Future[_Done] | None) -> bool:
    return future is not None and future.done()


def _start(
    ctx: RunContext,
    pool: ThreadPoolExecutor,
    task_id: str,
    home: Path,
    unlanded: list[str],
    futures: dict[str, Future[_Done]],
) -> Future[_Done]:
    """Start a task from the current head, in a worktree made here, one at a time: `git
    worktree add` reads the other worktrees' records. A task whose conversation was cut
    short in its worktree (a kill mid-wave) goes on there, from its own base."""
    path = home / task_id
    found = _continuing_in(ctx, path, task_id)
    if found is not None:
        base, ws = found.base, _worktree(ctx, path, found.base, reuse=True)
    else:
        if path.exists():
            ctx.repo.remove_worktree(path)
        base = ctx.repo.head()
        ws = _worktree(ctx, path, base)
    start = start_at(ctx, ctx.plan.tasks[task_id], base, frozenset(unlanded))
    futures[task_id] = pool.submit(_work_in_tree, ctx, task_id, ws, start, found)
    return futures[task_id]


def _continuing_in(ctx: RunContext, path: Path, task_id: str) -> Conversation | None:
    """The task's cut-short conversation, when its worktree is still as it left it."""
    found = open_conversation(ctx.store, ctx.feature, task_id)
    if found is None:
        return None
    why = "its worktree is gone"
    if path.is_dir() and path.resolve() in {p.resolve() for p in ctx.repo.worktrees()}:
        ws = _worktree(ctx, path, found.base, reuse=True)
        why = why_not_continue(found, ws.repo.head(), tree_state(ws), where(ws))
    if why:
        ctx.reporter.note(f"{task_id} starts over: {why}")
        end_conversation(ctx.store, ctx.feature, task_id, found, why)
        return None
    ctx.reporter.note(f"{task_id} continues its interrupted attempt{found.since}")
    return found


def keep_worktrees(repo: GitRepo, store: Store, feature: str, home: Path) -> None:
    """After a kill mid-wave: remove the wave's worktrees but those of tasks whose
    conversation was cut short there (the next wave goes on in them)."""
    if not home.exists():
        return
    for path in sorted(home.iterdir()):
        if open_conversation(store, feature, path.name) is None:
            if path.resolve() in {p.resolve() for p in repo.worktrees()}:
                repo.remove_worktree(path)
            else:
                shutil.rmtree(path, ignore_errors=True)
    repo.prune_worktrees()


def _worktree(ctx: RunContext, path: Path, base: str, *, reuse: bool = False) -> Workspace:
    """A detached worktree at `base`, linked to the ignored folders verification needs;
    `reuse` takes the one already at `path`."""
    if not reuse:
        ctx.repo.add_worktree(path, base)
    prefix = ctx.root.resolve().relative_to(ctx.repo.root.resolve())
    root = path / prefix
    shared: list[str] = []
    for name in ctx.plan.config.worktree_links:
        top = (prefix / name).as_posix()
        source = ctx.root / name
        if reuse and (root / name).is_symlink():
            shared.append(top)
        elif source.exists() and not (root / name).exists() and ctx.repo.is_ignored(top):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).symlink_to(source.resolve(), target_is_directory=source.is_dir())
            shared.append(top)
    tasks_md = ctx.plan.docs.tasks_path.relative_to(ctx.root).as_posix()
    return Workspace(root, GitRepo(path), tasks_md, tuple(shared))


def _work_in_tree(
    ctx: RunContext, task_id: str, ws: Workspace, start: Start, found: Conversation | None
) -> _Done:
    worked = work(ctx, task_id, ws, start, found=found)
    sha = start.base
    if worked.landed and worked.record.kind != TaskKind.CHECK:
        sha = ws.commit(f"sdd: verified change of {task_id}, not landed yet")
    return _Done(task_id, ws, start, worked, sha)


def _settle(ctx: RunContext, done: _Done, out: WaveOutcome) -> None:
    worked = done.worked
    if worked.landed:
        reason = _land(ctx, done)
        if worked.journal is not None:  # landed, or redone alone: this conversation is over
            worked.journal.end(reason or "landed")
        if reason:
            record = worked.record
            record.status, record.message = TaskStatus.PENDING, reason
            ctx.store.save_task(record)
            ctx.reporter.note(f"{done.task_id}: {reason}; it runs again alone on the new head")
            out.redo.append(done.task_id)
        else:
            out.landed.append(done.task_id)
    elif worked.paused:
        out.paused = out.paused or worked.reason
    else:
        out.failed.append(worked.reason)


def _land(ctx: RunContext, done: _Done) -> str:
    """Land a verified change on the current head; the reason it cannot, or ''."""
    task = ctx.plan.tasks[done.task_id]
    ws, worked = done.ws, done.worked
    head, base = ctx.repo.head(), done.start.base
    ws.reset(head)
    if done.sha != base and not ws.repo.apply_commit(done.sha):
        return "its change no longer applies on the new head"
    verdict, passing = worked.verdict, worked.passing
    at_end = phase_end(ctx, task)
    if head != base or at_end != done.start.phase_end:  # siblings landed since it started
        red = ctx.head.verification(lambda: verify_head(ctx, ctx.root))  # of `head`
        changed = ws.changed(head)
        verdict, passing = judge_in(ctx, ws, task, changed, at_end, red, head, worked.ran)
        if not verdict.passed:
            first = verdict.output.splitlines()[0] if verdict.output else "failed"
            return f"verification failed on the new head ({first[:120]})"
    assert verdict is not None
    refused = refuse_secrets(ctx, ws, head, worked.record)
    if refused:
        return refused
    message, ticked = stage_landing(ctx, task, worked, verdict, ws.tasks_path)
    sha = ws.commit(message, hooks=ctx.plan.config.commit_hooks)
    ctx.repo.fast_forward(sha)
    record_landed(ctx, worked.record, sha, ticked, passing)
    return ""
