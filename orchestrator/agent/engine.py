"""The engine seam: who runs a task's attempts. sdd's own tool loop over the Messages API
(`anthropic`), or a Claude Code session per attempt through the Claude Agent SDK
(`claude-code`). Both take the same `Job` and report through the same `Hooks`, so the run
around them (git, verification, records, budgets) never asks which one it has. `engines`
makes the one a run asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestrator.agent.journal import Journal
from orchestrator.agent.loop import Hooks, Limits, LoopResult, run_task_loop
from orchestrator.agent.model import Block, Model
from orchestrator.agent.tools.toolbox import Toolbox


@dataclass(frozen=True)
class Job:
    """One task's attempts as the run hands them to an engine."""

    task_id: str
    root: Path  # the work tree: the repository, or a wave's worktree
    model_id: str
    system: list[Block]  # the run-stable system prompt (agent body, rules, documents)
    first_message: str
    limits: Limits
    check_task: bool  # a pure check may land without a change
    toolbox: Toolbox  # sdd's tools and rules in this work tree: its path guard, Bash rules,
    # and the list of the agent's Bash commands (a check's evidence) every engine adds to
    tools: tuple[str, ...] | None = None  # the agent's `tools:`; None = every tool
    env: Mapping[str, str] = field(default_factory=dict)  # before scrubbing: a CLI's own
    writing: Callable[[], AbstractContextManager[None]] = nullcontext  # while the agent may
    # write (the footprint's in-flight window, in the repository's own work tree)
    journal: Journal | None = None  # where the conversation is kept step by step, to resume


class AgentEngine(Protocol):
    name: str  # "anthropic" | "claude-code"
    model: str  # the run's model (an id, or scripted:PATH), as records and output show it

    def describe(self) -> str:
        """What the run banner says about the engine and its credential (never the secret)."""
        ...

    def run_task(self, job: Job, hooks: Hooks) -> LoopResult: ...


class AnthropicEngine:
    """sdd's own loop: its tools, its conversation, one `Model` call per turn."""

    name = "anthropic"

    def __init__(self, model: Model) -> None:
        self._model = model
        self.model = model.name

    def describe(self) -> str:
        return f"model {self.model}"

    def run_task(self, job: Job, hooks: Hooks) -> LoopResult:
        return run_task_loop(
            model=self._model,
            model_id=job.model_id,
            system=job.system,
            toolbox=job.toolbox,
            task_id=job.task_id,
            first_message=job.first_message,
            limits=job.limits,
            check_task=job.check_task,
            hooks=hooks,
            journal=job.journal,
        )
