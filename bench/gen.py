"""Synthetic spec-kit projects for the benchmarks: N tasks with phases, [P] groups, shared
files and explicit dependencies, plus a zero-latency script (one Write per task).

    .venv/bin/python bench/gen.py DIR [N]   # a plan-only project (no git) with N tasks
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import yaml


def tasks_md(n: int, seed: int = 7) -> str:
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
        lines.append(f"- [ ] T{i:04d}{p} Implement part {i} in {f}{dep}")
    return "\n".join(lines) + "\n"


def plan_project(root: Path, n: int) -> None:
    """Just enough of a spec-kit project for `sdd plan`: no git, no config, no script."""
    feature = root / "specs" / "001-synthetic"
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    for name in ("spec.md", "plan.md"):
        (feature / name).write_text("# doc\n")
    (feature / "tasks.md").write_text(tasks_md(n))


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
    plan_project(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
