"""Ticking and unticking one task in tasks.md. Pure: text in, text out.

The edit is the smallest one the parser reads back as the new state, so a user's file keeps its
layout, line endings and notation; the task is found by ID in the current text, not by the line
it had when it was parsed, because the file may have been edited since.
"""

from __future__ import annotations

import re

from orchestrator.errors import TaskParseError
from orchestrator.speckit.tasks import Task, parse_forms

_NEWLINE = re.compile(r"\r\n?|\n")
_BOX_EDIT = re.compile(r"^([ \t]*(?:>[ \t]*)*(?:[-*+]|\d{1,9}[.)])[ \t]+\[)[ xX~](\])")
_UNDONE_EDIT = re.compile(r"[ \t]?\[[xX]\]|(?<=\[)[xX],\s*")


def set_done(text: str, task: Task, done: bool) -> str:
    """Tick or untick one task in place; every other byte (line endings too) stays as it was.

    Checkboxes get the mark the file's done tasks already use (`X` when undecided). Heading,
    bare and bold tasks gain or lose an `[X]` after the ID, which the parser reads back as done;
    table rows change their Status cell. A table without a Status column cannot be ticked.
    """
    quick = _quick_tick(text, task, done)
    return quick if quick is not None else _reparse_and_set(text, task, done)


def _reparse_and_set(text: str, task: Task, done: bool) -> str:
    """The careful path: find the task by ID in a fresh parse of the current text."""
    tasklist, forms = parse_forms(text)
    cur = next((t for t in tasklist.tasks if t.id == task.id), None)
    if cur is None:
        raise TaskParseError(f"task {task.id} is no longer in tasks.md")
    if cur.done == done:
        return text
    form = forms[cur.id]
    start, end = _line_span(text, cur.line)
    line = text[start:end]
    marks = [t.mark for t in tasklist.tasks if t.done and t.mark in ("x", "X")]
    style = "x" if marks.count("x") > marks.count("X") else "X"
    if form.kind == "checkbox":
        new, found = _BOX_EDIT.subn(rf"\g<1>{style if done else ' '}\g<2>", line, count=1)
        if not found:
            raise TaskParseError(f"cannot find the checkbox of {cur.id}", cur.line)
    elif form.kind == "table":
        new = _set_cell(line, cur, form.status_col, "Done" if done else "Not started")
    else:
        at = re.search(rf"(?<!\w){re.escape(cur.id)}(?!\w)\]?", line)
        if at is None:
            raise TaskParseError(f"cannot find {cur.id} on its line", cur.line)
        pos = at.end()
        if not done:
            new = line[:pos] + _UNDONE_EDIT.sub("", line[pos:], count=1)
        else:
            close = line.find("**", pos) if form.kind == "bold" else -1
            pos = close if close >= 0 else pos
            new = f"{line[:pos]} [{style}]{line[pos:]}"
    return text[:start] + new + text[end:]


_DONE_BOX = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[([xX])\]", re.MULTILINE)


def _quick_tick(text: str, task: Task, done: bool) -> str | None:
    """The common case without re-parsing: a checkbox task still on the line it was parsed at.

    Landing a task must not cost a parse of the whole file (1,000 tasks: 68 ms per landing);
    anything unexpected returns None and the careful path decides.
    """
    if task.mark not in (" ", "x", "X", "~") or task.done == done:
        return None
    start, end = _line_span(text, task.line)
    line = text[start:end]
    box = _BOX_EDIT.match(line)
    if box is None or not re.match(
        rf"[ \t]*(?:\*\*)?{re.escape(task.id)}(?!\w)", line[box.end() :]
    ):
        return None
    marks = _DONE_BOX.findall(text)
    style = "x" if marks.count("x") > marks.count("X") else "X"
    new = _BOX_EDIT.sub(rf"\g<1>{style if done else ' '}\g<2>", line, count=1)
    return text[:start] + new + text[end:]


def _line_span(text: str, line: int) -> tuple[int, int]:
    """Offsets of a 1-based line's content, its terminator (\\r\\n, \\r or \\n) excluded."""
    start = 1 if text.startswith("\ufeff") else 0
    for k, m in enumerate(_NEWLINE.finditer(text), start=2):
        if k > line:
            return start, m.start()
        start = m.end()
    return start, len(text)


def _set_cell(line: str, task: Task, col: int, word: str) -> str:
    if col < 0:
        raise TaskParseError(f"{task.id} is a table row without a Status column", task.line)
    bars = [m.start() for m in re.finditer(r"(?<!\\)\|", line)]
    if not line.lstrip().startswith("|"):
        bars.insert(0, -1)
    if not line.rstrip().endswith("|"):
        bars.append(len(line))
    if col + 1 >= len(bars):
        raise TaskParseError(f"the table row of {task.id} has no Status cell", task.line)
    a, b = bars[col] + 1, bars[col + 1]
    cell = line[a:b]
    if not cell.strip():
        return f"{line[:a]} {word} {line[b:]}"
    lead = len(cell) - len(cell.lstrip())
    return line[: a + lead] + word + line[a + len(cell.rstrip()) :]
