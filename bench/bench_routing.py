"""Routing quality on the real spec-kit corpus, against hand labels, with sdd's built-in agents.

    .venv/bin/python bench/bench_routing.py            # the figures
    .venv/bin/python bench/bench_routing.py --misses   # also every task routed against its label

The corpus is `SDD_CORPUS`, else the first `shared/corpus` beside or above this tree.

Backend recall: of the tasks labelled backend in the FastAPI features
(tests/fixtures/routing_labels.yaml), the share routed to the FastAPI agent. Stay-off: of the
tasks of features in other stacks, the share routed anywhere else. Each feature is planned as
`sdd plan` plans it (plan.md, constitution, tasks.md), with no config.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support

from support.corpus import find_corpus
from support.routing_corpus import BACKEND, GOAL_STACKS, OTHER_STACKS, labels, routed

from orchestrator.speckit.tasks import TaskList

REPO = Path(__file__).resolve().parents[1]


def routes_of(feature: str) -> tuple[TaskList, dict[str, str]]:
    corpus = find_corpus(REPO / "bench")
    if corpus is None:
        raise SystemExit("spec-kit corpus not found (set SDD_CORPUS)")
    return routed(corpus, feature)


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
        if stack in GOAL_STACKS:
            goal[0] += kept
            goal[1] += n
    print(f"Go, Rust, TypeScript stay-off {goal[0]}/{goal[1]} = {100 * goal[0] / goal[1]:.1f} %")
    print(f"({time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main()
