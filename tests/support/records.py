"""The records a test's run left in its project's default SQLite store."""

from __future__ import annotations

from pathlib import Path

from orchestrator import paths
from orchestrator.store.sqlite import SqliteBackend
from orchestrator.store.store import Store


def sqlite_store(path: Path) -> Store:
    """The store in the SQLite file at `path` (created if missing)."""
    return Store(SqliteBackend(path))


def project_store(root: Path) -> Store:
    """The store of the project at `root`: `.sdd/state.sqlite`."""
    return sqlite_store(paths.state_dir(root) / "state.sqlite")
