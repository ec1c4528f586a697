"""A run where each task's agent brings its own `model:` and `tools:`: the requests the real
anthropic SDK sends to the loopback Messages API carry that agent's model id and only its
tools, and the other agent's tasks keep the run's model and every tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.messages_server import MessagesServer
from test_anthropic_run import GOOD, MODEL, SENTINEL, TOOLS, Agent, project, run_in_process, task_of
from test_run_e2e import git

pytestmark = pytest.mark.slow  # a whole run

CALC_DEV = """---
name: calc-dev
description: Owns the addition function.
tools: Read, Write
model: haiku
sdd:
  paths: [calc/add.py]
---

You write small, exact arithmetic functions.
"""


def test_an_agents_model_and_tools_reach_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    (root / ".claude" / "agents").mkdir(parents=True)
    (root / ".claude" / "agents" / "calc-dev.md").write_text(CALC_DEV)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "calc-dev agent")
    with MessagesServer(handler=Agent(GOOD)) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", SENTINEL)
        assert run_in_process(root) == ("finished", "")
    seen: dict[str, set[tuple[str, frozenset[str]]]] = {}
    for r in server.requests:
        body: dict[str, Any] = r.body or {}
        tools = frozenset(t["name"] for t in body["tools"])
        seen.setdefault(task_of(body), set()).add((body["model"], tools))
        if task_of(body) == "T001":
            assert "You write small, exact arithmetic functions." in body["system"][0]["text"]
    assert seen == {
        "T001": {("claude-haiku-5-5", frozenset({"Read", "Write"}))},
        "T002": {(MODEL, frozenset(TOOLS))},
    }
    agents = git(root, "log", "--format=%(trailers:key=Sdd-Agent,valueonly)", "-2")
    assert agents.split() == ["generalist", "calc-dev"]  # T002, then T001
