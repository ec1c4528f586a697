"""Driving the run graph in this process: the checkpointer, Ctrl-C, and the run's status.

First Ctrl-C: the task in flight finishes and the graph drains at the next step boundary, so
the run pauses with nothing half-done. Second: stop now; the attempt in flight keeps its
conversation and its change, and `sdd resume` goes on from its last recorded step.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from types import FrameType
from typing import Any

from orchestrator.errors import AwaitingAnswer, InputError, SddError
from orchestrator.run.context import RunContext
from orchestrator.run.graph import Decision, build_graph
from orchestrator.run.opening import needs_answer
from orchestrator.store.open import checkpointer
from orchestrator.store.records import RunStatus

STOPPED = "stopped by a second Ctrl-C; `sdd resume` continues the task's attempt where it stopped"


@dataclass(frozen=True, slots=True)
class RunResult:
    status: RunStatus
    reason: str
    landed_now: int  # tasks landed by this invocation
    interrupted: bool = False  # paused by Ctrl-C (the CLI exits 130)
    awaiting: str = ""  # the task held for approval, when that is why the run paused


class _CtrlC:
    """First Ctrl-C: finish the current task and stop at the step boundary. Second: stop now."""

    def __init__(self, control: Any, ctx: RunContext) -> None:
        self.control, self.ctx, self.pressed = control, ctx, 0
        self.previous: Any = None

    def __enter__(self) -> _CtrlC:
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.pressed += 1
        if self.pressed > 1:
            self.ctx.cancel.set()  # a wave's workers stop before their next model call
            raise KeyboardInterrupt
        running = self.ctx.phase_checks.running
        now = f"{running}'s verification" if running else "the current task"
        self.ctx.reporter.note(f"Ctrl-C: finishing {now}, then pausing")
        self.control.request_drain("interrupted by Ctrl-C")


def run_session(ctx: RunContext, decision: Decision | None = None) -> RunResult:
    """Drive the graph for this context's run until it finishes or pauses."""
    with checkpointer(ctx.store.url) as saver:
        return _drive(ctx, build_graph().compile(checkpointer=saver), decision)


def _drive(ctx: RunContext, graph: Any, decision: Decision | None) -> RunResult:
    from langgraph.errors import GraphDrained
    from langgraph.runtime import RunControl
    from langgraph.types import Command

    run, store = ctx.run, ctx.store
    cfg: dict[str, Any] = {
        "configurable": {"thread_id": store.thread_id(run)},
        "recursion_limit": 3 * len(ctx.plan.graph.order) + 10,
    }
    snapshot = graph.get_state(cfg)
    inp: Any = None if snapshot.next else {"landed": 0}
    if "approve_task" in snapshot.next:
        if decision is None:  # the pause has been said; now it needs an answer
            held = str(snapshot.values.get("awaiting"))
            raise AwaitingAnswer(needs_answer(ctx.feature, held))
        inp = Command(resume=decision.model_dump())
    elif decision is not None:
        raise InputError(f"no task of {ctx.feature} is awaiting approval")
    store.set_run_status(run.run_id, RunStatus.RUNNING)
    control = RunControl()
    before = len(ctx.head.landed)

    def paused(reason: str, interrupted: bool = False) -> RunResult:
        store.set_run_status(run.run_id, RunStatus.PAUSED, reason)
        return RunResult(
            RunStatus.PAUSED, reason, len(ctx.head.landed) - before, interrupted=interrupted
        )

    try:
        with _CtrlC(control, ctx):
            final = graph.invoke(inp, cfg, context=ctx, durability="sync", control=control)
    except GraphDrained:
        return paused("interrupted by Ctrl-C", interrupted=True)
    except KeyboardInterrupt as exc:  # a phase check says what it stopped; a task, STOPPED
        return paused(str(exc) if exc.args else STOPPED, interrupted=True)
    except SddError as exc:  # e.g. the API refused our key: resumable once fixed
        store.set_run_status(run.run_id, RunStatus.PAUSED, str(exc))
        raise
    after = graph.get_state(cfg)
    if "approve_task" in after.next:
        held = str(after.values.get("awaiting"))
        result = paused(f"{held} awaits approval")
        return RunResult(result.status, result.reason, result.landed_now, awaiting=held)
    status = RunStatus(final.get("status", RunStatus.FINISHED))
    reason = final.get("reason", "")
    store.set_run_status(run.run_id, status, reason)
    return RunResult(status, reason, len(ctx.head.landed) - before)
