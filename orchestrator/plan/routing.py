"""Which agent takes each task, and why. Pure: the tasks, the agents, the config's routes and the
feature's stack in; a route per task out, with every agent's score and the signals behind it.

Config `routes` come first and are absolute. Otherwise every agent is scored on the task
(`scoring`) and the best one wins; a second pass lets tasks that share files, code symbols or
ids with others lean toward where those went (a file a backend task creates stays with the
backend agent). Ties go to the default agent, then to the agent defined first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from orchestrator.errors import InputError
from orchestrator.globs import glob_match
from orchestrator.plan.evidence import Facts, facts, related
from orchestrator.plan.graph import normalize_path
from orchestrator.plan.profiles import profile
from orchestrator.plan.scoring import W_RELATED, Candidate, Scorer, Signal
from orchestrator.plan.stack import Stack

if TYPE_CHECKING:
    from orchestrator.config.model import Config
    from orchestrator.plan.agents import AgentSet
    from orchestrator.speckit.tasks import Task

__all__ = ["Candidate", "Route", "RouteRule", "Signal", "route", "route_tasks", "rules_from"]
REASON_SIGNALS = 3


@dataclass(frozen=True, slots=True)
class RouteRule:
    """A config route: a glob on the task's files or a keyword in its description."""

    agent: str
    glob: str | None = None
    keyword: str | None = None

    def __post_init__(self) -> None:
        if (self.glob is None) == (self.keyword is None):
            raise InputError(f"route to '{self.agent}' needs exactly one of glob or keyword")


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen agent, a short reason, every candidate best first, and what decided it:
    `config` (a route rule), `rules` (the scores) or `model` (routing: model)."""

    agent: str
    reason: str
    candidates: tuple[Candidate, ...] = field(default=())
    by: str = "rules"

    @property
    def margin(self) -> float:
        """How far the chosen agent is ahead of the next one (0 when alone)."""
        scores = [c.score for c in self.candidates]
        return round(scores[0] - scores[1], 3) if len(scores) > 1 else 0.0

    @property
    def claimed(self) -> bool:
        """Whether the task itself, not only the feature or the default, points to the winner."""
        return self.by != "rules" or bool(self.candidates and self.candidates[0].claims)


def rules_from(config: Config) -> list[RouteRule]:
    """The config's `routes:` as rules, in order."""
    return [RouteRule(r.agent, glob=r.glob, keyword=r.keyword) for r in config.routes]


def validate_rules(rules: Sequence[RouteRule], agents: AgentSet) -> None:
    for rule in rules:
        if rule.agent not in agents.agents:
            what = f"glob '{rule.glob}'" if rule.glob is not None else f"keyword '{rule.keyword}'"
            raise InputError(
                f"route rule ({what}) names agent '{rule.agent}', which is not defined "
                f"(agents: {', '.join(sorted(agents.agents))})"
            )


def route_tasks(
    tasks: Sequence[Task],
    agents: AgentSet,
    rules: Sequence[RouteRule] = (),
    default: str = "generalist",
    stack: Stack | None = None,
    phase_titles: Sequence[str] = (),
) -> dict[str, Route]:
    """A route for every task, by id."""
    validate_rules(rules, agents)
    if default not in agents.agents:
        known = ", ".join(sorted(agents.agents))
        raise InputError(f"default agent '{default}' is not defined (agents: {known})")
    stack = stack or Stack()
    profiles = [profile(a) for a in agents.agents.values()]
    scorer = Scorer(profiles, stack, default)
    order = {p.name: i for i, p in enumerate(profiles)}
    titles = list(phase_titles)
    all_facts = [facts(t, titles[t.phase] if t.phase < len(titles) else "", stack) for t in tasks]
    scored = {f.task.id: [(p.name, scorer.signals(f, p)) for p in profiles] for f in all_facts}
    configured = {f.task.id: r for f in all_facts if (r := _configured(f, rules))}
    ranks = {tid: _rank(s, default, order) for tid, s in scored.items()}
    first = {
        tid: configured[tid][0] if tid in configured else ranked[0].agent
        for tid, ranked in ranks.items()
    }
    routes: dict[str, Route] = {}
    links = related(all_facts)
    for f in all_facts:
        tid = f.task.id
        ranked = ranks[tid]
        if tid in links:
            ranked = _rank(_with_related(scored[tid], links[tid], first), default, order)
        if tid in configured:
            agent, why = configured[tid]
            routes[tid] = Route(agent, why, _mark(ranked, agent, why), by="config")
        else:
            routes[tid] = Route(ranked[0].agent, reason(ranked[0]), ranked)
    return routes


def route(
    task: Task,
    agents: AgentSet,
    rules: Sequence[RouteRule] = (),
    default: str = "generalist",
    stack: Stack | None = None,
) -> Route:
    """One task alone (no other tasks to relate it to)."""
    return route_tasks([task], agents, rules, default, stack)[task.id]


def reason(winner: Candidate) -> str:
    """The winner's strongest signals in a few words: `description: endpoint; stack: fastapi`."""
    positive = sorted((s for s in winner.signals if s.weight > 0), key=lambda s: -s.weight)
    shown = [s for s in positive if s.kind != "default"][:REASON_SIGNALS]
    if not shown:
        return "default agent: nothing in the task or the feature points elsewhere"
    return "; ".join(f"{s.kind}: {s.detail}" for s in shown)


def _configured(f: Facts, rules: Sequence[RouteRule]) -> tuple[str, str] | None:
    files = [path for path, _, _ in f.files]
    for rule in rules:
        if rule.glob is not None:
            hit = next((p for p in files if glob_match(normalize_path(rule.glob), p)), None)
            if hit:
                return rule.agent, f"config route: glob '{rule.glob}' matched {hit}"
        elif _word(rule.keyword or "").search(f.task.description):
            return rule.agent, f"config route: keyword '{rule.keyword}'"
    return None


def _with_related(
    signals: list[tuple[str, list[Signal]]], links: list[tuple[str, str]], first: dict[str, str]
) -> list[tuple[str, list[Signal]]]:
    votes: dict[str, list[str]] = {}
    for other, _ in links:
        votes.setdefault(first[other], []).append(other)
    out = []
    for agent, sigs in signals:
        ids = votes.get(agent)
        if ids:
            shown = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
            weight = round(W_RELATED * len(ids) / len(links), 3)
            sigs = [*sigs, Signal("related", f"{shown} went here", weight)]
        out.append((agent, sigs))
    return out


def _rank(
    signals: list[tuple[str, list[Signal]]], default: str, order: dict[str, int]
) -> tuple[Candidate, ...]:
    cands = []
    for agent, sigs in signals:
        total = 0.0
        for s in sigs:
            total += s.weight
        cands.append(Candidate(agent, round(total, 3), tuple(sigs)))
    cands.sort(key=lambda c: (-c.score, c.agent != default, order[c.agent]))
    return tuple(cands)


def _mark(ranked: tuple[Candidate, ...], agent: str, why: str) -> tuple[Candidate, ...]:
    """The configured agent first, carrying the route as a signal; the scores stay as scored."""
    chosen = next(c for c in ranked if c.agent == agent)
    chosen = replace(chosen, signals=(Signal("route", why, 0.0), *chosen.signals))
    return (chosen, *(c for c in ranked if c.agent != agent))


@functools.lru_cache(maxsize=256)
def _word(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)", re.IGNORECASE)
