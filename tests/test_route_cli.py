"""`sdd plan` and `sdd route` through the real CLI: the routes with their candidates, each
agent's model and tools, one task's full explanation, and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MIXED = Path(__file__).parent / "fixtures" / "mixed"
PINNED = {
    "id", "description", "done", "parallel", "story", "phase", "files", "depends_on", "agent",
    "route_reason", "line",
}  # fmt: skip
AUTH = """---
name: auth-dev
description: Authentication specialist for JWT and OAuth2 flows.
tools: Read, Edit, Grep
model: haiku
sdd:
  paths: [backend/src/api/deps.py]
---

You implement authentication carefully.
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "proj"
    feature = root / "specs" / "002-task-board"
    feature.mkdir(parents=True)
    for name in ("spec.md", "plan.md", "tasks.md"):
        shutil.copy(MIXED / name, feature / name)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".claude" / "agents").mkdir(parents=True)
    shutil.copy(MIXED / "agents" / "react-frontend-dev.md", root / ".claude" / "agents")
    (root / ".claude" / "agents" / "auth-dev.md").write_text(AUTH)
    return root


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args, "--repo", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_plan_json_keeps_its_fields_and_adds_candidates(root: Path) -> None:
    done = sdd(root, "plan", "002", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    tasks = {t["id"]: t for t in data["tasks"]}
    assert len(tasks) == 32
    for t in tasks.values():
        assert set(t) >= PINNED
        assert t["routed_by"] == "rules"
        cands = t["candidates"]
        assert cands[0]["agent"] == t["agent"]
        assert {c["agent"] for c in cands} == {
            "fastapi-backend-dev", "generalist", "react-frontend-dev", "auth-dev",
        }  # fmt: skip
        assert [c["score"] for c in cands] == sorted((c["score"] for c in cands), reverse=True)
        for c in cands:
            assert c["score"] == round(sum(s["weight"] for s in c["signals"]), 3)
            assert all(set(s) == {"kind", "detail", "weight"} for s in c["signals"])
    assert tasks["T016"]["agent"] == "react-frontend-dev"
    assert tasks["T009"]["agent"] == "auth-dev"  # its sdd.paths hint claims deps.py
    assert (tasks["T009"]["model"], tasks["T009"]["tools"]) == ("haiku", ["Read", "Edit", "Grep"])
    assert tasks["T006"]["agent"] == "fastapi-backend-dev"
    assert (tasks["T016"]["model"], tasks["T016"]["tools"]) == ("inherit", None)


def test_plan_table_shows_each_agents_model_and_tools(root: Path) -> None:
    done = sdd(root, "plan", "002")
    assert done.returncode == 0, done.stderr
    assert "auth-dev: haiku, Read, Edit, Grep" in done.stdout
    assert "react-frontend-dev: inherit, all tools" in done.stdout
    assert "\x1b[" not in done.stdout  # NO_COLOR


def test_route_explains_one_task(root: Path) -> None:
    done = sdd(root, "route", "002", "t16")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "T016 Create the Column component" in out
    assert "→ react-frontend-dev (model inherit, all tools)" in out
    assert "decided by the scores below" in out
    lines = out.splitlines()
    start = lines.index("candidates, best first:")
    assert lines[start + 1].startswith("  react-frontend-dev  ")
    assert any(line.strip().startswith("-8.00  language") for line in lines)  # the Python agent
    assert "what would change it:" in out
    assert "routes: [{agent: NAME, glob: 'frontend/src/components/**'}]" in out
    data = json.loads(sdd(root, "route", "002", "T026", "--json").stdout)
    assert data["task"] == "T026" and data["close"] is True
    assert any("routing: model" in c for c in data["changes"])
    assert data["candidates"][0]["agent"] == data["agent"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route", "002", "T999"), "error: no task T999 in 002-task-board/tasks.md; nearby: "),
        (("route", "009", "T001"), "error: "),
    ],
)
def test_route_errors_are_one_line(root: Path, args: tuple[str, ...], message: str) -> None:
    done = sdd(root, *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
