"""The commands that plan and run: plan, route, agents, run, resume, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from orchestrator.cli.app import (
    AsJson,
    EngineOpt,
    Feature,
    FeatureOrTask,
    Jobs,
    ModelOpt,
    Push,
    Repo,
    RunJson,
    StoreOpt,
    TaskId,
    feature_task,
    locate,
    out,
    print_json,
    print_lines,
    run_feature,
)

if TYPE_CHECKING:
    from orchestrator.run.context import RunOptions

PlanFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="table, json, mermaid (renders on GitHub) or dot (Graphviz).",
        case_sensitive=False,
    ),
]

CommitDirty = Annotated[
    bool, typer.Option(help="Commit your uncommitted changes first, as your own commit.")
]


def _graph_states(
    root: Path, feature: str, flag: str | None, configured: str | None
) -> dict[str, str] | None:
    """Each task's state in the latest run, for colouring the graph; None before any run."""
    from orchestrator.store.open import open_records

    store = open_records(root, flag, configured)
    if store is None:
        return None
    try:
        if store.latest_run(feature) is None:
            return None
        return {tid: str(r.status) for tid, r in store.tasks(feature).items()}
    finally:
        store.close()


def plan(
    feature: Feature = None,
    repo: Repo = None,
    as_json: AsJson = False,
    fmt: PlanFormat = "table",
    store: StoreOpt = None,
) -> None:
    """Dry run: tasks, dependencies, waves, agents and how each task is verified, with reasons."""
    from rich.markup import escape

    from orchestrator.plan.build import make_plan
    from orchestrator.verify.commands import detect
    from orchestrator.views.tables import plan_data, plan_json, plan_table

    fmt = "json" if as_json else fmt.lower()
    if fmt not in ("table", "json", "mermaid", "dot"):
        raise typer.BadParameter("--format takes table, json, mermaid or dot")
    root, feature_dir = locate(repo, feature)
    made = make_plan(root, feature_dir, consult=True)
    if fmt in ("mermaid", "dot"):
        from orchestrator.views import graphs

        states = _graph_states(root, made.feature, store, made.config.store)
        graph = graphs.build(made, states)
        render = graphs.to_mermaid if fmt == "mermaid" else graphs.to_dot
        sys.stdout.write(render(graph))
        return
    docs = f"{made.docs.plan}\n{made.docs.constitution}"
    phase = made.config.phase_verify
    data = plan_data(
        made,
        detect(root, made.config.task_verify, docs=docs),
        None if phase is None else detect(root, phase, docs=docs),
    )
    if fmt == "json":
        sys.stdout.write(plan_json(data))
        return
    out.print(plan_table(data, out.width))
    verification, phase_set = data["verification"], data["phase_verification"]
    label = "verify, each task" if phase_set else "verify"
    out.print(f"[bold]{label}:[/bold] {escape(verification['reason'])}")
    if phase_set:
        out.print(
            f"[bold]verify, each phase's end and the run's end:[/bold] "
            f"{escape(phase_set['reason'])}"
        )
    for w in [*data["warnings"], *verification["warnings"]]:
        out.print(f"[yellow]warning:[/yellow] {escape(w)}")
    for hint in verification["hints"]:
        out.print(f"[dim]hint: {escape(hint)}[/dim]")


def route(
    feature: FeatureOrTask = None,
    task: TaskId = None,
    repo: Repo = None,
    as_json: AsJson = False,
) -> None:
    """Why a task goes to its agent: every candidate, every signal, what would change it."""
    from orchestrator.plan.build import make_plan
    from orchestrator.views.routes import route_data, route_lines

    feature, task = feature_task(feature, task)
    root, feature_dir = locate(repo, feature)
    made = make_plan(root, feature_dir, consult=True)
    data = route_data(made, made.find_task(task).id)
    if as_json:
        print_json(data)
        return
    print_lines(route_lines(data))
    for note in made.notes:
        out.print(f"[yellow]note:[/yellow] {note}")


def agents(repo: Repo = None, as_json: AsJson = False) -> None:
    """The agent definitions found, where they come from, and their tools."""
    from orchestrator.plan.agents import agent_dirs, load_agents
    from orchestrator.speckit.project import find_root
    from orchestrator.views.agents import agents_data, agents_table

    root = find_root(repo)
    found = load_agents(agent_dirs(root))
    data = agents_data(found, root)
    if as_json:
        print_json(data)
        return
    out.print(agents_table(data))
    for note in found.notes:
        out.print(f"[dim]{note}[/dim]")


def run(
    feature: Feature = None,
    repo: Repo = None,
    model: ModelOpt = None,
    restart: Annotated[
        bool, typer.Option(help="Start a new run; landed tasks stay landed.")
    ] = False,
    commit_dirty: CommitDirty = False,
    approve: Annotated[
        str | None,
        typer.Option(help="'each': hold every verified task for approval before it lands."),
    ] = None,
    jobs: Jobs = None,
    store: StoreOpt = None,
    push: Push = None,
    engine: EngineOpt = None,
    as_json: RunJson = False,
) -> None:
    """Run (or continue) the feature's task graph, one verified commit per task."""
    from orchestrator.run.context import RunOptions

    if approve not in (None, "each", "never"):
        raise typer.BadParameter("--approve takes 'each' or 'never'")
    options = RunOptions(
        model,
        restart,
        commit_dirty,
        approve=approve,
        jobs=jobs,
        store=store,
        push=push,
        engine=_engine(engine),
    )
    raise typer.Exit(run_feature(repo, feature, options, as_json=as_json))


def resume(
    feature: Feature = None,
    repo: Repo = None,
    model: ModelOpt = None,
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
    commit_dirty: CommitDirty = False,
    jobs: Jobs = None,
    store: StoreOpt = None,
    push: Push = None,
    engine: EngineOpt = None,
    as_json: RunJson = False,
) -> None:
    """Continue a paused or crashed run from its checkpoint (and answer an approval gate)."""
    from orchestrator.run.context import RunOptions
    from orchestrator.run.graph import Decision

    if approve and reject:
        raise typer.BadParameter("--approve and --reject exclude each other")
    if note is not None and not reject:
        raise typer.BadParameter("--note goes with --reject: the feedback for the agent")
    decision = Decision(approve=approve, note=note or "") if approve or reject else None
    options = RunOptions(
        model,
        commit_dirty=commit_dirty,
        skip=tuple(skip or ()),
        jobs=jobs,
        store=store,
        push=push,
        engine=_engine(engine),
    )
    raise typer.Exit(run_feature(repo, feature, options, decision=decision, as_json=as_json))


def _engine(value: str | None) -> str | None:
    if value is not None and value not in ("anthropic", "claude-code"):
        raise typer.BadParameter("--engine takes 'anthropic' or 'claude-code'")
    return value


def demo(
    keep: Annotated[
        Path | None,
        typer.Option(help="Directory to create the demo repository in (default: a temp dir)."),
    ] = None,
) -> None:
    """Copy the example FastAPI project to a fresh git repository and run it offline."""
    from rich.markup import escape

    from orchestrator.cli.demo import prepare_demo

    target, script = prepare_demo(keep)
    out.print(f"[bold]Demo repository:[/bold] {target}")
    code = run_feature(target, "001-todo-api", _demo_options(script))
    sdd = _own_name()
    if code == 0:
        out.print("\nInspect it:")
        for line, why in (
            (f"cd {target}", ""),
            ("git log --oneline", "one commit per task"),
            (f"{sdd} log 001-todo-api", "what verified each"),
            (f"{sdd} show 001-todo-api T007", "the failure that went back to the agent"),
            (f"{sdd} report 001-todo-api", "one HTML page: graph, diffs, transcripts"),
        ):
            out.print(f"  {escape(line)}" + (f"  [dim]# {why}[/dim]" if why else ""))
    raise typer.Exit(code)


def _own_name() -> str:
    """How to call this sdd again: `sdd` when that is the one on PATH, else its full path."""
    import shutil

    me = Path(sys.argv[0])
    on_path = shutil.which("sdd")
    if me.name != "sdd" or (on_path and Path(on_path).resolve() == me.resolve()):
        return "sdd"
    return str(me.resolve())


def _demo_options(script: Path) -> RunOptions:
    from orchestrator.run.context import RunOptions

    return RunOptions(model=f"scripted:{script}")


# In `sdd --help` order: these, then the inspection commands, then the demo.
BEFORE = (plan, route, agents, run, resume)
AFTER = (demo,)
