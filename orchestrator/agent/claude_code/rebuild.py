"""A Claude Code session transcript rebuilt from the two copies sdd keeps of it.

Claude Code writes its transcript in batches (every 100 ms) and the SDK mirrors each batch
into sdd's store after it is written, so the last model turn and tool result of a killed
session are often in neither; its next request may be on the wire by then. sdd also keeps
each message as the session's stream gives it (`said`): a model turn before any of its tools
runs, a tool result as soon as Claude Code reports it. A resume takes the mirrored entries
and adds, in Claude Code's own format, the messages only the stream copy holds.

Claude Code sends its next request right after it reports a tool result, so a kill can still
fall before sdd has stored that result; its PostToolUse hook, which Claude Code waits for
before it reports the result, keeps what the tool gave (`done`, up to DONE_CAP characters).
A tool call of the last turn with no result in either copy gets that one.

Entries are stored lean: without a message the stream copy holds, without what only Claude
Code's screen shows, and without the fields every entry repeats (session id, working
directory, version...) where they equal the session's first entry's; `rebuild` puts them back.

Pure: entries and records in, entries out.
"""

from __future__ import annotations

import json
import uuid as uuids
from collections.abc import Sequence
from typing import Any

from orchestrator.text import cap

Entry = dict[str, Any]
CARRIED = ("userType", "entrypoint", "cwd", "sessionId", "version", "gitBranch")
# What Claude Code keeps of a tool's output for its own screen (a Read's file again, an
# Edit's whole original file): the conversation does not carry it, and a resume needs none.
SCREEN_ONLY = "toolUseResult"


DONE_CAP = 2_000  # characters of a tool's output kept from the PostToolUse hook
SAME = "~"  # the CARRIED fields (by index) an entry had, equal to the session's first's


def base_of(entries: Sequence[Any]) -> Entry | None:
    """The fields a session's entries repeat, as its first full entry has them."""
    for e in entries:
        if isinstance(e, dict) and SAME not in e and "cwd" in e and "sessionId" in e:
            return {k: e[k] for k in CARRIED if k in e}
    return None


def strip(entry: Any, said: set[str], base: Entry | None) -> Any:
    """A mirrored entry as stored: without its message when the stream copy holds it,
    without what only Claude Code's screen shows, and without the fields it shares with
    `base`."""
    if not isinstance(entry, dict):
        return entry
    drop = {SCREEN_ONLY, "message"} if entry.get("uuid") in said else {SCREEN_ONLY}
    out = {k: v for k, v in entry.items() if k not in drop}
    same = [i for i, k in enumerate(CARRIED) if base and k in out and out[k] == base.get(k)]
    if same:
        out = {k: v for k, v in out.items() if k not in {CARRIED[i] for i in same}}
        out[SAME] = same
    return out


def expand(entries: Sequence[Any]) -> list[Any]:
    """Stored entries with the fields `strip` left out for sharing them put back."""
    base = base_of(entries) or {}
    out = []
    for e in entries:
        if isinstance(e, dict) and SAME in e:
            same = e[SAME]
            e = {k: v for k, v in e.items() if k != SAME}
            e.update({CARRIED[i]: base.get(CARRIED[i]) for i in same})
        out.append(e)
    return out


def rebuild(entries: Sequence[Any], records: Sequence[Entry], cwd: str, session: str) -> list[Any]:
    """The mirrored `entries` with their messages back, then each recorded message they miss
    (and the prompt it answered, when that is missing too), chained after the last entry."""
    by_uuid = {r["uuid"]: r for r in records if "uuid" in r}
    out: list[Any] = []
    for e in expand(entries):
        if isinstance(e, dict) and "message" not in e and e.get("uuid") in by_uuid:
            e = {**e, "message": by_uuid[e["uuid"]]["message"]}
        out.append(e)
    have = {e.get("uuid") for e in out if isinstance(e, dict)}
    base: Entry = {"userType": "external", "cwd": cwd, "sessionId": session}
    for e in out:
        if isinstance(e, dict) and e.get("type") in ("user", "assistant"):
            base.update({k: e[k] for k in CARRIED if k in e})
    done = {str(r["done"]): r for r in records if "done" in r}
    for r in records:
        if "done" in r or r["uuid"] in have:
            continue
        asked, prompt = r.get("asked"), r.get("prompt")
        if asked and asked not in have and isinstance(prompt, str):
            message = {"role": "user", "content": prompt}
            out.append(_entry(out, base, "user", str(asked), message, r.get("at")))
            have.add(asked)
        kind = "assistant" if r["message"].get("role") == "assistant" else "user"
        out.append(_entry(out, base, kind, r["uuid"], r["message"], r.get("at")))
        have.add(r["uuid"])
    for tool_id in _unanswered(out):
        if tool_id in done:
            d = done[tool_id]
            block: Entry = {"type": "tool_result", "tool_use_id": tool_id, "content": d["text"]}
            if d.get("is_error"):
                block["is_error"] = True
            answer = {"role": "user", "content": [block]}
            made = str(uuids.uuid5(uuids.NAMESPACE_URL, f"{session}/{tool_id}"))
            out.append(_entry(out, base, "user", made, answer, d.get("at")))
    return out


def done_text(response: Any) -> str:
    """What a tool gave, from its PostToolUse output, as its result's text."""
    if isinstance(response, str):
        text = response
    elif isinstance(response, dict) and isinstance(response.get("file"), dict):
        text = str(response["file"].get("content", ""))  # Read
    elif isinstance(response, dict) and ("stdout" in response or "stderr" in response):
        text = "\n".join(str(response.get(k) or "") for k in ("stdout", "stderr")).strip()
    elif isinstance(response, dict) and "filePath" in response and "filenames" not in response:
        text = f"The file {response['filePath']} has been written."  # Write, Edit
    elif isinstance(response, dict) and isinstance(response.get("filenames"), list):
        text = str(response.get("content") or "\n".join(map(str, response["filenames"])))
    else:
        text = json.dumps(response)
    return cap(text, DONE_CAP)


def _unanswered(out: list[Any]) -> list[str]:
    """The tool calls in `out` that no tool result answers, in order."""
    asked: list[str] = []
    answered: set[str] = set()
    for e in out:
        content = e.get("message", {}).get("content") if isinstance(e, dict) else None
        for b in content if isinstance(content, list) else []:
            if isinstance(b, dict) and b.get("type") == "tool_use":
                asked.append(str(b.get("id")))
            elif isinstance(b, dict) and b.get("type") == "tool_result":
                answered.add(str(b.get("tool_use_id")))
    return [t for t in asked if t not in answered]


def _entry(
    out: list[Any], base: Entry, kind: str, uuid: str, message: Any, at: str | None
) -> Entry:
    parent = next(
        (e["uuid"] for e in reversed(out) if isinstance(e, dict) and "parentUuid" in e), None
    )
    entry: Entry = {"parentUuid": parent, "isSidechain": False, "type": kind, "message": message}
    entry.update({"uuid": uuid, "timestamp": at or "", **base})
    return entry
