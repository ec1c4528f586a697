"""What a feature is built with, read from its documents: the technologies and languages of
plan.md's Technical Context (else the constitution and spec), and what plan.md's Project
Structure says each folder holds (`api/  # FastAPI backend`). Pure: text in, facts out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orchestrator.plan import lexicon

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_FIELD = re.compile(r"^\s*[-*]?\s*\*\*([^*]+)\*\*\s*:?\s*(.*)$")
_STACK_FIELDS = re.compile(
    r"language|dependenc|framework|project type|testing|storage|database|platform|stack", re.I
)
_TREE = re.compile(r"^([\s│├└─|`+\\-]*)([^\s#│├└][^#]*?)\s*(?:#\s*(.*))?$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class Stack:
    """`techs`: technology terms named (in order); `families`: their language families;
    `folders`: a structure path (`api/`, `src/models/`) -> the terms its comment gives."""

    techs: tuple[str, ...] = ()
    families: frozenset[str] = frozenset()
    ecosystems: frozenset[str] = frozenset()
    folders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""  # where the techs came from: "plan.md", "constitution", ""

    def folder_terms(self, path: str) -> tuple[str, ...]:
        """The comment terms of every structure folder above `path`, outermost first."""
        if not self.folders:
            return ()
        out: list[str] = []
        acc = ""
        for part in path.strip("/").split("/")[:-1]:
            acc += part + "/"
            out += self.folders.get(acc, ())
        return tuple(dict.fromkeys(out))


def read_stack(plan: str, constitution: str = "", spec: str = "") -> Stack:
    """The feature's stack: plan.md's Technical Context first; the constitution, else the
    spec, when the plan names no framework or library sdd knows (only a language, or nothing)."""
    context = _technical_context(plan)
    techs = _techs(context, stack_text=True)
    languages = lexicon.families(_techs(_language_field(context), stack_text=True))
    source = "plan.md" if techs else ""
    if not lexicon.ecosystems(techs):  # "Python 3.11" alone: what is built with it?
        for name, text in (("constitution", constitution), ("spec.md", spec)):
            more = _techs(text, stack_text=False)
            if lexicon.ecosystems(more):
                techs = list(dict.fromkeys([*techs, *more]))
                source = f"{source} and {name}" if source else name
                break
    return Stack(
        techs=tuple(techs),
        families=frozenset(languages or lexicon.families(techs)),
        ecosystems=frozenset(lexicon.ecosystems(techs)),
        folders=_folders(plan),
        source=source,
    )


def _techs(text: str, *, stack_text: bool) -> list[str]:
    found = (t for t in lexicon.terms(text) if t in lexicon.TECH)
    if not stack_text:
        found = (t for t in found if t not in lexicon.STACK_ONLY)
    return list(dict.fromkeys(found))


def _language_field(context: str) -> str:
    """`**Language/Version**: Go 1.21+`: the languages the feature is written in, which other
    technologies named in passing (a Python script in a Rust project) do not change."""
    for line in context.splitlines():
        m = _FIELD.match(line)
        if m and m.group(1).strip().lower().startswith("language"):
            return m.group(2)
    return ""


def _technical_context(plan: str) -> str:
    """The Technical Context section, else the plan's stack fields (`**Language**: …`)."""
    lines = plan.splitlines()
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if m and "technical context" in m.group(2).lower():
            level = len(m.group(1))
            end = next(
                (
                    j
                    for j in range(i + 1, len(lines))
                    if (h := _HEADING.match(lines[j])) and len(h.group(1)) <= level
                ),
                len(lines),
            )
            return "\n".join(lines[i + 1 : end])
    picked: list[str] = []
    for line in lines:
        m = _FIELD.match(line)
        if m and _STACK_FIELDS.search(m.group(1)):
            picked.append(m.group(2))
    return "\n".join(picked)


def _folders(plan: str) -> dict[str, tuple[str, ...]]:
    """Each path of the Project Structure trees with the terms of its `# comment`."""
    out: dict[str, tuple[str, ...]] = {}
    in_structure = False
    fenced = False
    stack: list[tuple[int, str]] = []
    for line in plan.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            stack = []
            continue
        if not fenced:
            if m := _HEADING.match(line):
                title = m.group(2).lower()
                in_structure = "structure" in title or "source code" in title
            continue
        if not in_structure or not (m := _TREE.match(line.rstrip())):
            continue
        prefix, name, comment = m.group(1), m.group(2).strip(), m.group(3) or ""
        depth = len(prefix.replace("\t", "    ")) // 4
        while stack and stack[-1][0] >= depth:
            stack.pop()
        path = (stack[-1][1] if stack else "") + name
        if name.endswith("/"):
            stack.append((depth, path))
        if path.startswith("specs/") or not comment:
            continue
        terms = [t for t in lexicon.terms(comment) if t not in lexicon.PATH_NOISE]
        if terms:
            out[path] = tuple(dict.fromkeys(terms))
    return out
