"""What one line of a task says: its ID and labels, the files it names, the tasks it needs.

Pure, text in and values out. The tasks.md parser decides which lines belong to which task;
this module reads each line: a task's head (`T001 [P] [US1] …`), repository paths in its
description, dependency notations and ID ranges (speckit.md §4.8), `Files:`/`Parallel:`
fields, and the prose of a Dependencies section.
"""

from __future__ import annotations

import bisect
import re

TASK_ID = r"T\d{3,}[A-Za-z]?"

Ref = tuple[str, str | None]  # one ID, or the two ends of a range such as T010-T014
Head = tuple[str, bool, str | None, bool, str]  # id, parallel, story, done, description

# A task line's head: `T001 [P] [US1] …`, `[T001] …`, `**T001 [P] [X]**: …`.
_LEAD_ID = re.compile(rf"(\*\*)?\[?({TASK_ID})\]?(?![\w\-–—])")
_LABEL = re.compile(r"\[(P|US\d+|[xX](?:,[^\]]*)?)\]")
_LEAD_LABEL = re.compile(r"[\s:.]*\[(P|US\d+|[xX](?:,[^\]]*)?)\]")
_LEAD_PUNCT = re.compile(r"\s*(?:[:：]|[.)\-–—](?=\s))?\s*")
_TRAIL_P = re.compile(r"\s*\[P\]\s*$")
_ONLY_NOTES = re.compile(r"(\([^)]*\)\s*|\[[^\]]*\]\s*)*")
_BARE = re.compile(rf"\[?{TASK_ID}\]?(?:[.:)]\s|\s*\[(?:P|US\d+|[xX])\])")
_COMMENT = re.compile(r"<!--.*?-->")
_FIELD_LINE = re.compile(
    r"\*\*[^*]{1,40}\*\*\s*[:：]|\*\*[^*]{1,40}[:：]\*\*"  # **Field**: or **Field:**
    r"|[A-Z][A-Za-z]*(?:[ -][A-Za-z]+){0,2}[:：]\s"  # Deps: / Accept: / Depends on:
)

# Dependency notations. An ID list: IDs and ranges joined by , & / and.
_REF = re.compile(rf"(?<!\w)({TASK_ID})(?:\s*[-–—]\s*({TASK_ID}))?(?!\w)")
_IDS = rf"{TASK_ID}(?:\s*(?:[-–—,&/]|\band\b)?\s*{TASK_ID})*"
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
_OPEN_RANGE = re.compile(rf"{TASK_ID}\+")

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


def task_head(s: str, strict: bool) -> Head | None:
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
    punct = _LEAD_PUNCT.match(rest)  # always matches: every part of it is optional
    rest = rest[punct.end() :] if punct else rest
    desc = f"{inside} {rest}".strip()
    trailing = _TRAIL_P.search(desc)
    if trailing:
        desc = desc[: trailing.start()]
    story = next((x for x in labels if x.startswith("US")), None)
    done = any(x[0] in "xX" for x in labels)
    return m.group(2), "P" in labels or bool(trailing), story, done, desc


def bare_head(row: str) -> Head | None:
    """A paragraph line that is a task: `T001. …`, `T001 [P] …` or `**T001 [P] [X]**: …`."""
    if row.startswith("**"):
        return task_head(row, strict=True)
    return task_head(row, strict=False) if _BARE.match(row) else None


def description(first: str, rows: list[str]) -> str:
    """A task's description: its head's text and the hard-wrapped lines under it, which end at
    the first blank or `Field:` line; HTML comments dropped, whitespace collapsed."""
    for extra in rows:
        extra = extra.strip()
        if not extra or _FIELD_LINE.match(extra):
            break
        first = f"{first} {extra}"
    return " ".join(_COMMENT.sub("", first).split())


def refs(text: str) -> list[Ref]:
    """Every ID and ID range in text, as written."""
    return [(m.group(1), m.group(2)) for m in _REF.finditer(text)]


def row_notes(row: str) -> tuple[list[Ref], bool, list[str]]:
    """(dependencies, parallel, files) one of a task's own lines declares: `depends on T001`,
    `[deps: T002]`, `**Dependencies**: …`, `Parallel: yes`, `Files: a.py, b.py`."""
    low = row.lower()
    deps: list[Ref] = []
    if _DEP_HINT.search(low):  # a cheap test first: most lines name no dependency
        found = [m.group(1) for m in _DEP_INLINE.finditer(row)]
        found += [m.group(1) for m in _DEP_BRACKET.finditer(row)]
        if dep_field := _DEP_FIELD.match(row):
            found.append(dep_field.group(1))
        deps = [ref for chunk in found for ref in refs(chunk)]
    parallel = "parallel" in low and _PAR_FIELD.match(row) is not None
    files = _FILES_FIELD.match(row) if "file" in low else None
    return deps, parallel, paths(files.group(1)) if files else []


def prose_edge(row: str) -> tuple[list[Ref], list[Ref]] | None:
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
    left, right = refs(s[: rels[0].start()]), refs(s[rels[0].end() :])
    if not left or not right:
        return None
    forward = rels[0].group(1).lower().startswith(("block", "before", "must", "preced"))
    return (right, left) if forward else (left, right)


class Expander:
    """Refs to IDs; a range covers the IDs that exist between its ends, in file order."""

    def __init__(self, ids: list[str]) -> None:
        self.order = {tid: k for k, tid in enumerate(ids)}
        self.keys = sorted((_key(tid), tid) for tid in ids)

    def __call__(self, wanted: list[Ref]) -> list[str]:
        out: list[str] = []
        for lo, hi in wanted:
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


def paths(text: str) -> list[str]:
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
