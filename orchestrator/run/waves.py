"""Parallel waves: a wave's ready tasks work at once, up to `jobs` of them, each in a git
worktree of its own, and land one by one in plan order on the moving branch.

A pool keeps `jobs` tasks busy: when one ends, the finished prefix of the wave (in plan order)
lands and the next task starts, from the new head. Changes that started from an older head are
verified again as the trees they make together, all at once (`run.speculate`), and land in
plan order up to the first that fails. The branch only ever fast-forwards to a commit made and
verified in a worktree, so the user's work tree is never half-merged and a kill -9 at any point
leaves it clean. A task whose change no longer applies on the new head, or whose verification
fails there, is not landed: the engine redoes it alone on the new head.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator import paths
from orchestrator.git.history import commit_info
from orchestrator.git.repo import GitRepo
from orchestrator.run.attempt import work
from orchestrator.run.context import RunContext
from orchestrator.run.journal import (
    Conversation,
    go_on_or_start_over,
    open_conversation,
    rejoin,
)
from orchestrator.run.landing import record_landed, refuse_secrets, stage_landing
from orchestrator.run.speculate import Ready, Trial, speculate
from orchestrator.run.start import Start, phase_end, start_at
from orchestrator.run.verifying import base_blocker, baseline, judge_in, verify_head
from orchestrator.run.workspace import Workspace, linked_worktree
from orchestrator.store.records import TaskKind, TaskStatus
from orchestrator.store.store import Store


@dataclass(slots=True)
class WaveOutcome:
    landed: list[str] = field(default_factory=list)
    redo: list[str] = field(default_factory=list)  # to run again alone, on the new head
    failed: list[str] = field(default_factory=list)  # reasons, one per failed task
    paused: str = ""  # budget or model trouble: the run pauses after the wave


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
    futures: dict[str, Future[Ready]] = {}
    errors: list[BaseException] = []
    try:
        with ThreadPoolExecutor(ctx.jobs, thread_name_prefix="sdd-task") as pool:
            try:
                while settled < len(batch):
                    busy = [f for f in futures.values() if not f.done()]
                    while queue and len(busy) < ctx.jobs:
                        busy.append(_start(ctx, pool, queue.pop(0), home, batch[settled:], futures))
                    if not _finished(futures.get(batch[settled])):  # else: settle it now
                        wait(busy, return_when=FIRST_COMPLETED)
                    ready = []
                    while settled < len(batch) and _finished(futures.get(batch[settled])):
                        ready.append(batch[settled])
                        settled += 1
                    _settle_all(ctx, [futures[t] for t in ready], out, errors)
                    for task_id in ready:  # a paused task goes on in its worktree
                        if open_conversation(ctx.store, ctx.feature, task_id) is None:
                            ctx.repo.remove_worktree(home / task_id)
            except BaseException:  # a second Ctrl-C: workers stop before their next call
                ctx.cancel.set()
                raise
    finally:  # but those of tasks stopped mid-conversation, as after a kill
        keep_worktrees(ctx.repo, ctx.store, ctx.feature, home, ctx.done_ids())
    if errors:
        raise errors[0]
    return out


def _finished(future: Future[Ready] | None) -> bool:
    return future is not None and future.done()


def _start(
    ctx: RunContext,
    pool: ThreadPoolExecutor,
    task_id: str,
    home: Path,
    unlanded: list[str],
    futures: dict[str, Future[Ready]],
) -> Future[Ready]:
    """Start a task from the current head, in a worktree made here, one at a time: `git
    worktree add` reads the other worktrees' records. A task whose conversation was cut
    short in its worktree (a kill mid-wave) goes on there, from its own base."""
    path = home / task_id
    found = _continuing_in(ctx, path, task_id)
    if found is not None:
        base, ws = found.base, linked_worktree(ctx, path, found.base, reuse=True)
    else:
        if path.exists():
            ctx.repo.remove_worktree(path)
        base = ctx.repo.head()
        ws = linked_worktree(ctx, path, base)
    start = start_at(ctx, ctx.plan.tasks[task_id], base, frozenset(unlanded))
    futures[task_id] = pool.submit(_work_in_tree, ctx, task_id, ws, start, found)
    return futures[task_id]


def _continuing_in(ctx: RunContext, path: Path, task_id: str) -> Conversation | None:
    """The task's cut-short conversation, when its worktree is still as it left it."""
    found = open_conversation(ctx.store, ctx.feature, task_id)
    if found is None:
        return None
    why = "its worktree is gone"
    known = path.is_dir() and path.resolve() in {p.resolve() for p in ctx.repo.worktrees()}
    if not known and not path.exists() and ctx.repo.resolve(found.base):  # another clone
        ctx.repo.add_worktree(path, found.base)  # clean at its base: its files are written back
        known = True
    if known:
        ws = linked_worktree(ctx, path, found.base, reuse=True)
        _unwind_verified(ws, found.base, task_id)
        why = rejoin(ctx.store, ctx.feature, task_id, found, ws, ws.repo.head(), ctx.reporter.note)
    return go_on_or_start_over(ctx.store, ctx.feature, task_id, found, why, ctx.reporter.note)


def _unwind_verified(ws: Workspace, base: str, task_id: str) -> None:
    """A kill after the worker committed its verified change (not landed yet): the commit
    back as the uncommitted change its conversation recorded, which then is judged again
    and lands, asking the model nothing."""
    head = ws.repo.head()
    info = commit_info(ws.repo, head) if head != base else None
    if info is not None and info.subject == _verified(task_id):
        parent = ws.repo.resolve(f"{head}^")
        if parent == base:
            ws.repo.uncommit(base)


def _verified(task_id: str) -> str:
    return f"sdd: verified change of {task_id}, not landed yet"


def keep_worktrees(
    repo: GitRepo, store: Store, feature: str, home: Path, done: Collection[str] = ()
) -> None:
    """After a wave (or a kill mid-wave): remove its worktrees but those of tasks whose
    conversation was cut short or paused there (the next wave goes on in them), unless they
    are `done` (landed, a kill before their conversation was closed)."""
    if not home.exists():
        return
    for path in sorted(home.iterdir()):
        if path.name in done or open_conversation(store, feature, path.name) is None:
            if path.resolve() in {p.resolve() for p in repo.worktrees()}:
                repo.remove_worktree(path)
            else:
                shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        home.rmdir()  # when none is kept
    repo.prune_worktrees()


def _work_in_tree(
    ctx: RunContext, task_id: str, ws: Workspace, start: Start, found: Conversation | None
) -> Ready:
    worked = work(ctx, task_id, ws, start, found=found)
    sha = start.base
    if worked.landed and worked.record.kind != TaskKind.CHECK:
        sha = ws.commit(_verified(task_id))
    return Ready(task_id, ws, start, worked, sha)


def _settle_all(
    ctx: RunContext, finished: list[Future[Ready]], out: WaveOutcome, errors: list[BaseException]
) -> None:
    """Settle the wave's finished prefix in plan order: the changes waiting to land are verified
    together ahead of landing, and tried again on the new head from the first that fails."""
    waiting: list[Ready] = []
    for future in finished:
        try:
            waiting.append(future.result())
        except BaseException as exc:  # land the siblings first, then raise
            errors.append(exc)
    while waiting:
        trials: dict[str, Trial] = {}
        try:
            trials = speculate(ctx, waiting) if any(r.lands for r in waiting) else {}
        except Exception as exc:  # each is then verified on its own as it lands
            ctx.reporter.note(f"verifying the waiting changes together failed ({exc})")
        first = True
        while waiting:
            ready = waiting[0]
            trial = trials.get(ready.task_id)
            if trials and ready.lands and trial is None and not first:
                break  # past the end of the chain: a new one from the new head
            waiting.pop(0)
            first = False
            try:
                landed = _settle(ctx, ready, out, trial)
            except BaseException as exc:
                errors.append(exc)
                landed = False
            if trial is not None and not landed:
                break  # the trees after it held its change: verify them again


def _settle(ctx: RunContext, done: Ready, out: WaveOutcome, trial: Trial | None) -> bool:
    """Land or account for one finished task; whether it landed."""
    worked = done.worked
    if worked.landed:
        reason = _land(ctx, done, trial)
        if worked.journal is not None:  # landed, or redone alone: this conversation is over
            worked.journal.end(reason or "landed")
        if reason:
            record = worked.record
            record.status, record.message = TaskStatus.PENDING, reason
            ctx.store.save_task(record)
            ctx.reporter.note(f"{done.task_id}: {reason}; it runs again alone on the new head")
            out.redo.append(done.task_id)
            return False
        out.landed.append(done.task_id)
        return True
    if worked.paused:
        out.paused = out.paused or worked.reason
    else:
        out.failed.append(worked.reason)
    return False


def _land(ctx: RunContext, done: Ready, trial: Trial | None = None) -> str:
    """Land a verified change on the current head; the reason it cannot, or ''. A `trial` is
    its verification on exactly this tree, run ahead (its snapshot), or said unneeded (None)."""
    task = ctx.plan.tasks[done.task_id]
    ws, worked = done.ws, done.worked
    head, base = ctx.repo.head(), done.start.base
    ws.reset(head)
    if done.sha != base and not ws.repo.apply_commit(done.sha):
        return "its change no longer applies on the new head"
    verdict, passing = worked.verdict, worked.passing
    at_end = phase_end(ctx, task)
    skip = trial is not None and trial.snapshot is None and not at_end  # `reverify: auto`
    if (head != base or at_end != done.start.phase_end) and not skip:
        red = ctx.head.verification(lambda: verify_head(ctx, ctx.root))  # of `head`
        changed = ws.changed(head)
        now = trial.snapshot if trial is not None else None
        verdict, passing = judge_in(ctx, ws, task, changed, at_end, red, head, worked.ran, now)
        worked.record.verify_seconds = round(worked.record.verify_seconds + passing.seconds, 3)
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
    # a tree not verified as a whole (`reverify: auto`) keeps the change's own verification
    # as the head's: what the combination broke fails the next task verified on it
    record_landed(ctx, worked.record, sha, ticked, passing)
    return ""
