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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from orchestrator.errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sdd_runs (
    run_id TEXT PRIMARY KEY,
    feature TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    started REAL NOT NULL,
    updated REAL NOT NULL
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


@dataclass(slots=True)
class Store:
    """One SQLite file under `.sdd/`; the checkpointer shares it through its own connection."""

    path: Path
    readonly: bool = False
    _conn: sqlite3.Connection = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            if self.readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._conn.execute("PRAGMA busy_timeout=5000")
                self._conn.execute("SELECT count(*) FROM sdd_runs").fetchone()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against kill -9
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path} is not a usable sdd state database ({exc})") from None

    @classmethod
    def open_readonly(cls, path: Path) -> Store | None:
        """For inspection commands: no file means no run yet; nothing is created or changed."""
        return cls(path, readonly=True) if path.exists() else None

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # runs ---------------------------------------------------------------------------------

    def latest_run(self, feature: str) -> RunRecord | None:
        row = self._conn.execute(
            "SELECT run_id, feature, status, reason, model, started, updated FROM sdd_runs"
            " WHERE feature = ? ORDER BY started DESC, rowid DESC LIMIT 1",
            (feature,),
        ).fetchone()
        return RunRecord(*row) if row else None

    def new_run(self, feature: str, model: str) -> RunRecord:
        now = time.time()
        run = RunRecord(uuid.uuid4().hex[:12], feature, "running", "", model, now, now)
        with self._tx() as c:
            c.execute(
                "INSERT INTO sdd_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run.run_id, feature, run.status, "", model, now, now),
            )
        return run

    def set_run_status(self, run_id: str, status: str, reason: str = "") -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE sdd_runs SET status = ?, reason = ?, updated = ? WHERE run_id = ?",
                (status, reason, time.time(), run_id),
            )

    # tasks --------------------------------------------------------------------------------

    def tasks(self, feature: str) -> dict[str, TaskRecord]:
        cols = ", ".join(_TASK_FIELDS)
        rows = self._conn.execute(f"SELECT {cols} FROM sdd_tasks WHERE feature = ?", (feature,))
        return {r[1]: TaskRecord(*r) for r in rows}

    def task(self, feature: str, task_id: str) -> TaskRecord | None:
        cols = ", ".join(_TASK_FIELDS)
        row = self._conn.execute(
            f"SELECT {cols} FROM sdd_tasks WHERE feature = ? AND task_id = ?", (feature, task_id)
        ).fetchone()
        return TaskRecord(*row) if row else None

    def save_task(self, record: TaskRecord) -> None:
        record.updated = time.time()
        self._upsert("sdd_tasks", asdict(record))

    def _upsert(self, table: str, values: dict[str, object]) -> None:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._tx() as c:
            c.execute(
                f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})", tuple(values.values())
            )

    # attempts -----------------------------------------------------------------------------

    def add_attempt(self, record: AttemptRecord) -> None:
        self._upsert("sdd_attempts", asdict(record))

    def attempts(self, feature: str, task_id: str) -> list[AttemptRecord]:
        cols = ", ".join(f.name for f in fields(AttemptRecord))
        rows = self._conn.execute(
            f"SELECT {cols} FROM sdd_attempts WHERE feature = ? AND task_id = ? ORDER BY attempt",
            (feature, task_id),
        )
        return [AttemptRecord(*r) for r in rows]

    # expected-red tests (TDD) -------------------------------------------------------------

    def expected_red(self, feature: str) -> dict[str, str]:
        rows = self._conn.execute(
            "SELECT test_id, task_id FROM sdd_expected_red WHERE feature = ?", (feature,)
        )
        return dict(rows.fetchall())

    def set_expected_red(self, feature: str, tests: dict[str, str]) -> None:
        """Replace the set: tests that went green leave it, new red tests of a test task join."""
        with self._tx() as c:
            c.execute("DELETE FROM sdd_expected_red WHERE feature = ?", (feature,))
            c.executemany(
                "INSERT INTO sdd_expected_red VALUES (?, ?, ?)",
                [(feature, t, task) for t, task in sorted(tests.items())],
            )


def dump_json(value: object) -> str:
    """Stable JSON for records and transcripts (sorted keys keep diffs and hashes steady)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
