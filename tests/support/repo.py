"""Real git repositories for the tests: run git, and commit a fresh tree as a test user."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """git's stdout; a failing git command fails the test with its error."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Each file of `files` (path from `root` -> text), folders made as needed."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def commit_tree(root: Path, message: str = "initial") -> None:
    """`git init` (branch main) with a test identity, then everything in `root` as one commit."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "user@example.invalid")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
