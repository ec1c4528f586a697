"""`bench_resume.py --engine claude-code`: what the bench needs to know about Claude Code
sessions. Their requests carry Claude Code's own messages around sdd's (an assistant
"No response requested." it adds on resume is not a model turn), and sdd's store holds a
session twice over: the entries Claude Code wrote and the SDK mirrored (`session` steps) and
each message as the session's stream gave it (`said` steps)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from support.claude_code import claude_env

FILLER = [{"type": "text", "text": "No response requested."}]


def turns_of(messages: list[dict[str, Any]]) -> int:
    """The model turns a request's conversation holds (Claude Code's filler left out)."""
    return sum(1 for m in messages if m.get("role") == "assistant" and m.get("content") != FILLER)


def env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, **claude_env(url, home)}


def storage(root: Path) -> tuple[list[float], int, dict[str, int]]:
    """Per task: the bytes its Claude Code steps take in the store over its turns' message
    bytes (each model turn's content and its tool results as the API carries them); the
    turns; the stored bytes by step kind."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    rows = db.execute(
        "SELECT task_id, convo, seq, kind, data FROM sdd_turns "
        "WHERE kind IN ('said', 'session') ORDER BY task_id, convo, seq"
    ).fetchall()
    db.close()
    stored: dict[str, int] = {}
    message: dict[str, int] = {}
    by_kind = {"said": 0, "session": 0}
    turns: set[str] = set()  # a turn's message ids: Claude Code keeps one message per block
    for task, convo, seq, kind, data in rows:
        size = len(task) + len(kind) + len(data) + 8 + len(str(convo)) + len(str(seq))
        stored[task] = stored.get(task, 0) + size
        by_kind[kind] += size
        if kind != "said":
            continue
        said = json.loads(data)["message"]
        if said["role"] == "assistant":
            turns.add(said["id"])
            message[task] = message.get(task, 0) + len(json.dumps(said["content"]))
        else:
            results = [b for b in said["content"] if b.get("type") == "tool_result"]
            message[task] = message.get(task, 0) + len(json.dumps(results))
    ratios = [stored[t] / message[t] for t in sorted(message) if message[t]]
    return ratios, len(turns), by_kind


def only_streamed(root: Path) -> tuple[int, int]:
    """(model turns, tool results) a killed run's store holds only as the stream gave them:
    Claude Code had not written them when the kill came."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    rows = db.execute(
        "SELECT kind, data FROM sdd_turns WHERE kind IN ('said', 'session')"
    ).fetchall()
    db.close()
    mirrored: set[str] = set()
    said: list[dict[str, Any]] = []
    for kind, data in rows:
        step = json.loads(data)
        if kind == "session":
            mirrored.update(str(e.get("uuid")) for e in step["entries"] if isinstance(e, dict))
        else:
            said.append(step)
    lost = [s for s in said if s["uuid"] not in mirrored]
    turns = len({s["message"].get("id") for s in lost if s["message"]["role"] == "assistant"})
    return turns, sum(1 for s in lost if s["message"]["role"] == "user")
