"""The run as a LangGraph graph: four nodes and three pure routers; `build_graph` only wires.

    START -> select_task -(a task is ready)-> run_task -(landed)-> select_task ...
                         -(none left)-> END             -(failed)-> END (paused)
                         |                              -(held)--> approve_task -> select_task
                         -(several ready, --jobs N)-> run_wave -> select_task | END (paused)
                         -(a phase is due, verify: phase)-> check_phase -> select_task | END

Graph state is a cursor (current task, status, the count landed); per-task records live in the
store. A checkpoint is written after every node (durability "sync"), so a whole task runs inside
`run_task`, and resuming re-runs it from its first line, where `execute_task` finds committed
work by trailer and the task's conversation in the store (`journal`), which goes on from its
last kept step: a crash costs at most the model turn in flight. The nodes get the `RunContext`
as LangGraph's runtime context; the checkpointer is given at compile time (`driver`, `server`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic reads its schema on 3.11 (LangGraph Server)

from orchestrator.run.context import RunContext
from orchestrator.run.landing import decide
from orchestrator.run.task import execute_task
from orchestrator.store.records import RunStatus

if TYPE_CHECKING:
    from langgraph.graph import StateGraph
    from langgraph.runtime import Runtime


class RunState(TypedDict, total=False):
    current: str | None
    landed: int  # tasks landed by this run's graph (the server's clients read it)
    status: str  # a RunStatus's value: the checkpoint holds plain data, no classes
    reason: str
    awaiting: str | None  # a verified task held for approval
    batch: list[str]  # a wave's tasks working at once (--jobs N)
    solo: list[str]  # tasks a wave could not land, redone alone on the new head
    checking: int | None  # a phase whose full verification is due (`verify: phase`)


def select_task(state: RunState, runtime: Runtime[RunContext]) -> RunState:
    from orchestrator.run.phases import due

    ctx = runtime.context
    running = RunStatus.RUNNING.value
    phase = due(ctx)  # before any task of a later phase, and before the run finishes
    if phase is not None:
        return {"current": None, "batch": [], "checking": phase, "status": running, "reason": ""}
    done = ctx.done_ids()
    ready = ctx.plan.graph.ready(done)
    solo = [t for t in state.get("solo", []) if t not in done]
    if ready:
        first = next((t for t in ready if t in solo), ready[0])
        if ctx.jobs > 1 and not ctx.approve_each and first not in solo and len(ready) > 1:
            wave = [t for t in ready if t not in solo]  # ctx.jobs of them work at once
            return {"current": None, "batch": wave, "solo": solo, "status": running, "reason": ""}
        return {"current": first, "batch": [], "solo": solo, "status": running, "reason": ""}
    pending = [t for t in ctx.plan.graph.order if t not in done]
    if not pending:
        return {"current": None, "status": RunStatus.FINISHED.value, "reason": ""}
    reason = f"no task is ready ({pending[0]} waits)"
    return {"current": None, "status": RunStatus.PAUSED.value, "reason": reason}


def run_task(state: RunState, runtime: Runtime[RunContext]) -> RunState:
    current = state.get("current")
    assert current is not None
    outcome = execute_task(runtime.context, current)
    if outcome.landed:
        return {"current": None, "landed": state.get("landed", 0) + 1}
    if outcome.awaiting:
        return {"current": None, "awaiting": current}
    return {"status": RunStatus.PAUSED.value, "reason": outcome.reason}


class Decision(BaseModel):
    """The answer to an approval gate, given by `sdd resume --approve/--reject --note`."""

    approve: bool
    note: str = ""


def approve_task(state: RunState, runtime: Runtime[RunContext]) -> RunState:
    """Stop before the commit lands. Re-executed from here on resume, so effects come after."""
    from langgraph.types import interrupt

    ctx, task_id = runtime.context, state.get("awaiting")
    assert task_id is not None
    record = ctx.store.task(ctx.feature, task_id)
    answer = interrupt(
        {"task": task_id, "commit": record.commit_sha if record else "", "question": "land it?"},
        response_schema=Decision,
    )
    decision = answer if isinstance(answer, Decision) else Decision.model_validate(answer)
    outcome = decide(ctx, task_id, decision.approve, decision.note)
    landed = state.get("landed", 0) + (1 if outcome.landed else 0)
    return {"awaiting": None, "landed": landed}


def run_wave(state: RunState, runtime: Runtime[RunContext]) -> RunState:
    """A wave is one step: a crash mid-wave redoes the wave's unlanded tasks, no others."""
    from orchestrator.run.waves import run_wave as work_wave

    out = work_wave(runtime.context, state.get("batch", []))
    update: RunState = {
        "batch": [],
        "landed": state.get("landed", 0) + len(out.landed),
        "solo": [*state.get("solo", []), *out.redo],
    }
    reasons = ([out.paused] if out.paused else []) + out.failed
    if reasons:  # the siblings have landed; now the run stops for the user
        update |= {"status": RunStatus.PAUSED.value, "reason": "; ".join(reasons)}
    return update


def check_phase(state: RunState, runtime: Runtime[RunContext]) -> RunState:
    """A phase's full verification; a failure pauses the run naming the task that broke it."""
    from orchestrator.run.phases import check, pause_reason

    index = state.get("checking")
    assert index is not None
    record = check(runtime.context, index)
    if record.passed:
        return {"checking": None}
    reason = pause_reason(runtime.context, record)
    return {"checking": None, "status": RunStatus.PAUSED.value, "reason": reason}


def after_select(state: RunState) -> Literal["run_task", "run_wave", "check_phase", "__end__"]:
    if state.get("checking") is not None:
        return "check_phase"
    if state.get("batch"):
        return "run_wave"
    return "run_task" if state.get("current") else "__end__"


def after_check(state: RunState) -> Literal["select_task", "__end__"]:
    return "__end__" if state.get("status") == RunStatus.PAUSED else "select_task"


def after_wave(state: RunState) -> Literal["select_task", "__end__"]:
    return "__end__" if state.get("status") == RunStatus.PAUSED else "select_task"


def after_task(state: RunState) -> Literal["select_task", "approve_task", "__end__"]:
    if state.get("status") == RunStatus.PAUSED:
        return "__end__"
    return "approve_task" if state.get("awaiting") else "select_task"


class Node(Protocol):
    """A graph node as LangGraph calls it: the state, and the run's context as `runtime`."""

    def __call__(self, state: RunState, runtime: Runtime[RunContext]) -> RunState: ...


def build_graph(
    wrap: Callable[[Node], Node] | None = None, context_schema: Any = RunContext
) -> StateGraph[RunState, Any, RunState, RunState]:
    """The uncompiled graph, compiled with the CLI's saver (`driver`) or the server's own.

    The CLI passes its RunContext as each run's context; LangGraph Server passes the run's JSON
    context instead, so `orchestrator.server` wraps every node to hand it a RunContext.
    """
    from langgraph.graph import START, StateGraph

    w = wrap or (lambda node: node)
    builder = StateGraph(RunState, context_schema=context_schema)
    builder.add_node("select_task", w(select_task))
    builder.add_node("run_task", w(run_task))
    builder.add_node("approve_task", w(approve_task))
    builder.add_node("run_wave", w(run_wave))
    builder.add_node("check_phase", w(check_phase))
    builder.add_edge(START, "select_task")
    builder.add_conditional_edges("select_task", after_select)
    builder.add_conditional_edges("run_task", after_task)
    builder.add_conditional_edges("run_wave", after_wave)
    builder.add_conditional_edges("check_phase", after_check)
    builder.add_edge("approve_task", "select_task")
    return builder
