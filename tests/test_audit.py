"""`sdd audit`: ticks in tasks.md without sdd's verification are found: the pure rows, and a
real run beside a tick made by another tool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.repo import git
from test_verification_runs import (
    FEATURE,
    GOOD_T001,
    OPS_TEST,
    make_project,
    run,
    script,
    sdd,
    with_venv,
    write,
)

from orchestrator.run.audit import Audit, audit_rows
from orchestrator.speckit.tasks import parse_tasks
from orchestrator.store.records import AttemptRecord, Outcome, TaskRecord, TaskStatus
from orchestrator.views.audit import audit_verdict

THREE = """# Tasks

## Phase 1: Core

- [X] T001 Add a in app/a.py
- [X] T002 Add b in app/b.py
- [X] T003 Add c in app/c.py
"""


def test_a_tick_is_verified_only_with_a_landed_commit_and_a_passing_record() -> None:
    ticked = parse_tasks(THREE).tasks
    landed = {tid: TaskRecord("f", tid, status=TaskStatus.LANDED) for tid in ("T001", "T002")}
    attempts = {
        "T001": [
            AttemptRecord("f", "T001", 1, "r", Outcome.FAILED),
            AttemptRecord("f", "T001", 2, "r", Outcome.PASSED),
        ],
        "T002": [AttemptRecord("f", "T002", 1, "r", Outcome.FAILED)],
    }
    commits = {"T001": "a" * 40, "T002": "b" * 40}  # T003: ticked by another tool
    rows = audit_rows(ticked, commits, landed, attempts)
    assert [(r.task, r.verified, r.reason) for r in rows] == [
        ("T001", True, "verified on attempt 2"),
        ("T002", False, "landed, but no record of a verification that passed"),
        ("T003", False, "ticked without an sdd commit"),
    ]
    verdict = audit_verdict(Audit("f", rows), ran_tests=False)
    assert verdict == (
        "2 ticked without sdd's verification: T002, T003; "
        "--verify runs the suite and shows what their tests say"
    )
    assert not Audit("f", rows).ok and Audit("f", rows[:1]).ok


AUDIT = """# Tasks: calc

## Phase 1: Core

- [X] T001 Add triple(x) to calc/ops.py
- [ ] T002 Add a test for quadruple in tests/test_ops.py
"""


@pytest.mark.slow  # whole runs through real subprocesses
def test_audit_lists_ticks_without_sdds_verification_and_exits_1(
    tmp_path: Path, wheels: Path
) -> None:
    """T001 was ticked by another tool; T002 lands through sdd."""
    root = with_venv(make_project(tmp_path / "proj", AUDIT), wheels)
    t002 = [
        {"tools": [write("tests/test_more.py", OPS_TEST.replace("test_q", "test_more_q"))]},
        {"text": "Added."},
    ]
    status, _, _ = run(root, script(root, {"T002": t002}))
    assert status == "finished"
    done = sdd(root, "audit", FEATURE)
    assert done.returncode == 1, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "1 ticked without sdd's verification: T001" in text
    data = json.loads(sdd(root, "audit", FEATURE, "--json").stdout)
    assert data["ok"] is False and data["unverified"] == ["T001"]
    rows = {r["task"]: r for r in data["tasks"]}
    assert rows["T001"]["reason"] == "ticked without an sdd commit"
    assert rows["T002"]["verified"] and rows["T002"]["reason"] == "verified on attempt 1"
    checked = json.loads(sdd(root, "audit", FEATURE, "--json", "--verify").stdout)
    assert checked["suite"] == "2 passed"
    tests = {r["task"]: r["tests"] for r in checked["tasks"]}
    assert tests == {"T001": "names no test file", "T002": "1 passed"}
    # once the tick is sdd's own, the audit passes
    (root / f"specs/{FEATURE}/tasks.md").write_text(AUDIT.replace("[X] T001", "[ ] T001"))
    git(root, "commit", "-qam", "untick T001")
    run(root, script(root, {"T001": GOOD_T001, "T002": t002}))
    assert sdd(root, "audit", FEATURE).returncode == 0
