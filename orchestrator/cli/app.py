"""What the `sdd` commands share: the Typer app, the console, argument types, locating a
feature and running one."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from orchestrator.cli.pipes import PipeSafe

if TYPE_CHECKING:
    from orchestrator.plan.build import Plan
    from orchestrator.run.context import RunOptions
    from orchestrator.run.graph import Decision
    from orchestrator.store.store import Store

app = typer.Typer(
    name="sdd",
    help="Run a spec-kit feature to completion: one verified, resumable commit per task.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, file=PipeSafe())  # type: ignore[arg-type]

Feature = Annotated[
    str | None,
    typer.Argument(help="Feature folder, number or short name (default: as spec-kit resolves it)."),
]
FeatureName = Annotated[str, typer.Argument(help="Feature folder, number or short name.")]
TaskId = Annotated[str, typer.Argument(help="Task id, e.g. T005 (any case).")]
Jobs = Annotated[
    int | None,
    typer.Option(min=1, help="Tasks of a wave that work at once, each in its own git worktree."),
]
Repo = Annotated[
    Path | None, typer.Option("--repo", help="The repository (default: walk up to .specify/).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Records and checkpoints: sqlite:///PATH or postgresql://... "
        "(default: $SDD_STORE, config `store`, .sdd/state.sqlite).",
    ),
]
Push = Annotated[
    str | None,
    typer.Option("--push", help="Push each landed commit to this git remote as it lands."),
]
Force = Annotated[
    bool, typer.Option("--force", help="Undo even when a later task changed the same files.")
]
ModelOpt = Annotated[str | None, typer.Option(help="Model id, alias, or scripted:PATH.")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Who edits: anthropic (sdd's own tool loop) or claude-code (a Claude Code "
        "session per attempt). Default: config `engine`, else anthropic.",
    ),
]


def locate(repo: Path | None, feature: str | None) -> tuple[Path, Path]:
    from orchestrator.speckit.project import find_root, resolve_feature

    root = find_root(repo)
    return root, resolve_feature(root, feature)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_records(
    repo: Path | None, feature: str | None, store: str | None
) -> tuple[Plan, Store | None]:
    """The plan and the records (None before any run), read-only."""
    from orchestrator.plan.build import make_plan
    from orchestrator.store.open import open_records

    root, feature_dir = locate(repo, feature)
    plan = make_plan(root, feature_dir)
    return plan, open_records(root, store, plan.config.store)


def run_feature(
    repo: Path | None,
    feature: str | None,
    options: RunOptions,
    quiet: bool = False,
    decision: Decision | None = None,
) -> int:
    """Open and drive a run, print its log and how it ended; the exit code."""
    from rich.markup import escape

    from orchestrator.run.driver import run_session
    from orchestrator.run.opening import open_run
    from orchestrator.store.records import RunStatus, TaskStatus
    from orchestrator.views.outcome import finished_line, next_steps
    from orchestrator.views.progress import Reporter
    from orchestrator.views.tables import log_data, log_table

    root, feature_dir = locate(repo, feature)
    ctx = open_run(root, feature_dir, options, Reporter(out, quiet), decision is not None)
    try:
        run_id, engine = ctx.run.run_id, escape(ctx.engine.describe())
        out.print(f"[bold]sdd run {ctx.feature}[/bold] [dim](run {run_id}, {engine})[/dim]")
        result = run_session(ctx, decision)
        price = ctx.plan.config.price(ctx.run.model)
        records = ctx.store.tasks(ctx.feature)
        rows = log_data(records, ctx.plan.graph.order, price)
        out.print(log_table(ctx.feature, rows))
        order = ctx.plan.graph.order
        if result.status == RunStatus.FINISHED:
            line = finished_line(order, ctx.head.landed, ctx.skipped)
            out.print(f"[green]{escape(line)}[/green]")
            return 0
        reason = escape(result.reason)
        n = result.landed_now
        landed = f" ({n} task{'s' if n != 1 else ''} landed this time)" if n else ""
        out.print(f"[yellow]Run paused{landed}: {reason}[/yellow]")
        failed = [t for t in order if t in records and records[t].status == TaskStatus.FAILED]
        for step in next_steps(ctx.feature, result.awaiting, failed):
            out.print(f"  {escape(step)}", soft_wrap=True)
        return 1
    finally:
        ctx.close()
