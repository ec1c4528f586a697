"""What a run says to scripts and while it works: `run --json` (the outcome, why, the next
command and the totals on stdout, the progress on stderr), its exit codes, and `status` showing
the tokens of the attempt in progress."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from support.runproc import Procs, sdd_argv, sdd_env, wait_until
from test_run_e2e import GOOD, make_project, write_script

pytestmark = pytest.mark.slow  # real sdd runs


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sdd_argv(*args), cwd=root, env=sdd_env(), capture_output=True, text=True)


def test_run_json_is_the_outcome_and_totals_with_progress_on_stderr(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    done = sdd(root, "run", "001", f"--model=scripted:{script}", "--json")
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["status"], said["reason"], said["exit_code"], said["next"]) == (
        "finished",
        "",
        0,
        [],
    )
    assert [r["task"] for r in said["landed"]] == ["T001", "T002", "T003", "T004"]
    totals = said["totals"]
    assert totals["attempts"] == 4 and totals["input_tokens"] > 0
    assert totals["verify_seconds"] > 0 and totals["seconds"] >= totals["verify_seconds"]
    assert "T001 attempt 1/3 passed" in done.stderr and "Took " in done.stderr


def test_a_paused_run_says_why_and_what_next_in_json(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    done = sdd(root, "run", "001", f"--model=scripted:{script}", "--approve", "each", "--json")
    assert done.returncode == 1, done.stderr
    said = json.loads(done.stdout)
    assert said["status"] == "paused" and said["exit_code"] == 1
    assert "T001" in said["reason"] and said["awaiting"] == "T001"
    assert any(f"sdd resume {said['feature']} --approve" in step for step in said["next"])
    assert said["landed"] == [] and said["totals"]["attempts"] == 1


def test_status_shows_the_tokens_of_the_attempt_in_progress(tmp_path: Path, procs: Procs) -> None:
    root = make_project(tmp_path)
    script = write_script(root, GOOD)
    slow = yaml.safe_load(script.read_text()) | {"latency": 3}  # each model turn takes 3 s
    first, last = slow["tasks"]["T001"]  # a Read between them: T001 runs 6 s past its first
    slow["tasks"]["T001"] = [first, {"tools": [{"Read": {"file_path": "calc/add.py"}}]}, last]
    script.write_text(yaml.safe_dump(slow))  # turn, time for `status` on a loaded machine
    proc = procs.sdd(root, "run", "001", f"--model=scripted:{script}")
    transcript = root / ".sdd" / "transcripts" / "001-calc" / "T001" / "attempt-1.jsonl"
    wait_until(
        lambda: transcript.is_file() and '"assistant"' in transcript.read_text(),
        "T001's first model turn",
        proc=proc,
    )
    status = json.loads(sdd(root, "status", "001", "--json").stdout)
    t001 = next(t for t in status["tasks"] if t["task"] == "T001")
    assert t001["state"] == "running" and t001["input_tokens"] > 0  # counted turn by turn
    now = t001["running_attempt"]
    assert now["attempt"] == 1 and now["input_tokens"] > 0 and now["output_tokens"] > 0
    table = sdd(root, "status", "001").stdout
    assert " running" in table.split("T001", 1)[1].splitlines()[0]
    proc.interrupt()  # Ctrl-C: T001 finishes, and nothing runs any more
    assert proc.wait(timeout=120) == 130, proc.output()
    after = json.loads(sdd(root, "status", "001", "--json").stdout)
    assert all(t["running_attempt"] is None for t in after["tasks"])
    assert next(t for t in after["tasks"] if t["task"] == "T001")["state"] == "landed"
