"""A task's conversation as durable steps, so a resume continues it instead of starting over.

The loop writes a step at each point worth keeping: an attempt starts (`attempt`), a model
turn comes back (`assistant`, before any of its tool calls run), a tool call that can change
the work tree starts (`call`) and any call ends (`result`), an attempt is judged (`closed`).
`replay` turns the steps back into the conversation and where it stood. On resume, a call
with a recorded result is not run again; one that was running when sdd stopped is run again
only when that is safe (Read, Glob and Grep change nothing; a Write sets a whole file, so a
second run ends where the first would have; an Edit when the work tree is exactly as before it
ran), otherwise (Bash, an Edit that changed the tree) the agent is told it was cut short and
shown the work tree's current change. Pure apart from the tool calls; the store behind
a `Journal` is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.agent.model import Block, Usage
from orchestrator.agent.tools.toolbox import Toolbox
from orchestrator.agent.transcript import Transcript
from orchestrator.store.records import Outcome
from orchestrator.text import cap

IDEMPOTENT = frozenset({"Read", "Glob", "Grep"})  # run again freely: they change nothing
RERUN = IDEMPOTENT | {"Write"}  # cut short, run again: a Write sets the whole file, so its
# second run ends where the first would have (a kill mid-Write leaves part of it)
RESULT_CAP = 30_000  # characters of one tool result the model sees
CUT_OFF = "Your output was cut off (max_tokens); send smaller steps."


class Journal(Protocol):
    """Where a conversation's steps are kept (the run's store)."""

    def steps(self) -> list[tuple[str, dict[str, Any]]]:
        """The steps recorded so far for this conversation; [] for a new one."""
        ...

    def add(self, kind: str, data: dict[str, Any]) -> None: ...

    def diff(self) -> str:
        """The work tree's change so far, told to an agent whose call was cut short."""
        ...

    def untouched(self) -> bool:
        """Whether the work tree is exactly as the last recorded step left it: a call cut
        short since then changed nothing in it."""
        ...


class Unrecorded:
    """No journal: nothing kept, nothing to resume (tests of the loop alone)."""

    def steps(self) -> list[tuple[str, dict[str, Any]]]:
        return []

    def add(self, kind: str, data: dict[str, Any]) -> None:
        return None

    def diff(self) -> str:
        return ""

    def untouched(self) -> bool:
        return False


def interrupted(name: str, diff: str) -> str:
    change = diff.strip() or "(no change from the task's base)"
    return (
        f"This {name} call was interrupted: sdd stopped while it ran, and it was not run "
        "again because it may have changed the work tree. Check its effect before you go on. "
        f"The work tree's current change against the task's base:\n{cap(change, RESULT_CAP)}"
    )


@dataclass(slots=True)
class Replay:
    """Where a recorded conversation stood: the messages, and the current attempt's state."""

    messages: list[Block]
    attempt: int = 1
    started: bool = False  # the attempt has begun (a resume joins it rather than opens it)
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    ended: bool = False  # its last turn ended it: verification is next
    summary: str = ""
    stop_reason: str = ""
    pending: list[Block] = field(default_factory=list)  # tool calls of the last turn, no result
    running: set[str] = field(default_factory=set)  # calls that had started when sdd stopped
    closed: Outcome | None = None  # judged, and the attempts end with it (passed, unverifiable)
    ran: list[tuple[str, bool]] = field(default_factory=list)  # Bash commands (evidence)

    recorded: bool = False  # the journal held steps: this is a resume


def text_of(content: list[Block]) -> str:
    return "\n".join(b.get("text", "") for b in content if b.get("type") == "text").strip()


def append_user(messages: list[Block], blocks: list[Block]) -> None:
    """Keep roles alternating: merge into a trailing user message instead of adding one."""
    if messages and messages[-1]["role"] == "user":
        prev = messages[-1]["content"]
        if isinstance(prev, str):
            prev = [{"type": "text", "text": prev}]
        messages[-1] = {"role": "user", "content": [*prev, *blocks]}
    else:
        messages.append({"role": "user", "content": blocks})


def kept(content: list[Block], stop_reason: str) -> bool:
    """An empty turn would make the next request invalid (non-final messages must have
    content), and a refused turn kept in the history makes the model refuse again."""
    return bool(content) and stop_reason != "refusal"


def replay(steps: list[tuple[str, dict[str, Any]]], first_message: str) -> Replay:
    """The conversation the steps record (a new one when there are none)."""
    r = Replay(messages=[{"role": "user", "content": first_message}], recorded=False)
    for kind, data in steps:
        if kind == "attempt":
            r.recorded = True
            r.attempt, r.started, r.turns, r.usage = int(data["n"]), True, 0, Usage()
            r.ended, r.summary, r.pending, r.closed = False, "", [], None
            if "first" in data:
                r.messages = [{"role": "user", "content": data["first"]}]
        elif kind == "assistant":
            content, stop = list(data["content"]), str(data["stop_reason"])
            r.turns += 1
            r.usage = r.usage + Usage(*data["usage"])
            r.stop_reason, r.running = stop, set()
            r.pending = []
            if kept(content, stop):
                r.messages.append({"role": "assistant", "content": content})
                r.pending = [b for b in content if b.get("type") == "tool_use"]
            if not r.pending:
                r.ended, r.summary = True, text_of(content)
        elif kind == "call":
            r.running.add(str(data["id"]))
        elif kind == "result":
            append_user(r.messages, [_result_block(data)])
            r.pending = [b for b in r.pending if b["id"] != data["id"]]
            r.ran.extend((str(c), bool(ok)) for c, ok in data.get("ran", []))
        elif kind == "closed":
            outcome = Outcome(data["outcome"])
            if outcome in (Outcome.PASSED, Outcome.UNVERIFIABLE):
                r.closed = outcome
            else:  # the feedback is said; the next attempt has not begun
                append_user(r.messages, [{"type": "text", "text": data["feedback"]}])
                r.attempt, r.started = r.attempt + 1, False
    return r


def _result_block(data: dict[str, Any]) -> Block:
    return {
        "type": "tool_result",
        "tool_use_id": data["id"],
        "content": data["content"],
        "is_error": bool(data["is_error"]),
    }


def _redo(name: str, journal: Journal) -> bool:
    """An Edit cut short that left the tree as it was before it ran never happened: run it.
    A Bash call may have acted outside the tree, so it never is."""
    return name == "Edit" and journal.untouched()


def run_calls(
    calls: list[Block],
    stop_reason: str,
    toolbox: Toolbox,
    log: Transcript,
    journal: Journal,
    running: frozenset[str] = frozenset(),
) -> list[Block]:
    """Run a turn's tool calls (or the ones a resume found without a result), each result
    kept as it comes; `running` are calls that were cut short by a stop."""
    results = []
    for block in calls:
        name, call_id = str(block.get("name", "")), block["id"]
        ran: list[tuple[str, bool]] = []
        if stop_reason == "max_tokens":
            content, is_error = CUT_OFF, True
        elif call_id in running and name not in RERUN and not _redo(name, journal):
            content, is_error = interrupted(name, journal.diff()), True
        else:
            if name not in IDEMPOTENT:
                journal.add("call", {"id": call_id})
            before = len(toolbox.ran)
            res = toolbox.call(name, block.get("input"))
            content, is_error = cap(res.content, RESULT_CAP), res.is_error
            ran = toolbox.ran[before:]
        log.write("tool", name=name, input=block.get("input"), is_error=is_error,
                  result=cap(content, 4_000))  # fmt: skip
        step: dict[str, Any] = {"id": call_id, "content": content, "is_error": is_error}
        if ran:
            step["ran"] = ran
        if name not in IDEMPOTENT:
            step["wrote"] = True  # the work tree may have changed: the journal notes it
        journal.add("result", step)
        results.append(_result_block(step))
    return results
