"""The layout of `.sdd/`, the folder sdd keeps in the project it runs in. The only module that
spells these paths, so moving one is a one-line change.

    .sdd/state.sqlite                            records and checkpoints (the default store)
    .sdd/store-url                               the last `--store` given, so later commands find it
    .sdd/locks/worktree.lock                     one sdd run per working tree
    .sdd/transcripts/FEATURE/TASK/attempt-N.jsonl   what each attempt's agent did
    .sdd/worktrees/FEATURE/TASK                  a parallel wave's git worktrees, while it runs
    .sdd/footprints/FEATURE.json                 what the running attempt has changed so far
    .sdd/report-FEATURE.html                     `sdd report`'s default output
    .sdd/claude/                                 Claude Code's own state for `--engine claude-code`
    .sdd/routing/FEATURE.json                    `routing: model`'s answers, by prompt
"""

from __future__ import annotations

from pathlib import Path

NAME = ".sdd"
DEFAULT_STORE_URL = f"sqlite:///{NAME}/state.sqlite"


def state_dir(root: Path) -> Path:
    return root / NAME


def exclude_pattern(prefix: str) -> str:
    """The `.git/info/exclude` line that hides `.sdd/` of a project `prefix` deep in its repo."""
    return f"{NAME}/" if prefix in ("", ".") else f"{prefix}/{NAME}/"


def store_pointer(root: Path) -> Path:
    """The store URL a run was given with `--store` (it may hold a password: mode 0600)."""
    return state_dir(root) / "store-url"


def lock_file(root: Path) -> Path:
    return state_dir(root) / "locks" / "worktree.lock"


def transcript_dir(root: Path, feature: str, task_id: str) -> Path:
    return state_dir(root) / "transcripts" / feature / task_id


def transcript_file(root: Path, feature: str, task_id: str, attempt: int) -> Path:
    return transcript_dir(root, feature, task_id) / f"attempt-{attempt}.jsonl"


def worktrees_dir(root: Path, feature: str) -> Path:
    """Where a parallel wave's worktrees live, one per task, removed when the wave ends."""
    return state_dir(root) / "worktrees" / feature


def footprint_file(root: Path, feature: str) -> Path:
    """The record of what the attempt running in the work tree has changed (see footprint)."""
    return state_dir(root) / "footprints" / f"{feature}.json"


def report_file(root: Path, feature: str) -> Path:
    return state_dir(root) / f"report-{feature}.html"


def claude_config_dir(root: Path) -> Path:
    """Claude Code's config folder (sessions, its settings) when sdd signs it in with a key."""
    return state_dir(root) / "claude"


def routing_file(root: Path, feature: str) -> Path:
    return state_dir(root) / "routing" / f"{feature}.json"
