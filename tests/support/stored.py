"""A SQLite store's conversation steps read back as sdd reads them (`store/packing.py`),
with what each row takes in the file, for tests and benches that look inside."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from orchestrator.store.packing import unpack


@dataclass(frozen=True, slots=True)
class Row:
    task: str
    convo: int
    seq: int
    kind: str
    text: str  # the step's JSON
    size: int  # bytes the row takes: its key, kind and stored data


def rows(db_file: Path, kinds: tuple[str, ...] = ()) -> list[Row]:
    """Every step of every conversation in order (only `kinds`, when given)."""
    with sqlite3.connect(db_file) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(sdd_turns)")}
        packed = "packed" if "packed" in columns else "''"  # a store written before packing
        got = db.execute(
            f"SELECT task_id, convo, seq, kind, data, {packed} FROM sdd_turns "
            "ORDER BY task_id, convo, seq"
        ).fetchall()
    by: dict[tuple[str, int], list[tuple[str, int, str, str, bytes]]] = {}
    for task, convo, seq, kind, data, packed in got:
        by.setdefault((task, convo), []).append((kind, seq, data, packed or b"", task))
    out = []
    for (task, convo), group in by.items():
        texts = unpack((k, d, p) for k, _, d, p, _ in group)
        for (kind, seq, data, packed, _), (_, text) in zip(group, texts, strict=True):
            size = len(task) + len(kind) + len(data) + len(packed) + len(f"{convo}{seq}") + 8
            if not kinds or kind in kinds:
                out.append(Row(task, convo, seq, kind, text, size))
    return out
