"""One task from base commit to landed commit (or to a clean tree and a recorded failure).

This is the body of the engine's task node. LangGraph re-runs a node from its first line after
a crash, so every step here is safe to repeat: a task already committed is found by its
trailer and never committed again, and leftovers of an interrupted attempt are reset first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator import verify
from orchestrator.attempt import Worked, Workspace, start_at, work
from orchestrator.commitmsg import task_commit_message
from orchestrator.remote import push_landed
from orchestrator.session import Session, read_exact, write_exact
from orchestrator.store import TaskRecord
from orchestrator.tasks import Task
from orchestrator.ticks import set_done


@dataclass(slots=True)
class TaskOutcome:
    landed: bool
    reason: str = ""
    awaiting: bool = False  # verified and held for `sdd resume --approve/--reject`


def ensure_base_snapshot(s: Session) -> None:
    """What is already red at the base is not the next task's fault."""
    if s.base_snapshot is None:
        timeout = s.plan.config.limits.verify_timeout
        s.base_snapshot = verify.snapshot(s.root, s.verify_commands(), (), timeout=timeout)


def execute_task(s: Session, task_id: str) -> TaskOutcome:
    task = s.plan.tasks[task_id]
    if task_id in s.landed:  # committed before a crash, checkpoint not yet written
        record = s.store.task(s.feature, task_id) or TaskRecord(s.feature, task_id)
        record.run_id, record.agent = s.run.run_id, s.agent_for(task_id).name
        record.route_reason = s.plan.routes[task_id].reason
        record.status, record.commit_sha = "landed", s.landed[task_id]
        record.kind = record.kind or "already-landed"
        s.store.save_task(record)
        return TaskOutcome(True)
    if s.clean_head is not None:  # the previous task landed in this process: tree == commit
        base = s.clean_head
    else:
        base = s.repo.head()
        s.repo.reset_to(base)  # leftovers of an interrupted attempt
    s.clean_head = None
    ensure_base_snapshot(s)
    worked = work(s, task_id, Workspace(s.root, s.repo), start_at(s, task, base))
    if not worked.landed:
        return TaskOutcome(False, worked.reason)
    assert worked.verdict is not None
    record = worked.record
    message, ticked = stage_landing(s, task, worked, worked.verdict, s.plan.docs.tasks_path)
    if s.approve_each:  # hold the verified commit aside; the approval node lands it
        sha = s.repo.park(message, pending_ref(s, task_id), base, hooks=s.plan.config.commit_hooks)
        record.status, record.commit_sha = "awaiting approval", sha
        s.store.save_task(record)
        s.reporter.note(f"{task_id} verified as {sha[:10]}; awaiting approval")
        return TaskOutcome(False, f"{task_id} awaits approval", awaiting=True)
    sha = s.repo.commit_all(message, hooks=s.plan.config.commit_hooks)
    s.clean_head = sha
    s.base_snapshot = worked.passing
    record_landed(s, record, sha, ticked)
    return TaskOutcome(True)


def stage_landing(
    s: Session, task: Task, worked: Worked, verdict: verify.Verdict, tasks_path: Path
) -> tuple[str, str]:
    """Everything before the commit of a verified task: its expected-red tests recorded, its
    commit message, and its tick written to `tasks_path`. Returns (message, ticked tasks.md)."""
    assert worked.result is not None
    record = worked.record
    s.store.set_expected_red(s.feature, verdict.expected_red)
    agent = s.agent_for(task.id).name
    message = commit_message(s, task, agent, worked.result.summary, record.attempts, record.kind)
    ticked = set_done(s.tasks_text, task, True)
    write_exact(tasks_path, ticked)
    return message, ticked


def record_landed(s: Session, record: TaskRecord, sha: str, tasks_text: str) -> None:
    """After a task's commit is on the branch: the session, the record, the user, the remote."""
    s.tasks_text, s.landed[record.task_id] = tasks_text, sha
    record.status, record.commit_sha = "landed", sha
    s.store.save_task(record)
    s.reporter.landed(record.task_id, sha, record.kind)
    push_landed(s, record.task_id, sha)


def pending_ref(s: Session, task_id: str) -> str:
    return f"refs/sdd/pending/{s.feature}/{task_id}"


def decide(s: Session, task_id: str, approve: bool, note: str) -> TaskOutcome:
    """The approval gate's answer: land the held commit, or send the note back as feedback."""
    record = s.store.task(s.feature, task_id) or TaskRecord(s.feature, task_id)
    ref = pending_ref(s, task_id)
    if task_id in s.landed:  # landed before a crash; the answer was already carried out
        s.repo.drop_ref(ref)
        return TaskOutcome(True)
    held = s.repo.resolve(ref)
    if approve and held:
        s.repo.fast_forward(held)
        s.repo.drop_ref(ref)
        record_landed(s, record, held, read_exact(s.plan.docs.tasks_path))
        return TaskOutcome(True)
    s.repo.drop_ref(ref)
    record.status, record.commit_sha = "rejected", ""
    record.message = note or "rejected without a note"
    s.store.save_task(record)
    s.reporter.note(f"{task_id} rejected: it runs again with the note as feedback")
    return TaskOutcome(False, f"{task_id} rejected")


def commit_message(
    s: Session, task: Task, agent: str, summary: str, attempts: int, kind: str
) -> str:
    trailers = {
        "Sdd-Task": task.id,
        "Sdd-Feature": s.feature,
        "Sdd-Agent": agent,
        "Sdd-Run": s.run.run_id,
        "Sdd-Attempts": str(attempts),
    }
    if kind == "check":
        trailers["Sdd-Kind"] = "check"
    return task_commit_message(task.id, task.description, summary, trailers)
