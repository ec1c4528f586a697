"""tasks.md -> Task records. Pure: a string in, records out; no file or network access.

markdown-it-py supplies the block structure, so code fences, tables, headings and nested lists
are structure, not regex guesses; regexes only read the inside of one list item, heading,
paragraph line or table row. Task forms: `- [ ] T001 …` checkboxes (spec-kit's grammar),
`### T001: …` headings, bare `T001. …` and bold `**T001 [P] [X]**: …` paragraph lines, and table
rows with an ID column. Files without task IDs are refused rather than given invented IDs: IDs
that shift when the file is edited would silently re-point landed commits and resumed runs.
This module decides which lines belong to which task; `task_line` reads those lines and `ticks`
edits a task's done mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

from orchestrator.errors import TaskParseError
from orchestrator.speckit.task_line import (
    TASK_ID,
    Expander,
    Head,
    Ref,
    bare_head,
    description,
    paths,
    prose_edge,
    refs,
    row_notes,
    task_head,
)
from orchestrator.text import visible

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@dataclass(frozen=True, slots=True)
class Phase:
    """A `## Phase …` heading (or the implicit phase before any heading)."""

    index: int  # 0-based, in file order
    number: str  # "3.2", "3", "" when the heading has no number
    title: str  # the heading text as written, without the leading "Phase N:" part
    line: int  # 1-based line of the heading (0 for the implicit phase)


@dataclass(frozen=True, slots=True)
class Task:
    """One task as written in tasks.md."""

    id: str  # "T001", "T008a", "T040A", "T1000"
    description: str  # the text without checkbox, ID, [P] and [USn] markers
    line: int  # 1-based line number of the task in the file
    phase: int  # index into TaskList.phases
    done: bool = False  # [x]/[X] (or a "Done" status); [~] is not done
    mark: str = " "  # the checkbox mark as written: " ", "x", "X", "~"; "" when no checkbox
    parallel: bool = False  # [P] (not [P0]..[P3], which are priorities)
    story: str | None = None  # "US1"
    files: tuple[str, ...] = ()  # repository paths named in the description
    depends_on: tuple[str, ...] = ()  # explicit dependencies only, as written
    section: str = ""  # nearest heading below the phase, e.g. "Tests for User Story 1"


@dataclass(slots=True)
class TaskList:
    """Everything parsed from one tasks.md."""

    tasks: list[Task]
    phases: list[Phase]
    warnings: list[str] = field(default_factory=list)


GRAMMAR = "`- [ ] T001 [P] [US1] Description with path/to/file.py`"
_NEWLINE = re.compile(r"\r\n?|\n")
_CHECKBOX = re.compile(r"\[([ xX~])\]\s")
_COMMENT = re.compile(r"<!--.*?-->")
_PHASE = re.compile(r"\W*phase\s+(\d+(?:\.\d+)*|N)\b\s*(?:[:：.\-–—]\s*)?(.*)", re.I | re.S)
_PHASE_ZH = re.compile(r"\W*第([一二三四五六七八九十\d]+)阶段\s*[:：]?\s*(.*)", re.S)
_TASKLIKE_HEADING = re.compile(r"\W*(?:task|任务)\s*\d", re.I)

_RANK = {"checkbox": 0, "heading": 0, "table": 1, "bare": 2, "bold": 2}
_FORM_NOTE = {
    "heading": "tasks written as headings (`### T001: …`)",
    "bare": "tasks written as bare lines (`T001. …`)",
    "bold": "tasks written as bold lines (`**T001**: …`)",
    "table": "tasks written as table rows",
}


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # on first use: no work at import time

    # Block structure only: inline parsing would double the time and we read raw content. In
    # tasks.md a `---` under a line is a thematic break, not a setext heading; link reference
    # definitions do not matter. Without those two rules parsing is 25% faster.
    md = MarkdownIt("commonmark").enable("table")
    return md.disable(["inline", "text_join", "lheading", "reference"])


@dataclass(slots=True)
class _Draft:
    """A task while the file is read; its dependencies resolve once every ID is known."""

    id: str
    line: int
    phase: int
    section: str
    form: str  # checkbox | heading | bare | bold | table
    mark: str
    done: bool
    parallel: bool
    story: str | None
    description: str
    files: list[str]
    refs: list[Ref] = field(default_factory=list)
    level: int = 0  # a heading task's level: its body ends at a heading this high
    status_col: int = -1  # a table row's Status column, for ticking

    def add_files(self, found: list[str]) -> None:
        self.files += [p for p in found if p not in self.files]

    def task(self, shift: int, deps: list[str]) -> Task:
        return Task(
            id=self.id,
            description=visible(self.description),
            line=self.line,
            phase=self.phase - shift,
            done=self.done,
            mark=self.mark,
            parallel=self.parallel,
            story=self.story,
            files=tuple(self.files),
            depends_on=tuple(dict.fromkeys(x for x in deps if x != self.id)),
            section=visible(self.section),
        )


def parse_tasks(text: str) -> TaskList:
    """Read tasks.md; raise TaskParseError when it holds no runnable tasks or repeats an ID."""
    return _Reader(text).run()[0]


@dataclass(frozen=True, slots=True)
class TaskForm:
    """How a task is written, which decides what ticking it edits (see speckit.ticks)."""

    kind: str  # checkbox | heading | bare | bold | table
    status_col: int = -1  # a table row's Status column; -1 when it has none


def parse_forms(text: str) -> tuple[TaskList, dict[str, TaskForm]]:
    """parse_tasks, and how each task (by ID) is written."""
    tasklist, drafts = _Reader(text).run()
    return tasklist, {tid: TaskForm(d.form, d.status_col) for tid, d in drafts.items()}


class _Reader:
    """One pass over markdown-it's block tokens, tracking phase, headings and who owns text."""

    def __init__(self, text: str) -> None:
        src = text[1:] if text.startswith("\ufeff") else text
        self.lines = _NEWLINE.split(src)
        _blank_front_matter(self.lines)
        self.phases = [Phase(0, "", "", 0)]
        self.phase_level = 0
        self.drafts: list[_Draft] = []
        self.headings: list[tuple[int, str | None]] = []  # (level, text); None = a task heading
        self.section = ""  # the nearest non-task heading below the phase
        self.items: list[_Draft | None] = []  # the open list items: the task each one is
        self.body: _Draft | None = None  # heading or paragraph task owning what follows it
        # Dependencies prose: (later, earlier) refs
        self.edges: list[tuple[list[Ref], list[Ref]]] = []
        self.prose = False  # inside a Dependencies section (not its examples or notes)
        self.tasklike = 0  # the first line that looks like a task but has no ID

    def run(self) -> tuple[TaskList, dict[str, _Draft]]:
        tokens = _markdown().parse("\n".join(self.lines))
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            if tok.type == "heading_open":
                self._heading(int(tok.tag[1]), tokens[i + 1].content, _line(tok))
                i += 3
                continue
            if tok.type == "table_open":
                i = self._table(tokens, i)
                continue
            if tok.type == "list_item_open":
                para = tokens[i + 1]
                draft = None
                if para.type == "paragraph_open" and _line(para) == _line(tok):
                    draft = self._item(tokens[i + 2].content, _line(tok))
                self.items.append(draft)
                i += 4 if draft else 1  # a task's own paragraph is read already
                continue
            if tok.type == "list_item_close":
                self.items.pop()
            elif tok.type == "inline":
                self._paragraph(tok.content.split("\n"), _line(tok))
            i += 1
        return self._finish()

    def _heading(self, level: int, content: str, line: int) -> None:
        text = _COMMENT.sub("", content).strip()
        if self.body and (self.body.form != "heading" or level <= self.body.level):
            self.body = None
        phase = None
        if level > 1 and (not self.phase_level or level <= self.phase_level):
            phase = _PHASE.match(text) or _PHASE_ZH.match(text)
        if phase:
            number = phase.group(1)
            number = number if number[0].isascii() else _chinese_number(number)
            title = visible(phase.group(2).strip())
            self.phases.append(Phase(len(self.phases), number, title, line))
            self.phase_level, self.headings, self.body, self.prose = level, [], None, False
            self.section = ""
            return
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.section = next((t for lvl, t in reversed(self.headings) if t and lvl > 1), "")
        head = task_head(text, strict=False) if level > 1 else None
        if head:
            self.body = self._add(head, line, "heading", "", [text])
            self.body.level = level
            self.headings.append((level, None))
            return
        if _TASKLIKE_HEADING.match(text):
            self.tasklike = self.tasklike or line
        self.headings.append((level, text))
        self.section = text if level > 1 else self.section
        names = [t.lower() for _, t in self.headings if t]
        self.prose = any("dependenc" in t for t in names) and not any(
            "example" in t or "note" in t for t in names
        )

    def _item(self, content: str, line: int) -> _Draft | None:
        box = _CHECKBOX.match(content)
        if not box:
            return None
        rows = content.split("\n")
        head = task_head(rows[0][box.end() :], strict=False)
        if not head:
            self.tasklike = self.tasklike or line
            return None
        self.body = None
        return self._add(head, line, "checkbox", box.group(1), rows)

    def _paragraph(self, rows: list[str], line: int) -> None:
        if self.items:  # inside a list that is no task: a task's sub-bullets, or prose
            owner = next((d for d in reversed(self.items) if d), self.body)
            if owner:
                self._own(owner, rows)
            elif self.prose:
                self._prose(rows)
            return
        heads = [None if self.prose else bare_head(row.strip()) for row in rows]
        starts = [k for k, head in enumerate(heads) if head] + [len(rows)]
        for k in range(starts[0]):
            if self.body:
                self._own(self.body, [rows[k]])
            elif self.prose:
                self._prose([rows[k]])
        for k, end in pairwise(starts):
            form = "bold" if rows[k].lstrip().startswith("**") else "bare"
            head = heads[k]
            assert head is not None  # `starts` holds the rows that are task heads
            self.body = self._add(head, line + k, form, "", rows[k:end])

    def _table(self, tokens: list[Token], i: int) -> int:
        rows: list[tuple[int, list[str]]] = []
        while tokens[i].type != "table_close":
            if tokens[i].type == "tr_open":
                rows.append((_line(tokens[i]), []))
            elif tokens[i].type == "inline":
                rows[-1][1].append(tokens[i].content.strip())
            i += 1
        header = [c.lower() for c in rows[0][1]] if rows else []
        id_col = _column(header, r"(task\s*)?id|#")
        if id_col < 0:
            return i + 1
        task_col = _column(header, r"task|title|description|name|summary", id_col + 1)
        details = _column(header, r".*(detail|file|path).*")
        depends = _column(header, r"(depend|deps|blocked).*")
        parallel = _column(header, r"parallel|\[p\]|p")
        status = _column(header, r"status|state|done")
        for line, cells in rows[1:]:
            tid = _cell(cells, id_col).strip("*` ")
            if not re.fullmatch(TASK_ID, tid):
                continue
            par = _cell(cells, parallel).lower()
            is_done = _cell(cells, status).lower().startswith(("done", "complete", "✅", "[x]"))
            head = (tid, "[p]" in par or par in ("p", "yes", "y", "true", "✓", "✔"), None, is_done)
            draft = self._add((*head, _cell(cells, task_col)), line, "table", "", [])
            draft.add_files(paths(_cell(cells, details)))
            draft.refs += refs(_cell(cells, depends))
            draft.status_col = status
        return i + 1

    def _add(self, head: Head, line: int, form: str, mark: str, rows: list[str]) -> _Draft:
        """A new task; `rows` are its own lines, read for wrapped text and dependency notes."""
        tid, parallel, story, done, first = head
        desc = description(first, rows[1:])
        section = self.section
        if form == "checkbox":
            done = mark in "xX"
        draft = _Draft(tid, line, len(self.phases) - 1, section, form, mark, done, parallel, story,
                       desc, paths(desc))  # fmt: skip
        self.drafts.append(draft)
        self._own(draft, rows)
        return draft

    def _own(self, draft: _Draft, rows: list[str]) -> None:
        for row in rows:
            deps, parallel, files = row_notes(row)
            draft.refs += deps
            draft.parallel = draft.parallel or parallel
            draft.add_files(files)

    def _prose(self, rows: list[str]) -> None:
        self.edges += [edge for row in rows if (edge := prose_edge(row))]

    def _finish(self) -> tuple[TaskList, dict[str, _Draft]]:
        if self.drafts:  # beside checkbox or heading tasks, ID tables and `T001: …` lines recap
            best = min(_RANK[d.form] for d in self.drafts)
            self.drafts = [d for d in self.drafts if _RANK[d.form] == best]
        if not self.drafts:
            if self.tasklike:
                raw = self.lines[self.tasklike - 1].strip()
                raw = raw if len(raw) <= 70 else raw[:67] + "..."
                raise TaskParseError(
                    f"no task IDs found; `{raw}` looks like a task but has no ID: "
                    f"expected lines like {GRAMMAR}",
                    self.tasklike,
                )
            raise TaskParseError(f"no tasks found: expected lines like {GRAMMAR}")
        by_id: dict[str, _Draft] = {}
        for d in self.drafts:
            if d.id in by_id:
                lines = f"{by_id[d.id].line} and {d.line}"
                raise TaskParseError(f"duplicate task ID {d.id} on lines {lines}", d.line)
            by_id[d.id] = d
        expand = Expander([d.id for d in self.drafts])
        deps = {d.id: expand(d.refs) for d in self.drafts}
        for d in self.drafts:  # naming itself among others (a range, a list) is dropped below
            if deps[d.id] and set(deps[d.id]) == {d.id}:
                raise TaskParseError(f"{d.id} depends on itself", d.line)
        for later, earlier in self.edges:
            before = expand(earlier)
            for tid in expand(later):
                if tid in deps:
                    deps[tid] += before
        shift = 0 if any(d.phase == 0 for d in self.drafts) else 1  # no implicit phase needed
        phases = [replace(p, index=p.index - shift) for p in self.phases[shift:]]
        tasks = [d.task(shift, deps[d.id]) for d in self.drafts]
        forms = dict.fromkeys(d.form for d in self.drafts if d.form != "checkbox")
        warnings = [
            f"{_FORM_NOTE[f]}, not `- [ ] T001` checkboxes; sdd marks them done "
            + ("in the Status column" if f == "table" else "with `[X]` after the ID")
            for f in forms
        ]
        return TaskList(tasks, phases, warnings), by_id


def _line(tok: Token) -> int:
    """The 1-based line a block token starts on (block tokens always carry their map)."""
    assert tok.map is not None
    return tok.map[0] + 1


def _column(header: list[str], pattern: str, default: int = -1) -> int:
    return next((k for k, h in enumerate(header) if re.fullmatch(pattern, h)), default)


def _cell(cells: list[str], k: int) -> str:
    return cells[k] if 0 <= k < len(cells) else ""


def _chinese_number(s: str) -> str:
    digits = {c: k for k, c in enumerate("零一二三四五六七八九")}
    tens, ten, ones = s.partition("十")
    if not ten:
        return str(digits.get(s, "")) if len(s) == 1 else ""
    return str((digits.get(tens, 1) if tens else 1) * 10 + digits.get(ones, 0))


def _blank_front_matter(lines: list[str]) -> None:
    """YAML front matter would read as a thematic break and text; blank it, keep numbering."""
    if len(lines) < 3 or lines[0].strip() != "---" or not re.match(r"[\w-]+\s*:", lines[1]):
        return
    end = next((k for k in range(1, len(lines)) if lines[k].strip() in ("---", "...")), 0)
    for k in range(end + 1 if end else 0):
        lines[k] = ""
