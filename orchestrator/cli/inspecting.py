"""The `sdd` commands that look back at a run: status, log, diff, show, report, audit, undo,
retry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.cli.app import (
    AsJson,
    Feature,
    FeatureOrTask,
    Force,
    ModelOpt,
    Push,
    Repo,
    RunJson,
    StoreOpt,
    TaskId,
    feature_task,
    load_records,
    locate,
    out,
    page,
    print_json,
    run_feature,
    settings,
    terminal,
)

if TYPE_CHECKING:
    from orchestrator.store.store import Store


def log(
    feature: Feature = None, repo: Repo = None, as_json: AsJson = False, store: StoreOpt = None
) -> None:
    """One line per landed task: commit, agent, attempts, tokens, seconds."""
    from rich.markup import escape

    from orchestrator.views.phase_checks import (
        failed_output,
        log_entries,
        phase_checks_data,
        phase_checks_table,
    )
    from orchestrator.views.tables import log_data, log_table

    plan, kept = load_records(repo, feature, store)
    run_rec = kept.latest_run(plan.docs.name) if kept else None
    price = plan.config.price(run_rec.model) if run_rec else None
    rows = log_data(kept.tasks(plan.docs.name), plan.graph.order, price) if kept else []
    checks = kept.phase_checks(plan.docs.name) if kept else {}
    if as_json:
        phase_of = {t.id: t.phase for t in plan.tasklist.tasks}
        print_json(log_entries(rows, checks, plan.tasklist.phases, phase_of))
        return
    out.print(log_table(plan.docs.name, rows, out.width))
    if checks:
        phases = phase_checks_data(checks, plan.tasklist.phases)
        out.print(phase_checks_table(phases))
        failed = failed_output(phases)
        if failed:
            out.print(escape(failed))


def status(
    feature: Feature = None, repo: Repo = None, as_json: AsJson = False, store: StoreOpt = None
) -> None:
    """Where the run stands: per-task state, attempts, commit, tokens."""
    from orchestrator.views.outcome import stopped
    from orchestrator.views.phase_checks import phase_checks_data, phase_checks_table
    from orchestrator.views.tables import status_data, status_table
    from orchestrator.views.transcripts import attempt_usage

    plan, kept = load_records(repo, feature, store)
    name = plan.docs.name
    run_rec = kept.latest_run(name) if kept else None
    records = kept.tasks(name) if kept else {}
    done = {t.id for t in plan.tasklist.tasks if t.done}
    price = plan.config.price(run_rec.model) if run_rec else None
    running = {
        tid: attempt_usage(plan.root, name, tid, r.attempts)
        for tid, r in records.items()
        if r.status == "running" and r.attempts
    }
    data = status_data(name, run_rec, records, plan.graph.order, done, price, running)
    if kept and run_rec and run_rec.status == "running":
        data = stopped(data, _driver(plan.root, kept, name))
    checks = kept.phase_checks(name) if kept else {}
    data["phase_checks"] = phase_checks_data(checks, plan.tasklist.phases)
    if as_json:
        print_json(data)
        return
    out.print(status_table(data, out.width))
    if data["phase_checks"]:
        out.print(phase_checks_table(data["phase_checks"]))


def _driver(root: Path, kept: Store, feature: str) -> str | None:
    """Who drives the feature's run now, or None when no live process does: the holder of
    the working tree's lock, or, in a store machines share, of the run's lock there."""
    from orchestrator.errors import SddError
    from orchestrator.run.lock import held_by

    if not kept.url.shared:
        return held_by(root)
    try:
        lock = kept.lock_run(feature)
    except SddError as exc:  # held: it names the holder
        return str(exc)
    if lock is not None:
        lock.close()
    return None


def diff(
    feature: FeatureOrTask = None,
    task: TaskId = None,
    repo: Repo = None,
    stat: Annotated[bool, typer.Option("--stat", help="Only the files and line counts.")] = False,
    store: StoreOpt = None,
) -> None:
    """The change a landed task committed: its commit and patch (paged)."""
    from orchestrator.views.commits import task_diff

    feature, task = feature_task(feature, task)
    root, feature_dir = locate(repo, feature)
    color = terminal() and settings.color
    page(task_diff(root, feature_dir, task, stat=stat, color=color, store=store))


def show(
    feature: FeatureOrTask = None,
    task: TaskId = None,
    repo: Repo = None,
    attempt: Annotated[
        int | None, typer.Option("--attempt", min=1, help="Only this attempt.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The events as JSON lines, each with its attempt.")
    ] = False,
) -> None:
    """What the agent did: model text, tool calls, verification, per attempt (paged)."""
    from orchestrator.views.transcripts import json_lines, read_attempts, render_transcript

    feature, task = feature_task(feature, task)
    root, feature_dir = locate(repo, feature)
    task_id, attempts = read_attempts(root, feature_dir, task, attempt)
    if as_json:
        sys.stdout.writelines(line + "\n" for line in json_lines(attempts))
        return
    with out.capture() as shown:
        out.print(render_transcript(task_id, attempts))
    page(shown.get())


def _undo(
    repo: Path | None,
    feature: str | None,
    task: str,
    force: bool,
    store: str | None,
    to_stderr: bool = False,
) -> str:
    """Undo the task; the feature's folder name. Said on stderr when stdout is for JSON."""
    from rich.console import Console

    from orchestrator.run.undo import undo_task

    root, feature_dir = locate(repo, feature)
    done = undo_task(root, feature_dir, task, force=force, store=store)
    console = Console(stderr=True, highlight=False, no_color=out.no_color) if to_stderr else out
    console.print(
        f"Reverted {done.task_id} ({done.reverted[:10]}) as {done.revert[:10]}; "
        f"{done.task_id} is pending again."
    )
    return feature_dir.name


def undo(
    feature: FeatureOrTask = None,
    task: TaskId = None,
    repo: Repo = None,
    force: Force = False,
    store: StoreOpt = None,
) -> None:
    """Take a landed task back: a new revert commit that also unticks it in tasks.md."""
    feature, task = feature_task(feature, task)
    name = _undo(repo, feature, task, force, store)
    out.print(f"Run it again: sdd run {name}")


def retry(
    feature: FeatureOrTask = None,
    task: TaskId = None,
    repo: Repo = None,
    force: Force = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
    push: Push = None,
    as_json: RunJson = False,
) -> None:
    """Undo a landed task, then continue the run, which lands it again as a new commit.

    The run goes on as `sdd run` does: ready tasks before this one run first, later ones after.
    Everything the run needs (model, credentials, a free and clean tree) is checked before
    the revert, so a refusal leaves nothing behind.
    """
    from orchestrator.run.context import RunOptions
    from orchestrator.run.opening import check_run

    feature, task = feature_task(feature, task)
    options = RunOptions(model, store=store, push=push)
    root, feature_dir = locate(repo, feature)
    check_run(root, feature_dir, options)
    _undo(repo, feature, task, force, store, to_stderr=as_json)
    raise typer.Exit(run_feature(repo, feature, options, as_json=as_json))


def report(
    feature: Feature = None,
    repo: Repo = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write (default: .sdd/report-FEATURE.html)."),
    ] = None,
    store: StoreOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the data behind the page instead.")
    ] = False,
) -> None:
    """One self-contained HTML page: summary, task graph, and each task's diff and transcript."""
    from orchestrator import paths
    from orchestrator.views.report import build_report, report_json, write_report

    root, feature_dir = locate(repo, feature)
    if as_json:
        print_json(report_json(build_report(root, feature_dir, store)))
        return
    # .sdd/ is excluded from git, so the report never makes the tree dirty for the next run
    default = paths.report_file(root, feature_dir.name)
    path = write_report(root, feature_dir, output or default, store)
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    out.print(f"Report written to {shown} (open it in a browser)")


def audit(
    feature: Feature = None,
    repo: Repo = None,
    as_json: AsJson = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Run the suite once; show each task's named tests.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Whether every ticked task in tasks.md landed as a verified sdd commit; exit 1 if not."""
    from rich.markup import escape

    from orchestrator.run.audit import run_audit
    from orchestrator.views.audit import audit_data, audit_table, audit_verdict

    root, feature_dir = locate(repo, feature)
    found = run_audit(root, feature_dir, store, run_tests=verify)
    if as_json:
        print_json(audit_data(found, verify))
    else:
        out.print(audit_table(found, verify))
        colour = "green" if found.ok else "yellow"
        out.print(f"[{colour}]{escape(audit_verdict(found, verify))}[/{colour}]")
    if not found.ok:
        raise typer.Exit(1)


# Registered by `app.main` after the run commands, in the order `sdd --help` shows.
COMMANDS = (status, log, diff, show, report, audit, undo, retry)
