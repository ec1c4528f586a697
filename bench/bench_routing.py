"""Routing quality on the real spec-kit corpus, against hand labels, with sdd's built-in agents.

    .venv/bin/python bench/bench_routing.py            # the figures
    .venv/bin/python bench/bench_routing.py --misses   # also every task routed against its label

The corpus is `SDD_CORPUS`, else the first `shared/corpus` beside or above this tree. A tree
older than the scoring router routes each task alone, as it did.

Backend recall: of the tasks labelled backend in the FastAPI features
(tests/fixtures/routing_labels.yaml), the share routed to the FastAPI agent. Stay-off: of the
tasks of features in other stacks, the share routed anywhere else. Each feature is planned as
`sdd plan` plans it (plan.md, constitution, tasks.md), with no config.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one

import yaml

from orchestrator.plan.agents import builtin_agents_dir, load_agents
from orchestrator.speckit.tasks import TaskList, parse_tasks

REPO = Path(__file__).resolve().parents[1]
CORPUS = (
    Path(os.environ["SDD_CORPUS"])
    if os.environ.get("SDD_CORPUS")
    else next(
        (p / "shared" / "corpus" for p in REPO.parents if (p / "shared" / "corpus").is_dir()),
        REPO.parent / "shared" / "corpus",
    )
)
LABELS = REPO / "tests" / "fixtures" / "routing_labels.yaml"
BACKEND = "fastapi-backend-dev"  # the built-in agent these labels are about
# feature -> stack, for the stay-off figures (SOURCES.md's "language / stack" column)
OTHER_STACKS = {
    "schoolboyqueue__autospec/002-go-binary-migration": "Go",
    "schoolboyqueue__autospec/004-workflow-progress-indicators": "Go",
    "goaikit__aikit/002-rust-spec-kit-complete": "Rust",
    "JoeyLearnsToCode__prompt-studio/001-prompt-studio": "TypeScript",
    "sheenalunatics__kb_speckit_demo/001-kanban-board": "TypeScript",
    "esinclair__SpecDriven/main": "Java",
    "bmeurant__sdd/001-task-crud-operations": "Java",
    "hspark1212__chemeleon2/001-this-repository-was": "Python (not web)",
    "ll7__robot_sf_ll7/120-social-navigation-benchmark-plan": "Python (not web)",
    "ll7__robot_sf_ll7/124-title-accelerate-slow": "Python (not web)",
    "ll7__robot_sf_ll7/130-improve-environment-factory": "Python (not web)",
    "ll7__robot_sf_ll7/144-implement-metrics-from": "Python (not web)",
    "ll7__robot_sf_ll7/339-extend-occupancy-grid": "Python (not web)",
    "Muhammad-Azan-1__Speckit-5-phase-hackhtone/1-project-init": "Python (not web)",
}


def expand(items: list[str]) -> set[str]:
    """`T001-T004` and `T007` as ids."""
    out: set[str] = set()
    for item in items:
        m = re.fullmatch(r"T(\d+)-T(\d+)", item)
        if m:
            width = len(m.group(1))
            out |= {f"T{i:0{width}d}" for i in range(int(m.group(1)), int(m.group(2)) + 1)}
        else:
            out.add(item)
    return out


def labels() -> dict[str, tuple[set[str], set[str]]]:
    """feature -> (backend ids, other ids)."""
    data = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    return {f: (expand(v["backend"]), set(v["other"])) for f, v in data.items()}


def constitution(feature: str) -> str:
    path = CORPUS / feature.split("/")[0] / "constitution.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def routes_of(feature: str) -> tuple[TaskList, dict[str, str]]:
    """The agent of every task of a corpus feature, as `sdd plan` routes it with no config."""
    folder = CORPUS / feature
    tasklist = parse_tasks((folder / "tasks.md").read_text(encoding="utf-8"))
    agents = load_agents([("built-in", builtin_agents_dir())])
    try:  # this tree's router; older trees route one task at a time
        from orchestrator.plan.routing import route_tasks
        from orchestrator.plan.stack import read_stack
    except ImportError:
        from orchestrator.plan.routing import route

        return tasklist, {t.id: route(t, agents).agent for t in tasklist.tasks}
    plan = (folder / "plan.md").read_text(encoding="utf-8")
    spec = (folder / "spec.md").read_text(encoding="utf-8")
    stack = read_stack(plan, constitution(feature), spec)
    titles = [p.title for p in tasklist.phases]
    routes = route_tasks(tasklist.tasks, agents, stack=stack, phase_titles=titles)
    return tasklist, {tid: r.agent for tid, r in routes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every task against its label")
    args = parser.parse_args()
    started = time.perf_counter()
    hit = total = off = others = 0
    print("FastAPI features: backend tasks routed to the backend agent; other tasks kept off it")
    for feature, (backend, other) in labels().items():
        tasklist, agent = routes_of(feature)
        ids = {t.id for t in tasklist.tasks}
        if backend | other != ids or backend & other:
            raise SystemExit(f"{feature}: the labels do not partition its {len(ids)} tasks")
        h = sum(agent[t] == BACKEND for t in backend)
        o = sum(agent[t] != BACKEND for t in other)
        hit, total, off, others = hit + h, total + len(backend), off + o, others + len(other)
        print(f"  {feature:70} backend {h:3}/{len(backend):3}  other off {o:2}/{len(other):2}")
        if args.misses:
            for t in tasklist.tasks:
                want = t.id in backend
                if want != (agent[t.id] == BACKEND):
                    label = "backend" if want else "other"
                    print(f"      {t.id} ({label}) -> {agent[t.id]}: {t.description[:90]}")
    print(f"backend recall {hit}/{total} = {100 * hit / total:.1f} %")
    print(
        f"other tasks of FastAPI features kept off it {off}/{others} = {100 * off / others:.1f} %"
    )
    print("\nother stacks: tasks kept off the backend agent")
    by_stack: dict[str, list[int]] = {}
    for feature, stack in OTHER_STACKS.items():
        tasklist, agent = routes_of(feature)
        n = len(tasklist.tasks)
        kept = sum(a != BACKEND for a in agent.values())
        by_stack.setdefault(stack, [0, 0])
        by_stack[stack][0] += kept
        by_stack[stack][1] += n
        print(f"  {feature:70} {stack:17} {kept:3}/{n:3}")
        if args.misses:
            for t in tasklist.tasks:
                if agent[t.id] == BACKEND:
                    print(f"      {t.id} -> {BACKEND}: {t.description[:90]}")
    goal = [0, 0]
    for stack, (kept, n) in by_stack.items():
        print(f"{stack:17} stay-off {kept}/{n} = {100 * kept / n:.1f} %")
        if stack in ("Go", "Rust", "TypeScript"):
            goal[0] += kept
            goal[1] += n
    print(f"Go, Rust, TypeScript stay-off {goal[0]}/{goal[1]} = {100 * goal[0] / goal[1]:.1f} %")
    print(f"({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main()
