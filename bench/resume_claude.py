"""`bench_resume.py --engine claude-code`: what the bench needs to know about Claude Code
sessions. Their requests carry Claude Code's own messages around sdd's (an assistant
"No response requested." it adds on resume is not a model turn), and sdd's store holds a
session twice over: the entries Claude Code wrote and the SDK mirrored (`session` steps) and
each message as the session's stream gave it (`said` steps)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from support import stored
from support.claude_code import claude_env

ONCE = {"prompt_snapshot"}  # written twice per session, whatever its turns (the 2nd with tools)
FILLER = [{"type": "text", "text": "No response requested."}]


def turns_of(messages: list[dict[str, Any]]) -> int:
    """The model turns a request's conversation holds (Claude Code's filler left out)."""
    return sum(1 for m in messages if m.get("role") == "assistant" and m.get("content") != FILLER)


def env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, **claude_env(url, home)}


def storage(root: Path) -> dict[str, Any]:
    """What a task's Claude Code steps take in the store: `start`, the entries Claude Code
    writes as a session starts (before its first model turn: the prompt, the environment;
    and its system prompt and tools as snapshots), and `turns`, everything else, against the
    bytes of the turns' messages as the API carries them (each model turn's content, its
    tool results); per task, with the turns and the bytes by step kind."""
    out: dict[str, Any] = {"by_kind": {"said": 0, "session": 0}, "tasks": {}}
    messages: dict[str, dict[str, dict[str, Any]]] = {}  # task -> uuid -> message
    for r in stored.rows(root / ".sdd" / "state.sqlite", ("said", "session")):
        t = out["tasks"].setdefault(r.task, {"start": 0, "turns": 0, "ids": set()})
        step = json.loads(r.text)
        out["by_kind"][r.kind] += r.size
        mine = messages.setdefault(r.task, {})
        if r.kind == "said":
            t["turns"] += r.size
            if "uuid" in step:  # not what a tool gave its PostToolUse hook
                mine[step["uuid"]] = step["message"]
            continue
        entries = step["entries"]
        if any(e.get("type") == "assistant" for e in entries):
            t["ids"].add(step["id"])
        once = entries and all(
            e.get("type") == "attachment" and e["attachment"].get("type") in ONCE for e in entries
        )
        t["turns" if step["id"] in t["ids"] and not once else "start"] += r.size
        for e in entries:
            if isinstance(e.get("message"), dict):
                mine.setdefault(str(e.get("uuid")), e["message"])
    for task, t in out["tasks"].items():
        size, ids = 0, set()
        for m in messages.get(task, {}).values():
            if m.get("role") == "assistant":
                ids.add(m.get("id"))
                size += len(json.dumps(m["content"]))
            elif isinstance(m.get("content"), list):
                results = [b for b in m["content"] if b.get("type") == "tool_result"]
                size += len(json.dumps(results))
        t.update(message=size, n=len(ids))
        del t["ids"]
    return out


def only_streamed(root: Path) -> tuple[int, int]:
    """(model turns, tool results) a killed run's store holds only as the stream gave them:
    Claude Code had not written them when the kill came."""
    if not (root / ".sdd" / "state.sqlite").is_file():
        return 0, 0  # killed before the run opened its store
    mirrored: set[str] = set()
    said: list[dict[str, Any]] = []
    for r in stored.rows(root / ".sdd" / "state.sqlite", ("said", "session")):
        step = json.loads(r.text)
        if r.kind == "session":
            mirrored.update(str(e.get("uuid")) for e in step["entries"] if isinstance(e, dict))
        elif "uuid" in step:
            said.append(step)
    lost = [s for s in said if s["uuid"] not in mirrored]
    turns = len({s["message"].get("id") for s in lost if s["message"]["role"] == "assistant"})
    return turns, sum(1 for s in lost if s["message"]["role"] == "user")
