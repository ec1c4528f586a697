"""Parallel waves: ready tasks work at once, each in a git worktree of its own, then land one by
one in plan order on the moving branch.

The branch only ever fast-forwards to a commit made and verified in a worktree, so the user's
work tree is never half-merged and a kill -9 at any point leaves it clean. A task whose change
no longer applies on the new head, or whose verification fails there, is not landed: the
engine redoes it alone on the new head.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.attempt import Worked, Workspace, changed_in, is_phase_end, judge_in, work
from orchestrator.executor import commit_message, ensure_base_snapshot
from orchestrator.gitrepo import GitRepo
from orchestrator.planning import worktrees_dir
from orchestrator.session import Session, write_exact
from orchestrator.ticks import set_done


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
    worked: Worked
    sha: str  # the worktree's commit of the change; the base itself for a pure check
    phase_end: bool


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
    """Work on `batch` at once, land what verifies, and say what to redo, what failed and why."""
    base = s.repo.head()
    if s.clean_head != base:
        s.repo.reset_to(base)
    s.clean_head = None
    ensure_base_snapshot(s)
    home = worktrees_dir(s.root, s.feature)
    s.repo.clear_worktrees(home)
    running = frozenset(batch)
    ends = {t: is_phase_end(s, s.plan.tasks[t], running) for t in batch}
    trees: dict[str, Workspace] = {}
    for t in batch:  # one at a time: `git worktree add` reads the others' records
        trees[t] = _worktree(s, home / t, base)
    store, s.store = s.store, _Serialized(s.store)  # type: ignore[assignment]
    out = WaveOutcome()
    errors: list[BaseException] = []
    try:
        with ThreadPoolExecutor(max_workers=len(batch), thread_name_prefix="sdd-task") as pool:
            futures: dict[str, Future[_Done]] = {
                t: pool.submit(_work_in_tree, s, t, trees[t], base, ends[t]) for t in batch
            }
            try:
                wait(futures.values())
            except BaseException:  # a second Ctrl-C: workers stop before their next call
                s.cancel.set()
                raise
        for t in batch:  # plan order, so the history reads as the tasks do
            try:
                done = futures[t].result()
            except BaseException as exc:  # land the siblings first, then raise
                errors.append(exc)
                continue
            _settle(s, done, out)
    finally:
        s.store = store
        s.repo.clear_worktrees(home)
    if errors:
        raise errors[0]
    return out


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


def _work_in_tree(s: Session, task_id: str, ws: Workspace, base: str, phase_end: bool) -> _Done:
    worked = work(s, task_id, ws, base, phase_end=phase_end)
    sha = base
    if worked.landed and worked.record.kind == "change":
        sha = ws.commit(f"sdd: verified change of {task_id}, not landed yet")
    return _Done(task_id, ws, worked, sha, phase_end)


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
    head = s.repo.head()
    base = worked.record.base
    ws.reset(head)
    if done.sha != base and not ws.repo.apply_commit(done.sha):
        return "its change no longer applies on the new head"
    verdict, passing = worked.verdict, worked.passing
    phase_end = is_phase_end(s, task)
    if head != base or phase_end != done.phase_end:  # siblings landed first: check it again
        changed = changed_in(s, ws, head)
        verdict, passing = judge_in(s, ws, task, changed, phase_end)
        if not verdict.passed:
            first = verdict.output.splitlines()[0] if verdict.output else "failed"
            return f"verification failed on the new head ({first[:120]})"
    assert verdict is not None and worked.result is not None
    record = worked.record
    s.store.set_expected_red(s.feature, verdict.expected_red)
    agent = s.agent_for(task.id).name
    message = commit_message(s, task, agent, worked.result.summary, record.attempts, record.kind)
    ticked = set_done(s.tasks_text, task, True)
    write_exact(ws.root / s.plan.docs.tasks_path.relative_to(s.root), ticked)
    sha = ws.commit(message, hooks=s.plan.config.commit_hooks)
    s.repo.fast_forward(sha)
    s.tasks_text, s.landed[task.id], s.clean_head = ticked, sha, sha
    s.base_snapshot = passing
    record.status, record.commit_sha = "landed", sha
    s.store.save_task(record)
    s.reporter.landed(task.id, sha, record.kind)
    return ""
