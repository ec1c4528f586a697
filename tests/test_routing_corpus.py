"""Routing on the real spec-kit corpus against hand labels (tests/fixtures/routing_labels.yaml):
the backend agent takes at least 95 % of the backend tasks of FastAPI features, and at least
99 % of the tasks of Go, Rust and TypeScript features stay off it. `bench/bench_routing.py`
prints the same figures per feature, and every miss."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support.corpus import find_corpus

from orchestrator.plan.agents import builtin_agents_dir, load_agents
from orchestrator.plan.routing import route_tasks
from orchestrator.plan.stack import read_stack
from orchestrator.speckit.tasks import TaskList, parse_tasks

CORPUS = find_corpus()
if CORPUS is None:
    pytest.skip("spec-kit corpus not found (set SDD_CORPUS)", allow_module_level=True)
LABELS = Path(__file__).parent / "fixtures" / "routing_labels.yaml"
BACKEND = "fastapi-backend-dev"
OTHER_STACKS = (
    "schoolboyqueue__autospec/002-go-binary-migration",
    "schoolboyqueue__autospec/004-workflow-progress-indicators",
    "goaikit__aikit/002-rust-spec-kit-complete",
    "JoeyLearnsToCode__prompt-studio/001-prompt-studio",
    "sheenalunatics__kb_speckit_demo/001-kanban-board",
)


def expand(items: list[str]) -> set[str]:
    out: set[str] = set()
    for item in items:
        m = re.fullmatch(r"T(\d+)-T(\d+)", item)
        if m:
            width = len(m.group(1))
            out |= {f"T{i:0{width}d}" for i in range(int(m.group(1)), int(m.group(2)) + 1)}
        else:
            out.add(item)
    return out


def routed(feature: str) -> tuple[TaskList, dict[str, str]]:
    assert CORPUS is not None
    folder = CORPUS / feature
    constitution = CORPUS / feature.split("/")[0] / "constitution.md"
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


LABELLED = yaml.safe_load(LABELS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("feature", sorted(LABELLED))
def test_labels_partition_every_task(feature: str) -> None:
    tasklist, _ = routed(feature)
    backend, other = expand(LABELLED[feature]["backend"]), set(LABELLED[feature]["other"])
    assert not backend & other
    assert backend | other == {t.id for t in tasklist.tasks}


def test_backend_tasks_of_fastapi_features_reach_the_backend_agent() -> None:
    hit = total = 0
    missed = []
    for feature, labels in LABELLED.items():
        _, agent = routed(feature)
        for tid in expand(labels["backend"]):
            total += 1
            hit += agent[tid] == BACKEND
            if agent[tid] != BACKEND:
                missed.append(f"{feature} {tid}")
    assert total == 263
    assert hit / total >= 0.95, missed


def test_tasks_of_go_rust_and_typescript_features_stay_off_it() -> None:
    kept = total = 0
    for feature in OTHER_STACKS:
        _, agent = routed(feature)
        total += len(agent)
        kept += sum(a != BACKEND for a in agent.values())
    assert total == 657
    assert kept / total >= 0.99


def test_documentation_of_fastapi_features_goes_elsewhere() -> None:
    """Every README, CLAUDE.md and documentation task among the labels' `other`."""
    docs = {
        "ifLabX__agentifui-pro/001-fastapi-pg-orm": ["T028"],
        "ifLabX__agentifui-pro/003-api-uv-run": ["T014"],
        "ifLabX__agentifui-pro/005-integrate-mypy-for": ["T034", "T035", "T036"],
        "MUmerRazzaq__task-api/001-task-api": ["T080"],
        "tayyabfayyaz__hakathon_2/003-fastapi-tasks-api": ["T005", "T048"],
        "Muhammad-Azan-1__Speckit-5-phase-hackhtone/002-uv-fastapi-backend": ["T042", "T047"],
    }
    for feature, ids in docs.items():
        _, agent = routed(feature)
        assert {tid: agent[tid] for tid in ids} == dict.fromkeys(ids, "generalist"), feature
