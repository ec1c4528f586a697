"""tasks.md -> Task records. Pure: a string in, records out; no file or network access.

markdown-it-py supplies the block structure, so code fences, tables, headings and nested lists
are structure, not regex guesses; regexes only read the inside of one list item, heading,
paragraph line or table row. Task forms: `- [ ] T001 …` checkboxes (spec-kit's grammar),
`### T001: …` headings, bare `T001. …` and bold `**T001 [P] [X]**: …` paragraph lines, and table
rows with an ID column. Files without task IDs are refused rather than given invented IDs: IDs
that shift when the file is edited would silently re-point landed commits and resumed runs.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

from orchestrator.errors import TaskParseError

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


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
_ID = r"T\d{3,}[A-Za-z]?"
_NEWLINE = re.compile(r"\r\n?|\n")
_LEAD_ID = re.compile(rf"(\*\*)?\[?({_ID})\]?(?![\w\-–—])")
_LABEL = re.compile(r"\[(P|US\d+|[xX](?:,[^\]]*)?)\]")
_LEAD_LABEL = re.compile(r"[\s:.]*\[(P|US\d+|[xX](?:,[^\]]*)?)\]")
_LEAD_PUNCT = re.compile(r"\s*(?:[:：]|[.)\-–—](?=\s))?\s*")
_TRAIL_P = re.compile(r"\s*\[P\]\s*$")
_ONLY_NOTES = re.compile(r"(\([^)]*\)\s*|\[[^\]]*\]\s*)*")
_CHECKBOX = re.compile(r"\[([ xX~])\]\s")
_BARE = re.compile(rf"\[?{_ID}\]?(?:[.:)]\s|\s*\[(?:P|US\d+|[xX])\])")
_COMMENT = re.compile(r"<!--.*?-->")
_FIELD_LINE = re.compile(
    r"\*\*[^*]{1,40}\*\*\s*[:：]|\*\*[^*]{1,40}[:：]\*\*"  # **Field**: or **Field:**
    r"|[A-Z][A-Za-z]*(?:[ -][A-Za-z]+){0,2}[:：]\s"  # Deps: / Accept: / Depends on:
)
_PHASE = re.compile(r"\W*phase\s+(\d+(?:\.\d+)*|N)\b\s*(?:[:：.\-–—]\s*)?(.*)", re.I | re.S)
_PHASE_ZH = re.compile(r"\W*第([一二三四五六七八九十\d]+)阶段\s*[:：]?\s*(.*)", re.S)
_TASKLIKE_HEADING = re.compile(r"\W*(?:task|任务)\s*\d", re.I)

# Dependency notations (speckit.md §4.8). An ID list: IDs and ranges joined by , & / and.
_REF = re.compile(rf"(?<!\w)({_ID})(?:\s*[-–—]\s*({_ID}))?(?!\w)")
_IDS = rf"{_ID}(?:\s*(?:[-–—,&/]|\band\b)?\s*{_ID})*"
_DEP_HINT = re.compile(r"dep|requir|need|block|prereq")
_DEP_INLINE = re.compile(
    rf"\b(?:depends?(?:\s+on)?|deps|requires?|blocked\s+by|needs)\s*:?\s*({_IDS})", re.I
)
_DEP_BRACKET = re.compile(r"\[\s*(?:depends?(?:\s+on)?|deps)\s*:\s*([^\]]*)\]", re.I)
_DEP_FIELD = re.compile(
    r"[\W_]*(?:deps|depends(?:\s+on)?|dependenc(?:y|ies)|blocked\s+by|prerequisites?)[*_\s]*[:：]"
    r"\s*(.*)",
    re.I,
)
_PAR_FIELD = re.compile(r"[\W_]*parallel(?:izable)?[*_\s]*[:：]\s*(?:yes|true|y\b|\[P\])", re.I)
_FILES_FIELD = re.compile(r"[\W_]*files?[*_\s]*[:：]\s*(.*)", re.I)
# Prose in a Dependencies section: "X blocks Y", "X before Y", "X depends on Y" (one per line).
_REL = re.compile(
    r"\b(blocks|before|must\s+precede|precedes?|depends?\s+on|requires?|needs|after)\b", re.I
)
_PAREN = re.compile(r"\([^()]*\)")
_BOLD_LABEL = re.compile(r"\*\*(.+?)\*\*\s*[:：]?\s*")
_OPEN_RANGE = re.compile(rf"{_ID}\+")

# File paths named in a description.
_EXT_WORDS = (
    "py pyi ts tsx js jsx mjs cjs json jsonc jsonl yaml yml toml md mdx txt ini cfg conf go mod "
    "sum rs java kt kts scala gradle sql sh bash zsh ps1 bat html htm css scss sass less vue "
    "svelte xml csv ipynb rb php c h cc cpp hpp cs swift dart proto graphql lock env properties "
    "rst tf hcl mk j2 tmpl zip gz tar whl mp4 png jpg jpeg gif svg pdf parquet pkl npz npy lua"
)
_ROOT_WORDS = (
    "src tests test app lib docs api backend frontend internal cmd pkg scripts specs config "
    "migrations alembic public components pages packages services server client examples"
)
_NAME_WORDS = "Dockerfile Makefile Justfile Procfile Gemfile Rakefile"
_LIBRARY_WORDS = "next node vue nuxt react express chart three ember d3 deno angular"
_EXTS, _ROOTS, _NAMES, _LIBRARIES = (
    frozenset(words.split()) for words in (_EXT_WORDS, _ROOT_WORDS, _NAME_WORDS, _LIBRARY_WORDS)
)
_CODE = re.compile(r"`([^`]+)`")
_WORD_SPLIT = re.compile(r"[,;\"'“”‘’]")
_NOT_PATH = re.compile(r"[\s\"'<>=|$^:()]")
_SEGMENT = re.compile(r"[\w.\-@\[\]{},*]+")
_DOTFILE = re.compile(r"\.[a-z][\w.\-]*")

_BOX_EDIT = re.compile(r"^([ \t]*(?:>[ \t]*)*(?:[-*+]|\d{1,9}[.)])[ \t]+\[)[ xX~](\])")
_UNDONE_EDIT = re.compile(r"[ \t]?\[[xX]\]|(?<=\[)[xX],\s*")
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
    refs: list[tuple[str, str | None]] = field(default_factory=list)
    level: int = 0  # a heading task's level: its body ends at a heading this high
    status_col: int = -1  # a table row's Status column, for set_done

    def add_files(self, text: str) -> None:
        self.files += [p for p in _paths(text) if p not in self.files]

    def task(self, shift: int, deps: list[str]) -> Task:
        return Task(
            id=self.id,
            description=self.description,
            line=self.line,
            phase=self.phase - shift,
            done=self.done,
            mark=self.mark,
            parallel=self.parallel,
            story=self.story,
            files=tuple(self.files),
            depends_on=tuple(dict.fromkeys(x for x in deps if x != self.id)),
            section=self.section,
        )


def parse_tasks(text: str) -> TaskList:
    """Read tasks.md; raise TaskParseError when it holds no runnable tasks or repeats an ID."""
    return _Reader(text).run()[0]


def set_done(text: str, task: Task, done: bool) -> str:
    """Tick or untick one task in place; every other byte (line endings too) stays as it was.

    Checkboxes get the mark the file's done tasks already use (`X` when undecided). Heading,
    bare and bold tasks gain or lose an `[X]` after the ID, which the parser reads back as done;
    table rows change their Status cell. A table without a Status column cannot be ticked.
    """
    tasklist, drafts = _Reader(text).run()
    cur = drafts.get(task.id)
    if cur is None:
        raise TaskParseError(f"task {task.id} is no longer in tasks.md")
    if cur.done == done:
        return text
    start, end = _line_span(text, cur.line)
    line = text[start:end]
    marks = [t.mark for t in tasklist.tasks if t.done and t.mark in ("x", "X")]
    style = "x" if marks.count("x") > marks.count("X") else "X"
    if cur.form == "checkbox":
        new, found = _BOX_EDIT.subn(rf"\g<1>{style if done else ' '}\g<2>", line, count=1)
        if not found:
            raise TaskParseError(f"cannot find the checkbox of {cur.id}", cur.line)
    elif cur.form == "table":
        new = _set_cell(line, cur, "Done" if done else "Not started")
    else:
        at = re.search(rf"(?<!\w){re.escape(cur.id)}(?!\w)\]?", line)
        if at is None:
            raise TaskParseError(f"cannot find {cur.id} on its line", cur.line)
        pos = at.end()
        if not done:
            new = line[:pos] + _UNDONE_EDIT.sub("", line[pos:], count=1)
        else:
            close = line.find("**", pos) if cur.form == "bold" else -1
            pos = close if close >= 0 else pos
            new = f"{line[:pos]} [{style}]{line[pos:]}"
    return text[:start] + new + text[end:]


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
        self.edges: list[tuple[list, list]] = []  # Dependencies prose: (later, earlier) refs
        self.prose = False  # inside a Dependencies section (not its examples or notes)
        self.tasklike = 0  # the first line that looks like a task but has no ID

    def run(self) -> tuple[TaskList, dict[str, _Draft]]:
        tokens = _markdown().parse("\n".join(self.lines))
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            if tok.type == "heading_open":
                self._heading(int(tok.tag[1]), tokens[i + 1].content, tok.map[0] + 1)
                i += 3
                continue
            if tok.type == "table_open":
                i = self._table(tokens, i)
                continue
            if tok.type == "list_item_open":
                para = tokens[i + 1]
                draft = None
                if para.type == "paragraph_open" and para.map[0] == tok.map[0]:
                    draft = self._item(tokens[i + 2].content, tok.map[0] + 1)
                self.items.append(draft)
                i += 4 if draft else 1  # a task's own paragraph is read already
                continue
            if tok.type == "list_item_close":
                self.items.pop()
            elif tok.type == "inline":
                self._paragraph(tok.content.split("\n"), tok.map[0] + 1)
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
            self.phases.append(Phase(len(self.phases), number, phase.group(2).strip(), line))
            self.phase_level, self.headings, self.body, self.prose = level, [], None, False
            self.section = ""
            return
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.section = next((t for lvl, t in reversed(self.headings) if t and lvl > 1), "")
        head = _head(text, strict=False) if level > 1 else None
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
        head = _head(rows[0][box.end() :], strict=False)
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
        heads = [None if self.prose else _bare_head(row.strip()) for row in rows]
        starts = [k for k, head in enumerate(heads) if head] + [len(rows)]
        for k in range(starts[0]):
            if self.body:
                self._own(self.body, [rows[k]])
            elif self.prose:
                self._prose([rows[k]])
        for k, end in pairwise(starts):
            form = "bold" if rows[k].lstrip().startswith("**") else "bare"
            self.body = self._add(heads[k], line + k, form, "", rows[k:end])

    def _table(self, tokens: list, i: int) -> int:
        rows: list[tuple[int, list[str]]] = []
        while tokens[i].type != "table_close":
            if tokens[i].type == "tr_open":
                rows.append((tokens[i].map[0] + 1, []))
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
            if not re.fullmatch(_ID, tid):
                continue
            par = _cell(cells, parallel).lower()
            is_done = _cell(cells, status).lower().startswith(("done", "complete", "✅", "[x]"))
            head = (tid, "[p]" in par or par in ("p", "yes", "y", "true", "✓", "✔"), None, is_done)
            draft = self._add((*head, _cell(cells, task_col)), line, "table", "", [])
            draft.add_files(_cell(cells, details))
            draft.refs += _refs(_cell(cells, depends))
            draft.status_col = status
        return i + 1

    def _add(self, head: tuple, line: int, form: str, mark: str, rows: list[str]) -> _Draft:
        """A new task; `rows` are its own lines, read for wrapped text and dependency notes."""
        tid, parallel, story, done, desc = head
        for extra in rows[1:]:  # a hard-wrapped description ends at the first `Field:` line
            extra = extra.strip()
            if not extra or _FIELD_LINE.match(extra):
                break
            desc = f"{desc} {extra}"
        desc = " ".join(_COMMENT.sub("", desc).split())
        section = self.section
        if form == "checkbox":
            done = mark in "xX"
        draft = _Draft(tid, line, len(self.phases) - 1, section, form, mark, done, parallel, story,
                       desc, _paths(desc))  # fmt: skip
        self.drafts.append(draft)
        self._own(draft, rows)
        return draft

    def _own(self, draft: _Draft, rows: list[str]) -> None:
        for row in rows:
            low = row.lower()
            if _DEP_HINT.search(low):
                draft.refs += _dep_refs(row)
            if "parallel" in low and _PAR_FIELD.match(row):
                draft.parallel = True
            if "file" in low and (files := _FILES_FIELD.match(row)):
                draft.add_files(files.group(1))

    def _prose(self, rows: list[str]) -> None:
        self.edges += [edge for row in rows if (edge := _prose_edge(row))]

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
        expand = _Expander([d.id for d in self.drafts])
        deps = {d.id: expand(d.refs) for d in self.drafts}
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


def _head(s: str, strict: bool) -> tuple[str, bool, str | None, bool, str] | None:
    """(id, parallel, story, done, description) of text that starts with a task ID."""
    m = _LEAD_ID.match(s)
    if not m:
        return None
    rest, inside = s[m.end() :], ""
    if m.group(1) and (close := rest.find("**")) >= 0:
        inside, rest = rest[:close], rest[close + 2 :]
    labels = _LABEL.findall(inside)
    inside = _LABEL.sub("", inside).strip()
    if strict and m.group(1) and not _ONLY_NOTES.fullmatch(inside):
        return None  # `**T022 blocks all of Phase 6**:` is prose, not a task
    while lead := _LEAD_LABEL.match(rest):
        labels.append(lead.group(1))
        rest = rest[lead.end() :]
    rest = rest[_LEAD_PUNCT.match(rest).end() :]
    desc = f"{inside} {rest}".strip()
    trailing = _TRAIL_P.search(desc)
    if trailing:
        desc = desc[: trailing.start()]
    story = next((x for x in labels if x.startswith("US")), None)
    done = any(x[0] in "xX" for x in labels)
    return m.group(2), "P" in labels or bool(trailing), story, done, desc


def _bare_head(row: str) -> tuple[str, bool, str | None, bool, str] | None:
    """A paragraph line that is a task: `T001. …`, `T001 [P] …` or `**T001 [P] [X]**: …`."""
    if row.startswith("**"):
        return _head(row, strict=True)
    return _head(row, strict=False) if _BARE.match(row) else None


def _refs(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in _REF.finditer(text)]


def _dep_refs(row: str) -> list[tuple[str, str | None]]:
    found = [m.group(1) for m in _DEP_INLINE.finditer(row)]
    found += [m.group(1) for m in _DEP_BRACKET.finditer(row)]
    if dep_field := _DEP_FIELD.match(row):
        found.append(dep_field.group(1))
    return [ref for chunk in found for ref in _refs(chunk)]


def _prose_edge(row: str) -> tuple[list, list] | None:
    """(dependents, prerequisites) from one Dependencies-section line, or None when unsure."""
    s = row.strip()
    if _OPEN_RANGE.search(s):
        return None  # "before T030+" names no definite set of tasks
    if label := _BOLD_LABEL.match(s):
        inner = label.group(1)
        s = inner if _REL.search(inner) and _REF.search(inner) else s[label.end() :]
    s = _PAREN.sub(lambda m: m.group(0) if _REF.search(m.group(0)) else " ", s)
    rels = list(_REL.finditer(s))
    if len(rels) != 1:
        return None
    left, right = _refs(s[: rels[0].start()]), _refs(s[rels[0].end() :])
    if not left or not right:
        return None
    forward = rels[0].group(1).lower().startswith(("block", "before", "must", "preced"))
    return (right, left) if forward else (left, right)


class _Expander:
    """Refs to IDs; a range covers the IDs that exist between its ends, in file order."""

    def __init__(self, ids: list[str]) -> None:
        self.order = {tid: k for k, tid in enumerate(ids)}
        self.keys = sorted((_key(tid), tid) for tid in ids)

    def __call__(self, refs: list[tuple[str, str | None]]) -> list[str]:
        out: list[str] = []
        for lo, hi in refs:
            if hi is None:
                out.append(lo)  # unknown IDs stay: the scheduler reports them
                continue
            a = bisect.bisect_left(self.keys, (_key(lo), ""))
            b = bisect.bisect_right(self.keys, (_key(hi), "\uffff"))
            out += sorted((tid for _, tid in self.keys[a:b]), key=self.order.__getitem__)
        return out


def _key(tid: str) -> tuple[int, str]:
    suffix = tid[-1] if tid[-1].isalpha() else ""
    return int(tid[1 : len(tid) - len(suffix)]), suffix.lower()


def _paths(text: str) -> list[str]:
    """Repository paths named in text: backticked or bare, with an extension, a known root or a
    trailing `/`. URLs, API routes without an extension and `[y/N]`-style labels are not paths."""
    found: list[str | None] = []
    for code in _CODE.findall(text):
        if " " in code.strip():
            found += _words(code)
        else:
            found.append(_path(code.split("::")[0], quoted=True))
    found += _words(_CODE.sub(" ", text))
    return list(dict.fromkeys(p for p in found if p))


def _words(text: str) -> list[str | None]:
    out: list[str | None] = []
    for word in text.split():
        if "/" in word or "." in word or word in _NAMES:
            parts = [word] if "{" in word else _WORD_SPLIT.split(word)
            out += [_path(part, quoted=False) for part in parts]
    return out


def _path(tok: str, quoted: bool) -> str | None:
    prev = None
    while tok != prev:  # peel punctuation and unbalanced brackets: "(see src/a.py)."
        prev = tok
        tok = tok.strip().rstrip(".:!?")
        for a, b in ("()", "[]"):
            if tok[:1] == a and tok[-1:] == b and tok.count(a) == 1:
                return None if a == "[" else _path(tok[1:-1], quoted)  # [y/N], [OK]: labels
            if tok[:1] == a and tok.count(a) > tok.count(b):
                tok = tok[1:]
            if tok[-1:] == b and tok.count(b) > tok.count(a):
                tok = tok[:-1]
    if not tok or _NOT_PATH.search(tok) or tok.startswith(("-", "@", "~", "#")):
        return None
    tok = tok.removeprefix("./")
    last = tok.rsplit("/", 1)[-1]
    if tok.startswith("/"):
        return tok if _has_ext(last) else None  # /api/tasks is a route, /x/route.ts a file
    if "/" not in tok:
        dotfile = _DOTFILE.fullmatch(tok) and (tok == ".env" or tok[1:] not in _EXTS)
        return tok if _has_ext(tok, quoted) or tok in _NAMES or dotfile else None
    parts = tok.split("/")
    if not all(_SEGMENT.fullmatch(p) for p in parts if p) or "" in parts[1:-1]:
        return None
    if not last or _has_ext(last) or quoted or parts[0] in _ROOTS or last in _NAMES:
        return tok
    return None


def _has_ext(name: str, quoted: bool = True) -> bool:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem.strip("*"):
        return False
    library = ext == "js" and (stem.lower() in _LIBRARIES or (stem[0].isupper() and not quoted))
    return ext.lower() in _EXTS and not library  # "Next.js", "Dexie.js" name libraries


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


def _line_span(text: str, line: int) -> tuple[int, int]:
    """Offsets of a 1-based line's content, its terminator (\\r\\n, \\r or \\n) excluded."""
    start = 1 if text.startswith("\ufeff") else 0
    for k, m in enumerate(_NEWLINE.finditer(text), start=2):
        if k > line:
            return start, m.start()
        start = m.end()
    return start, len(text)


def _set_cell(line: str, draft: _Draft, word: str) -> str:
    if draft.status_col < 0:
        raise TaskParseError(f"{draft.id} is a table row without a Status column", draft.line)
    bars = [m.start() for m in re.finditer(r"(?<!\\)\|", line)]
    if not line.lstrip().startswith("|"):
        bars.insert(0, -1)
    if not line.rstrip().endswith("|"):
        bars.append(len(line))
    if draft.status_col + 1 >= len(bars):
        raise TaskParseError(f"the table row of {draft.id} has no Status cell", draft.line)
    a, b = bars[draft.status_col] + 1, bars[draft.status_col + 1]
    cell = line[a:b]
    if not cell.strip():
        return f"{line[:a]} {word} {line[b:]}"
    lead = len(cell) - len(cell.lstrip())
    return line[: a + lead] + word + line[a + len(cell.rstrip()) :]
