"""Phase checks, the slow half of `verify: {task: [...], phase: [...]}`: each task is judged by
the fast `task` set, and when a phase's last task has landed the full `phase` set runs on the
head, judged by the same no-regression policy against the phase set's own verification at
the phase's start (the commit before its first landing). A check runs before the next task
starts, so the run cannot finish, nor go on past a phase, with a regression only the full suite
sees.

When it finds one, the commits since the phase's start are bisected with the phase set to
name the task that broke it, and the run pauses with that task, the failing tests and how to
redo it. A check covers the landings it saw: a task undone and landed again makes its phase
due again. Nothing counts as passed that did not run: a check that could not run fails.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator import paths
from orchestrator.errors import GitStateError
from orchestrator.git.history import commits_since, oldest
from orchestrator.run.context import RunContext
from orchestrator.run.workspace import Workspace, linked_worktree, main_workspace
from orchestrator.speckit.tasks import Task
from orchestrator.store.records import PhaseCheck
from orchestrator.verify import bisect, policy, runner
from orchestrator.verify.environment import Verification
from orchestrator.verify.results import Snapshot

STOPPED = "stopped by a second Ctrl-C before its phase verification finished"


def phase_name(ctx: RunContext, index: int) -> str:
    phase = ctx.plan.tasklist.phases[index]
    number = phase.number or str(index + 1)
    return f"phase {number}" + (f" ({phase.title})" if phase.title else "")


def landings(ctx: RunContext, index: int) -> str:
    """`T001=sha,T002=sha`: the phase's tasks as they stand landed on this branch."""
    tasks = [t for t in ctx.plan.tasklist.tasks if t.phase == index]
    return ",".join(f"{t.id}={ctx.head.landed[t.id]}" for t in tasks if t.id in ctx.head.landed)


def due(ctx: RunContext) -> int | None:
    """The first phase whose tasks are all done, with landings no passing check covers yet."""
    if ctx.plan.config.phase_verify is None:
        return None
    done = ctx.done_ids()
    checks = ctx.phase_checks.all()
    for phase in ctx.plan.tasklist.phases:
        tasks = [t for t in ctx.plan.tasklist.tasks if t.phase == phase.index]
        if not tasks or any(t.id not in done for t in tasks):
            continue
        landed = landings(ctx, phase.index)
        check = checks.get(phase.index)
        if landed and (check is None or not check.passed or check.tasks != landed):
            return phase.index
    return None


@dataclass(slots=True)
class _Trees:
    """Verifying the phase set at any commit: the head in the repository's own tree, others in
    one scratch worktree made on first use; each run counted."""

    ctx: RunContext
    head: str
    ws: Workspace | None = None
    runs: int = 0

    def at(self, sha: str, changed: Sequence[str] = ()) -> Snapshot:
        cached = self.ctx.phase_snapshots.get(sha)
        if cached is not None:
            return cached
        root = self.ctx.root if sha == self.head else self._tree(sha)
        verification = self.ctx.phase_verification(None if root == self.ctx.root else root)
        assert isinstance(verification, Verification)
        limit = self.ctx.plan.config.limits.verify_timeout
        snap = runner.verify_tree(
            root, verification, changed, timeout=limit, mentioned=self.ctx.mentioned()
        )
        self.runs += 1
        if not snap.problems:
            self.ctx.phase_snapshots[sha] = snap
        return snap

    def _tree(self, sha: str) -> Path:
        if self.ws is None:
            self.ctx.repo.clear_worktrees(self.path)  # left by a check a kill cut short
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.ws = linked_worktree(self.ctx, self.path, sha)
        self.ws.reset(sha)
        return self.ws.root

    @property
    def path(self) -> Path:
        return paths.worktrees_dir(self.ctx.root, self.ctx.feature) / "phase-check"

    def close(self) -> None:
        if self.ws is not None:
            self.ctx.repo.clear_worktrees(self.path)


def check(ctx: RunContext, index: int) -> PhaseCheck:
    """Run the phase set on the head against the phase's start; on a failure, bisect. A second
    Ctrl-C stops it: the running command's processes are ended, the scratch worktree removed,
    and the check saved as not passed (nor failed: `stopped`), so a resume runs it again."""
    started = time.monotonic()
    name = phase_name(ctx, index)
    ctx.reporter.note(f"{name}: all its tasks landed; running the phase verification")
    head, landed = ctx.repo.head(), landings(ctx, index)
    base = _start(ctx, [sha.split("=", 1)[1] for sha in landed.split(",")])
    record = PhaseCheck(ctx.feature, index, ctx.run.run_id, head=head, base=base, tasks=landed)
    trees, stopped = _Trees(ctx, head), False
    ctx.phase_checks.running = name
    try:
        _judge(ctx, trees, record, name)
    except KeyboardInterrupt:  # the verify command's process group is ended by the runner
        stopped, record.passed, record.output, record.culprit = True, False, "", ""
        record.stopped = True
        record.headline = f"{name}: {STOPPED}; `sdd resume {ctx.feature}` runs it again"
    finally:
        ctx.phase_checks.running = ""
        trees.close()
    record.runs = trees.runs
    record.seconds = round(time.monotonic() - started, 3)
    ctx.phase_checks.save(record)
    if stopped:
        raise KeyboardInterrupt(record.headline)
    if record.passed:
        ctx.reporter.note(f"{name}: the phase verification {record.headline.lower()}")
    return record


def _judge(ctx: RunContext, trees: _Trees, record: PhaseCheck, name: str) -> None:
    """The phase set at the head against the phase's start; on a failure, who broke it."""
    base, head = record.base, record.head
    start = trees.at(base)
    changed = main_workspace(ctx).changed(base)
    end = trees.at(head, changed)
    verdict = policy.judge(
        end,
        start,
        task_id=name,
        changed=changed,
        expected_red=_red_elsewhere(ctx, record.phase),
        test_task=False,
        phase_end=False,
    )
    record.output = verdict.output
    record.passed = verdict.passed
    if verdict.passed:
        record.headline = f"PASSED ({end.summary()})" if end.summary() else "PASSED"
    elif verdict.unverifiable:
        record.headline = f"{name} could not be verified: {verdict.headline}"
    else:
        record.culprit, broke = _bisect(ctx, trees, record.phase, base, head, start, end)
        record.headline = f"{name} failed its phase verification: {broke}"


def pause_reason(ctx: RunContext, record: PhaseCheck) -> str:
    """One line: what failed, and how to go on."""
    feature = ctx.feature
    if record.culprit:
        fix = f"`sdd undo {feature} {record.culprit}` then `sdd resume {feature}` to redo it"
    else:
        fix = f"fix it, then `sdd resume {feature}` checks the phase again"
    return f"{record.headline}; `sdd log {feature}` shows the output; {fix}"


def _start(ctx: RunContext, shas: list[str]) -> str:
    """The commit before the phase's oldest landing: where its verification is compared."""
    first = oldest(ctx.repo, shas)
    resolved = ctx.repo.resolve(f"{first}~1")
    if resolved is None:
        raise GitStateError(f"{first[:10]} has no parent to compare its phase with")
    return resolved


def _red_elsewhere(ctx: RunContext, index: int) -> dict[str, str]:
    """Expected-red test files written by other phases' tasks: not this phase's to fix."""
    tasks = ctx.plan.tasks
    return {
        f: t
        for f, t in ctx.store.expected_red(ctx.feature).items()
        if t in tasks and tasks[t].phase != index
    }


def _bisect(
    ctx: RunContext,
    trees: _Trees,
    index: int,
    base: str,
    head: str,
    start: Snapshot,
    end: Snapshot,
) -> tuple[str, str]:
    """The task whose commit first shows the failure, and one line saying so; when commits
    the phase set could not run at leave several candidates, no task, and the line names the
    span and why."""
    found = bisect.suspects(end, start)
    commits = commits_since(ctx.repo, base)
    if head not in commits:
        return "", found.shown()
    commits = commits[: commits.index(head) + 1]
    written = _written_first(ctx, index)
    last = len(commits) - 1
    if last > 0:
        ctx.reporter.note(f"finding the commit that broke it among {len(commits)}")
    unknown: dict[int, str] = {}  # commit index -> why the phase set could not say there

    def bad(i: int) -> bool | None:
        snap = trees.at(commits[i])
        verdict = bisect.is_bad(snap, found, written, i == last)
        if verdict is None:
            why = snap.problems[0].cause if snap.problems else "a test file could not be collected"
            unknown[i] = why
            name = _named(ctx, commits[i])
            ctx.reporter.note(f"{name}: the phase verification could not run there ({why})")
        return verdict

    span = bisect.first_bad(len(commits), bad)
    first, culprit = _named(ctx, commits[span.first]), _named(ctx, commits[span.last])
    if span.exact:
        task = {s: t for t, s in ctx.head.landed.items()}.get(commits[span.last], "")
        return task, f"{culprit} broke {found.shown()}"
    skipped = [_named(ctx, commits[i]) for i in range(span.first, span.last)]
    why = unknown.get(span.first, "")
    return "", (
        f"{first}–{culprit}: one of them broke {found.shown()} (the phase verification could"
        f" not run at {_listed(skipped)}: {why})"
    )


def _named(ctx: RunContext, sha: str) -> str:
    """A commit as the task it landed, else by its sha."""
    by_sha = {s: t for t, s in ctx.head.landed.items()}
    return by_sha.get(sha) or f"commit {sha[:10]}"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _written_first(ctx: RunContext, index: int) -> set[str]:
    tasks: list[Task] = [t for t in ctx.plan.tasklist.tasks if t.phase == index]
    title = ctx.plan.tasklist.phases[index].title
    return {f for t in tasks if policy.is_test_task(t, title) for f in t.files}
