"""What people read, without running a task: the progress lines and the live step line, the
tables at 80 columns, and the command line's conventions (--version, -q/-v, --json, exit codes).
The same flows in a real terminal are in test_terminal.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rich.console import Console
from support.runproc import sdd_argv, sdd_env
from test_run_e2e import make_project

from orchestrator.agent.model import Usage
from orchestrator.agent.tools.toolbox import tool_step
from orchestrator.views.progress import Reporter, tokens_text
from orchestrator.views.tables import log_table, plan_table

LONG = "tests/contract/test_multiplication_of_two_numbers.py"  # 52 characters


def sdd(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sdd_argv(*args), cwd=root, env=sdd_env() | env, capture_output=True, text=True
    )


def recorded(width: int = 80, terminal: bool = False) -> Console:
    return Console(record=True, width=width, force_terminal=terminal, highlight=False)


# ---------------------------------------------------------------- progress


def test_an_attempt_says_every_kind_of_token_its_cost_and_time_and_the_run_adds_them_up() -> None:
    console = recorded()
    r = Reporter(console)
    r.task_started("T001", "Create calc/add.py", "generalist", "default")
    r.attempt("T001", 1, "failed", "1 failed", usage=Usage(1200, 300, 400, 9000),
              seconds=12.5, cost=0.0123, verify_seconds=2.0)  # fmt: skip
    r.attempt("T001", 2, "passed", usage=Usage(800, 100, 0, 9400), seconds=5, cost=0.01)
    text = console.export_text()
    assert (
        "T001 attempt 1 failed · 1.2k in, 400 cache write, 9k cache read, 300 out · $0.0123 · "
        "12.5s: 1 failed"
    ) in text
    assert "T001 attempt 2 passed · 800 in, 0 cache write, 9.4k cache read, 100 out" in text
    totals = r.totals.data()
    assert (totals["attempts"], totals["input_tokens"], totals["cache_read_tokens"]) == (
        2,
        2000,
        18400,
    )
    assert totals["cost_usd"] == 0.0223 and totals["verify_seconds"] == 2.0
    assert totals["cache_share"] == round(18400 / (2000 + 400 + 18400), 4)
    line = r.totals.line()
    assert "(verification 2.0s), 2 attempts: $0.0223 for 2k in, 400 cache write" in line
    assert "88% of input from cache" in line


def test_piped_lines_are_whole_and_a_terminal_title_ends_in_an_ellipsis() -> None:
    title = "Implement multiply in calc/mul.py, keeping the implementation small and readable"
    piped = recorded(60)
    Reporter(piped).task_started("T003", title, "generalist", "stack: python")
    said = piped.export_text()
    assert said.count("\n") == 1 and title in said
    term = recorded(60, terminal=True)
    Reporter(term, live=False).task_started("T003", title, "generalist", "stack: python")
    (line,) = term.export_text().splitlines()
    assert len(line) == 60 and line.endswith("…") and line.startswith("T003 Implement")


def test_the_live_line_shows_the_step_time_and_tokens_so_far_and_fits() -> None:
    r = Reporter(recorded(), live=False)
    r.task_started("T002", "Write tests", "generalist", "default")
    r.activity("T002", "model call")
    r.turn("T002", 1, Usage(1000, 200, 0, 3000))
    r.activity("T002", tool_step("Edit", {"file_path": "/repo/calc/mul.py"}, Path("/repo")))
    shown = recorded(120, terminal=True)
    shown.print(r._render())
    line = shown.export_text().strip()
    assert line.startswith("▸ T002 Edit calc/mul.py · ") and line.endswith(" · 4.2k tokens")
    narrow = recorded(24, terminal=True)
    narrow.print(r._render())
    assert [len(x) <= 24 for x in narrow.export_text().splitlines()] == [True]
    r.landed("T002", "a" * 40, "change")
    assert r._working == {}  # a landed task has no live line


def test_quiet_keeps_failures_and_verbose_adds_turns_and_steps() -> None:
    quiet = recorded()
    r = Reporter(quiet, quiet=True)
    r.task_started("T001", "Create", "generalist", "default")
    r.note("verify: pytest")
    r.attempt("T001", 1, "failed", "boom", usage=Usage(1, 1), seconds=1)
    r.failed("T001", "T001 failed after 3 attempts")
    assert quiet.export_text().strip() == "✗ T001: failed after 3 attempts"  # the id once
    assert r.totals.attempts == 1  # counted though not shown
    loud = recorded()
    v = Reporter(loud, verbose=True)
    v.task_started("T001", "Create", "generalist", "default")
    v.activity("T001", tool_step("Bash", {"command": "python  -m\n pytest"}, Path("/r")))
    v.turn("T001", 1, Usage(10, 5))
    text = loud.export_text()
    assert "T001 Bash python -m pytest" in text
    assert "T001 attempt 1 turn: 10 in, 0 cache write, 0 cache read, 5 out" in text


def test_token_counts_read_short() -> None:
    assert [tokens_text(n) for n in (950, 1000, 12_340, 1_250_000)] == [
        "950",
        "1k",
        "12.3k",
        "1.25M",
    ]


# ---------------------------------------------------------------- tables at 80 columns


def test_plan_at_80_columns_keeps_file_names_whole() -> None:
    task = {
        "id": "T002", "description": f"Write the contract tests in {LONG}", "done": False,
        "parallel": True, "files": [LONG], "depends_on": ["T001"], "agent": "fastapi-backend-dev",
        "model": "inherit", "tools": None, "route_reason": "stack: fastapi",
    }  # fmt: skip
    data = {"feature": "001-calc", "tasks": [task], "waves": [["T002"]]}
    console = recorded(80)
    console.print(plan_table(data, 80))
    text = console.export_text()
    assert LONG in text and "after T001 → fastapi-backend-dev" in text
    assert max(len(x) for x in text.splitlines()) <= 80


def test_log_at_80_columns_leaves_the_agent_out_and_wraps_what_verified_between_words() -> None:
    row = {
        "task": "T006", "commit": "550c06741f" + "0" * 30, "agent": "fastapi-backend-dev",
        "attempts": 1, "input_tokens": 11677, "output_tokens": 737, "cache_read_tokens": 0,
        "saving_usd": 0.0, "seconds": 3.9, "kind": "tdd-red",
        "evidence": "red as expected: 9 tests in tests/test_todos_api.py; 7 passed, 9 failed",
    }  # fmt: skip
    narrow, wide = recorded(80), recorded(140)
    narrow.print(log_table("001", [row], 80))
    wide.print(log_table("001", [row], 140))
    small, large = narrow.export_text(), wide.export_text()
    assert "fastapi-backend-dev" not in small and "fastapi-backend-dev" in large
    assert "tests/test_todos_api.py;" in small and "11.7k/737" in small


# ---------------------------------------------------------------- the command line


def test_version_and_exclusive_verbosity(tmp_path: Path) -> None:
    done = sdd(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("sdd 0.")
    both = sdd(tmp_path, "-q", "-v", "agents")
    assert both.returncode == 2 and "-q and -v exclude each other" in both.stderr


@pytest.mark.slow
def test_agents_and_report_speak_json_and_feature_is_optional(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / ".claude" / "agents").mkdir(parents=True)
    (root / ".claude" / "agents" / "docs.md").write_text(
        "---\nname: docs-writer\ndescription: Writes documentation.\n---\nYou write docs.\n"
    )
    agents = json.loads(sdd(root, "agents", "--json").stdout)
    mine = next(a for a in agents if a["name"] == "docs-writer")
    assert mine["path"] == ".claude/agents/docs.md" and mine["source"] == ".claude/agents/"
    assert {a["path"] for a in agents if a["source"] == "built-in"} == {""}
    here = {"SPECIFY_FEATURE_DIRECTORY": "specs/001-calc"}
    report = json.loads(sdd(root, "report", "--json", **here).stdout)
    assert report["run"] is None and [t["id"] for t in report["tasks"]] == [
        "T001",
        "T002",
        "T003",
        "T004",
    ]
    assert report["tasks"][0]["verdict"] == "" and "diff" in report["tasks"][0]
    page = sdd(root, "report", **here)  # the path as people type it, from where they are
    assert page.stdout.startswith("Report written to .sdd/report-001-calc.html"), page.stdout
    route = sdd(root, "route", "T001", "--json", **here)
    assert route.returncode == 0 and json.loads(route.stdout)["task"] == "T001"
    missing = sdd(root, "diff", **here)
    assert missing.returncode == 2 and "a task id is required" in missing.stderr


def test_a_piped_plan_prints_whole_lines(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    env = sdd_env()
    env.pop("COLUMNS")
    done = subprocess.run(
        sdd_argv("plan", "001"), cwd=root, env=env, capture_output=True, text=True
    )
    warning = next(x for x in done.stdout.splitlines() if x.startswith("warning: the tests run"))
    assert len(warning) > 80 and warning.rstrip().endswith("-m pytest -q]")


def test_every_command_says_what_it_does_in_one_line_of_help() -> None:
    """`sdd --help` lists each command by its summary; a summary over two source lines shows
    there as a line broken in the middle."""
    from orchestrator.cli import initializing, inspecting, running

    commands = (*initializing.COMMANDS, *running.BEFORE, *inspecting.COMMANDS, *running.AFTER)
    broken = [c.__name__ for c in commands if "\n" in (c.__doc__ or "").split("\n\n")[0]]
    assert broken == []


def test_graph_labels_and_report_rows_cut_between_words() -> None:
    from orchestrator.views.graphs import short

    assert short("Create the app package and the FastAPI application", 22) == "Create the app…"
    assert short("Implement the in-memory TodoRepository (add, all", 40) == (
        "Implement the in-memory TodoRepository…"
    )
    assert short("x" * 50, 10) == "x" * 9 + "…"  # one long word: cut inside it, marked


def test_plan_shows_the_task_set_and_the_phase_set(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    config = "verify:\n  task: [python -m pytest -q tests/unit]\n  phase: [python -m pytest -q]\n"
    (root / ".specify" / "sdd.yaml").write_text(config)
    shown = sdd(root, "plan", "001-calc", COLUMNS="120")
    assert shown.returncode == 0, shown.stderr
    assert "verify, each task: python -m pytest -q tests/unit" in shown.stdout
    assert "verify, each phase's end and the run's end: python -m pytest -q " in shown.stdout
    data = json.loads(sdd(root, "plan", "001-calc", "--json").stdout)
    assert data["verification"]["commands"] == ["python -m pytest -q tests/unit"]
    assert data["phase_verification"]["commands"] == ["python -m pytest -q"]
    (root / ".specify" / "sdd.yaml").write_text("verify: {task: [pytest]}\n")
    bad = sdd(root, "plan", "001-calc")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: `.specify/sdd.yaml`: verify: `phase` needs a list of at least one command"
    ]
