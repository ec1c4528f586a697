"""The seam between sdd and its storage: one URL picks the records' backend, the LangGraph
checkpointer and the lock that keeps two drivers off one run.

SQLite (the default) keeps everything under the repository's `.sdd/`; Postgres keeps it in a
database any machine that reaches it shares (see `pgstore.py`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from orchestrator.gitrepo import GitRepo
from orchestrator.store import Store
from orchestrator.storeurl import StoreUrl, choose_store_url


def store_url(root: Path, flag: str | None = None, configured: str | None = None) -> StoreUrl:
    """`--store` > `SDD_STORE` > config `store:` > `.sdd/state.sqlite`."""
    return choose_store_url(root, flag, dict(os.environ), configured)


def open_store(root: Path, url: StoreUrl, *, readonly: bool = False) -> Store | None:
    """The records for the repository at `root`; read-only gives None before any run."""
    if url.kind == "sqlite":
        assert url.path is not None
        return Store.open_readonly(url.path) if readonly else Store(url.path)
    from orchestrator.pgstore import PgStore

    key = GitRepo(root).identity()
    return PgStore.open_existing(url, key) if readonly else PgStore(url, key)


def open_records(root: Path, flag: str | None, configured: str | None) -> Store | None:
    """For the inspection commands: the records if any run was recorded, else None."""
    return open_store(root, store_url(root, flag, configured), readonly=True)


@contextmanager
def checkpointer(url: StoreUrl) -> Iterator[Any]:
    """The LangGraph saver for the store: SqliteSaver in the same file, or PostgresSaver."""
    if url.kind == "postgresql":
        from orchestrator.pgstore import checkpointer as pg_checkpointer

        with pg_checkpointer(url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    assert url.path is not None
    # WAL with synchronous=NORMAL survives kill -9 (only power loss can drop the last step)
    # and makes a checkpoint cost ~0.1 ms instead of ~3 ms of fsync. The last connection to
    # close folds the WAL back into the database.
    with closing(sqlite3.connect(str(url.path), check_same_thread=False)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        yield SqliteSaver(conn)
