"""`--jobs N`: a wave's tasks work at once in real git worktrees and land one by one.

Concurrency is shown without timing: each task's first Bash call waits at a barrier until
every task of its wave has reached it, and records how many it saw. Run one at a time, each
would see only itself (the barrier gives up after a few seconds).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.records import sqlite_store
from support.repo import commit_tree, git
from support.runproc import Procs, wait_until

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

FEATURE = "001-calc"


def make_project(
    tmp_path: Path, tasks: str, files: dict[str, str] | None = None, **config: object
) -> Path:
    root = tmp_path / "proj"
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n\nSmall.\n")
    config = {"limits": {"attempts": 2}, **config}
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump(config))
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Feature: calc\n")
    (feature / "plan.md").write_text("# Plan: calc\n")
    (feature / "tasks.md").write_text(tasks)
    (root / "tests").mkdir()
    (root / "tests" / "test_base.py").write_text("def test_base():\n    assert True\n")
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    for path, text in (files or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    commit_tree(root)
    return root


def tasks_md(*parallel: str, setup: bool = True, after: str = "") -> str:
    lines = ["# Tasks: calc", ""]
    if setup:
        lines += ["## Phase 1: Setup", "", "- [ ] T001 Create out/T001.txt", ""]
    lines += ["## Phase 2: Core", ""]
    lines += [f"- [ ] {line}" for line in parallel]
    if after:
        lines += ["", "## Phase 3: Polish", "", f"- [ ] {after}"]
    return "\n".join(lines) + "\n"


def write(path: str, content: str) -> dict:
    return {"Write": {"file_path": path, "content": content}}


def bash(command: str) -> dict:
    return {"Bash": {"command": command}}


def barrier(log: Path, task_id: str, wave: int) -> dict:
    """Append to `log`, wait until `wave` tasks have, and write how many were seen."""
    q = shlex.quote(str(log))
    return bash(
        f"echo {task_id} >> {q}; "
        f"for i in $(seq 200); do [ $(wc -l < {q}) -ge {wave} ] && break; sleep 0.02; done; "
        f"mkdir -p out && wc -l < {q} | tr -d ' ' > out/{task_id}.seen"
    )


def run(root: Path, script: dict, **options: object) -> tuple[str, str]:
    path = root.parent / "script.yaml"
    path.write_text(yaml.safe_dump(script))
    console = Console(record=True, width=200)
    opts = RunOptions(model=f"scripted:{path}", **options)  # type: ignore[arg-type]
    session = open_run(root, root / "specs" / FEATURE, opts, Reporter(console))
    try:
        result = run_session(session)
    finally:
        session.close()
    return result.status, result.reason


def landed(root: Path) -> Counter[str]:
    trailers = git(root, "log", "--format=%(trailers:key=Sdd-Task,valueonly)")
    return Counter(t.strip() for t in trailers.splitlines() if t.strip())


def subjects(root: Path) -> list[str]:
    return [s.split(":")[0] for s in reversed(git(root, "log", "--format=%s").splitlines()[:-1])]


def assert_no_worktrees(root: Path) -> None:
    listed = git(root, "worktree", "list", "--porcelain").count("worktree ")
    assert listed == 1, git(root, "worktree", "list")
    assert git(root, "branch", "--format=%(refname:short)").split() == ["main"]
    assert not (root / ".sdd" / "worktrees" / FEATURE).exists()
    assert git(root, "status", "--porcelain") == ""


def test_a_wave_works_at_once_and_lands_in_plan_order(tmp_path: Path) -> None:
    wave = ["T002 [P] Create out/a.txt", "T003 [P] Create out/b.txt", "T004 [P] Create out/c.txt"]
    root = make_project(tmp_path, tasks_md(*wave, after="T005 Create out/d.txt"), verify=["true"])
    log = tmp_path / "barrier.log"
    script = {
        "tasks": {
            "T001": [{"tools": [write("out/T001.txt", "1\n")]}, {"text": "done"}],
            **{
                t: [{"tools": [barrier(log, t, 3), write(f"out/{t}.txt", t)]}, {"text": "done"}]
                for t in ("T002", "T003", "T004")
            },
            "T005": [{"tools": [write("out/d.txt", "d\n")]}, {"text": "done"}],
        }
    }
    assert run(root, script, jobs=3) == ("finished", "")
    assert subjects(root) == ["T001", "T002", "T003", "T004", "T005"]
    assert landed(root) == Counter({f"T00{k}": 1 for k in range(1, 6)})
    for t in ("T002", "T003", "T004"):  # each saw all three at the barrier: they ran at once
        assert (root / "out" / f"{t}.seen").read_text().strip() == "3"
    text = (root / "specs" / FEATURE / "tasks.md").read_text()
    assert text.count("- [X]") == 5
    # each commit ticks only its own task and holds only its own change
    for t in ("T002", "T003", "T004"):
        sha = git(root, "log", "--format=%H", f"--grep=^Sdd-Task: {t}$").strip()
        files = git(root, "show", "--name-only", "--format=", sha).split()
        assert sorted(files) == sorted(
            [f"out/{t}.seen", f"out/{t}.txt", f"specs/{FEATURE}/tasks.md"]
        )
    assert_no_worktrees(root)
    records = sqlite_store(root / ".sdd" / "state.sqlite").tasks(FEATURE)
    assert {records[t].status for t in records} == {"landed"}


def test_no_more_than_jobs_tasks_work_at_once_and_the_next_starts_from_the_new_head(
    tmp_path: Path,
) -> None:
    ids = [f"T00{k}" for k in range(1, 6)]
    root = make_project(
        tmp_path,
        tasks_md(*[f"{t} [P] Create out/{t}.txt" for t in ids], setup=False),
        verify=["true"],
    )
    busy = tmp_path / "busy"
    busy.mkdir()

    def count(t: str) -> dict:  # how many tasks are inside this window at once
        return bash(
            f"touch {busy}/{t}; mkdir -p out; ls {busy} | wc -l | tr -d ' ' > out/{t}.seen; "
            f"sleep 0.4; rm {busy}/{t}"
        )

    script = {
        "tasks": {t: [{"tools": [count(t), write(f"out/{t}.txt", t)]}, {"text": t}] for t in ids}
    }
    assert run(root, script, jobs=2) == ("finished", "")
    assert subjects(root) == ids
    seen = [int((root / "out" / f"{t}.seen").read_text()) for t in ids]
    assert max(seen) == 2, seen
    # a task started after a sibling landed works on top of it: T005's base holds T001's file
    bases = sqlite_store(root / ".sdd" / "state.sqlite").tasks(FEATURE)
    first = git(root, "log", "--format=%H", "--grep=^Sdd-Task: T001$").strip()
    assert git(root, "merge-base", "--is-ancestor", first, bases["T005"].base) == ""


def test_a_change_that_no_longer_applies_is_redone_alone_on_the_new_head(tmp_path: Path) -> None:
    # Both edit registry.py without naming it, so the scheduler puts them in one wave.
    wave = ["T002 [P] Register alpha", "T003 [P] Register beta"]
    root = make_project(tmp_path, tasks_md(*wave, setup=False), {"registry.py": "ITEMS = []\n"})
    script = {
        "tasks": {
            "T002": [{"tools": [write("registry.py", "ITEMS = ['alpha']\n")]}, {"text": "a"}],
            "T003": [
                {"tools": [write("registry.py", "ITEMS = ['alpha', 'beta']\n")]},
                {"text": "b"},
            ],
        }
    }
    assert run(root, script, jobs=2) == ("finished", "")
    assert subjects(root) == ["T002", "T003"]
    assert landed(root) == Counter({"T002": 1, "T003": 1})
    assert (root / "registry.py").read_text() == "ITEMS = ['alpha', 'beta']\n"
    # T003 was redone on top of T002: its commit changes only what T002 left
    diff = git(root, "show", "--format=", "HEAD", "--", "registry.py")
    assert "-ITEMS = ['alpha']" in diff
    attempts = sqlite_store(root / ".sdd" / "state.sqlite").attempts(FEATURE, "T003")
    assert len(attempts) == 2  # once in its worktree, once alone on the new head
    assert_no_worktrees(root)


PLUGINS_TEST = (
    "from pathlib import Path\n\n\ndef test_known_plugins():\n"
    "    found = sorted(p.name for p in (Path(__file__).parents[1] / 'plugins').glob('*.py'))\n"
    "    assert found == {expected}\n"
)


def test_a_task_that_fails_verification_after_a_sibling_lands_is_redone(tmp_path: Path) -> None:
    # T003 names the plugin test: it may change a test that guards earlier work
    wave = ["T002 [P] Add plugin a", "T003 [P] Add plugin b and list it in tests/test_plugins.py"]
    root = make_project(tmp_path, tasks_md(*wave, setup=False))
    script = {
        "tasks": {
            "T002": [
                {
                    "tools": [
                        write("plugins/a.py", "A = 1\n"),
                        write("tests/test_plugins.py", PLUGINS_TEST.format(expected=["a.py"])),
                    ]
                },
                {"text": "a"},
            ],
            "T003": [  # passes alone; on the new head test_plugins fails, then it is fixed
                {"tools": [write("plugins/b.py", "B = 1\n")]},
                {"text": "b"},
                {
                    "tools": [
                        write(
                            "tests/test_plugins.py",
                            PLUGINS_TEST.format(expected=["a.py", "b.py"]),
                        )
                    ]
                },
                {"text": "b, with the plugin test updated"},
            ],
        }
    }
    assert run(root, script, jobs=2) == ("finished", "")
    assert subjects(root) == ["T002", "T003"]
    assert landed(root) == Counter({"T002": 1, "T003": 1})
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert "tests/test_plugins.py" in files and "plugins/b.py" in files
    records = sqlite_store(root / ".sdd" / "state.sqlite").attempts(FEATURE, "T003")
    assert [a.outcome for a in records] == ["passed", "failed", "passed"]
    assert "test_known_plugins" in records[1].verify_output
    assert_no_worktrees(root)


def test_a_failed_task_does_not_stop_its_siblings_and_the_run_pauses_after_the_wave(
    tmp_path: Path,
) -> None:
    wave = ["T002 [P] Create out/a.txt", "T003 [P] Break things", "T004 [P] Create out/c.txt"]
    root = make_project(tmp_path, tasks_md(*wave, setup=False, after="T005 Create out/d.txt"))
    failing = "def test_broken():\n    assert False\n"
    script = {
        "tasks": {
            "T002": [{"tools": [write("out/a.txt", "a")]}, {"text": "a"}],
            "T003": [{"tools": [write("tests/test_broken.py", failing)]}, {"text": "broken"}],
            "T004": [{"tools": [write("out/c.txt", "c")]}, {"text": "c"}],
            "T005": [{"tools": [write("out/d.txt", "d")]}, {"text": "d"}],
        }
    }
    status, reason = run(root, script, jobs=3)
    assert status == "paused" and "T003 failed after 2 attempts" in reason
    assert landed(root) == Counter({"T002": 1, "T004": 1})
    assert_no_worktrees(root)
    assert run(root, script, jobs=3, skip=("T003",)) == ("finished", "")
    assert landed(root) == Counter({"T002": 1, "T004": 1, "T005": 1})


def test_kill_9_mid_wave_then_resume_lands_each_task_once(tmp_path: Path, procs: Procs) -> None:
    ids = [f"T00{k}" for k in range(2, 6)]
    tasks = tasks_md(*[f"{t} [P] Create out/{t}.txt" for t in ids])
    root = make_project(tmp_path, tasks, verify=["true"])
    log = tmp_path / "barrier.log"
    calls = tmp_path / "calls.log"

    def turns(t: str, hold: bool) -> list[dict]:
        first = [bash(f"echo {t} >> {shlex.quote(str(calls))}")]
        if hold and t == "T002":  # T002 lands while its siblings are held
            first.append(write(f"out/{t}.txt", t))
        elif hold:
            first.append(barrier(log, t, 99))  # held here until the kill
        return [{"tools": first}, {"tools": [write(f"out/{t}.txt", t)]}, {"text": "done"}]

    def script(hold: bool) -> Path:
        path = tmp_path / f"script-{hold}.yaml"
        tasks = {"T001": [{"tools": [write("out/T001.txt", "1")]}, {"text": "done"}]}
        tasks |= {t: turns(t, hold) for t in ids}
        path.write_text(yaml.safe_dump({"tasks": tasks}))
        return path

    first = procs.sdd(root, "run", "001", "--jobs", "4", "--model", f"scripted:{script(True)}")
    wait_until(
        lambda: (
            log.exists()
            and len(log.read_text().split()) == 3
            and landed(root)["T002"] == 1
            and not (root / ".git" / "HEAD.lock").exists()
        ),  # its fast-forward has finished too
        "T002 landed while its three siblings are held",
        proc=first,
    )
    trees = git(root, "worktree", "list", "--porcelain")
    assert all(f"/001-calc/{t}\n" in trees for t in ("T003", "T004", "T005")), trees
    first.kill_group()
    assert landed(root) == Counter({"T001": 1, "T002": 1})
    second = procs.sdd(root, "resume", "001", "--jobs", "4", "--model", f"scripted:{script(False)}")
    assert second.wait() == 0, second.output()
    assert landed(root) == Counter({t: 1 for t in ["T001", *ids]})
    assert_no_worktrees(root)
    started = Counter(calls.read_text().split())
    # the landed T002 is not redone; the three killed mid-attempt go on in their worktrees,
    # told that the held Bash call was cut short, and never run it again
    assert started == Counter({"T002": 1, "T003": 1, "T004": 1, "T005": 1})
    for t in ("T003", "T004", "T005"):
        log_file = root / ".sdd" / "transcripts" / "001-calc" / t / "attempt-1.jsonl"
        events = [json.loads(line) for line in log_file.read_text().splitlines() if line]
        kinds = [e["type"] for e in events]
        assert kinds.count("resumed") == 1, kinds
        told = next(e for e in events[kinds.index("resumed") :] if e["type"] == "tool")
        assert told["name"] == "Bash" and "interrupted" in told["result"], told


def wave_project(tmp_path: Path, hold: int) -> tuple[Path, Path, Path]:
    """T001, then a wave T002..T004 that meets at a barrier of `hold`, then T005."""
    wave = [f"T00{k} [P] Create out/T00{k}.txt" for k in (2, 3, 4)]
    tasks = tasks_md(*wave, after="T005 Create out/T005.txt")
    root = make_project(tmp_path, tasks, verify=["true"])
    log = tmp_path / "barrier.log"
    tasks = {"T001": [{"tools": [write("out/T001.txt", "1")]}, {"text": "done"}]}
    for t in ("T002", "T003", "T004"):
        tasks[t] = [{"tools": [barrier(log, t, hold), write(f"out/{t}.txt", t)]}, {"text": "ok"}]
    tasks["T005"] = [{"tools": [write("out/T005.txt", "5")]}, {"text": "done"}]
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"latency": 0.1, "tasks": tasks}))
    return root, log, script


def test_ctrl_c_once_mid_wave_lands_the_wave_then_pauses(tmp_path: Path, procs: Procs) -> None:
    root, log, script = wave_project(tmp_path, hold=3)
    proc = procs.sdd(root, "run", "001", "--jobs", "3", "--model", f"scripted:{script}")
    wait_until(lambda: log.exists() and len(log.read_text().split()) == 3, "the wave", proc=proc)
    proc.interrupt()
    assert proc.wait(timeout=60) == 130, proc.output()
    assert "Traceback" not in proc.stderr(), proc.output()
    assert landed(root) == Counter({t: 1 for t in ("T001", "T002", "T003", "T004")})
    assert "T005" not in proc.stdout(), "no task starts after Ctrl-C"
    assert_no_worktrees(root)
    again = procs.sdd(root, "resume", "001", "--jobs", "3", "--model", f"scripted:{script}")
    assert again.wait() == 0, again.output()
    assert landed(root) == Counter({f"T00{k}": 1 for k in range(1, 6)})


def test_ctrl_c_twice_mid_wave_abandons_it_cleanly(tmp_path: Path, procs: Procs) -> None:
    root, log, script = wave_project(tmp_path, hold=99)  # held until the barrier gives up
    proc = procs.sdd(root, "run", "001", "--jobs", "3", "--model", f"scripted:{script}")
    wait_until(lambda: log.exists() and len(log.read_text().split()) == 3, "the wave", proc=proc)
    proc.interrupt()
    wait_until(lambda: "Ctrl-C" in proc.stdout(), "the first Ctrl-C noted", proc=proc)
    proc.interrupt()
    assert proc.wait(timeout=60) == 130, proc.output()
    assert "Traceback" not in proc.stderr(), proc.output()
    assert landed(root) == Counter({"T001": 1}), "the wave stops, nothing of it lands"
    trees = git(root, "worktree", "list", "--porcelain")  # each attempt is kept in its own
    assert all(f"/001-calc/{t}\n" in trees for t in ("T002", "T003", "T004")), trees
    assert git(root, "status", "--porcelain") == ""
    again = procs.sdd(root, "resume", "001", "--jobs", "3", "--model", f"scripted:{script}")
    assert again.wait() == 0, again.output()
    assert landed(root) == Counter({f"T00{k}": 1 for k in range(1, 6)})
    assert_no_worktrees(root)
    assert len(log.read_text().split()) == 3  # no barrier ran twice: each attempt went on
    for t in ("T002", "T003", "T004"):
        assert f"{t} continues its interrupted attempt" in again.stdout(), again.output()


def test_kill_9_after_a_worktree_commit_lands_it_without_asking_again(
    tmp_path: Path, procs: Procs
) -> None:
    tasks = tasks_md("T002 [P] Create out/T002.txt", "T003 [P] Create out/T003.txt")
    root = make_project(tmp_path, tasks, verify=["true"])
    log, calls = tmp_path / "barrier.log", tmp_path / "calls.log"

    def turns(t: str, hold: int) -> list[dict]:
        first = [bash(f"echo {t} >> {shlex.quote(str(calls))}"), write(f"out/{t}.txt", t)]
        if t == "T002":  # the first in plan order is held: T003 waits, committed, to land
            first.append(barrier(log, t, hold))
        return [{"tools": first}, {"text": "done"}]

    def script(hold: int) -> Path:
        path = tmp_path / f"script-{hold}.yaml"
        tasks = {"T001": [{"tools": [write("out/T001.txt", "1")]}, {"text": "done"}]}
        tasks |= {t: turns(t, hold) for t in ("T002", "T003")}
        path.write_text(yaml.safe_dump({"tasks": tasks}))
        return path

    first = procs.sdd(root, "run", "001", "--jobs", "2", "--model", f"scripted:{script(99)}")
    tree = root / ".sdd" / "worktrees" / FEATURE / "T003"

    def committed() -> bool:  # the worktree may be half made: git may not read it yet
        if not tree.is_dir():
            return False
        said = subprocess.run(
            ["git", "log", "-1", "--format=%s"], cwd=tree, capture_output=True, text=True
        )
        return "verified change of T003" in said.stdout

    wait_until(
        committed,
        "T003 verified and committed in its worktree",
        proc=first,
    )
    first.kill_group()
    second = procs.sdd(root, "resume", "001", "--jobs", "2", "--model", f"scripted:{script(1)}")
    assert second.wait() == 0, second.output()
    assert "T003 continues its interrupted attempt" in second.stdout(), second.output()
    assert landed(root) == Counter({"T001": 1, "T002": 1, "T003": 1})
    assert_no_worktrees(root)
    assert Counter(calls.read_text().split()) == Counter({"T002": 1, "T003": 1})
    trace = root / ".sdd" / "transcripts" / FEATURE / "T003" / "attempt-1.jsonl"
    kinds = [json.loads(line)["type"] for line in trace.read_text().splitlines() if line]
    assert "assistant" not in kinds[kinds.index("resumed") :], kinds  # judged again, no turn


def test_worktrees_link_the_ignored_folders_verification_needs(tmp_path: Path) -> None:
    wave = ["T002 [P] Create out/a.txt", "T003 [P] Create out/b.txt"]
    tool = "#!/bin/sh\nexit 0\n"  # green at the base; lives in an ignored folder
    root = make_project(
        tmp_path,
        tasks_md(*wave, setup=False),
        {".gitignore": "__pycache__/\ntools/\n", "tools/check": tool},
        verify=["sh tools/check"],
        worktree_links=["tools", "node_modules"],  # node_modules is absent: skipped
    )
    script = {
        "tasks": {
            "T002": [{"tools": [write("out/a.txt", "a"), bash("ls tools/")]}, {"text": "a"}],
            "T003": [{"tools": [write("out/b.txt", "b")]}, {"text": "b"}],
        }
    }
    assert run(root, script, jobs=2) == ("finished", "")
    assert landed(root) == Counter({"T002": 1, "T003": 1})
    committed = git(root, "log", "--name-only", "--format=").split()
    assert not any(p.startswith("tools") for p in committed)
    assert (root / "tools" / "check").read_text() == tool  # the user's own folder untouched
    assert_no_worktrees(root)
