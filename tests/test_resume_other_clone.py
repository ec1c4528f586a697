"""A conversation cut short on one machine goes on on another: two clones of one bare
repository stand for the machines (their folders differ, so does `where`), one store (a
SQLite file outside both, or a Postgres database) is shared. Clone A runs with `--push` over
the real anthropic SDK against the loopback Messages API server and is killed with SIGKILL
after T003 wrote its file and made it executable; clone B pulls what A pushed and resumes. B
writes T003's file back from the store, mode included, and continues the conversation: at
most one request more than an uninterrupted run, and the same commits (tree and trailers).
Once every conversation has ended, the store keeps no file for one. A clone with a change of
its own to T003's file starts T003 over and says why (a store that lost a file does too:
`test_treefiles.py`)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from support.messages_server import MessagesServer
from support.repo import git
from support.runproc import Procs, wait_until
from test_resume_turns import IDS, KEY, MODEL, Agent, make_project, turns
from test_waves import barrier, bash, tasks_md, write
from test_waves import make_project as make_wave_project

pytestmark = pytest.mark.slow

T003_BASH = 12  # T003's second request (its Bash turn): its Write is then recorded


def script_of(log: Path) -> dict[str, list[list[dict[str, Any]]]]:
    """Each task's turns; T003's Bash call also makes its file executable."""
    script = {t: turns(t, log) for t in IDS}
    script["T003"][1][0]["input"]["command"] += " && chmod +x src/t003.txt"
    return script


def kept_files(store: str, db: Path) -> int:
    """How many files the shared store keeps for conversations."""
    if store.startswith("sqlite"):
        with closing(sqlite3.connect(db)) as lite:
            return int(lite.execute("SELECT count(*) FROM sdd_blobs").fetchone()[0])
    with psycopg.connect(store) as pg:
        return int(pg.execute("SELECT count(*) FROM sdd_blobs").fetchone()[0])


def clone(origin: Path, where: Path) -> Path:
    git(where.parent, "clone", "-q", str(origin), where.name)
    git(where, "config", "user.name", "Test User")
    git(where, "config", "user.email", "user@example.invalid")
    return where


def commits(root: Path) -> list[tuple[str, str]]:
    """(tree, trailers but the run's id) of each landed commit, oldest first."""
    out = git(root, "log", "--reverse", "--format=%T%x00%(trailers:only,unfold)%x01")
    landed = []
    for entry in out.split("\x01"):
        if "\x00" in entry:
            tree, trailers = entry.strip().split("\x00")
            kept = [t for t in trailers.splitlines() if t and not t.startswith("Sdd-Run:")]
            landed.append((tree, "\n".join(kept)))
    return landed


def run(procs: Procs, root: Path, *args: str) -> str:
    proc = procs.sdd(root, *args)
    assert proc.wait(timeout=120) == 0, proc.output()
    return " ".join(proc.output().split())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """The commits an uninterrupted run lands (the projects are built alike, so are these)."""
    tmp = tmp_path_factory.mktemp("reference")
    root, procs = make_project(tmp / "ref"), Procs(tmp / "logs")
    monkeypatch = pytest.MonkeyPatch()
    script = script_of(tmp / "bash.log")
    try:
        with MessagesServer(handler=(agent := Agent(script))) as server:
            monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
            monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
            run(procs, root, "run", "001", "--model", MODEL, "--store", f"sqlite:///{tmp}/r.db")
    finally:
        monkeypatch.undo()
        procs.close()
    assert agent.served == sum(len(s) for s in script.values())
    return commits(root)


@pytest.mark.parametrize(
    ("backend", "case"),
    [
        ("sqlite", "continues"),
        ("sqlite", "own change"),
        ("postgres", "continues"),
    ],
)
def test_killed_in_clone_a_resumed_in_clone_b(
    tmp_path: Path,
    procs: Procs,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    reference: list[tuple[str, str]],
    backend: str,
    case: str,
) -> None:
    seed = make_project(tmp_path / "seed")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    a, b = (clone(origin, tmp_path / name) for name in ("a", "b"))
    db = tmp_path / "shared.sqlite"
    store = f"sqlite:///{db}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    log = tmp_path / "bash.log"
    script = script_of(log)
    expected = sum(len(s) for s in script.values())
    with MessagesServer(handler=(agent := Agent(script))) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        proc_a = procs.sdd(a, "run", "001", "--model", MODEL, "--store", store, "--push", "origin")
        wait_until(lambda: agent.served >= T003_BASH + 1, "T003's third request", proc=proc_a)
        proc_a.kill_group()
        assert (a / "src" / "t003.txt").read_text() == "T003 one\n", "A wrote T003's file"
        assert (a / "src" / "t003.txt").stat().st_mode & 0o100, "and made it executable"
        assert kept_files(store, db) > 0
        git(b, "pull", "-q", "--ff-only", "origin", "main")
        resume = ["resume", "001", "--model", MODEL, "--store", store]
        if case == "own change":  # of T003's own file: a commit touching none would not stop it
            (b / "src" / "t003.txt").write_text("mine\n")
            resume.append("--commit-dirty")
        said = run(procs, b, *resume)
    if case == "continues":
        assert "T003: wrote back its 1 file from the store (recorded in " in said, said
        assert f":{a.resolve()})" in said, said
        assert "T003 continues its interrupted attempt after turn 2" in said, said
        assert agent.served <= expected + 1, (agent.served, expected)
        assert commits(b) == reference, "the same commits land, tree and trailers"
        t003 = git(b, "log", "--format=%H", "--grep=^Sdd-Task: T003$").split()[0]
        assert git(b, "ls-tree", t003, "src/t003.txt").startswith("100755 "), "mode kept"
        assert log.read_text().split().count("T003") == 1, "A's Bash call is not run again"
    else:
        assert "T003 starts over: its base was" in said, said
        assert "committed your uncommitted changes as" in said, said
    landed = git(b, "log", "--format=%(trailers:key=Sdd-Task,valueonly)").split()
    assert sorted(landed) == IDS and len(landed) == len(IDS)
    assert git(b, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(origin, "rev-parse", "main") == git(b, "rev-parse", "HEAD"), "B pushed its landings"
    assert kept_files(store, db) == 0, "every conversation ended: no file is kept for one"


def test_a_wave_killed_in_clone_a_goes_on_in_clone_b(tmp_path: Path, procs: Procs) -> None:
    """With `--jobs`, each task of the wave had its own worktree in A: B makes it again at the
    task's base, writes back what the task had written, and the conversation goes on there."""
    ids = ("T002", "T003", "T004")
    tasks = tasks_md(*[f"{t} [P] Create out/{t}.txt" for t in ids])
    seed = make_wave_project(tmp_path / "seed", tasks, verify=["true"])
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    log, calls = tmp_path / "barrier.log", tmp_path / "calls.log"

    def turns(t: str) -> list[dict[str, object]]:
        first = [write(f"out/{t}.txt", f"{t} one\n"), bash(f"echo {t} >> {calls}")]
        edit = {"file_path": f"out/{t}.txt", "old_string": "one", "new_string": "two"}
        return [
            {"tools": [*first, barrier(log, t, 99)]},  # held in the barrier until the kill
            {"tools": [{"Edit": edit}]},
            {"text": "done"},
        ]

    script = tmp_path / "script.yaml"
    plan = {"T001": [{"tools": [write("out/T001.txt", "1")]}, {"text": "done"}]}
    script.write_text(yaml.safe_dump({"tasks": plan | {t: turns(t) for t in ids}}))
    store = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    model = f"scripted:{script}"
    proc_a = procs.sdd(a, "run", "001", "--jobs", "3", "--model", model, "--store", store,
                       "--push", "origin")  # fmt: skip
    wait_until(lambda: log.exists() and len(log.read_text().split()) == 3, "the wave", proc=proc_a)
    proc_a.kill_group()
    git(b, "pull", "-q", "--ff-only", "origin", "main")
    said = run(procs, b, "resume", "001", "--jobs", "3", "--model", model, "--store", store)
    for t in ids:
        assert f"{t}: wrote back its 1 file from the store" in said, said
        assert f"{t} continues its interrupted attempt after turn 1" in said, said
        sha = git(b, "log", "--format=%H", f"--grep=^Sdd-Task: {t}$").split()[0]
        assert git(b, "show", f"{sha}:out/{t}.txt") == f"{t} two\n"
    assert Counter(calls.read_text().split()) == Counter(ids), "no call of A's runs again"
    assert git(b, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(b, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert kept_files(store, tmp_path / "shared.sqlite") == 0
