"""Claude Code's session transcripts kept in sdd's journal, through the Agent SDK's session
store hook, so an attempt cut short resumes its session from sdd's store: on another machine,
in another worktree, or after Claude Code's own files are gone (the case Claude Code cannot
resume from alone).

Claude Code still writes its transcript under its config folder, in batches (every 100 ms),
and the SDK mirrors each batch here after it is written; a kill loses what Claude Code had
not written yet (its own resume loses the same: the last model turn and its tool results,
while the next request may already be on the wire). So sdd also keeps each message as the
session's stream gives it (`said` steps): a model turn before its tools run (the PreToolUse
hook waits for it), a tool result as soon as Claude Code reports it, and before that what
the tool gave, from the PostToolUse hook. A mirrored entry whose
message a `said` step holds is stored without it. A resumed session is rebuilt from whichever
copy of the entries holds more, Claude Code's own file (in the same work tree) or sdd's
(anywhere else), with the messages only the stream copy has added (`rebuild`). `replay`
reads where the task's sessions stood from the journal's steps.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.agent.claude_code.rebuild import base_of, rebuild, strip
from orchestrator.agent.journal import Journal
from orchestrator.store.packing import BIG
from orchestrator.store.records import Outcome


class JournalSessions:
    """The SDK's `SessionStore` over a task's journal (only `append` and `load` are needed)."""

    def __init__(self, journal: Journal, config_dir: Path | None, cwd: Path) -> None:
        self._journal, self._cwd = journal, str(cwd)
        self._home = config_dir or Path(
            os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude"
        )
        self._entries: dict[tuple[str, str], list[Any]] = {}
        self._said: dict[str, list[dict[str, Any]]] = {}  # session -> its `said` steps
        self._uuids: set[str] = set()
        self._bases: dict[tuple[str, str], dict[str, Any]] = {}  # what entries repeat
        for kind, data in journal.steps():
            if kind == "session":
                key = (str(data["id"]), str(data.get("sub", "")))
                self._entries.setdefault(key, []).extend(data["entries"])
                if key not in self._bases and (found := base_of(data["entries"])) is not None:
                    self._bases[key] = found
            elif kind == "said":
                self._said.setdefault(str(data["id"]), []).append(data)
                if "uuid" in data:
                    self._uuids.add(str(data["uuid"]))

    def said(self, session: str, record: dict[str, Any], prompt: str) -> None:
        """Keep one message of `session` as its stream gave it; the first model turn after
        a prompt (it names the prompt's uuid: `asked`) keeps the prompt too."""
        step = {"id": session, **record, "at": _now()}
        if "asked" in record:
            step["prompt"] = prompt
        ran = "done" in record or record.get("message", {}).get("role") == "user"
        self._journal.add("said", {**step, "wrote": True} if ran else step)  # a tool ran:
        # the tree is recorded with it, so another clone can write back what the tool wrote
        self._said.setdefault(session, []).append(step)
        if "uuid" in record:
            self._uuids.add(str(record["uuid"]))

    async def append(self, key: Any, entries: list[Any]) -> None:
        sid, sub = str(key["session_id"]), str(key.get("subpath") or "")
        known = self._entries.setdefault((sid, sub), [])
        kept = []
        for e in entries:
            base = self._bases.get((sid, sub))
            kept.append(strip(e, self._uuids, base))
            if base is None and (found := base_of(kept[-1:])) is not None:
                self._bases[(sid, sub)] = found
        known.extend(kept)
        parts = _apart(kept)
        for n, part in enumerate(parts):
            step: dict[str, Any] = {"id": sid, "entries": part}
            if sub:
                step["sub"] = sub
            if n == len(parts) - 1:
                step["wrote"] = True
            self._journal.add("session", step)

    def turns(self, session: str | None) -> int:
        """The model turns (messages of them) a session holds so far."""
        if not session:
            return 0
        entries = rebuild(self._entries.get((session, ""), []), self._said.get(session, []), "", "")
        return sum(1 for e in entries if isinstance(e, dict) and e.get("type") == "assistant")

    async def load(self, key: Any) -> list[Any] | None:
        """The session as sdd kept it, or Claude Code's own file of it when that holds more
        (in the same work tree it is ahead: the CLI mirrors its entries a little later)."""
        sid, sub = str(key["session_id"]), str(key.get("subpath") or "")
        kept = self._entries.get((sid, sub)) or []
        if sub:
            return list(kept) or None
        local = _read_jsonl(self._home / "projects" / str(key["project_key"]) / f"{sid}.jsonl")
        got = local if len(local) > len(kept) else kept
        return rebuild(got, self._said.get(sid, []), self._cwd, sid) or None


def _apart(entries: list[Any]) -> list[list[Any]]:
    """A batch of entries as steps: each large entry (a snapshot of the system prompt and
    tools, a large tool output) in a step of its own, so the small ones are stored
    against the steps before them (`store/packing.py`)."""
    parts: list[list[Any]] = []
    for e in entries:
        if len(json.dumps(e)) > BIG:
            parts += [[e], []]
        elif parts:
            parts[-1].append(e)
        else:
            parts.append([e])
    return [p for p in parts if p] or [[]]


def _now() -> str:
    """The time as Claude Code stamps its entries (ISO 8601, milliseconds, UTC)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


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
        elif (kind == "session" and not data.get("sub")) or kind == "said":
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
