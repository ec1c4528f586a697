"""What the store needs of a database connection (`sqlite.py`, `postgres.py`): one small
seam, so the records' SQL is written once."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from orchestrator.store.schema import Dialect
from orchestrator.store.url import StoreUrl

Row = tuple[Any, ...]


class Closeable(Protocol):
    def close(self) -> None: ...


class Backend(Protocol):
    """One database connection as the store needs it; `sqlite.py` and `postgres.py`."""

    url: StoreUrl
    dialect: Dialect
    scope: tuple[str, ...]  # (repository key,) where rows carry one, else ()

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def columns(self, table: str) -> set[str]: ...

    def lock_run(self, feature: str) -> Closeable | None: ...

    def close(self) -> None: ...
