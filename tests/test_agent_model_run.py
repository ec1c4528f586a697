"""A run where each task's agent brings its own `model:` and `tools:`: the requests the real
anthropic SDK sends to the loopback Messages API carry that agent's model id and only its
tools, and the other agent's tasks keep the run's model and every tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.messages_server import MessagesServer, message, text_block
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
            shared, persona = body["system"]  # the feature's documents, then the agent
            assert "You write small, exact arithmetic functions." in persona["text"]
            assert "You write small" not in shared["text"]
    assert seen == {
        "T001": {("claude-haiku-5-5", frozenset({"Read", "Write"}))},
        "T002": {(MODEL, frozenset(TOOLS))},
    }
    agents = git(root, "log", "--format=%(trailers:key=Sdd-Agent,valueonly)", "-2")
    assert agents.split() == ["generalist", "calc-dev"]  # T002, then T001


def test_routing_model_asks_once_after_every_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`routing: model` in a run: a refused run asks nothing and keeps nothing; a run that
    starts asks once, before the first task, and its choice is the agent that works."""
    from orchestrator import paths
    from orchestrator.errors import GitStateError

    root = project(tmp_path, "routing: model\n")
    agent = Agent(GOOD)
    asked: list[dict[str, Any]] = []

    def handler(body: dict[str, Any], index: int) -> Any:
        first = body["messages"][0]["content"]
        if isinstance(first, str) and first.startswith("Route these tasks"):
            asked.append(body)
            return message([text_block('{"T001": "generalist", "T002": "fastapi-backend-dev"}')])
        return agent(body, index)

    with MessagesServer(handler=handler) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", SENTINEL)
        (root / "stray.txt").write_text("uncommitted\n")
        with pytest.raises(GitStateError, match="uncommitted changes"):
            run_in_process(root)
        assert server.requests == [] and not paths.routing_file(root, "001-calc").exists()
        (root / "stray.txt").unlink()
        assert run_in_process(root) == ("finished", "")
    assert len(asked) == 1 and asked[0]["model"] == "claude-haiku-5-5"
    assert task_of_first_work(server.requests) == "T001"
    agents = git(root, "log", "--format=%(trailers:key=Sdd-Agent,valueonly)", "-2")
    assert agents.split() == ["fastapi-backend-dev", "generalist"]  # T002, then T001
    assert paths.routing_file(root, "001-calc").is_file()


def task_of_first_work(requests: list[Any]) -> str:
    return task_of(requests[1].body)
