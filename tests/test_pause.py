"""Pauses that are not crashes: budgets, API trouble past retries, and moving past a failed task."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from support.messages_server import (
    Hang,
    MessagesServer,
    StreamError,
    http_error,
    message,
    text_block,
)
from test_run_e2e import GOOD, git, make_project, run, store, subjects, write_script

from orchestrator.errors import AwaitingAnswer

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses


def config(root: Path, data: dict) -> None:
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump(data))
    git(root, "add", ".specify/sdd.yaml")
    git(root, "commit", "-q", "-m", "config")


def test_task_token_budget_pauses_before_the_next_call_and_resume_continues(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    config(root, {"budget": {"task_tokens": 50}})
    script = write_script(root, GOOD)
    head = git(root, "rev-parse", "HEAD")
    status, reason, _ = run(root, script)
    assert status == "paused"
    assert reason.startswith("T001: budget reached (budget: T001 used ")
    assert "limit 50" in reason
    assert git(root, "rev-parse", "HEAD") == head  # nothing landed
    assert git(root, "status", "--porcelain").strip() == "?? calc/add.py"  # the attempt is kept
    config(root, {"budget": {"task_tokens": 10_000_000}})  # a commit beside its change
    status, _, _ = run(root, script)
    assert status == "finished"
    assert len([s for s in subjects(root) if s.startswith("T00")]) == 4
    trace = root / ".sdd" / "transcripts" / "001-calc" / "T001" / "attempt-1.jsonl"
    assert '"type": "resumed"' in trace.read_text() or '"type":"resumed"' in trace.read_text()


def test_run_token_budget_counts_every_task_of_the_run(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    config(root, {"budget": {"run_tokens": 4000}})
    status, reason, _ = run(root, script)
    assert status == "paused" and "budget: run used" in reason
    landed = store(root).tasks("001-calc")
    assert 0 < sum(r.status == "landed" for r in landed.values()) < 4


def test_skip_moves_past_a_failed_task_and_leaves_it_unticked(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    broken = {
        "Write": {"file_path": "tests/test_base.py", "content": "def test_base():\n    assert 0\n"}
    }
    script = write_script(root, GOOD | {"T001": [{"tools": [broken]}, {"text": "done"}] * 3})
    status, reason, _ = run(root, script)
    assert status == "paused" and "T001 failed" in reason
    status, _, _ = run(root, script, skip=("t001",))
    assert status == "finished"
    tasks_md = (root / "specs/001-calc/tasks.md").read_text()
    assert "- [ ] T001" in tasks_md and "- [X] T004" in tasks_md
    assert store(root).task("001-calc", "T001").status == "skipped"  # type: ignore[union-attr]
    assert not any(s.startswith("T001") for s in subjects(root))


@pytest.mark.parametrize(
    "reply", [http_error(529, "overloaded_error", headers={"retry-after-ms": "1"}), StreamError()]
)
def test_api_trouble_past_retries_pauses_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: object
) -> None:
    root = make_project(tmp_path)
    with MessagesServer(reply) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-key-for-pause-tests")
        status, reason, _ = run(root, Path("unused"), model_override="claude-haiku-5-5")
    assert status == "paused"
    assert reason.startswith("T001: model unavailable (")
    assert "overloaded" in reason.lower()
    assert git(root, "status", "--porcelain") == ""
    assert store(root).latest_run("001-calc").status == "paused"  # type: ignore[union-attr]
    assert "sk-test-key" not in reason


def test_api_timeout_and_retries_come_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(tmp_path)
    config(root, {"api": {"timeout": 0.3, "max_retries": 1}})
    with MessagesServer(Hang(5.0, message([text_block("late")]))) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-key-for-pause-tests")
        status, reason, _ = run(root, Path("unused"), model_override="claude-haiku-5-5")
        asked = len(server.requests)
    assert status == "paused" and "timed out after 1 retries" in reason
    assert asked == 2  # the first request and the one retry the config allows


def test_cli_resume_after_pause_says_how(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    config(root, {"budget": {"task_tokens": 50}})
    script = write_script(root, GOOD)
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "001", "--model", f"scripted:{script}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "sdd resume 001-calc" in done.stdout


def run_decided(root: Path, script: Path, approve: bool, note: str = "") -> tuple[str, str]:
    from orchestrator.run.context import RunOptions
    from orchestrator.run.driver import run_session
    from orchestrator.run.graph import Decision
    from orchestrator.run.opening import open_run
    from orchestrator.views.progress import Reporter

    options = RunOptions(model=f"scripted:{script}", approve="each")
    session = open_run(root, root / "specs/001-calc", options, Reporter(quiet=True))
    try:
        result = run_session(session, Decision(approve=approve, note=note))
    finally:
        session.close()
    return result.status, result.reason


def test_approval_gate_holds_each_task_then_lands_or_sends_the_note_back(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    t001 = GOOD["T001"]
    retry = [
        {
            "tools": [
                {
                    "Write": {
                        "file_path": "calc/add.py",
                        "content": "def add(a, b):\n    return b + a\n",
                    }
                }
            ]
        },
        {"text": "Reordered as asked."},
    ]
    script = write_script(root, GOOD | {"T001": t001 + retry})
    head = git(root, "rev-parse", "HEAD")
    status, reason, _ = run(root, script, approve="each")
    assert status == "paused" and reason.startswith("T001 awaits approval")
    assert git(root, "rev-parse", "HEAD") == head  # held aside, not landed
    assert git(root, "status", "--porcelain") == ""  # and the tree is clean while waiting
    held = store(root).task("001-calc", "T001")
    assert held is not None and held.status == "awaiting approval"
    assert "calc/add.py" in git(root, "show", "--stat", held.commit_sha)
    # a plain resume without an answer says how to answer, and changes nothing
    with pytest.raises(AwaitingAnswer, match="review it with `sdd diff 001-calc T001`"):
        run(root, script, approve="each")
    assert store(root).task("001-calc", "T001").status == "awaiting approval"  # type: ignore[union-attr]
    # reject with a note: the agent gets it and tries again; the new change is held again
    status, reason = run_decided(root, script, approve=False, note="use b + a")
    assert status == "paused" and reason.startswith("T001 awaits approval")
    transcripts = sorted((root / ".sdd/transcripts/001-calc/T001").glob("attempt-*.jsonl"))
    assert "use b + a" in transcripts[-1].read_text()
    status, reason = run_decided(root, script, approve=True)
    assert reason.startswith("T002 awaits approval")
    assert subjects(root)[0] == "T001: Create calc/add.py with add(a, b)"
    assert "- [X] T001" in (root / "specs/001-calc/tasks.md").read_text()
    for _ in range(3):
        status, reason = run_decided(root, script, approve=True)
    assert status == "finished"
    assert len([s for s in subjects(root) if s.startswith("T00")]) == 4
    assert git(root, "for-each-ref", "refs/sdd") == ""


def test_tasks_md_edited_while_paused_is_reconciled_by_id(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(
        root,
        GOOD
        | {
            "T005": [
                {"tools": [{"Write": {"file_path": "NOTES.md", "content": "n\n"}}]},
                {"text": "Notes."},
            ]
        },
    )
    config(root, {"budget": {"run_tokens": 4000}})
    status, _, _ = run(root, script)
    assert status == "paused"
    landed_before = {s.split(":")[0] for s in subjects(root) if s.startswith("T00")}
    assert landed_before == {"T001"}
    tasks_md = root / "specs/001-calc/tasks.md"
    text = tasks_md.read_text()
    text = text.replace(
        "- [X] T001 Create calc/add.py with add(a, b)\n", ""
    )  # a landed task removed
    text = text.replace(
        "Implement multiply in calc/mul.py", "Implement mul() in calc/mul.py"
    )  # reworded
    text += "- [ ] T005 Write NOTES.md\n"  # added
    tasks_md.write_text(text)
    (root / "notes-untracked.txt").write_text("mine")
    with pytest.raises(Exception, match="notes-untracked"):
        run(root, script)
    (root / "notes-untracked.txt").unlink()
    git(root, "add", "specs/001-calc/tasks.md")
    config(root, {"budget": {}})  # commits the tasks.md edit with the config
    status, _, console = run(root, script)
    assert status == "finished"
    out = console.export_text()
    assert "T001 landed as" in out and "no longer in tasks.md" in out
    subs = subjects(root)
    assert "T003: Implement mul() in calc/mul.py" in subs
    assert subs[0] == "T005: Write NOTES.md"
    assert sum(s.startswith("T001") for s in subs) == 1  # reported, not reverted or redone
    assert (root / "calc/add.py").exists()


def test_commits_the_user_made_while_paused_are_kept_and_built_upon(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    config(root, {"budget": {"run_tokens": 4000}})
    assert run(root, script)[0] == "paused"
    (root / "USER.md").write_text("my own work\n")
    git(root, "add", "USER.md")
    git(root, "commit", "-q", "-m", "user: my own work")
    mine = git(root, "rev-parse", "HEAD").strip()
    config(root, {})
    assert run(root, script)[0] == "finished"
    assert git(root, "merge-base", "--is-ancestor", mine, "HEAD") == ""  # exit 0: still there
    assert (root / "USER.md").read_text() == "my own work\n"
    assert subjects(root).count("user: my own work") == 1
