"""The fast path, `verify: {task: [...], phase: [...]}`: each task is judged by a fast subset,
and the full suite runs when a phase's last task has landed, against the phase's start.

Real runs: a project with its own `python -m venv` (pytest unpacked into it), the scripted
model, real git and real pytest processes. The phase set also appends to a log, so the test
counts how often the full suite ran without timing anything.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from support.records import project_store
from support.repo import git
from support.runproc import Procs, sdd_argv, sdd_env, wait_until
from support.venvs import make_venv
from test_waves import FEATURE, landed, make_project, run, write

from orchestrator.store.records import PhaseCheck

pytestmark = pytest.mark.slow  # whole runs through real subprocesses

OPS = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
FIXED = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b  # product\n"
BROKEN = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a + b\n"
FILES = {
    ".gitignore": "__pycache__/\n.pytest_cache/\n.venv/\n",
    "calc/__init__.py": "",
    "calc/ops.py": OPS,
    "tests/unit/test_add.py": "from calc.ops import add\n\n\ndef test_add():\n"
    "    assert add(2, 3) == 5\n",
    "tests/full/test_mul.py": "from calc.ops import mul\n\n\ndef test_mul():\n"
    "    assert mul(2, 3) == 6\n",
}
TASKS = """# Tasks: calc

## Phase 1: Core

- [ ] T001 [P] Create out/a.txt
- [ ] T002 [P] Make mul in calc/ops.py read better
- [ ] T003 [P] Create out/c.txt

## Phase 2: Polish

- [ ] T004 Create out/d.txt
"""
PYTEST = ".venv/bin/python -m pytest -q -p no:cacheprovider"


def project(
    tmp_path: Path, wheels: Path, tasks: str = TASKS, *, hang: str = "", **files: str
) -> tuple[Path, Path]:
    """The project, its own venv with pytest, and the log the phase set appends to; `hang`,
    a shell command the phase set runs first."""
    log = tmp_path / "phase.log"
    first = [f"sh -c {shlex.quote(hang)}"] if hang else []
    verify = {
        "task": [f"{PYTEST} tests/unit"],
        "phase": [*first, f"sh -c 'echo ran >> {shlex.quote(str(log))}'", f"{PYTEST} tests"],
    }
    root = make_project(tmp_path, tasks, FILES | files, verify=verify)
    make_venv(root / ".venv", sorted(wheels.glob("*.whl")))
    return root, log


def script(ops: str = FIXED) -> dict:
    turns = {t: [{"tools": [write(f"out/{t}.txt", t)]}, {"text": t}] for t in ("T001", "T003")}
    turns["T004"] = [{"tools": [write("out/T004.txt", "d")]}, {"text": "d"}]
    turns["T002"] = [{"tools": [write("calc/ops.py", ops)]}, {"text": "shorter"}]
    return {"tasks": turns}


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sdd_argv(*args), cwd=root, env=sdd_env(), capture_output=True, text=True, timeout=120
    )


def checks_of(root: Path) -> dict[int, PhaseCheck]:
    store = project_store(root)
    try:
        return store.phase_checks(FEATURE)
    finally:
        store.close()


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_regression_the_task_set_misses_is_caught_at_the_phase_end_naming_its_task(
    tmp_path: Path, wheels: Path
) -> None:
    root, log = project(tmp_path, wheels)
    status, reason = run(root, script(BROKEN))
    assert status == "paused"
    assert "T002 broke tests/full/test_mul.py::test_mul" in reason, reason
    assert f"sdd undo {FEATURE} T002" in reason
    assert "\n" not in reason
    # the unit subset let T002 land; the next phase did not start
    assert sorted(landed(root)) == ["T001", "T002", "T003"]
    assert not (root / "out" / "T004.txt").exists()
    check = checks_of(root)[0]
    assert (check.passed, check.culprit) == (False, "T002")
    assert "test_mul" in check.output and "assert 5 == 6" in check.output
    # the start, the end, then two bisection steps among three commits (log2)
    assert check.runs == runs(log) == 4
    assert git(root, "worktree", "list").count("\n") == 1  # the scratch worktree is gone

    shown = sdd(root, "status", FEATURE, "--json")
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout)["phase_checks"]
    assert (row["result"], row["culprit"], row["runs"]) == ("failed", "T002", 4)
    logged = sdd(root, "log", FEATURE)
    assert "T002 broke tests/full/test_mul.py::test_mul" in logged.stdout
    assert "assert 5 == 6" in logged.stdout  # the phase verification's output is kept
    entries = json.loads(sdd(root, "log", FEATURE, "--json").stdout)
    assert [e["task"] or e["kind"] for e in entries] == ["T001", "T002", "T003", "phase-check"]
    assert (entries[-1]["result"], entries[-1]["culprit"]) == ("failed", "T002")

    # the hint works: take T002 back, run again with a correct change
    undone = sdd(root, "undo", FEATURE, "T002")
    assert undone.returncode == 0, undone.stderr
    assert run(root, script(FIXED)) == ("finished", "")
    assert (root / "out" / "T004.txt").exists()
    checks = checks_of(root)
    assert [c.passed for c in checks.values()] == [True, True]


def test_a_clean_run_runs_the_phase_set_once_per_phase_after_its_start(
    tmp_path: Path, wheels: Path
) -> None:
    root, log = project(tmp_path, wheels)
    assert run(root, script()) == ("finished", "")
    assert sorted(landed(root)) == ["T001", "T002", "T003", "T004"]
    # phase 1's start, phase 1's end (= phase 2's start), phase 2's end (= the run's end)
    assert runs(log) == 3
    checks = checks_of(root)
    head = git(root, "rev-parse", "HEAD").strip()
    assert [c.passed for c in checks.values()] == [True, True]
    assert checks[1].head == head  # the last check saw the tree the run finished with
    assert checks[1].base == checks[0].head
    assert all(c.seconds > 0 and c.headline == "PASSED (3 passed)" for c in checks.values())
    report = sdd(root, "report", FEATURE, "--json")
    assert [c["result"] for c in json.loads(report.stdout)["phase_checks"]] == ["passed"] * 2
    page = tmp_path / "report.html"
    assert sdd(root, "report", FEATURE, "-o", str(page)).returncode == 0
    assert '<section id="phase-checks">' in page.read_text()
    status = sdd(root, "status", FEATURE).stdout
    assert "phase checks" in status and "PASSED (3 passed)" in status
    # each task's first message names the phase suite, so the agent can run it itself
    shown = sdd(root, "show", FEATURE, "T002", "--json").stdout.splitlines()
    first = json.loads(shown[0])
    assert first["type"] == "user", first
    assert (
        f"At the end of the phase the full suite also runs (sh -c 'echo ran >> {log}' && "
        f"{PYTEST} tests); a regression it finds is blamed on the task that caused it"
    ) in first["text"]
    # a run over a finished feature checks nothing again
    assert run(root, script()) == ("finished", "")
    assert runs(log) == 3


def test_a_test_red_at_the_phase_start_is_not_held_against_its_tasks(
    tmp_path: Path, wheels: Path
) -> None:
    red = "def test_known():\n    assert False, 'red before the run'\n"
    tasks = "# Tasks: calc\n\n## Phase 1: Core\n\n- [ ] T001 Create out/a.txt\n"
    root, log = project(tmp_path, wheels, tasks, **{"tests/full/test_known.py": red})
    turns = {"T001": [{"tools": [write("out/T001.txt", "a")]}, {"text": "a"}]}
    assert run(root, {"tasks": turns}) == ("finished", "")
    [check] = checks_of(root).values()
    assert check.passed and check.culprit == ""
    assert runs(log) == 2


def test_in_a_wave_too_and_a_run_again_checks_again_rather_than_trusting_the_pause(
    tmp_path: Path, wheels: Path
) -> None:
    root, log = project(tmp_path, wheels)
    status, reason = run(root, script(BROKEN), jobs=2)
    assert status == "paused" and "T002 broke tests/full/test_mul.py::test_mul" in reason
    assert sorted(landed(root)) == ["T001", "T002", "T003"]
    before = runs(log)
    resumed = sdd(root, "resume", FEATURE, "--json")
    assert resumed.returncode == 1, resumed.stderr
    again = json.loads(resumed.stdout)
    assert (again["status"], again["reason"]) == ("paused", reason)
    assert (
        again["next"][1] == f"Take back the task that broke it: sdd undo {FEATURE} T002, "
        f"then sdd resume {FEATURE}"
    )
    assert runs(log) > before  # it ran again: a pause is not a pass
    assert not (root / "out" / "T004.txt").exists()
    assert git(root, "worktree", "list").count("\n") == 1


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2] != "Z"


def test_a_second_ctrl_c_stops_a_bisection_and_resume_checks_the_phase_again(
    tmp_path: Path, wheels: Path, procs: Procs
) -> None:
    flag, pidfile = tmp_path / "hang", tmp_path / "bisecting.pid"
    # in the scratch worktree, at a commit after T001 (a bisection step, not the start), the
    # phase set hangs while `flag` exists, as a slow suite would
    hang = (
        f'case "$PWD" in */worktrees/*) [ -e out/T001.txt ] && [ -e {flag} ] &&'
        f" echo $$ > {pidfile} && exec sleep 300;; esac; true"
    )
    root, log = project(tmp_path, wheels, hang=hang)
    flag.touch()
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(script(BROKEN)))
    first = procs.sdd(root, "run", FEATURE, "--model", f"scripted:{path}")
    wait_until(
        lambda: pidfile.exists() and pidfile.read_text().strip() != "",
        "a bisection step",
        proc=first,
        timeout=240,
    )
    sleeper = int(pidfile.read_text())
    assert alive(sleeper)
    first.interrupt()
    time.sleep(0.2)
    first.interrupt()
    assert first.wait(timeout=60) == 130, first.output()
    said = " ".join(first.stdout().split())
    assert "Traceback" not in first.stderr(), first.output()
    assert "Ctrl-C: finishing phase 1 (Core)'s verification, then pausing" in said, said
    assert (
        "Run paused (3 tasks landed this time): phase 1 (Core): stopped by a second Ctrl-C"
        f" before its phase verification finished; `sdd resume {FEATURE}` runs it again" in said
    ), said
    wait_until(lambda: not alive(sleeper), "the running check's processes to end", timeout=10)
    assert git(root, "worktree", "list").count("\n") == 1  # the scratch worktree is gone
    assert not (root / ".sdd" / "worktrees" / FEATURE / "phase-check").exists()
    assert git(root, "status", "--porcelain") == ""
    stopped = checks_of(root)[0]  # on record as not run: neither passed nor failed
    assert (stopped.passed, stopped.stopped, stopped.culprit) == (False, True, "")
    shown = sdd(root, "status", FEATURE, "--json")
    [row] = json.loads(shown.stdout)["phase_checks"]
    assert row["result"] == "stopped" and "runs it again" in row["headline"], row
    # resume runs the check again, this time to its end
    flag.unlink()
    before = runs(log)
    resumed = procs.sdd(root, "resume", FEATURE)
    assert resumed.wait(timeout=240) == 1, resumed.output()
    assert "T002 broke tests/full/test_mul.py::test_mul" in " ".join(resumed.stdout().split())
    assert runs(log) > before
    check = checks_of(root)[0]
    assert (check.passed, check.culprit) == (False, "T002")


def test_a_commit_whose_suite_cannot_run_is_not_blamed_and_the_span_is_named(
    tmp_path: Path, wheels: Path
) -> None:
    root, _ = project(tmp_path, wheels)
    turns = script(BROKEN)["tasks"]
    # T001 adds a test of a module that is nowhere yet: at its commit the phase set cannot run
    # (a module missing from the environment); T002 adds the module, and breaks mul
    test = "from helper import HELP\n\n\ndef test_help():\n    assert HELP\n"
    turns["T001"][0]["tools"].append(write("tests/full/test_help.py", test))
    turns["T002"][0]["tools"].append(write("helper.py", "HELP = True\n"))
    status, reason = run(root, {"tasks": turns})
    assert status == "paused"
    assert (
        "T001–T002: one of them broke tests/full/test_mul.py::test_mul (the phase verification"
        " could not run at T001: " in reason
    ), reason
    assert "\n" not in reason and "sdd undo" not in reason  # no one task to take back
    check = checks_of(root)[0]
    assert (check.passed, check.culprit) == (False, "")
    # the start, the end, T002 (bad), then T001 (unknown): no commit verified twice
    assert check.runs == 4
    assert git(root, "worktree", "list").count("\n") == 1
