"""A conversation kept step by step and continued after a stop at any step: the agent loop
with the scripted model, real tools in a real git repository, and the journal in a real
SQLite store. A stop is the process dying just before a step reaches the store (a
`BaseException` out of the journal, which nothing in the loop catches); the resume is a new
loop over a new store connection, the way a new process would read it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.repo import commit_tree

from orchestrator.agent.journal import replay
from orchestrator.agent.loop import AttemptReport, Limits, LoopResult, run_task_loop
from orchestrator.agent.model import ModelRequest, ModelTurn, Usage
from orchestrator.agent.models.scripted import ScriptedModel
from orchestrator.agent.tools.toolbox import Toolbox
from orchestrator.agent.transcript import Transcript
from orchestrator.git.repo import GitRepo
from orchestrator.run.journal import (
    StoreJournal,
    open_conversation,
    set_aside,
    tree_state,
    where,
    why_not_continue,
)
from orchestrator.run.workspace import Workspace
from orchestrator.store.records import Outcome
from orchestrator.store.sqlite import SqliteBackend
from orchestrator.store.store import Store
from orchestrator.views.transcripts import read_events, resumed_line

FEATURE = "001-x"
TURNS: list[dict[str, Any]] = [
    {"tools": [{"Write": {"file_path": "app.py", "content": "value = 1\n"}}]},
    {"tools": [{"Read": {"file_path": "app.py"}}, {"Bash": {"command": "echo ran >> log.txt"}}]},
    {"tools": [{"Edit": {"file_path": "app.py", "old_string": "1", "new_string": "good"}}]},
    {"tools": [{"Grep": {"pattern": "good"}}]},
    {"text": "Done."},
]


class Died(BaseException):
    """The process dying: nothing in the loop handles it."""


@dataclass
class Counting:
    """The scripted model, counting the requests it is sent."""

    model: ScriptedModel
    requests: int = 0
    name: str = "scripted"

    def complete(self, request: ModelRequest) -> ModelTurn:
        self.requests += 1
        return self.model.complete(request)


class Dying(StoreJournal):
    """The journal of a process that dies just before its `at`-th step reaches the store."""

    at: int = -1
    added: int = 0
    after: bool = False  # dies just after the step is kept instead

    def add(self, kind: str, data: dict[str, Any]) -> None:
        if Dying.added == Dying.at and not Dying.after:
            Dying.added += 1
            raise Died(kind)
        Dying.added += 1
        super().add(kind, data)
        if Dying.added - 1 == Dying.at:
            raise Died(kind)


@dataclass
class Caller:
    """Verification passes when app.py says `good`; transcripts under `logs`."""

    root: Path
    logs: Path
    reports: list[AttemptReport] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)

    def before_call(self) -> None: ...

    def on_turn(self, attempt: int, usage: Usage) -> None: ...

    def changed_files(self) -> list[str]:
        return GitRepo(self.root).dirty_files()

    def verify(self, changed: list[str]) -> Any:
        good = "good" in (self.root / "app.py").read_text()
        return _Checked(good, "PASSED" if good else "FAILED: not good yet")

    def transcript(self, attempt: int, resumed: bool = False) -> Transcript:
        return Transcript(self.logs / f"attempt-{attempt}.jsonl", [], append=resumed)

    def attempt_done(self, report: AttemptReport) -> None:
        self.reports.append(report)


@dataclass
class _Checked:
    passed: bool
    output: str
    unverifiable: bool = False


@dataclass
class Project:
    root: Path
    script: Path
    db: Path

    def ws(self) -> Workspace:
        return Workspace(self.root, GitRepo(self.root), "tasks.md")


def project(tmp_path: Path, turns: list[dict[str, Any]] = TURNS) -> Project:
    root = tmp_path / "work"
    root.mkdir(parents=True)
    (root / "README.md").write_text("hello\n")
    commit_tree(root)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"tasks": {"T001": turns}}))
    return Project(root, script, tmp_path / "state.sqlite")


def run(p: Project, model: Counting, journal_type: type[StoreJournal] = StoreJournal) -> Any:
    """One process's go at the task: its own store connection, the conversation if cut short."""
    store = Store(SqliteBackend(p.db))
    ws, base = p.ws(), GitRepo(p.root).head()
    try:
        found = open_conversation(store, FEATURE, "T001")
        journal = journal_type(store, FEATURE, "T001", ws, base, (), found)
        caller = Caller(p.root, p.root.parent / "logs")
        result = run_task_loop(
            model=model,
            model_id="scripted",
            system=[{"type": "text", "text": "You are testing."}],
            toolbox=Toolbox(p.root, env={"PATH": "/usr/bin:/bin"}),
            task_id="T001",
            first_message="# Task T001\nMake app.py good.",
            limits=Limits(),
            check_task=False,
            hooks=caller,
            journal=journal,
        )
        journal.end("landed" if result.landed else "failed")
        return result, caller
    finally:
        store.close()


def dies_at(p: Project, model: Counting, at: int, *, after: bool = False) -> None:
    """One process's go that dies just before its `at`-th step reaches the store (`after`:
    just after it is kept)."""
    Dying.at, Dying.added, Dying.after = at, 0, after
    try:
        with pytest.raises(Died):
            run(p, model, Dying)
    finally:
        Dying.after = False


def results(p: Project) -> list[dict[str, Any]]:
    """The `result` steps of the task's newest conversation, in order."""
    store = Store(SqliteBackend(p.db))
    _, rows = store.conversation(FEATURE, "T001")
    store.close()
    return [json.loads(d) for k, d in rows if k == "result"]


def uninterrupted(tmp_path: Path) -> tuple[int, dict[str, str]]:
    p = project(tmp_path / "ref")
    model = Counting(ScriptedModel(p.script))
    result, _ = run(p, model)
    assert isinstance(result, LoopResult) and result.landed
    files = {n: (p.root / n).read_text() for n in ("app.py", "log.txt")}
    return model.requests, files


def steps_of_a_whole_run(tmp_path: Path) -> int:
    p = project(tmp_path / "count")
    run(p, Counting(ScriptedModel(p.script)))
    store = Store(SqliteBackend(p.db))
    n = len(store.conversation(FEATURE, "T001")[1])
    store.close()
    return n


@pytest.mark.slow
def test_a_stop_at_any_step_costs_at_most_one_model_request(tmp_path: Path) -> None:
    reference, files = uninterrupted(tmp_path)
    steps = steps_of_a_whole_run(tmp_path)
    assert steps > 15  # begin, attempt, 5 turns, calls and results, closed, end
    for at in range(steps - 1):  # the last step is `end`: the conversation is over then
        p = project(tmp_path / f"stop{at}")
        model = Counting(ScriptedModel(p.script))
        dies_at(p, model, at)
        before = model.requests
        result, caller = run(p, model)
        assert result.landed, at
        assert model.requests <= reference + 1, (at, model.requests, before)
        now = {n: (p.root / n).read_text() for n in ("app.py", "log.txt")}
        assert now == files, at  # Bash ran once: a recorded result is never run again
        assert [r.outcome for r in caller.reports] == [Outcome.PASSED]


def test_an_edit_cut_short_is_not_run_again_and_the_agent_sees_the_diff(tmp_path: Path) -> None:
    p = project(tmp_path)
    model = Counting(ScriptedModel(p.script))
    # begin, attempt, assistant, call, result (Write), assistant, result (Read), call,
    # result (Bash), assistant (Edit), call: the Edit ran, its result is not kept
    dies_at(p, model, 11)
    assert (p.root / "app.py").read_text() == "value = good\n"
    result, _ = run(p, model)
    assert result.landed
    assert (p.root / "app.py").read_text() == "value = good\n"
    store = Store(SqliteBackend(p.db))
    _, rows = store.conversation(FEATURE, "T001")
    store.close()
    told = [json.loads(d) for k, d in rows if k == "result"][3]
    assert told["is_error"] and "Edit call was interrupted" in told["content"]
    assert "+value = good" in told["content"]  # the diff of the new file, as it is now
    events = read_events(p.root.parent / "logs" / "attempt-1.jsonl")
    joined = next(e for e in events if e["type"] == "resumed")
    assert joined["turns"] == 3 and joined["calls"] == 1
    assert "after turn 3" in resumed_line(joined)


def test_an_edit_cut_short_before_it_changed_the_tree_runs_again(tmp_path: Path) -> None:
    p = project(tmp_path)
    model = Counting(ScriptedModel(p.script))
    # ... assistant (Edit), call: dies once the Edit's call is kept, before it runs
    dies_at(p, model, 10, after=True)
    assert (p.root / "app.py").read_text() == "value = 1\n"  # the tree as the call found it
    result, caller = run(p, model)
    assert result.landed and model.requests == 5  # the reference's five turns, none again
    assert [r.outcome for r in caller.reports] == [Outcome.PASSED]
    edit = results(p)[3]
    assert not edit["is_error"] and "interrupted" not in edit["content"]


def test_an_attempt_judged_again_after_a_stop_keeps_its_new_verdict(tmp_path: Path) -> None:
    steps = steps_of_a_whole_run(tmp_path)
    p = project(tmp_path / "stop")
    model = Counting(ScriptedModel(p.script))
    dies_at(p, model, steps - 2, after=True)  # dies once `closed` is kept
    (p.root / "app.py").write_text("value = bad\n")  # now it fails when judged again
    _, caller = run(p, model)
    assert model.requests > 5  # the feedback went back to the agent for another attempt
    first = caller.reports[0]  # the row said "passed" before the stop; it says failed now
    assert (first.attempt, first.outcome, first.again) == (1, Outcome.FAILED, True)


def test_a_write_cut_short_before_it_wrote_runs_again(tmp_path: Path) -> None:
    p = project(tmp_path)
    model = Counting(ScriptedModel(p.script))
    # begin, attempt, assistant, call: dies once the Write's call is kept, before it runs
    dies_at(p, model, 3, after=True)
    assert not (p.root / "app.py").exists()
    result, _ = run(p, model)
    assert result.landed and model.requests == 5  # the reference's five turns, none again


def test_a_read_cut_short_runs_again(tmp_path: Path) -> None:
    p = project(tmp_path)
    model = Counting(ScriptedModel(p.script))
    # begin, attempt, assistant, call, result (the Write), assistant: it dies as the Read's
    # result is kept (a Read has no `call` step: it is run again whatever happened)
    dies_at(p, model, 6)
    result, _ = run(p, model)
    assert result.landed
    read = results(p)[1]
    assert not read["is_error"] and "value = 1" in read["content"]


def test_a_tree_touched_since_the_stop_starts_the_attempt_over(tmp_path: Path) -> None:
    p = project(tmp_path)
    dies_at(p, Counting(ScriptedModel(p.script)), 6)
    store = Store(SqliteBackend(p.db))
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None
    base = GitRepo(p.root).head()
    here = where(p.ws())
    assert why_not_continue(found, base, tree_state(p.ws()), here) == ""
    (p.root / "tasks.md").write_text("- [X] T001\n")  # a kill mid-landing leaves the tick
    assert why_not_continue(found, base, tree_state(p.ws()), here) == ""
    (p.root / "app.py").write_text("mine\n")  # the user's edit
    why = why_not_continue(found, base, tree_state(p.ws()), here)
    assert "app.py" in why and "not as its interrupted attempt left it" in why
    assert "base was" in why_not_continue(found, "0" * 40, tree_state(p.ws()), here)
    # another machine's clone holds none of the attempt's uncommitted changes
    elsewhere = why_not_continue(found, base, {}, "other-host:/work/proj")
    assert "another work tree" in elsewhere and here in elsewhere
    store.close()


def test_set_aside_gives_the_base_then_the_change_back(tmp_path: Path) -> None:
    p = project(tmp_path)
    (p.root / "README.md").write_text("changed\n")
    (p.root / "new.txt").write_text("new\n")
    (p.root / "new.txt").chmod(0o755)
    ws, base = p.ws(), GitRepo(p.root).head()
    before = tree_state(ws)
    assert before["new.txt"].endswith("+x")
    with set_aside(ws, base):
        assert GitRepo(p.root).dirty_files() == []
    assert tree_state(ws) == before


def test_replay_rebuilds_the_conversation_and_where_it_stood() -> None:
    tool = {"type": "tool_use", "id": "a", "name": "Bash", "input": {"command": "x"}}
    steps = [
        ("begin", {"base": "b"}),
        ("attempt", {"n": 1, "first": "go"}),
        ("assistant", {"content": [tool], "stop_reason": "tool_use", "usage": [3, 2, 0, 0]}),
        ("call", {"id": "a"}),
    ]
    r = replay(steps, "ignored")
    assert r.messages[0] == {"role": "user", "content": "go"}
    assert (r.attempt, r.turns, r.usage.output_tokens, r.ended) == (1, 1, 2, False)
    assert [b["id"] for b in r.pending] == ["a"] and r.running == {"a"}
    steps += [
        ("result", {"id": "a", "content": "ok", "is_error": False, "ran": [["x", True]]}),
        (
            "assistant",
            {
                "content": [{"type": "text", "text": "Done."}],
                "stop_reason": "end_turn",
                "usage": [1, 1, 0, 0],
            },
        ),
        ("closed", {"outcome": "failed", "feedback": "try again"}),
    ]
    r = replay(steps, "ignored")
    assert (r.attempt, r.started, r.ran) == (2, False, [("x", True)])
    assert r.messages[-1]["content"][-1] == {"type": "text", "text": "try again"}
