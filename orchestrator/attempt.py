"""A task's attempts in one work tree: the agent loop, its hooks over git, verification, records.

Shared by the sequential path (the repository's own work tree) and by parallel waves (a git
worktree per task). The two differ only in where the agent works and how the result lands,
so everything up to a verified change lives here and landing stays with the caller.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator import prompt, verify
from orchestrator.agent_loop import AttemptReport, Limits, LoopResult, run_task_loop
from orchestrator.budget import Meter
from orchestrator.errors import BudgetExceeded, ModelUnavailable, RunStopped
from orchestrator.gitrepo import GitRepo
from orchestrator.model import Usage, resolve_model_id
from orchestrator.session import Session
from orchestrator.store import AttemptRecord, TaskRecord
from orchestrator.tasks import Task
from orchestrator.tools import Toolbox
from orchestrator.transcript import Transcript


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where an agent works: the spec-kit root inside one git work tree.

    `shared` are links (paths from the work tree's top) to the repository's own ignored
    folders, such as `.venv` or `node_modules`, which a wave's worktree needs to verify:
    never reset away, never committed.
    """

    root: Path
    repo: GitRepo
    shared: tuple[str, ...] = ()

    def reset(self, sha: str) -> None:
        self.repo.reset_to(sha, keep=self.shared)

    def commit(self, message: str, *, hooks: bool = False) -> str:
        return self.repo.commit_all(message, hooks=hooks, leave=self.shared)

    def changed(self, base: str) -> list[str]:
        """Changed paths against `base`, relative to the workspace root."""
        return self.rel([p for p in self.repo.changed_files(base) if p not in self.shared])

    def rel(self, paths: list[str]) -> list[str]:
        """git paths are relative to the work tree top; the workspace is the spec-kit root."""
        prefix = self.root.resolve().relative_to(self.repo.root.resolve()).as_posix()
        if prefix in ("", "."):
            return paths
        return [p[len(prefix) + 1 :] for p in paths if p.startswith(prefix + "/")]


@dataclass(slots=True)
class Worked:
    """What the attempts produced; `landed` means verified and ready to land, not yet landed."""

    record: TaskRecord
    result: LoopResult | None = None
    verdict: verify.Verdict | None = None
    passing: verify.Snapshot | None = None  # the verification that passed, at the new tree
    reason: str = ""
    paused: bool = False  # budget or model trouble: resumable, not the task's failure

    @property
    def landed(self) -> bool:
        return self.result is not None and self.result.landed


def agent_env() -> dict[str, str]:
    """The agent's `python` is the interpreter that verifies its work, so both see one world."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def transcript_path(session: Session, task_id: str, attempt: int) -> Path:
    sdd = session.root / ".sdd"
    return sdd / "transcripts" / session.feature / task_id / f"attempt-{attempt}.jsonl"


def is_phase_end(s: Session, task: Task, running: frozenset[str] = frozenset()) -> bool:
    """Last pending task of a phase that contains implementation (not only test writing).

    A task working beside others of its phase (`running`) is not the end: they have not
    landed in its tree, so the phase's tests cannot be expected green there yet.
    """
    done = s.done_ids()
    phase_tasks = [t for t in s.plan.tasklist.tasks if t.phase == task.phase]
    title = s.plan.tasklist.phases[task.phase].title
    if all(verify.is_test_task(t, title) for t in phase_tasks):
        return False
    if any(t.id != task.id and t.id in running for t in phase_tasks):
        return False
    return not any(t.id != task.id and t.id not in done and t.line > task.line for t in phase_tasks)


def changed_in(s: Session, ws: Workspace, base: str) -> list[str]:
    """The task's changed files, tasks.md aside (sdd ticks it, the agent does not)."""
    tasks_rel = s.plan.docs.tasks_path.relative_to(s.root).as_posix()
    return [p for p in ws.changed(base) if p != tasks_rel]


@dataclass(frozen=True, slots=True)
class Start:
    """What a task starts from, fixed when it starts, so siblings landing meanwhile (in a
    wave) cannot move it: its base commit, what is red there, and what the prompt says."""

    base: str
    red: verify.Snapshot  # verification at `base`: failures there are not this task's fault
    phase_end: bool
    landed: tuple[tuple[str, str, str], ...]  # (task, short sha, description) for the prompt


def start_at(s: Session, task: Task, base: str, running: frozenset[str] = frozenset()) -> Start:
    """`s.base_snapshot` must be the verification of `base`."""
    assert s.base_snapshot is not None
    tasks = s.plan.tasks
    landed = tuple(
        (tid, sha[:8], tasks[tid].description if tid in tasks else "")
        for tid, sha in s.landed.items()
    )
    return Start(base, s.base_snapshot, is_phase_end(s, task, running), landed)


def judge_in(
    s: Session,
    ws: Workspace,
    task: Task,
    changed: list[str],
    phase_end: bool,
    red: verify.Snapshot,
) -> tuple[verify.Verdict, verify.Snapshot]:
    """Verify the tree at `ws` against `red`, the verification of the commit it started from."""
    timeout = s.plan.config.limits.verify_timeout
    now = verify.snapshot(ws.root, s.verify_commands(), changed, timeout=timeout)
    verdict = verify.judge(
        now,
        red,
        task_id=task.id,
        changed=changed,
        expected_red=s.store.expected_red(s.feature),
        test_task=verify.is_test_task(task, s.plan.tasklist.phases[task.phase].title),
        phase_end=phase_end,
    )
    return verdict, now


class _Hooks:
    """The agent loop's view of git, verification and the records for one task."""

    def __init__(
        self,
        session: Session,
        ws: Workspace,
        task: Task,
        start: Start,
        record: TaskRecord,
        meter: Meter,
    ) -> None:
        self.s, self.ws, self.task, self.start = session, ws, task, start
        self.record, self.meter = record, meter
        self.first_attempt = record.attempts
        self.verdict: verify.Verdict | None = None
        self.passing: verify.Snapshot | None = None

    def before_call(self) -> None:
        if self.s.cancel.is_set():
            raise RunStopped("stopped by a second Ctrl-C")
        self.meter.run = self.s.run_usage  # siblings in a wave spend from the same run budget
        reason = self.meter.exceeded(self.task.id)
        if reason:
            raise BudgetExceeded(reason)

    def on_turn(self, attempt: int, usage: Usage) -> None:
        self.meter.add(usage)
        self.s.add_run_usage(usage)
        self.s.reporter.turn(self.task.id, self.first_attempt + attempt, usage)

    def changed_files(self) -> list[str]:
        return changed_in(self.s, self.ws, self.start.base)

    def verify(self, changed: list[str]) -> verify.Verdict:
        start = self.start
        self.verdict, now = judge_in(
            self.s, self.ws, self.task, changed, start.phase_end, start.red
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


def work(s: Session, task_id: str, ws: Workspace, start: Start) -> Worked:
    """Run the task's attempts in `ws` from `start.base` until one verifies or the limits end it.

    Whatever does not end verified leaves `ws` back at its base, with the reason recorded.
    Safe to run beside other tasks' `work` (a wave): it reads nothing of the session that
    landing changes, only `start`.
    """
    base = start.base
    task = s.plan.tasks[task_id]
    agent = s.agent_for(task_id)
    route = s.plan.routes[task_id]
    record = s.store.task(s.feature, task_id) or TaskRecord(s.feature, task_id)
    record.run_id, record.agent, record.route_reason = s.run.run_id, agent.name, route.reason
    rejected = record.message if record.status == "rejected" else ""
    record.status, record.base = "running", base
    s.store.save_task(record)
    s.reporter.task_started(task_id, task.description, agent.name, route.reason)
    cfg = s.plan.config
    toolbox = Toolbox(
        ws.root,
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
    hooks = _Hooks(s, ws, task, start, record, meter)
    phase = s.plan.tasklist.phases[task.phase]
    message = prompt.task_message(
        task, phase, list(start.landed), verify.describe(s.verify_commands())
    )
    if rejected:
        message += f"\n\nA reviewer rejected your previous change for this task: {rejected}"
    started = time.monotonic()
    limits = cfg.limits
    try:
        result = run_task_loop(
            model=s.model,
            model_id=model_id,
            system=s.system_for(agent),
            toolbox=toolbox,
            task_id=task.id,
            first_message=message,
            limits=Limits(limits.attempts, limits.turns, limits.output_tokens, limits.max_tokens),
            check_task=verify.is_check_task(task),
            hooks=hooks,
            on_turn=hooks.on_turn,
        )
    except (ModelUnavailable, BudgetExceeded) as exc:  # pause; resume redoes it from its base
        ws.reset(base)
        hooks.keep_usage()
        what = "budget reached" if isinstance(exc, BudgetExceeded) else "model unavailable"
        reason = f"{task_id}: {what} ({exc}); the run can resume"
        record.status, record.message = "pending", reason
        s.store.save_task(record)
        s.reporter.failed(task_id, reason)
        return Worked(record, reason=reason, paused=True)
    except BaseException:  # auth errors, a second Ctrl-C, bugs: leave no trace in the tree
        ws.reset(base)
        hooks.keep_usage()
        record.status = "pending"
        s.store.save_task(record)
        raise
    if not result.landed:
        ws.reset(base)
        last = result.attempts[-1].outcome if result.attempts else "no attempt"
        reason = f"{task_id} failed after {len(result.attempts)} attempts (last: {last})"
        record.status, record.message = "failed", reason
        s.store.save_task(record)
        s.reporter.failed(task_id, reason)
        return Worked(record, result, reason=reason)
    record.kind, record.message = result.kind, result.summary[:500]
    record.seconds = round(time.monotonic() - started, 3)
    return Worked(record, result, hooks.verdict, hooks.passing)
