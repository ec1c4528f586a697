"""The records' tables, written once and rendered for each dialect. Pure.

SQLite keys rows by feature (one file serves one repository); Postgres adds a leading `repo`
column to every table and key, so many repositories share one database, and a `seq` column to
order runs started in the same instant (SQLite has its `rowid`). A column added here reaches
existing databases on their next open (`missing_columns`), so an older file keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "int", "bigint", "real", "bytes"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    default: str | None = None  # an SQL literal; None = NOT NULL without a default


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    index: tuple[str, ...] = ()  # one secondary index, e.g. runs by (feature, started)


def _text(name: str, default: str | None = "''") -> Column:
    return Column(name, "text", default)


def _tokens(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "bigint", "0") for n in names)


RUNS = Table(
    "sdd_runs",
    (
        _text("run_id", None),
        _text("feature", None),
        _text("status", None),
        _text("reason"),
        _text("model"),
        Column("started", "real"),
        Column("updated", "real"),
        _text("remote"),
        _text("options"),
    ),
    key=("run_id",),
    index=("feature", "started"),
)
TASKS = Table(
    "sdd_tasks",
    (
        _text("feature", None),
        _text("task_id", None),
        _text("run_id"),
        _text("status", "'pending'"),
        _text("agent"),
        _text("route_reason"),
        _text("kind"),
        Column("attempts", "int", "0"),
        _text("commit_sha"),
        *_tokens("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"),
        Column("seconds", "real", "0"),
        _text("message"),
        Column("updated", "real", "0"),
        _text("base"),
        _text("evidence"),
        Column("verify_seconds", "real", "0"),
        *_tokens("cache_write_1h_tokens"),
    ),
    key=("feature", "task_id"),
)
ATTEMPTS = Table(
    "sdd_attempts",
    (
        _text("feature", None),
        _text("task_id", None),
        Column("attempt", "int"),
        _text("run_id", None),
        _text("outcome", None),
        _text("verify_output"),
        _text("transcript"),
        *_tokens("input_tokens", "output_tokens"),
        Column("seconds", "real", "0"),
    ),
    key=("feature", "task_id", "attempt"),
)
EXPECTED_RED = Table(
    "sdd_expected_red",
    (_text("feature", None), _text("test_id", None), _text("task_id", None)),
    key=("feature", "test_id"),
)
TURNS = Table(  # a task's conversation, one row per durable step (see `agent/journal.py`)
    "sdd_turns",
    (
        _text("feature", None),
        _text("task_id", None),
        Column("convo", "int"),  # the absolute number of the conversation's first attempt
        Column("seq", "int"),
        _text("kind", None),
        _text("data"),  # JSON, when `packed` is empty
        Column("packed", "bytes", "''"),  # the JSON compressed (`store/packing.py`)
    ),
    key=("feature", "task_id", "convo", "seq"),
)
PHASE_CHECKS = Table(  # the last full verification of each phase (`verify: phase`)
    "sdd_phase_checks",
    (
        _text("feature", None),
        Column("phase", "int"),
        _text("run_id"),
        Column("passed", "int", "0"),
        _text("head"),
        _text("base"),
        _text("tasks"),
        _text("headline"),
        _text("culprit"),
        _text("output"),
        Column("seconds", "real", "0"),
        Column("runs", "int", "0"),
        Column("stopped", "int", "0"),
        Column("updated", "real", "0"),
    ),
    key=("feature", "phase"),
)
BLOBS = Table(  # the files a conversation's steps record, so another clone can rebuild its tree
    "sdd_blobs",
    (
        _text("feature", None),
        _text("task_id", None),
        _text("digest", None),  # of the file's content, as the steps' `tree` names it
        _text("parent"),  # what `data` changes: a digest here, `git:<commit>:<path>` or ''
        Column("data", "bytes"),  # the change from the parent, compressed (`run/delta.py`)
    ),
    key=("feature", "task_id", "digest"),
)
TABLES = (RUNS, TASKS, ATTEMPTS, EXPECTED_RED, TURNS, PHASE_CHECKS, BLOBS)


@dataclass(frozen=True, slots=True)
class Dialect:
    name: Literal["sqlite", "postgresql"]
    types: dict[ColumnType, str]
    scoped: bool  # rows carry the repository's key in a leading `repo` column
    newest: str  # the column that orders rows inserted in the same instant

    def key(self, table: Table) -> tuple[str, ...]:
        return ("repo", *table.key) if self.scoped else table.key

    def column_sql(self, c: Column) -> str:
        default = "" if c.default is None else f" DEFAULT {c.default}"
        return f"{c.name} {self.types[c.type]} NOT NULL{default}"

    def create(self, table: Table) -> str:
        cols = [self.column_sql(c) for c in table.columns]
        if self.scoped:
            cols.insert(0, "repo TEXT NOT NULL")
            if table is RUNS:
                cols.insert(0, "seq BIGSERIAL")
        cols.append(f"PRIMARY KEY ({', '.join(self.key(table))})")
        body = ",\n    ".join(cols)
        sql = f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {body}\n);\n"
        if table.index:
            on = ", ".join(("repo", *table.index) if self.scoped else table.index)
            sql += (
                f"CREATE INDEX IF NOT EXISTS {table.name}_{table.index[0]} ON {table.name}({on});\n"
            )
        return sql

    def ddl(self) -> str:
        return "".join(self.create(t) for t in TABLES)


SQLITE = Dialect(
    "sqlite",
    {"text": "TEXT", "int": "INTEGER", "bigint": "INTEGER", "real": "REAL", "bytes": "BLOB"},
    scoped=False,
    newest="rowid",
)
POSTGRES = Dialect(
    "postgresql",
    {
        "text": "TEXT",
        "int": "INTEGER",
        "bigint": "BIGINT",
        "real": "DOUBLE PRECISION",
        "bytes": "BYTEA",
    },
    scoped=True,
    newest="seq",
)


def missing_columns(table: Table, present: set[str]) -> list[Column]:
    """The columns an existing table lacks (added with their defaults on open)."""
    return [c for c in table.columns if c.name not in present]
