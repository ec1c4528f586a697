"""Parallel waves: a wave's ready tasks work at once, up to `jobs` of them, each in a git
worktree of its own, and land one by one in plan order on the moving branch.

A pool keeps `jobs` tasks busy: when one ends, the finished prefix of the wave (in plan order)
lands and the next task starts, from the new head. The branch only ever fast-forwards to a
commit made and verified in a worktree, so the user's work tree is never half-merged and a
kill -9 at any point leaves it clean. A task whose change no longer applies on the new head,
or whose verification fails there, is not landed: the engine redoes it alone on the new head.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.attempt import (
    Start,
    Worked,
    Workspace,
    changed_in,
    is_phase_end,
    judge_in,
    start_at,
    work,
)
from orchestrator.executor import ensure_base_snapshot, record_landed, stage_landing
from orchestrator.gitrepo import GitRepo
from orchestrator.planning import worktrees_dir
from orchestrator.session import Session


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


class _Serialized:
    """The store's connection takes one transaction at a time; a wave's workers take turns."""

    def __init__(self, inner: Any) -> None:
        self._inner, self._lock = inner, threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


def run_wave(s: Session, batch: list[str]) -> WaveOutcome:
    """Work on `batch`, land what verifies, and say what to redo, what failed and why."""
    done = s.done_ids()
    batch = [t for t in batch if t not in done]  # re-run after a crash: landed stays landed
    out = WaveOutcome()
    if not batch:
        return out
    head = s.repo.head()
    if s.clean_head != head:
        s.repo.reset_to(head)
    s.clean_head = None
    ensure_base_snapshot(s)
    home = worktrees_dir(s.root, s.feature)
    s.repo.clear_worktrees(home)
    queue, settled = list(batch), 0
    futures: dict[str, Future[_Done]] = {}
    errors: list[BaseException] = []
    store, s.store = s.store, _Serialized(s.store)  # type: ignore[assignment]
    try:
        with ThreadPoolExecutor(s.jobs, thread_name_prefix="sdd-task") as pool:
            try:
                while settled < len(batch):
                    busy = [f for f in futures.values() if not f.done()]
                    while queue and len(busy) < s.jobs:
                        busy.append(_start(s, pool, queue.pop(0), home, batch[settled:], futures))
                    wait(busy, return_when=FIRST_COMPLETED)
                    while settled < len(batch) and _finished(futures.get(batch[settled])):
                        task_id = batch[settled]
                        settled += 1
                        try:
                            _settle(s, futures[task_id].result(), out)
                        except BaseException as exc:  # land the siblings first, then raise
                            errors.append(exc)
                        s.repo.remove_worktree(home / task_id)
            except BaseException:  # a second Ctrl-C: workers stop before their next call
                s.cancel.set()
                raise
    finally:
        s.store = store
        s.repo.clear_worktrees(home)
    if errors:
        raise errors[0]
    return out


def _finished(future: Future[_Done] | None) -> bool:
    return future is not None and future.done()


def _start(
    s: Session,
    pool: ThreadPoolExecutor,
    task_id: str,
    home: Path,
    unlanded: list[str],
    futures: dict[str, Future[_Done]],
) -> Future[_Done]:
    """Start a task from the current head, in a worktree made here, one at a time: `git
    worktree add` reads the other worktrees' records."""
    head = s.repo.head()
    ws = _worktree(s, home / task_id, head)
    start = start_at(s, s.plan.tasks[task_id], head, frozenset(unlanded))
    futures[task_id] = pool.submit(_work_in_tree, s, task_id, ws, start)
    return futures[task_id]


def _worktree(s: Session, path: Path, base: str) -> Workspace:
    """A detached worktree at `base`, linked to the ignored folders verification needs."""
    s.repo.add_worktree(path, base)
    prefix = s.root.resolve().relative_to(s.repo.root.resolve())
    root = path / prefix
    shared: list[str] = []
    for name in s.plan.config.worktree_links:
        top = (prefix / name).as_posix()
        source = s.root / name
        if source.exists() and not (root / name).exists() and s.repo.is_ignored(top):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).symlink_to(source.resolve(), target_is_directory=source.is_dir())
            shared.append(top)
    return Workspace(root, GitRepo(path), tuple(shared))


def _work_in_tree(s: Session, task_id: str, ws: Workspace, start: Start) -> _Done:
    worked = work(s, task_id, ws, start)
    sha = start.base
    if worked.landed and worked.record.kind == "change":
        sha = ws.commit(f"sdd: verified change of {task_id}, not landed yet")
    return _Done(task_id, ws, start, worked, sha)


def _settle(s: Session, done: _Done, out: WaveOutcome) -> None:
    worked = done.worked
    if worked.landed:
        reason = _land(s, done)
        if reason:
            record = worked.record
            record.status, record.message = "pending", reason
            s.store.save_task(record)
            s.reporter.note(f"{done.task_id}: {reason}; it runs again alone on the new head")
            out.redo.append(done.task_id)
        else:
            out.landed.append(done.task_id)
    elif worked.paused:
        out.paused = out.paused or worked.reason
    else:
        out.failed.append(worked.reason)


def _land(s: Session, done: _Done) -> str:
    """Land a verified change on the current head; the reason it cannot, or ''."""
    task = s.plan.tasks[done.task_id]
    ws, worked = done.ws, done.worked
    head, base = s.repo.head(), done.start.base
    ws.reset(head)
    if done.sha != base and not ws.repo.apply_commit(done.sha):
        return "its change no longer applies on the new head"
    verdict, passing = worked.verdict, worked.passing
    phase_end = is_phase_end(s, task)
    if head != base or phase_end != done.start.phase_end:  # siblings landed since it started
        assert s.base_snapshot is not None  # the verification of `head`
        changed = changed_in(s, ws, head)
        verdict, passing = judge_in(s, ws, task, changed, phase_end, s.base_snapshot)
        if not verdict.passed:
            first = verdict.output.splitlines()[0] if verdict.output else "failed"
            return f"verification failed on the new head ({first[:120]})"
    assert verdict is not None
    tasks_path = ws.root / s.plan.docs.tasks_path.relative_to(s.root)
    message, ticked = stage_landing(s, task, worked, verdict, tasks_path)
    sha = ws.commit(message, hooks=s.plan.config.commit_hooks)
    s.repo.fast_forward(sha)
    s.clean_head, s.base_snapshot = sha, passing
    record_landed(s, worked.record, sha, ticked)
    return ""
