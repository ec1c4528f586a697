"""What the `sdd` commands share: the Typer app, the console, argument types, locating a
feature, and running one. The commands live in `cli` (plan and run) and `cli_inspect`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="sdd",
    help="Run a spec-kit feature to completion: one verified, resumable commit per task.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)

Feature = Annotated[
    str | None,
    typer.Argument(help="Feature folder, number or short name (default: as spec-kit resolves it)."),
]
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


def locate(repo: Path | None, feature: str | None) -> tuple[Path, Path]:
    from orchestrator.speckit import find_root, resolve_feature

    root = find_root(repo)
    return root, resolve_feature(root, feature)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


FeatureName = Annotated[str, typer.Argument(help="Feature folder, number or short name.")]
TaskId = Annotated[str, typer.Argument(help="Task id, e.g. T005 (any case).")]
Force = Annotated[
    bool, typer.Option("--force", help="Undo even when a later task changed the same files.")
]


def load_records(repo: Path | None, feature: str | None, store: str | None) -> tuple[Any, Any]:
    """The plan and the records (None before any run), read-only."""
    from orchestrator.planning import make_plan
    from orchestrator.stores import open_records

    root, feature_dir = locate(repo, feature)
    plan = make_plan(root, feature_dir)
    return plan, open_records(root, store, plan.config.store)


def run_feature(
    repo: Path | None,
    feature: str | None,
    options: object,
    quiet: bool = False,
    decision: object = None,
) -> int:
    from rich.markup import escape

    from orchestrator.engine import run_session
    from orchestrator.progress import Reporter
    from orchestrator.session import open_session
    from orchestrator.views import log_data, log_table

    root, feature_dir = locate(repo, feature)
    session = open_session(root, feature_dir, options, Reporter(out, quiet))  # type: ignore[arg-type]
    try:
        run_id, model = session.run.run_id, escape(session.model.name)
        out.print(
            f"[bold]sdd run {session.feature}[/bold] [dim](run {run_id}, model {model})[/dim]"
        )
        result = run_session(session, decision)  # type: ignore[arg-type]
        price = session.plan.config.price(session.run.model)
        rows = log_data(session.store.tasks(session.feature), session.plan.graph.order, price)
        out.print(log_table(session.feature, rows))
        if result.status == "finished":
            out.print(f"[green]All {len(session.plan.graph.order)} tasks landed.[/green]")
            return 0
        reason = escape(result.reason)
        # the URL may hold a password, so the hint names the flag, not its value
        same = " with the same --store" if getattr(options, "store", None) else ""
        out.print(
            f"[yellow]Run paused: {reason}[/yellow]. Continue: sdd resume {session.feature}{same}"
        )
        return 1
    finally:
        session.close()
