"""Commit messages for landed tasks, and reading their trailers back (pure).

A task is found again after a crash by the trailer block of its commit, so the block is written
the way git recognises it: its own last paragraph, after a blank line, one `Key: value` a line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TASK = "Sdd-Task"
FEATURE = "Sdd-Feature"
AGENT = "Sdd-Agent"
RUN = "Sdd-Run"
ATTEMPTS = "Sdd-Attempts"
KIND = "Sdd-Kind"  # "check" (a passing check, no change) or "tdd-red" (tests written first)
EVIDENCE = "Sdd-Evidence"  # what a check ran: its tests, or the command the task names
EXPECTED_RED = "Sdd-Expected-Red"  # test files landed failing on purpose, with their counts
TURNED_GREEN = "Sdd-Turned-Green"  # expected-red test files this task made pass
REVERT = "Sdd-Revert"  # on an `sdd undo` commit: the task it took back

SUBJECT_LIMIT = 72
ELLIPSIS = "…"

_KEY = re.compile(r"[A-Za-z0-9-]+")
# git's rule: a token of letters, digits and dashes, optional blanks, then the separator.
_TRAILER_LINE = re.compile(r"([A-Za-z0-9-]+)[ \t]*:[ \t]*(.*)")
_GIT_GENERATED = ("Signed-off-by:", "(cherry picked from commit ")


def task_commit_message(
    task_id: str, description: str, summary: str, trailers: Mapping[str, str]
) -> str:
    """`T005: <description>` over the agent's summary and the trailer block."""
    return commit_message(subject_line(task_id, description), summary, trailers)


def revert_commit_message(task_id: str, feature: str, subject: str, sha: str) -> str:
    """The `sdd undo` commit: its Sdd-Revert trailer marks the task as no longer landed."""
    return commit_message(
        f'Revert "{_one_line(subject)}"',
        f"This reverts commit {sha}.",
        {REVERT: task_id, FEATURE: feature},
    )


def subject_line(task_id: str, description: str, limit: int = SUBJECT_LIMIT) -> str:
    """One line within `limit` characters, cut on a word boundary when it must be cut."""
    prefix = f"{task_id}: "
    text = _one_line(description)
    if not text:
        return task_id
    if len(prefix) + len(text) <= limit:
        return (prefix + text).rstrip()
    room = max(limit - len(prefix) - len(ELLIPSIS), 1)
    cut = text[: room + 1].rsplit(" ", 1)[0] if " " in text[: room + 1] else ""
    if not cut or len(cut) > room:
        cut = text[:room]  # one long word: no boundary to cut on
    return prefix + cut.rstrip(" ,;:.-") + ELLIPSIS


def commit_message(subject: str, body: str, trailers: Mapping[str, str]) -> str:
    """Subject, optional body, trailer block; each separated by one blank line."""
    parts = [_one_line(subject)]
    cleaned = _body(body)
    if cleaned:
        parts.append(cleaned)
    if trailers:
        parts.append("\n".join(_trailer(key, value) for key, value in trailers.items()))
    return "\n\n".join(parts) + "\n"


def parse_trailers(message: str) -> dict[str, str]:
    """The trailers git would see (`git interpret-trailers --parse`); a repeated key keeps
    its last value."""
    paragraphs = _paragraphs(message)
    if len(paragraphs) < 2:  # the first paragraph is the title and never holds trailers
        return {}
    lines = paragraphs[-1]
    if not _is_trailer_block(lines):
        return {}
    found: dict[str, str] = {}
    last: str | None = None
    for line in lines:
        if line[:1] in (" ", "\t") and last is not None:
            found[last] = f"{found[last]} {line.strip()}".strip()
            continue
        match = _TRAILER_LINE.fullmatch(line)
        if match:
            last = match.group(1)
            found.pop(last, None)  # re-insert so the order follows the message
            found[last] = match.group(2).strip()
        else:
            last = None
    return found


def _is_trailer_block(lines: list[str]) -> bool:
    """git's test, read bottom-up: all trailers, or a quarter of them and one git writes."""
    trailers = others = continuations = 0
    recognised = False
    for line in reversed(lines):
        if line.startswith("#"):
            others += continuations
            continuations = 0
        elif line.startswith(_GIT_GENERATED):
            trailers += 1
            continuations = 0
            recognised = True
        elif _TRAILER_LINE.match(line):
            trailers += 1
            continuations = 0
        elif line[:1] in (" ", "\t"):
            continuations += 1
        else:
            others += 1 + continuations
            continuations = 0
    others += continuations
    return (recognised and trailers * 3 >= others) or (trailers > 0 and others == 0)


def _paragraphs(message: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for raw in message.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if line:
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _body(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    # A line starting with `---` ends the message for `git am` and `interpret-trailers`.
    return "\n".join(f" {line}" if line.startswith("---") else line for line in lines)


def _trailer(key: str, value: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a trailer key: {key!r}")
    return f"{key}: {_one_line(value)}".rstrip()
