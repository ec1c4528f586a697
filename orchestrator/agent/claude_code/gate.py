"""sdd's rules for Claude Code's tool calls: the same path guard and Bash rules as sdd's own
tools, decided here and asked by the session's PreToolUse hook and `can_use_tool` callback.

Pure: a tool call (name, input) in, a refusal reason (or None) out. Tools whose effects the
gate cannot check (subagents, MCP servers, skills, scheduling) are refused outright.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from orchestrator.agent.tools.bash_rules import CommandRefused, Rule, check_command
from orchestrator.agent.tools.pathguard import PathGuard, ToolError

# Tools that act on files, and the inputs that name them.
PATH_INPUTS: Mapping[str, tuple[str, ...]] = {
    "Read": ("file_path",),
    "Write": ("file_path",),
    "Edit": ("file_path",),
    "MultiEdit": ("file_path",),
    "NotebookEdit": ("notebook_path",),
    "Glob": ("path",),
    "Grep": ("path",),
    "LS": ("path",),
}
GLOB_INPUTS: Mapping[str, tuple[str, ...]] = {"Glob": ("pattern",), "Grep": ("glob",)}
# Tools that touch nothing outside the conversation (and, for the web, nothing on disk).
INERT = frozenset({"TodoWrite", "WebFetch", "WebSearch"})
# What a session offers when the agent names no `tools:`: the editing tools, no network.
DEFAULT_TOOLS = (
    *("Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "Glob", "Grep", "Bash", "TodoWrite"),
)
_GLOB_CHARS = "*?[{"


def offered(agent_tools: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """(tools the session offers, the agent's tools the gate cannot check and so drops)."""
    wanted = list(DEFAULT_TOOLS if agent_tools is None else agent_tools)
    known = [t for t in wanted if t in PATH_INPUTS or t in INERT or t == "Bash"]
    return known, [t for t in wanted if t not in known]


class Gate:
    """Decides one tool call of one session in one work tree, with the path guard and Bash
    rules of sdd's own toolbox for that work tree."""

    def __init__(
        self,
        guard: PathGuard,
        tools: Sequence[str],
        *,
        allow: Sequence[Rule] = (),
        deny: Sequence[Rule] = (),
    ) -> None:
        self.guard, self.tools = guard, frozenset(tools)
        self.allow, self.deny = tuple(allow), tuple(deny)

    def check(self, name: str, tool_input: Mapping[str, Any]) -> str | None:
        """Why sdd refuses this call, or None when its rules allow it."""
        if name not in self.tools:
            return (
                f"{name} is not a tool this agent may use (it may: {', '.join(sorted(self.tools))})"
            )
        if name == "Bash":
            return self._bash(tool_input)
        for key in PATH_INPUTS.get(name, ()):
            value = tool_input.get(key)
            if value is None:
                continue
            problem = self._path(value)
            if problem:
                return f"{name}: {problem}"
        for key in GLOB_INPUTS.get(name, ()):
            value = tool_input.get(key)
            if isinstance(value, str):
                problem = self._pattern(value)
                if problem:
                    return f"{name}: {problem}"
        return None

    def check_blocked(self, path: str | None) -> str | None:
        """A path Claude Code found a command reaching outside its working directory."""
        if not path:
            return None
        problem = self._path(path)
        return f"the command reaches {path!r}: {problem}" if problem else None

    def _bash(self, tool_input: Mapping[str, Any]) -> str | None:
        command = tool_input.get("command")
        if not isinstance(command, str):
            return "Bash: the command must be a string"
        if tool_input.get("run_in_background"):
            return "Bash: sdd runs commands in the foreground only; drop run_in_background"
        try:
            check_command(command, self.allow, self.deny)
        except CommandRefused as e:
            return f"Bash: {e}"
        return None

    def _path(self, value: object) -> str | None:
        if not isinstance(value, str):
            return "the path must be a string"
        try:
            self.guard.resolve(os.path.expanduser(value) if value.startswith("~") else value)
        except ToolError as e:
            return str(e)
        return None

    def _pattern(self, pattern: str) -> str | None:
        """A glob may not climb out (`..`), start outside the work tree or name `.git`/`.sdd`."""
        parts = PurePosixPath(os.path.expanduser(pattern)).parts
        if ".." in parts:
            return f"the pattern {pattern!r} climbs out of the workspace"
        literal = [not any(c in part for c in _GLOB_CHARS) for part in parts]
        static = parts[: literal.index(False) if False in literal else len(parts)]
        if static and static[0] == "/":
            return self._path(str(PurePosixPath(*static)))
        for part, plain in zip(parts, literal, strict=True):
            problem = self._path(part) if plain else None
            if problem:
                return f"the pattern {pattern!r} names {part!r}: {problem}"
        return None
