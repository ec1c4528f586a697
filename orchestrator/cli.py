"""The `sdd` command line. Thin: parse arguments, call one library function, render.

Heavy modules (langgraph, anthropic, git) are imported inside the commands that need them,
so `sdd plan` and `sdd status` start fast. The inspection commands are in `cli_inspect`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchestrator import cli_inspect
from orchestrator.cli_common import (
    AsJson,
    Feature,
    Jobs,
    Push,
    Repo,
    StoreOpt,
    app,
    locate,
    out,
    print_json,
    run_feature,
)
from orchestrator.errors import SddError

PlanFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="table, json, mermaid (renders on GitHub) or dot (Graphviz).",
        case_sensitive=False,
    ),
]


def _graph_states(root: Path, feature: str, records: tuple) -> dict[str, str] | None:
    """Each task's state in the latest run, for colouring the graph; None before any run."""
    from orchestrator.stores import open_records

    store = open_records(root, *records)
    if store is None:
        return None
    try:
        if store.latest_run(feature) is None:
            return None
        return {tid: r.status for tid, r in store.tasks(feature).items()}
    finally:
        store.close()


@app.command()
def plan(
    feature: Feature = None,
    repo: Repo = None,
    as_json: AsJson = False,
    fmt: PlanFormat = "table",
    store: StoreOpt = None,
) -> None:
    """Dry run: the tasks, their dependencies, waves and agent routes, with reasons."""
    from orchestrator.planning import make_plan
    from orchestrator.views import plan_data, plan_table

    fmt = "json" if as_json else fmt.lower()
    if fmt not in ("table", "json", "mermaid", "dot"):
        raise typer.BadParameter("--format takes table, json, mermaid or dot")
    root, feature_dir = locate(repo, feature)
    made = make_plan(root, feature_dir)
    if fmt in ("mermaid", "dot"):
        from orchestrator import graphview

        states = _graph_states(root, made.docs.name, (store, made.config.store))
        graph = graphview.build(made, states)
        render = graphview.to_mermaid if fmt == "mermaid" else graphview.to_dot
        sys.stdout.write(render(graph))
        return
    data = plan_data(made)
    if fmt == "json":
        print_json(data)
        return
    out.print(plan_table(data))
    for w in data["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {w}")


@app.command()
def agents(repo: Repo = None) -> None:
    """The agent definitions found, where they come from, and their tools."""
    from rich.table import Table

    from orchestrator.agents import agent_dirs, load_agents
    from orchestrator.speckit import find_root

    found = load_agents(agent_dirs(find_root(repo)))
    table = Table(title="agents")
    for col in ("name", "source", "tools", "model", "description"):
        table.add_column(col, overflow="fold")
    for a in found.agents.values():
        tools = ", ".join(a.tools) if a.tools is not None else "all"
        table.add_row(
            a.name, f"{a.source}: {a.path}", tools, a.model or "inherit", a.description[:120]
        )
    out.print(table)
    for note in found.notes:
        out.print(f"[dim]{note}[/dim]")


@app.command()
def run(
    feature: Feature = None,
    repo: Repo = None,
    model: Annotated[str | None, typer.Option(help="Model id, alias, or scripted:PATH.")] = None,
    restart: Annotated[
        bool, typer.Option(help="Start a new run; landed tasks stay landed.")
    ] = False,
    commit_dirty: Annotated[
        bool, typer.Option(help="Commit your uncommitted changes first, as your own commit.")
    ] = False,
    approve: Annotated[
        str | None,
        typer.Option(help="'each': hold every verified task for approval before it lands."),
    ] = None,
    jobs: Jobs = None,
    store: StoreOpt = None,
    push: Push = None,
) -> None:
    """Run (or continue) the feature's task graph, one verified commit per task."""
    from orchestrator.session import RunOptions

    if approve not in (None, "each", "never"):
        raise typer.BadParameter("--approve takes 'each' or 'never'")
    options = RunOptions(
        model, restart, commit_dirty, approve=approve, jobs=jobs, store=store, push=push
    )
    raise typer.Exit(run_feature(repo, feature, options))


@app.command()
def resume(
    feature: Feature = None,
    repo: Repo = None,
    model: Annotated[str | None, typer.Option(help="Model id, alias, or scripted:PATH.")] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(help="Move past this task (recorded as skipped, left unticked). Repeatable."),
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Land the task held for approval.")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Send the held task back to its agent (see --note).")
    ] = False,
    note: Annotated[str | None, typer.Option(help="Feedback for the agent with --reject.")] = None,
    jobs: Jobs = None,
    store: StoreOpt = None,
    push: Push = None,
) -> None:
    """Continue a paused or crashed run from its checkpoint (and answer an approval gate)."""
    from orchestrator.engine import Decision
    from orchestrator.session import RunOptions

    if approve and reject:
        raise typer.BadParameter("--approve and --reject exclude each other")
    decision = Decision(approve=approve, note=note or "") if approve or reject else None
    options = RunOptions(model, skip=tuple(skip or ()), jobs=jobs, store=store, push=push)
    raise typer.Exit(run_feature(repo, feature, options, decision=decision))


for _command in cli_inspect.COMMANDS:
    app.command()(_command)


@app.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option(help="Directory to create the demo repository in (default: a temp dir)."),
    ] = None,
) -> None:
    """Copy the example FastAPI project to a fresh git repository and run it offline."""
    from orchestrator.demo import prepare_demo

    target, script = prepare_demo(keep)
    out.print(f"[bold]Demo repository:[/bold] {target}")
    code = run_feature(target, "001-todo-api", _demo_options(script))
    sdd = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "sdd" else "sdd"
    out.print(f"\nInspect it: cd {target} && git log --oneline && {sdd} log 001-todo-api")
    raise typer.Exit(code)


def _demo_options(script: Path) -> object:
    from orchestrator.session import RunOptions

    return RunOptions(model=f"scripted:{script}")


def _fail(text: str, code: int) -> None:
    from rich.markup import escape

    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {escape(text)}", soft_wrap=True)
    sys.exit(code)


def main() -> None:
    """Console entry point: user errors are one line and an exit code, never a traceback."""
    try:
        app()
    except OSError as exc:  # disk full, permissions, a file where a folder should be
        _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), 2)
    except SddError as exc:
        _fail(str(exc), exc.code)


if __name__ == "__main__":
    main()
