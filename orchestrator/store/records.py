"""The records sdd keeps beside the LangGraph checkpoints: one row per run, task and attempt.

Graph state holds only a cursor; everything that grows with the number of tasks lives in these
rows, so a checkpoint stays a few hundred bytes however large the feature is (a per-task dict
in graph state grows the checkpoint file as O(N^2)). Statuses are StrEnums: stored as their
text, compared like strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"  # an attempt is under way (or was, when sdd died)
    AWAITING = "awaiting approval"  # verified, held by `--approve each`
    REJECTED = "rejected"  # sent back by `sdd resume --reject`; runs again with the note
    LANDED = "landed"
    FAILED = "failed"  # out of attempts; `sdd resume` tries again
    SKIPPED = "skipped"  # moved past by `sdd resume --skip`, left unticked


class TaskKind(StrEnum):
    NONE = ""  # not landed
    CHANGE = "change"
    CHECK = "check"  # landed with no change: a check whose verification passed with evidence
    TDD_RED = "tdd-red"  # tests written first, landed failing as spec-kit's TDD asks
    ALREADY_LANDED = "already-landed"  # committed before a crash, recorded on resume


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # verification failed
    NO_CHANGE = "no-change"  # the agent changed nothing, and the task needs a change
    LIMIT = "limit"  # the attempt's turn or output-token limit
    UNVERIFIABLE = "unverifiable"  # verification could not run (a missing tool or dependency)


@dataclass(slots=True)
class RunRecord:
    run_id: str
    feature: str
    status: RunStatus
    reason: str = ""
    model: str = ""
    started: float = 0.0
    updated: float = 0.0
    remote: str = ""  # the git remote each landed commit is pushed to ("" = none)
    options: str = ""  # JSON: the options the run was started or last resumed with

    def __post_init__(self) -> None:
        self.status = RunStatus(self.status)


@dataclass(slots=True)
class TaskRecord:
    feature: str
    task_id: str
    run_id: str = ""
    status: TaskStatus = TaskStatus.PENDING
    agent: str = ""
    route_reason: str = ""
    kind: TaskKind = TaskKind.NONE
    attempts: int = 0
    commit_sha: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    seconds: float = 0.0
    message: str = ""
    updated: float = 0.0
    base: str = ""  # HEAD when the task started: what an interrupted attempt is reset to
    evidence: str = ""  # what let it land: tests run, a check's evidence, red as expected
    verify_seconds: float = 0.0  # of `seconds`, or after them: its verifications' wall time
    cache_write_1h_tokens: int = 0  # of cache_write_tokens, written with the 1-hour TTL

    def __post_init__(self) -> None:
        self.status, self.kind = TaskStatus(self.status), TaskKind(self.kind)


@dataclass(slots=True)
class AttemptRecord:
    feature: str
    task_id: str
    attempt: int
    run_id: str
    outcome: Outcome
    verify_output: str = ""
    transcript: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)


@dataclass(slots=True)
class PhaseCheck:
    """A phase's full verification (`verify: phase`), the last one run for that phase: at
    `head`, judged against `base` (the phase's start), covering the phase's landed `tasks`."""

    feature: str
    phase: int  # the phase's index in tasks.md (0-based)
    run_id: str = ""
    passed: bool = False
    head: str = ""
    base: str = ""
    tasks: str = ""  # `T001=sha,T002=sha`: the landings it covered (a redo makes it due again)
    headline: str = ""  # PASSED, or the failure in one line (the culprit named)
    culprit: str = ""  # the task whose commit first failed, found by bisecting
    output: str = ""  # the phase verification's output at `head`
    seconds: float = 0.0  # wall time of the check, bisection included
    runs: int = 0  # how many times the phase set ran for it (baseline and bisection included)
    stopped: bool = False  # a second Ctrl-C ended it before a verdict: a resume runs it again
    updated: float = 0.0

    def __post_init__(self) -> None:
        self.passed, self.stopped = bool(self.passed), bool(self.stopped)
