"""`sdd demo`: the example project in a fresh git repository, ready for an offline run."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from orchestrator.config.model import CONFIG_PATH
from orchestrator.errors import InputError
from orchestrator.git.runner import init_repo

EXAMPLE = "todo-api"


def demo_config(python: str = sys.executable) -> str:
    """The demo project has no environment of its own: sdd's `demo` extra installed its
    dependencies (FastAPI, pytest) beside sdd, so its tests run with sdd's interpreter."""
    return (
        "# The demo's dependencies (FastAPI, pytest) come with sdd's `demo` extra, so its\n"
        "# tests run with the interpreter running sdd. A project of your own would use its\n"
        "# environment (.venv, uv, poetry...), which sdd finds without this line.\n"
        f"verify: [{json.dumps(f'{shlex.quote(python)} -m pytest -q')}]\n"
    )


def examples_dir() -> Path:
    """The shipped examples: inside the installed package, else the source tree's examples/."""
    installed = resources.files("orchestrator") / "demo_data"
    if isinstance(installed, Path) and (installed / EXAMPLE).is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "examples"


def prepare_demo(target: Path | None = None) -> tuple[Path, Path]:
    """Copy the example, commit it, and return (repository, scripted-model script)."""
    source = examples_dir()
    script = source / f"{EXAMPLE}.script.yaml"
    if not (source / EXAMPLE).is_dir() or not script.is_file():
        raise InputError(f"the demo example is missing from {source}; reinstall sdd")
    if target is None:
        target = Path(tempfile.mkdtemp(prefix="sdd-demo-")) / EXAMPLE
    elif target.exists() and any(target.iterdir()):
        raise InputError(f"{target} is not empty; choose a new directory for the demo")
    shutil.copytree(
        source / EXAMPLE,
        target,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".sdd"),
    )
    (target / CONFIG_PATH).write_text(demo_config(), encoding="utf-8")
    init_repo(
        target,
        "sdd demo",
        "demo@sdd.invalid",
        "Todo API: spec-kit feature 001-todo-api, before sdd",
    )
    return target, script
