"""Planning speed: `sdd plan --json` as a whole process, and parse+schedule in-process.

The 1,000-task project comes twice: "Implement part N in src/modK.py" tasks with a bare plan,
and tasks that read like real ones (a FastAPI + React feature, `gen.WORDS`) with a plan.md
that names the stack, so routing has every signal to weigh.

    .venv/bin/python bench/bench_plan.py             # all figures
    .venv/bin/python bench/bench_plan.py --imports   # also the heaviest imports of `sdd plan`

Whole-process figures come in two bytecode states. "as is" inherits this environment, where
PYTHONDONTWRITEBYTECODE=1 and an editable install leave orchestrator/ without .pyc files, so
every start compiles our modules from source. "cached" writes bytecode under a temporary
PYTHONPYCACHEPREFIX after one warm-up run, which is what an installed wheel gets. CPU time
(user+sys of the child) is printed beside wall time because other work on a shared machine
inflates wall time but barely moves CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import plan_project, tasks_md

from orchestrator.plan.graph import build_graph
from orchestrator.speckit.tasks import parse_tasks

REPO = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
SDD = PYTHON.with_name("sdd")
HEAVY = ("langgraph", "langchain_core", "anthropic", "httpx", "fastapi")
# An empty command with `sdd plan`'s parameter types: what typer alone costs per start.
EMPTY_TYPER = """
from pathlib import Path
import typer
app = typer.Typer(add_completion=False)
@app.command()
def plan(feature: str | None = typer.Argument(None),
         repo: Path | None = typer.Option(None, "--repo"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    pass
@app.command()
def other() -> None:
    pass
app(["plan", "001", "--json", "--repo", "."])
"""


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best-of-`repeat` (wall, cpu) seconds; cpu is this process's, steady under other load."""
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def in_process(n: int, repeat: int = 5) -> dict[str, tuple[float, float]]:
    """Best-of-`repeat` (wall, cpu): parse, build the graph, compute the waves, all three."""
    text = tasks_md(n)
    tasks = parse_tasks(text).tasks
    graph = build_graph(tasks)
    return {
        "parse": _best(lambda: parse_tasks(text), repeat),
        "graph": _best(lambda: build_graph(tasks), repeat),
        "waves": _best(lambda: graph.waves(()), repeat),
        "total": _best(lambda: build_graph(parse_tasks(text).tasks).waves(()), repeat),
    }


def _env(pycache: Path | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))  # measure the tree this script is in
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, child user+sys CPU) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_run(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    runs = [_timed(cmd, env) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def whole_process(
    root: Path, words: Path, pycache: Path | None, repeat: int = 15
) -> dict[str, tuple]:
    """Median (wall, cpu) of `sdd plan --json`, and of the steps that make up its start;
    `words` is the project whose tasks read like real ones (routing reads every word)."""
    env = _env(pycache)
    plan = [str(SDD), "plan", "001", "--json", "--repo", str(root)]
    plan_words = [str(SDD), "plan", "001", "--json", "--repo", str(words)]
    steps = {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "import typer, dispatch an empty command": [str(PYTHON), "-c", EMPTY_TYPER],
        "import orchestrator.cli": [str(PYTHON), "-c", "import orchestrator.cli"],
        "import cli, run, views, markdown_it": [
            str(PYTHON),
            "-c",
            "import orchestrator.cli.app, orchestrator.run.opening, orchestrator.views.tables,"
            " markdown_it",
        ],
        "sdd plan 001 --json (1,000 tasks)": plan,
        "same, tasks and plan.md like real ones": plan_words,
    }
    if pycache is not None:
        for cmd in steps.values():  # warm-up: write the bytecode once
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return {name: median_run(cmd, env, repeat) for name, cmd in steps.items()}


_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_profile(root: Path, pycache: Path) -> None:
    """`python -X importtime -m orchestrator.cli plan ...`: heaviest imports, by package."""
    env = _env(pycache)
    cmd = [str(PYTHON), "-X", "importtime", "-m", "orchestrator.cli", "plan", "001", "--json"]
    cmd += ["--repo", str(root)]
    subprocess.run(cmd, check=True, capture_output=True, env=env)  # warm the bytecode
    err = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stderr
    rows = [(int(m[1]), int(m[2]), len(m[3]) // 2, m[4]) for m in _IMPORT.finditer(err)]
    total = sum(s for s, _, _, _ in rows)
    print(f"\nimports of `sdd plan --json`: {len(rows)} modules, {total / 1000:.0f} ms in all")
    print("  heaviest top-level imports (cumulative ms, as imported at that point):")
    for _, cum, _, name in sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:12]:
        print(f"    {cum / 1000:7.1f}  {name}")
    by_package: dict[str, int] = {}
    for own, _, _, name in rows:
        key = ".".join(name.split(".")[:2]) if name.startswith("orchestrator.") else name
        key = key if key.startswith("orchestrator") else key.split(".")[0]
        by_package[key] = by_package.get(key, 0) + own
    print("  self time by package (ms):")
    for key, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
        print(f"    {own / 1000:7.1f}  {key}")
    loaded = sorted({r[3].split(".")[0] for r in rows} & set(HEAVY))
    print(f"  heavy packages loaded: {', '.join(loaded) if loaded else 'none'} (checked {HEAVY})")


def plan_stages(root: Path) -> None:
    """Where the run-time part of `sdd plan --json` goes, in-process, after imports."""
    from orchestrator.config.load import load_config
    from orchestrator.plan.agents import agent_dirs, load_agents
    from orchestrator.plan.build import make_plan
    from orchestrator.plan.routing import route_tasks, rules_from
    from orchestrator.plan.stack import read_stack
    from orchestrator.speckit.documents import load_feature
    from orchestrator.views.tables import plan_data, plan_json

    feature = root / "specs" / "001-synthetic"
    config = load_config(root)
    docs = load_feature(root, feature)
    tasklist = parse_tasks(docs.tasks)  # the first call pays the lazy markdown-it import
    agents = load_agents(agent_dirs(root))
    rules = rules_from(config)
    stack = read_stack(docs.plan, docs.constitution, docs.spec)
    titles = [p.title for p in tasklist.phases]
    cold = time.perf_counter(), time.process_time()  # nothing has routed in this process yet
    route_tasks(tasklist.tasks, agents, rules, config.default_agent, stack, titles)
    first = time.perf_counter() - cold[0], time.process_time() - cold[1]
    plan = make_plan(root, feature)
    data = plan_data(plan)
    stages: dict[str, Callable[[], object]] = {
        "load_config": lambda: load_config(root),
        "load_feature": lambda: load_feature(root, feature),
        "parse_tasks": lambda: parse_tasks(docs.tasks),
        "build_graph": lambda: build_graph(tasklist.tasks),
        "load_agents": lambda: load_agents(agent_dirs(root)),
        "read_stack": lambda: read_stack(docs.plan, docs.constitution, docs.spec),
        "route_tasks (all tasks)": lambda: route_tasks(
            tasklist.tasks, agents, rules, config.default_agent, stack, titles
        ),
        "plan_data (deps + waves + candidates)": lambda: plan_data(plan),
        "plan_json": lambda: plan_json(data),
        "json.dumps(indent=2), for comparison": lambda: json.dumps(data, indent=2),
    }
    print("\nrun-time stages of `sdd plan --json`, 1,000 tasks like real ones, in-process")
    print("  (best of 5; the first routing of a process also fills its word caches;")
    print("  wall / cpu ms):")
    print(f"    {1000 * first[0]:7.1f} / {1000 * first[1]:7.1f}  route_tasks, first call")
    for name, fn in stages.items():
        wall, cpu = _best(fn, 5)
        print(f"    {1000 * wall:7.1f} / {1000 * cpu:7.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--imports", action="store_true", help="profile the imports too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        plan_project(root, 1000)
        words = Path(tmp) / "words"
        plan_project(words, 1000, words=True)
        pycache = Path(tmp) / "pycache"
        print(f"load average {os.getloadavg()[0]:.2f} at the start")
        for label, cache in (("as is", None), ("cached", pycache)):
            print(f"whole process, bytecode {label} (median of 15; wall / cpu s):")
            for name, (wall, cpu) in whole_process(root, words, cache).items():
                print(f"    {wall:6.3f} / {cpu:6.3f}  {name}")
        plan_stages(words)
        if args.imports:
            import_profile(root, pycache)
    print("\nparse+schedule in-process (best of 5; wall / cpu s):")
    print("     tasks          parse           graph           waves           total   cpu ratio")
    prev = None
    for n in (2_500, 5_000, 10_000, 20_000):
        r = in_process(n)
        cells = "  ".join(f"{w:6.3f} / {c:6.3f}" for w, c in r.values())
        ratio = f"{r['total'][1] / prev:.2f}" if prev else ""
        print(f"    {n:>6}  {cells}  {ratio}")
        prev = r["total"][1]


if __name__ == "__main__":
    main()
