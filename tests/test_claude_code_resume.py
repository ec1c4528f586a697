"""A Claude Code session cut short by a kill resumes from sdd's store: the real Claude Code
CLI (the Agent SDK's bundled one) against the loopback server, killed with SIGKILL while its
third request waits, then Claude Code's own session files removed, as on another machine or
in another worktree (or kept, as in the same tree). The resume must continue that session
(its turns, not a new start): from sdd's copy when Claude Code's files are gone."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from support import stored
from support.claude_code import ScriptedAgent, apply_env, claude_env, tool, write
from support.messages_server import MessagesServer, text_block
from support.repo import git
from support.runproc import Proc, Procs, wait_until
from test_claude_code import FEATURE, MODEL, project
from test_resume_other_clone import clone

pytestmark = pytest.mark.slow  # real Claude Code processes, end to end

TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Describe the package in calc/README.md
"""
TURNS: dict[str, list[list[dict[str, Any]]]] = {
    "T001": [
        [write("calc/README.md", "# calc\n\nTODO\n")],
        [tool("Read", file_path="calc/README.md")],
        [tool("Edit", file_path="calc/README.md", old_string="TODO", new_string="add and mul")],
        [text_block("Described the package.")],
    ]
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point this process (and so the sessions it starts) at a server, with an empty home."""

    def use(server: MessagesServer) -> None:
        apply_env(monkeypatch.setenv, claude_env(server.url, tmp_path / "home"))

    return use


KEPT = ("session", "said")


def mirrored(root: Path) -> str:
    """What sdd's store holds of the task's Claude Code sessions so far."""
    return "".join(r.text for r in stored.rows(root / ".sdd" / "state.sqlite", KEPT))


def filler(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return (
        message.get("role") == "assistant"
        and isinstance(content, list)
        and [b.get("text") for b in content] == ["No response requested."]
    )


def texts_of(body: dict[str, Any]) -> str:
    last = body["messages"][-1]["content"]
    if isinstance(last, str):
        return last
    return "\n".join(str(b.get("text", "")) for b in last if isinstance(b, dict))


@pytest.mark.parametrize("elsewhere", [True, False], ids=["files-gone", "same-tree"])
def test_a_killed_session_resumes_its_conversation(
    tmp_path: Path, env: Any, procs: Procs, elsewhere: bool
) -> None:
    root = project(tmp_path, tasks=TASKS)
    agent = ScriptedAgent(TURNS)
    held, release = threading.Event(), threading.Event()
    bodies: list[dict[str, Any]] = []

    def hold_the_third_call(body: dict[str, Any], index: int) -> Any:
        bodies.append(body)
        # the script's turns only: on resume Claude Code adds an assistant message of its own
        # ("No response requested.") after a tool call whose result it had not written
        mine = {**body, "messages": [m for m in body.get("messages") or [] if not filler(m)]}
        cursor = sum(1 for m in mine["messages"] if m.get("role") == "assistant")
        if cursor == 2 and not held.is_set():  # Write and Read done: the Edit is asked for
            held.set()
            release.wait(30)
        return agent(mine, index)

    with MessagesServer(handler=hold_the_third_call) as server:
        env(server)
        first = procs.sdd(root, "run", "001", "--engine", "claude-code", "--model", MODEL)
        wait_until(held.is_set, "T001's third call", proc=first)
        # Claude Code writes its transcript in batches: kill once its first turn is written
        wait_until(lambda: "toolu_000_0" in mirrored(root), "the first turn mirrored", proc=first)
        first.kill_group()
        release.set()
        claude_dir = root / ".sdd" / "claude"
        assert any(claude_dir.rglob("*.jsonl")), "Claude Code kept its session file here"
        if elsewhere:  # Claude Code's own record of the session is gone: sdd's store has it
            for path in claude_dir.rglob("*.jsonl"):
                path.unlink()
        asked_before = len(bodies)  # the held request among them
        second = procs.sdd(root, "resume", "001", "--engine", "claude-code", "--model", MODEL)
        assert second.wait(timeout=120) == 0, second.output()
        shown = procs.sdd(root, "show", "001", "T001")
        assert shown.wait() == 0, shown.output()
    resumed = bodies[asked_before:]
    assert resumed, second.output()
    # the same session went on, rebuilt from sdd's store (Claude Code's files were gone): its
    # first request holds the task's first turn as the killed process saw it, and sdd's note
    first = json.dumps(resumed[0]["messages"])
    assert "toolu_000_0" in first and "# Task T001" in first, first[:500]
    assert "sdd was stopped while you worked on this task" in texts_of(resumed[0])
    assert (root / "calc" / "README.md").read_text() == "# calc\n\nadd and mul\n"
    assert "Sdd-Task: T001" in git(root, "log", "-1", "--format=%B")
    log = root / ".sdd" / "transcripts" / FEATURE / "T001" / "attempt-1.jsonl"
    kinds = [json.loads(line)["type"] for line in log.read_text().splitlines() if line.strip()]
    assert kinds.count("resumed") == 1, kinds
    assert "⤷ resumed here" in shown.stdout(), shown.output()


def said_uuids(root: Path) -> list[str]:
    got = stored.rows(root / ".sdd" / "state.sqlite", ("said",))
    return [u for r in got if (u := json.loads(r.text).get("uuid"))]


class KillAtTheThirdCall:
    """The server's handler: TURNS played, and the run killed as its third request arrives
    (Write and Read done, the Edit asked for), before it is answered: that request is lost.
    `bodies`: every request, Claude Code's own filler turns included."""

    def __init__(self) -> None:
        self.agent, self.bodies = ScriptedAgent(TURNS), list[dict[str, Any]]()
        self.killed, self.running = threading.Event(), list[Proc]()

    def __call__(self, body: dict[str, Any], index: int) -> Any:
        self.bodies.append(body)
        mine = {**body, "messages": [m for m in body.get("messages") or [] if not filler(m)]}
        cursor = sum(1 for m in mine["messages"] if m.get("role") == "assistant")
        if cursor == 2 and not self.killed.is_set():
            self.killed.set()  # first: the test's wait never sees the process gone without it
            self.running[0].kill_group()
        return self.agent(mine, index)

    def start(self, run: Proc) -> None:
        """Wait until `run` is killed at its third request, and gone."""
        self.running.append(run)
        wait_until(self.killed.is_set, "T001's third call", proc=run)
        run.wait()


@pytest.mark.parametrize("elsewhere", [True, False], ids=["files-gone", "same-tree"])
def test_a_kill_as_the_next_request_arrives_loses_no_turn(
    tmp_path: Path, env: Any, procs: Procs, elsewhere: bool
) -> None:
    """Killed the moment its third request reaches the server: Claude Code has not written
    the second turn (the Read) or its result yet, sdd has. The resume asks for the third turn
    once more (one request more than a run without the kill) with the Read's result in it."""
    root = project(tmp_path, tasks=TASKS)
    kill = KillAtTheThirdCall()
    with MessagesServer(handler=kill) as server:
        env(server)
        kill.start(procs.sdd(root, "run", "001", "--engine", "claude-code", "--model", MODEL))
        if elsewhere:
            for path in (root / ".sdd" / "claude").rglob("*.jsonl"):
                path.unlink()
        asked_before = len(kill.bodies)
        second = procs.sdd(root, "resume", "001", "--engine", "claude-code", "--model", MODEL)
        assert second.wait(timeout=120) == 0, second.output()
    assert asked_before == 3
    resumed = kill.bodies[asked_before:]
    # uninterrupted: 4 requests; killed during the third: it is asked once more, no other
    assert len(resumed) == 2, [texts_of(b)[:80] for b in resumed]
    sent = json.dumps(resumed[0]["messages"])
    # both turns and both tool results
    assert "toolu_000_0" in sent and "toolu_001_0" in sent, sent[:600]
    results = [
        b
        for m in resumed[0]["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    assert [r["tool_use_id"] for r in results] == ["toolu_000_0", "toolu_001_0"], results
    # as Claude Code reported it (numbered lines), or, when the kill came before sdd had
    # that, as the tool gave it to the PostToolUse hook: never Claude Code's "interrupted"
    read = str(results[1]["content"])
    assert "# calc" in read and "TODO" in read and not results[1].get("is_error"), results[1]
    assert "sdd was stopped while you worked on this task" in texts_of(resumed[0])
    assert len(said_uuids(root)) == len(set(said_uuids(root)))
    assert (root / "calc" / "README.md").read_text() == "# calc\n\nadd and mul\n"
    assert "Sdd-Task: T001" in git(root, "log", "-1", "--format=%B")


def test_a_session_killed_in_one_clone_goes_on_in_another(
    tmp_path: Path, env: Any, procs: Procs
) -> None:
    """Two clones share one store, as two machines would: clone A's session is killed as its
    third request arrives; clone B has none of Claude Code's files and none of A's changes.
    B writes back A's file from the store and resumes A's session from sdd's copy of it."""
    seed = project(tmp_path / "seed", tasks=TASKS)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    a, b = (clone(origin, tmp_path / name) for name in ("a", "b"))
    store = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    kill = KillAtTheThirdCall()
    engine = ["--engine", "claude-code", "--model", MODEL, "--store", store]
    with MessagesServer(handler=kill) as server:
        env(server)
        kill.start(procs.sdd(a, "run", "001", *engine, "--push", "origin"))
        assert (a / "calc" / "README.md").is_file() and not (b / "calc" / "README.md").exists()
        asked_before = len(kill.bodies)
        second = procs.sdd(b, "resume", "001", *engine)
        assert second.wait(timeout=120) == 0, second.output()
    said = " ".join(second.stdout().split())
    assert "T001: wrote back its 1 file from the store (recorded in " in said, said
    assert "T001 continues its interrupted attempt" in said, said
    resumed = kill.bodies[asked_before:]
    assert len(resumed) == 2, [texts_of(x)[:80] for x in resumed]  # the lost one, then the last
    sent = json.dumps(resumed[0]["messages"])
    assert "toolu_000_0" in sent and "toolu_001_0" in sent and "TODO" in sent, sent[:600]
    assert (b / "calc" / "README.md").read_text() == "# calc\n\nadd and mul\n"
    assert "Sdd-Task: T001" in git(b, "log", "-1", "--format=%B")
    assert git(b, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(origin, "rev-parse", "main") == git(b, "rev-parse", "HEAD"), "B pushed it"
