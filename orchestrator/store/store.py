"""The records over a database: runs, tasks, attempts and a feature's expected-red tests.

One class for both backends: SQL is written once with `?` marks and the tables come from
`schema`, so SQLite and Postgres differ only in their `Backend` (connection, placeholders,
the repository key, locking). Safe to share between the threads of a parallel wave: every
statement and transaction holds the store's lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict

from orchestrator.store.backend import Backend, Closeable, Row
from orchestrator.store.packing import unpack
from orchestrator.store.records import (
    AttemptRecord,
    PhaseCheck,
    RunRecord,
    RunStatus,
    TaskRecord,
)
from orchestrator.store.schema import (
    ATTEMPTS,
    BLOBS,
    PHASE_CHECKS,
    RUNS,
    TASKS,
    TURNS,
    Table,
    missing_columns,
)

_EMPTY = "''"


class Store:
    """sdd's records in one database, scoped to one repository."""

    def __init__(self, backend: Backend) -> None:
        self._db, self.url = backend, backend.url
        self._scope = backend.scope
        self._lock = threading.RLock()
        self._present: dict[str, set[str]] = {}  # table -> its columns, once all are there
        self._select = {t.name: self._select_list(t) for t in (RUNS, TASKS, ATTEMPTS)}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def thread_id(self, run: RunRecord) -> str:
        """The checkpoint thread of a run; unique in whatever the checkpointer shares."""
        return "/".join((*self._scope, run.feature, run.run_id)) if self._scope else run.run_id

    def lock_run(self, feature: str) -> Closeable | None:
        """A lock on the run of `feature` held until closed, for stores other machines share;
        None for SQLite, whose one clone's `.sdd/locks/` file lock already holds."""
        return self._db.lock_run(feature)

    # runs ---------------------------------------------------------------------------------

    def latest_run(self, feature: str) -> RunRecord | None:
        rows = self._rows(
            f"SELECT {self._select['sdd_runs']} FROM sdd_runs WHERE {self._where('feature')}"
            f" ORDER BY started DESC, {self._db.dialect.newest} DESC LIMIT 1",
            (*self._scope, feature),
        )
        return RunRecord(*rows[0]) if rows else None

    def new_run(self, feature: str, model: str, remote: str = "") -> RunRecord:
        now = time.time()
        run = RunRecord(
            uuid.uuid4().hex[:12], feature, RunStatus.RUNNING, "", model, now, now, remote
        )
        self._upsert(RUNS, asdict(run))
        return run

    def set_run_status(self, run_id: str, status: RunStatus, reason: str = "") -> None:
        self._write(
            "UPDATE sdd_runs SET status = ?, reason = ?, updated = ?"
            f" WHERE {self._where('run_id')}",
            (str(status), reason, time.time(), *self._scope, run_id),
        )

    def set_run_remote(self, run_id: str, remote: str) -> None:
        """The git remote the run pushes to; a resume elsewhere fetches from it first."""
        self._write(
            f"UPDATE sdd_runs SET remote = ? WHERE {self._where('run_id')}",
            (remote, *self._scope, run_id),
        )

    def set_run_options(self, run_id: str, options: str) -> None:
        """The run's options (JSON), so a resume asks again for none of them."""
        self._write(
            f"UPDATE sdd_runs SET options = ? WHERE {self._where('run_id')}",
            (options, *self._scope, run_id),
        )

    # tasks --------------------------------------------------------------------------------

    def tasks(self, feature: str) -> dict[str, TaskRecord]:
        rows = self._rows(
            f"SELECT {self._select['sdd_tasks']} FROM sdd_tasks WHERE {self._where('feature')}",
            (*self._scope, feature),
        )
        return {r[1]: TaskRecord(*r) for r in rows}

    def task(self, feature: str, task_id: str) -> TaskRecord | None:
        rows = self._rows(
            f"SELECT {self._select['sdd_tasks']} FROM sdd_tasks"
            f" WHERE {self._where('feature', 'task_id')}",
            (*self._scope, feature, task_id),
        )
        return TaskRecord(*rows[0]) if rows else None

    def save_task(self, record: TaskRecord) -> None:
        record.updated = time.time()
        self._upsert(TASKS, asdict(record))

    # attempts -----------------------------------------------------------------------------

    def add_attempt(self, record: AttemptRecord) -> None:
        self._upsert(ATTEMPTS, asdict(record))

    def attempts(self, feature: str, task_id: str) -> list[AttemptRecord]:
        rows = self._rows(
            f"SELECT {self._select['sdd_attempts']} FROM sdd_attempts"
            f" WHERE {self._where('feature', 'task_id')} ORDER BY attempt",
            (*self._scope, feature, task_id),
        )
        return [AttemptRecord(*r) for r in rows]

    # a task's conversation, step by step --------------------------------------------------

    def conversation(self, feature: str, task_id: str) -> tuple[int, list[tuple[str, str]]]:
        """The task's newest conversation: its number and its (kind, JSON) steps in order;
        (0, []) when it has none. Reads one conversation's rows by key, however many the
        store holds. A step that does not decode reads as `damaged` (`packing.unpack`)."""
        convo = self.newest_conversation(feature, task_id)
        if not convo:
            return 0, []
        packed = "packed" if "packed" in self._columns(TURNS) else "''"
        rows = self._rows(
            f"SELECT kind, data, {packed} FROM sdd_turns"
            f" WHERE {self._where('feature', 'task_id', 'convo')} ORDER BY seq",
            (*self._scope, feature, task_id, convo),
        )
        return convo, unpack((str(k), str(d), p or b"") for k, d, p in rows)

    def newest_conversation(self, feature: str, task_id: str) -> int:
        """The number of the task's newest conversation; 0 when it has none."""
        rows = self._rows(
            f"SELECT max(convo) FROM sdd_turns WHERE {self._where('feature', 'task_id')}",
            (*self._scope, feature, task_id),
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def add_step(
        self,
        feature: str,
        task_id: str,
        convo: int,
        seq: int,
        kind: str,
        data: str,
        packed: bytes = b"",
    ) -> None:
        """One step: its JSON as `data`, or compressed as `packed` (then `data` is '')."""
        values = {"feature": feature, "task_id": task_id, "convo": convo, "seq": seq}
        self._upsert(TURNS, values | {"kind": kind, "data": data, "packed": packed})

    def add_blob(self, feature: str, task_id: str, digest: str, parent: str, data: bytes) -> None:
        """Keep a file's content (its change from `parent`) once per digest: no chain loops."""
        cols = ["repo"] * len(self._scope) + ["feature", "task_id", "digest", "parent", "data"]
        self._write(
            f"INSERT INTO {BLOBS.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            f" ON CONFLICT ({', '.join(self._db.dialect.key(BLOBS))}) DO NOTHING",
            (*self._scope, feature, task_id, digest, parent, data),
        )

    def drop_blobs(self, feature: str, task_id: str = "") -> None:
        """Forget the files of the task (or every task) whose newest conversation ended."""
        same = " AND ".join(f"{c} = {BLOBS.name}.{c}" for c in self._db.dialect.key(BLOBS)[:-1])
        last = f"convo = (SELECT max(convo) FROM {TURNS.name} WHERE {same})"
        self._write(
            f"DELETE FROM {BLOBS.name} WHERE {self._where('feature')} AND ? IN ('', task_id) AND"
            f" EXISTS (SELECT 1 FROM {TURNS.name} WHERE {same} AND kind = 'end' AND {last})",
            (*self._scope, feature, task_id),
        )

    def blobs(self, feature: str, task_id: str) -> dict[str, tuple[str, bytes]]:
        """The files kept for the task's conversations: digest -> (parent, data)."""
        rows = self._rows(
            f"SELECT digest, parent, data FROM sdd_blobs WHERE {self._where('feature', 'task_id')}",
            (*self._scope, feature, task_id),
        )
        return {str(d): (str(p), bytes(b)) for d, p, b in rows}

    # expected-red tests (TDD) -------------------------------------------------------------

    def expected_red(self, feature: str) -> dict[str, str]:
        rows = self._rows(
            f"SELECT test_id, task_id FROM sdd_expected_red WHERE {self._where('feature')}",
            (*self._scope, feature),
        )
        return {str(test): str(task) for test, task in rows}

    def set_expected_red(self, feature: str, tests: dict[str, str]) -> None:
        """Replace the set: tests that went green leave it, new red tests of a test task join."""
        cols = ", ".join((*(("repo",) if self._scope else ()), "feature", "test_id", "task_id"))
        marks = ", ".join("?" for _ in cols.split(", "))
        with self._tx():
            self._exec(
                f"DELETE FROM sdd_expected_red WHERE {self._where('feature')}",
                (*self._scope, feature),
            )
            for test, task in sorted(tests.items()):
                self._exec(
                    f"INSERT INTO sdd_expected_red ({cols}) VALUES ({marks})",
                    (*self._scope, feature, test, task),
                )

    # phase checks (`verify: phase`) -------------------------------------------------------

    def save_phase_check(self, check: PhaseCheck) -> None:
        check.updated = time.time()
        self._upsert(
            PHASE_CHECKS,
            asdict(check) | {"passed": int(check.passed), "stopped": int(check.stopped)},
        )

    def phase_checks(self, feature: str) -> dict[int, PhaseCheck]:
        """The last check of each phase, by phase number; none in a file older than them."""
        if not self._columns(PHASE_CHECKS):
            return {}
        rows = self._rows(
            f"SELECT {self._select_list(PHASE_CHECKS)} FROM sdd_phase_checks"
            f" WHERE {self._where('feature')} ORDER BY phase",
            (*self._scope, feature),
        )
        return {int(r[1]): PhaseCheck(*r) for r in rows}

    # plumbing -----------------------------------------------------------------------------

    def _select_list(self, table: Table) -> str:
        """Every field of the record; a column an older read-only file lacks reads as its
        default, so inspecting an old run never fails."""
        present = self._columns(table)
        return ", ".join(
            c.name if c.name in present else f"{c.default or _EMPTY} AS {c.name}"
            for c in table.columns
        )

    def _columns(self, table: Table) -> set[str]:
        """The table's columns: asked once they are all there (nothing drops one), else again
        (an older file read as it is, which another sdd may bring up to date meanwhile)."""
        if table.name in self._present:
            return self._present[table.name]
        with self._lock:
            present = self._db.columns(table.name)
        if not missing_columns(table, present):
            self._present[table.name] = present
        return present

    def _where(self, *cols: str) -> str:
        """`repo = ? AND feature = ? ...`: the key columns, the repository's first if any."""
        return " AND ".join(f"{c} = ?" for c in (*(("repo",) if self._scope else ()), *cols))

    def _upsert(self, table: Table, values: dict[str, object]) -> None:
        """Insert, or replace the row with the same key (SQLite and Postgres spell it alike)."""
        values = {k: str(v) if isinstance(v, str) else v for k, v in values.items()}
        scoped = {"repo": self._scope[0]} | values if self._scope else values
        key = self._db.dialect.key(table)
        sets = ", ".join(f"{c} = excluded.{c}" for c in scoped if c not in key)
        self._write(
            f"INSERT INTO {table.name} ({', '.join(scoped)})"
            f" VALUES ({', '.join('?' for _ in scoped)})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}",
            tuple(scoped.values()),
        )

    def _write(self, sql: str, params: Sequence[object]) -> None:
        with self._tx():
            self._exec(sql, params)

    def _rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        with self._lock:
            return self._db.execute(sql, params)

    def _exec(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self._db.execute(sql, params)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock, self._db.transaction():
            yield
