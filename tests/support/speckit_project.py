"""Real spec-kit projects for the tests: `specify init` (PyPI specify-cli, offline) in a fresh
git repository, a feature written from spec-kit's own templates, and the tools run the way a
person runs them, with the virtualenv's `sdd` and `specify` first on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.repo import git

BIN = Path(sys.executable).parent


def specify_executable() -> str | None:
    beside = BIN / "specify"
    return str(beside) if beside.is_file() else shutil.which("specify")


def tool_env() -> dict[str, str]:
    """No spec-kit overrides from the outside, no colour, this venv's `sdd` and `specify`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPECIFY_")}
    return env | {"NO_COLOR": "1", "COLUMNS": "200", "PATH": f"{BIN}{os.pathsep}{env['PATH']}"}


def tool(root: Path, *argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """A command in the project, as a person runs it; never raises on its exit code."""
    return subprocess.run(
        list(argv),
        cwd=root,
        env=tool_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def specify(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = specify_executable()
    assert exe is not None
    return tool(root, exe, *args)


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return tool(root, str(BIN / "sdd"), *args)


def need_tools() -> None:
    if specify_executable() is None:
        pytest.skip("the spec-kit CLI (`specify`, PyPI specify-cli) is not installed")
    if not (BIN / "sdd").is_file():
        pytest.skip("no `sdd` console script beside the interpreter (pip install -e .)")


CALC_TASKS = """
## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)

## Phase 2: User Story 1 - Multiply (Priority: P1)

- [ ] T002 [US1] Implement multiply in calc/mul.py
- [ ] T003 [US1] Implement power in calc/power.py
"""


def speckit_project(tmp_path: Path, tasks: str = CALC_TASKS, integration: str = "claude") -> Path:
    """`specify init --here` in a git repository, then a feature `001-calc` from its templates
    (with `tasks`), a package and a passing test, all committed."""
    need_tools()
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "user@example.invalid")
    done = specify(
        root, "init", "--here", "--force", "--non-interactive", "--integration", integration,
        "--ignore-agent-tools",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    templates = root / ".specify" / "templates"
    feature = root / "specs" / "001-calc"
    feature.mkdir(parents=True)
    for doc in ("spec", "plan"):
        text = (templates / f"{doc}-template.md").read_text(encoding="utf-8")
        (feature / f"{doc}.md").write_text(_fill(text), encoding="utf-8")
    head = _fill((templates / "tasks-template.md").read_text(encoding="utf-8"))
    (feature / "tasks.md").write_text(head[: head.index("## Phase 1:")] + tasks.lstrip())
    (root / ".specify" / "feature.json").write_text(
        json.dumps({"feature_directory": "specs/001-calc"})
    )
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "tests").mkdir()
    (root / "tests" / "test_base.py").write_text("def test_base():\n    assert True\n")
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "calc: spec-kit project and feature 001-calc")
    return root


def _fill(template: str) -> str:
    return (
        template.replace("[FEATURE NAME]", "Calc")
        .replace("[###-feature-name]", "001-calc")
        .replace("[DATE]", "2026-01-01")
        .replace("$ARGUMENTS", "add, multiply and power of numbers")
    )


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
