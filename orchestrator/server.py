"""The run graph served by LangGraph Server: `langgraph dev` locally, or a deployment on Postgres.

`langgraph.json` names `make_graph`. The server calls it for every run with the run's config and
runs what it yields: the graph the CLI drives, bound to a RunContext for the repository and feature
named in `config["configurable"]` (the server mirrors a run's `context` there too). The server
brings the checkpointer, so a thread holds one run's cursor; the context (feature lock, records,
model) lives exactly as long as one server run and is closed when it ends, fails or is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import InputError, SddError
from orchestrator.run.context import RunContext
from orchestrator.run.graph import Node, RunState, build_graph
from orchestrator.store.records import RunStatus

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.runtime import Runtime
    from langgraph_sdk.runtime import ServerRuntime

EXAMPLE = '{"repo": "/abs/path/to/project", "feature": "001-todo-api"}'


class RunError(ValueError):
    """A user-fixable failure on its way to the server's client. The server passes on the
    message of a ValueError (and a few builtin types) but shows any other as "internal"."""

    @classmethod
    def of(cls, exc: SddError | OSError) -> RunError:
        return cls(f"{type(exc).__name__}: {exc}")


class RunTarget(BaseModel):
    """What a run names in its config (or context); the server's own keys are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    repo: str  # the spec-kit project, an absolute path on the server's filesystem
    feature: str | None = None  # folder, number or short name; default: as spec-kit resolves it
    model: str | None = None  # model id, alias or scripted:PATH; default: the project's config
    approve: Literal["each", "never"] | None = None
    commit_dirty: bool = False
    jobs: int | None = Field(None, ge=1)  # tasks of a wave at once; default: the project's config


def parse_target(configurable: Mapping[str, Any]) -> RunTarget:
    try:
        return RunTarget.model_validate(dict(configurable))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "configurable"
        raise InputError(
            f"the run's config: {key}: {first['msg']}; pass configurable {EXAMPLE}"
        ) from None


def open_target(target: RunTarget) -> RunContext:
    """The same checks and lock as `sdd run --repo REPO FEATURE`, before any task runs."""
    from rich.console import Console

    from orchestrator.run.context import RunOptions
    from orchestrator.run.opening import open_run
    from orchestrator.speckit.project import find_root, resolve_feature
    from orchestrator.views.progress import Reporter

    root = find_root(Path(target.repo))
    feature_dir = resolve_feature(root, target.feature)
    options = RunOptions(
        target.model, commit_dirty=target.commit_dirty, approve=target.approve, jobs=target.jobs
    )
    reporter = Reporter(Console(stderr=True, highlight=False), live=False)
    ctx = open_run(root, feature_dir, options, reporter)
    try:
        ctx.store.set_run_status(ctx.run.run_id, RunStatus.RUNNING)
    except BaseException:
        ctx.close()
        raise
    return ctx


class Bound:
    """Hands every node the run's context and remembers where the run stopped, for the records.

    The CLI reads the outcome from `graph.invoke`; under the server nobody in this process sees
    the final state, so the last status a node reported is kept here instead. A cancelled run
    leaves its sync node running in a worker thread, so closing waits for it: the lock is not
    let go while a task may still be writing to the working tree.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.status, self.reason = RunStatus.RUNNING, ""
        self.failure: str | None = None  # why the server run failed; outranks later updates
        self._idle = threading.Condition()
        self._running = 0

    def wrap(self, node: Node) -> Node:
        from langgraph.errors import GraphInterrupt

        def bound(state: RunState, runtime: Runtime[Any]) -> RunState:
            with self._idle:
                self._running += 1
            try:
                update = node(state, runtime.override(context=self.ctx))
            except SddError as exc:  # e.g. the API refused the key, or a budget ran out
                raise RunError.of(exc) from exc
            except GraphInterrupt:
                waiting = state.get("awaiting")
                self.status, self.reason = RunStatus.PAUSED, f"{waiting} awaits approval"
                raise
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()
            if "status" in update:
                self.status, self.reason = RunStatus(update["status"]), update.get("reason", "")
            return update

        return bound

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self.failure = "the server run was cancelled"
        else:
            self.failure = str(exc) if isinstance(exc, RunError) else f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        """Wait for a node still running, record the outcome, let go of records and lock."""
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0)
        try:
            if self.failure is not None:
                status, reason = RunStatus.PAUSED, self.failure
            elif self.status == RunStatus.RUNNING:
                status, reason = RunStatus.PAUSED, "the server run ran no step"
            else:
                status, reason = self.status, self.reason
            self.ctx.store.set_run_status(self.ctx.run.run_id, status, reason)
        finally:
            self.ctx.close()


@asynccontextmanager
async def make_graph(config: RunnableConfig, runtime: ServerRuntime[Any]) -> AsyncIterator[Any]:
    """The graph factory `langgraph.json` names; it adds no checkpointer (the server has one)."""
    if runtime.execution_runtime is None:  # schemas, state reads and updates run no node
        yield build_graph(context_schema=RunTarget)
        return
    try:
        target = parse_target(config.get("configurable") or {})
        bound = Bound(await asyncio.to_thread(open_target, target))
    except (SddError, OSError) as exc:
        raise RunError.of(exc) from exc
    try:
        yield build_graph(bound.wrap, RunTarget)
    except BaseException as exc:
        bound.failed(exc)
        raise
    finally:
        await asyncio.to_thread(bound.close)
