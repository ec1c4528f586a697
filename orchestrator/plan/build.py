"""The pure part of a run: documents, tasks, graph and routes. No git and no store; a model
only with `routing: model`, and only when asked to consult it (`advice`).

`sdd plan` and the inspection commands need only this, so it imports nothing heavy.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.config.load import load_config
from orchestrator.config.model import Config
from orchestrator.errors import InputError
from orchestrator.plan.agents import AgentDef, AgentSet, agent_dirs, load_agents
from orchestrator.plan.graph import TaskGraph, build_graph
from orchestrator.plan.routing import Route, route_tasks, rules_from
from orchestrator.plan.stack import Stack, read_stack
from orchestrator.speckit.documents import FeatureDocs, load_feature
from orchestrator.speckit.tasks import Task, TaskList, parse_tasks

_ID = re.compile(r"([A-Za-z]*)0*(\d+)([A-Za-z]*)")


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
    stack: Stack
    notes: list[str] = field(default_factory=list)  # what routing: model did or could not do

    @property
    def tasks(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasklist.tasks}

    @property
    def feature(self) -> str:
        return self.docs.name

    def consult(self) -> None:
        """`routing: model`: ask the routing model for the close calls now, unless answers
        kept for this exact plan already settle them."""
        from orchestrator.plan.consulting import settle

        rules = _rules_routes(self.config, self.agents, self.tasklist, self.stack)
        self.routes, self.notes = settle(
            self.root,
            self.feature,
            self.config,
            self.agents,
            self.stack,
            self.tasklist,
            rules,
            True,
        )

    def agent_for(self, task_id: str) -> AgentDef:
        return self.agents.agents[self.routes[task_id].agent]

    def find_task(self, query: str) -> Task:
        """`t5`, `T005` and `t005` all name T005; a miss lists the ids nearest to the query."""
        tasks = self.tasks
        if query.strip() in tasks:  # T008a and T008A may both exist
            return tasks[query.strip()]
        wanted = query.strip().upper()
        exact = [t for tid, t in tasks.items() if tid.upper() == wanted]
        if exact:
            return exact[0]
        key = _id_key(wanted)
        same = [t for tid, t in tasks.items() if key is not None and _id_key(tid.upper()) == key]
        if len(same) == 1:
            return same[0]
        near = _nearby(wanted, list(tasks))
        hint = f"; nearby: {', '.join(near)}" if near else ""
        raise InputError(f"no task {query.strip()} in {self.feature}/tasks.md{hint}")


def make_plan(root: Path, feature_dir: Path, consult: bool = False) -> Plan:
    """The plan of a feature. With `routing: model`, stored answers apply when they answer
    this exact plan; `consult` asks the model when they do not (`sdd plan`, `route`, `run`)."""
    config = load_config(root)
    docs = load_feature(root, feature_dir)
    tasklist = parse_tasks(docs.tasks)
    graph = build_graph(tasklist.tasks)
    agents = load_agents(agent_dirs(root))
    stack = read_stack(docs.plan, docs.constitution, docs.spec)
    routes = _rules_routes(config, agents, tasklist, stack)
    plan = Plan(root, docs, tasklist, graph, config, agents, routes, stack)
    if config.routing == "model":
        from orchestrator.plan.consulting import settle

        plan.routes, plan.notes = settle(
            root, docs.name, config, agents, stack, tasklist, routes, consult
        )
    return plan


def _rules_routes(
    config: Config, agents: AgentSet, tasklist: TaskList, stack: Stack
) -> dict[str, Route]:
    titles = [p.title for p in tasklist.phases]
    rules = rules_from(config)
    return route_tasks(tasklist.tasks, agents, rules, config.default_agent, stack, titles)


def _id_key(tid: str) -> tuple[str, int, str] | None:
    m = _ID.fullmatch(tid)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else None


def _nearby(wanted: str, ids: list[str], count: int = 5) -> list[str]:
    key = _id_key(wanted)
    if key is not None:
        numbered = [(k, tid) for tid in ids if (k := _id_key(tid.upper())) and k[0] == key[0]]
        if numbered:
            numbered.sort(key=lambda kt: (abs(kt[0][1] - key[1]), kt[0]))
            return sorted((tid for _, tid in numbered[:count]), key=ids.index)
    return difflib.get_close_matches(wanted, ids, n=count, cutoff=0.5)
