"""Resume guarantees, tested by killing real `sdd run` processes at the worst moments.

Counting model calls across processes: the scripted model keeps no log, so the first turn of
every task is a Bash call that appends the task id to `calls.log` beside the repository
(outside the work tree, so it never dirties it) and touches `out/<id>-call<n>.txt`, n being that
task's line count in the log. One log line is one attempt the model started; the file names
which attempt a commit came from, so a leftover of an abandoned attempt shows up by name.
The log is append-only and written by a shell, so it survives a kill -9 of sdd. Transcripts
and attempt rows of the tasks that landed before the kill must stay as they were, byte for
byte and mtime for mtime.

Kill points are reached without timing guesses where sdd runs our shell (a verify command, a
git hook: a `Gate` holds there until released); mid-agent kills poll for the task's first file
while the scripted model's latency keeps the task open. Resumes run the same turns with no
latency, to keep the file fast.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.repo import commit_tree, git
from support.runproc import Proc, Procs, wait_until

pytestmark = pytest.mark.slow

IDS = [f"T00{k}" for k in range(1, 7)]
FEATURE = "001-calc"
TASKS_MD = f"specs/{FEATURE}/tasks.md"


def tasks_md() -> str:
    lines = ["# Tasks: calc", "", "## Phase 1: Setup", ""]
    for tid in IDS:
        if tid == "T003":
            lines += ["", "## Phase 2: Core", ""]
        lines.append(f"- [ ] {tid} Create out/{tid}.txt holding its task id")
    return "\n".join(lines) + "\n"


def make_project(tmp_path: Path, config: dict) -> Path:
    root = tmp_path / "proj"
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n\nSmall.\n")
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump(config))
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Feature: calc\n\nOne file per task.\n")
    (feature / "plan.md").write_text("# Plan: calc\n\nPlain files under out/.\n")
    (feature / "tasks.md").write_text(tasks_md())
    (root / "out").mkdir()
    (root / "out" / ".gitkeep").write_text("")
    commit_tree(root)
    return root


def write_script(root: Path, latency: float) -> Path:
    """Three turns per task: log the call and touch its file, write out/<id>.txt, finish."""
    log = shlex.quote(str(calls_log(root)))
    tasks = {
        tid: [
            {
                "tools": [
                    {
                        "Bash": {
                            "command": f"echo {tid} >> {log} && "
                            f"touch out/{tid}-call$(grep -c {tid} {log}).txt"
                        }
                    }
                ]
            },
            {"tools": [{"Write": {"file_path": f"out/{tid}.txt", "content": f"{tid}\n"}}]},
            {"text": f"Created out/{tid}.txt."},
        ]
        for tid in IDS
    }
    path = root.parent / "script.yaml"
    path.write_text(yaml.safe_dump({"latency": latency, "tasks": tasks}))
    return path


def calls_log(root: Path) -> Path:
    return root.parent / "calls.log"


def calls(root: Path) -> Counter[str]:
    log = calls_log(root)
    return Counter(log.read_text().split()) if log.exists() else Counter()


def landed_ids(root: Path) -> list[str]:
    out = git(root, "log", "--format=%(trailers:key=Sdd-Task,valueonly)")
    return [line.strip() for line in out.splitlines() if line.strip()]


def transcripts(root: Path, ids: set[str]) -> dict[str, tuple[int, bytes]]:
    base = root / ".sdd" / "transcripts" / FEATURE
    return {
        p.relative_to(base).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for tid in ids
        for p in sorted((base / tid).glob("*.jsonl"))
    }


def attempts(root: Path, ids: set[str]) -> list[tuple]:
    with sqlite3.connect(root / ".sdd" / "state.sqlite") as db:
        rows = db.execute(
            "SELECT task_id, attempt, run_id, outcome FROM sdd_attempts ORDER BY task_id, attempt"
        ).fetchall()
    return [r for r in rows if r[0] in ids]


def task_statuses(root: Path) -> dict[str, str]:
    with sqlite3.connect(root / ".sdd" / "state.sqlite") as db:
        return dict(db.execute("SELECT task_id, status FROM sdd_tasks").fetchall())


def tokens(root: Path) -> dict[str, int]:
    """Each task's tokens as its record holds them."""
    with sqlite3.connect(root / ".sdd" / "state.sqlite") as db:
        rows = db.execute("SELECT task_id, input_tokens + output_tokens FROM sdd_tasks")
        return dict(rows.fetchall())


def spent(transcript: Path) -> int:
    """The tokens of the model turns a transcript holds."""
    turns = [json.loads(line) for line in transcript.read_text().splitlines()]
    return sum(
        t["usage"]["input_tokens"] + t["usage"]["output_tokens"]
        for t in turns
        if t["type"] == "assistant"
    )


def run_count(root: Path) -> int:
    with sqlite3.connect(root / ".sdd" / "state.sqlite") as db:
        return db.execute("SELECT count(*) FROM sdd_runs").fetchone()[0]


def flat(text: str) -> str:
    return " ".join(text.split())


class Gate:
    """A point in sdd's work (a verify command, a git hook) where it waits for the test.

    `shell` touches `holding`, then waits until `release()` (30 s at most), so a test can act
    while sdd is provably at that point, with no timing guesses.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.holding, self._release = folder / "holding", folder / "release"
        at, go = shlex.quote(str(self.holding)), shlex.quote(str(self._release))
        self.shell = (
            f"touch {at}; i=0; "
            f"while [ ! -e {go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done"
        )

    def release(self) -> None:
        self._release.touch()


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    g = Gate(tmp_path / "gate")
    yield g
    g.release()  # a verify shell outlives a killed sdd (it has a session of its own)


def verify_gated_at(task: str, gate: Gate) -> dict:
    """A verify command that holds while it checks `task` (the newest file under out/)."""
    newest = "f=$(ls out | LC_ALL=C sort | tail -n 1)"
    return {"verify": [f'{newest}; if [ "$f" = {task}.txt ]; then {gate.shell}; fi']}


def hook_gated_at(root: Path, task: str, gate: Gate) -> None:
    """A post-commit hook that holds after the commit of `task`, before sdd records it."""
    hook = root / ".git" / "hooks" / "post-commit"
    hook.write_text(
        "#!/bin/sh\n"
        f"if git log -1 --format=%B | grep -qx 'Sdd-Task: {task}'; then {gate.shell}; fi\n"
    )
    hook.chmod(0o755)


def start_run(procs: Procs, root: Path, script: Path, *extra: str) -> Proc:
    return procs.sdd(root, "run", "001", "--model", f"scripted:{script}", *extra)


def finish(procs: Procs, root: Path, script: Path, command: str = "resume") -> Proc:
    """A fresh process, no latency: the turns are the same, only the waiting is gone."""
    write_script(root, latency=0)
    proc = procs.sdd(root, command, "001", "--model", f"scripted:{script}")
    code = proc.wait()
    assert code == 0, proc.output()
    return proc


def before_resume(root: Path) -> tuple[set[str], dict, list[tuple], Counter[str]]:
    """What landed before the interruption, and the traces its tasks left."""
    landed = set(landed_ids(root))
    return landed, transcripts(root, landed), attempts(root, landed), calls(root)


def assert_all_landed_once(
    root: Path,
    landed_before: set[str],
    traces: dict,
    rows: list[tuple],
    calls_before: Counter[str],
    redone: str | None,
) -> None:
    ids = landed_ids(root)
    assert sorted(ids) == IDS and len(ids) == len(set(ids)), f"Sdd-Task trailers: {ids}"
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    text = git(root, "show", f"HEAD:{TASKS_MD}")
    for tid in IDS:
        assert re.search(rf"^- \[[xX]\] {tid} ", text, re.M), f"{tid} not ticked:\n{text}"
    assert set(task_statuses(root).values()) == {"landed"}
    # nobody asked the model again for work that had landed
    now = calls(root)
    for tid in landed_before:
        assert now[tid] == calls_before[tid] == 1, (tid, now)
    assert transcripts(root, landed_before) == traces
    assert attempts(root, landed_before) == rows
    # the interrupted task is redone at most once; the others run once
    for tid in IDS:
        expected = {1, 2} if tid == redone else {1}
        assert now[tid] in expected, (tid, now)
    # each commit holds exactly its own task's work, from its last attempt: no leftovers
    expected_tree = {f"out/{t}.txt" for t in IDS} | {f"out/{t}-call{now[t]}.txt" for t in IDS}
    assert set(git(root, "ls-files", "out").split()) == expected_tree | {"out/.gitkeep"}
    on_disk = {f"out/{p.name}" for p in (root / "out").iterdir()}
    assert on_disk == expected_tree | {"out/.gitkeep"}
    for tid in IDS:
        sha = git(root, "log", "--format=%H", f"--grep=^Sdd-Task: {tid}$").split()
        files = set(git(root, "show", "--format=", "--name-only", sha[0]).split())
        assert files == {f"out/{tid}.txt", f"out/{tid}-call{now[tid]}.txt", TASKS_MD}, tid


QUIET_VERIFY = {"verify": ["test -d out"]}


def test_kill_9_while_the_agent_is_editing(tmp_path: Path, procs: Procs) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0.3)
    proc = start_run(procs, root, script)
    wait_until((root / "out" / "T003-call1.txt").exists, "T003's first file", proc=proc)
    proc.kill_group()
    landed, traces, rows, before = before_resume(root)
    assert landed == {"T001", "T002"}, "the kill should land inside T003"
    assert (root / "out" / "T003-call1.txt").exists()  # the interrupted attempt's work so far
    finish(procs, root, script)
    assert_all_landed_once(root, landed, traces, rows, before, redone="T003")
    assert calls(root)["T003"] == 1  # its conversation went on: the Bash call was not re-run


def test_kill_9_during_verification(tmp_path: Path, procs: Procs, gate: Gate) -> None:
    root = make_project(tmp_path, verify_gated_at("T003", gate))
    script = write_script(root, latency=0)
    proc = start_run(procs, root, script)
    wait_until(gate.holding.exists, "T003's verification", proc=proc)
    proc.kill_group()
    gate.release()
    landed, traces, rows, before = before_resume(root)
    assert landed == {"T001", "T002"}, "the kill should land in T003's verification"
    log = root / ".sdd" / "transcripts" / FEATURE / "T003" / "attempt-1.jsonl"
    assert tokens(root)["T003"] == spent(log) > 0  # the turns before the kill are counted
    finish(procs, root, script)
    assert_all_landed_once(root, landed, traces, rows, before, redone="T003")
    assert calls(root)["T003"] == 1
    assert tokens(root)["T003"] == spent(log)  # and counted once
    # the resume verified again and asked the model nothing: no turn after the join
    kinds = [json.loads(line)["type"] for line in log.read_text().splitlines()]
    after = kinds[kinds.index("resumed") :]
    assert "assistant" not in after and after.count("verify") == 1, kinds


def test_kill_9_between_commit_and_checkpoint(tmp_path: Path, procs: Procs, gate: Gate) -> None:
    root = make_project(tmp_path, QUIET_VERIFY | {"commit_hooks": True})
    hook_gated_at(root, "T003", gate)
    script = write_script(root, latency=0)
    proc = start_run(procs, root, script)
    wait_until(gate.holding.exists, "the post-commit hook of T003", proc=proc)
    proc.kill_group()
    gate.release()
    landed, traces, rows, before = before_resume(root)
    assert landed == {"T001", "T002", "T003"}, "T003 is committed, sdd never recorded it"
    assert task_statuses(root)["T003"] != "landed"
    finish(procs, root, script)
    assert_all_landed_once(root, landed, traces, rows, before, redone=None)


def test_ctrl_c_once_finishes_the_task_then_pauses(tmp_path: Path, procs: Procs) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0.2)
    proc = start_run(procs, root, script)
    wait_until((root / "out" / "T003-call1.txt").exists, "T003's first file", proc=proc)
    proc.interrupt()
    code = proc.wait(timeout=30)
    said = flat(proc.stdout())
    assert code == 130, proc.output()
    assert "paused" in said.lower() and f"sdd resume {FEATURE}" in said, said
    assert "Traceback" not in proc.stderr(), proc.output()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    landed, traces, rows, before = before_resume(root)
    assert landed == {"T001", "T002", "T003"}, "the current task finishes, then the run pauses"
    assert "T004" not in before, "no task starts after Ctrl-C"
    finish(procs, root, script)
    assert_all_landed_once(root, landed, traces, rows, before, redone=None)


def test_ctrl_c_twice_stops_at_once(tmp_path: Path, procs: Procs) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0.3)
    proc = start_run(procs, root, script)
    wait_until((root / "out" / "T003-call1.txt").exists, "T003's first file", proc=proc)
    proc.interrupt()
    time.sleep(0.2)
    proc.interrupt()
    stopped = time.monotonic()
    code = proc.wait(timeout=30)
    assert time.monotonic() - stopped < 5, "a second Ctrl-C stops without finishing the task"
    assert code == 130, proc.output()
    assert "Traceback" not in proc.stderr(), proc.output()
    said = flat(proc.stdout())
    assert f"sdd resume {FEATURE}" in said, proc.output()
    assert "continues the task's attempt where it stopped" in said, proc.output()
    landed, traces, rows, before = before_resume(root)
    assert landed == {"T001", "T002"}, "the second Ctrl-C stops T003 where it is"
    kept = git(root, "status", "--porcelain", "--untracked-files=all")
    assert "out/T003-call1.txt" in kept, kept  # its change stays for the resume to go on with
    resumed = finish(procs, root, script)
    assert_all_landed_once(root, landed, traces, rows, before, redone=None)
    assert "T003 continues its interrupted attempt" in resumed.stdout(), resumed.output()


def test_restart_after_a_finished_run_lands_nothing_new(tmp_path: Path, procs: Procs) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0)
    finish(procs, root, script, command="run")
    head, runs = git(root, "rev-parse", "HEAD"), run_count(root)
    landed, traces, rows, before = before_resume(root)
    proc = start_run(procs, root, script, "--restart")
    assert proc.wait() == 0, proc.output()
    assert git(root, "rev-parse", "HEAD") == head
    assert run_count(root) == runs + 1
    assert calls(root) == before
    assert_all_landed_once(root, landed, traces, rows, before, redone=None)


@pytest.mark.parametrize("held_in", ["verification", "post-commit hook"])
def test_a_second_run_of_the_same_feature_is_refused(
    tmp_path: Path, procs: Procs, gate: Gate, held_in: str
) -> None:
    """Held mid-task the first run's tree is dirty; held after its commit it is clean."""
    if held_in == "verification":
        root = make_project(tmp_path, verify_gated_at("T002", gate))
    else:
        root = make_project(tmp_path, QUIET_VERIFY | {"commit_hooks": True})
        hook_gated_at(root, "T002", gate)
    script = write_script(root, latency=0)
    first = start_run(procs, root, script)
    wait_until(gate.holding.exists, f"T002's {held_in}", proc=first)
    second = start_run(procs, root, script)
    code = second.wait(timeout=30)
    assert first.running()
    gate.release()
    err = second.stderr().strip()
    assert code != 0, second.output()
    assert len(err.splitlines()) == 1 and "another sdd run" in err, second.output()
    assert first.wait() == 0, first.output()
    ids = landed_ids(root)
    assert sorted(ids) == IDS and len(ids) == len(set(ids)), ids
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert set(calls(root).values()) == {1}


def test_resume_refuses_the_users_edits_after_a_crash_and_stashes_nothing(
    tmp_path: Path, procs: Procs
) -> None:
    """What the interrupted attempt left is told from what the user changed since by the
    attempt's record: the user's edits are refused like any dirty tree, never absorbed."""
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0.3)
    proc = start_run(procs, root, script)
    wait_until((root / "out" / "T003-call1.txt").exists, "T003's first file", proc=proc)
    proc.kill_group()
    edited = tasks_md().replace("T006 Create", "T006 Then create")
    (root / TASKS_MD).write_text(edited)
    (root / "NOTES.md").write_text("my notes\n")
    later = time.time() + 10  # the user comes back later: past the killed call's window
    for path in (root / TASKS_MD, root / "NOTES.md"):
        os.utime(path, (later, later))
    refused = procs.sdd(root, "resume", "001", "--model", f"scripted:{script}")
    assert refused.wait() == 2, refused.output()
    err = refused.stderr().strip()
    assert "that the interrupted attempt of T003 did not make: NOTES.md, " in err, err
    assert TASKS_MD in err and len(err.splitlines()) == 1
    assert (root / TASKS_MD).read_text() == edited and (root / "NOTES.md").exists()
    assert git(root, "stash", "list") == ""
    # asked to commit the user's edits, it discards only the attempt's leftovers first
    proc = procs.sdd(root, "run", "001", "--model", f"scripted:{script}", "--commit-dirty")
    assert proc.wait() == 0, proc.output()
    said = flat(proc.stdout())
    assert "discarded what the interrupted attempt of T003 left (out/T003-call1.txt)" in said
    assert "committed your uncommitted changes" in said
    assert git(root, "stash", "list") == ""
    assert git(root, "show", "HEAD:NOTES.md") == "my notes\n"
    assert "Then create" in git(root, "show", f"HEAD:{TASKS_MD}")
    assert sorted(landed_ids(root)) == IDS
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert "out/T003-call1.txt" not in git(root, "ls-files", "out")


def test_regenerated_tasks_md_runs_the_new_task_and_keeps_the_landed_ones(
    tmp_path: Path, procs: Procs
) -> None:
    """/speckit-tasks renumbered tasks.md between runs: landed work is matched by its text, and
    the task that took an old id runs instead of passing for landed."""
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0)
    finish(procs, root, script, command="run")
    before = calls(root)
    new = ["# Tasks: calc", "", "## Phase 1: Setup", "", "- [ ] T001 Create out/T001.txt holding "
           "its task id", "- [ ] T002 Create out/new.txt holding the word new"]  # fmt: skip
    new += [f"- [ ] T00{k + 1} Create out/T00{k}.txt holding its task id" for k in range(2, 7)]
    (root / TASKS_MD).write_text("\n".join(new) + "\n")
    git(root, "commit", "-qam", "regenerate tasks.md")
    turns = yaml.safe_load(script.read_text())
    turns["tasks"]["T002"] = [
        {"tools": [{"Write": {"file_path": "out/new.txt", "content": "new\n"}}]},
        {"text": "Created out/new.txt."},
    ]
    script.write_text(yaml.safe_dump(turns))
    proc = procs.sdd(root, "run", "001", "--model", f"scripted:{script}")
    assert proc.wait() == 0, proc.output()
    assert git(root, "show", "HEAD:out/new.txt") == "new\n"
    assert git(root, "log", "-1", "--format=%(trailers:key=Sdd-Task,valueonly)").strip() == "T002"
    assert calls(root) == before  # nothing that had landed ran again
    assert len(landed_ids(root)) == len(IDS) + 1
