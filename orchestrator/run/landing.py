"""Landing a verified task: its commit message, its tick in tasks.md, the commit, the records,
the remote; and the approval gate's answer for a task held before it landed.

The only code that moves the run's `Head`. A commit carries trailers (`Sdd-Task`, ...), so a
task committed just before a crash is found on resume and never committed twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.agent.loop import AttemptReport
from orchestrator.agent.transcript import find_secret, redact
from orchestrator.git import history, trailers
from orchestrator.git.history import pending_ref
from orchestrator.run.attempt import Worked
from orchestrator.run.context import RunContext
from orchestrator.run.remote import push_landed
from orchestrator.run.workspace import Workspace
from orchestrator.speckit.documents import read_exact, write_exact
from orchestrator.speckit.tasks import Task
from orchestrator.speckit.ticks import set_done
from orchestrator.store.records import TaskKind, TaskRecord, TaskStatus
from orchestrator.verify.policy import Verdict
from orchestrator.verify.results import Snapshot

_SCAN_BYTES = 50_000_000


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    landed: bool
    reason: str = ""
    awaiting: bool = False  # verified and held for `sdd resume --approve/--reject`


def stage_landing(
    ctx: RunContext, task: Task, worked: Worked, verdict: Verdict, tasks_path: Path
) -> tuple[str, str]:
    """Everything before the commit of a verified task: its expected-red tests recorded, its
    commit message, and its tick written to `tasks_path`. Returns (message, ticked tasks.md)."""
    assert worked.result is not None
    record = worked.record
    ctx.reporter.activity(task.id, "landing")
    record.evidence = verdict.evidence
    if verdict.new_expected:
        record.kind = TaskKind.TDD_RED
    elif record.kind == TaskKind.TDD_RED:  # judged again on a new head, green this time
        record.kind = TaskKind.CHANGE
    ctx.store.set_expected_red(ctx.feature, verdict.expected_red)
    agent = ctx.agent_for(task.id).name
    body = commit_body(ctx.head.tasks_text, task, worked.result.attempts)
    message = commit_message(ctx, task, agent, body, record, verdict)
    ticked = set_done(ctx.head.tasks_text, task, True)
    write_exact(tasks_path, ticked)
    return message, ticked


def refuse_secrets(ctx: RunContext, ws: Workspace, base: str, record: TaskRecord) -> str:
    """The last look at a verified change before it lands: if a file it changes holds the API
    key or another secret of sdd's environment (in any form `redact` knows), the tree goes
    back to `base` and the task fails; the reason, or '' when it may land."""
    if not ctx.secrets:
        return ""
    for rel in ws.changed(base):
        path = ws.root / rel
        texts = [rel]
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _SCAN_BYTES:
            texts.append(path.read_bytes().decode("latin-1"))
        if any(find_secret(text, ctx.secrets) for text in texts):
            reason = f"{record.task_id} not landed: {rel} holds a secret of sdd's environment"
            ws.reset(base)
            record.status, record.message = TaskStatus.FAILED, reason
            ctx.store.save_task(record)
            ctx.reporter.failed(record.task_id, reason)
            return reason
    return ""


def record_landed(
    ctx: RunContext, record: TaskRecord, sha: str, tasks_text: str, verified: Snapshot | None
) -> None:
    """After a task's commit is on the branch: the head, the record, the user, the remote."""
    ctx.head.land(record.task_id, sha, tasks_text, verified)
    record.status, record.commit_sha = TaskStatus.LANDED, sha
    ctx.store.save_task(record)
    ctx.reporter.landed(record.task_id, sha, record.kind, record.evidence)
    hooks = ctx.plan.config.commit_hooks
    push_landed(ctx.repo, ctx.remote, ctx.feature, record.task_id, sha, hooks=hooks)


def record_found(ctx: RunContext, task_id: str) -> None:
    """A task committed before a crash, whose checkpoint was not yet written: record it."""
    record = ctx.store.task(ctx.feature, task_id) or TaskRecord(ctx.feature, task_id)
    record.run_id, record.agent = ctx.run.run_id, ctx.agent_for(task_id).name
    record.route_reason = ctx.plan.routes[task_id].reason
    record.status, record.commit_sha = TaskStatus.LANDED, ctx.head.landed[task_id]
    record.kind = record.kind or TaskKind.ALREADY_LANDED
    ctx.store.save_task(record)


def decide(ctx: RunContext, task_id: str, approve: bool, note: str) -> TaskOutcome:
    """The approval gate's answer: land the held commit, or send the note back as feedback."""
    record = ctx.store.task(ctx.feature, task_id) or TaskRecord(ctx.feature, task_id)
    ref = pending_ref(ctx.feature, task_id)
    if task_id in ctx.head.landed:  # landed before a crash; the answer was already carried out
        ctx.repo.drop_ref(ref)
        return TaskOutcome(True)
    held = ctx.repo.resolve(ref)
    if approve and held:
        ctx.repo.fast_forward(held)
        ctx.repo.drop_ref(ref)
        record_landed(ctx, record, held, read_exact(ctx.plan.docs.tasks_path), None)
        return TaskOutcome(True)
    rejected = _rejected_change(ctx, held) if held else ""
    ctx.repo.drop_ref(ref)
    record.status, record.commit_sha = TaskStatus.REJECTED, ""
    record.message = (note or "rejected without a note") + rejected
    ctx.store.save_task(record)
    ctx.reporter.note(f"{task_id} rejected: it runs again with the note as feedback")
    return TaskOutcome(False, f"{task_id} rejected")


_CHECKBOX = re.compile(r"^\s*[-*+]\s*\[.?\]\s*")


def commit_body(tasks_text: str, task: Task, attempts: Sequence[AttemptReport]) -> str:
    """The full task line as tasks.md has it, then what the agent said it did in each attempt
    (a fix alone would hide what the first attempt built)."""
    lines = tasks_text.splitlines()
    raw = lines[task.line - 1] if 0 < task.line <= len(lines) else ""
    line = _CHECKBOX.sub("", raw).strip() if task.id in raw else ""
    parts = [line or f"{task.id} {task.description}"]
    said = [(a.attempt, str(a.outcome), a.summary.strip()) for a in attempts if a.summary.strip()]
    if len(said) == 1:
        parts.append(said[0][2])
    else:
        parts += [f"Attempt {n} ({outcome}): {text}" for n, outcome, text in said]
    return "\n\n".join(parts)


_REJECTED_DIFF = 20_000  # characters of the rejected change the agent gets back


def _rejected_change(ctx: RunContext, held: str) -> str:
    """The rejected commit's patch (tasks.md's tick left out), for the agent to rework."""
    tasks_md = ctx.plan.docs.tasks_path.resolve().relative_to(ctx.repo.root).as_posix()
    patch = history.patch(ctx.repo, held, leave_out=tasks_md)
    if len(patch) > _REJECTED_DIFF:
        patch = patch[:_REJECTED_DIFF] + f"\n[… {len(patch) - _REJECTED_DIFF} characters cut]"
    return f"\n\nThe change that was rejected (it is not in the tree now):\n```diff\n{patch}```"


def commit_message(
    ctx: RunContext, task: Task, agent: str, body: str, record: TaskRecord, verdict: Verdict
) -> str:
    """Subject, the body (`commit_body`), and trailers that say how it was verified: a check's
    evidence, tests landed red as expected, expected-red tests this task turned green."""
    fields = {
        trailers.TASK: task.id,
        trailers.FEATURE: ctx.feature,
        trailers.AGENT: agent,
        trailers.RUN: ctx.run.run_id,
        trailers.ATTEMPTS: str(record.attempts),
    }
    if record.kind in (TaskKind.CHECK, TaskKind.TDD_RED):
        fields[trailers.KIND] = str(record.kind)
    if record.kind == TaskKind.CHECK and verdict.evidence:
        fields[trailers.EVIDENCE] = verdict.evidence
    if verdict.red_files:
        fields[trailers.EXPECTED_RED] = ", ".join(verdict.red_files)
    if verdict.turned_green:
        fields[trailers.TURNED_GREEN] = ", ".join(
            f"{f} (written by {t})" for f, t in verdict.turned_green.items()
        )
    return trailers.task_commit_message(
        task.id, task.description, redact(body, ctx.secrets), fields
    )
