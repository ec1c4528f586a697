"""A run's side of verification: the base checked before a task starts, a task's change judged
against it (protected tests, a check's evidence), in the project's own environment.

What to run comes from `RunContext.verification`; running it is `verify.runner`'s job and
judging it `verify.policy`'s. This module gathers what they need from git and the records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.run.context import RunContext
from orchestrator.run.workspace import Workspace
from orchestrator.speckit.tasks import Task
from orchestrator.verify import policy, runner
from orchestrator.verify.environment import CONFIG_HINT
from orchestrator.verify.evidence import Evidence, check_evidence
from orchestrator.verify.results import COLLECTION, Snapshot


def verify_tree(ctx: RunContext, root: Path, changed: Sequence[str] = ()) -> Snapshot:
    """The verify commands run on the tree at `root`, each problem diagnosed."""
    return runner.verify_tree(
        root,
        ctx.verification(root if root != ctx.root else None),
        changed,
        timeout=ctx.plan.config.limits.verify_timeout,
        mentioned=ctx.mentioned(),
    )


def verify_head(ctx: RunContext, root: Path) -> Snapshot:
    """The tree at `root` as it is (the base of the next task)."""
    return verify_tree(ctx, root)


def baseline(ctx: RunContext) -> Snapshot:
    """Verify HEAD in the repository's own tree and say what it found, before a task uses it:
    the commands and why, warnings, and what is red there already."""
    v, phase = ctx.verification(), ctx.phase_verification()
    ctx.reporter.note(f"verify{', each task' if phase else ''}: {v.reason}")
    if phase is not None:
        ctx.reporter.note(f"verify, each phase's end: {' && '.join(phase.commands)}")
    for warning in v.warnings:
        ctx.reporter.note(f"warning: {warning}")
    snap = verify_head(ctx, ctx.root)
    if snap.problems:
        return snap
    red = sorted(t for t in snap.failing if not t.endswith(COLLECTION))
    summary = snap.summary()
    if summary:
        ctx.reporter.note(f"HEAD: {summary}")
    if red:
        shown = ", ".join(red[:3]) + (f" and {len(red) - 3} more" if len(red) > 3 else "")
        ctx.reporter.note(f"already red at HEAD, so no task is blamed for them: {shown}")
    for command in sorted(snap.failed_commands()):
        ctx.reporter.note(
            f"warning: `{command}` already fails at HEAD, so it cannot block a task; to judge "
            "it test by test, have it write a JUnit XML report to $SDD_JUNIT_XML (see README)"
        )
    return snap


def base_blocker(ctx: RunContext, red: Snapshot) -> str:
    """Why no task may start from a base with this verification: it could not run, or a test
    file cannot be collected there (its tests would guard nothing). '' when it may."""
    if red.problems:
        return f"cannot verify HEAD: {red.problems[0].line()}"
    expected = ctx.store.expected_red(ctx.feature)
    written_first = _written_first(ctx)
    for file, error in sorted(red.errors.items()):
        if file not in expected and file not in written_first:
            why = policy.last_error_line(error)
            return (
                f"{file} cannot be collected at HEAD ({why}), so its tests guard nothing; "
                f"fix it first, or leave it out: {CONFIG_HINT} (e.g. --ignore={file})"
            )
    return ""


def _written_first(ctx: RunContext) -> set[str]:
    """Test files of done TDD tasks: red until their phase's code exists, by design."""
    done = ctx.done_ids()
    phases = ctx.plan.tasklist.phases
    return {
        f
        for t in ctx.plan.tasklist.tasks
        if t.id in done and policy.is_test_task(t, phases[t.phase].title)
        for f in t.files
    }


def judge_in(
    ctx: RunContext,
    ws: Workspace,
    task: Task,
    changed: list[str],
    at_phase_end: bool,
    red: Snapshot,
    base: str,
    ran: Sequence[tuple[str, bool]] = (),
    now: Snapshot | None = None,
) -> tuple[policy.Verdict, Snapshot]:
    """Verify the tree at `ws` against `red`, the verification of `base`, the commit it
    started from; `ran` are the agent's Bash commands (a check task's evidence); `now`, the
    tree's verification when it already ran (speculatively, on the same tree)."""
    now = now if now is not None else verify_tree(ctx, ws.root, changed)
    title = ctx.plan.tasklist.phases[task.phase].title
    evidence = (
        None if changed or not policy.is_check_task(task) else _evidence(ctx, ws, task, now, ran)
    )
    verdict = policy.judge(
        now,
        red,
        task_id=task.id,
        changed=changed,
        expected_red=ctx.store.expected_red(ctx.feature),
        test_task=policy.is_test_task(task, title),
        phase_end=at_phase_end,
        protected=protected_edits(ctx, ws, task, changed, base),
        evidence=evidence,
    )
    return verdict, now


def protected_edits(
    ctx: RunContext, ws: Workspace, task: Task, changed: Sequence[str], base: str
) -> list[str]:
    """Test files the change edited or deleted that existed at `base` (present at the run's
    start, or landed by earlier tasks) and that the task does not name."""
    if not ctx.plan.config.protect_tests:
        return []
    named = {f.rstrip("/") for f in task.files}
    touched = [
        c
        for c in changed
        if policy.is_test_path(c)
        and c not in named
        and not any(c.startswith(n + "/") for n in named)
    ]
    return sorted(ws.existed(base, touched)) if touched else []


def _evidence(
    ctx: RunContext, ws: Workspace, task: Task, now: Snapshot, ran: Sequence[tuple[str, bool]]
) -> Evidence:
    feature_dir = ws.root / ctx.plan.docs.dir.relative_to(ctx.root)

    def exists(path: str) -> bool:
        return (ws.root / path).exists() or (feature_dir / path).exists()

    return check_evidence(task.description, task.files, exists, ran, now)
