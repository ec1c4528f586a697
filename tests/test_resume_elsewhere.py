"""Starting a run on one machine and finishing it on another: two clones of one bare
repository stand for the machines, one Postgres database for the shared store.

Clone A runs with `--push origin` and is killed with SIGKILL in the middle of a task. Clone B
must refuse to resume while its branch lacks what A landed and pushed, and after
`git pull --ff-only` it finishes the run: every task lands exactly once in the shared history.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from support.runproc import Proc, Procs, wait_until
from test_resume import IDS, QUIET_VERIFY, calls, flat, git, landed_ids, make_project, write_script

from orchestrator.run.remote import missing_message

pytestmark = pytest.mark.slow


def clone(origin: Path, where: Path) -> Path:
    where.mkdir()
    git(where, "clone", "-q", str(origin), "proj")
    root = where / "proj"
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "user@example.invalid")
    return root


def shared_history(origin: Path) -> list[str]:
    out = git(origin, "log", "main", "--format=%(trailers:key=Sdd-Task,valueonly)")
    return [line.strip() for line in out.splitlines() if line.strip()]


def sdd(procs: Procs, root: Path, *args: str, timeout: float = 60) -> Proc:
    proc = procs.sdd(root, *args)
    proc.wait(timeout)
    return proc


def test_start_in_clone_a_kill_it_finish_in_clone_b(
    tmp_path: Path, procs: Procs, pg_url: str
) -> None:
    seed = make_project(tmp_path / "seed", QUIET_VERIFY)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    script_a = write_script(a, latency=0.3)
    run_a = procs.sdd(
        a, "run", "001", "--model", f"scripted:{script_a}", "--store", pg_url, "--push", "origin"
    )
    wait_until((a / "out" / "T001-call1.txt").exists, "T001's first file in clone A", proc=run_a)
    watching = sdd(procs, b, "status", "001", "--json", "--store", pg_url)
    assert json.loads(watching.stdout())["run"]["status"] == "running"  # A holds the run's lock
    wait_until((a / "out" / "T003-call1.txt").exists, "T003's first file in clone A", proc=run_a)
    run_a.kill_group()
    gone = json.loads(sdd(procs, b, "status", "001", "--json", "--store", pg_url).stdout())
    assert gone["run"]["status"] == "stopped", gone["run"]  # seen from the other machine
    assert landed_ids(a) == ["T002", "T001"], "A is killed inside T003"
    assert shared_history(origin) == ["T002", "T001"], "each landed commit was pushed"

    script_b = write_script(b, latency=0)
    model = f"scripted:{script_b}"
    refused = sdd(procs, b, "resume", "001", "--model", model, "--store", pg_url)
    said = flat(refused.stderr())
    assert refused.popen.returncode == 2, refused.output()
    assert "Traceback" not in said
    assert "main lacks 2 commit(s) the run of 001-calc already landed: T001" in said, said
    assert "T002" in said and "git pull --ff-only origin main" in said, said
    assert landed_ids(b) == [] and calls(b) == Counter(), "B refused before doing any work"

    git(b, "pull", "-q", "--ff-only", "origin", "main")
    done = sdd(procs, b, "resume", "001", "--model", model, "--store", pg_url)
    assert done.popen.returncode == 0, done.output()
    assert sorted(landed_ids(b)) == IDS and len(landed_ids(b)) == len(IDS)
    assert shared_history(origin) == landed_ids(b), "B pushed what it landed (the run's remote)"
    assert set(calls(b)) - {"T003"} == set(IDS) - {"T001", "T002", "T003"}, "B redid no landing"
    # T003's conversation goes on in B wherever A was killed in it: what A had kept of its
    # work is written back from the store into B's clean clone, and a call A was killed
    # inside is told to the agent as cut short; its Bash call never runs again.
    assert "T003" not in calls(b), "T003 did not start over"
    said = flat(done.stdout())
    assert "T003 continues its interrupted attempt" in said, said
    log = b / ".sdd" / "transcripts" / "001-calc" / "T003" / "attempt-1.jsonl"
    assert '"type": "resumed"' in log.read_text()

    shown = sdd(procs, a, "status", "001", "--json", "--store", pg_url)
    status = json.loads(shown.stdout())
    assert {t["task"]: t["state"] for t in status["tasks"]} == dict.fromkeys(IDS, "landed")
    assert status["run"]["status"] == "finished", status["run"]


def test_a_refused_push_pauses_the_run_and_resume_pushes_it(tmp_path: Path, procs: Procs) -> None:
    seed = make_project(tmp_path / "seed", QUIET_VERIFY)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(  # refuses T002's commit while the file `closed` is there
        "#!/bin/sh\nwhile read old new ref; do\n"
        f"  if [ -e {origin}/closed ] && git log -1 --format=%B $new | grep -qx 'Sdd-Task: T002'"
        "; then echo 'T002 is not welcome yet' >&2; exit 1; fi\ndone\n"
    )
    hook.chmod(0o755)
    (origin / "closed").touch()
    root = clone(origin, tmp_path / "a")
    model = f"scripted:{write_script(root, latency=0)}"
    paused = sdd(procs, root, "run", "001", "--model", model, "--push", "origin")
    said = flat(paused.stderr())
    assert paused.popen.returncode == 1, paused.output()
    assert "Traceback" not in said
    assert "T002 landed as" in said and "pushing main to origin failed" in said, said
    assert "sdd resume 001-calc pushes it" in said, said
    assert landed_ids(root) == ["T002", "T001"] and shared_history(origin) == ["T001"]
    status = json.loads(sdd(procs, root, "status", "001", "--json").stdout())
    assert status["run"]["status"] == "paused" and "pushing main" in status["run"]["reason"]

    (origin / "closed").unlink()
    done = sdd(procs, root, "resume", "001", "--model", model)
    assert done.popen.returncode == 0, done.output()
    assert sorted(landed_ids(root)) == IDS and len(landed_ids(root)) == len(IDS)
    assert shared_history(origin) == landed_ids(root), "the run's remote is remembered"


def test_the_refusal_names_the_fix_for_each_case() -> None:
    missing = [("T001", "a" * 40), ("T002", "b" * 40)]
    pulled = missing_message("001-calc", missing, "origin", "main", reachable=2)
    assert pulled.startswith("main lacks 2 commit(s) the run of 001-calc already landed: ")
    assert "T001 (aaaaaaaaaa), T002 (bbbbbbbbbb)" in pulled
    assert pulled.endswith("git pull --ff-only origin main, then sdd resume 001-calc")
    unpushed = missing_message("001-calc", missing, "origin", "main", reachable=1)
    assert "not on origin: run sdd resume 001-calc on the machine that landed them" in unpushed
    nowhere = missing_message("001-calc", missing, "", "main", reachable=0)
    assert "git pull --ff-only REMOTE main" in nowhere and "--push REMOTE" in nowhere
