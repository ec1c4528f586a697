"""Where a task starts: its base commit, what is red there, and what its prompt says of
the tasks landed before it; fixed when it starts, so siblings landing meanwhile (in a wave)
cannot move it."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.run.context import RunContext
from orchestrator.run.verifying import baseline
from orchestrator.speckit.tasks import Task
from orchestrator.verify import policy
from orchestrator.verify.results import Snapshot


@dataclass(frozen=True, slots=True)
class Start:
    """What a task starts from, fixed when it starts, so siblings landing meanwhile (in a
    wave) cannot move it: its base commit, what is red there, and what the prompt says."""

    base: str
    red: Snapshot  # verification at `base`: failures there are not this task's fault
    phase_end: bool
    landed: tuple[tuple[str, str, str], ...]  # (task, short sha, description) for the prompt


def phase_end(ctx: RunContext, task: Task, running: frozenset[str] = frozenset()) -> bool:
    return policy.is_phase_end(ctx.plan.tasklist, task, ctx.done_ids(), running)


def start_at(
    ctx: RunContext, task: Task, base: str, running: frozenset[str] = frozenset()
) -> Start:
    """A task's start at `base`, which must be the HEAD whose verification the head holds
    (run and reported here the first time: before the first task)."""
    red = ctx.head.verification(lambda: baseline(ctx))
    tasks = ctx.plan.tasks
    landed = tuple(
        (tid, sha[:8], tasks[tid].description if tid in tasks else "")
        for tid, sha in ctx.head.landed.items()
    )
    return Start(base, red, phase_end(ctx, task, running), landed)
