"""Routing on the real spec-kit corpus against hand labels (tests/fixtures/routing_labels.yaml):
the backend agent takes at least 95 % of the backend tasks of FastAPI features, and at least
99 % of the tasks of Go, Rust and TypeScript features stay off it. `bench/bench_routing.py`
prints the same figures per feature, and every miss."""

from __future__ import annotations

import pytest
from support.corpus import find_corpus
from support.routing_corpus import BACKEND, GOAL_STACKS, OTHER_STACKS, labels, routed

from orchestrator.speckit.tasks import TaskList

CORPUS = find_corpus()
if CORPUS is None:
    pytest.skip("spec-kit corpus not found (set SDD_CORPUS)", allow_module_level=True)
LABELLED = labels()


def routes(feature: str) -> tuple[TaskList, dict[str, str]]:
    assert CORPUS is not None
    return routed(CORPUS, feature)


@pytest.mark.parametrize("feature", sorted(LABELLED))
def test_labels_partition_every_task(feature: str) -> None:
    tasklist, _ = routes(feature)
    backend, other = LABELLED[feature]
    assert not backend & other
    assert backend | other == {t.id for t in tasklist.tasks}


def test_backend_tasks_of_fastapi_features_reach_the_backend_agent() -> None:
    hit = total = 0
    missed = []
    for feature, (backend, _) in LABELLED.items():
        _, agent = routes(feature)
        for tid in backend:
            total += 1
            hit += agent[tid] == BACKEND
            if agent[tid] != BACKEND:
                missed.append(f"{feature} {tid}")
    assert total == 263
    assert hit / total >= 0.95, missed


def test_tasks_of_go_rust_and_typescript_features_stay_off_it() -> None:
    kept = total = 0
    for feature in (f for f, stack in OTHER_STACKS.items() if stack in GOAL_STACKS):
        _, agent = routes(feature)
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
        _, agent = routes(feature)
        assert {tid: agent[tid] for tid in ids} == dict.fromkeys(ids, "generalist"), feature
