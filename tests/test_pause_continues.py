"""A pause keeps the attempt: a budget reached, the API down past its retries, and a second
Ctrl-C leave the conversation open and its change in the tree, so `sdd resume` goes on from
the last recorded turn. Real `sdd` processes over the anthropic SDK against the loopback
Messages API server, which counts every request: an uninterrupted run makes one request per
scripted turn, and a resume after a pause may make at most one more (the request a Ctrl-C cut).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.messages_server import MessagesServer, Reply, http_error
from support.repo import git
from support.runproc import Procs, wait_until
from test_resume_turns import IDS, Agent, make_project, turns

from orchestrator.store.open import open_store, store_url

pytestmark = pytest.mark.slow

FEATURE = "001-turns"
MODEL = "claude-sonnet-5-5"
KEY = "sk-ant-test-pause-1234567890abcdef"
PER_TURN = 120  # the loopback server's usage per reply: 100 input, 20 output tokens


def six_turns(tid: str, log: Path) -> list[list[dict[str, Any]]]:
    """Six turns: the five of `test_resume_turns` with a second Write before the summary."""
    script = turns(tid, log)
    extra = {"file_path": f"src/{tid.lower()}-notes.txt", "content": "notes\n"}
    return [*script[:4], [{"name": "Write", "input": extra}], script[4]]


class Switch:
    """A handler that answers through `agent` until `down` is set, then with 503s (counted
    apart: they are the outage, not turns)."""

    def __init__(self, agent: Agent) -> None:
        self.agent, self.down, self.refused = agent, threading.Event(), 0

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        if self.down.is_set():
            self.refused += 1
            return http_error(503, "api_error", "loopback outage")
        return self.agent(body, index)


def project(tmp_path: Path, config: dict[str, Any]) -> tuple[Path, Agent]:
    root = make_project(tmp_path)
    (root / ".specify" / "sdd.yaml").write_text(
        yaml.safe_dump({"verify": ["test -d src"]} | config)
    )
    git(root, "commit", "-qam", "config", "--allow-empty")
    log = tmp_path / "bash.log"
    return root, Agent({t: six_turns(t, log) for t in IDS})


def records(root: Path) -> dict[str, Any]:
    store = open_store(root, store_url(root, None, None))
    try:
        return store.tasks(FEATURE)
    finally:
        store.close()


def assert_landed_once(root: Path, agent: Agent, extra: int) -> None:
    expected = sum(len(agent.script[t]) for t in IDS)
    assert expected <= agent.served <= expected + extra, (agent.served, expected)
    out = git(root, "log", "--reverse", "--format=%(trailers:key=Sdd-Task,valueonly)")
    assert [line.strip() for line in out.splitlines() if line.strip()] == IDS
    for t in IDS:
        sha = git(root, "log", "--format=%H", f"--grep=^Sdd-Task: {t}$").split()[0]
        assert git(root, "show", f"{sha}:src/{t.lower()}.txt") == f"{t} two\n"
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    ran = (root.parent / "bash.log").read_text().split()
    assert all(ran.count(t) == 1 for t in IDS), ran  # no Bash call ran twice
    kept = records(root)
    for t in IDS:  # every turn paid for is on the task's record, none twice
        steps = len(agent.script[t])
        assert kept[t].input_tokens + kept[t].output_tokens >= steps * PER_TURN, (t, kept[t])
        assert kept[t].input_tokens + kept[t].output_tokens <= (steps + extra) * PER_TURN


def paused_at_t003(root: Path, agent: Agent, procs: Procs) -> str:
    """A run that reaches its budget of 15 turns: T001 and T002 (12 turns) landed, T003 paused
    after its 3rd; what it printed, on one line."""
    first = procs.sdd(root, "run", "001", "--model", MODEL)
    assert first.wait(timeout=120) == 1, first.output()
    assert agent.served == 15
    return " ".join(first.stdout().split())


def test_a_budget_pause_goes_on_from_its_last_turn_with_a_raised_budget(
    tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, agent = project(tmp_path, {"budget": {"run_tokens": 15 * PER_TURN}})
    with MessagesServer(handler=agent) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        said = paused_at_t003(root, agent, procs)
        assert "budget reached" in said and "continues its attempt where it stopped" in said
        assert "src/t003.txt" in git(root, "status", "--porcelain", "--untracked-files=all")
        status = procs.sdd(root, "status", "001", "--json")
        assert status.wait() == 0, status.output()
        run = json.loads(status.stdout())["run"]
        assert run["status"] == "paused" and "T003" in run["reason"], run
        assert records(root)["T003"].input_tokens == 3 * 100  # the paused turns are counted
        kept = git(root, "status", "--porcelain", "--untracked-files=all")
        for command in ("undo", "retry"):  # neither loses nor commits the paused change
            refused = procs.sdd(root, command, "001", "T001")
            assert refused.wait() == 2, refused.output()
            assert "paused attempt of T003" in " ".join(refused.stderr().split()), refused.output()
            assert git(root, "status", "--porcelain", "--untracked-files=all") == kept
        # the raised budget, committed beside the paused change (it touches none of its files)
        (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump({"verify": ["test -d src"]}))
        git(root, "commit", "-q", "-m", "more budget", ".specify/sdd.yaml")
        last = procs.sdd(root, "resume", "001")
        assert last.wait(timeout=120) == 0, last.output()
        assert "T003 continues its interrupted attempt after turn 3" in last.stdout()
    assert_landed_once(root, agent, extra=0)


def test_the_api_down_mid_task_pauses_and_resume_goes_on_once_it_is_back(
    tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, agent = project(tmp_path, {"api": {"max_retries": 1}})
    switch = Switch(agent)
    with MessagesServer(handler=switch) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        first = procs.sdd(root, "run", "001", "--model", MODEL)
        wait_until(lambda: agent.served >= 9, "T002's third turn", proc=first)
        switch.down.set()
        assert first.wait(timeout=120) == 1, first.output()
        assert "model unavailable" in first.stdout(), first.output()
        assert switch.refused == 2  # the request and its one retry
        switch.down.clear()
        last = procs.sdd(root, "resume", "001")
        assert last.wait(timeout=120) == 0, last.output()
        assert "T002 continues its interrupted attempt" in last.stdout(), last.output()
    assert_landed_once(root, agent, extra=0)


def test_ctrl_c_twice_keeps_the_attempt_and_resume_goes_on(
    tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, agent = project(tmp_path, {})
    with MessagesServer(handler=agent) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        first = procs.sdd(root, "run", "001", "--model", MODEL)
        wait_until(lambda: agent.served >= 10, "T002's fourth turn", proc=first)
        first.interrupt()
        time.sleep(0.05)
        first.interrupt()
        assert first.wait(timeout=60) == 130, first.output()
        assert "Traceback" not in first.stderr(), first.output()
        assert "continues the task's attempt where it stopped" in " ".join(first.stdout().split())
        assert "src/t002.txt" in git(root, "status", "--porcelain", "--untracked-files=all")
        last = procs.sdd(root, "resume", "001")
        assert last.wait(timeout=120) == 0, last.output()
        assert "T002 continues its interrupted attempt" in last.stdout(), last.output()
    assert_landed_once(root, agent, extra=1)  # the request on the wire at the Ctrl-C


def test_a_task_run_before_a_paused_one_sets_its_change_aside_and_it_goes_on_after(
    tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tasks.md reordered while T003 is paused: T004 runs first, in a tree without T003's
    change; T003 then goes on from its last turn with its files written back from the store."""
    root, agent = project(tmp_path, {"budget": {"run_tokens": 15 * PER_TURN}})
    with MessagesServer(handler=agent) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        paused_at_t003(root, agent, procs)
        tasks = root / "specs" / FEATURE / "tasks.md"
        lines = tasks.read_text().splitlines()
        t3, t4 = (next(i for i, line in enumerate(lines) if t in line) for t in ("T003", "T004"))
        lines[t3], lines[t4] = lines[t4], lines[t3]
        tasks.write_text("\n".join(lines) + "\n")
        (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump({"verify": ["test -d src"]}))
        git(root, "commit", "-q", "-m", "T004 first; more budget", str(tasks), ".specify/sdd.yaml")
        last = procs.sdd(root, "resume", "001")
        assert last.wait(timeout=120) == 0, last.output()
        said = " ".join(last.stdout().split())
        assert "T003's paused change is set aside while T004 runs" in said, last.output()
        assert "T003 continues its interrupted attempt after turn 3" in said, last.output()
    expected = sum(len(agent.script[t]) for t in IDS)
    assert agent.served == expected  # not one turn of T003 asked again
    out = git(root, "log", "--reverse", "--format=%(trailers:key=Sdd-Task,valueonly)")
    order = [line.strip() for line in out.splitlines() if line.strip()]
    assert order == ["T001", "T002", "T004", "T003", "T005", "T006"]
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    ran = (root.parent / "bash.log").read_text().split()
    assert all(ran.count(t) == 1 for t in IDS), ran
