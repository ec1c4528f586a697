"""The claude-code engine's parts without a Claude Code process: sdd's gate over Claude
Code's tool calls, which credential is used, the launchers, the message stream as records,
and the refusals before a run starts. (`test_claude_code` runs the real CLI.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.agent.claude_code.credentials import find_credential
from orchestrator.agent.claude_code.gate import DEFAULT_TOOLS, Gate, offered
from orchestrator.agent.claude_code.options import session_env, write_launchers
from orchestrator.agent.engines import make_engine
from orchestrator.agent.model import Usage
from orchestrator.agent.tools.bash_rules import Rule
from orchestrator.agent.tools.pathguard import PathGuard
from orchestrator.agent.transcript import Transcript
from orchestrator.config.model import Config
from orchestrator.errors import InputError, ModelError, ModelUnavailable

# ---------------------------------------------------------------- the gate


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    return Gate(PathGuard(root), DEFAULT_TOOLS, deny=[Rule.parse("Bash(rm:*)")])


def test_file_tools_go_through_the_path_guard(gate: Gate, tmp_path: Path) -> None:
    root = gate.guard.root
    assert gate.check("Write", {"file_path": str(root / "src" / "a.py")}) is None
    assert gate.check("Read", {"file_path": "src/a.py"}) is None
    refused = {
        "Write": {"file_path": str(tmp_path / "outside.py")},
        "Edit": {"file_path": str(root / ".git" / "config"), "old_string": "a"},
        "MultiEdit": {"file_path": ".sdd/state.sqlite", "edits": []},
        "NotebookEdit": {"notebook_path": "../x.ipynb"},
        "Read": {"file_path": "~/.ssh/id_rsa"},
        "Glob": {"pattern": "*", "path": "/etc"},
    }
    for name, tool_input in refused.items():
        reason = gate.check(name, tool_input)
        assert reason is not None and reason.startswith(f"{name}: "), (name, reason)
    assert "environment file" in (gate.check("Read", {"file_path": ".env"}) or "")


def test_glob_patterns_may_not_climb_out_or_name_git(gate: Gate) -> None:
    assert gate.check("Glob", {"pattern": "src/**/*.py"}) is None
    assert gate.check("Grep", {"pattern": "x", "glob": "*.py"}) is None
    for pattern in ("../**/*", "/etc/*", "~/.ssh/*", ".git/**", "**/.sdd/*", "src/../../x"):
        assert gate.check("Glob", {"pattern": pattern}) is not None, pattern
    assert gate.check("Grep", {"pattern": "x", "glob": "../*"}) is not None


def test_bash_follows_sdds_rules(gate: Gate) -> None:
    assert gate.check("Bash", {"command": "python -m pytest -q"}) is None
    assert "only sdd commits" in (gate.check("Bash", {"command": "git commit -am x"}) or "")
    assert "rm" in (gate.check("Bash", {"command": "ls && rm -rf src"}) or "")
    assert ".git/" in (gate.check("Bash", {"command": "cat .git/config"}) or "")
    background = gate.check("Bash", {"command": "sleep 9", "run_in_background": True})
    assert background is not None and "foreground" in background
    assert gate.check("Bash", {"command": 7}) == "Bash: the command must be a string"


def test_tools_outside_the_agents_list_and_unknown_tools_are_refused(tmp_path: Path) -> None:
    narrow = Gate(PathGuard(tmp_path), ["Read", "Grep"])
    assert narrow.check("Read", {"file_path": "a"}) is None
    for name in ("Write", "Bash", "Agent", "mcp__db__query", "Skill"):
        reason = narrow.check(name, {})
        assert reason is not None and "not a tool this agent may use" in reason
    assert offered(None)[0] == list(DEFAULT_TOOLS)
    assert offered(["Read", "Agent", "Bash"]) == (["Read", "Bash"], ["Agent"])


def test_a_blocked_path_outside_the_work_tree_is_refused(gate: Gate, tmp_path: Path) -> None:
    assert gate.check_blocked(None) is None
    assert gate.check_blocked(str(gate.guard.root / "src" / "x")) is None
    assert "outside the workspace" in (gate.check_blocked(str(tmp_path / "elsewhere")) or "")


# ---------------------------------------------------------------- credentials


def test_the_credential_is_named_in_claude_codes_order(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path)}
    both = {**home, "ANTHROPIC_API_KEY": "k", "CLAUDE_CODE_OAUTH_TOKEN": "t"}
    assert find_credential(both, "linux").label == "ANTHROPIC_API_KEY from the environment"
    token = find_credential({**home, "CLAUDE_CODE_OAUTH_TOKEN": "t"}, "linux")
    assert token.label == "CLAUDE_CODE_OAUTH_TOKEN from the environment" and not token.login
    bedrock = find_credential({**home, "CLAUDE_CODE_USE_BEDROCK": "1"}, "linux")
    assert "Bedrock" in bedrock.label
    with pytest.raises(InputError, match=r"no credential for Claude Code: .*/login"):
        find_credential({**home, "ANTHROPIC_API_KEY": " "}, "linux")
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text('{"claudeAiOauth": {}}')
    login = find_credential(home, "linux")
    assert login.login and login.label == "your Claude Code login (~/.claude/.credentials.json)"
    elsewhere = find_credential({**home, "CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}, "darwin")
    assert elsewhere.label == "your Claude Code login (macOS keychain)"


# ---------------------------------------------------------------- the launchers


def test_the_shell_prefix_runs_commands_without_secrets(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "ANTHROPIC_API_KEY": "sk-ant-SECRET-1",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "GITHUB_TOKEN": "ghp_SECRET",
        "GIT_DIR": "/elsewhere/.git",
        "KEEP_ME": "yes",
    }
    launchers = write_launchers(tmp_path, Path("/bin/sh"), env)
    out = subprocess.run(
        [str(launchers.shell_prefix), "env; echo done"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "KEEP_ME=yes" in out and out.endswith("done\n")
    assert "SECRET" not in out and "ANTHROPIC_" not in out and "GIT_DIR" not in out
    settings = session_env(
        {**env, "CLAUDECODE": "1"},  # sdd started from a Claude Code session
        max_tokens=4321,
        max_retries=1,
        timeout=30,
        bash_timeout=2.5,
        shell_prefix=launchers.shell_prefix,
        config_dir=None,
    )
    assert settings["CLAUDE_CODE_SHELL_PREFIX"] == str(launchers.shell_prefix)
    assert settings["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "4321"
    assert (settings["BASH_MAX_TIMEOUT_MS"], settings["API_TIMEOUT_MS"]) == ("2500", "30000")
    assert settings["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert "CLAUDE_CONFIG_DIR" not in settings and "CLAUDECODE" not in settings


def test_the_cli_launcher_starts_a_session_of_its_own(tmp_path: Path) -> None:
    launchers = write_launchers(tmp_path, Path("/bin/sh"), {"PATH": os.environ["PATH"]})
    out = subprocess.run(
        [str(launchers.cli), "-c", "ps -o sid= -p $$; echo $1", "sh", "arg one"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert int(out[0]) != os.getsid(0)  # a terminal's Ctrl-C does not reach it
    assert out[1] == "arg one"


def test_the_cli_launched_dies_with_sdd(tmp_path: Path) -> None:
    """kill -9 of the process that started the CLI takes the CLI down (Linux)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    pid_file = tmp_path / "cli.pid"
    code = (  # the stand-in for sdd: writes the launchers, starts the CLI, waits
        "import os, subprocess, time\n"
        "from pathlib import Path\n"
        "from orchestrator.agent.claude_code.options import write_launchers\n"
        f"cli = write_launchers(Path({str(tmp_path)!r}), Path('/bin/sh'), dict(os.environ)).cli\n"
        f"subprocess.Popen([str(cli), '-c', 'echo $$ > {pid_file}; exec sleep 60'])\n"
        "time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 10
    while not (pid_file.is_file() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the launched CLI did not start"
        time.sleep(0.02)
    cli = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10  # its own wait: a loaded machine may have used the first
    while Path(f"/proc/{cli}").exists() and "Z" not in _state(cli):
        assert time.monotonic() < deadline, "the CLI outlived sdd"
        time.sleep(0.02)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return "Z"


# ---------------------------------------------------------------- the stream as records


def _messages() -> list[Any]:
    sdk = pytest.importorskip("claude_agent_sdk")
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-5-5",
            "usage": {"input_tokens": 120, "output_tokens": 1, "cache_read_input_tokens": 30},
        },
    }
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use"},
        "usage": {"output_tokens": 17},
    }
    usage = {"input_tokens": 120, "output_tokens": 1}
    return [
        sdk.SystemMessage("init", {"type": "system", "session_id": "s-1", "model": "m"}),
        sdk.SystemMessage("status", {"status": "requesting"}),
        sdk.StreamEvent("u1", "s-1", start),
        sdk.AssistantMessage([sdk.TextBlock("Writing.")], "m", usage=usage, message_id="msg_1"),
        sdk.AssistantMessage(
            [sdk.ToolUseBlock("toolu_1", "Write", {"file_path": "a"})],
            "m",
            usage=usage,
            message_id="msg_1",
        ),
        sdk.StreamEvent("u2", "s-1", delta),
        sdk.StreamEvent("u3", "s-1", {"type": "message_stop"}),
        sdk.UserMessage([sdk.ToolResultBlock("toolu_1", [{"type": "text", "text": "ok"}])]),
        sdk.ResultMessage("success", 10, 5, False, 2, "s-1", result=" Done. ", usage={}),
    ]


def test_the_stream_becomes_the_transcript_and_one_usage_per_call(tmp_path: Path) -> None:
    from orchestrator.agent.claude_code.stream import SessionLog

    calls: list[tuple[Usage, str]] = []
    log = Transcript(tmp_path / "t.jsonl", [])
    sink = SessionLog(log, lambda usage, stop: calls.append((usage, stop)))
    for message in _messages():
        sink.take(message)
    log.close()
    assert calls == [(Usage(120, 17, 0, 30), "tool_use")]
    assert sink.metered("toolu_1").is_set()
    events = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events] == ["session", "assistant", "tool", "result"]
    assert events[1]["content"] == [
        {"type": "text", "text": "Writing."},
        {"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {"file_path": "a"}},
    ]
    assert events[1]["usage"]["output_tokens"] == 17 and events[1]["stop_reason"] == "tool_use"
    assert events[2] == {
        "type": "tool",
        "name": "Write",
        "input": {"file_path": "a"},
        "is_error": False,
        "result": "ok",
    }
    assert sink.session_id == "s-1" and sink.summary() == "Done." and sink.failure(2) is None


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (529, "server_error", ModelUnavailable),
        (429, "rate_limit", ModelUnavailable),
        (503, None, ModelUnavailable),
        (None, None, ModelUnavailable),  # Claude Code failed on its own: try again later
        (401, "authentication_failed", ModelError),
        (400, "invalid_request", ModelError),
        (None, "billing_error", ModelError),
    ],
)
def test_an_error_result_pauses_or_refuses(
    tmp_path: Path, status: int | None, kind: str | None, error: type[Exception]
) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    from orchestrator.agent.claude_code.stream import SessionLog

    sink = SessionLog(Transcript(tmp_path / "t.jsonl", []), lambda usage, stop: None)
    if kind:
        sink.take(sdk.AssistantMessage([sdk.TextBlock("API Error")], "<synthetic>", error=kind))
    result = sdk.ResultMessage(
        "success", 1, 0, True, 1, "s", result="API Error: boom", api_error_status=status
    )
    sink.take(result)
    failure = sink.failure(2)
    assert type(failure) is error and "Claude Code: API Error: boom" in str(failure)
    out_of_turns = sdk.ResultMessage("error_max_turns", 1, 0, True, 3, "s")
    sink.take(out_of_turns)
    assert sink.out_of_turns and sink.failure(2) is None


# ---------------------------------------------------------------- refused before a run


def test_the_engine_is_refused_before_the_run_when_it_cannot_work(tmp_path: Path) -> None:
    pytest.importorskip("claude_agent_sdk")
    env = {"HOME": str(tmp_path), "ANTHROPIC_API_KEY": "k"}
    config = Config()
    with pytest.raises(InputError, match=r"scripted:PATH runs on the anthropic engine only"):
        make_engine("claude-code", "scripted:x.yaml", root=tmp_path, config=config, env=env)
    with pytest.raises(InputError, match=r"unknown engine 'codex'"):
        make_engine("codex", "sonnet", root=tmp_path, config=config, env=env)
    sandboxed = Config.model_validate({"bash": {"sandbox": "bwrap"}})
    with pytest.raises(InputError, match=r"bash.sandbox: bwrap wraps sdd's own Bash tool"):
        make_engine("claude-code", "sonnet", root=tmp_path, config=sandboxed, env=env)
    missing = Config.model_validate({"claude_code": {"cli": "bin/claude"}})
    with pytest.raises(InputError, match=r"claude_code.cli: bin/claude is not a file"):
        make_engine("claude-code", "sonnet", root=tmp_path, config=missing, env=env)
    engine = make_engine("claude-code", "opus", root=tmp_path, config=config, env=env)
    assert engine.model == "claude-opus-5-5"
    assert "engine claude-code (Claude Code " in engine.describe()
    assert engine.describe().endswith("ANTHROPIC_API_KEY from the environment")


def test_without_the_extra_the_error_says_how_to_install_it(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['claude_agent_sdk'] = None\n"
        "from pathlib import Path\n"
        "from orchestrator.agent.engines import make_engine\n"
        "from orchestrator.config.model import Config\n"
        "from orchestrator.errors import InputError\n"
        "try:\n"
        "    make_engine('claude-code', 'sonnet', root=Path('.'), config=Config(),"
        " env={'ANTHROPIC_API_KEY': 'k'})\n"
        "except InputError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "the claude-code engine needs the Claude Agent SDK: "
        "pip install 'sdd-orchestrator[claude-code]'"
    )


def test_config_names_a_bad_engine_key(tmp_path: Path) -> None:
    from pydantic import ValidationError

    assert Config().engine == "anthropic"
    with pytest.raises(ValidationError, match="engine"):
        Config.model_validate({"engine": "codex"})
    with pytest.raises(ValidationError, match="settings"):
        Config.model_validate({"claude_code": {"settings": "all"}})


def test_bash_commands_that_ran_are_kept_as_a_checks_evidence(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    from orchestrator.agent.claude_code.stream import SessionLog

    ran: list[tuple[str, bool]] = []
    sink = SessionLog(Transcript(tmp_path / "t.jsonl", []), lambda usage, stop: None, ran)
    calls = {"a": "pytest -q", "b": "false", "c": "git commit -m x", "d": "x"}
    uses = [sdk.ToolUseBlock(i, "Bash", {"command": c}) for i, c in calls.items()]
    uses[-1] = sdk.ToolUseBlock("d", "Read", {"file_path": "x"})
    sink.take(sdk.AssistantMessage(uses, "m"))
    sink.refused.add("c")  # sdd's gate said no: it never ran
    results = [sdk.ToolResultBlock(i, "out", is_error=i in "bc") for i in calls]
    sink.take(sdk.UserMessage(results))
    assert ran == [("pytest -q", True), ("false", False)]
