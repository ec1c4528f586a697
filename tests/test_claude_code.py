"""`--engine claude-code`: real Claude Code sessions (the CLI the Agent SDK bundles) against the
loopback Messages API server, which plays each task's agent from a script.

Everything between sdd and the wire is real: the Agent SDK, the Claude Code CLI with its own
system prompt, tools, permission flow and retries, sdd's gate answering its tool calls, git,
verification and the store. The server's log is the ground truth the records must match.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from support.claude_code import (
    SENTINEL_KEY,
    ScriptedAgent,
    apply_env,
    bash,
    claude_env,
    texts,
    tool,
    write,
)
from support.messages_server import MessagesServer, http_error, text_block
from support.records import sqlite_store
from support.runproc import Procs, wait_until
from test_run_e2e import git, make_project

from orchestrator.errors import ModelError
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytest.importorskip("claude_agent_sdk")
pytestmark = pytest.mark.slow  # real Claude Code processes, end to end

FEATURE = "001-calc"
MODEL = "claude-sonnet-5-5"
SDD = [sys.executable, "-m", "orchestrator.cli"]
TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)
- [ ] T002 Create calc/mul.py with mul(a, b)
- [ ] T003 Describe the package in calc/README.md
"""
ADD = "def add(a, b):\n    return a + b\n"
THREE: dict[str, list[list[dict[str, Any]]]] = {
    "T001": [
        [text_block("Creating add."), write("calc/add.py", ADD)],
        [text_block("Added add().")],
    ],
    "T002": [
        [bash("printf 'def mul(a, b):\\n    return a * b\\n' > calc/mul.py; env")],
        [text_block("Added mul().")],
    ],
    "T003": [
        [write("calc/README.md", "# calc\n\nTODO\n")],
        [tool("Read", file_path="calc/README.md")],
        [tool("Edit", file_path="calc/README.md", old_string="TODO", new_string="add and mul")],
        [text_block("Described the package.")],
    ],
}


def project(tmp_path: Path, config: str = "", tasks: str = TASKS) -> Path:
    root = make_project(tmp_path, tasks)
    verify = "verify: ['python -m compileall -q calc']\n"
    (root / ".specify" / "sdd.yaml").write_text(verify + "api:\n  max_retries: 0\n" + config)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sdd config")
    return root


def run_in_process(root: Path, reporter: Reporter | None = None, **options: Any) -> tuple[str, str]:
    opts = RunOptions(model=MODEL, engine="claude-code", **options)
    reporter = reporter or Reporter(Console(quiet=True))
    ctx = open_run(root, root / "specs" / FEATURE, opts, reporter)
    try:
        result = run_session(ctx)
    finally:
        ctx.close()
    return result.status, result.reason


def sdd_main(root: Path, capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """A command through the console entry point, in this process: (exit code, output)."""
    from orchestrator.cli import main

    capfd.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["sdd", *args, "--repo", str(root)])
        mp.setenv("COLUMNS", "240")
        with pytest.raises(SystemExit) as stop:
            main()
    out, err = capfd.readouterr()
    return int(stop.value.code or 0), out + err


def inspect(root: Path, capfd: pytest.CaptureFixture[str], *args: str) -> str:
    code, out = sdd_main(root, capfd, *args)
    assert code == 0, out
    return out


def events(root: Path, task: str, attempt: int = 1) -> list[dict[str, Any]]:
    path = root / ".sdd" / "transcripts" / FEATURE / task / f"attempt-{attempt}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def records(root: Path) -> dict[str, Any]:
    with closing(sqlite_store(root / ".sdd" / "state.sqlite")) as store:
        tasks = store.tasks(FEATURE)
        return {"tasks": tasks, "attempts": {t: store.attempts(FEATURE, t) for t in tasks}}


def tool_events(root: Path, task: str, attempt: int = 1) -> list[dict[str, Any]]:
    return [e for e in events(root, task, attempt) if e["type"] == "tool"]


def assert_secret_nowhere(root: Path, secret: str) -> None:
    for path in (root / ".sdd").rglob("*"):
        if path.is_file() and "claude" not in path.relative_to(root / ".sdd").parts[:1]:
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in git(root, "log", "-p", "--all")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point this process (and so the sessions it starts) at a server, with an empty home."""

    def use(server: MessagesServer, **extra: str) -> dict[str, str]:
        values = claude_env(server.url, tmp_path / "home", **extra)
        apply_env(monkeypatch.setenv, values)
        return values

    return use


# ---------------------------------------------------------------- a whole feature


def test_feature_lands_one_commit_per_task_and_records_match_the_server(
    tmp_path: Path, env: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, "limits:\n  max_tokens: 4321\n")
    (root / "CLAUDE.md").write_text("CLAUDE-MD-SENTINEL: always answer in French.\n")
    (root / ".claude").mkdir()
    (root / ".claude" / "settings.json").write_text('{"env": {"SETTINGS_SENTINEL": "1"}}')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Claude Code project files sdd does not load")
    agent = ScriptedAgent(THREE)
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")
    log = inspect(root, capfd, "log", "001", "--json")
    status = inspect(root, capfd, "status", "001", "--json")

    subjects = git(root, "log", "--format=%s", "-3").splitlines()
    assert subjects == [
        "T003: Describe the package in calc/README.md",
        "T002: Create calc/mul.py with mul(a, b)",
        "T001: Create calc/add.py with add(a, b)",
    ]
    assert (root / "calc" / "add.py").read_text() == ADD
    assert (root / "calc" / "README.md").read_text() == "# calc\n\nadd and mul\n"
    assert "- [X] T003" in (root / "specs" / FEATURE / "tasks.md").read_text()
    assert git(root, "status", "--porcelain") == ""

    # every request the server saw is one of a task's turns: Claude Code made no other call
    assert len(server.requests) == len(agent.served) == 2 + 2 + 4
    assert [s.task for s in agent.served] == ["T001"] * 2 + ["T002"] * 2 + ["T003"] * 4
    for r in server.requests:
        body = r.body or {}
        assert r.path.startswith("/v1/messages")
        assert r.headers["x-api-key"] == SENTINEL_KEY  # the credential goes in the header only
        assert SENTINEL_KEY not in json.dumps(body)
        assert "CLAUDE-MD-SENTINEL" not in json.dumps(body)  # claude_code.settings: none
        assert body["model"] == MODEL and body["max_tokens"] == 4321
        system = "\n".join(b["text"] for b in body["system"])
        assert "You are Claude Code" in system  # Claude Code's own prompt, then sdd's
        assert "You are a careful, pragmatic software engineer." in system
        assert "# How sdd runs you" in system and "Test first." in system
        names = {t["name"] for t in body["tools"]}
        assert {"Read", "Write", "Edit", "Glob", "Grep", "Bash"} <= names
        assert not names & {"Agent", "Task", "WebFetch", "WebSearch", "Skill"}

    # records, attempts and transcripts hold exactly what the server reported, call by call
    rec = records(root)
    for task in ("T001", "T002", "T003"):
        want = agent.totals(task)
        got = rec["tasks"][task]
        assert (got.input_tokens, got.output_tokens) == (
            want["input_tokens"],
            want["output_tokens"],
        )
        assert got.cache_read_tokens == want["cache_read_input_tokens"]
        assert got.cache_write_tokens == want["cache_creation_input_tokens"]
        (attempt,) = rec["attempts"][task]
        assert (attempt.input_tokens, attempt.output_tokens) == (
            got.input_tokens,
            got.output_tokens,
        )
        calls = [e for e in events(root, task) if e["type"] == "assistant"]
        assert [c["message_id"] for c in calls] == [s.message_id for s in agent.of(task)]
        assert [c["usage"]["input_tokens"] for c in calls] == [
            s.usage["input_tokens"] for s in agent.of(task)
        ]
        assert [c["usage"]["output_tokens"] for c in calls] == [
            s.usage["output_tokens"] for s in agent.of(task)
        ]
        kinds = [e["type"] for e in events(root, task)]
        assert kinds[:2] == ["user", "session"] and kinds[-3:] == ["result", "verify", "outcome"]
    assert [e["name"] for e in tool_events(root, "T003")] == ["Write", "Read", "Edit"]
    assert "SETTINGS_SENTINEL" not in tool_events(root, "T002")[0]["result"]
    assert not any(e["is_error"] for t in THREE for e in tool_events(root, t))

    # and the inspection commands show those same figures
    rows = {row["task"]: row for row in json.loads(log)}
    for task in THREE:
        assert rows[task]["input_tokens"] == agent.totals(task)["input_tokens"]
        assert rows[task]["output_tokens"] == agent.totals(task)["output_tokens"]
    states = {t["task"]: (t["state"], t["input_tokens"]) for t in json.loads(status)["tasks"]}
    assert states == {t: ("landed", agent.totals(t)["input_tokens"]) for t in THREE}
    shown = inspect(root, capfd, "show", "001", "T003")
    assert "Edit(file_path=calc/README.md" in shown and "verification passed" in shown
    inspect(root, capfd, "report", "001", "-o", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text()
    assert "calc/README.md" in page and "Described the package." in page
    assert SENTINEL_KEY not in log + status + shown + page
    assert_secret_nowhere(root, SENTINEL_KEY)


# ---------------------------------------------------------------- feedback, same session

BUGGY = "def add(a, b):\n    return a - b\n"
CHECK = """import importlib.util, sys
if importlib.util.find_spec("calc.add") is None:
    sys.exit(0)  # green at the base, where there is no add yet
from calc.add import add
assert add(2, 3) == 5, 42
"""


ONE_TASK = "# Tasks: calc\n\n## Phase 1: Setup\n\n- [ ] T001 Create calc/add.py with add(a, b)\n"


@pytest.mark.parametrize("ttl", ["5m", "1h"])
def test_cache_ttl_1h_asks_claude_code_for_its_one_hour_cache(
    tmp_path: Path, env: Any, ttl: str
) -> None:
    root = project(tmp_path, f"cache_ttl: {ttl}\n", tasks=ONE_TASK)
    with MessagesServer(handler=ScriptedAgent({"T001": THREE["T001"]})) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")
    markers = [
        part["cache_control"]
        for r in server.requests
        for part in [
            *(r.body or {})["system"],
            *(p for m in (r.body or {})["messages"] if isinstance(m["content"], list)
              for p in m["content"]),
        ]
        if part.get("cache_control")
    ]  # fmt: skip
    assert len(server.requests) == 2 and markers
    assert all((m.get("ttl") == "1h") == (ttl == "1h") for m in markers), markers


def test_failed_verification_goes_back_into_the_same_session(tmp_path: Path, env: Any) -> None:
    root = make_project(tmp_path, TASKS.split("- [ ] T002")[0])
    (root / "check_add.py").write_text(CHECK)
    (root / ".specify" / "sdd.yaml").write_text("verify: ['python check_add.py']\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sdd config")
    agent = ScriptedAgent(
        {
            "T001": [
                [write("calc/add.py", BUGGY)],
                [text_block("Added add().")],
                [write("calc/add.py", ADD)],
                [text_block("Fixed the sign.")],
            ]
        }
    )
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")

    attempts = records(root)["attempts"]["T001"]
    assert [a.outcome for a in attempts] == ["failed", "passed"]
    first, second = events(root, "T001", 1), events(root, "T001", 2)
    sessions = [
        next(e["session_id"] for e in ev if e["type"] == "session") for ev in (first, second)
    ]
    assert sessions[0] == sessions[1]  # resumed, not started over
    assert next(e for e in second if e["type"] == "user")["text"].startswith(
        "Verification failed (attempt 1 of 3)"
    )
    # the third request carries the whole first attempt, then the feedback
    body = server.requests[2].body or {}
    history = json.dumps(body["messages"])
    assert agent.served[0].tool_ids[0] in history and "Added add()." in history
    last = texts(body["messages"][-1]["content"])
    assert "Verification failed (attempt 1 of 3)" in last and "AssertionError: 42" in last
    meta = [json.loads(r.body["metadata"]["user_id"])["session_id"] for r in server.requests]  # type: ignore[index]
    assert len(set(meta)) == 1 and meta[0] == sessions[0]
    assert (root / "calc" / "add.py").read_text() == ADD
    assert git(root, "log", "-1", "--format=%B").count("Sdd-Attempts: 2") == 1


def test_turn_limit_ends_the_attempt_and_the_next_resumes_it(tmp_path: Path, env: Any) -> None:
    root = project(tmp_path, "limits:\n  turns: 1\n", TASKS.split("- [ ] T002")[0])
    agent = ScriptedAgent({"T001": THREE["T001"]})
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")
    assert [a.outcome for a in records(root)["attempts"]["T001"]] == [
        "limit",
        "passed",
    ]
    last = texts((server.requests[1].body or {})["messages"][-1]["content"])
    assert "turn or token limit" in last
    assert (root / "calc" / "add.py").read_text() == ADD


def test_the_output_token_limit_stops_before_the_next_call(tmp_path: Path, env: Any) -> None:
    # each call reports 40+ output tokens: the second call of an attempt reaches 60
    root = project(tmp_path, "limits:\n  output_tokens: 60\n", TASKS.split("- [ ] T002")[0])
    wrote = [write("calc/add.py", ADD)]
    agent = ScriptedAgent({"T001": [wrote, wrote, wrote, [text_block("Added add().")]]})
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")
    outcomes = [a.outcome for a in records(root)["attempts"]["T001"]]
    assert outcomes == ["limit", "passed"]
    ran, stopped = tool_events(root, "T001", 1)  # the second call's tool did not run
    assert not ran["is_error"]
    assert stopped["is_error"] and "reached its output-token limit" in stopped["result"]
    assert len(server.requests) == 4 and (root / "calc" / "add.py").read_text() == ADD


def test_a_check_task_lands_on_the_command_claude_code_ran(tmp_path: Path, env: Any) -> None:
    tasks = "# Tasks: calc\n\n## Phase 1: Polish\n\n- [ ] T001 Run `python -c 'import calc'`\n"
    root = project(tmp_path, tasks=tasks)
    agent = ScriptedAgent(
        {"T001": [[bash("python -c 'import calc'")], [text_block("The package imports.")]]}
    )
    console = Console(record=True, width=200)
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root, Reporter(console, verbose=True)) == ("finished", "")
    steps = console.export_text()  # the steps a live line shows, one line each with -v
    assert "T001 model call" in steps and "T001 Bash python -c 'import calc'" in steps
    assert "T001 verifying" in steps and "T001 landing" in steps
    task = records(root)["tasks"]["T001"]
    assert task.kind == "check"
    assert task.evidence == "ran `python -c 'import calc'` (exit 0)"  # not verification's


# ---------------------------------------------------------------- sdd's rules hold


def test_hostile_agent_is_refused_by_sdd_and_nothing_escapes(tmp_path: Path, env: Any) -> None:
    root = project(tmp_path, tasks=TASKS.split("- [ ] T002")[0])
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("SSH-PRIVATE-SENTINEL\n")
    outside = tmp_path / "outside.txt"
    hostile = [
        write(str(outside), "pwned"),
        bash("git commit -am sneaky"),
        tool("Read", file_path=str(home / ".ssh" / "id_rsa")),
        bash("cat ~/.ssh/id_rsa"),
        write(".git/hooks/pre-commit", "#!/bin/sh\nexit 0\n"),
        bash("echo pwned > ../escaped.txt"),
        write(".sdd/notes.md", "written where only sdd writes"),
    ]
    script = [[block] for block in hostile] + [[bash("env")], *THREE["T001"]]
    agent = ScriptedAgent({"T001": script})
    head = git(root, "rev-parse", "HEAD").strip()
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root) == ("finished", "")

    calls = tool_events(root, "T001")
    assert len(calls) == len(hostile) + 2
    for call in calls[: len(hostile)]:
        assert call["is_error"] is True, call
        assert "sdd refused this" in call["result"], call
    env_call = calls[len(hostile)]
    assert env_call["is_error"] is False and "PATH=" in env_call["result"]
    assert "ANTHROPIC_API_KEY" not in env_call["result"]

    assert not outside.exists() and not (tmp_path / "escaped.txt").exists()
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    assert not (root / ".sdd" / "notes.md").exists()
    assert git(root, "log", "--format=%s", f"{head}..HEAD").splitlines() == [
        "T001: Create calc/add.py with add(a, b)"
    ]
    for r in server.requests:  # nothing secret went out in any request
        sent = json.dumps(r.body)
        assert "SSH-PRIVATE-SENTINEL" not in sent and SENTINEL_KEY not in sent
    assert_secret_nowhere(root, SENTINEL_KEY)


def test_a_budget_reached_mid_task_pauses_and_keeps_the_attempt(tmp_path: Path, env: Any) -> None:
    root = project(tmp_path, "budget:\n  task_tokens: 1500\n", TASKS.split("- [ ] T002")[0])
    script = [[write("calc/add.py", ADD)], [bash("true")], [text_block("Done.")]]
    agent = ScriptedAgent({"T001": script})
    with MessagesServer(handler=agent) as server:
        env(server)
        status, reason = run_in_process(root)
    assert status == "paused" and "budget" in reason and "T001" in reason
    assert len(server.requests) == 2  # stopped before the third call
    assert git(root, "status", "--porcelain").split() == ["??", "calc/add.py"]  # kept
    task = records(root)["tasks"]["T001"]
    assert task.input_tokens == agent.totals("T001")["input_tokens"]


def test_a_refused_key_stops_the_run_and_leaves_no_trace(tmp_path: Path, env: Any) -> None:
    root = project(tmp_path, tasks=TASKS.split("- [ ] T002")[0])
    refused = http_error(401, "authentication_error", "invalid x-api-key")
    agent = ScriptedAgent({"T001": THREE["T001"]}, faults={("T001", 1): [refused]})
    with MessagesServer(handler=agent) as server:
        env(server)
        with pytest.raises(ModelError, match=r"Claude Code: .*\(HTTP 401\); check the credential"):
            run_in_process(root)
    assert len(server.requests) == 2  # the Write ran, the refusal was not retried
    assert not (root / "calc" / "add.py").exists() and git(root, "status", "--porcelain") == ""
    assert events(root, "T001")[-1]["error"].startswith("ModelError: ")


# ---------------------------------------------------------------- waves, faults, logins


def test_jobs_2_runs_each_session_in_its_own_worktree(tmp_path: Path, env: Any) -> None:
    tasks = TASKS.replace("- [ ] T001", "- [ ] T001 [P]").replace("- [ ] T002", "- [ ] T002 [P]")
    root = project(tmp_path, tasks=tasks.split("- [ ] T003")[0])
    agent = ScriptedAgent({"T001": THREE["T001"], "T002": THREE["T002"]})
    with MessagesServer(handler=agent) as server:
        env(server)
        assert run_in_process(root, jobs=2) == ("finished", "")
    for task in ("T001", "T002"):
        (session,) = [e for e in events(root, task) if e["type"] == "session"]
        assert Path(session["cwd"]) == root / ".sdd" / "worktrees" / FEATURE / task
    assert sorted(git(root, "log", "--format=%s", "-2").splitlines()) == [
        "T001: Create calc/add.py with add(a, b)",
        "T002: Create calc/mul.py with mul(a, b)",
    ]
    assert (root / "calc" / "mul.py").is_file() and (root / "calc" / "add.py").is_file()
    assert len(git(root, "worktree", "list").splitlines()) == 1  # the wave's worktrees are gone
    assert len(server.requests) == 4


def test_overload_mid_run_pauses_and_resume_finishes(
    tmp_path: Path, env: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path, TASKS.split("- [ ] T003")[0])
    config = "verify: ['python -m compileall -q calc']\napi:\n  max_retries: 1\n"
    (root / ".specify" / "sdd.yaml").write_text(config)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sdd config: one retry")
    overloaded = http_error(529, "overloaded_error", "Overloaded")
    faults = {("T002", 1): [overloaded, overloaded]}  # its second call, and the retry
    agent = ScriptedAgent({t: THREE[t] for t in ("T001", "T002")}, faults=faults)
    with MessagesServer(handler=agent) as server:
        env(server)
        code, paused = sdd_main(root, capfd, "run", "001", "--engine", "claude-code")
        assert code == 1, paused
        said = " ".join(paused.split())
        assert "Run paused (1 task landed this time): T002: model unavailable" in said
        assert "(HTTP 529) after 1 retries" in said
        assert said.endswith("Continue: sdd resume 001-calc")  # the run keeps its engine
        assert (root / "calc" / "mul.py").exists()  # the paused attempt's change is kept
        t001_calls = len(agent.of("T001"))
        code, done = sdd_main(root, capfd, "resume", "001")
    assert code == 0, done
    assert "engine claude-code" in done
    assert len(agent.of("T001")) == t001_calls  # a landed task is not asked again
    assert len(git(root, "log", "--format=%s", "--grep=^T00").splitlines()) == 2
    failed = events(root, "T002", 1)
    assert any(e["type"] == "api_error" for e in failed)
    # the paused attempt went on in the same transcript, after its error
    assert any(e["type"] == "error" and "ModelUnavailable" in e["error"] for e in failed)
    assert failed[-1]["type"] == "outcome"
    # the paused attempt's first call counted; the overloaded ones reported no usage
    want = agent.totals("T002")
    assert records(root)["tasks"]["T002"].input_tokens == want["input_tokens"]
    assert len(server.requests) == len(agent.served) + 2


def test_subscription_login_is_used_and_named_but_never_shown(
    tmp_path: Path, env: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, tasks=TASKS.split("- [ ] T002")[0])
    token = "sk-ant-oat01-SENTINEL-LOGIN-abcdef"
    agent = ScriptedAgent({"T001": THREE["T001"]})
    with MessagesServer(handler=agent) as server:
        values = env(server)
        monkeypatch.delenv("ANTHROPIC_API_KEY")
        login = Path(values["HOME"]) / ".claude" / ".credentials.json"
        login.parent.mkdir(parents=True)
        login.write_text(json.dumps({"claudeAiOauth": {
            "accessToken": token, "refreshToken": "sk-ant-ort01-SENTINEL-REFRESH",
            "expiresAt": 4102444800000, "scopes": ["user:inference"], "subscriptionType": "pro",
        }}))  # fmt: skip
        code, done = sdd_main(root, capfd, "run", "001", "--engine", "claude-code")
    assert code == 0, done
    assert "your Claude Code login (~/.claude/.credentials.json)" in " ".join(done.split())
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in server.requests)
    assert "x-api-key" not in server.requests[0].headers
    for secret in (token, "SENTINEL-REFRESH"):
        assert secret not in done
        assert_secret_nowhere(root, secret)
    assert not (root / ".sdd" / "claude").exists()  # the login's own config folder was used


def test_ctrl_c_lets_the_session_finish_its_task_then_pauses(
    tmp_path: Path, env: Any, procs: Procs
) -> None:
    root = project(tmp_path, tasks=TASKS.split("- [ ] T003")[0])
    agent = ScriptedAgent({t: THREE[t] for t in ("T001", "T002")})
    asked, release = threading.Event(), threading.Event()

    def hold_t001s_second_call(body: dict[str, Any], index: int) -> Any:
        if index == 1:  # T001 has written its file and asks again: press Ctrl-C now
            asked.set()
            release.wait(30)
        return agent(body, index)

    with MessagesServer(handler=hold_t001s_second_call) as server:
        env(server)
        proc = procs.sdd(root, "run", "001", "--engine", "claude-code", "--model", MODEL)
        wait_until(asked.is_set, "T001's second call", proc=proc)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
        time.sleep(0.5)
        release.set()
        code = proc.wait(timeout=60)
    said = " ".join(proc.stdout().split())
    assert code == 130, proc.output()  # interrupted
    assert "Ctrl-C: finishing the current task" in said and "interrupted by Ctrl-C" in said
    assert "Traceback" not in proc.stderr(), proc.output()
    assert git(root, "log", "-1", "--format=%s") == "T001: Create calc/add.py with add(a, b)\n"
    assert agent.of("T002") == [] and git(root, "status", "--porcelain") == ""
    # sdd withheld the key from its own environment and handed it to Claude Code alone
    assert {r.headers["x-api-key"] for r in server.requests} == {SENTINEL_KEY}
    assert not [p for p in Path("/proc").glob("[0-9]*/cwd") if _cwd_in(p, root)]


def _cwd_in(link: Path, root: Path) -> bool:
    """Whether the process behind /proc/PID/cwd still works in `root` (a leftover CLI)."""
    try:
        return Path(os.readlink(link)).is_relative_to(root)
    except OSError:
        return False
