"""What routing knows about each agent, read from its definition alone: the terms of its
description (and, more weakly, of its prompt's headings), the kinds of work they name, the
technologies and languages it is for, and the files its `sdd:` hints claim. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.plan import lexicon
from orchestrator.plan.agents import AgentDef

_HEADING_LINE = re.compile(r"^#{1,6}\s+(.+)$", re.M)
DESCRIPTION, HEADING = 1.0, 0.5


@dataclass(frozen=True, slots=True)
class Profile:
    """`terms`: term -> 1.0 (description or stacks hint) or 0.5 (a heading only); `families`
    empty means any language (the agent names none)."""

    name: str
    terms: dict[str, float]
    concepts: frozenset[str]
    techs: frozenset[str]
    families: frozenset[str]
    ecosystems: frozenset[str]
    paths: tuple[str, ...]


def profile(agent: AgentDef) -> Profile:
    described = lexicon.terms(agent.description)
    stacks = [t for s in agent.hints.stacks for t in lexicon.terms(s)]
    headings = [t for h in _HEADING_LINE.findall(agent.body) for t in lexicon.terms(h)]
    weights = dict.fromkeys(headings, HEADING) | dict.fromkeys([*described, *stacks], DESCRIPTION)
    own = [*described, *stacks]
    techs = frozenset(t for t in own if t in lexicon.TECH and _named(t, agent, stacks))
    return Profile(
        name=agent.name,
        terms=weights,
        concepts=frozenset(c for t in own for c in lexicon.concepts_of(t)),
        techs=techs,
        families=frozenset(lexicon.families(techs)),
        ecosystems=frozenset(lexicon.ecosystems(techs)),
        paths=agent.hints.paths,
    )


def _named(tech: str, agent: AgentDef, stacks: list[str]) -> bool:
    """`go`, `rust`, `spring`: a technology when the description capitalises it or a stacks
    hint names it, a plain word otherwise ("go through the logs")."""
    if tech not in lexicon.STACK_ONLY or tech in stacks:
        return True
    return re.search(rf"\b{tech.capitalize()}\b", agent.description) is not None
