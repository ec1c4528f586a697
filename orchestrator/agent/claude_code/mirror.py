"""Claude Code's session transcripts kept in sdd's journal, through the Agent SDK's session
store hook, so an attempt cut short resumes its session from sdd's store: on another machine,
in another worktree, or after Claude Code's own files are gone (the case Claude Code cannot
resume from alone).

Claude Code still writes its transcript under its config folder, in batches, and the SDK
mirrors each batch here as it is written; a kill loses what Claude Code had not written yet
(its own resume loses the same: in our tests, up to the last tool result and one model turn).
A resumed session is rebuilt from whichever holds more: Claude Code's own file (in the same
work tree) or sdd's copy (anywhere else). `replay` reads where
the task's sessions stood from the journal's steps.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.agent.journal import Journal
from orchestrator.store.records import Outcome


class JournalSessions:
    """The SDK's `SessionStore` over a task's journal (only `append` and `load` are needed)."""

    def __init__(self, journal: Journal, config_dir: Path | None) -> None:
        self._journal = journal
        self._home = config_dir or Path(
            os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude"
        )
        self._entries: dict[tuple[str, str], list[Any]] = {}
        for kind, data in journal.steps():
            if kind == "session":
                key = (str(data["id"]), str(data.get("sub", "")))
                self._entries.setdefault(key, []).extend(data["entries"])

    async def append(self, key: Any, entries: list[Any]) -> None:
        sid, sub = str(key["session_id"]), str(key.get("subpath") or "")
        self._entries.setdefault((sid, sub), []).extend(entries)
        step: dict[str, Any] = {"id": sid, "entries": list(entries), "wrote": True}
        if sub:
            step["sub"] = sub
        self._journal.add("session", step)

    def turns(self, session: str | None) -> int:
        """The model turns a session holds so far."""
        entries = self._entries.get((session, "")) if session else None
        return sum(1 for e in entries or [] if isinstance(e, dict) and e.get("type") == "assistant")

    async def load(self, key: Any) -> list[Any] | None:
        """The session as sdd kept it, or Claude Code's own file of it when that holds more
        (in the same work tree it is ahead: the CLI mirrors its entries a little later)."""
        sid, sub = str(key["session_id"]), str(key.get("subpath") or "")
        kept = self._entries.get((sid, sub)) or []
        local = _read_jsonl(self._home / "projects" / str(key["project_key"]) / f"{sid}.jsonl")
        got = local if not sub and len(local) > len(kept) else kept
        return list(got) or None


def _read_jsonl(path: Path) -> list[Any]:
    """The entries of a transcript file; a torn last line (a killed writer) is left out."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


@dataclass(slots=True)
class Where:
    """Where a task's Claude Code attempts stood when the journal's steps end."""

    attempt: int = 1
    started: bool = False  # a resume joins this attempt
    text: str = ""  # what the attempt was started with
    session: str | None = None  # the session the next prompt resumes
    closed: Outcome | None = None  # judged, and the attempts end with it
    summary: str = ""
    recorded: bool = False


def replay(steps: list[tuple[str, dict[str, Any]]]) -> Where:
    w = Where()
    for kind, data in steps:
        if kind == "attempt":
            w.attempt, w.started, w.recorded, w.closed = int(data["n"]), True, True, None
            w.text, w.session = str(data.get("text", "")), data.get("session")
        elif kind == "session" and not data.get("sub"):
            w.session = str(data["id"])
        elif kind == "closed":
            outcome = Outcome(data["outcome"])
            w.summary = str(data.get("summary", ""))
            if outcome in (Outcome.PASSED, Outcome.UNVERIFIABLE):
                w.closed = outcome
            else:
                w.attempt, w.started, w.text = w.attempt + 1, False, str(data["feedback"])
    return w


def resume_note(diff: str) -> str:
    change = diff.strip() or "(no change from the task's base)"
    return (
        "sdd was stopped while you worked on this task, and has resumed this session. A tool "
        "call that was running may not have finished: check before you go on. The work tree's "
        f"current change against the task's base:\n{change}\n\nContinue the task from here."
    )
