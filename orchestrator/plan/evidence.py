"""What one task says about the work it is, before any agent is considered: the terms of its
description, its files' languages and kinds, what their folders say (in the path and in the
plan's Project Structure), the terms of its phase, and which other tasks it touches. Pure."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.plan import lexicon
from orchestrator.plan.graph import normalize_path
from orchestrator.plan.stack import Stack
from orchestrator.speckit.tasks import Task
from orchestrator.verify.policy import is_check_task

_TASK_REF = re.compile(r"\b(T\d+[a-zA-Z]?)(?:\s*[-–]\s*(T\d+[a-zA-Z]?))?\b")


@dataclass(frozen=True, slots=True)
class Facts:
    """`files`: (path, family, kind); `folder_terms`: (path, terms) from paths and structure."""

    task: Task
    words: tuple[str, ...]
    files: tuple[tuple[str, str, str], ...]
    folder_terms: tuple[tuple[str, tuple[str, ...]], ...]
    phase_words: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # neighbouring terms: "task service", TaskService
    refs: tuple[str, ...]  # task ids it names or depends on
    product: str  # "docs" or "tooling" when that, not the feature's code, is what it makes

    @property
    def families(self) -> set[str]:
        return {family for _, family, _ in self.files if family}


def facts(task: Task, phase_title: str, stack: Stack) -> Facts:
    text = task.description
    for f in task.files:
        text = text.replace(f, " ")
    files = []
    folders = []
    for raw in task.files:
        if not raw.strip():
            continue
        path = normalize_path(raw.strip())
        family, kind, path_terms, _ = lexicon.file_facts(path)
        files.append((path, family, kind))
        structure = stack.folder_terms(path) if kind != "docs" else ()
        found = tuple(dict.fromkeys((*path_terms, *structure)))
        if found:
            folders.append((path, found))
    phase = f"{phase_title} {task.section}" if task.section else phase_title
    words = tuple(dict.fromkeys(lexicon.terms(text)))
    names = lexicon.name_words(text)
    return Facts(
        task=task,
        words=words,
        files=tuple(files),
        folder_terms=tuple(folders),
        phase_words=_phase_words(phase),
        pairs=tuple(dict.fromkeys(itertools.pairwise(names))),
        refs=tuple(dict.fromkeys([*_refs(task.description, task.id), *task.depends_on])),
        product=_product(task, files, words),
    )


@functools.lru_cache(maxsize=1024)
def _phase_words(title: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lexicon.terms(title)))


def _product(task: Task, files: Sequence[tuple[str, str, str]], words: Sequence[str]) -> str:
    """What the task makes when it is not the feature's code: "docs" when all its files are
    documentation, or it names no code file and says documentation (a task that runs or
    checks things, `Run quickstart.md validation`, only reads them); "tooling" when all its
    files are tool files (`.gitignore`, a hook; a dependency manifest declares the feature's
    own stack) or it names no code file and a tool's work (a lint run, mypy, a CI workflow)."""
    kinds = {kind for _, _, kind in files}
    code = any(family for _, family, _ in files)
    if not is_check_task(task) and (
        kinds == {"docs"} or (not files and any("docs" in lexicon.concepts_of(w) for w in words))
    ):
        return "docs"
    manifest = any(path.rsplit("/", 1)[-1].lower() in lexicon.MANIFESTS for path, _, _ in files)
    tool_files = kinds == {"tooling"} and not manifest
    if tool_files or (not code and any(w in lexicon.TOOLING_PRODUCT for w in words)):
        return "tooling"
    return ""


def _refs(text: str, own: str) -> list[str]:
    """`verify T021-T022 pass` names T021 and T022 (ranges up to 50 ids are spelled out)."""
    out: list[str] = []
    for first, last in _TASK_REF.findall(text):
        out.append(first)
        if last and first[1:].isdigit() and last[1:].isdigit():
            a, b = int(first[1:]), int(last[1:])
            if 0 < b - a <= 50:
                width = len(first) - 1
                out += [f"T{i:0{width}d}" for i in range(a + 1, b + 1)]
            out.append(last)
        elif last:
            out.append(last)
    return [r for r in out if r != own]


def related(all_facts: Sequence[Facts]) -> dict[str, list[tuple[str, str]]]:
    """For each task, the other tasks it touches and how: (task id, why).

    Same file named, two neighbouring words that are two words of another task's file name
    (`TaskService.update_task` or "the title editor" and `task_service.py`,
    `CardTitleEditor.tsx`), or a task id it names or depends on.
    """
    by_file: dict[str, list[str]] = {}
    by_stem: dict[tuple[str, str], list[str]] = {}
    ids = {f.task.id for f in all_facts}
    for f in all_facts:
        for path, _, kind in f.files:
            if kind == "docs":  # many tasks read plan.md; that does not make them alike
                continue
            by_file.setdefault(path.rstrip("/"), []).append(f.task.id)
            stem = lexicon.file_facts(path)[3]
            for pair in dict.fromkeys(itertools.pairwise(stem)):
                by_stem.setdefault(pair, []).append(f.task.id)
    out: dict[str, list[tuple[str, str]]] = {}
    for f in all_facts:
        me = f.task.id
        found: dict[str, str] = {}
        for path, _, _ in f.files:
            for other in by_file.get(path.rstrip("/"), ())[:50]:
                found.setdefault(other, path)
        for pair in f.pairs:
            for other in by_stem.get(pair, ())[:50]:
                found.setdefault(other, " ".join(pair))
        for ref in f.refs:
            if ref in ids:
                found.setdefault(ref, ref)
        found.pop(me, None)
        if found:
            out[me] = list(found.items())
    return out
