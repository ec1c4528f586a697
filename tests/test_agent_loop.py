"""The agent loop on its own: the scripted model, real tools in a temp folder, and a caller
(the loop's `Hooks` seam) that judges the folder instead of git and the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from orchestrator.agent import prompt
from orchestrator.agent.loop import AttemptReport, Limits, LoopResult, run_task_loop
from orchestrator.agent.model import Usage
from orchestrator.agent.models.scripted import ScriptedModel
from orchestrator.agent.tools.toolbox import Toolbox
from orchestrator.agent.transcript import Transcript
from orchestrator.errors import BudgetExceeded
from orchestrator.store.records import Outcome, TaskKind


@dataclass
class Checked:
    passed: bool
    output: str
    unverifiable: bool = False


@dataclass
class Caller:
    """Verification passes when app.py holds `good`; the calls the loop made, in order."""

    root: Path
    logs: Path
    budget_turns: int = 100
    calls: list[str] = field(default_factory=list)
    reports: list[AttemptReport] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    before: dict[str, str] = field(default_factory=dict)
    cannot_run: bool = False  # verification cannot run at all (a missing tool, say)

    def __post_init__(self) -> None:
        self.before = self._files()

    def _files(self) -> dict[str, str]:
        return {p.name: p.read_text() for p in self.root.iterdir() if p.is_file()}

    def before_call(self) -> None:
        self.calls.append("call")
        if self.calls.count("call") > self.budget_turns:
            raise BudgetExceeded("budget: T001 used too many turns")

    def on_turn(self, attempt: int, usage: Usage) -> None:
        self.usage = self.usage + usage

    def changed_files(self) -> list[str]:
        now = self._files()
        return sorted(name for name, text in now.items() if self.before.get(name) != text)

    def verify(self, changed: list[str]) -> Checked:
        self.calls.append("verify")
        app = self.root / "app.py"
        good = app.exists() and "good" in app.read_text()
        if self.cannot_run:
            return Checked(False, "COULD NOT VERIFY: pytest is not installed", True)
        return Checked(good, "PASSED" if good else "FAILED: app.py is not good yet")

    def transcript(self, attempt: int, resumed: bool = False) -> Transcript:
        return Transcript(self.logs / f"attempt-{attempt}.jsonl", [], append=resumed)

    def attempt_done(self, report: AttemptReport) -> None:
        self.reports.append(report)


def write(path: str, content: str) -> dict[str, object]:
    return {"Write": {"file_path": path, "content": content}}


def loop(
    tmp_path: Path,
    script_turns: list[dict[str, object]],
    *,
    check: bool = False,
    limits: Limits | None = None,
    budget_turns: int = 100,
    present: dict[str, str] | None = None,
    cannot_run: bool = False,
) -> tuple[LoopResult, Caller]:
    """Run task T001's scripted turns in `tmp_path/work` (holding `present` files first)."""
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"tasks": {"T001": script_turns}}))
    work = tmp_path / "work"
    work.mkdir()
    for name, text in (present or {}).items():
        (work / name).write_text(text)
    caller = Caller(work, tmp_path / "logs", budget_turns, cannot_run=cannot_run)
    result = run_task_loop(
        model=ScriptedModel(script),
        model_id="scripted",
        system=[{"type": "text", "text": "You are testing."}],
        toolbox=Toolbox(work, env={"PATH": "/usr/bin:/bin"}),
        task_id="T001",
        first_message="Make app.py good.",
        limits=limits or Limits(),
        check_task=check,
        hooks=caller,
    )
    return result, caller


def events(caller: Caller, attempt: int) -> list[dict[str, object]]:
    path = caller.logs / f"attempt-{attempt}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_change_that_verifies_lands_on_the_first_attempt(tmp_path: Path) -> None:
    result, caller = loop(
        tmp_path,
        [{"text": "Writing it.", "tools": [write("app.py", "good = 1\n")]}, {"text": "Done."}],
    )
    assert (result.landed, result.kind, result.summary) == (True, TaskKind.CHANGE, "Done.")
    assert [r.outcome for r in result.attempts] == [Outcome.PASSED]
    assert caller.calls == ["call", "call", "verify"]
    assert caller.usage == result.usage and result.usage.input_tokens > 0
    kinds = [e["type"] for e in events(caller, 1)]
    assert kinds == ["user", "assistant", "tool", "assistant", "verify", "outcome"]


def test_verification_feedback_goes_back_into_the_same_conversation(tmp_path: Path) -> None:
    result, caller = loop(
        tmp_path,
        [
            {"tools": [write("app.py", "bad = 1\n")]},
            {"text": "First try."},
            {"tools": [write("app.py", "good = 1\n")]},
            {"text": "Fixed."},
        ],
    )
    assert [r.outcome for r in result.attempts] == [Outcome.FAILED, Outcome.PASSED]
    assert result.landed and result.summary == "Fixed."
    # the scripted model moves on by counting assistant turns: the history was kept
    second = events(caller, 2)
    assert second[0]["type"] == "user"  # the feedback the model got, as it got it
    assert "app.py is not good yet" in str(second[0]["text"])
    assert caller.reports[0].verdict is not None
    assert caller.reports[0].verdict.output == "FAILED: app.py is not good yet"


def test_changing_nothing_is_sent_back_unless_the_task_is_a_check(tmp_path: Path) -> None:
    turns: list[dict[str, object]] = [{"text": "Nothing to do."}, {"text": "Still nothing."}]
    result, caller = loop(tmp_path, turns, limits=Limits(attempts=2))
    assert not result.landed
    assert [r.outcome for r in result.attempts] == [Outcome.NO_CHANGE, Outcome.NO_CHANGE]
    assert "verify" not in caller.calls
    # every message sent to the model is in the transcript, the no-change feedback included
    assert events(caller, 2)[0] == {"type": "user", "text": prompt.NO_CHANGE}


def test_a_check_task_that_changes_nothing_lands_when_verification_passes(
    tmp_path: Path,
) -> None:
    result, caller = loop(
        tmp_path, [{"text": "All good."}], check=True, present={"app.py": "good = 1\n"}
    )
    assert (result.landed, result.kind) == (True, TaskKind.CHECK)
    assert caller.calls == ["call", "verify"]


def test_the_turn_limit_ends_an_attempt_without_verifying_it(tmp_path: Path) -> None:
    busy = [{"tools": [{"Glob": {"pattern": "*"}}]} for _ in range(6)]
    result, caller = loop(tmp_path, busy, limits=Limits(attempts=2, turns=3))
    assert [r.outcome for r in result.attempts] == [Outcome.LIMIT, Outcome.LIMIT]
    assert caller.calls == ["call"] * 6


def test_a_budget_stop_raised_before_a_call_ends_the_loop(tmp_path: Path) -> None:
    busy = [{"tools": [{"Glob": {"pattern": "*"}}]} for _ in range(6)]
    with pytest.raises(BudgetExceeded):
        loop(tmp_path, busy, budget_turns=2)


def test_a_tool_error_is_a_result_the_model_reads_not_an_exception(tmp_path: Path) -> None:
    result, caller = loop(
        tmp_path,
        [
            {"tools": [{"Read": {"file_path": "../outside.txt"}}]},
            {"tools": [write("app.py", "good = 1\n")]},
            {"text": "Done."},
        ],
    )
    assert result.landed
    tool = next(e for e in events(caller, 1) if e["type"] == "tool")
    assert tool["is_error"] is True and "outside the workspace" in str(tool["result"])


def test_a_verification_that_cannot_run_ends_the_attempts_without_feedback(
    tmp_path: Path,
) -> None:
    turns = [{"tools": [write("app.py", "good = 1\n")]}, {"text": "Done."}] * 3
    result, caller = loop(tmp_path, turns, cannot_run=True)
    assert not result.landed
    assert [r.outcome for r in result.attempts] == [Outcome.UNVERIFIABLE]
    assert caller.calls == ["call", "call", "verify"]  # no second attempt: no agent can fix it
    verify = next(e for e in events(caller, 1) if e["type"] == "verify")
    assert verify["unverifiable"] is True
