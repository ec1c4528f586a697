"""Speculative landing, merge-queue style: the verified changes of a wave that wait to land are
verified together, not one after another.

Each waiting change is applied, in plan order, onto the tree before it: head+A, head+A+B, ...,
each in its task's own worktree, and those cumulative trees are verified at once (bounded by
`jobs` and by the cores). Landing then goes in plan order with each tree's verification
already in hand, so the longest passing prefix lands at the cost of one verification's wall
time; from the first change that fails (or no longer applies) on, the rest are tried again
on the new head. A tree the worker already verified (its base is still the head) is not
verified again, and with `reverify: auto` neither is a change independent of what landed
since it started (`independent`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from orchestrator.run.attempt import Worked
from orchestrator.run.context import RunContext
from orchestrator.run.start import Start
from orchestrator.run.verifying import verify_tree
from orchestrator.run.workspace import Workspace
from orchestrator.verify.policy import is_test_path
from orchestrator.verify.results import Snapshot

# Files every test run may read: a change to one is never independent of its siblings.
_SHARED = ("conftest.py", "pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini")
_SHARED_PREFIXES = ("requirements", "package.json", "go.mod", "cargo.toml", ".specify/")


@dataclass(slots=True)
class Ready:
    """A worker's result: the verified change as a commit in its worktree (not yet landed)."""

    task_id: str
    ws: Workspace
    start: Start
    worked: Worked
    sha: str  # the worktree's commit of the change; the base itself for a pure check

    @property
    def lands(self) -> bool:
        return self.worked.landed


@dataclass(frozen=True, slots=True)
class Trial:
    """A waiting change verified ahead of its landing, on the tree of the changes before it in
    the chain: `snapshot`, or None when it need not be verified again (`reverify: auto`)."""

    snapshot: Snapshot | None


def speculate(ctx: RunContext, waiting: Sequence[Ready]) -> dict[str, Trial]:
    """Build the chain of cumulative trees from the head and verify them at once. Returns a
    trial per task of the chain, which stops before the first change that does not apply."""
    base = ctx.repo.head()
    auto = ctx.plan.config.reverify == "auto"
    chain: list[tuple[Ready, list[str], bool]] = []
    for ready in waiting:
        if not ready.lands:
            continue
        ws, moved = ready.ws, base != ready.start.base
        ws.reset(base)
        before = ws.changed(ready.start.base) if auto and moved else []
        if ready.sha != ready.start.base and not ws.repo.apply_commit(ready.sha):
            break
        changed = ws.changed(base)
        again = moved and not (auto and independent(changed, before))
        chain.append((ready, changed, again))
        if changed:
            base = ws.commit(f"sdd: {ready.task_id} on the changes before it, not landed yet")
    jobs = max(1, min(ctx.jobs, os.cpu_count() or 1))
    with ThreadPoolExecutor(jobs, thread_name_prefix="sdd-verify") as pool:
        runs = {
            ready.task_id: pool.submit(verify_tree, ctx, ready.ws.root, changed)
            for ready, changed, again in chain
            if again
        }
        return {
            ready.task_id: Trial(runs[ready.task_id].result() if again else None)
            for ready, _, again in chain
        }


def independent(changed: Sequence[str], landed: Sequence[str]) -> bool:
    """Whether a change's verification could not have depended on the changes landed since it
    started: no file in common, and neither side touches tests or the project's config."""
    if set(changed) & set(landed):
        return False
    return not any(_shared(p) for p in (*changed, *landed))


def _shared(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return is_test_path(path) or name in _SHARED or path.lower().startswith(_SHARED_PREFIXES)
