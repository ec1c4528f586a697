"""What `sdd init` finds in a repository before it writes anything: how tasks will be
verified, the agents and which takes unclaimed tasks, and whether spec-kit (a project made by
`specify init`, and its CLI) is there to install sdd's extension into."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.model import Config
from orchestrator.plan.agents import agent_dirs, load_agents
from orchestrator.speckit.integration import INTEGRATION_JSON, Integration, read_integration
from orchestrator.verify.commands import detect as detect_verification

SPECKIT_MARKERS = (INTEGRATION_JSON, ".specify/init-options.json")  # written by `specify init`


@dataclass(frozen=True, slots=True)
class VerifyDetection:
    """The commands that verify each task when the config leaves `verify` null, and why."""

    commands: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Detection:
    verify: VerifyDetection
    agents: tuple[tuple[str, str], ...]  # (name, where it comes from), in load order
    default_agent: str
    integration: Integration
    speckit_project: bool  # made by `specify init`: sdd's extension can be installed
    specify: str | None  # spec-kit's CLI, when installed


def detect_verify(root: Path) -> VerifyDetection:
    """How the project's tasks will be verified by default: the one place `sdd init` learns
    it; `verify.environment` chooses (the project's own environment, other test runners)."""
    found = detect_verification(root)
    why = "; ".join((found.reason, *found.warnings))
    return VerifyDetection(found.commands, why)


def find_specify() -> str | None:
    """spec-kit's `specify` on PATH, else beside the interpreter that runs sdd (one venv)."""
    beside = Path(sys.executable).parent / "specify"
    return shutil.which("specify") or (str(beside) if beside.is_file() else None)


def detect(root: Path, specify: str | None) -> Detection:
    found = load_agents(agent_dirs(root))  # a broken agent file is an error, before any write
    agents = tuple((a.name, a.source) for a in found.agents.values())
    speckit = any((root / marker).is_file() for marker in SPECKIT_MARKERS)
    default = Config().default_agent
    return Detection(detect_verify(root), agents, default, read_integration(root), speckit, specify)
