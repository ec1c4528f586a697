"""The run graph served by `langgraph dev` (in-memory runtime, loopback) through langgraph-sdk.

One real server for the module, serving the top-level `langgraph.json`; real git repos, the
scripted model, cheap verification (compileall), the feature's lock checked after every run.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.langgraph_dev import langgraph_dev, missing_modules
from support.messages_server import MessagesServer, http_error
from support.records import sqlite_store
from support.repo import commit_tree, git

from orchestrator.errors import SddError
from orchestrator.run.lock import take_lock

pytestmark = pytest.mark.slow

TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)

## Phase 2: User Story 1 - Multiply (Priority: P1)

- [ ] T002 [US1] Implement multiply in calc/mul.py
- [ ] T003 [US1] Implement square in calc/square.py using mul
"""

FILES = {
    "T001": ("calc/add.py", "def add(a, b):\n    return a + b\n"),
    "T002": ("calc/mul.py", "def mul(a, b):\n    return a * b\n"),
    "T003": (
        "calc/square.py",
        "from calc.mul import mul\n\n\ndef square(a):\n    return mul(a, a)\n",
    ),
}


def make_project(base: Path, tasks: str = TASKS) -> tuple[Path, Path]:
    """A spec-kit project in a fresh git repo, and the scripted model's script for it."""
    root = base / "proj"
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Calc\n\nSmall modules.\n")
    (root / ".specify" / "sdd.yaml").write_text("verify: ['python -m compileall -q calc']\n")
    feature = root / "specs" / "001-calc"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Feature: calc\n\nAdd, multiply, square.\n")
    (feature / "plan.md").write_text("# Plan: calc\n\nPython package calc/.\n")
    (feature / "tasks.md").write_text(tasks)
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / ".gitignore").write_text("__pycache__/\n")
    commit_tree(root)
    steps = {
        tid: [{"tools": [{"Write": {"file_path": path, "content": body}}]}, {"text": "Done."}]
        for tid, (path, body) in FILES.items()
    }
    script = base / "script.yaml"
    script.write_text(yaml.safe_dump({"tasks": steps}))
    return root, script


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `langgraph dev` for the module; API-model runs meet a Messages API refusing the key."""
    if missing := missing_modules():
        reason = f"langgraph dev cannot start: no {', '.join(missing)} (pip install -e '.[server]')"
        if os.environ.get("CI"):  # .ci/run installs .[dev], which includes the server extra
            pytest.fail(reason)
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("langgraph-dev")
    with MessagesServer(http_error(401, "authentication_error")) as api:
        env = {"ANTHROPIC_BASE_URL": api.url, "ANTHROPIC_API_KEY": "sk-made-up"}
        with langgraph_dev(work, env) as url:
            yield url


def client(url: str) -> Any:
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=url, timeout=60)


def task_commits(root: Path) -> list[str]:
    """The Sdd-Task trailer of each commit, oldest first."""
    out = git(root, "log", "--reverse", "--format=%(trailers:key=Sdd-Task,valueonly)%x00")
    return [chunk.strip() for chunk in out.split("\0") if chunk.strip()]


def test_two_repositories_run_to_completion_side_by_side(server: str, tmp_path: Path) -> None:
    c = client(server)
    projects = [make_project(tmp_path / name) for name in ("a", "b")]
    runs = []
    for root, script in projects:
        thread = c.threads.create()
        configurable = {"repo": str(root), "feature": "001-calc", "model": f"scripted:{script}"}
        run = c.runs.create(
            thread["thread_id"], "sdd", input={}, config={"configurable": configurable}
        )
        runs.append((thread["thread_id"], run["run_id"]))
    for (root, _), (thread_id, run_id) in zip(projects, runs, strict=True):
        final = c.runs.join(thread_id, run_id)
        assert final | {"batch": [], "solo": []} == {
            "current": None,
            "landed": 3,
            "status": "finished",
            "reason": "",
            "batch": [],
            "solo": [],
        }
        assert c.runs.get(thread_id, run_id)["status"] == "success"
        assert task_commits(root) == ["T001", "T002", "T003"]
        assert git(root, "status", "--porcelain") == ""
        tasks = (root / "specs" / "001-calc" / "tasks.md").read_text()
        assert tasks.count("- [X] T00") == 3 and "- [ ]" not in tasks
        assert "return mul(a, a)" in (root / "calc" / "square.py").read_text()
        store = sqlite_store(root / ".sdd" / "state.sqlite")
        record = store.latest_run("001-calc")
        assert record is not None and record.status == "finished"
        assert {r.status for r in store.tasks("001-calc").values()} == {"landed"}
        store.close()
        take_lock(root, "001-calc").close()  # the run let go of the feature's lock


def test_an_approval_gate_interrupts_the_thread_and_a_resume_lands_it(
    server: str, tmp_path: Path
) -> None:
    one_task = (
        "# Tasks: calc\n\n## Phase 1: Setup\n\n- [ ] T001 Create calc/add.py with add(a, b)\n"
    )
    root, script = make_project(tmp_path, one_task)
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    model = f"scripted:{script}"
    config = {
        "configurable": {"repo": str(root), "feature": "1", "model": model, "approve": "each"}
    }
    c.runs.wait(thread_id, "sdd", input={}, config=config)
    state = c.threads.get_state(thread_id)
    assert state["next"] == ["approve_task"] and state["values"]["awaiting"] == "T001"
    assert c.threads.get(thread_id)["status"] == "interrupted"
    assert task_commits(root) == []  # held: nothing lands before the answer
    record = sqlite_store(root / ".sdd" / "state.sqlite").latest_run("001-calc")
    assert record is not None and (record.status, record.reason) == (
        "paused",
        "T001 awaits approval",
    )
    final = c.runs.wait(thread_id, "sdd", command={"resume": {"approve": True}}, config=config)
    assert final["status"] == "finished" and final["landed"] == 1
    assert task_commits(root) == ["T001"]


def paused_record(root: Path) -> tuple[str, str]:
    store = sqlite_store(root / ".sdd" / "state.sqlite")
    try:
        record = store.latest_run("001-calc")
        assert record is not None
        return record.status, record.reason
    finally:
        store.close()


def test_a_task_failing_every_attempt_pauses_the_run_and_frees_the_feature(
    server: str, tmp_path: Path
) -> None:
    root, _ = make_project(tmp_path)
    script = tmp_path / "idle.yaml"
    script.write_text(yaml.safe_dump({"tasks": {"T001": [{"text": "Nothing to do."}] * 9}}))
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    configurable = {"repo": str(root), "feature": "001-calc", "model": f"scripted:{script}"}
    final = c.runs.wait(thread_id, "sdd", input={}, config={"configurable": configurable})
    reason = "T001 failed after 3 attempts (last: no-change)"
    assert (final["status"], final["reason"]) == ("paused", reason)
    assert paused_record(root) == ("paused", reason)
    assert task_commits(root) == [] and git(root, "status", "--porcelain") == ""
    take_lock(root, "001-calc").close()


def test_a_model_error_fails_the_run_with_its_message_and_frees_the_feature(
    server: str, tmp_path: Path
) -> None:
    root, _ = make_project(tmp_path)
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    configurable = {"repo": str(root), "feature": "001-calc", "model": "claude-sonnet-4-5"}
    out = c.runs.wait(
        thread_id, "sdd", input={}, config={"configurable": configurable}, raise_error=False
    )
    assert out["__error__"]["error"] == "RunError"
    assert out["__error__"]["message"].startswith("ModelError: ")
    assert "check ANTHROPIC_API_KEY" in out["__error__"]["message"]
    status, reason = paused_record(root)
    assert status == "paused" and "check ANTHROPIC_API_KEY" in reason
    assert task_commits(root) == [] and git(root, "status", "--porcelain") == ""
    take_lock(root, "001-calc").close()


def test_cancelling_a_run_keeps_the_lock_until_the_task_in_flight_is_done(
    server: str, tmp_path: Path
) -> None:
    root, _ = make_project(tmp_path)
    slow = [{"Write": {"file_path": "calc/add.py", "content": FILES["T001"][1]}}]
    slow.append({"Bash": {"command": "sleep 2"}})
    script = tmp_path / "slow.yaml"
    script.write_text(yaml.safe_dump({"tasks": {"T001": [{"tools": slow}, {"text": "Done."}]}}))
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    configurable = {"repo": str(root), "feature": "001-calc", "model": f"scripted:{script}"}
    run = c.runs.create(thread_id, "sdd", input={}, config={"configurable": configurable})
    deadline = time.monotonic() + 20
    while not (root / "calc" / "add.py").exists():  # T001 is half done: the tree is dirty
        assert time.monotonic() < deadline, "T001 never started"
        time.sleep(0.02)
    c.runs.cancel(thread_id, run["run_id"])
    while True:  # the first moment the feature is free again, the task in flight is finished
        try:
            take_lock(root, "001-calc").close()
            break
        except SddError:
            assert time.monotonic() < deadline, "the lock was never released"
            time.sleep(0.02)
    assert git(root, "status", "--porcelain") == ""
    assert task_commits(root) == ["T001"]  # it finished and landed; nothing after it started
    status, reason = paused_record(root)
    assert status == "paused" and "cancel" in reason


@pytest.mark.parametrize(
    ("configurable", "message"),
    [
        ({"feature": "001-calc"}, "InputError: the run's config: repo: Field required"),
        (
            {"repo": "/nonexistent/sdd-repo"},
            "InputError: repository not found: /nonexistent/sdd-repo",
        ),
        ({"repo": "{root}", "feature": "999"}, "InputError: feature `999` not found"),
    ],
)
def test_a_bad_config_fails_the_run_with_a_clear_message(
    server: str, tmp_path: Path, configurable: dict[str, str], message: str
) -> None:
    root, _ = make_project(tmp_path)
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    configurable = {k: v.format(root=root) for k, v in configurable.items()}
    out = c.runs.wait(
        thread_id, "sdd", input={}, config={"configurable": configurable}, raise_error=False
    )
    assert out["__error__"]["error"] == "RunError"
    assert out["__error__"]["message"].startswith(message)
    assert [r["status"] for r in c.runs.list(thread_id)] == ["error"]
    assert task_commits(root) == []


def test_a_run_of_a_feature_another_run_drives_fails_at_once(server: str, tmp_path: Path) -> None:
    root, script = make_project(tmp_path)
    c = client(server)
    thread_id = c.threads.create()["thread_id"]
    configurable = {"repo": str(root), "feature": "001-calc", "model": f"scripted:{script}"}
    with take_lock(root, "001-calc"):  # as `sdd run 001-calc` holds it
        out = c.runs.wait(
            thread_id, "sdd", input={}, config={"configurable": configurable}, raise_error=False
        )
    assert out["__error__"]["message"] == (
        f"SddError: another sdd run is driving 001-calc (pid {os.getpid()} on "
        f"{socket.gethostname()}) in this working "
        "tree; wait for it"
    )
    assert task_commits(root) == []
