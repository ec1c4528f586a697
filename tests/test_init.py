"""`sdd init` in git repositories: the config and the exclude it writes, the same again with
nothing to do, nothing written on a dry run or on bad input, and a user's config kept. In a
project made by `specify init` (the extension, step and workflows): test_speckit_workflow.py."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from support.repo import commit_tree, git
from support.runproc import sdd_argv, sdd_env

from orchestrator.config.load import load_config
from orchestrator.config.model import Config

# ---------------------------------------------------------------- sdd init in a git repository


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sdd_argv("init", *args),
        cwd=cwd,
        env=sdd_env() | {"NO_COLOR": "1"},
        capture_output=True,
        text=True,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under `folder` (.git included) with its content digest."""
    seen: dict[str, str] = {}
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(here) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                seen[rel] = f"-> {os.readlink(path)}"
            elif path.is_file():
                seen[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[rel] = "dir"
    return seen


def plain_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_x.py").write_text("def test_x():\n    assert True\n")
    commit_tree(root)
    return root


def test_init_in_a_plain_repository_writes_the_config_and_the_exclude(tmp_path: Path) -> None:
    root = plain_repo(tmp_path)
    done = init(root, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    states = {a["what"]: a["state"] for a in data["actions"]}
    assert states == {"config": "written", "exclude": "added", "extension": "skipped"}
    skipped = data["actions"][2]["detail"]
    assert skipped.startswith("not a spec-kit project yet: run `specify init --here")
    assert data["verify"] and data["verify"][0].endswith("-m pytest -q")
    assert data["agents"] == ["fastapi-backend-dev", "generalist"]
    text = (root / ".specify" / "sdd.yaml").read_text()
    detected = next(line for line in text.splitlines() if line.startswith("# Detected: "))
    assert "-m pytest -q (sdd's own interpreter: no project environment found)" in detected
    assert "set verify: in .specify/sdd.yaml" in detected  # no .venv: the warning says so
    assert "# Agents found: fastapi-backend-dev (built-in), generalist (built-in)." in text
    assert load_config(root) == Config()
    assert (root / ".git" / "info" / "exclude").read_text().splitlines()[-1] == ".sdd/"
    assert git(root, "status", "--porcelain") == "?? .specify/\n"


def test_init_again_changes_nothing(tmp_path: Path) -> None:
    root = plain_repo(tmp_path)
    assert init(root).returncode == 0
    before = snapshot(root)
    done = init(root)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  unchanged\s+config\s+\.specify/sdd\.yaml", done.stdout, re.M)
    assert re.search(r"^  unchanged\s+exclude\s+\.sdd/", done.stdout, re.M)
    assert "Commit what sdd init wrote" not in done.stdout
    assert snapshot(root) == before


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = plain_repo(tmp_path)
    before = snapshot(root)
    done = init(root, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  would be written\s+config\s+\.specify/sdd\.yaml", done.stdout, re.M)
    assert re.search(r"^  would be added\s+exclude\s+\.sdd/", done.stdout, re.M)
    assert "Dry run: nothing was written." in done.stdout
    assert snapshot(root) == before


def test_a_users_config_is_kept_unless_forced(tmp_path: Path) -> None:
    root = plain_repo(tmp_path)
    (root / ".specify").mkdir()
    mine = "model: opus\napprove: each\n"
    (root / ".specify" / "sdd.yaml").write_text(mine)
    done = init(root)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  kept\s+config\s+\.specify/sdd\.yaml is yours, left as it is "
                     r"\(sdd init --force rewrites it\)", done.stdout, re.M)  # fmt: skip
    assert (root / ".specify" / "sdd.yaml").read_text() == mine
    done = init(root, "--force")
    assert done.returncode == 0, done.stderr
    assert "rewritten by --force" in done.stdout
    assert (root / ".specify" / "sdd.yaml").read_text().startswith("# sdd's settings")


def test_an_invalid_config_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = plain_repo(tmp_path)
    (root / ".specify").mkdir()
    (root / ".specify" / "sdd.yaml").write_text("limits:\n  atempts: 2\n")
    before = snapshot(root)
    done = init(root)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: `.specify/sdd.yaml`: limits.atempts: unknown key (did you mean `attempts`?); "
        "fix it, or rewrite the file with sdd init --force"
    ]
    assert snapshot(root) == before
    assert init(root, "--force").returncode == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("nogit", r"^error: not a git repository: .*/repo$"),
        ("missing", r"^error: repository not found: .*/elsewhere$"),
        ("agent", r"^error: .*/\.claude/agents/bad\.md:1: no front matter"),
        ("specify-file", r"^error: .*/repo/\.specify is not a directory"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, setup: str, message: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    args: tuple[str, ...] = ()
    if setup != "nogit":
        commit_tree(root) if any(root.iterdir()) else git(root, "init", "-q")
    if setup == "missing":
        args = ("--repo", str(tmp_path / "elsewhere"))
    if setup == "agent":
        (root / ".claude" / "agents").mkdir(parents=True)
        (root / ".claude" / "agents" / "bad.md").write_text("no front matter\n")
    if setup == "specify-file":
        (root / ".specify").write_text("")
    before = snapshot(tmp_path)
    done = init(root, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert re.search(message, done.stderr.strip()), done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(tmp_path) == before


def test_a_project_inside_a_larger_repository(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    (top / "services" / "api" / ".specify").mkdir(parents=True)
    (top / "README.md").write_text("mono\n")
    commit_tree(top)
    done = init(top / "services" / "api" / ".specify")  # walks up to the spec-kit root
    assert done.returncode == 0, done.stderr
    assert (top / "services" / "api" / ".specify" / "sdd.yaml").is_file()
    assert "services/api/.sdd/" in (top / ".git" / "info" / "exclude").read_text().splitlines()
