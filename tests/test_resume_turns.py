"""Resume loses at most one model turn: real `sdd` processes over the anthropic SDK, killed
with SIGKILL mid-task several times in one run, against the loopback Messages API server,
which counts every request. An uninterrupted run makes exactly one request per scripted turn,
so every request beyond that is a turn a kill cost; each resume may cost at most one (the
request that was on the wire when the process died).

Kill points are counted in requests received, not in seconds: the server answers after a
latency, so each kill lands while a request is on the wire, the costliest point (the reply is
lost and asked for again). Kills inside a tool call are `test_resume.py`'s and
`test_journal.py`'s."""

from __future__ import annotations

import json
import shlex
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.messages_server import MessagesServer, Reply, message, text_block, tool_use_block
from support.repo import commit_tree, git
from support.runproc import Procs, wait_until

pytestmark = pytest.mark.slow

IDS = [f"T00{k}" for k in range(1, 7)]
FEATURE = "001-turns"
MODEL = "claude-sonnet-5-5"
KEY = "sk-ant-test-turns-1234567890abcdef"
LATENCY = 0.2  # seconds before each reply: a kill right after a request lands in the wait


def turns(tid: str, log: Path) -> list[list[dict[str, Any]]]:
    """Five turns: write, a logged Bash call (so a re-run would show), edit, read, done."""
    name = f"src/{tid.lower()}.txt"
    bash = f"echo {tid} >> {shlex.quote(str(log))}"
    return [
        [{"name": "Write", "input": {"file_path": name, "content": f"{tid} one\n"}}],
        [{"name": "Bash", "input": {"command": bash}}],
        [{"name": "Edit", "input": {"file_path": name, "old_string": "one", "new_string": "two"}}],
        [
            {"name": "Read", "input": {"file_path": name}},
            {"name": "Grep", "input": {"pattern": tid}},
        ],
        [{"text": f"{tid} done."}],
    ]


class Agent:
    """Each request gets its task's next turn; `served` counts them (thread-safe)."""

    def __init__(self, script: dict[str, list[list[dict[str, Any]]]]) -> None:
        self.script, self.served = script, 0
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        with self._lock:
            self.served += 1
        time.sleep(LATENCY)
        first = body["messages"][0]["content"]
        text = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
        task = next(t for t in IDS if f"# Task {t}" in text)
        cursor = sum(1 for m in body["messages"] if m["role"] == "assistant")
        steps = self.script[task]
        blocks = steps[cursor] if cursor < len(steps) else [{"text": "Nothing more."}]
        content = [
            tool_use_block(f"toolu_{index:04d}_{k}", b["name"], b["input"])
            if "name" in b
            else text_block(b["text"])
            for k, b in enumerate(blocks)
        ]
        return message(content, "tool_use" if any("name" in b for b in blocks) else "end_turn")


def make_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n\nSmall.\n")
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump({"verify": ["test -d src"]}))
    (feature / "spec.md").write_text("# Spec\n\nOne file per task.\n")
    (feature / "plan.md").write_text("# Plan\n\nPlain files under src/.\n")
    lines = ["# Tasks", "", "## Phase 1: Files", ""]
    lines += [f"- [ ] {t} Create src/{t.lower()}.txt" for t in IDS]
    (feature / "tasks.md").write_text("\n".join(lines) + "\n")
    (root / "src").mkdir()
    (root / "src" / ".keep").write_text("")
    commit_tree(root)
    return root


def test_each_kill_costs_at_most_one_request_and_the_same_commits_land(
    tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path)
    log = tmp_path / "bash.log"
    agent = Agent({t: turns(t, log) for t in IDS})
    expected = sum(len(agent.script[t]) for t in IDS)  # an uninterrupted run's requests
    kills = (3, 12, 14, 23)  # mid-T001, mid-T003 twice (one turn apart), mid-T005
    with MessagesServer(handler=agent) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        command = "run"
        for at in kills:
            proc = procs.sdd(root, command, "001", "--model", MODEL)
            wait_until(lambda at=at: agent.served >= at, f"request {at}", proc=proc)  # type: ignore[misc]
            proc.kill_group()
            command = "resume"
        last = procs.sdd(root, "resume", "001", "--model", MODEL)
        assert last.wait(timeout=120) == 0, last.output()
        shown = procs.sdd(root, "show", "001", "T003")
        assert shown.wait() == 0, shown.output()
    assert agent.served <= expected + len(kills), (agent.served, expected)
    out = git(root, "log", "--reverse", "--format=%(trailers:key=Sdd-Task,valueonly)")
    assert [line.strip() for line in out.splitlines() if line.strip()] == IDS
    for t in IDS:  # each commit holds its task's finished file, nothing else of the agent's
        sha = git(root, "log", "--format=%H", f"--grep=^Sdd-Task: {t}$").split()[0]
        assert git(root, "show", f"{sha}:src/{t.lower()}.txt") == f"{t} two\n"
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    ran = log.read_text().split()
    assert all(ran.count(t) <= 1 for t in IDS), ran  # a recorded Bash call never runs twice
    # where a resume joined T003's conversation is marked in its transcript and in `sdd show`
    events = [
        json.loads(line)
        for line in (root / ".sdd" / "transcripts" / FEATURE / "T003" / "attempt-1.jsonl")
        .read_text()
        .splitlines()
    ]
    assert [e["type"] for e in events].count("resumed") == 2
    assert shown.stdout().count("⤷ resumed here") == 2, shown.output()
    assert "(resumed 2 times)" in shown.stdout()
