"""Opening the store a URL names: `--store` > `SDD_STORE` > config `store:` > `.sdd/`.

SQLite (the default) keeps everything under the project's `.sdd/`; Postgres keeps it in a
database any machine that reaches it shares, keyed by the repository's first commit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.store.store import Store
from orchestrator.store.url import StoreUrl, choose_store_url

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def store_url(root: Path, flag: str | None = None, configured: str | None = None) -> StoreUrl:
    """`--store` > `SDD_STORE` > config `store:` > `.sdd/state.sqlite`."""
    return choose_store_url(root, flag, dict(os.environ), configured)


def open_store(root: Path, url: StoreUrl) -> Store:
    """The records for the repository at `root`, created on first use."""
    if url.kind == "sqlite":
        from orchestrator.store.sqlite import SqliteBackend

        assert url.path is not None
        return Store(SqliteBackend(url.path))
    from orchestrator.store.postgres import PostgresBackend

    return Store(PostgresBackend(url, _repo_key(root)))


def open_existing(root: Path, url: StoreUrl) -> Store | None:
    """Read-only, for inspection: None before any run; nothing is created or changed."""
    if url.kind == "sqlite":
        from orchestrator.store.sqlite import SqliteBackend

        assert url.path is not None
        return Store(SqliteBackend(url.path, readonly=True)) if url.path.exists() else None
    from orchestrator.store.postgres import PostgresBackend

    backend = PostgresBackend.open_existing(url, _repo_key(root))
    return Store(backend) if backend else None


def open_records(root: Path, flag: str | None, configured: str | None) -> Store | None:
    """For the inspection commands: the records if any run was recorded, else None."""
    return open_existing(root, store_url(root, flag, configured))


@contextmanager
def checkpointer(url: StoreUrl) -> Iterator[BaseCheckpointSaver[str]]:
    """The LangGraph saver for the store: SqliteSaver in the same file, or PostgresSaver."""
    if url.kind == "postgresql":
        from orchestrator.store.postgres import checkpointer as pg_checkpointer

        with pg_checkpointer(url) as saver:
            yield saver
        return
    from orchestrator.store.sqlite import checkpointer as sqlite_checkpointer

    assert url.path is not None
    with sqlite_checkpointer(url.path) as saver:
        yield saver


def _repo_key(root: Path) -> str:
    from orchestrator.git.repo import GitRepo

    return GitRepo(root).identity()
