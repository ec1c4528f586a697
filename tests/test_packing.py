"""A conversation's steps stored compressed against the steps before them: each row reads
back exactly, a resume goes on from the texts it read, a damaged row is reported and not
guessed at, and a conversation that cannot be read starts over saying why."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from test_journal import FEATURE, Counting, dies_at, project, run

from orchestrator.agent.models.scripted import ScriptedModel
from orchestrator.git.repo import GitRepo
from orchestrator.run.journal import (
    StoreJournal,
    go_on_or_start_over,
    open_conversation,
    rejoin,
    tree_state,
    where,
    why_not_continue,
)
from orchestrator.store.packing import BIG, DAMAGED, History, unpack
from orchestrator.store.sqlite import SqliteBackend
from orchestrator.store.store import Store


def turn(k: int) -> str:
    call = {"type": "tool_use", "id": f"toolu_{k:04d}", "name": "Read"}
    return json.dumps({"content": [{**call, "input": {"file_path": f"src/m{k}.py"}}]})


def packed_rows(texts: list[str], history: History | None = None) -> list[tuple[str, str, bytes]]:
    history = history or History()
    rows = []
    for text in texts:
        rows.append(("step", "", history.pack(text)))
        history.add(text)
    return rows


def test_each_step_reads_back_exactly_also_unicode_and_big_ones() -> None:
    texts = [turn(k) for k in range(40)]
    texts[7] = json.dumps({"content": "naïve ✓ 日本"})
    texts[20] = json.dumps({"content": "x" * (BIG * 3)})  # stays out of the dictionary
    rows = packed_rows(texts)
    assert [t for _, t in unpack(rows)] == texts
    # mostly like the steps before it, a step costs a fraction of its text
    assert len(rows[-1][2]) < len(texts[-1]) / 3, (len(rows[-1][2]), len(texts[-1]))


def test_plain_rows_mix_with_packed_ones() -> None:
    """A conversation begun before packing and resumed after it; an `end` written plain."""
    texts = [turn(k) for k in range(5)]
    rows = [("step", text, b"") for text in texts[:2]]
    rows += packed_rows(texts[2:], History(texts[:2]))
    rows.append(("end", '{"why":"landed"}', b""))
    assert [t for _, t in unpack(rows)] == [*texts, '{"why":"landed"}']


def test_a_resume_in_another_process_goes_on_from_the_texts_it_read() -> None:
    texts = [turn(k) for k in range(12)]
    first = packed_rows(texts[:6])
    read = [t for _, t in unpack(first)]
    rest = packed_rows(texts[6:], History(read))
    assert [t for _, t in unpack(first + rest)] == texts


def test_a_damaged_row_and_those_after_it_read_as_damaged() -> None:
    texts = [turn(k) for k in range(6)]
    rows = packed_rows(texts)
    kind, data, packed = rows[3]
    rows[3] = (kind, data, packed[:1] + bytes([packed[1] ^ 0xFF]) + packed[2:])
    rows.append(("end", '{"why":"plain"}', b""))  # needs no history: still reads
    got = unpack(rows)
    assert [t for _, t in got[:3]] == texts[:3]
    assert [k for k, _ in got[3:]] == [DAMAGED] * 3 + ["end"]
    assert "step 3 (step) does not decode" in json.loads(got[5][1])["why"]
    rows[3] = (kind, data, b"\x09" + packed[1:])  # a format this version does not know
    assert "unknown format" in json.loads(unpack(rows)[3][1])["why"]
    rows[3] = (kind, data, packed[:-3])  # cut short
    assert unpack(rows)[3][0] == DAMAGED


def test_a_conversation_that_cannot_be_read_starts_over_saying_why(tmp_path: Path) -> None:
    p = project(tmp_path)
    dies_at(p, Counting(ScriptedModel(p.script)), 10)
    with sqlite3.connect(p.db) as db:
        db.execute("UPDATE sdd_turns SET packed = X'01FFFF' WHERE seq = 8")
    store = Store(SqliteBackend(p.db))
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and "step 8" in found.damaged
    assert found.tree()  # what the steps before it recorded: the Write's file
    ws, base = p.ws(), GitRepo(p.root).head()
    why = why_not_continue(found, base, tree_state(ws), where(ws))
    assert why.startswith("its stored conversation cannot be read (step 8")
    ws.repo.reset_to(base)  # clean at its base: its files are not written back either
    notes: list[str] = []
    assert rejoin(store, FEATURE, "T001", found, ws, base, notes.append) == why
    assert notes == [] and ws.repo.dirty_files() == []
    assert go_on_or_start_over(store, FEATURE, "T001", found, why, notes.append) is None
    assert notes == [f"T001 starts over: {why}"]
    assert open_conversation(store, FEATURE, "T001") is None
    store.close()
    result, _ = run(p, Counting(ScriptedModel(p.script)))  # a new conversation
    assert result.landed


def test_a_store_from_before_packing_goes_on_with_its_open_conversation(tmp_path: Path) -> None:
    """An older file: sdd_turns without `packed`, a conversation cut short in plain JSON. It
    gains the column on open, and the conversation goes on with packed steps after the plain."""
    p = project(tmp_path)
    with sqlite3.connect(p.db) as db:
        db.execute(
            "CREATE TABLE sdd_turns (feature TEXT NOT NULL, task_id TEXT NOT NULL,"
            " convo INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
            " data TEXT NOT NULL DEFAULT '', PRIMARY KEY (feature, task_id, convo, seq))"
        )
        base = GitRepo(p.root).head()
        plain = [("begin", {"base": base, "where": where(p.ws())}), ("attempt", {"n": 1})]
        for seq, (kind, data) in enumerate(plain):
            db.execute(
                "INSERT INTO sdd_turns VALUES (?, 'T001', 1, ?, ?, ?)",
                (FEATURE, seq, kind, json.dumps(data)),
            )
    store = Store(SqliteBackend(p.db))
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and [k for k, _ in found.steps] == ["begin", "attempt"]
    turn = {"content": [{"type": "text", "text": "Thinking."}], "stop_reason": "end_turn"}
    StoreJournal(store, FEATURE, "T001", p.ws(), base, (), found).add("assistant", turn)
    store.close()
    with sqlite3.connect(p.db) as db:
        last = db.execute("SELECT data, length(packed) FROM sdd_turns WHERE seq = 2").fetchone()
    assert last[0] == "" and last[1] > 0
    again = Store(SqliteBackend(p.db))
    found = open_conversation(again, FEATURE, "T001")
    assert found is not None and found.steps[2] == ("assistant", turn)
    again.close()
