"""A task's conversation kept in the run's store, step by step (`agent/journal.py` says what
a step is), with the work tree's state beside it, so a resume continues the conversation
only in the tree it left.

A conversation opens with a `begin` step (its base) and closes with an `end` step (landed,
failed, paused: whatever the run did with it). One without an `end` was cut short by a kill
or a lost machine: the next run of the task continues it when the task's base is the same
and the tree holds what the steps recorded, or is clean there and gets the recorded files
written back from the store (`treefiles`: another clone, or this one cleaned since);
otherwise the task starts over and says why. Steps are stored compressed against the steps
before them (`store/packing.py`); a conversation whose steps cannot be read starts over too.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orchestrator.agent.journal import IDEMPOTENT
from orchestrator.agent.transcript import redact
from orchestrator.run.treefiles import Keeper, file_state, restore, without_modes
from orchestrator.run.workspace import Workspace
from orchestrator.store.packing import DAMAGED, History
from orchestrator.store.store import Store
from orchestrator.text import cap

Step = tuple[str, dict[str, Any]]
DIFF_CAP = 20_000


def tree_state(ws: Workspace) -> dict[str, str]:
    """What the task has changed: each dirty file (from the work tree's top) and a digest
    (64 bits of it: enough to notice a change, and small beside the turn) with its mode
    (`treefiles.file_state`). tasks.md is sdd's own, ticked as the task lands: a kill
    mid-landing leaves its tick behind."""
    return {p: file_state(ws.repo.root / p) for p in task_paths(ws)}


def task_paths(ws: Workspace) -> list[str]:
    """The dirty paths (from the work tree's top) that can be a task's change: not the
    shared links, not tasks.md."""
    ticked = ws.top(ws.tasks_md)
    return [p for p in ws.repo.dirty_files() if p not in ws.shared and p != ticked]


@dataclass(frozen=True, slots=True)
class Conversation:
    """The open conversation of a task, as the store holds it."""

    convo: int  # the absolute number of its first attempt
    steps: list[Step]
    texts: tuple[str, ...] = field(default=(), repr=False, compare=False)  # as stored

    @property
    def damaged(self) -> str:
        """Why the stored steps cannot all be read ('' when they can)."""
        return next((str(d.get("why", "")) for k, d in self.steps if k == DAMAGED), "")

    @property
    def base(self) -> str:
        return str(self.steps[0][1].get("base", "")) if self.steps else ""

    @property
    def where(self) -> str:
        return str(self.steps[0][1].get("where", "")) if self.steps else ""

    @property
    def modes(self) -> bool:
        """Its steps' trees name each file's mode (those begun before did not)."""
        return bool(self.steps and self.steps[0][1].get("modes"))

    def as_recorded(self, now: dict[str, str]) -> dict[str, str]:
        """A `tree_state` as this conversation's steps name one."""
        return now if self.modes else without_modes(now)

    def tree(self) -> dict[str, str]:
        """The work tree as its last step that could write left it."""
        tree: dict[str, str] = {}
        for _, data in self.steps:
            if "tree" in data:
                tree = dict(data["tree"])
        return tree

    def cut_short(self) -> bool:
        """A call that could write was running when sdd stopped: the tree may hold part of it.
        In a Claude Code session (its transcript mirrored as `session` steps) any call may
        have been, until the attempt was judged."""
        calls: dict[str, str] = {}
        running: set[str] = set()
        session = False
        for kind, data in self.steps:
            if kind in ("attempt", "closed", "session"):
                session = kind == "session"
            if kind == "assistant":
                calls = {
                    str(b.get("id")): str(b.get("name"))
                    for b in data.get("content", [])
                    if b.get("type") == "tool_use"
                }
                running = set()
            elif kind == "call":
                running.add(str(data["id"]))
            elif kind == "result":
                running.discard(str(data["id"]))
        return session or any(calls.get(c) not in IDEMPOTENT for c in running)

    @property
    def turns(self) -> int:
        return sum(kind == "assistant" for kind, _ in self.steps)

    @property
    def since(self) -> str:
        """' after turn N' for a note, when the steps count turns (sdd's own loop)."""
        return f" after turn {self.turns}" if self.turns else ""


def open_conversation(store: Store, feature: str, task_id: str) -> Conversation | None:
    """The task's conversation if one was cut short (no `end`), else None."""
    convo, rows = store.conversation(feature, task_id)
    if not rows or rows[-1][0] == "end":
        return None
    steps = [(kind, json.loads(data)) for kind, data in rows]
    return Conversation(convo, steps, tuple(text for _, text in rows))


def end_conversation(
    store: Store, feature: str, task_id: str, found: Conversation, why: str
) -> None:
    """Close a cut-short conversation that cannot go on: the task starts a new one."""
    data = json.dumps({"why": why}, ensure_ascii=False, separators=(",", ":"))
    store.add_step(feature, task_id, found.convo, len(found.steps), "end", data)
    store.drop_blobs(feature, task_id)


def where(ws: Workspace) -> str:
    """The work tree a conversation runs in: this machine and its folder."""
    return f"{socket.gethostname()}:{ws.repo.root.resolve()}"


def why_not_continue(found: Conversation, base: str, now: dict[str, str], here: str) -> str:
    """'' when the cut-short conversation can go on in this tree (`now`, at `here`); else
    why it starts over. In the tree it ran in, a call cut short may have changed any file
    (the footprint has already refused the user's edits); anywhere else, the tree must hold
    exactly what the steps recorded, which a fresh clone does only before the first change."""
    if found.damaged:
        return f"its stored conversation cannot be read ({found.damaged})"
    if found.base != base:
        return f"its base was {found.base[:10]}, HEAD is now {base[:10]}"
    kept, now = found.tree(), found.as_recorded(now)
    if now == kept or (found.cut_short() and found.where == here):
        return ""
    if found.where != here:
        return f"its uncommitted changes are in another work tree ({found.where})"
    differ = sorted(p for p in {*kept, *now} if kept.get(p) != now.get(p))
    shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
    return f"the work tree is not as its interrupted attempt left it ({shown} changed since)"


def rejoin(
    store: Store,
    feature: str,
    task_id: str,
    found: Conversation,
    ws: Workspace,
    base: str,
    note: Callable[[str], None],
    now: dict[str, str] | None = None,
) -> str:
    """'' when the cut-short conversation goes on in this tree, its files written back first
    when the tree is clean at the conversation's base but lacks them; else why it starts
    over. A tree with changes of its own is never written to. `now` is the tree's
    `tree_state`, when the caller has it already."""
    now, kept = found.as_recorded(tree_state(ws) if now is None else now), found.tree()
    clean = not [p for p in ws.repo.dirty_files() if p not in ws.shared]
    if found.damaged or not (found.base == base and kept and now != kept and clean):
        return why_not_continue(found, base, now, where(ws))
    why = restore(store, feature, task_id, ws, base, kept, found.modes)
    if not why and found.as_recorded(tree_state(ws)) != kept:
        ws.repo.restore_paths(base, sorted(kept))
        why = "the files written back do not make the recorded tree"
    if why:
        return f"its files could not be restored from the store: {why}"
    files = f"{len(kept)} file" + ("s" if len(kept) != 1 else "")
    note(f"{task_id}: wrote back its {files} from the store (recorded in {found.where})")
    return ""


class StoreJournal:
    """The `Journal` of one conversation: steps into the store, secrets redacted."""

    def __init__(
        self,
        store: Store,
        feature: str,
        task_id: str,
        ws: Workspace,
        base: str,
        secrets: tuple[str, ...],
        found: Conversation | None = None,
        first_attempt: int = 1,
    ) -> None:
        self._store, self._feature, self._task = store, feature, task_id
        self._ws, self._base, self._secrets = ws, base, secrets
        newest = 0 if found else store.newest_conversation(feature, task_id)
        self.convo = found.convo if found else max(first_attempt, newest + 1)
        self._steps: list[Step] = list(found.steps) if found else []
        self._seq = len(self._steps)
        self._history = History(found.texts if found else ())
        self._tree = found.tree() if found else {}
        self._keeper = Keeper(store, feature, task_id, ws, base, secrets)
        self._keeper.seed(self._tree)
        self._found = found
        if found is None:  # files an ended conversation left (a kill before its drop)
            store.drop_blobs(feature, task_id)
            self.add("begin", {"base": base, "where": where(ws), "modes": True})

    def steps(self) -> list[Step]:
        return list(self._steps)

    def add(self, kind: str, data: dict[str, Any]) -> None:
        data = dict(data)
        if data.pop("wrote", False):
            tree = self._now()
            if tree != self._tree:  # its files first: a step never names one not kept
                self._keeper.keep(tree)
                data["tree"] = self._tree = tree
        text = redact(json.dumps(data, ensure_ascii=False, separators=(",", ":")), self._secrets)
        packed = self._history.pack(text)
        self._store.add_step(self._feature, self._task, self.convo, self._seq, kind, "", packed)
        self._history.add(text)
        self._seq += 1

    def diff(self) -> str:
        """The change against the base, new files included, as `git diff` shows it."""
        return cap(self._ws.repo.diff_text(self._base), DIFF_CAP)

    def untouched(self) -> bool:
        return self._now() == self._tree

    def end(self, why: str) -> None:
        """The conversation is over: the next run of the task starts a new one, and the files
        kept for a resume elsewhere are no longer needed."""
        self.add("end", {"why": why})
        self._store.drop_blobs(self._feature, self._task)

    def _now(self) -> dict[str, str]:
        now = tree_state(self._ws)
        return self._found.as_recorded(now) if self._found else now


@contextmanager
def set_aside(ws: Workspace, base: str) -> Iterator[None]:
    """The tree at `base` for a while (verifying the base), the task's change back after.
    Kept in memory (modes too): a kill meanwhile loses it, and the next run starts the task
    over."""
    saved: dict[str, tuple[str, bytes, int]] = {}
    for rel in ws.repo.dirty_files():
        path = ws.repo.root / rel
        if path.is_symlink():
            saved[rel] = ("link", os.readlink(path).encode(), 0)
        elif path.is_file():
            saved[rel] = ("file", path.read_bytes(), path.stat().st_mode & 0o7777)
        else:
            saved[rel] = ("gone", b"", 0)
    ws.reset(base)
    try:
        yield
    finally:
        for rel, (kind, content, mode) in saved.items():
            path = ws.repo.root / rel
            if path.is_symlink() or path.exists():
                path.unlink()
            if kind == "gone":
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "link":
                path.symlink_to(content.decode())
            else:
                path.write_bytes(content)
                path.chmod(mode)


def go_on_or_start_over(
    store: Store,
    feature: str,
    task_id: str,
    found: Conversation,
    why: str,
    note: Callable[[str], None],
) -> Conversation | None:
    """The conversation to continue, or None when `why` says it cannot (it is then ended,
    and the run says why the task starts over)."""
    if why:
        note(f"{task_id} starts over: {why}")
        end_conversation(store, feature, task_id, found, why)
        return None
    note(f"{task_id} continues its interrupted attempt{found.since}")
    return found
