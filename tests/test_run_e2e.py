"""`sdd run` end to end: scripted model, real tools, real git, real pytest verification."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.records import sqlite_store
from support.repo import commit_tree, git

from orchestrator.errors import GitStateError, SddError
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.store.store import Store
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)

## Phase 2: User Story 1 - Multiply (Priority: P1)

### Tests for User Story 1

- [ ] T002 [US1] Write tests for multiply in tests/test_mul.py

### Implementation for User Story 1

- [ ] T003 [US1] Implement multiply in calc/mul.py

## Phase 3: Polish

- [ ] T004 Run the full test suite and confirm it passes
"""

ADD = "def add(a, b):\n    return a + b\n"
MUL_TEST = "from calc.mul import mul\n\n\ndef test_mul():\n    assert mul(3, 4) == 12\n"


def make_project(tmp_path: Path, tasks: str = TASKS) -> Path:
    root = tmp_path / "proj"
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text(
        "# Calc Constitution\n\nTest first.\n"
    )
    feature = root / "specs" / "001-calc"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Feature: calc\n\nAdd and multiply numbers.\n")
    (feature / "plan.md").write_text("# Plan: calc\n\nPython package calc/, pytest tests/.\n")
    (feature / "tasks.md").write_text(tasks)
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests").mkdir()
    (root / "tests" / "test_base.py").write_text("def test_base():\n    assert True\n")
    (root / ".gitignore").write_text("__pycache__/\n")
    commit_tree(root)
    return root


def write_script(root: Path, tasks: dict[str, list[dict]]) -> Path:
    path = root.parent / "script.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}))
    return path


def run(
    root: Path, script: Path, model_override: str | None = None, **options: object
) -> tuple[str, str, Console]:
    console = Console(record=True, width=200)
    model = model_override or f"scripted:{script}"
    session = open_run(
        root,
        root / "specs" / "001-calc",
        RunOptions(model=model, **options),  # type: ignore[arg-type]
        Reporter(console),
    )
    try:
        result = run_session(session)
    finally:
        session.close()
    return result.status, result.reason, console


def store(root: Path) -> Store:
    return sqlite_store(root / ".sdd" / "state.sqlite")


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def write(path: str, content: str) -> dict:
    return {"Write": {"file_path": path, "content": content}}


GOOD = {
    "T001": [{"tools": [write("calc/add.py", ADD)]}, {"text": "Added add()."}],
    "T002": [{"tools": [write("tests/test_mul.py", MUL_TEST)]}, {"text": "Tests first."}],
    "T003": [
        {"tools": [write("calc/mul.py", "def mul(a, b):\n    return a * b\n")]},
        {"text": "Implemented mul()."},
    ],
    "T004": [{"tools": [{"Bash": {"command": "python -m pytest -q"}}]}, {"text": "All green."}],
}


def test_happy_run_lands_one_commit_per_task_with_ticks_and_trailers(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    status, reason, _ = run(root, write_script(root, GOOD))
    assert (status, reason) == ("finished", "")
    assert subjects(root)[:4] == [
        "T004: Run the full test suite and confirm it passes",
        "T003: Implement multiply in calc/mul.py",
        "T002: Write tests for multiply in tests/test_mul.py",
        "T001: Create calc/add.py with add(a, b)",
    ]
    assert git(root, "status", "--porcelain") == ""
    # each commit ticks its own task in tasks.md and nothing else
    diff = git(root, "show", "HEAD~3", "--", "specs/001-calc/tasks.md")
    assert "-- [ ] T001" in diff and "+- [X] T001" in diff and diff.count("\n+- [") == 1
    trailers = git(root, "log", "-1", "--format=%(trailers)", "HEAD~1")
    assert "Sdd-Task: T003" in trailers and "Sdd-Feature: 001-calc" in trailers
    records = store(root).tasks("001-calc")
    assert records["T004"].kind == "check"  # no change, verification passed: a check task
    assert records["T002"].status == "landed"
    assert all(r.input_tokens > 0 for r in records.values())


def test_expected_red_tdd_tests_land_red_and_are_recorded(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(
        root, {k: GOOD[k] for k in ("T001", "T002")} | {"T003": [{"text": "nothing"}] * 9}
    )
    status, reason, _ = run(root, script)
    assert status == "paused" and "T003" in reason
    assert "T002: Write tests for multiply in tests/test_mul.py" in subjects(root)
    s = store(root)
    t2 = s.attempts("001-calc", "T002")[-1]
    assert t2.outcome == "passed" and "red as expected" in t2.verify_output
    assert s.expected_red("001-calc") == {"tests/test_mul.py": "T002"}
    # T003 changed nothing three times: never committed, never ticked
    assert [a.outcome for a in s.attempts("001-calc", "T003")] == ["no-change"] * 3
    assert "- [ ] T003" in (root / "specs/001-calc/tasks.md").read_text()


def test_breaking_a_passing_test_is_fed_back_and_fixed_on_retry(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    broken = {
        "Write": {
            "file_path": "tests/test_base.py",
            "content": "def test_base():\n    assert False\n",
        }
    }
    fixed = {
        "Write": {
            "file_path": "tests/test_base.py",
            "content": "def test_base():\n    assert True\n",
        }
    }
    script = write_script(
        root,
        GOOD
        | {
            "T001": [
                {"tools": [write("calc/add.py", ADD), broken]},
                {"text": "done"},
                {"tools": [fixed]},
                {"text": "Restored test_base."},
            ]
        },
    )
    status, _, _ = run(root, script)
    assert status == "finished"
    attempts = store(root).attempts("001-calc", "T001")
    assert [a.outcome for a in attempts] == ["failed", "passed"]
    output = attempts[0].verify_output
    assert "regression: passed before and fails now: tests/test_base.py::test_base" in output
    assert "restore tests/test_base.py; change the code, not the test" in output
    assert store(root).task("001-calc", "T001").attempts == 2  # type: ignore[union-attr]
    # the transcript of attempt 1 holds the verification output the agent saw
    lines = Path(attempts[0].transcript).read_text().splitlines()
    assert any('"type": "verify"' in line and "test_base" in line for line in lines)


def test_task_failing_every_attempt_stops_with_clean_tree_and_no_commit(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    broken = {
        "Write": {"file_path": "tests/test_base.py", "content": "def test_base():\n    assert 0\n"}
    }
    script = write_script(root, GOOD | {"T001": [{"tools": [broken]}, {"text": "done"}] * 3})
    head = git(root, "rev-parse", "HEAD")
    status, reason, _ = run(root, script)
    assert status == "paused" and "T001 failed after 3 attempts" in reason
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""
    assert (root / "tests/test_base.py").read_text() == "def test_base():\n    assert True\n"


def test_implementation_that_leaves_phase_tests_red_is_caught_at_phase_end(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    wrong = write("calc/mul.py", "def mul(a, b):\n    return a + b\n")
    right = {"Edit": {"file_path": "calc/mul.py", "old_string": "a + b", "new_string": "a * b"}}
    script = write_script(
        root,
        GOOD
        | {"T003": [{"tools": [wrong]}, {"text": "done"}, {"tools": [right]}, {"text": "fixed"}]},
    )
    status, _, _ = run(root, script)
    assert status == "finished"
    attempts = store(root).attempts("001-calc", "T003")
    assert [a.outcome for a in attempts] == ["failed", "passed"]
    assert "end of phase: tests/test_mul.py" in attempts[0].verify_output
    assert store(root).expected_red("001-calc") == {}


def test_landed_task_is_never_committed_twice(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    run(root, script)
    count = len(subjects(root))
    status, _, _ = run(root, script, restart=True)
    assert status == "finished" and len(subjects(root)) == count


def test_dirty_tree_is_refused_and_left_alone(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "notes.txt").write_text("mine")
    with pytest.raises(GitStateError, match=r"notes\.txt"):
        run(root, write_script(root, GOOD))
    assert (root / "notes.txt").read_text() == "mine"
    assert len(subjects(root)) == 1


def test_cli_run_and_log_json(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    sdd = [sys.executable, "-m", "orchestrator.cli"]
    done = subprocess.run(
        [*sdd, "run", "001", "--model", f"scripted:{script}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    log = json.loads(
        subprocess.run(
            [*sdd, "log", "calc", "--json"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    )
    assert [r["task"] for r in log] == ["T001", "T002", "T003", "T004"]
    assert set(log[0]) >= {
        "task",
        "commit",
        "agent",
        "attempts",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "seconds",
    }
    assert log[0]["commit"] == git(root, "log", "--format=%H", "--grep", "Sdd-Task: T001").strip()


def test_cli_no_model_key_is_one_clear_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "001"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "ANTHROPIC_API_KEY" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_one_run_per_working_tree_even_for_another_feature(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    other = root / "specs" / "002-other"
    other.mkdir()
    for name in ("spec.md", "plan.md"):
        (other / name).write_text("# other\n")
    (other / "tasks.md").write_text("# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Create x.py\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "another feature")
    script = write_script(root, GOOD)
    options = RunOptions(model=f"scripted:{script}")
    first = open_run(root, root / "specs" / "001-calc", options, Reporter(Console()))
    try:
        with pytest.raises(
            SddError, match=r"driving 001-calc \(pid \d+ on [^)]+\) in this working tree"
        ):
            open_run(root, other, options, Reporter(Console()))
    finally:
        first.close()
    open_run(root, other, options, Reporter(Console())).close()  # free once it ends


def test_a_paused_run_on_another_store_resumes_from_it_without_the_flag(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    broken = write("tests/test_base.py", "def test_base():\n    assert 0\n")
    script = write_script(root, GOOD | {"T001": [{"tools": [broken]}, {"text": "done"}] * 3})
    sdd = [sys.executable, "-m", "orchestrator.cli"]
    done = subprocess.run(
        [*sdd, "run", "001", "--model", f"scripted:{script}", "--store", "sqlite:///.sdd/x.db"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "sdd resume 001-calc --skip T001" in done.stdout
    assert (root / ".sdd" / "x.db").exists()
    assert not (root / ".sdd" / "state.sqlite").exists()
    resumed = subprocess.run(
        [*sdd, "resume", "001", "--skip", "T001"], cwd=root, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not (root / ".sdd" / "state.sqlite").exists()  # the run's own store, found again
