"""A JavaScript project verified by node's own test runner through a whole run: its JUnit
report (`$SDD_JUNIT_XML`) makes each test count, so with a test already red at the base a
task that breaks another one is sent back, where the exit code alone (red before, red now)
would have let it land."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from support.records import project_store
from support.repo import commit_tree, git, write_files
from test_junit import MATH, NODE_TEST

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow

FEATURE = "001-math"
RED_ADD = "exports.add = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n"  # `adds` is red
TASKS = """# Tasks: math

## Phase 1: Core

- [ ] T001 Add square(x) to math.js
"""
SQUARE = RED_ADD + "exports.square = (x) => x * x;\n"
BREAKS_MUL = SQUARE.replace("a * b", "a * b + 1")


def project(root: Path, verify: str = NODE_TEST) -> Path:
    files = {
        ".specify/memory/constitution.md": "# Math\n\nTests guard every change.\n",
        ".specify/sdd.yaml": yaml.safe_dump({"verify": [verify]}),
        f"specs/{FEATURE}/spec.md": "# Math\n",
        f"specs/{FEATURE}/plan.md": "# Plan\n\nJavaScript, node's test runner.\n",
        f"specs/{FEATURE}/tasks.md": TASKS,
        "math.js": RED_ADD,
        "math.test.js": MATH,
    }
    commit_tree(write_files(root, files))
    return root


def run(root: Path, turns: list[dict[str, Any]]) -> tuple[Any, str]:
    """One in-process run of the scripted `turns` for T001; (its result, what it printed)."""
    script = root.parent / "script.yaml"
    script.write_text(yaml.safe_dump({"tasks": {"T001": turns}}))
    console = Console(record=True, width=300)
    ctx = open_run(
        root, root / "specs" / FEATURE, RunOptions(model=f"scripted:{script}"), Reporter(console)
    )
    try:
        return run_session(ctx), console.export_text()
    finally:
        ctx.close()


def test_a_regression_under_a_red_suite_goes_back_to_the_agent(tmp_path: Path, node: None) -> None:
    root = project(tmp_path / "proj")
    turns = [
        {"tools": [{"Write": {"file_path": "math.js", "content": BREAKS_MUL}}]},
        {"text": "Added square()."},
        {"tools": [{"Write": {"file_path": "math.js", "content": SQUARE}}]},
        {"text": "Added square() and left mul alone."},
    ]
    result, printed = run(root, turns)
    assert result.status == "finished", (result.reason, printed)
    attempts = project_store(root).attempts(FEATURE, "T001")
    assert [a.outcome for a in attempts] == ["failed", "passed"]
    assert attempts[0].verify_output.startswith(
        "FAILED: regression: passed before and fails now: mul::test::small, mul::test::zero"
    )
    assert (root / "math.js").read_text() == SQUARE
    assert git(root, "log", "-1", "--format=%s").startswith("T001: Add square(x)")
    assert "test::adds" in printed  # named as red at the base
    assert "already fails at HEAD" not in printed


def test_a_suite_without_a_report_red_at_the_base_is_a_warning_with_the_way_out(
    tmp_path: Path, node: None
) -> None:
    root = project(tmp_path / "proj", verify="node --test")
    done = [{"tools": [{"Write": {"file_path": "math.js", "content": SQUARE}}]}, {"text": "Ok."}]
    result, printed = run(root, done)
    assert result.status == "finished", (result.reason, printed)
    line = " ".join(printed.split())
    assert (
        "warning: `node --test` already fails at HEAD, so it cannot block a task; to judge "
        "it test by test, have it write a JUnit XML report to $SDD_JUNIT_XML (see README)" in line
    ), printed
