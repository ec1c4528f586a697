"""The tools an agent edits a repository with (Claude Code's names and input shapes).

Every path an agent names goes through one PathGuard: resolved with symlinks, it must stay in the
workspace and out of `.git`/`.sdd`. A failing tool call becomes an error result the model can
read; it never raises into the agent loop.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.agent.tools.bash import run_command
from orchestrator.agent.tools.bash_rules import CommandRefused, Rule, check_command
from orchestrator.agent.tools.files import FileTools
from orchestrator.agent.tools.inputs import MODELS, TOOL_NAMES, BashInput, input_error, schemas
from orchestrator.agent.tools.pathguard import PathGuard, ToolError
from orchestrator.agent.tools.sandbox import Sandbox
from orchestrator.procs import scrubbed_env


@dataclass(frozen=True, slots=True)
class ToolResult:
    content: str
    is_error: bool = False


def tool_step(name: str, tool_input: object, root: Path) -> str:
    """A tool call as a step people read: the tool and its file, pattern or command."""
    if not isinstance(tool_input, dict):
        return name
    for key in ("file_path", "path", "notebook_path", "pattern", "command"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            if key != "command" and value.startswith(str(root) + os.sep):
                value = value[len(str(root)) + 1 :]
            return f"{name} {' '.join(value.split())}"
    return name


class Toolbox:
    """The tools one agent may use in one workspace; `watch`, when set, is told each call as
    a step ("Edit app/x.py"), for the live progress line."""

    watch: Callable[[str], None] | None = None

    def __init__(
        self,
        root: Path,
        *,
        allowed: Sequence[str] | None = None,
        bash_timeout: float = 300,
        bash_allow: Sequence[str] = (),
        bash_deny: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        max_output: int = 30_000,
        allow_env_files: bool = False,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.guard = PathGuard(Path(root), allow_env_files=allow_env_files)
        self.files = FileTools(self.guard, max_output)
        wanted = set(TOOL_NAMES if allowed is None else allowed)
        self.names = tuple(n for n in TOOL_NAMES if n in wanted)
        self.bash_timeout = bash_timeout
        self.bash_allow = tuple(Rule.parse(r) for r in bash_allow)
        self.bash_deny = tuple(Rule.parse(r) for r in bash_deny)
        self.env = scrubbed_env(os.environ if env is None else env)
        self.max_output = max_output
        self.sandbox = sandbox
        self.ran: list[tuple[str, bool]] = []  # Bash commands run, and whether each exited 0

    def schemas(self) -> list[dict[str, Any]]:
        """Tool definitions for the Messages API; identical for every Toolbox with these tools."""
        return [copy.deepcopy(schemas()[n]) for n in self.names]

    def call(self, name: str, tool_input: object) -> ToolResult:
        if self.watch is not None:
            self.watch(tool_step(name, tool_input, self.guard.root))
        if name not in self.names:
            known = "unknown tool" if name not in TOOL_NAMES else "tool not available to this agent"
            return ToolResult(f"{known}: {name!r} (available: {', '.join(self.names)})", True)
        if not isinstance(tool_input, dict):
            return ToolResult(
                f"{name}: input must be an object, not {type(tool_input).__name__}", True
            )
        model = MODELS[name]
        try:
            args = model.model_validate(tool_input)
        except ValidationError as e:
            return ToolResult(input_error(name, model, e), True)
        try:
            if isinstance(args, BashInput):
                return self._bash(args)
            return ToolResult(getattr(self.files, name.lower())(args))
        except ToolError as e:
            return ToolResult(f"{name}: {e}", True)
        except (UnicodeEncodeError, UnicodeDecodeError) as e:
            return ToolResult(f"{name}: text cannot be encoded or decoded ({e.reason})", True)
        except OSError as e:
            where = f" ({self.guard.display(Path(e.filename))})" if e.filename else ""
            return ToolResult(f"{name}: {e.strerror or e}{where}", True)
        except Exception as e:  # a tool bug must not end the agent loop; the transcript shows it
            return ToolResult(f"{name}: failed ({type(e).__name__}: {e})", True)

    def _bash(self, a: BashInput) -> ToolResult:
        try:
            check_command(a.command, self.bash_allow, self.bash_deny)
        except CommandRefused as e:
            return ToolResult(f"Bash: {e}", True)
        timeout = min(a.timeout / 1000, self.bash_timeout)
        out, failed = run_command(
            a.command, self.guard.root, self.env, timeout, self.max_output, self.sandbox
        )
        self.ran.append((a.command, not failed))
        return ToolResult(out, failed)
