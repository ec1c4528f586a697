"""An installed sdd (not the source tree) must carry every module, its agents, the whole demo
project and its spec-kit extension (with the workflow step type and workflows)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_carries_the_agents_the_demo_and_the_speckit_extension(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "setuptools" in done.stderr:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "orchestrator").rglob("*.py")}
    assert modules - names == set()  # every subpackage is listed in pyproject
    for agent in (ROOT / "agents").glob("*.md"):
        assert f"orchestrator/builtin_agents/{agent.name}" in names
    example = ROOT / "examples"
    shipped = {
        f"orchestrator/demo_data/{p.relative_to(example).as_posix()}"
        for p in example.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped - names == set()
    assert "orchestrator/demo_data/todo-api/.specify/memory/constitution.md" in names
    extension = ROOT / "speckit-extension"
    carried = {
        f"orchestrator/speckit_extension/{p.relative_to(extension).as_posix()}"
        for p in extension.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert carried - names == set()
    for inside in (".extensionignore", "extension.yml", "step/__init__.py", "step/step.yml"):
        assert f"orchestrator/speckit_extension/{inside}" in names
