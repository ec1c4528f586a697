"""The `sdd` command line. Thin: parse arguments, call one library function, render.

Heavy modules (langgraph, anthropic, git) are imported inside the commands that need them,
so `sdd plan` and `sdd status` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchestrator.errors import SddError

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


def _locate(repo: Path | None, feature: str | None) -> tuple[Path, Path]:
    from orchestrator.speckit import find_root, resolve_feature

    root = find_root(repo)
    return root, resolve_feature(root, feature)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


PlanFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="table, json, mermaid (renders on GitHub) or dot (Graphviz).",
        case_sensitive=False,
    ),
]


def _graph_states(root: Path, feature: str) -> dict[str, str] | None:
    """Each task's state in the latest run, for colouring the graph; None before any run."""
    from orchestrator.planning import state_dir
    from orchestrator.store import Store

    store = Store.open_readonly(state_dir(root) / "state.sqlite")
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
    feature: Feature = None, repo: Repo = None, as_json: AsJson = False, fmt: PlanFormat = "table"
) -> None:
    """Dry run: the tasks, their dependencies, waves and agent routes, with reasons."""
    from orchestrator.planning import make_plan
    from orchestrator.views import plan_data, plan_table

    fmt = "json" if as_json else fmt.lower()
    if fmt not in ("table", "json", "mermaid", "dot"):
        raise typer.BadParameter("--format takes table, json, mermaid or dot")
    root, feature_dir = _locate(repo, feature)
    made = make_plan(root, feature_dir)
    if fmt in ("mermaid", "dot"):
        from orchestrator import graphview

        graph = graphview.build(made, _graph_states(root, made.docs.name))
        render = graphview.to_mermaid if fmt == "mermaid" else graphview.to_dot
        sys.stdout.write(render(graph))
        return
    data = plan_data(made)
    if fmt == "json":
        _print_json(data)
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


def _run(
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

    root, feature_dir = _locate(repo, feature)
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
        out.print(f"[yellow]Run paused: {reason}[/yellow]. Continue: sdd resume {session.feature}")
        return 1
    finally:
        session.close()


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
) -> None:
    """Run (or continue) the feature's task graph, one verified commit per task."""
    from orchestrator.session import RunOptions

    if approve not in (None, "each", "never"):
        raise typer.BadParameter("--approve takes 'each' or 'never'")
    options = RunOptions(model, restart, commit_dirty, approve=approve, jobs=jobs)
    raise typer.Exit(_run(repo, feature, options))


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
) -> None:
    """Continue a paused or crashed run from its checkpoint (and answer an approval gate)."""
    from orchestrator.engine import Decision
    from orchestrator.session import RunOptions

    if approve and reject:
        raise typer.BadParameter("--approve and --reject exclude each other")
    decision = Decision(approve=approve, note=note or "") if approve or reject else None
    options = RunOptions(model, skip=tuple(skip or ()), jobs=jobs)
    raise typer.Exit(_run(repo, feature, options, decision=decision))


def _records(repo: Path | None, feature: str | None):  # type: ignore[no-untyped-def]
    from orchestrator.planning import make_plan, state_dir
    from orchestrator.store import Store

    root, feature_dir = _locate(repo, feature)
    plan = make_plan(root, feature_dir)
    store = Store.open_readonly(state_dir(root) / "state.sqlite")
    return plan, store


@app.command()
def log(feature: Feature = None, repo: Repo = None, as_json: AsJson = False) -> None:
    """One line per landed task: commit, agent, attempts, tokens, seconds."""
    from orchestrator.views import log_data, log_table

    plan, store = _records(repo, feature)
    run_rec = store.latest_run(plan.docs.name) if store else None
    price = plan.config.price(run_rec.model) if run_rec else None
    rows = log_data(store.tasks(plan.docs.name), plan.graph.order, price) if store else []
    if as_json:
        _print_json(rows)
    else:
        out.print(log_table(plan.docs.name, rows))


@app.command()
def status(feature: Feature = None, repo: Repo = None, as_json: AsJson = False) -> None:
    """Where the run stands: per-task state, attempts, commit, tokens."""
    from orchestrator.views import status_data, status_table

    plan, store = _records(repo, feature)
    name = plan.docs.name
    run_rec = store.latest_run(name) if store else None
    records = store.tasks(name) if store else {}
    done = {t.id for t in plan.tasklist.tasks if t.done}
    price = plan.config.price(run_rec.model) if run_rec else None
    data = status_data(name, run_rec, records, plan.graph.order, done, price)
    if as_json:
        _print_json(data)
    else:
        out.print(status_table(data))


FeatureName = Annotated[str, typer.Argument(help="Feature folder, number or short name.")]
TaskId = Annotated[str, typer.Argument(help="Task id, e.g. T005 (any case).")]
Force = Annotated[
    bool, typer.Option("--force", help="Undo even when a later task changed the same files.")
]


@app.command()
def diff(
    feature: FeatureName,
    task: TaskId,
    repo: Repo = None,
    stat: Annotated[bool, typer.Option("--stat", help="Only the files and line counts.")] = False,
) -> None:
    """The change a landed task committed: its commit and patch."""
    from orchestrator.inspection import task_diff

    root, feature_dir = _locate(repo, feature)
    sys.stdout.write(task_diff(root, feature_dir, task, stat=stat, color=sys.stdout.isatty()))


@app.command()
def show(
    feature: FeatureName,
    task: TaskId,
    repo: Repo = None,
    attempt: Annotated[
        int | None, typer.Option("--attempt", min=1, help="Only this attempt.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The events as JSON lines, each with its attempt.")
    ] = False,
) -> None:
    """What the agent did: model text, tool calls, verification, per attempt."""
    from orchestrator.inspection import json_lines, read_attempts, render_transcript

    root, feature_dir = _locate(repo, feature)
    task_id, attempts = read_attempts(root, feature_dir, task, attempt)
    if as_json:
        sys.stdout.writelines(line + "\n" for line in json_lines(attempts))
    else:
        out.print(render_transcript(task_id, attempts))


def _undo(repo: Path | None, feature: str, task: str, force: bool) -> None:
    from orchestrator.inspection import undo_task

    root, feature_dir = _locate(repo, feature)
    done = undo_task(root, feature_dir, task, force=force)
    out.print(
        f"Reverted {done.task_id} ({done.reverted[:10]}) as {done.revert[:10]}; "
        f"{done.task_id} is pending again."
    )


@app.command()
def undo(feature: FeatureName, task: TaskId, repo: Repo = None, force: Force = False) -> None:
    """Take a landed task back: a new revert commit that also unticks it in tasks.md."""
    _undo(repo, feature, task, force)
    out.print(f"Run it again: sdd run {feature}")


@app.command()
def retry(
    feature: FeatureName,
    task: TaskId,
    repo: Repo = None,
    force: Force = False,
    model: Annotated[str | None, typer.Option(help="Model id, alias, or scripted:PATH.")] = None,
) -> None:
    """Undo a landed task, then continue the run, which lands it again as a new commit.

    The run goes on as `sdd run` does: ready tasks before this one run first, later ones after.
    """
    from orchestrator.session import RunOptions

    _undo(repo, feature, task, force)
    raise typer.Exit(_run(repo, feature, RunOptions(model)))


@app.command()
def report(
    feature: FeatureName,
    repo: Repo = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Where to write (default: .sdd/report-FEATURE.html)."),
    ] = None,
) -> None:
    """One self-contained HTML page: summary, task graph, and each task's diff and transcript."""
    from orchestrator.report import write_report

    root, feature_dir = _locate(repo, feature)
    # .sdd/ is excluded from git, so the report never makes the tree dirty for the next run
    default = root / ".sdd" / f"report-{feature_dir.name}.html"
    path = write_report(root, feature_dir, output or default)
    out.print(f"Report written to {path}")


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
    code = _run(target, "001-todo-api", _demo_options(script))
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
