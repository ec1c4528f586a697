"""The run graph's decisions without running a task: which node comes next, and why.

`select_task` reads a real RunContext (a temp project opened as `sdd run` opens it, with the
offline model); the routers are pure functions of the graph state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from langgraph.runtime import Runtime
from rich.console import Console
from support.repo import commit_tree

from orchestrator.run.context import RunContext, RunOptions
from orchestrator.run.graph import (
    RunState,
    after_select,
    after_task,
    after_wave,
    build_graph,
    select_task,
)
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

TASKS = """# Tasks

## Phase 1: Setup

- [ ] T001 Create the package in app/__init__.py

## Phase 2: Story

- [ ] T002 [P] Add app/a.py
- [ ] T003 [P] Add app/b.py
- [ ] T004 [P] Add app/c.py
- [ ] T005 Wire app/main.py (depends on T002)
"""


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[RunContext]:
    root = tmp_path / "proj"
    (root / ".specify").mkdir(parents=True)
    feature = root / "specs" / "001-app"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Spec\n")
    (feature / "plan.md").write_text("# Plan\n")
    (feature / "tasks.md").write_text(TASKS)
    (root / "script.yaml").write_text("default:\n  - text: Nothing.\n")
    commit_tree(root)
    opened = open_run(
        root, feature, RunOptions(model="scripted:script.yaml"), Reporter(Console(quiet=True))
    )
    yield opened
    opened.close()


def select(ctx: RunContext, state: RunState | None = None) -> RunState:
    return select_task(state or {}, Runtime(context=ctx))


def test_one_task_at_a_time_in_plan_order(ctx: RunContext) -> None:
    assert select(ctx) == {
        "current": "T001",
        "batch": [],
        "solo": [],
        "status": "running",
        "reason": "",
    }
    ctx.head.landed["T001"] = "sha1"
    assert select(ctx)["current"] == "T002"


def test_with_jobs_the_ready_tasks_of_a_wave_go_together(ctx: RunContext) -> None:
    wide = replace(ctx, jobs=3)
    wide.head.landed["T001"] = "sha1"
    update = select(wide)
    assert (update["current"], update["batch"]) == (None, ["T002", "T003", "T004"])
    assert after_select(update) == "run_wave"


def test_approval_one_at_a_time_overrides_jobs(ctx: RunContext) -> None:
    held = replace(ctx, jobs=3, approve_each=True)
    held.head.landed["T001"] = "sha1"
    assert select(held)["current"] == "T002"


def test_a_task_a_wave_could_not_land_runs_alone_first(ctx: RunContext) -> None:
    wide = replace(ctx, jobs=3)
    wide.head.landed.update({"T001": "a", "T002": "b"})
    update = select(wide, {"solo": ["T004"]})
    assert (update["current"], update["batch"], update["solo"]) == ("T004", [], ["T004"])


def test_skipped_tasks_count_as_done(ctx: RunContext) -> None:
    skipping = replace(ctx, skipped=frozenset({"T001"}))
    assert select(skipping)["current"] == "T002"


def test_nothing_left_finishes_the_run(ctx: RunContext) -> None:
    ctx.head.landed.update({t: "x" for t in ("T001", "T002", "T003", "T004")})
    assert select(ctx)["current"] == "T005"
    ctx.head.landed["T005"] = "y"
    done = select(ctx)
    assert (done["status"], after_select(done)) == ("finished", "__end__")


def test_a_task_landed_out_of_order_does_not_let_a_later_phase_overtake(
    ctx: RunContext,
) -> None:
    ctx.head.landed.update({"T002": "x", "T003": "y"})
    assert select(replace(ctx, jobs=3))["current"] == "T001"


def test_routers_follow_the_state() -> None:
    assert after_select({"current": "T001"}) == "run_task"
    assert after_select({"current": None, "batch": ["T1", "T2"]}) == "run_wave"
    assert after_select({"current": None, "status": "finished"}) == "__end__"
    assert after_task({"current": None}) == "select_task"
    assert after_task({"awaiting": "T003"}) == "approve_task"
    assert after_task({"status": "paused", "reason": "T003 failed"}) == "__end__"
    assert after_wave({"status": "running"}) == "select_task"
    assert after_wave({"status": "paused"}) == "__end__"


def test_the_graph_has_the_documented_shape() -> None:
    drawn = build_graph().compile().get_graph().draw_mermaid(with_styles=False)
    for edge in (
        "__start__ --> select_task",
        "select_task -.-> run_task",
        "select_task -.-> run_wave",
        "select_task -.-> __end__",
        "run_task -.-> approve_task",
        "run_task -.-> select_task",
        "run_wave -.-> select_task",
        "approve_task --> select_task",
    ):
        assert edge in drawn, drawn
