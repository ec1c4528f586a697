"""Which AI integration the spec-kit project was set up for, and how its people call spec-kit's
commands there, so every hint names the command they actually type: `/speckit-plan` where the
integration renders commands as skills (Claude Code in spec-kit 1.2), `/speckit.plan` where it
renders them as commands. Read from `.specify/integration.json` the way spec-kit's own scripts
read it (`get_invoke_separator`): anything missing or unreadable means the dotted form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

INTEGRATION_JSON = ".specify/integration.json"
SEPARATORS = (".", "-")


@dataclass(frozen=True, slots=True)
class Integration:
    key: str  # "claude", "copilot", ... ("" when the project does not say)
    separator: str  # "-" for skills, "." for commands

    def command(self, name: str) -> str:
        """How `plan` or `speckit.sdd.run` is typed: `/speckit-plan`, `/speckit.sdd.run`."""
        short = name.removeprefix("/").removeprefix("speckit.").removeprefix("speckit-")
        return f"/speckit{self.separator}{short.replace('.', self.separator)}"


def read_integration(root: Path) -> Integration:
    """The project's default integration; never fails (hints must not cause errors)."""
    try:
        state = json.loads((root / INTEGRATION_JSON).read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError):
        return Integration("", ".")
    return parse_integration(state)


def parse_integration(state: object) -> Integration:
    if not isinstance(state, dict):
        return Integration("", ".")
    key = state.get("default_integration") or state.get("integration") or ""
    key = key if isinstance(key, str) else ""
    settings = state.get("integration_settings")
    entry = settings.get(key) if isinstance(settings, dict) else None
    separator = entry.get("invoke_separator") if isinstance(entry, dict) else None
    return Integration(key, separator if separator in SEPARATORS else ".")


def speckit_command(root: Path, name: str) -> str:
    return read_integration(root).command(name)
