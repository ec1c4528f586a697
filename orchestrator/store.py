"""Run and task records, kept in tables of our own beside the LangGraph checkpoints.

Graph state holds only a cursor; everything that grows with the number of tasks lives here,
one row per task, so a checkpoint stays a few hundred bytes however large the feature is
(a per-task dict in graph state grows the checkpoint file as O(N^2)).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError
from orchestrator.storeurl import StoreUrl

_REMOTE = "remote TEXT NOT NULL DEFAULT ''"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sdd_runs (
    run_id TEXT PRIMARY KEY,
    feature TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    started REAL NOT NULL,
    updated REAL NOT NULL,
    remote TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sdd_runs_feature ON sdd_runs(feature, started);
CREATE TABLE IF NOT EXISTS sdd_tasks (
    feature TEXT NOT NULL,
    task_id TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    agent TEXT NOT NULL DEFAULT '',
    route_reason TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    commit_sha TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL DEFAULT 0,
    base TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (feature, task_id)
);
CREATE TABLE IF NOT EXISTS sdd_attempts (
    feature TEXT NOT NULL,
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    verify_output TEXT NOT NULL DEFAULT '',
    transcript TEXT NOT NULL DEFAULT '',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (feature, task_id, attempt)
);
CREATE TABLE IF NOT EXISTS sdd_expected_red (
    feature TEXT NOT NULL,
    test_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (feature, test_id)
);
"""


@dataclass(slots=True)
class RunRecord:
    run_id: str
    feature: str
    status: str  # running | paused | failed | finished
    reason: str = ""
    model: str = ""
    started: float = 0.0
    updated: float = 0.0
    remote: str = ""  # the git remote each landed commit is pushed to ("" = none)


@dataclass(slots=True)
class TaskRecord:
    feature: str
    task_id: str
    run_id: str = ""
    status: str = "pending"  # pending | running | landed | failed | skipped
    agent: str = ""
    route_reason: str = ""
    kind: str = ""  # change | check | already-landed
    attempts: int = 0
    commit_sha: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    seconds: float = 0.0
    message: str = ""
    updated: float = 0.0
    base: str = ""  # HEAD when the task started: what an interrupted attempt is reset to


@dataclass(slots=True)
class AttemptRecord:
    feature: str
    task_id: str
    attempt: int
    run_id: str
    outcome: str  # passed | failed | no-change | limit | error
    verify_output: str = ""
    transcript: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


_TASK_FIELDS = tuple(f.name for f in fields(TaskRecord))
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
_KEYS = {"sdd_tasks": ("feature", "task_id"), "sdd_attempts": ("feature", "task_id", "attempt")}


class Store:
    """The records over one DB-API connection: a SQLite file under `.sdd/` here, a shared
    Postgres database in `pgstore.py`, where every row also carries the repository's key.

    SQL is written once with `?` marks; a backend with another paramstyle rewrites them."""

    url: StoreUrl
    _conn: Any
    _scope: tuple[str, ...] = ()  # the repository key, in backends that hold many

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path, self.readonly = path, readonly
        self.url = StoreUrl("sqlite", f"sqlite:///{path}", path)
        self._newest = "rowid"
        try:
            if readonly:
                uri = f"{path.resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._conn.execute("SELECT count(*) FROM sdd_runs").fetchone()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against kill -9
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._conn.executescript(_SCHEMA)
            cols = {r[1] for r in self._conn.execute("PRAGMA table_info(sdd_runs)")}
            if "remote" not in cols and not readonly:  # a file from before `--push`
                self._conn.execute(
                    "ALTER TABLE sdd_runs ADD COLUMN remote TEXT NOT NULL DEFAULT ''"
                )
            self._run_cols = ", ".join(
                c if c in cols or not readonly else f"'' AS {c}" for c in _RUN_FIELDS
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a usable sdd state database ({exc})") from None

    @classmethod
    def open_readonly(cls, path: Path) -> Store | None:
        """For inspection commands: no file means no run yet; nothing is created or changed."""
        return cls(path, readonly=True) if path.exists() else None

    def close(self) -> None:
        self._conn.close()

    def thread_id(self, run: RunRecord) -> str:
        """The checkpoint thread of a run; unique in whatever the checkpointer shares."""
        return run.run_id

    def lock_run(self, feature: str) -> Any:
        """A lock held until the result is closed, for stores other machines share; None here:
        a SQLite file serves one clone, whose file lock under `.sdd/locks/` already holds."""
        return None

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._conn.execute(sql, params)

    def _where(self, *cols: str) -> str:
        """`repo = ? AND feature = ? ...`: the key columns, the repository's first if any."""
        return " AND ".join(f"{c} = ?" for c in (*(("repo",) if self._scope else ()), *cols))

    # runs ---------------------------------------------------------------------------------

    def latest_run(self, feature: str) -> RunRecord | None:
        row = self._exec(
            f"SELECT {self._run_cols} FROM sdd_runs WHERE {self._where('feature')}"
            f" ORDER BY started DESC, {self._newest} DESC LIMIT 1",
            (*self._scope, feature),
        ).fetchone()
        return RunRecord(*row) if row else None

    def new_run(self, feature: str, model: str, remote: str = "") -> RunRecord:
        now = time.time()
        run = RunRecord(uuid.uuid4().hex[:12], feature, "running", "", model, now, now, remote)
        self._insert("sdd_runs", asdict(run))
        return run

    def set_run_status(self, run_id: str, status: str, reason: str = "") -> None:
        with self._tx() as c:
            c._exec(
                f"UPDATE sdd_runs SET status = ?, reason = ?, updated = ?"
                f" WHERE {self._where('run_id')}",
                (status, reason, time.time(), *self._scope, run_id),
            )

    def set_run_remote(self, run_id: str, remote: str) -> None:
        """The git remote the run pushes to; a resume elsewhere fetches from it first."""
        with self._tx() as c:
            c._exec(
                f"UPDATE sdd_runs SET remote = ? WHERE {self._where('run_id')}",
                (remote, *self._scope, run_id),
            )

    # tasks --------------------------------------------------------------------------------

    def tasks(self, feature: str) -> dict[str, TaskRecord]:
        cols = ", ".join(_TASK_FIELDS)
        rows = self._exec(
            f"SELECT {cols} FROM sdd_tasks WHERE {self._where('feature')}",
            (*self._scope, feature),
        )
        return {r[1]: TaskRecord(*r) for r in rows}

    def task(self, feature: str, task_id: str) -> TaskRecord | None:
        cols = ", ".join(_TASK_FIELDS)
        row = self._exec(
            f"SELECT {cols} FROM sdd_tasks WHERE {self._where('feature', 'task_id')}",
            (*self._scope, feature, task_id),
        ).fetchone()
        return TaskRecord(*row) if row else None

    def save_task(self, record: TaskRecord) -> None:
        record.updated = time.time()
        self._insert("sdd_tasks", asdict(record))

    def _insert(self, table: str, values: dict[str, object]) -> None:
        """Insert, or replace the row with the same key (SQLite and Postgres spell it alike)."""
        scoped = {"repo": self._scope[0]} | values if self._scope else values
        cols = ", ".join(scoped)
        marks = ", ".join("?" for _ in scoped)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        if table in _KEYS:
            key = ("repo", *_KEYS[table]) if self._scope else _KEYS[table]
            sets = ", ".join(f"{c} = excluded.{c}" for c in scoped if c not in key)
            sql += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
        with self._tx() as c:
            c._exec(sql, tuple(scoped.values()))

    # attempts -----------------------------------------------------------------------------

    def add_attempt(self, record: AttemptRecord) -> None:
        self._insert("sdd_attempts", asdict(record))

    def attempts(self, feature: str, task_id: str) -> list[AttemptRecord]:
        cols = ", ".join(f.name for f in fields(AttemptRecord))
        rows = self._exec(
            f"SELECT {cols} FROM sdd_attempts WHERE {self._where('feature', 'task_id')}"
            " ORDER BY attempt",
            (*self._scope, feature, task_id),
        )
        return [AttemptRecord(*r) for r in rows]

    # expected-red tests (TDD) -------------------------------------------------------------

    def expected_red(self, feature: str) -> dict[str, str]:
        rows = self._exec(
            f"SELECT test_id, task_id FROM sdd_expected_red WHERE {self._where('feature')}",
            (*self._scope, feature),
        )
        return dict(rows.fetchall())

    def set_expected_red(self, feature: str, tests: dict[str, str]) -> None:
        """Replace the set: tests that went green leave it, new red tests of a test task join."""
        cols = "repo, feature, test_id, task_id" if self._scope else "feature, test_id, task_id"
        marks = ", ".join("?" for _ in cols.split(", "))
        with self._tx() as c:
            c._exec(
                f"DELETE FROM sdd_expected_red WHERE {self._where('feature')}",
                (*self._scope, feature),
            )
            for test, task in sorted(tests.items()):
                c._exec(
                    f"INSERT INTO sdd_expected_red ({cols}) VALUES ({marks})",
                    (*self._scope, feature, test, task),
                )


def dump_json(value: object) -> str:
    """Stable JSON for records and transcripts (sorted keys keep diffs and hashes steady)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
