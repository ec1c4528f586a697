"""tasks.md -> Task records. Pure: a string in, records out; no file or network access."""

from __future__ import annotations

from dataclasses import dataclass, field


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
