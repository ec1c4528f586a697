"""An agent's transcripts (`sdd show`): read from `.sdd/transcripts/`, rendered for a terminal
or passed on as JSON lines. A crash mid-write leaves a torn last line, shown as unreadable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from orchestrator import paths
from orchestrator.errors import InputError
from orchestrator.plan.build import make_plan

_TARGETS = ("file_path", "path", "command", "pattern")
Event = dict[str, Any]
Attempt = tuple[int, list[Event]]


def read_attempts(
    root: Path, feature_dir: Path, query: str, attempt: int | None = None
) -> tuple[str, list[Attempt]]:
    """The task id and its attempts' events, oldest first (or only attempt N)."""
    plan = make_plan(root, feature_dir)
    task = plan.find_task(query)
    folder = paths.transcript_dir(root, plan.feature, task.id)
    files: dict[int, Path] = {}
    for path in folder.glob("attempt-*.jsonl"):
        n = path.stem.removeprefix("attempt-")
        if n.isdigit():
            files[int(n)] = path
    if not files:
        rel = folder.relative_to(root) if folder.is_relative_to(root) else folder
        raise InputError(f"no transcript for {task.id} (nothing in {rel.as_posix()})")
    if attempt is not None:
        if attempt not in files:
            have = ", ".join(str(n) for n in sorted(files))
            raise InputError(f"{task.id} has no attempt {attempt} (attempts: {have})")
        files = {attempt: files[attempt]}
    return task.id, [(n, read_events(files[n])) for n in sorted(files)]


def attempt_usage(root: Path, feature: str, task_id: str, attempt: int) -> dict[str, int]:
    """The tokens an attempt has spent so far, from its transcript's model turns (the records
    count an attempt when it ends, so this is what `status` shows of a running one)."""
    path = paths.transcript_file(root, feature, task_id, attempt)
    total = dict.fromkeys(
        ("input_tokens", "cache_write_tokens", "cache_read_tokens", "output_tokens"), 0
    )
    if not path.is_file():
        return total
    for event in read_events(path):
        usage = event.get("usage") if event.get("type") == "assistant" else None
        if isinstance(usage, dict):
            for key in total:
                value = usage.get(key, 0)
                total[key] += value if isinstance(value, int) else 0
    return total


def read_events(path: Path) -> list[Event]:
    events = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:  # a crash mid-write leaves a torn last line
                events.append({"type": "unreadable", "line": number, "text": line.strip()})
    return events


def json_lines(attempts: list[Attempt]) -> Iterator[str]:
    """The events as written, each tagged with its attempt so several attempts stay apart."""
    for n, events in attempts:
        for event in events:
            yield json.dumps({"attempt": n, **event}, ensure_ascii=False, sort_keys=True)


def clip(text: str, keep: int, width: int = 300) -> str:
    """Head and tail lines of a long text, saying how much was cut."""
    lines = [
        line if len(line) <= width else f"{line[:width]}… [{len(line) - width} characters cut]"
        for line in text.splitlines()
    ]
    if len(lines) <= keep:
        return "\n".join(lines)
    head = (keep + 1) // 2
    tail = keep - head
    cut = f"[… {len(lines) - keep} lines cut …]"
    return "\n".join([*lines[:head], cut, *(lines[-tail:] if tail else [])])


def _short(value: object, width: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")  # one line
    return text if len(text) <= width else f"{text[:width]}… [+{len(text) - width} chars]"


def _call(name: object, args: object) -> str:
    if isinstance(args, dict):  # what it acts on first, then short values, bodies last
        keys = sorted(args, key=lambda k: (k not in _TARGETS, len(_short(args[k], 10**6))))
        inner = ", ".join(f"{k}={_short(args[k])}" for k in keys)
    else:
        inner = _short(args)
    return f"{name}({inner})"


def _block(text: str, style: str = "") -> Padding:
    return Padding(Text(text, style=style), (0, 0, 0, 4), expand=False)


def _event(event: dict[str, Any], turn: int) -> list[RenderableType]:
    kind = event.get("type")
    if kind == "user":
        return [
            Text("  prompt", style="bold"),
            _block(clip(str(event.get("text")), 8), "dim"),
        ]
    if kind == "assistant":
        usage = event.get("usage") or {}
        head = Text(f"  model, turn {turn}", style="bold cyan")
        head.append(f"  {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out")
        stop = event.get("stop_reason")
        if stop not in (None, "end_turn", "tool_use"):
            head.append(f"  stopped: {stop}", style="red")
        texts = [b.get("text", "") for b in event.get("content") or [] if b.get("type") == "text"]
        return [head, *(_block(clip(t, 40)) for t in texts if t.strip())]
    if kind == "tool":
        failed = bool(event.get("is_error"))
        call = Text(f"▶ {_call(event.get('name'), event.get('input'))}", style="yellow")
        if failed:
            call.append("  (error)", style="red")
        shown = Padding(call, (0, 0, 0, 2), expand=False)  # wraps under itself, not at column 0
        result = str(event.get("result", ""))
        return [shown, _block(clip(result, 10), "red" if failed else "dim")] if result else [shown]
    if kind == "verify":
        passed = bool(event.get("passed"))
        said = "passed" if passed else "failed"
        said = "could not run" if event.get("unverifiable") else said
        head = Text(f"  verification {said}", style="bold green" if passed else "bold red")
        return [head, _block(clip(str(event.get("output", "")), 30))]
    if kind == "resumed":
        return [Text(f"  ⤷ {resumed_line(event)}", style="bold magenta")]
    if kind == "outcome":
        return [Text(f"  outcome: {event.get('outcome')}", style="bold")]
    return [Text(f"  {_short(event, 200)}", style="dim")]


def resumed_line(event: Event) -> str:
    """Where a resume joined the conversation, and what it did first."""
    turns = int(event.get("turns") or 0)
    if not turns:
        return "resumed here, before this attempt's first turn"
    said = f"resumed here after turn {turns} (kept, not asked for again)"
    calls = int(event.get("calls") or 0)
    if event.get("judged"):
        said += "; the change is verified again"
    elif calls:
        said += f"; then the {calls} tool call{'s' if calls != 1 else ''} it had left"
    return said


def render_transcript(task_id: str, attempts: list[Attempt]) -> Group:
    """Model text, each tool call with its input and result, verification, outcome."""
    items: list[RenderableType] = []
    for n, events in attempts:
        outcome = next((e.get("outcome") for e in events if e.get("type") == "outcome"), None)
        resumes = sum(e.get("type") == "resumed" for e in events)
        note = f" (resumed{f' {resumes} times' if resumes > 1 else ''})" if resumes else ""
        items.append(Rule(f"{task_id} attempt {n}: {outcome or 'unfinished'}{note}", align="left"))
        turn = 0
        for event in events:
            turn += event.get("type") == "assistant"
            items.extend(_event(event, turn))
    return Group(*items)
