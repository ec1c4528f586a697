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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InputError, SddError
from orchestrator.store.backend import Row
from orchestrator.store.schema import POSTGRES, TABLES, missing_columns
from orchestrator.store.url import StoreUrl

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver

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
        raise InputError(f"cannot open the store {url.shown}: {detail}{url.hint}") from None


class PostgresBackend:
    dialect = POSTGRES

    def __init__(self, url: StoreUrl, repo_key: str, readonly: bool = False) -> None:
        self.url = url
        self.scope: tuple[str, ...] = (repo_key,)
        self._conn = connect(url)
        if readonly:
            return
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            self._conn.execute(POSTGRES.ddl())
            for table in TABLES:
                for column in missing_columns(table, self.columns(table.name)):
                    self._conn.execute(
                        f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS "
                        + POSTGRES.column_sql(column)
                    )

    @classmethod
    def open_existing(cls, url: StoreUrl, repo_key: str) -> PostgresBackend | None:
        """For inspection: None when sdd never wrote to this database; nothing is created."""
        backend = cls(url, repo_key, readonly=True)
        if backend.execute("SELECT to_regclass('sdd_runs')")[0][0] is None:
            backend.close()
            return None
        return backend

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        import psycopg

        try:
            cur = self._conn.execute(sql.replace("?", "%s"), tuple(params))
            return list(cur.fetchall()) if cur.description else []
        except psycopg.OperationalError as exc:
            detail = " ".join(str(exc).split())
            raise SddError(f"lost the store {self.url.shown}: {detail}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
            " AND table_schema = current_schema()",
            (table,),
        )
        return {str(r[0]) for r in rows}

    def lock_run(self, feature: str) -> Any:
        """Hold the run of `feature` in this repository until the returned connection closes;
        a second holder is refused with the first one's host and pid."""
        key = int.from_bytes(
            hashlib.sha256(f"{self.scope[0]}/{feature}".encode()).digest()[:8], "big", signed=True
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

    def close(self) -> None:
        self._conn.close()


@contextmanager
def checkpointer(url: StoreUrl) -> Iterator[PostgresSaver]:
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
