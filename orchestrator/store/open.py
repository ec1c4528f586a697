"""Opening the store a URL names: `--store` > `SDD_STORE` > the last `--store` a run was given
(`.sdd/store-url`) > config `store:` > `.sdd/`.

SQLite (the default) keeps everything under the project's `.sdd/`; Postgres keeps it in a
database any machine that reaches it shares, keyed by the repository's first commit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator import paths
from orchestrator.store.store import Store
from orchestrator.store.url import ENV, FORGET, StoreUrl, choose_store_url, parse_store_url

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


def store_url(root: Path, flag: str | None = None, configured: str | None = None) -> StoreUrl:
    """`--store` > `SDD_STORE` > the remembered `--store` > config `store:` > `.sdd/`."""
    env = dict(os.environ)
    if flag or env.get(ENV, "").strip():
        return choose_store_url(root, flag, env, configured)
    kept = remembered_store(root)
    if kept is None:
        return choose_store_url(root, None, env, configured)
    url = parse_store_url(kept, root, ".sdd/store-url", FORGET)
    return replace(url, remembered=True)


def remembered_store(root: Path) -> str | None:
    """The `--store` a run of this repository was last given, if any."""
    try:
        text = paths.store_pointer(root).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def remember_store(root: Path, url: StoreUrl) -> None:
    """Keep `--store` for the commands after this one (resume, status, diff...), readable by
    this user only: a Postgres URL may hold a password."""
    path = paths.store_pointer(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(url.url + "\n")


def open_store(root: Path, url: StoreUrl) -> Store:
    """The records for the repository at `root`, created on first use."""
    if url.kind == "sqlite":
        from orchestrator.store.sqlite import SqliteBackend

        assert url.path is not None
        return Store(SqliteBackend(url.path, hint=url.hint))
    from orchestrator.store.postgres import PostgresBackend

    return Store(PostgresBackend(url, _repo_key(root)))


def open_existing(root: Path, url: StoreUrl) -> Store | None:
    """Read-only, for inspection: None before any run; nothing is created or changed."""
    if url.kind == "sqlite":
        from orchestrator.store.sqlite import SqliteBackend

        assert url.path is not None
        found = url.path.exists()
        return Store(SqliteBackend(url.path, readonly=True, hint=url.hint)) if found else None
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
