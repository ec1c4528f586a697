"""The pure part of a run: documents, tasks, graph and routes. No git, no model, no store.

`sdd plan` and the inspection commands need only this, so it imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.agents import AgentSet, agent_dirs, load_agents
from orchestrator.config import Config, load_config
from orchestrator.routing import Route, route
from orchestrator.schedule import TaskGraph, build_graph
from orchestrator.speckit import FeatureDocs, load_feature
from orchestrator.tasks import Task, TaskList, parse_tasks


def state_dir(root: Path) -> Path:
    return root / ".sdd"


def worktrees_dir(root: Path, feature: str) -> Path:
    """Where a parallel wave's worktrees live, one per task, removed when the wave ends."""
    return state_dir(root) / "worktrees" / feature


@dataclass(slots=True)
class Plan:
    """The pure part: documents, tasks, graph and routes, without touching git or a model."""

    root: Path
    docs: FeatureDocs
    tasklist: TaskList
    graph: TaskGraph
    config: Config
    agents: AgentSet
    routes: dict[str, Route]

    @property
    def tasks(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasklist.tasks}


def make_plan(root: Path, feature_dir: Path) -> Plan:
    config = load_config(root)
    docs = load_feature(root, feature_dir)
    tasklist = parse_tasks(docs.tasks)
    graph = build_graph(tasklist.tasks)
    agents = load_agents(agent_dirs(root))
    rules = config.route_rules()
    routes = {t.id: route(t, agents, rules, config.default_agent) for t in tasklist.tasks}
    return Plan(root, docs, tasklist, graph, config, agents, routes)
