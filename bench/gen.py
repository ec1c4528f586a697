"""Synthetic spec-kit projects for the benchmarks: N tasks with phases, [P] groups, shared
files and explicit dependencies, plus a zero-latency script (one Write per task).

    .venv/bin/python bench/gen.py DIR [N] [--words]   # a plan-only project (no git), N tasks
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import yaml

# Task texts shaped like real ones (a FastAPI backend and a React frontend, their tests, docs
# and setup), so routing reads as many words per task as it does on real features.
WORDS = (
    "Create the {x} SQLModel table with validation in {f}",
    "Implement GET /{x}s endpoint with pagination in {f}",
    "Write contract tests for POST /{x}s (201, 404, 422) in {f}",
    "Implement {X}Service.update_{x} keeping positions dense in {f}",
    "Create the {X}List React component with loading and error states in {f}",
    "Add an Alembic migration for the {x} index in {f}",
    "Document the {x} endpoints with curl examples in {f}",
    "Configure ESLint and Prettier for the {x} module in {f}",
    "Ensure {X}Service.get_{x} returns 404 to members of other teams",
    "Run the {x} test suite and verify every test passes",
)
FILES = (
    "backend/src/models/{x}.py",
    "backend/src/api/{x}s.py",
    "backend/tests/test_{x}s.py",
    "backend/src/services/{x}_service.py",
    "frontend/src/components/{X}List.tsx",
    "backend/alembic/versions/{n}_{x}.py",
    "docs/{x}.md",
    "frontend/.eslintrc.cjs",
    "",
    "",
)
PLAN = """# Implementation Plan: synthetic

## Technical Context

**Language/Version**: Python 3.12 (backend), TypeScript 5.4 (frontend)
**Primary Dependencies**: FastAPI, SQLModel, Alembic (backend); React 18, Vite (frontend)
**Testing**: pytest, Vitest
**Project Type**: web

## Project Structure

```text
backend/                 # FastAPI service
├── src/
│   ├── models/          # SQLModel tables
│   └── api/             # routers
frontend/                # React single-page app
```
"""


def tasks_md(n: int, seed: int = 7, words: bool = False) -> str:
    """N tasks; `words` gives them texts like real ones (`WORDS`) instead of "Implement part"."""
    rng = random.Random(seed)
    lines = ["# Tasks: synthetic", ""]
    per_phase = max(10, n // 20)
    for i in range(1, n + 1):
        if (i - 1) % per_phase == 0:
            lines += [
                "",
                f"## Phase {(i - 1) // per_phase + 1}: Phase {(i - 1) // per_phase + 1}",
                "",
            ]
        p = " [P]" if rng.random() < 0.6 else ""
        f = f"src/mod{rng.randrange(max(1, n // 4))}.py"
        dep = ""
        if i > 3 and rng.random() < 0.2:
            dep = f" (depends on T{rng.randrange(max(1, i - 15), i):04d})"
        text = f"Implement part {i} in {f}"
        if words:
            k = rng.randrange(len(WORDS))
            x = f"item{rng.randrange(max(1, n // 4))}"
            parts = {"x": x, "X": x.capitalize(), "n": f"{i:04d}"}
            text = WORDS[k].format(f=FILES[k].format(**parts), **parts)
        lines.append(f"- [ ] T{i:04d}{p} {text}{dep}")
    return "\n".join(lines) + "\n"


def plan_project(root: Path, n: int, words: bool = False) -> None:
    """Just enough of a spec-kit project for `sdd plan`: no git, no config, no script.

    `words`: tasks like real ones, and a plan whose Technical Context names the stack.
    """
    feature = root / "specs" / "001-synthetic"
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (feature / "spec.md").write_text("# doc\n")
    (feature / "plan.md").write_text(PLAN if words else "# doc\n")
    (feature / "tasks.md").write_text(tasks_md(n, words=words))


def project(root: Path, n: int, verify: list[str] | None = None) -> Path:
    """A git repository holding feature 001-synthetic; returns the script path."""
    feature = root / "specs" / "001-synthetic"
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n")
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump({"verify": verify or ["true"]}))
    (feature / "spec.md").write_text("# Spec\n")
    (feature / "plan.md").write_text("# Plan\n")
    text = tasks_md(n).replace("src/mod", "src/f")  # files only for the graph; writes below
    (feature / "tasks.md").write_text(text)
    script = {
        "tasks": {
            f"T{i:04d}": [
                {"tools": [{"Write": {"file_path": f"out/t{i:04d}.txt", "content": f"{i}\n"}}]},
                {"text": f"Wrote part {i}."},
            ]
            for i in range(1, n + 1)
        }
    }
    path = root.parent / f"script-{n}.yaml"
    path.write_text(yaml.safe_dump(script))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(
            ["git", *args],
            cwd=root,
            check=True,
            env={
                "GIT_AUTHOR_NAME": "b",
                "GIT_AUTHOR_EMAIL": "b@b",
                "GIT_COMMITTER_NAME": "b",
                "GIT_COMMITTER_EMAIL": "b@b",
                "PATH": "/usr/bin:/bin",
            },
        )
    return path


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--words"]
    plan_project(Path(args[0]), int(args[1]) if len(args) > 1 else 1000, "--words" in sys.argv)


ALTERNATING_PLAN = """# Implementation Plan: {name}

## Technical Context

**Language/Version**: Python 3.12
**Primary Dependencies**: FastAPI, Pydantic, SQLAlchemy 2 (async)
**Testing**: pytest
**Project Type**: web service

## Project Structure

```text
app/api/         # FastAPI routers
docs/            # user documentation
```
"""


def filler(topic: str, tokens: int) -> str:
    """Design-document prose of about `tokens` tokens (4 characters each), deterministic."""
    rng = random.Random(topic)
    words = [
        "entity",
        "field",
        "request",
        "response",
        "status",
        "owner",
        "index",
        "limit",
        "validation",
        "error",
        "page",
    ]
    lines, size = [f"# {topic}", ""], 0
    while size < tokens * 4:
        line = f"- The {rng.choice(words)} {rng.choice(words)} rule {size}: " + " ".join(
            rng.choice(words) for _ in range(14)
        )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


def alternating_project(root: Path, n: int, doc_tokens: int) -> Path:
    """A FastAPI feature of `n` tasks that alternate between an endpoint (the backend agent)
    and its documentation (the generalist), with about `doc_tokens` tokens of constitution,
    spec, plan and design docs; `verify: ["true"]`. Returns the script path (three turns a
    task: Write, Read, a summary)."""
    name = "001-alternating"
    feature = root / "specs" / name
    (feature / "contracts").mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump({"verify": ["true"]}))
    share = {  # of doc_tokens; data-model, research and contracts only for big features
        "constitution": 0.1, "spec": 0.3, "plan": 0.2, "data-model": 0.15, "research": 0.1,
        "contracts": 0.15,
    }  # fmt: skip
    if doc_tokens < 8000:
        share = {"constitution": 0.2, "spec": 0.5, "plan": 0.3}
    docs = {k: filler(k, int(doc_tokens * v)) for k, v in share.items()}
    (root / ".specify" / "memory" / "constitution.md").write_text(docs["constitution"])
    (feature / "spec.md").write_text(docs["spec"])
    (feature / "plan.md").write_text(ALTERNATING_PLAN.format(name=name) + docs["plan"])
    for key in ("data-model", "research"):
        if key in docs:
            (feature / f"{key}.md").write_text(docs[key])
    if "contracts" in docs:
        (feature / "contracts" / "api.md").write_text(docs["contracts"])
    lines, tasks = ["# Tasks", "", "## Phase 1: Items", ""], {}
    for i in range(1, n + 1):
        k = (i + 1) // 2
        if i % 2:
            path = f"app/api/items{k}.py"
            text = f"Implement the GET /items{k} FastAPI endpoint router in {path}"
            content = f"from fastapi import APIRouter\n\nrouter = APIRouter()  # items{k}\n"
        else:
            path = f"docs/items{k}.md"
            text = f"Document the /items{k} endpoint with curl examples in {path}"
            content = f"# /items{k}\n\n`curl localhost:8000/items{k}`\n"
        lines.append(f"- [ ] T{i:03d} {text}")
        tasks[f"T{i:03d}"] = [
            {"tools": [{"Write": {"file_path": path, "content": content}}]},
            {"tools": [{"Read": {"file_path": path}}]},
            {"text": f"Wrote {path}."},
        ]
    (feature / "tasks.md").write_text("\n".join(lines) + "\n")
    script = root.parent / "script.yaml"
    script.write_text(yaml.safe_dump({"tasks": tasks}))
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b", "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    return script


def parts_project(
    root: Path,
    feature: str,
    config: dict[str, object],
    task_lines: list[str],
    test_files: list[str],
    latency: float,
) -> Path:
    """A repository whose tasks T001..TN each write parts/pN.py in three scripted turns (write,
    read, done), with `test_files` as tests/test_ok0.py, test_ok1.py...; the script's path.
    `task_lines` is tasks.md after its title: phases and the task lines, as the bench wants."""
    folder = root / "specs" / feature
    folder.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n")
    (root / ".specify" / "sdd.yaml").write_text(yaml.safe_dump(config))
    (folder / "spec.md").write_text("# Spec\n")
    (folder / "plan.md").write_text("# Plan\n")
    (folder / "tasks.md").write_text("\n".join(["# Tasks", "", *task_lines]) + "\n")
    (root / "tests").mkdir()
    for f, body in enumerate(test_files):
        (root / "tests" / f"test_ok{f}.py").write_text(body)
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    ident = ["-c", "user.name=b", "-c", "user.email=b@b"]
    for args in (
        ["init", "-q", "-b", "main"],
        [*ident, "commit", "-q", "--allow-empty", "-m", "0"],
        ["add", "-A"],
        [*ident, "commit", "-q", "-m", "spec"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    n = sum(line.startswith("- [ ] T") for line in task_lines)
    tasks = {}
    for i in range(1, n + 1):
        path = f"parts/p{i}.py"
        tasks[f"T{i:03d}"] = [
            {"tools": [{"Write": {"file_path": path, "content": f"PART = {i}\n"}}]},
            {"tools": [{"Read": {"file_path": path}}]},
            {"text": f"Part {i} written."},
        ]
    script = root.parent / "script.yaml"
    script.write_text(yaml.safe_dump({"latency": latency, "tasks": tasks}))
    return script


def landed_count(root: Path) -> int:
    """How many commits carry a task (an Sdd-Task trailer)."""
    out = subprocess.run(
        ["git", "log", "--format=%(trailers:key=Sdd-Task,valueonly)"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return len(out.split())
