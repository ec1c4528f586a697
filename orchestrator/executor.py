"""One task from base commit to landed commit (or to a clean tree and a recorded failure).

This is the body of the engine's task node. LangGraph re-runs a node from its first line after
a crash, so every step here is safe to repeat: a task already committed is found by its
trailer and never committed again, and leftovers of an interrupted attempt are reset first.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator import prompt, verify
from orchestrator.agent_loop import AttemptReport, Limits, LoopResult, run_task_loop
from orchestrator.agents import AgentDef
from orchestrator.budget import Meter
from orchestrator.commitmsg import task_commit_message
from orchestrator.errors import BudgetExceeded, ModelUnavailable
from orchestrator.model import Usage, resolve_model_id
from orchestrator.remote import push_landed
from orchestrator.session import Session, read_exact, write_exact
from orchestrator.store import AttemptRecord, TaskRecord
from orchestrator.tasks import Task
from orchestrator.ticks import set_done
from orchestrator.tools import Toolbox
from orchestrator.transcript import Transcript


@dataclass(slots=True)
class TaskOutcome:
    landed: bool
    reason: str = ""
    awaiting: bool = False  # verified and held for `sdd resume --approve/--reject`


def agent_env() -> dict[str, str]:
    """The agent's `python` is the interpreter that verifies its work, so both see one world."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def transcript_path(session: Session, task_id: str, attempt: int) -> Path:
    return (
        session.root
        / ".sdd"
        / "transcripts"
        / session.feature
        / task_id
        / f"attempt-{attempt}.jsonl"
    )


class _Hooks:
    """The agent loop's view of git, verification and the records for one task."""

    def __init__(
        self, session: Session, task: Task, base: str, record: TaskRecord, meter: Meter
    ) -> None:
        self.s, self.task, self.base, self.record, self.meter = session, task, base, record, meter
        self.first_attempt = record.attempts
        self.verdict: verify.Verdict | None = None
        self.passing: verify.Snapshot | None = None

    def before_call(self) -> None:
        reason = self.meter.exceeded(self.task.id)
        if reason:
            raise BudgetExceeded(reason)

    def on_turn(self, attempt: int, usage: Usage) -> None:
        self.meter.add(usage)
        self.s.run_usage = self.meter.run
        self.s.reporter.turn(self.task.id, self.first_attempt + attempt, usage)

    def changed_files(self) -> list[str]:
        rel = self.s.rel_to_root(self.s.repo.changed_files(self.base))
        tasks_rel = self.s.plan.docs.tasks_path.relative_to(self.s.root).as_posix()
        return [p for p in rel if p != tasks_rel]

    def verify(self, changed: list[str]) -> verify.Verdict:
        s = self.s
        commands = s.verify_commands()
        timeout = s.plan.config.limits.verify_timeout
        assert s.base_snapshot is not None
        now = verify.snapshot(s.root, commands, changed, timeout=timeout)
        phase_title = s.plan.tasklist.phases[self.task.phase].title
        self.verdict = verify.judge(
            now,
            s.base_snapshot,
            task_id=self.task.id,
            changed=changed,
            expected_red=s.store.expected_red(s.feature),
            test_task=verify.is_test_task(self.task, phase_title),
            phase_end=_is_phase_end(s, self.task),
        )
        if self.verdict.passed:
            self.passing = now
        return self.verdict

    def transcript(self, attempt: int) -> Transcript:
        """Counted when it starts, so a killed attempt's transcript is never overwritten."""
        n = self.first_attempt + attempt
        self.record.attempts = n
        self.s.store.save_task(self.record)
        return Transcript(transcript_path(self.s, self.task.id, n), self.s.secrets)

    def keep_usage(self) -> None:
        """Tokens of an attempt cut short (API error, budget, Ctrl-C) still count."""
        u, r = self.meter.task, self.record
        r.input_tokens, r.output_tokens = u.input_tokens, u.output_tokens
        r.cache_write_tokens, r.cache_read_tokens = u.cache_write_tokens, u.cache_read_tokens

    def attempt_done(self, report: AttemptReport) -> None:
        s = self.s
        n = self.first_attempt + report.attempt
        s.store.add_attempt(
            AttemptRecord(
                s.feature,
                self.task.id,
                n,
                s.run.run_id,
                report.outcome,
                report.verdict.output if report.verdict else "",
                report.transcript,
                report.usage.input_tokens,
                report.usage.output_tokens,
                report.seconds,
            )
        )
        r = self.record
        r.attempts = n
        r.input_tokens += report.usage.input_tokens
        r.output_tokens += report.usage.output_tokens
        r.cache_read_tokens += report.usage.cache_read_tokens
        r.cache_write_tokens += report.usage.cache_write_tokens
        r.seconds = round(r.seconds + report.seconds, 3)
        s.store.save_task(r)
        detail = report.verdict.output.splitlines()[0] if report.verdict else ""
        s.reporter.attempt(self.task.id, n, report.outcome, detail[:160])


def _is_phase_end(s: Session, task: Task) -> bool:
    """Last pending task of a phase that contains implementation (not only test writing)."""
    done = s.done_ids()
    phase_tasks = [t for t in s.plan.tasklist.tasks if t.phase == task.phase]
    title = s.plan.tasklist.phases[task.phase].title
    if all(verify.is_test_task(t, title) for t in phase_tasks):
        return False
    return not any(t.id != task.id and t.id not in done and t.line > task.line for t in phase_tasks)


def _landed_list(s: Session) -> list[tuple[str, str, str]]:
    tasks = s.plan.tasks
    return [
        (tid, sha[:8], tasks[tid].description if tid in tasks else "")
        for tid, sha in s.landed.items()
    ]


def execute_task(s: Session, task_id: str) -> TaskOutcome:
    task = s.plan.tasks[task_id]
    agent = s.agent_for(task_id)
    route = s.plan.routes[task_id]
    record = s.store.task(s.feature, task_id) or TaskRecord(s.feature, task_id)
    record.run_id, record.agent, record.route_reason = s.run.run_id, agent.name, route.reason
    if task_id in s.landed:  # committed before a crash, checkpoint not yet written
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
    if s.base_snapshot is None:  # what is already red at the base is not this task's fault
        timeout = s.plan.config.limits.verify_timeout
        s.base_snapshot = verify.snapshot(s.root, s.verify_commands(), (), timeout=timeout)
    rejected = record.message if record.status == "rejected" else ""
    record.status, record.base = "running", base
    s.store.save_task(record)
    s.reporter.task_started(task_id, task.description, agent.name, route.reason)
    cfg = s.plan.config
    toolbox = Toolbox(
        s.root,
        allowed=agent.tools,
        bash_timeout=cfg.limits.bash_timeout,
        bash_allow=[*cfg.bash.allow, *agent.bash_rules],
        bash_deny=cfg.bash.deny,
        allow_env_files=cfg.allow_env_files,
        env=agent_env(),
    )
    model_id = resolve_model_id(agent.model, s.model.name)
    r = record
    task_used = Usage(r.input_tokens, r.output_tokens, r.cache_write_tokens, r.cache_read_tokens)
    meter = Meter(cfg.budget, cfg.price(model_id), s.run_usage, task_used)
    hooks = _Hooks(s, task, base, record, meter)
    phase = s.plan.tasklist.phases[task.phase]
    message = prompt.task_message(
        task, phase, _landed_list(s), verify.describe(s.verify_commands())
    )
    if rejected:
        message += f"\n\nA reviewer rejected your previous change for this task: {rejected}"
    started = time.monotonic()
    try:
        result = _converse(s, task, agent, toolbox, hooks, message)
    except (ModelUnavailable, BudgetExceeded) as exc:  # pause; resume redoes it from its base
        s.repo.reset_to(base)
        hooks.keep_usage()
        what = "budget reached" if isinstance(exc, BudgetExceeded) else "model unavailable"
        reason = f"{task_id}: {what} ({exc}); the run can resume"
        record.status, record.message = "pending", reason
        s.store.save_task(record)
        s.reporter.failed(task_id, reason)
        return TaskOutcome(False, reason)
    except BaseException:  # auth errors, a second Ctrl-C, bugs: leave no trace in the tree
        s.repo.reset_to(base)
        hooks.keep_usage()
        record.status = "pending"
        s.store.save_task(record)
        raise
    if not result.landed:
        s.repo.reset_to(base)
        last = result.attempts[-1].outcome if result.attempts else "no attempt"
        reason = f"{task_id} failed after {len(result.attempts)} attempts (last: {last})"
        record.status, record.message = "failed", reason
        s.store.save_task(record)
        s.reporter.failed(task_id, reason)
        return TaskOutcome(False, reason)
    assert hooks.verdict is not None
    s.store.set_expected_red(s.feature, hooks.verdict.expected_red)
    message = _commit_message(s, task, agent.name, result.summary, record.attempts, result.kind)
    record.kind, record.message = result.kind, result.summary[:500]
    record.seconds = round(time.monotonic() - started, 3)
    ticked = set_done(s.tasks_text, task, True)
    write_exact(s.plan.docs.tasks_path, ticked)
    if s.approve_each:  # hold the verified commit aside; the approval node lands it
        sha = s.repo.park(message, pending_ref(s, task_id), base, hooks=s.plan.config.commit_hooks)
        record.status, record.commit_sha = "awaiting approval", sha
        s.store.save_task(record)
        s.reporter.note(f"{task_id} verified as {sha[:10]}; awaiting approval")
        return TaskOutcome(False, f"{task_id} awaits approval", awaiting=True)
    sha = s.repo.commit_all(message, hooks=s.plan.config.commit_hooks)
    s.tasks_text, s.landed[task_id], s.clean_head = ticked, sha, sha
    s.base_snapshot = hooks.passing
    record.status, record.commit_sha = "landed", sha
    s.store.save_task(record)
    s.reporter.landed(task_id, sha, result.kind)
    push_landed(s, task_id, sha)
    return TaskOutcome(True)


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
        s.landed[task_id] = held
        s.tasks_text = read_exact(s.plan.docs.tasks_path)
        record.status, record.commit_sha = "landed", held
        s.store.save_task(record)
        s.reporter.landed(task_id, held, record.kind)
        push_landed(s, task_id, held)
        return TaskOutcome(True)
    s.repo.drop_ref(ref)
    record.status, record.commit_sha = "rejected", ""
    record.message = note or "rejected without a note"
    s.store.save_task(record)
    s.reporter.note(f"{task_id} rejected: it runs again with the note as feedback")
    return TaskOutcome(False, f"{task_id} rejected")


def _converse(
    s: Session, task: Task, agent: AgentDef, toolbox: Toolbox, hooks: _Hooks, message: str
) -> LoopResult:
    limits = s.plan.config.limits
    return run_task_loop(
        model=s.model,
        model_id=resolve_model_id(agent.model, s.model.name),
        system=s.system_for(agent),
        toolbox=toolbox,
        task_id=task.id,
        first_message=message,
        limits=Limits(limits.attempts, limits.turns, limits.output_tokens, limits.max_tokens),
        check_task=verify.is_check_task(task),
        hooks=hooks,
        on_turn=hooks.on_turn,
    )


def _commit_message(
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
