"""A task's attempts in one work tree: the agent loop, its hooks over git, verification and the
records. Up to a verified change; landing it is `landing`'s job.

Shared by the sequential path (the repository's own work tree) and by parallel waves (a git
worktree per task), which differ only in where the agent works and how the result lands.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from orchestrator import paths
from orchestrator.agent import prompt
from orchestrator.agent.budget import Meter, cost, spent
from orchestrator.agent.engine import Job
from orchestrator.agent.loop import AttemptReport, Limits, LoopResult
from orchestrator.agent.model import Usage
from orchestrator.agent.models import resolve_model_id
from orchestrator.agent.transcript import Transcript, redact
from orchestrator.errors import BudgetExceeded, ModelUnavailable, RunStopped
from orchestrator.run.context import RunContext
from orchestrator.run.footprint import Footprint
from orchestrator.run.guard import AttemptGuard
from orchestrator.run.journal import Conversation, StoreJournal
from orchestrator.run.start import Start
from orchestrator.run.tools import agent_env, agent_toolbox
from orchestrator.run.verifying import judge_in
from orchestrator.run.workspace import Workspace
from orchestrator.speckit.tasks import Task
from orchestrator.store.records import AttemptRecord, Outcome, TaskRecord, TaskStatus
from orchestrator.verify import policy
from orchestrator.verify.commands import describe
from orchestrator.verify.results import Snapshot


@dataclass(slots=True)
class Worked:
    """What the attempts produced; `landed` means verified and ready to land, not yet landed."""

    record: TaskRecord
    result: LoopResult | None = None
    verdict: policy.Verdict | None = None
    passing: Snapshot | None = None  # the verification that passed, at the new tree
    reason: str = ""
    paused: bool = False  # budget, model trouble or unverifiable: resumable, not its failure
    ran: tuple[tuple[str, bool], ...] = ()  # the agent's Bash commands (a check's evidence)
    journal: StoreJournal | None = None  # the conversation, ended once the task has landed

    @property
    def landed(self) -> bool:
        return self.result is not None and self.result.landed


def _headline(output: str, limit: int = 160) -> str:
    """The first line of a verification's output, cut on a word when it is long."""
    line = output.splitlines()[0] if output else ""
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


class _Hooks:
    """The agent loop's view of git, verification and the records for one task."""

    def __init__(
        self,
        ctx: RunContext,
        ws: Workspace,
        task: Task,
        start: Start,
        record: TaskRecord,
        meter: Meter,
        ran: list[tuple[str, bool]],
        guard: AttemptGuard,
        footprint: Footprint | None,
    ) -> None:
        self.ctx, self.ws, self.task, self.start = ctx, ws, task, start
        self.record, self.meter, self.ran = record, meter, ran
        self.guard, self.footprint = guard, footprint
        self.first_attempt = record.attempts
        self.verdict: policy.Verdict | None = None
        self.passing: Snapshot | None = None
        self.breach = ""  # what the guard undid after the agent's turns
        self.verify_seconds = 0.0  # of the attempt in progress

    def before_call(self) -> None:
        self.ctx.reporter.activity(self.task.id, "model call")
        if self.ctx.cancel.is_set():
            raise RunStopped("stopped by a second Ctrl-C")
        self.meter.run = self.ctx.usage.total  # siblings in a wave spend from one run budget
        reason = self.meter.exceeded(self.task.id)
        if reason:
            raise BudgetExceeded(reason)

    def on_turn(self, attempt: int, usage: Usage) -> None:
        """Counted on the task's record at once: a kill, a pause or a Ctrl-C loses none."""
        self.meter.add(usage)
        self.ctx.usage.add(usage)
        r = self.record
        r.input_tokens += usage.input_tokens
        r.output_tokens += usage.output_tokens
        r.cache_read_tokens += usage.cache_read_tokens
        r.cache_write_tokens += usage.cache_write_tokens
        r.cache_write_1h_tokens += usage.cache_write_1h_tokens
        self.ctx.store.save_task(r)
        self.ctx.reporter.turn(self.task.id, attempt, usage)  # numbered in this round

    def changed_files(self) -> list[str]:
        """The task's changes, after undoing any breach (which then counts as a change, so
        the attempt is judged, and fails)."""
        self.breach, touched, changed = self.guard.check()
        return sorted({*changed, *touched})

    def verify(self, changed: list[str]) -> policy.Verdict:
        start = self.start
        if self.breach:
            self.verdict = _refused(self.breach)
            return self.verdict
        self.ctx.reporter.activity(self.task.id, "verifying")
        with self.footprint.in_flight() if self.footprint else contextlib.nullcontext():
            self.verdict, now = judge_in(
                self.ctx, self.ws, self.task, changed, start.phase_end, start.red, start.base,
                self.ran,
            )  # fmt: skip
        self.verify_seconds += now.seconds
        self.record.verify_seconds = round(self.record.verify_seconds + now.seconds, 3)
        breach, _, _ = self.guard.check()  # verification ran the agent's code too
        if breach:
            self.verdict = _refused(f"During verification: {breach}")
        elif self.verdict.passed:
            self.passing = now
        return self.verdict

    def transcript(self, attempt: int, resumed: bool = False) -> Transcript:
        """Counted when it starts, so a killed attempt's transcript is never overwritten;
        a resumed attempt's goes on where it stopped."""
        n = self.first_attempt + attempt
        self.record.attempts = n
        self.ctx.store.save_task(self.record)
        path = paths.transcript_file(self.ctx.root, self.ctx.feature, self.task.id, n)
        return Transcript(path, list(self.ctx.secrets), append=resumed)

    def attempt_done(self, report: AttemptReport) -> None:
        ctx, r = self.ctx, self.record
        output = redact(report.verdict.output, ctx.secrets) if report.verdict else ""
        n = self.first_attempt + report.attempt
        ctx.store.add_attempt(
            AttemptRecord(
                ctx.feature,
                self.task.id,
                n,
                ctx.run.run_id,
                report.outcome,
                output,
                report.transcript,
                report.usage.input_tokens,
                report.usage.output_tokens,
                report.seconds,
            )
        )
        r.attempts = n  # its tokens are on the record already, turn by turn (`on_turn`)
        r.seconds = round(r.seconds + report.seconds, 3)
        ctx.store.save_task(r)
        # a pass says what verified it when it lands; a failure says why here
        detail = "" if report.outcome == Outcome.PASSED else _headline(output)
        spent, self.verify_seconds = self.verify_seconds, 0.0
        ctx.reporter.attempt(self.task.id, report.attempt, report.outcome, detail,
            of=ctx.plan.config.limits.attempts, usage=report.usage, seconds=report.seconds,
            cost=cost(report.usage, self.meter.price), verify_seconds=spent)  # fmt: skip


def _refused(why: str) -> policy.Verdict:
    """The verdict on an attempt whose breach the guard undid."""
    return policy.Verdict(False, why, {}, headline=f"FAILED: {why}")


def work(
    ctx: RunContext,
    task_id: str,
    ws: Workspace,
    start: Start,
    footprint: Footprint | None = None,
    found: Conversation | None = None,
) -> Worked:
    """Run the task's attempts in `ws` from `start.base` until one verifies or the limits end it.

    Whatever does not end verified leaves `ws` back at its base, with the reason recorded,
    but a pause (budget, model unavailable, a second Ctrl-C), which keeps it as a kill would.
    Safe to run beside other tasks' `work` (a wave): it reads nothing that landing changes,
    only `start`. `footprint` keeps what the attempt changed on record (the main work tree).
    `found` is a conversation cut short in this tree, which the attempts continue.
    """
    base, task, cfg = start.base, ctx.plan.tasks[task_id], ctx.plan.config
    agent, route = ctx.agent_for(task_id), ctx.plan.routes[task_id]
    record = ctx.store.task(ctx.feature, task_id) or TaskRecord(ctx.feature, task_id)
    record.run_id, record.agent, record.route_reason = ctx.run.run_id, agent.name, route.reason
    rejected = record.message if record.status == TaskStatus.REJECTED else ""
    record.status, record.base = TaskStatus.RUNNING, base
    ctx.store.save_task(record)
    ctx.reporter.task_started(task_id, task.description, agent.name, route.reason)
    if record.attempts and found is None:  # numbered from 1 again; transcripts go on after
        ctx.reporter.note(
            f"{task_id}: a new round of up to {cfg.limits.attempts} attempts "
            f"({record.attempts} made before; `sdd show --attempt N` numbers them all)"
        )
    verification = ctx.verification()
    env = agent_env(ws.root, verification.bin_dir)
    toolbox = agent_toolbox(ctx, ws, agent, env, footprint)
    toolbox.watch = lambda step: ctx.reporter.activity(task_id, step)
    model_id = resolve_model_id(agent.model, ctx.engine.model)
    task_used = spent([record])
    meter = Meter(cfg.budget, cfg.price(model_id), ctx.usage.total, task_used)
    guard = AttemptGuard(ws, base, ctx.machinery, task.files)
    hooks = _Hooks(ctx, ws, task, start, record, meter, toolbox.ran, guard, footprint)
    journal = StoreJournal(
        ctx.store, ctx.feature, task_id, ws, base, ctx.secrets, found, record.attempts + 1
    )
    hooks.first_attempt = journal.convo - 1
    phase = ctx.plan.tasklist.phases[task.phase]
    how = describe(verification.commands, cfg.protect_tests)
    message = prompt.task_message(task, phase, list(start.landed), how, cfg.phase_verify or ())
    if rejected:
        message += f"\n\nA reviewer rejected your previous change for this task: {rejected}"
    started = time.monotonic()
    limits = cfg.limits
    job = Job(
        task_id=task.id,
        root=ws.root,
        model_id=model_id,
        system=ctx.system_for(agent),
        first_message=message,
        limits=Limits(limits.attempts, limits.turns, limits.output_tokens, limits.max_tokens),
        check_task=policy.is_check_task(task),
        toolbox=toolbox,
        tools=agent.tools,
        env=env,
        writing=footprint.in_flight if footprint is not None else contextlib.nullcontext,
        journal=journal,
    )
    try:
        result = ctx.engine.run_task(job, hooks)
    except (ModelUnavailable, BudgetExceeded) as exc:  # pause: resume goes on where it stopped
        ctx.reporter.failed(task_id, reason := _paused(hooks, guard, exc))
        return Worked(record, reason=reason, paused=True)
    except (KeyboardInterrupt, RunStopped) as exc:  # a second Ctrl-C: stop now, keep it all
        _paused(hooks, guard, exc)
        raise
    except BaseException as exc:  # auth errors, bugs: leave no trace in the tree
        with contextlib.suppress(Exception):
            journal.end(type(exc).__name__)
        guard.undo()
        ws.reset(base)
        record.status = TaskStatus.PENDING
        ctx.store.save_task(record)
        raise
    if not result.landed:
        journal.end(str(result.attempts[-1].outcome) if result.attempts else "no attempt")
        guard.undo()
        ws.reset(base)
        last = result.attempts[-1] if result.attempts else None
        if last is not None and last.outcome == Outcome.UNVERIFIABLE:  # a person must act
            assert hooks.verdict is not None
            reason = f"{task_id} could not be verified: {hooks.verdict.headline}"
            record.status, record.message = TaskStatus.PENDING, reason
            ctx.store.save_task(record)
            ctx.reporter.failed(task_id, reason)
            return Worked(record, result, reason=reason, paused=True, ran=tuple(toolbox.ran))
        reason = f"{task_id} failed after {len(result.attempts)} attempts (last: {_last(last)})"
        record.status, record.message = TaskStatus.FAILED, reason
        ctx.store.save_task(record)
        ctx.reporter.failed(task_id, reason)
        return Worked(record, result, reason=reason, ran=tuple(toolbox.ran))
    record.kind, record.message = result.kind, redact(result.summary, ctx.secrets)[:500]
    record.seconds = round(time.monotonic() - started, 3)
    ran = tuple(toolbox.ran)
    return Worked(record, result, hooks.verdict, hooks.passing, ran=ran, journal=journal)


def _paused(hooks: _Hooks, guard: AttemptGuard, exc: BaseException) -> str:
    """The attempt left as a kill leaves it (its conversation open, its change in the tree,
    its tokens on record), for `sdd resume` to go on with; the pause's reason."""
    guard.undo()
    what = "stopped by a second Ctrl-C"
    if isinstance(exc, BudgetExceeded | ModelUnavailable):
        kind = "budget reached" if isinstance(exc, BudgetExceeded) else "model unavailable"
        what = f"{kind} ({exc})"
    r = hooks.record
    r.status = TaskStatus.PENDING
    r.message = f"{r.task_id}: {what}; `sdd resume` continues its attempt where it stopped"
    hooks.ctx.store.save_task(r)
    return r.message


def _last(report: AttemptReport | None) -> str:
    """How the last attempt ended, with its verification's reason when it had one."""
    if report is None:
        return "no attempt"
    why = _headline(report.verdict.output).removeprefix("FAILED: ") if report.verdict else ""
    return f"{report.outcome}: {why}" if why else str(report.outcome)
