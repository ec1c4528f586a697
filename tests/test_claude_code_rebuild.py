"""A Claude Code session kept twice in sdd's store (the entries Claude Code wrote, mirrored by
the SDK; each message as the stream gave it) and rebuilt from both. The real CLI accepting a
rebuilt session is tested end to end in test_claude_code_resume.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from orchestrator.agent.claude_code.mirror import JournalSessions, replay
from orchestrator.agent.claude_code.rebuild import base_of, done_text, rebuild, strip
from orchestrator.agent.transcript import Transcript

SID = "5f0c2b1e-0000-4000-8000-000000000001"
BASE = {"userType": "external", "cwd": "/w/a", "sessionId": SID, "version": "2.1.332"}


def entry(uuid: str, parent: str | None, kind: str, message: Any, **more: Any) -> dict[str, Any]:
    return {"parentUuid": parent, "type": kind, "message": message, "uuid": uuid, **BASE, **more}


PROMPT = entry("p", None, "user", {"role": "user", "content": "# Task T001"})
TURN = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read"}]}
RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]}


class Book:
    """A journal in memory (the store's own is tested with the run)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, dict[str, Any]]] = []

    def steps(self) -> list[tuple[str, dict[str, Any]]]:
        return list(self.rows)

    def add(self, kind: str, data: dict[str, Any]) -> None:
        self.rows.append((kind, data))

    def diff(self) -> str:
        return ""


def test_what_the_mirror_missed_is_added_in_claude_codes_format() -> None:
    records = [
        {"uuid": "a1", "message": TURN, "asked": "p", "prompt": "# Task T001", "at": "T1"},
        {"uuid": "r1", "message": RESULT, "at": "T2"},
    ]
    got = rebuild([PROMPT], records, "/w/b", SID)
    assert [e["uuid"] for e in got] == ["p", "a1", "r1"]
    assert [e["parentUuid"] for e in got] == [None, "p", "a1"]
    assert [e["type"] for e in got] == ["user", "assistant", "user"]
    assert got[1]["message"] == TURN and got[2]["message"] == RESULT
    assert got[2]["cwd"] == "/w/a" and got[2]["sessionId"] == SID and got[2]["timestamp"] == "T2"


def test_a_prompt_the_mirror_missed_comes_back_before_its_answer() -> None:
    records = [{"uuid": "a1", "message": TURN, "asked": "p", "prompt": "# Task T001", "at": "T"}]
    got = rebuild([], records, "/w/b", SID)
    assert [(e["uuid"], e["type"]) for e in got] == [("p", "user"), ("a1", "assistant")]
    assert got[0]["message"] == {"role": "user", "content": "# Task T001"}
    assert got[0]["cwd"] == "/w/b" and got[1]["parentUuid"] == "p"


def test_a_tool_call_answered_nowhere_gets_what_the_tool_gave() -> None:
    records = [
        {"uuid": "a1", "message": TURN, "at": "T1"},
        {"done": "t1", "text": "1\tx", "at": "T2"},
    ]
    got = rebuild([PROMPT], records, "/w", SID)
    assert [e["type"] for e in got] == ["user", "assistant", "user"]
    assert got[2]["parentUuid"] == "a1"
    assert got[2]["message"]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "1\tx"}
    ]
    assert rebuild([PROMPT], records, "/w", SID)[2]["uuid"] == got[2]["uuid"]  # the same
    answered = [*records, {"uuid": "r1", "message": RESULT, "at": "T3"}]
    assert [e["uuid"] for e in rebuild([PROMPT], answered, "/w", SID)] == ["p", "a1", "r1"]
    assert done_text({"type": "text", "file": {"content": "x" * 5000}}).startswith("xxx")
    assert len(done_text({"stdout": "y" * 5000})) < 2_100
    assert done_text({"filePath": "a.py", "structuredPatch": []}) == (
        "The file a.py has been written."
    )


def test_stored_entries_leave_out_what_the_stream_copy_or_nobody_needs() -> None:
    mirrored = entry("r1", "a1", "user", RESULT, toolUseResult={"file": "x" * 100})
    assert "message" not in strip(mirrored, {"r1"}, None)
    kept = strip(mirrored, set(), None)
    assert kept == {k: v for k, v in mirrored.items() if k != "toolUseResult"}
    records = [{"uuid": "r1", "message": RESULT, "at": "T"}]
    assert rebuild([strip(mirrored, {"r1"}, None)], records, "/w", SID)[0]["message"] == RESULT


def test_fields_every_entry_repeats_are_stored_once_per_session() -> None:
    first = PROMPT
    same = entry("a1", "p", "assistant", TURN)
    moved = entry("r1", "a1", "user", RESULT, cwd="/w/b")  # resumed in another work tree
    base = base_of([first])
    stored = [strip(first, set(), None), *(strip(e, set(), base) for e in (same, moved))]
    assert stored[0] == first  # the first says them
    assert "sessionId" not in stored[1] and "cwd" not in stored[1] and "~" in stored[1]
    assert stored[2]["cwd"] == "/w/b" and "sessionId" not in stored[2]
    assert rebuild(stored, [], "/w/c", SID) == [first, same, moved]


def test_the_journal_keeps_each_message_once_and_loads_the_fuller_session(tmp_path: Path) -> None:
    book = Book()
    sessions = JournalSessions(book, tmp_path / "claude", tmp_path)
    sessions.said(SID, {"uuid": "a1", "message": TURN, "asked": "p"}, "# Task T001")
    sessions.said(SID, {"uuid": "r1", "message": RESULT}, "# Task T001")
    key = {"project_key": "w", "session_id": SID}
    asyncio.run(sessions.append(key, [PROMPT, entry("a1", "p", "assistant", TURN)]))
    kinds = [k for k, _ in book.rows]
    assert kinds == ["said", "said", "session"]
    assert "message" not in book.rows[2][1]["entries"][1]  # the said step holds it
    assert "prompt" in book.rows[0][1] and "prompt" not in book.rows[1][1]
    again = JournalSessions(book, tmp_path / "claude", tmp_path)  # as a resume opens it
    loaded = asyncio.run(again.load(key))
    assert loaded is not None
    assert [(e["uuid"], e["message"]) for e in loaded] == [
        ("p", PROMPT["message"]),
        ("a1", TURN),
        ("r1", RESULT),
    ]
    assert again.turns(SID) == 1 and replay(book.steps()).session == SID


def test_the_stream_hands_on_each_message_before_its_tools_may_run(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    from orchestrator.agent.claude_code.stream import SessionLog

    said: list[dict[str, Any]] = []
    metered_when_said: list[bool] = []
    log = Transcript(tmp_path / "t.jsonl", [])

    def keep(record: dict[str, Any]) -> None:
        said.append(record)
        metered_when_said.append(sink.metered("toolu_1").is_set())

    sink = SessionLog(log, lambda usage, stop: None, None, keep)
    start = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}}
    messages = [
        sdk.StreamEvent("e1", SID, start),
        sdk.AssistantMessage(
            [sdk.TextBlock("Reading.")], "m", message_id="msg_1", uuid="a1", user_message_uuid="p"
        ),
        sdk.AssistantMessage(
            [sdk.ToolUseBlock("toolu_1", "Read", {"file_path": "a"})],
            "m",
            message_id="msg_1",
            uuid="a2",
        ),
        sdk.StreamEvent("e2", SID, delta),
        sdk.StreamEvent("e3", SID, {"type": "message_stop"}),
        sdk.UserMessage([sdk.ToolResultBlock("toolu_1", "1\tx")], uuid="r1"),
    ]
    for message in messages:
        sink.take(message)
    log.close()
    assert [r["uuid"] for r in said] == ["a1", "a2", "r1"]
    assert metered_when_said == [False, False, True]
    assert said[0]["asked"] == "p" and "asked" not in said[1]
    assert said[1]["message"]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a"}}
    ]
    assert said[1]["message"]["id"] == "msg_1" and said[1]["message"]["stop_reason"] == "tool_use"
    assert said[2]["message"] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "1\tx"}],
    }
