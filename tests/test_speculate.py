"""Speculative landing: a wave's waiting changes are verified as the trees they make together
(head+A, head+A+B, ...), at once, and land up to the first that fails.

The verify command itself is the witness: it appends the tree it sees (the files under `out/`)
to a log, with the time it started and ended, so the test knows which trees were verified, and
whether those verifications overlapped, without timing anything.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from pathlib import Path

import pytest
from support.records import sqlite_store
from support.repo import git
from test_anthropic_run import sdd
from test_waves import (
    PLUGINS_TEST,
    assert_no_worktrees,
    barrier,
    bash,
    landed,
    make_project,
    run,
    subjects,
    tasks_md,
    write,
)

from orchestrator.run.speculate import independent
from orchestrator.views.progress import duration_text

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses


def witness(log: Path) -> list[str]:
    """A verify command that logs `start|end <files under out/>` around a short sleep."""
    q = shlex.quote(str(log))
    seen = "$(ls out 2>/dev/null | grep -v seen | sort | tr '\\n' ' ')"
    return [f'sh -c "echo start {seen} >> {q}; sleep 0.3; echo end {seen} >> {q}"']


def trees(log: Path) -> list[str]:
    return [line[4:].strip() for line in log.read_text().splitlines() if line.startswith("end")]


def most_at_once(log: Path) -> int:
    now = top = 0
    for line in log.read_text().splitlines():
        now += 1 if line.startswith("start") else -1
        top = max(top, now)
    return top


def landed_trees(root: Path) -> list[str]:
    """The files under out/ (no barrier records) at each landed commit, oldest first."""
    shas = git(root, "log", "--reverse", "--format=%H", "--grep=^Sdd-Task:").split()
    out = []
    for sha in shas:
        names = git(root, "ls-tree", "--name-only", f"{sha}:out").split()
        out.append(" ".join(sorted(n for n in names if not n.endswith(".seen"))))
    return out


def wave_script(log: Path, ids: list[str]) -> dict:
    return {
        "tasks": {
            t: [{"tools": [barrier(log, t, len(ids)), write(f"out/{t}.txt", t)]}, {"text": t}]
            for t in ids
        }
    }


def test_waiting_changes_are_verified_together_and_every_landed_tree_was_verified(
    tmp_path: Path,
) -> None:
    ids = ["T002", "T003", "T004", "T005"]
    log = tmp_path / "verified.log"
    root = make_project(
        tmp_path, tasks_md(*[f"{t} [P] Create out/{t}.txt" for t in ids]), verify=witness(log)
    )
    script = wave_script(tmp_path / "barrier.log", ids)
    script["tasks"]["T001"] = [{"tools": [write("out/T001.txt", "1\n")]}, {"text": "done"}]
    assert run(root, script, jobs=4) == ("finished", "")
    assert subjects(root) == ["T001", *ids]
    assert landed(root) == Counter({t: 1 for t in ["T001", *ids]})
    verified = set(trees(log))
    for tree in landed_trees(root):  # each landed tree, as it is, passed verification
        assert tree in verified, (tree, sorted(verified))
    # the cumulative trees of the wave were verified at the same time, not one by one
    cumulative = [t for t in trees(log) if t.count(".txt") >= 3]
    assert len(cumulative) >= 2, trees(log)
    assert most_at_once(log) >= 2
    for t in ids:  # no agent worked twice
        assert len(sqlite_store(root / ".sdd" / "state.sqlite").attempts("001-calc", t)) == 1
    assert_no_worktrees(root)
    # each task's verification time: 0.3 s in its worktree, as much again on the trees before it
    log_rows = {r["task"]: r for r in json.loads(sdd(root, "log", "001", "--json").stdout)}
    status = json.loads(sdd(root, "status", "001", "--json").stdout)
    records = sqlite_store(root / ".sdd" / "state.sqlite").tasks("001-calc")
    for t in ["T001", *ids]:
        again = sum(1 for tree in trees(log) if tree.endswith(f"{t}.txt")) - 1
        assert records[t].verify_seconds >= 0.3 * (1 + again) > 0, (t, again)
        assert records[t].verify_seconds <= records[t].seconds + 0.3 * again + 1
        assert log_rows[t]["verify_seconds"] == records[t].verify_seconds
        row = next(r for r in status["tasks"] if r["task"] == t)
        assert row["verify_seconds"] == records[t].verify_seconds
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COLUMNS", "140")  # where the table has room for the verification's time
        shown = " ".join(sdd(root, "log", "001").stdout.split())
    assert f"({duration_text(records['T002'].verify_seconds)})" in shown


def test_from_the_first_failure_on_the_rest_is_verified_again_on_the_new_head(
    tmp_path: Path,
) -> None:
    wave = [
        "T002 [P] Add plugin a",
        "T003 [P] Add plugin b and list it in tests/test_plugins.py",
        "T004 [P] Create out/c.txt",
    ]
    root = make_project(tmp_path, tasks_md(*wave, setup=False))
    gate = tmp_path / "barrier.log"
    script = {
        "tasks": {
            "T002": [
                {
                    "tools": [
                        barrier(gate, "T002", 3),
                        write("plugins/a.py", "A = 1\n"),
                        write("tests/test_plugins.py", PLUGINS_TEST.format(expected=["a.py"])),
                    ]
                },
                {"text": "a"},
            ],
            "T003": [  # passes alone, fails on head+T002, then fixes the plugin test
                {"tools": [barrier(gate, "T003", 3), write("plugins/b.py", "B = 1\n")]},
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
            "T004": [  # its tree head+T002+T003 fails with T003's change: tried again
                {"tools": [barrier(gate, "T004", 2), write("out/c.txt", "c\n")]},
                {"text": "c"},
            ],
        }
    }
    assert run(root, script, jobs=3) == ("finished", "")
    assert subjects(root) == ["T002", "T004", "T003"]  # T003 redone alone after the wave
    assert landed(root) == Counter({"T002": 1, "T003": 1, "T004": 1})
    store = sqlite_store(root / ".sdd" / "state.sqlite")
    assert len(store.attempts("001-calc", "T004")) == 1  # landed without its agent again
    assert [a.outcome for a in store.attempts("001-calc", "T003")] == ["passed", "failed", "passed"]
    t004 = git(root, "log", "--format=%H", "--grep=^Sdd-Task: T004$").strip()
    assert git(root, "ls-tree", "--name-only", t004, "plugins/").split() == ["plugins/a.py"]
    assert_no_worktrees(root)


@pytest.mark.parametrize("reverify", ["always", "auto"])
def test_reverify_auto_lands_independent_changes_on_their_own_verification(
    tmp_path: Path, reverify: str
) -> None:
    ids = ["T002", "T003", "T004", "T005"]
    log = tmp_path / "verified.log"
    root = make_project(
        tmp_path,
        tasks_md(*[f"{t} [P] Create out/{t}.txt" for t in ids], setup=False),
        verify=witness(log),
        reverify=reverify,
    )
    assert run(root, wave_script(tmp_path / "barrier.log", ids), jobs=4) == ("finished", "")
    assert subjects(root) == ids
    runs = trees(log)
    # the base, and each task in its worktree; then `always` verifies each later tree of the
    # wave again; `auto` lands T003 and T004 as they are, and verifies only T005, the phase's
    # end (always verified), on the head they left
    assert runs[:5].count("") == 1 and len(set(runs[:5])) == 5, runs
    if reverify == "always":
        assert len(runs) == 5 + 3, runs
        assert set(landed_trees(root)) <= set(runs)
    else:
        assert len(runs) == 5 + 1, runs
        assert "T002.txt T003.txt" not in runs  # T002+T003 never verified as a whole
        assert runs[-1] == "T002.txt T003.txt T004.txt T005.txt"


def test_a_change_is_independent_only_of_other_files_and_no_shared_test_setup() -> None:
    assert independent(["app/a.py"], ["app/b.py", "docs/b.md"])
    assert not independent(["app/a.py"], ["app/a.py"])
    assert not independent(["app/a.py"], ["tests/test_b.py"])  # a test may import a.py
    assert not independent(["tests/test_a.py"], ["app/b.py"])
    for config in ("conftest.py", "pyproject.toml", "requirements-dev.txt", "package.json"):
        assert not independent(["app/a.py"], [config]), config


BOTH = "ITEMS = ['alpha', 'beta']\n"


def test_a_change_that_does_not_apply_ends_the_chain_and_the_rest_land_after_it(
    tmp_path: Path,
) -> None:
    # T002 and T003 both edit registry.py without naming it: one wave, and a conflict
    wave = ["T002 [P] Register alpha", "T003 [P] Register beta", "T004 [P] Create out/c.txt"]
    log = tmp_path / "verified.log"
    root = make_project(
        tmp_path, tasks_md(*wave, setup=False), {"registry.py": "ITEMS = []\n"}, verify=witness(log)
    )
    gate = tmp_path / "barrier.log"
    script = {
        "tasks": {
            "T002": [
                {"tools": [barrier(gate, "T002", 2), write("registry.py", "ITEMS = ['alpha']\n")]},
                {"text": "a"},
            ],
            "T003": [  # conflicts with T002's line; done again alone, the same edit lands
                {"tools": [bash(f"cat {gate} > /dev/null"), write("registry.py", BOTH)]},
                {"text": "b"},
            ],
            "T004": [
                {"tools": [barrier(gate, "T004", 2), write("out/c.txt", "c\n")]},
                {"text": "c"},
            ],
        }
    }
    assert run(root, script, jobs=3) == ("finished", "")
    assert subjects(root) == ["T002", "T004", "T003"]
    assert (root / "registry.py").read_text() == BOTH
    store = sqlite_store(root / ".sdd" / "state.sqlite")
    assert len(store.attempts("001-calc", "T004")) == 1
    assert len(store.attempts("001-calc", "T003")) == 2  # its worktree, then alone on the head
    verified = set(trees(log))
    assert set(landed_trees(root)) <= verified
    assert_no_worktrees(root)
