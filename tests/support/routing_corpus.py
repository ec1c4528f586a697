"""The hand-labelled routing corpus (tests/fixtures/routing_labels.yaml) and how a corpus
feature is routed, as `sdd plan` routes it with no config: shared by the routing test and
`bench/bench_routing.py`, so both measure the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestrator.plan.agents import builtin_agents_dir, load_agents
from orchestrator.plan.routing import route_tasks
from orchestrator.plan.stack import read_stack
from orchestrator.speckit.tasks import TaskList, parse_tasks

LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "routing_labels.yaml"
BACKEND = "fastapi-backend-dev"  # the built-in agent the labels are about
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
GOAL_STACKS = ("Go", "Rust", "TypeScript")  # where the backend agent must stay off


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
    return {f: (expand(v["backend"]), expand(v["other"])) for f, v in data.items()}


def routed(corpus: Path, feature: str) -> tuple[TaskList, dict[str, str]]:
    """The agent of every task of a corpus feature."""
    folder = corpus / feature
    constitution = corpus / feature.split("/")[0] / "constitution.md"
    tasklist = parse_tasks((folder / "tasks.md").read_text(encoding="utf-8"))
    stack = read_stack(
        (folder / "plan.md").read_text(encoding="utf-8"),
        constitution.read_text(encoding="utf-8") if constitution.is_file() else "",
        (folder / "spec.md").read_text(encoding="utf-8"),
    )
    agents = load_agents([("built-in", builtin_agents_dir())])
    titles = [p.title for p in tasklist.phases]
    routes = route_tasks(tasklist.tasks, agents, stack=stack, phase_titles=titles)
    return tasklist, {tid: r.agent for tid, r in routes.items()}
