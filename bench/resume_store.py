"""`bench_resume.py`'s measures of the store: bytes per turn against the turn's message bytes
(the journal's steps and the files their trees name), the same for Edits of one line in a
large file, and how `sdd status` and reading a conversation back fare with 1,000 more turns.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from support.stored import rows as stored_rows

from orchestrator.store.packing import History

if TYPE_CHECKING:
    from orchestrator.store.store import Store

ROOT = Path(__file__).resolve().parents[1]
FEATURE = "001-store"  # of the stores built here


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def journal_size(root: Path) -> tuple[list[float], int]:
    """Each turn's stored bytes (its steps' rows, and the rows of the files its steps' trees
    name first, those still kept: a task's are dropped once it lands) over its message bytes,
    and the turns."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    has_blobs = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sdd_blobs'").fetchone()
    blobs = {
        (task, digest): len(task) + len(digest) + len(parent) + len(data)
        for task, digest, parent, data in (
            db.execute("SELECT task_id, digest, parent, data FROM sdd_blobs") if has_blobs else []
        )
    }
    db.close()
    ratios: list[float] = []
    stored = message = 0
    for r in stored_rows(root / ".sdd" / "state.sqlite"):
        task, kind, data, row = r.task, r.kind, r.text, r.size
        for digest in json.loads(data).get("tree", {}).values():
            row += blobs.pop((task, digest), 0)  # counted once, where first named
        if kind == "assistant":
            if message:
                ratios.append(stored / message)
            step = json.loads(data)
            stored, message = (
                row,
                len(json.dumps({"role": "assistant", "content": step["content"]})),
            )
        elif kind in ("call", "result") and message:
            stored += row
            if kind == "result":
                step = json.loads(data)
                block = {
                    "type": "tool_result",
                    "tool_use_id": step["id"],
                    "content": step["content"],
                    "is_error": step["is_error"],
                }
                message += len(json.dumps(block))
    if message:
        ratios.append(stored / message)
    return ratios, len(ratios)


def status_seconds(root: Path, other: Path) -> tuple[float, float]:
    """`sdd status --json` as a whole process in `root` and in `other`, taking turns so load
    from elsewhere falls on both alike: the median of 7 each."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times: dict[Path, list[float]] = {root: [], other: []}
    for _ in range(7):
        for where in (root, other):
            t = time.perf_counter()
            argv = [sys.executable, "-m", "orchestrator.cli", "status", "001", "--json"]
            subprocess.run(argv, cwd=where, env=env, check=True, capture_output=True)
            times[where].append(time.perf_counter() - t)
    return statistics.median(times[root]), statistics.median(times[other])


def stuff(root: Path, feature: str, n_turns: int) -> None:
    """`n_turns` more stored turns (finished conversations of a task) in the run's store."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    step = json.dumps(
        {
            "content": [{"type": "text", "text": "x" * 400}],
            "stop_reason": "end_turn",
            "usage": [1, 1, 0, 0],
        }
    )
    db.executemany(
        "INSERT INTO sdd_turns (feature, task_id, convo, seq, kind, data) VALUES (?,?,?,?,?,?)",
        [(feature, "T001", 100 + k // 10, k % 10, "assistant", step) for k in range(n_turns)],
    )
    db.commit()
    db.close()


def put(store: Store, history: History | None, task: str, seq: int, kind: str, data: str) -> None:
    """One step stored as the journal stores it, compressed against the steps before it;
    plain JSON without a `history` (as stores kept it before)."""
    if history is None:
        store.add_step(FEATURE, task, 1, seq, kind, data)
        return
    store.add_step(FEATURE, task, 1, seq, kind, "", history.pack(data))
    history.add(data)


def read_turn(
    store: Store, history: History | None, task: str, seq: int, call_id: str, text: str = ""
) -> None:
    """One model turn that Reads a file, and its result, as steps `seq` and `seq + 1`."""
    call = {"type": "tool_use", "id": call_id, "name": "Read", "input": {"file_path": "a"}}
    content = [{"type": "text", "text": text}, call] if text else [call]
    turn = {"content": content, "stop_reason": "tool_use", "usage": [1, 1, 0, 0]}
    put(store, history, task, seq, "assistant", json.dumps(turn))
    result = {"id": call_id, "content": "y" * 300, "is_error": False}
    put(store, history, task, seq + 1, "result", json.dumps(result))


def startup(n_turns: int) -> float:
    """Reading one conversation back (store query + JSON) with `n_turns` other turns stored."""
    from orchestrator.agent.journal import replay
    from orchestrator.run.journal import open_conversation
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        histories: dict[str, History] = {}
        for k in range(n_turns):  # other tasks' finished conversations
            task = f"T{k // 10:04d}"
            history = histories.setdefault(task, History())
            read_turn(store, history, task, 2 * (k % 10), "t", text="x" * 200)
        store.add_step(FEATURE, "T9999", 1, 0, "begin", json.dumps({"base": "abc"}))
        store.add_step(FEATURE, "T9999", 1, 1, "attempt", json.dumps({"n": 1, "first": "go"}))
        times = []
        for _ in range(20):
            t = time.perf_counter()
            found = open_conversation(store, FEATURE, "T9999")
            assert found is not None
            replay(found.steps, "go")
            times.append(time.perf_counter() - t)
        store.close()
        return statistics.median(times)


def replay_seconds(n_turns: int, packed: bool = True) -> float:
    """Reading back and replaying one conversation of `n_turns` turns (the median of 5),
    its steps stored compressed or, with `packed` false, as plain JSON."""
    from orchestrator.agent.journal import replay
    from orchestrator.run.journal import open_conversation
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        history = History() if packed else None
        put(store, history, "T1", 0, "begin", json.dumps({"base": "abc"}))
        put(store, history, "T1", 1, "attempt", json.dumps({"n": 1, "first": "go"}))
        for k in range(n_turns):
            read_turn(store, history, "T1", 2 + 2 * k, f"t{k}")
        times = []
        for _ in range(5):
            t = time.perf_counter()
            found = open_conversation(store, FEATURE, "T1")
            assert found is not None
            assert replay(found.steps, "go").turns == n_turns
            times.append(time.perf_counter() - t)
        store.close()
        return statistics.median(times)


def big_edits(edits: int = 10, lines: int = 2_500) -> tuple[float, float, float, float]:
    """Edits of one line each in a ~100 KB file, through the journal into a SQLite store;
    bytes per turn: the messages, the steps alone, the steps and the kept files, and the steps
    with each step's file kept compressed whole instead of as its change."""
    import zlib

    from orchestrator.git.repo import GitRepo
    from orchestrator.run.journal import StoreJournal
    from orchestrator.run.workspace import Workspace
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        big = root / "module.py"
        body = (f"def f{k}(x):\n    return x * {k} + {k % 7}\n" for k in range(lines))
        big.write_text("".join(body))
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "init")
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        ws = Workspace(root, GitRepo(root), "tasks.md")
        journal = StoreJournal(store, FEATURE, "T1", ws, GitRepo(root).head(), ())
        message = whole = 0
        for k in range(edits):
            old, new = f"return x * {k * 200} +", f"return x * {k * 200} - 1 +"
            edit = {"file_path": "module.py", "old_string": old, "new_string": new}
            call = {"type": "tool_use", "id": f"t{k}", "name": "Edit", "input": edit}
            turn = {"content": [call], "stop_reason": "tool_use", "usage": [1, 1, 0, 0]}
            journal.add("assistant", turn)
            journal.add("call", {"id": f"t{k}"})
            big.write_text(big.read_text().replace(old, new, 1))
            result = {"id": f"t{k}", "content": "Edited module.py.", "is_error": False}
            journal.add("result", {**result, "wrote": True})
            block = {"type": "tool_result", "tool_use_id": f"t{k}", **result}
            block.pop("id")
            message += len(json.dumps({"role": "assistant", "content": [call]}))
            message += len(json.dumps(block))
            whole += len(zlib.compress(big.read_bytes(), 6))
        store.close()
        steps = sum(r.size for r in stored_rows(Path(tmp) / "state.sqlite") if r.kind != "begin")
        db = sqlite3.connect(Path(tmp) / "state.sqlite")
        kept = db.execute("SELECT task_id, digest, parent, data FROM sdd_blobs")
        blobs = sum(len(t) + len(g) + len(p) + len(d) for t, g, p, d in kept)
        db.close()
        return message / edits, steps / edits, (steps + blobs) / edits, (steps + whole) / edits


def kept_after_landing(n_tasks: int = 20, edits: int = 4) -> dict[str, int]:
    """A feature of `n_tasks` tasks through the journal into a SQLite store: each task writes
    a new ~4 KB module, edits it `edits` times and edits a shared ~100 KB file once, then
    lands (a commit; its conversation ends). The bytes the store's rows hold afterwards
    (steps, kept files, the most kept while a task ran) and the database's pages in use
    (the file's size once its write-ahead log is checkpointed; freed pages are reused)."""
    from orchestrator.git.repo import GitRepo
    from orchestrator.run.journal import StoreJournal
    from orchestrator.run.workspace import Workspace
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    def blob_bytes(db: sqlite3.Connection) -> int:
        rows = db.execute("SELECT task_id, digest, parent, data FROM sdd_blobs")
        return sum(len(t) + len(g) + len(p) + len(d) for t, g, p, d in rows)

    with tempfile.TemporaryDirectory() as tmp:
        root, path = Path(tmp) / "repo", Path(tmp) / "state.sqlite"
        root.mkdir()
        shared = root / "shared.py"
        shared.write_text("".join(f"def f{k}(x):\n    return x + {k}\n" for k in range(3_000)))
        git(root, "init", "-q", "-b", "main")
        commit = ["-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m"]
        git(root, "add", "-A")
        git(root, *commit, "init")
        store, peak = Store(SqliteBackend(path)), 0
        ws = Workspace(root, GitRepo(root), "tasks.md")
        db = sqlite3.connect(path)
        for t in range(n_tasks):
            journal = StoreJournal(store, FEATURE, f"T{t:03d}", ws, GitRepo(root).head(), ())
            module = root / f"mod{t}.py"
            body = [f"def g{k}(y):\n    return y * {k} - {t}\n" for k in range(100)]
            for k in range(edits + 2):
                if k == edits + 1:
                    text = shared.read_text()
                    shared.write_text(text.replace(f"x + {t}\n", f"x + {t} + 1\n", 1))
                elif k:
                    body[k * 7] = body[k * 7].replace("return", "return -")
                module.write_text("".join(body))
                journal.add("assistant", {"content": [{"type": "text", "text": "ok"}]})
                journal.add("result", {"id": f"c{k}", "content": "done", "wrote": True})
            peak = max(peak, blob_bytes(db))
            git(root, "add", "-A")
            git(root, *commit, f"T{t:03d}")
            journal.end("landed")
        store.close()
        turns = sum(r.size for r in stored_rows(path))
        (n_blobs,) = db.execute("SELECT count(*) FROM sdd_blobs").fetchone()
        kept = blob_bytes(db)
        (pages,), (free,), (size,) = (
            db.execute(f"PRAGMA {p}").fetchone()
            for p in ("page_count", "freelist_count", "page_size")
        )
        db.close()
        return {
            "turns": turns,
            "blobs": kept,
            "blob_rows": int(n_blobs),
            "peak": peak,
            "in_use": (int(pages) - int(free)) * int(size),
        }


def print_kept_after_landing(n_tasks: int = 20) -> None:
    got = kept_after_landing(n_tasks)
    print(
        f"a feature of {n_tasks} landed tasks: steps {got['turns']:,} B, kept files "
        f"{got['blobs']:,} B in {got['blob_rows']} rows (at most {got['peak']:,} B while a "
        f"task ran); database pages in use {got['in_use']:,} B"
    )


def storage_and_status(root: Path, feature: str) -> None:
    """The reference run's bytes per turn, and `sdd status` with 1,000 more turns stored."""
    ratios, n = journal_size(root)
    print(
        f"journal: {n} turns, stored/message bytes per turn (steps; each task's kept files "
        f"are dropped once it lands): max {max(ratios):.2f}, median {statistics.median(ratios):.2f}"
    )
    stuffed = root.parent / "stuffed" / "repo"
    shutil.copytree(root, stuffed, symlinks=True)
    stuff(stuffed, feature, 1000)
    before, after = status_seconds(root, stuffed)
    print(f"sdd status --json: {before:.3f} s, with 1,000 more turns stored {after:.3f} s")


if __name__ == "__main__":  # the kept files' figure alone; PYTHONPATH: a commit's tree, tests/
    print_kept_after_landing(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
