"""`sdd run` through the real anthropic SDK against a loopback Messages API, and no key leaks.

The server plays an agent per task (a tool turn, then a summary), so everything between the
CLI and the HTTP wire is the product's and the SDK's own: request building, streaming, tool
results, usage accounting, error classes, and where the API key may (not) end up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from support.messages_server import (
    MessagesServer,
    Reply,
    http_error,
    message,
    text_block,
    tool_use_block,
)
from support.records import sqlite_store
from test_run_e2e import git, make_project

from orchestrator.cli import main
from orchestrator.errors import ModelError
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

SENTINEL = "sk-ant-SENTINEL-1234567890abcdef"
MODEL = "claude-sonnet-5-5"
FEATURE = "001-calc"
TOOLS = {"Read", "Write", "Edit", "Glob", "Grep", "Bash"}
CACHE = {"type": "ephemeral"}
GENERALIST_PHRASE = "You are a careful, pragmatic software engineer."
TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)
- [ ] T002 Create calc/mul.py with mul(a, b)
"""
SDD = [sys.executable, "-m", "orchestrator.cli"]
VERIFY = "verify: ['python -m compileall -q calc']\n"

Turn = list[dict[str, Any]]  # content blocks; tool_use blocks get their id when served


def write(path: str, content: str) -> dict[str, Any]:
    return {"type": "tool_use", "name": "Write", "input": {"file_path": path, "content": content}}


def bash(command: str) -> dict[str, Any]:
    return {"type": "tool_use", "name": "Bash", "input": {"command": command}}


GOOD: dict[str, list[Turn]] = {
    "T001": [
        [text_block("Creating add."), write("calc/add.py", "def add(a, b):\n    return a + b\n")],
        [text_block("Added add().")],
    ],
    "T002": [
        [write("calc/mul.py", "def mul(a, b):\n    return a * b\n")],
        [text_block("Added mul().")],
    ],
}


def task_of(body: dict[str, Any]) -> str:
    """The task id from the first user message, as `prompt.task_message` writes it."""
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
    found = re.search(r"^# Task (T\d+)", text, re.MULTILINE)
    assert found, text[:200]
    return found.group(1)


class Agent:
    """Answers each request with the next turn of its task's script, with distinct usage."""

    def __init__(self, turns: dict[str, list[Turn]]) -> None:
        self.turns = turns
        self.served: list[tuple[str, dict[str, int], list[str]]] = []  # task, usage, tool ids

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        task = task_of(body)
        cursor = sum(1 for m in body["messages"] if m["role"] == "assistant")
        script = self.turns[task]
        blocks = script[cursor] if cursor < len(script) else [text_block("Nothing more.")]
        content, ids = [], []
        for k, block in enumerate(blocks):
            if block["type"] == "tool_use":
                ids.append(f"toolu_{index:02d}_{k}")
                block = tool_use_block(ids[-1], block["name"], block["input"])
            content.append(block)
        usage = {
            "input_tokens": 1000 + 7 * index,
            "output_tokens": 40 + 3 * index,
            "cache_creation_input_tokens": 500 if index == 0 else 11 * index,
            "cache_read_input_tokens": 0 if index == 0 else 2000 + 13 * index,
        }
        self.served.append((task, usage, ids))
        return message(content, "tool_use" if ids else "end_turn", usage)

    def totals(self, task: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for t, usage, _ in self.served:
            if t == task:
                for key, value in usage.items():
                    out[key] = out.get(key, 0) + value
        return out


def project(tmp_path: Path, config: str = "") -> Path:
    """A calc project whose verification is a quick compile check (pytest is test_run_e2e's)."""
    root = make_project(tmp_path, TASKS)
    (root / ".specify" / "sdd.yaml").write_text(VERIFY + config)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sdd config")
    return root


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point the SDK at a server and give it the sentinel key (conftest removes both)."""

    def use(server: MessagesServer) -> None:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", SENTINEL)

    return use


def run_in_process(root: Path) -> tuple[str, str]:
    session = open_run(
        root, root / "specs" / FEATURE, RunOptions(model=MODEL), Reporter(Console(quiet=True))
    )
    try:
        result = run_session(session)
    finally:
        session.close()
    return result.status, result.reason


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SDD, *args], cwd=root, capture_output=True, text=True, timeout=60)


def tool_results(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        b["tool_use_id"]: b
        for m in body["messages"]
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    }


def assert_usage_recorded(agent: Agent, rows: dict[str, dict[str, Any]]) -> None:
    for task in ("T001", "T002"):
        want = agent.totals(task)
        got = rows[task]
        assert got["input_tokens"] == want["input_tokens"], task
        assert got["output_tokens"] == want["output_tokens"], task
        assert got["cache_read_tokens"] == want["cache_read_input_tokens"], task
        if "cache_write_tokens" in got:
            assert got["cache_write_tokens"] == want["cache_creation_input_tokens"], task


# ---------------------------------------------------------------- a whole run over the SDK


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_run_over_the_sdk_sends_cacheable_requests_and_records_usage(
    tmp_path: Path, api_env: Any, stream: bool
) -> None:
    root = project(tmp_path, "" if stream else "stream: false\n")
    agent = Agent(GOOD)
    with MessagesServer(handler=agent) as server:
        api_env(server)
        status, reason = run_in_process(root)
    assert (status, reason) == ("finished", "")
    assert git(root, "log", "--format=%s").splitlines()[:2] == [
        "T002: Create calc/mul.py with mul(a, b)",
        "T001: Create calc/add.py with add(a, b)",
    ]
    assert (root / "calc" / "mul.py").read_text() == "def mul(a, b):\n    return a * b\n"
    requests = server.requests
    assert [t for t, _, _ in agent.served] == ["T001", "T001", "T002", "T002"]
    constitution = (root / ".specify/memory/constitution.md").read_text().strip()
    spec = (root / "specs" / FEATURE / "spec.md").read_text().strip()

    for r in requests:
        body = r.body
        assert body is not None
        assert r.path == "/v1/messages"
        assert r.headers["authorization"] == f"Bearer {SENTINEL}"
        assert body["model"] == MODEL
        assert "temperature" not in body
        assert bool(body.get("stream")) is stream
        # system: the feature's documents first, then the routed agent's prompt, each cached
        shared, persona = body["system"]
        assert shared["cache_control"] == persona["cache_control"] == CACHE
        for part in (constitution, spec):
            assert part in shared["text"] and part not in persona["text"]
        assert GENERALIST_PHRASE in persona["text"] and GENERALIST_PHRASE not in shared["text"]
        # tools: the six, each with a schema, no breakpoint (the shared block's caches them)
        tools = body["tools"]
        assert {t["name"] for t in tools} == TOOLS and len(tools) == len(TOOLS)
        assert all(t["input_schema"]["type"] == "object" for t in tools)
        assert [t.get("cache_control") for t in tools] == [None] * 6
        # the newest message's last block carries the third breakpoint, and the previous
        # request's newest the fourth (a wide turn would push it past the 20-block lookback)
        messages = body["messages"]
        assert messages[-1]["content"][-1]["cache_control"] == CACHE
        marked = [i for i, m in enumerate(messages) if "cache_control" in json.dumps(m)]
        assert marked == [i for i in (len(messages) - 3, len(messages) - 1) if i >= 0]
        assert sum(json.dumps(m).count("cache_control") for m in messages) == len(marked)

    # the cache prefix (tools, then system) is byte-identical across the whole run
    prefixes = {json.dumps([r.body["system"], r.body["tools"]], sort_keys=True) for r in requests}
    assert len(prefixes) == 1

    # each tool_use id comes back as the tool_result of the next request of that task
    for k, (task, _, ids) in enumerate(agent.served):
        if not ids:
            continue
        nxt = requests[k + 1].body
        assert task_of(nxt) == task
        results = tool_results(nxt)
        assert set(results) == set(ids)
        assert all(results[i]["is_error"] is False for i in ids)
        assert "calc/" in str(results[ids[0]]["content"])

    # usage is the sum of what the API reported, per task
    with closing(sqlite_store(root / ".sdd" / "state.sqlite")) as store:
        records = store.tasks(FEATURE)
    assert {r.agent for r in records.values()} == {"generalist"}
    rows = {
        tid: {
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "cache_read_tokens": r.cache_read_tokens,
            "cache_write_tokens": r.cache_write_tokens,
        }
        for tid, r in records.items()
    }
    assert_usage_recorded(agent, rows)


# ---------------------------------------------------------------- a refused key


def test_401_mid_task_raises_model_error_and_leaves_no_trace(tmp_path: Path, api_env: Any) -> None:
    root = project(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    wrote = message([tool_use_block("toolu_w", "Write", GOOD["T001"][0][1]["input"])], "tool_use")
    refused = http_error(401, "authentication_error", "invalid x-api-key")
    with MessagesServer(wrote, refused) as server:
        api_env(server)
        with pytest.raises(ModelError, match=r"authentication_error \(HTTP 401"):
            run_in_process(root)
    assert len(server.requests) == 2  # the Write ran, then the refusal was not retried
    assert tool_results(server.requests[1].body)["toolu_w"]["is_error"] is False  # type: ignore[arg-type]
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""  # the agent's half-done write is undone
    assert not (root / "calc" / "add.py").exists()
    with closing(sqlite_store(root / ".sdd" / "state.sqlite")) as store:
        run = store.latest_run(FEATURE)
    assert run is not None and run.status == "paused" and "HTTP 401" in run.reason


def test_401_from_cli_is_exit_3_one_line_no_retry_no_commit(tmp_path: Path, api_env: Any) -> None:
    root = project(tmp_path)
    head = git(root, "rev-parse", "HEAD")
    # a proxy that echoes the credential back must not get it printed
    refusal = http_error(401, "authentication_error", f"invalid x-api-key: {SENTINEL}")
    with MessagesServer(refusal) as server:
        api_env(server)
        done = sdd(root, "run", "001", "--model", MODEL)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: model API refused the request: authentication_error")
    assert "HTTP 401" in lines[0] and "check ANTHROPIC_API_KEY" in lines[0]
    assert SENTINEL not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert len(server.requests) == 1
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""


# ---------------------------------------------------------------- the key stays secret


def test_api_key_appears_nowhere_after_a_cli_run(
    tmp_path: Path, api_env: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    env_turn: Turn = [text_block("Looking around."), bash("env")]
    agent = Agent(GOOD | {"T001": [env_turn, *GOOD["T001"]]})

    def sdd_main(*args: str) -> tuple[object, str]:
        """The console entry point in this process (the 401 test covers the subprocess)."""
        monkeypatch.setattr(sys, "argv", ["sdd", *args, "--repo", str(root)])
        with pytest.raises(SystemExit) as stop:
            main()
        out, err = capfd.readouterr()
        assert SENTINEL not in out + err
        return stop.value.code, out + err

    with MessagesServer(handler=agent) as server:
        api_env(server)
        code, output = sdd_main("run", "001", "--model", MODEL)
    assert code == 0, output
    assert server.requests[0].headers["authorization"] == f"Bearer {SENTINEL}"
    code, log = sdd_main("log", "001", "--json")
    assert code == 0, log

    # what the agent's `env` printed went back to the model without the key or API settings
    (env_id,) = agent.served[0][2]
    env_result = tool_results(server.requests[1].body)[env_id]  # type: ignore[arg-type]
    assert env_result["is_error"] is False
    content = str(env_result["content"])
    assert "PATH=" in content
    assert SENTINEL not in content and "ANTHROPIC_" not in content

    # nothing sdd wrote: transcripts, the records and checkpoint database with its WAL, locks
    written = [p for p in (root / ".sdd").rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in written) and any(
        p.name.startswith("state.sqlite") for p in written
    )
    for path in written:
        assert SENTINEL.encode() not in path.read_bytes(), path

    # nor git: every commit's message and diff, every file of every commit
    history = git(root, "log", "-p", "--all", "--format=%H%n%B")
    assert "T001" in history and SENTINEL not in history
    revs = git(root, "rev-list", "--all").split()
    found = subprocess.run(
        ["git", "grep", "-I", "-l", SENTINEL, *revs], cwd=root, capture_output=True, text=True
    )
    assert found.returncode == 1 and found.stdout == "", found.stdout

    # and usage as `sdd log --json` shows it is the API's, summed per task
    rows = {row["task"]: row for row in json.loads(log)}
    assert list(rows) == ["T001", "T002"]
    assert_usage_recorded(agent, rows)
