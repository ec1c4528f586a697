"""Playing the model for real Claude Code sessions: a loopback-server handler that answers
each request with the next turn of its task's script.

Claude Code sends its own requests (its system prompt and tools, its first user message
with a reminder before sdd's task text, a `system` message with the environment), so the
task is found by the `# Task Txxx` line sdd writes, and the turn by how many assistant
messages the conversation already holds (a resumed session carries them all). Every reply
gets an id and tool ids of its own: Claude Code joins streamed replies that share an id.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.messages_server import Reply, message, text_block, tool_use_block

Turn = list[dict[str, Any]]  # content blocks; tool_use blocks get their id when served
TASK_LINE = re.compile(r"^# Task (T\d+)", re.MULTILINE)
SENTINEL_KEY = "sk-ant-SENTINEL-cc-1234567890abcdef"


def write(path: str, content: str) -> dict[str, Any]:
    return {"type": "tool_use", "name": "Write", "input": {"file_path": path, "content": content}}


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": tool_input}


def bash(command: str) -> dict[str, Any]:
    return tool("Bash", command=command, description="run a command")


def texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


def task_of(body: Mapping[str, Any]) -> str | None:
    """The task id from the first user message, as `prompt.task_message` writes it."""
    for msg in body.get("messages") or []:
        if msg.get("role") == "user":
            found = TASK_LINE.search(texts(msg.get("content")))
            return found.group(1) if found else None
    return None


@dataclass
class Served:
    index: int  # the request's index on the server
    task: str | None
    usage: dict[str, int]
    tool_ids: list[str]
    message_id: str


@dataclass
class ScriptedAgent:
    """The handler: `turns[task]` in order, then a closing text. `faults[(task, turn)]` are
    served first, one per request, for that turn (an error and its retries)."""

    turns: dict[str, list[Turn]]
    faults: dict[tuple[str, int], list[Reply]] = field(default_factory=dict)
    served: list[Served] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        task = task_of(body)
        cursor = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
        with self._lock:
            pending = self.faults.get((task or "", cursor))
            if pending:
                return pending.pop(0)
        script = self.turns.get(task or "", [])
        blocks = script[cursor] if cursor < len(script) else [text_block("Nothing more to do.")]
        content, ids = [], []
        for k, block in enumerate(blocks):
            if block["type"] == "tool_use":
                ids.append(f"toolu_{index:03d}_{k}")
                block = tool_use_block(ids[-1], block["name"], block["input"])
            content.append(block)
        usage = usage_for(index)
        reply = message(content, "tool_use" if ids else "end_turn", usage, id=f"msg_{index:03d}")
        with self._lock:
            self.served.append(Served(index, task, usage, ids, f"msg_{index:03d}"))
        return reply

    def of(self, task: str) -> list[Served]:
        return [s for s in self.served if s.task == task]

    def totals(self, task: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.of(task):
            for key, value in s.usage.items():
                out[key] = out.get(key, 0) + value
        return out


def usage_for(index: int) -> dict[str, int]:
    """Distinct figures per request, so a miscounted call shows in the totals."""
    return {
        "input_tokens": 1000 + 7 * index,
        "output_tokens": 40 + 3 * index,
        "cache_creation_input_tokens": 500 if index == 0 else 11 * index,
        "cache_read_input_tokens": 0 if index == 0 else 2000 + 13 * index,
    }


def claude_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """What a test sets for a run on the claude-code engine: the loopback server, a key,
    an empty home (no user settings, no login), and Claude Code kept quiet."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": SENTINEL_KEY,
        "HOME": str(home),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        **extra,
    }


def apply_env(setenv: Callable[[str, str], None], env: Mapping[str, str]) -> None:
    for key, value in env.items():
        setenv(key, value)
