"""Soak: a 20-task feature over the real SDK while 30% of model requests fail at random.

The loopback server plays an agent (write the task's file, then summarise) and a seeded
FaultInjector swaps requests for rate limits, overloads, 5xx, hangs past the client timeout,
dropped connections, broken streams and malformed model output. The run must land every task
exactly once however often it pauses, pause only with a reason, and answer every malformed tool
call with an error result the conversation goes on from. `strict=True` makes the server refuse,
as the real API does, any request whose conversation the product has malformed.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from support.faults import FAULT_KINDS, MALFORMED, TOOL_FAULTS, FaultInjector
from support.messages_server import (
    MessagesServer,
    Reply,
    empty_reply,
    message,
    text_block,
    tool_use_block,
)
from test_anthropic_run import task_of, tool_results
from test_run_e2e import git, make_project

from orchestrator.agent.engine import AnthropicEngine
from orchestrator.agent.models.anthropic_api import AnthropicModel
from orchestrator.errors import SddError
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

FEATURE = "001-calc"
MODEL = "claude-sonnet-5-5"
KEY = "sk-ant-soak-test-key"
TASKS = 20
SEED = 20260
FAULT_RATE = 0.3
MAX_SESSIONS = 61  # the first run and at most 60 resumes
# make_model builds AnthropicModel with a 600 s timeout and no way to change it (no setting, no
# environment variable the SDK reads), so the test builds the same class with a short one.
CLIENT_TIMEOUT = 1.0
HANG_SECONDS = 2.0
PACKAGE = "pkg/__init__.py"
IDS = [f"T{n:03d}" for n in range(1, TASKS + 1)]


def target(task: str) -> tuple[str, str]:
    n = int(task[1:])
    return f"pkg/t{n:02d}.py", f"VALUE_{n:02d} = {n}\n"


def tasks_md(ids: list[str]) -> str:
    lines = [f"- [ ] {tid} Create {target(tid)[0]} defining VALUE_{tid[-2:]}" for tid in ids]
    return "# Tasks: soak\n\n## Phase 1: Setup\n\n" + "\n".join(lines) + "\n"


def project(tmp_path: Path, ids: list[str] = IDS) -> Path:
    root = make_project(tmp_path, tasks_md(ids))
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / ".specify" / "sdd.yaml").write_text("verify: ['python -m compileall -q pkg']\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "soak project")
    return root


def _blocks(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else []


class Agent:
    """Reads the package, writes its task's file, then summarises; each step only once the
    previous one came back without error, so any fault makes it start over."""

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        path, content = target(task_of(body))
        messages = body["messages"]
        asked = _blocks(messages[-2]["content"]) if len(messages) > 1 else []
        results = tool_results({"messages": messages[-1:]})
        done = {
            (b["name"], b["input"].get("file_path"))
            for b in asked
            if b.get("type") == "tool_use" and results.get(b["id"], {}).get("is_error") is False
        }
        if ("Write", path) in done:
            return message([text_block(f"Created {path}.")])
        if ("Read", PACKAGE) in done:
            step = tool_use_block(
                f"toolu_{index:04d}", "Write", {"file_path": path, "content": content}
            )
        else:
            step = tool_use_block(f"toolu_{index:04d}", "Read", {"file_path": PACKAGE})
        return message([step], "tool_use")


def run_once(root: Path, url: str) -> tuple[str, str]:
    """One `sdd run`/`sdd resume` in process, with the real model on a short client timeout."""
    session = open_run(
        root, root / "specs" / FEATURE, RunOptions(model=MODEL), Reporter(Console(quiet=True))
    )
    model = AnthropicModel(MODEL, api_key=KEY, base_url=url, timeout=CLIENT_TIMEOUT)
    session = dataclasses.replace(session, engine=AnthropicEngine(model))
    try:
        result = run_session(session)
    finally:
        session.close()
    return result.status, result.reason


def soak(root: Path, monkeypatch: Any) -> tuple[MessagesServer, Any, list[tuple[str, str]]]:
    faults = FaultInjector(Agent(), random.Random(SEED), FAULT_RATE, hang_seconds=HANG_SECONDS)
    stops: list[tuple[str, str]] = []  # (finished | paused | error, reason) per session
    with MessagesServer(handler=faults, strict=True) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        for _ in range(MAX_SESSIONS):
            try:
                stops.append(run_once(root, server.url))
            except SddError as exc:  # the CLI's exit 3: the run is paused, with this reason
                stops.append(("error", str(exc)))
            kept = stops[-1][0] == "paused" and "continues its attempt" in stops[-1][1]
            assert kept or git(root, "status", "--porcelain") == "", stops[-1]  # or paused
            if stops[-1][0] == "finished":
                break
    return server, faults, stops


def test_twenty_tasks_land_once_each_through_thirty_percent_faults(
    tmp_path: Path, monkeypatch: Any
) -> None:
    root = project(tmp_path)
    started = time.monotonic()
    server, faults, stops = soak(root, monkeypatch)
    wall = time.monotonic() - started
    landed = git(root, "log", "--format=%(trailers:key=Sdd-Task,valueonly)").split()
    figures = {
        "requests": len(server.requests),
        "faults": sum(faults.counts.values()),
        "by_kind": dict(sorted(faults.counts.items())),
        "pauses": sum(status != "finished" for status, _ in stops),
        "resumes": len(stops) - 1,
        "rejected_400": len(server.rejected),
        "commits": len(landed),
        "wall_seconds": round(wall, 1),
    }
    print(f"\nsoak figures: {figures}")
    for status, reason in stops:
        print(f"  {status}: {reason[:160]}")

    assert stops[-1][0] == "finished", stops[-1]
    assert set(faults.counts) == set(FAULT_KINDS)  # the seed exercised every kind
    assert all(reason.strip() for status, reason in stops if status != "finished")
    # exactly one commit per task, each ticked, each file as the agent wrote it, nothing else
    assert sorted(landed) == IDS
    done = re.findall(r"^- \[X\] (T\d+)", (root / "specs" / FEATURE / "tasks.md").read_text(), re.M)
    assert sorted(done) == IDS
    for tid in IDS:
        path, content = target(tid)
        assert (root / path).read_text() == content
    assert not (root / "stray").exists()
    assert git(root, "status", "--porcelain") == ""
    # every malformed tool call came back as an error result, and the conversation went on
    bodies = [r.body or {} for r in server.requests]
    tool_faults = [f for f in faults.injected if f.kind in TOOL_FAULTS]
    assert tool_faults
    for fault in tool_faults:
        sent, answer = bodies[fault.index], bodies[fault.index + 1]
        assert task_of(answer) == task_of(sent), fault
        assistant = answer["messages"][-2]
        assert fault.tool_use_id in {b.get("id") for b in _blocks(assistant["content"])}, fault
        result = tool_results(answer)[fault.tool_use_id]
        assert result["is_error"] is True, fault
    assert {f.kind for f in faults.injected} >= set(MALFORMED)
    # the product never sent a conversation the real API would refuse
    assert server.rejected == []
    assert not [s for s in stops if s[0] == "error"]


def test_an_empty_reply_before_any_change_leaves_the_conversation_valid(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The API refuses a conversation holding an empty assistant message that is not the last
    one (400), so an empty answer must not be sent back as-is with the no-change feedback."""
    root = project(tmp_path, IDS[:1])
    with MessagesServer(empty_reply(), handler=Agent(), strict=True) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        try:
            outcome = run_once(root, server.url)
        except SddError as exc:
            outcome = ("error", str(exc))
    assert server.rejected == []
    assert outcome == ("finished", "")
    assert (root / target("T001")[0]).read_text() == target("T001")[1]
