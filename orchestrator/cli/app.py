"""What the `sdd` commands share: the Typer app, the console, argument types, locating a
feature and running one."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
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
# piped: whole lines; a reader that goes away (`sdd run | head`) does not stop the run
out = Console(highlight=False, soft_wrap=not sys.stdout.isatty(), file=PipeSafe())  # type: ignore[arg-type]


@dataclass(slots=True)
class Settings:
    """The global options (`sdd -q`, `-v`, `--no-color`, `--no-pager`), set before a command."""

    verbosity: int = 0  # -1 quiet, 0 normal, 1 verbose
    color: bool = True
    pager: bool = True


settings = Settings()
RunJson = Annotated[
    bool,
    typer.Option("--json", help="Progress to stderr; the outcome, next step and totals as JSON."),
]
EXIT_CODES = (
    "0 finished, 1 paused or not all verified, 2 bad input, 3 model refused, 130 interrupted"
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"sdd {version('sdd-orchestrator')}")
        raise typer.Exit()


@app.callback(epilog=f"Exit codes: {EXIT_CODES}.")
def _global(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Only results, pauses and errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Also every model turn and tool call.")
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour, in git's output too (or NO_COLOR=1).")
    ] = False,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="diff and show print straight to the terminal.")
    ] = False,
) -> None:
    """Run a spec-kit feature to completion: one verified, resumable commit per task."""
    if quiet and verbose:
        raise typer.BadParameter("-q and -v exclude each other")
    settings.verbosity = -1 if quiet else (1 if verbose else 0)
    settings.color = not no_color and not os.environ.get("NO_COLOR")
    settings.pager = not no_pager
    if not settings.color:
        out.no_color = True


def terminal() -> bool:
    """Whether stdout is a person's terminal (then colour, a pager and a live line make sense)."""
    return sys.stdout.isatty()


def page(text: str) -> None:
    """Show long output through a pager on a terminal, as git does (`$SDD_PAGER`, `$PAGER`,
    else `less` quitting at once when it fits one screen); straight out otherwise."""
    import shutil
    import subprocess

    command = os.environ.get("SDD_PAGER") or os.environ.get("PAGER") or "less"
    if (
        not (settings.pager and terminal())
        or command == "cat"
        or not shutil.which(command.split()[0] if command.split() else "cat")
    ):
        sys.stdout.write(text)
        return
    env = os.environ | {"LESS": os.environ.get("LESS", "FRX"), "LV": "-c"}
    try:
        subprocess.run(command, shell=True, input=text, text=True, env=env, check=False)
    except OSError:
        sys.stdout.write(text)


Feature = Annotated[
    str | None,
    typer.Argument(help="Feature folder, number or short name (default: as spec-kit resolves it)."),
]
FeatureOrTask = Annotated[
    str | None,
    typer.Argument(
        metavar="FEATURE",
        help="The feature (optional, resolved as for run), then the task id, e.g. T005.",
        show_default=False,
    ),
]
TaskId = Annotated[str | None, typer.Argument(metavar="TASK", show_default=False, hidden=True)]
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


def feature_task(first: str | None, second: str | None) -> tuple[str | None, str]:
    """`sdd diff T005` or `sdd diff 001 T005`: the feature is optional before a task id."""
    if first is None:
        raise typer.BadParameter("a task id is required, e.g. T005")
    return (None, first) if second is None else (first, second)


def locate(repo: Path | None, feature: str | None) -> tuple[Path, Path]:
    from orchestrator.speckit.project import find_root, resolve_feature

    root = find_root(repo)
    return root, resolve_feature(root, feature)


def print_lines(lines: list[str]) -> None:
    """Indented lines of markup: piped, each whole; on a terminal, wrapped between words
    under their own indent."""
    from rich.padding import Padding
    from rich.text import Text

    for line in lines:
        if not out.is_terminal:
            out.print(line, soft_wrap=True)
            continue
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        text = Text.from_markup(body)
        out.print(Padding(text, (0, 0, 0, indent)) if indent else text)


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
    as_json: bool = False,
) -> int:
    """Open and drive a run, print its log and how it ended; the exit code (0 finished,
    1 paused, 130 interrupted). With `as_json` the progress goes to stderr and stdout gets
    one JSON object: the outcome, why, the next command, the landed tasks and the totals."""
    from rich.markup import escape

    from orchestrator.run.driver import run_session
    from orchestrator.run.opening import open_run
    from orchestrator.store.records import RunStatus, TaskStatus
    from orchestrator.views.outcome import finished_line, next_steps
    from orchestrator.views.progress import Reporter
    from orchestrator.views.tables import log_data, log_table

    root, feature_dir = locate(repo, feature)
    console = Console(stderr=True, highlight=False, no_color=out.no_color) if as_json else out
    quiet = quiet or settings.verbosity < 0
    reporter = Reporter(console, quiet, verbose=settings.verbosity > 0)
    ctx = open_run(root, feature_dir, options, reporter, decision is not None)
    try:
        run_id, engine = ctx.run.run_id, escape(ctx.engine.describe())
        head = f"[bold]sdd run {ctx.feature}[/bold] [dim](run {run_id}, {engine})[/dim]"
        if console.is_terminal:  # a title line: an ellipsis, never a broken path
            console.print(head, no_wrap=True, overflow="ellipsis")
        else:
            console.print(head, soft_wrap=True)
        try:
            result = run_session(ctx, decision)
        finally:
            reporter.close()
        price = ctx.plan.config.price(ctx.run.model)
        records = ctx.store.tasks(ctx.feature)
        order = ctx.plan.graph.order
        rows = log_data(records, order, price)
        finished = result.status == RunStatus.FINISHED
        code = 0 if finished else (130 if result.interrupted else 1)
        failed = [t for t in order if t in records and records[t].status == TaskStatus.FAILED]
        head = ctx.repo.head()  # a phase check that failed on this very tree paused the run
        checks = ctx.phase_checks.all().values()
        broken = next((c.culprit for c in checks if not c.passed and c.head == head), None)
        steps = (
            []
            if finished
            else next_steps(ctx.feature, result.awaiting, failed, broken, result.reason)
        )
        if as_json:
            if not quiet:
                console.print(f"[dim]{escape(reporter.totals.line())}[/dim]", soft_wrap=True)
            print_json(
                {
                    "feature": ctx.feature,
                    "run": run_id,
                    "status": str(result.status),
                    "reason": result.reason,
                    "exit_code": code,
                    "awaiting": result.awaiting,
                    "next": steps,
                    "landed_now": result.landed_now,
                    "landed": rows,
                    "totals": reporter.totals.data(),
                }
            )
            return code
        if not quiet:
            out.print(log_table(ctx.feature, rows, out.width))
            out.print(f"[dim]{escape(reporter.totals.line())}[/dim]")
        if finished:
            line = finished_line(order, ctx.head.landed, ctx.skipped)
            out.print(f"[green]{escape(line)}[/green]")
            return code
        reason = escape(result.reason)
        n = result.landed_now
        landed = f" ({n} task{'s' if n != 1 else ''} landed this time)" if n else ""
        out.print(f"[yellow]Run paused{landed}: {reason}[/yellow]")
        for step in steps:
            out.print(f"  {escape(step)}", soft_wrap=True)
        return code
    finally:
        ctx.close()
