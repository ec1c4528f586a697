"""The offline model: plays a YAML/JSON script of assistant turns per task.

Everything but the network runs for real against it (tools, verification, git, resume), so
the demo, the tests and the benchmarks need no key. Script shape::

    latency: 0                  # optional seconds slept per turn
    tasks:
      T001:
        - text: "Creating the package."
          tools:
            - Write: {file_path: app/__init__.py, content: ""}
        - text: "Created the app package."   # no tools: the turn ends the attempt
    default:                    # optional: turns for tasks not listed
      - text: "Nothing to change."

A turn may also set `stop_reason` (e.g. max_tokens) to replay how the API ends a turn.
The cursor is stateless: the turn played is the number of assistant messages already in the
request, so a resumed task replays from its start and verification feedback (a user message)
moves on to the next turn.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestrator.agent.model import Block, ModelRequest, ModelTurn, Usage
from orchestrator.errors import InputError
from orchestrator.speckit.documents import regular_bytes

TOP_KEYS = ("latency", "tasks", "default")
TURN_KEYS = ("text", "tools", "stop_reason")
CHARS_PER_TOKEN = 4

Where = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ScriptTurn:
    text: str
    tools: tuple[tuple[str, dict[str, Any]], ...]
    stop_reason: str


@dataclass(frozen=True, slots=True)
class Script:
    tasks: dict[str, list[ScriptTurn]]
    default: list[ScriptTurn] | None
    latency: float


class _ShapeError(Exception):
    def __init__(self, where: Where, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def _where_text(where: Where) -> str:
    text = ""
    for key in where:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else str(key)
    return text


def _line_of(node: yaml.Node | None, where: Where) -> int | None:
    """The line of the deepest YAML node on the path, to point the user at the problem."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in where:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _read(path: Path) -> tuple[Any, yaml.Node | None]:
    if not os.path.lexists(path):
        raise InputError(f"model script {path} does not exist")
    try:
        text = regular_bytes(path, f"model script {path}").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read model script {path}: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text), None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    # libyaml's loader when present: a 1,000-task script loads in ~0.1 s instead of ~0.5 s
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark else ""
        problem = exc.problem or exc.context or "unreadable"
        raise InputError(f"{path}: {line}invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _tool(entry: Any, where: Where) -> tuple[str, dict[str, Any]]:
    if not (isinstance(entry, dict) and len(entry) == 1):
        raise _ShapeError(
            where, "a tool call must be a one-key mapping like {Read: {file_path: x}}"
        )
    ((name, args),) = entry.items()
    if not isinstance(name, str) or not name:
        raise _ShapeError(where, f"tool name must be a string, not {name!r}")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise _ShapeError((*where, name), f"the input of {name} must be a mapping of arguments")
    return name, args


def _turn(raw: Any, where: Where) -> ScriptTurn:
    if not isinstance(raw, dict):
        raise _ShapeError(where, "a turn must be a mapping with 'text' and/or 'tools'")
    for key in raw:
        if key not in TURN_KEYS:
            raise _ShapeError((*where, key), f"unknown turn key; expected {', '.join(TURN_KEYS)}")
    text, tools = raw.get("text", ""), raw.get("tools") or []
    if not isinstance(text, str):
        raise _ShapeError((*where, "text"), "text must be a string")
    if not isinstance(tools, list):
        raise _ShapeError((*where, "tools"), "tools must be a list of one-key mappings")
    if not text and not tools:
        raise _ShapeError(where, "a turn needs 'text' or 'tools'")
    calls = tuple(_tool(entry, (*where, "tools", k)) for k, entry in enumerate(tools))
    stop = raw.get("stop_reason", "tool_use" if calls else "end_turn")
    if not isinstance(stop, str) or not stop:
        raise _ShapeError((*where, "stop_reason"), "stop_reason must be a string")
    return ScriptTurn(text, calls, stop)


def _turns(raw: Any, where: Where) -> list[ScriptTurn]:
    if not isinstance(raw, list):
        raise _ShapeError(where, "expected a list of turns")
    return [_turn(item, (*where, i)) for i, item in enumerate(raw)]


def _script(data: Any) -> Script:
    if not isinstance(data, dict):
        raise _ShapeError(
            (), "a script is a mapping with 'tasks' (and optional 'default', 'latency')"
        )
    for key in data:
        if key not in TOP_KEYS:
            raise _ShapeError((key,), f"unknown key; expected {', '.join(TOP_KEYS)}")
    if "tasks" not in data and "default" not in data:
        raise _ShapeError((), "a script needs 'tasks' or 'default'")
    latency = data.get("latency", 0)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
        raise _ShapeError(("latency",), "latency must be a number of seconds >= 0")
    tasks = data.get("tasks") or {}
    if not isinstance(tasks, dict):
        raise _ShapeError(("tasks",), "tasks must map task ids to lists of turns")
    default = data.get("default")
    return Script(
        tasks={str(task): _turns(turns, ("tasks", task)) for task, turns in tasks.items()},
        default=None if default is None else _turns(default, ("default",)),
        latency=float(latency),
    )


def load_script(path: Path) -> Script:
    """Read and check a script up front, so a typo fails the run before any task starts."""
    data, node = _read(path)
    try:
        return _script(data)
    except _ShapeError as exc:
        line = _line_of(node, exc.where)
        at = f"line {line}: " if line else ""
        where = f"{_where_text(exc.where)}: " if exc.where else ""
        raise InputError(f"{path}: {at}{where}{exc.message}") from None


def estimate_tokens(value: object) -> int:
    """About 4 characters a token: enough for offline runs to show plausible, non-zero usage."""
    chars = len(json.dumps(value, ensure_ascii=False, default=str))
    return max(1, math.ceil(chars / CHARS_PER_TOKEN))


class ScriptedModel:
    """Plays a script; stateless between calls, so it is safe across threads and resumes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"scripted:{path}"
        self.script = load_script(path)

    def _content(self, task: str, cursor: int) -> tuple[list[Block], str]:
        turns = self.script.tasks.get(task, self.script.default)
        if turns is None or cursor >= len(turns):
            note = (
                f"The script has no turns for task {task}."
                if turns is None
                else f"The script for task {task} is exhausted after {len(turns)} turns."
            )
            return [{"type": "text", "text": note}], "end_turn"
        turn = turns[cursor]
        content: list[Block] = [{"type": "text", "text": turn.text}] if turn.text else []
        for k, (name, args) in enumerate(turn.tools):
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{task}_{cursor}_{k}",
                    "name": name,
                    "input": copy.deepcopy(args),
                }
            )
        return content, turn.stop_reason

    def complete(self, request: ModelRequest) -> ModelTurn:
        if self.script.latency:
            time.sleep(self.script.latency)
        cursor = sum(1 for m in request.messages if m.get("role") == "assistant")
        content, stop_reason = self._content(request.task_id, cursor)
        usage = Usage(
            input_tokens=estimate_tokens([request.system, request.tools, request.messages]),
            output_tokens=estimate_tokens(content),
        )
        return ModelTurn(content, stop_reason, usage, self.name)
