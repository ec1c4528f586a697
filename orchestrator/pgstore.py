"""The records in a Postgres database that many machines, repositories and features share.

Every row carries the repository's key (its root commit, the same in every clone), so two
repositories with a feature of the same name never meet. A run is driven by one machine at a
time: a session-level advisory lock, held on a connection of its own for the run's life, is
released by the server as soon as that process exits, however it exits.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator.errors import InputError, SddError
from orchestrator.store import RunRecord, Store
from orchestrator.storeurl import StoreUrl

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sdd_runs (
    seq BIGSERIAL,
    repo TEXT NOT NULL,
    run_id TEXT NOT NULL,
    feature TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    started DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    remote TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, run_id)
);
CREATE INDEX IF NOT EXISTS sdd_runs_feature ON sdd_runs(repo, feature, started);
CREATE TABLE IF NOT EXISTS sdd_tasks (
    repo TEXT NOT NULL,
    feature TEXT NOT NULL,
    task_id TEXT NOT NULL,
    run_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    agent TEXT NOT NULL DEFAULT '',
    route_reason TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    commit_sha TEXT NOT NULL DEFAULT '',
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    updated DOUBLE PRECISION NOT NULL DEFAULT 0,
    base TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, feature, task_id)
);
CREATE TABLE IF NOT EXISTS sdd_attempts (
    repo TEXT NOT NULL,
    feature TEXT NOT NULL,
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    verify_output TEXT NOT NULL DEFAULT '',
    transcript TEXT NOT NULL DEFAULT '',
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, feature, task_id, attempt)
);
CREATE TABLE IF NOT EXISTS sdd_expected_red (
    repo TEXT NOT NULL,
    feature TEXT NOT NULL,
    test_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (repo, feature, test_id)
);
"""
_SCHEMA_LOCK = 0x5DD0_5C4E  # serialises CREATE TABLE IF NOT EXISTS across first-time users


def connect(url: StoreUrl, purpose: str = "records") -> Any:
    """An autocommit connection, or an InputError naming the URL (password masked)."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver  # noqa: F401
    except ImportError:
        raise InputError(
            f"the store {url.shown} needs Postgres support: "
            "pip install 'sdd-orchestrator[postgres]'"
        ) from None
    try:
        return psycopg.connect(
            url.url,
            autocommit=True,
            connect_timeout=10,
            application_name=f"sdd {purpose} {socket.gethostname()} pid {os.getpid()}",
        )
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot open the store {url.shown}: {detail}") from None


class PgStore(Store):
    """The same records and methods as the SQLite store, scoped to one repository."""

    def __init__(self, url: StoreUrl, repo_key: str, readonly: bool = False) -> None:
        self.url, self.readonly, self.path = url, readonly, None
        self._scope, self._newest = (repo_key,), "seq"
        self._run_cols = "run_id, feature, status, reason, model, started, updated, remote"
        self._conn = connect(url)
        if readonly:
            return
        with self._tx():
            self._exec("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            self._conn.execute(_SCHEMA)

    @classmethod
    def open_existing(cls, url: StoreUrl, repo_key: str) -> PgStore | None:
        """For inspection: None when sdd never wrote to this database; nothing is created."""
        store = cls(url, repo_key, readonly=True)
        if store._exec("SELECT to_regclass('sdd_runs')").fetchone()[0] is None:
            store.close()
            return None
        return store

    def thread_id(self, run: RunRecord) -> str:
        return f"{self._scope[0]}/{run.feature}/{run.run_id}"

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._conn.transaction():
            yield self

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        import psycopg

        try:
            return self._conn.execute(sql.replace("?", "%s"), params)
        except psycopg.OperationalError as exc:
            detail = " ".join(str(exc).split())
            raise SddError(f"lost the store {self.url.shown}: {detail}") from None

    def lock_run(self, feature: str) -> Any:
        """Hold the run of `feature` in this repository until the returned connection closes;
        a second holder is refused with the first one's host and pid."""
        key = int.from_bytes(
            hashlib.sha256(f"{self._scope[0]}/{feature}".encode()).digest()[:8], "big", signed=True
        )
        conn = connect(self.url, f"run {feature}")
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            return conn
        holder = conn.execute(
            "SELECT a.application_name, a.client_addr FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
            " AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        ).fetchone()
        conn.close()
        who = f"{holder[0]}" + (f" from {holder[1]}" if holder and holder[1] else "")
        raise SddError(
            f"another sdd is driving {feature} of this repository in {self.url.shown} "
            f"({who if holder else 'another machine'}); wait for it to finish or pause"
        )


@contextmanager
def checkpointer(url: StoreUrl) -> Iterator[Any]:
    """LangGraph's PostgresSaver on its own connection, its tables created on first use."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    conn = connect(url, "checkpoints")
    conn.prepare_threshold = 0
    conn.row_factory = dict_row
    try:
        saver = PostgresSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
