"""LangGraph wiring: two nodes, two pure routers, the store's checkpointer (`stores.py`).

    START -> select_task -(a task is ready)-> run_task -(landed)-> select_task ...
                         -(none left)-> END             -(failed)-> END (paused)
                         |                              -(held)--> approve_task -> select_task
                         -(several ready, --jobs N)-> run_wave -> select_task | END (paused)

Graph state is a cursor (run id, current task, counters, status); per-task records live in
the store. A whole task runs inside `run_task`, so a crash costs at most that task, and
resuming re-runs it from its first line, where `execute_task` finds committed work by trailer.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic reads its schema on 3.11 (LangGraph Server)

from orchestrator.errors import InputError, SddError
from orchestrator.executor import decide, execute_task
from orchestrator.session import Session

if TYPE_CHECKING:
    from langgraph.runtime import Runtime


class RunState(TypedDict, total=False):
    run_id: str
    current: str | None
    landed: int
    status: str  # running | paused | finished
    reason: str
    awaiting: str | None  # a verified task held for approval
    batch: list[str]  # a wave's tasks working at once (--jobs N)
    solo: list[str]  # tasks a wave could not land, redone alone on the new head


def select_task(state: RunState, runtime: Runtime[Session]) -> RunState:
    s = runtime.context
    done = s.done_ids()
    ready = s.plan.graph.ready(done)
    solo = [t for t in state.get("solo", []) if t not in done]
    if ready:
        first = next((t for t in ready if t in solo), ready[0])
        if s.jobs > 1 and not s.approve_each and first not in solo and len(ready) > 1:
            wave = [t for t in ready if t not in solo]  # s.jobs of them work at once
            return {"current": None, "batch": wave, "solo": solo, "status": "running", "reason": ""}
        return {"current": first, "batch": [], "solo": solo, "status": "running", "reason": ""}
    pending = [t for t in s.plan.graph.order if t not in done]
    if not pending:
        return {"current": None, "status": "finished", "reason": ""}
    return {"current": None, "status": "paused", "reason": f"no task is ready ({pending[0]} waits)"}


def run_task(state: RunState, runtime: Runtime[Session]) -> RunState:
    current = state.get("current")
    assert current is not None
    outcome = execute_task(runtime.context, current)
    if outcome.landed:
        return {"current": None, "landed": state.get("landed", 0) + 1}
    if outcome.awaiting:
        return {"current": None, "awaiting": current}
    return {"status": "paused", "reason": outcome.reason}


class Decision(BaseModel):
    """The answer to an approval gate, given by `sdd resume --approve/--reject --note`."""

    approve: bool
    note: str = ""


def approve_task(state: RunState, runtime: Runtime[Session]) -> RunState:
    """Stop before the commit lands. Re-executed from here on resume, so effects come after."""
    from langgraph.types import interrupt

    s, task_id = runtime.context, state.get("awaiting")
    assert task_id is not None
    record = s.store.task(s.feature, task_id)
    answer = interrupt(
        {"task": task_id, "commit": record.commit_sha if record else "", "question": "land it?"},
        response_schema=Decision,
    )
    decision = answer if isinstance(answer, Decision) else Decision.model_validate(answer)
    outcome = decide(s, task_id, decision.approve, decision.note)
    landed = state.get("landed", 0) + (1 if outcome.landed else 0)
    return {"awaiting": None, "landed": landed}


def run_wave(state: RunState, runtime: Runtime[Session]) -> RunState:
    """A wave is one step: a crash mid-wave redoes the wave's unlanded tasks, no others."""
    from orchestrator.waves import run_wave as work_wave

    out = work_wave(runtime.context, state.get("batch", []))
    update: RunState = {
        "batch": [],
        "landed": state.get("landed", 0) + len(out.landed),
        "solo": [*state.get("solo", []), *out.redo],
    }
    reasons = ([out.paused] if out.paused else []) + out.failed
    if reasons:  # the siblings have landed; now the run stops for the user
        update |= {"status": "paused", "reason": "; ".join(reasons)}
    return update


def after_select(state: RunState) -> Literal["run_task", "run_wave", "__end__"]:
    if state.get("batch"):
        return "run_wave"
    return "run_task" if state.get("current") else "__end__"


def after_wave(state: RunState) -> Literal["select_task", "__end__"]:
    return "__end__" if state.get("status") == "paused" else "select_task"


def after_task(state: RunState) -> Literal["select_task", "approve_task", "__end__"]:
    if state.get("status") == "paused":
        return "__end__"
    return "approve_task" if state.get("awaiting") else "select_task"


Node = Callable[[RunState, "Runtime[Session]"], RunState]


def build_graph(wrap: Callable[[Node], Node] | None = None, context_schema: Any = Session) -> Any:
    """The uncompiled graph, compiled with the CLI's SQLite saver or the server's own.

    The CLI passes its Session as each run's context; LangGraph Server passes the run's JSON
    context instead, so `orchestrator.server` wraps every node to hand it a Session.
    """
    from langgraph.graph import START, StateGraph

    w = wrap or (lambda node: node)
    builder = StateGraph(RunState, context_schema=context_schema)
    builder.add_node("select_task", w(select_task))
    builder.add_node("run_task", w(run_task))
    builder.add_node("approve_task", w(approve_task))
    builder.add_node("run_wave", w(run_wave))
    builder.add_edge(START, "select_task")
    builder.add_conditional_edges("select_task", after_select)
    builder.add_conditional_edges("run_task", after_task)
    builder.add_conditional_edges("run_wave", after_wave)
    builder.add_edge("approve_task", "select_task")
    return builder


@dataclass(slots=True)
class RunResult:
    status: str  # finished | paused | interrupted
    reason: str
    landed_now: int


class _CtrlC:
    """First Ctrl-C: finish the current task and stop at the step boundary. Second: stop now."""

    def __init__(self, control: Any, session: Session) -> None:
        self.control, self.session, self.pressed = control, session, 0
        self.previous: Any = None

    def __enter__(self) -> _CtrlC:
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.pressed += 1
        if self.pressed > 1:
            self.session.cancel.set()  # a wave's workers stop before their next model call
            raise KeyboardInterrupt
        self.session.reporter.note("Ctrl-C: finishing the current task, then pausing")
        self.control.request_drain("interrupted by Ctrl-C")


def run_session(session: Session, decision: Decision | None = None) -> RunResult:
    """Drive the graph for this session's run until it finishes or pauses."""
    from orchestrator.stores import checkpointer

    with checkpointer(session.store.url) as saver:
        return _drive(session, build_graph().compile(checkpointer=saver), decision)


def _drive(session: Session, graph: Any, decision: Decision | None) -> RunResult:
    from langgraph.errors import GraphDrained
    from langgraph.runtime import RunControl
    from langgraph.types import Command

    run = session.run
    cfg: dict[str, Any] = {
        "configurable": {"thread_id": session.store.thread_id(run)},
        "recursion_limit": 3 * len(session.plan.graph.order) + 10,
    }
    snapshot = graph.get_state(cfg)
    inp: Any = None if snapshot.next else {"run_id": run.run_id, "landed": 0}
    if "approve_task" in snapshot.next:
        waiting = snapshot.values.get("awaiting")
        if decision is None:
            reason = f"{waiting} awaits approval: sdd resume {session.feature} --approve|--reject"
            session.store.set_run_status(run.run_id, "paused", reason)
            return RunResult("paused", reason, 0)
        inp = Command(resume=decision.model_dump())
    elif decision is not None:
        raise InputError(f"no task of {session.feature} is awaiting approval")
    session.store.set_run_status(run.run_id, "running")
    control = RunControl()
    before = len(session.landed)
    try:
        with _CtrlC(control, session):
            final = graph.invoke(inp, cfg, context=session, durability="sync", control=control)
    except GraphDrained:
        reason = "interrupted by Ctrl-C"
        session.store.set_run_status(run.run_id, "paused", reason)
        return RunResult("paused", reason, len(session.landed) - before)
    except KeyboardInterrupt:
        reason = "stopped by a second Ctrl-C"
        session.store.set_run_status(run.run_id, "paused", reason)
        return RunResult("paused", reason, len(session.landed) - before)
    except SddError as exc:  # e.g. the API refused our key: resumable once fixed
        session.store.set_run_status(run.run_id, "paused", str(exc))
        raise
    after = graph.get_state(cfg)
    if "approve_task" in after.next:
        waiting = after.values.get("awaiting")
        status = "paused"
        reason = f"{waiting} awaits approval: sdd resume {session.feature} --approve|--reject"
    else:
        status, reason = final.get("status", "finished"), final.get("reason", "")
    session.store.set_run_status(run.run_id, status, reason)
    return RunResult(status, reason, len(session.landed) - before)
