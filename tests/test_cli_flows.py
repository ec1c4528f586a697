"""The flows a person drives through the real `sdd` command: approval gates across resumes,
the options a run keeps, what a pause tells, honest counts at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_run_e2e import GOOD, git, make_project, store, write_script

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

FEATURE = "001-calc"
BROKEN_T001 = {
    "T001": [
        {"tools": [{"Write": {"file_path": "tests/test_base.py", "content": "assert 0\n"}}]},
        {"text": "done"},
    ]
    * 3
}


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=_env(),
    )


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "COLUMNS": "200"}


def held(root: Path) -> list[str]:
    records = store(root)
    try:
        tasks = records.tasks(FEATURE)
    finally:
        records.close()
    return sorted(t for t, r in tasks.items() if r.status == "awaiting approval")


def kept_options(root: Path) -> dict[str, object]:
    records = store(root)
    try:
        run = records.latest_run(FEATURE)
    finally:
        records.close()
    assert run is not None
    return json.loads(run.options)  # type: ignore[no-any-return]


def state(root: Path) -> str:
    """Everything `sdd status` reads, to show a refusal changed nothing."""
    return sdd(root, "status", "001", "--json").stdout


def test_approve_each_holds_every_task_after_skip_approve_and_reject(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD | BROKEN_T001)
    model = f"scripted:{script}"
    first = sdd(root, "run", "001", "--model", model, "--approve", "each", "--jobs", "2")
    assert first.returncode == 1, first.stdout + first.stderr
    # a task that failed every attempt: the hints point at the transcript and at --skip
    assert "T001 failed after 3 attempts" in first.stdout
    assert f"sdd show {FEATURE} T001" in first.stdout
    assert f"sdd resume {FEATURE} --skip T001" in first.stdout

    # no --model, no --approve each: the run keeps both, so T002 is held, not landed
    skipped = sdd(root, "resume", "001", "--skip", "T001")
    assert skipped.returncode == 1, skipped.stdout + skipped.stderr
    assert "T002 awaits approval" in skipped.stdout and held(root) == ["T002"]
    for hint in (
        f"sdd diff {FEATURE} T002",
        f"sdd resume {FEATURE} --approve",
        f'sdd resume {FEATURE} --reject --note "what to change"',
    ):
        assert hint in skipped.stdout, skipped.stdout
    kept = kept_options(root)
    assert (kept["approve"], kept["jobs"], kept["model"]) == ("each", 2, model)

    # the held task is reviewable before it lands
    diff = sdd(root, "diff", "001", "T002")
    assert diff.returncode == 0 and "+def test_mul():" in diff.stdout, diff.stderr
    assert "T002: Write tests for multiply" in diff.stdout
    shown = sdd(root, "show", "001", "T002")
    assert shown.returncode == 0 and "tests/test_mul.py" in shown.stdout

    # a plain resume asks for the answer, exit 1, and writes nothing
    head, before = git(root, "rev-parse", "HEAD"), state(root)
    plain = sdd(root, "resume", "001")
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert plain.stderr.startswith("paused: T002 is held for your approval")
    assert f"sdd resume {FEATURE} --approve" in plain.stderr
    assert "Traceback" not in plain.stderr and len(plain.stderr.strip().splitlines()) == 1
    assert git(root, "rev-parse", "HEAD") == head
    assert state(root) == before

    approved = sdd(root, "resume", "001", "--approve")
    assert approved.returncode == 1 and held(root) == ["T003"], approved.stdout
    assert git(root, "log", "-1", "--format=%s").startswith("T002: ")

    # a rejection: the note and the rejected diff reach the agent; the redo is held again
    rejected = sdd(root, "resume", "001", "--reject", "--note", "keep mul in one line")
    assert rejected.returncode == 1 and held(root) == ["T003"], rejected.stdout
    transcripts = sorted((root / f".sdd/transcripts/{FEATURE}/T003").glob("attempt-*.jsonl"))
    redo = transcripts[-1].read_text()
    assert "keep mul in one line" in redo
    assert "+def mul(a, b):" in redo  # the rejected change itself, as a patch

    assert sdd(root, "resume", "001", "--approve").returncode == 1 and held(root) == ["T004"]
    done = sdd(root, "resume", "001", "--approve")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 landed, 1 skipped (T001)." in done.stdout
    assert "All 4 tasks landed" not in done.stdout


def test_options_given_on_resume_override_and_are_kept(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD | BROKEN_T001)
    first = sdd(root, "run", "001", "--model", f"scripted:{script}", "--jobs", "2")
    assert first.returncode == 1
    other = write_script(root, GOOD)  # the same content, another path
    moved = other.rename(root.parent / "other.yaml")
    again = sdd(root, "resume", "001", "--model", f"scripted:{moved}")
    assert again.returncode == 0, again.stdout + again.stderr
    kept = kept_options(root)
    assert (kept["model"], kept["jobs"]) == (f"scripted:{moved}", 2)
    assert "All 4 tasks landed." in again.stdout
    # a resumed task starts a new round numbered from 1, and says so
    assert "T001 attempt 3/3 no-change" in first.stdout or "T001 attempt 3/3 failed" in first.stdout
    assert "T001: a new round of up to 3 attempts (3 made before" in again.stdout
    assert "T001 attempt 1/3 passed" in again.stdout and "attempt 4" not in again.stdout


def test_resume_finds_the_store_the_run_was_given(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD | BROKEN_T001)
    elsewhere = tmp_path / "records" / "state.sqlite"
    first = sdd(
        root, "run", "001", "--model", f"scripted:{script}", "--store", f"sqlite:///{elsewhere}"
    )
    assert first.returncode == 1 and elsewhere.exists()
    assert not (root / ".sdd/state.sqlite").exists()
    assert (root / ".sdd/store-url").stat().st_mode & 0o777 == 0o600
    status = json.loads(sdd(root, "status", "001", "--json").stdout)
    assert status["run"]["status"] == "paused"  # found without --store
    resumed = sdd(root, "resume", "001", "--skip", "T001")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert not (root / ".sdd/state.sqlite").exists()
    # a remembered store that no longer works says where it came from and what to do
    elsewhere.write_bytes(b"not a database")
    for args in (("status", "001"), ("resume", "001")):
        broken = sdd(root, *args)
        assert broken.returncode == 2, broken.stdout + broken.stderr
        assert (
            "an earlier run was given this store: pass --store URL, or delete .sdd/store-url"
            in (broken.stderr)
        )
    (root / ".sdd/store-url").write_text("state.sqlite\n")
    garbled = sdd(root, "status", "001")
    assert garbled.returncode == 2 and "Traceback" not in garbled.stderr
    assert garbled.stderr.startswith("error: .sdd/store-url: `state.sqlite` is not a store URL")
    assert "; pass --store URL, or delete .sdd/store-url" in garbled.stderr
    (root / ".sdd/store-url").unlink()
    assert sdd(root, "status", "001").returncode == 0  # back to the default store


def test_a_killed_run_is_not_shown_as_running(tmp_path: Path) -> None:
    from support.runproc import Procs, wait_until

    root = make_project(tmp_path)
    slow = {"T001": [{"tools": [{"Bash": {"command": "sleep 60"}}]}, {"text": "done"}]}
    script = write_script(root, GOOD | slow)
    procs = Procs(tmp_path / "logs")
    try:
        proc = procs.sdd(root, "run", "001", "--model", f"scripted:{script}")

        def status() -> dict:
            return json.loads(sdd(root, "status", "001", "--json").stdout or "{}")

        def working() -> bool:
            tasks = status().get("tasks") or [{}]
            return tasks[0].get("state") == "running"

        wait_until(working, "T001 to be running", proc=proc)
        assert status()["run"]["status"] == "running"  # its process holds the lock
        proc.kill_group()
    finally:
        procs.close()
    after = status()
    assert after["run"]["status"] == "stopped"
    assert after["run"]["reason"] == (
        f"unexpectedly, its process is gone; resume with sdd resume {FEATURE}"
    )
    assert after["tasks"][0]["state"] == "interrupted"
    shown = " ".join(sdd(root, "status", "001").stdout.split())
    assert "stopped (unexpectedly, its process is gone; resume with sdd resume" in shown


def test_a_reader_that_goes_away_does_not_stop_the_run(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "run", "001", "--model", f"scripted:{script}"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"sdd run 001-calc")  # as `| head -1` reads
    proc.stdout.close()
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, errors
    assert errors == ""  # no BrokenPipeError, no traceback
    landed = git(root, "log", "--format=%s").splitlines()
    assert [s[:4] for s in landed[:4]] == ["T004", "T003", "T002", "T001"]
