"""The toolbox an attempt's agent works with: its tools and Bash rules, the optional sandbox,
and, in the repository's own work tree, the footprint kept on record around every call that
can write."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orchestrator import paths
from orchestrator.agent.tools.sandbox import Sandbox
from orchestrator.agent.tools.toolbox import Toolbox, ToolResult
from orchestrator.plan.agents import AgentDef
from orchestrator.run.context import RunContext
from orchestrator.run.footprint import Footprint
from orchestrator.run.workspace import Workspace

_READ_ONLY = frozenset({"Read", "Glob", "Grep"})


class Recorded(Toolbox):
    """A toolbox whose calls that can write run with the footprint on record, so a crash in
    the middle of one is told apart from the user's edits."""

    footprint: Footprint | None = None

    def call(self, name: str, tool_input: object) -> ToolResult:
        if self.footprint is None or name in _READ_ONLY:
            return super().call(name, tool_input)
        with self.footprint.in_flight():
            return super().call(name, tool_input)


def agent_env(root: Path, bin_dir: str = "") -> dict[str, str]:
    """The agent's `python` is the interpreter that verifies its work, so both see one world:
    the project environment's `bin_dir` (relative to `root`), else the interpreter running
    sdd."""
    env = dict(os.environ)
    first = str(root / bin_dir) if bin_dir else str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([first, env.get("PATH", "")])
    return env


def agent_toolbox(
    ctx: RunContext,
    ws: Workspace,
    agent: AgentDef,
    env: dict[str, str],
    footprint: Footprint | None,
) -> Recorded:
    cfg = ctx.plan.config
    toolbox = Recorded(
        ws.root,
        allowed=agent.tools,
        bash_timeout=cfg.limits.bash_timeout,
        bash_allow=[*cfg.bash.allow, *agent.bash_rules],
        bash_deny=cfg.bash.deny,
        allow_env_files=cfg.allow_env_files,
        env=env,
        sandbox=sandbox_for(ctx, ws) if cfg.bash.sandbox == "bwrap" else None,
    )
    toolbox.footprint = footprint
    return toolbox


def sandbox_for(ctx: RunContext, ws: Workspace) -> Sandbox:
    """The agent's Bash may write its workspace only; `$HOME` and sdd's state are hidden."""
    home = Path(os.environ.get("HOME") or Path.home())
    return Sandbox(ws.root, (home, paths.state_dir(ctx.root)), (ws.repo.root / ".git",))
