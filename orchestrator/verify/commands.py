"""Which commands verify a project by default, and how the agent is told it will be judged."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

_SKIP_DIRS = {
    ".git",
    ".sdd",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    "site-packages",
}


def has_tests(root: Path) -> bool:
    for _dir, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        if any(
            f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py"))
            for f in filenames
        ):
            return True
    return False


def default_commands(root: Path, python: str = sys.executable) -> list[str]:
    """pytest when the repository has tests, run by the interpreter that runs sdd."""
    return [f"{shlex.quote(python)} -m pytest -q"] if has_tests(root) else []


def describe(commands: Sequence[str]) -> str:
    """One line for the task message: how this task will be judged."""
    how = " && ".join(commands) if commands else "no test suite yet"
    return (
        f"{how}; changed Python files must compile; tests that passed before must still pass "
        "(tests you write first for not-yet-implemented code may stay red until the end of "
        "the phase)."
    )
