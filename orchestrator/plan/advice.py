"""`routing: model`: a small model settles the tasks the rules leave close or unclaimed.

One request per feature: the agents' names and descriptions, the stack and every task go in
one cacheable system block; the user turn names the undecided tasks with the rules' scores.
The answer is a JSON object of task id -> agent name; anything but a known agent for an asked
task is ignored (with a note) and the rules' choice stands. Validated answers are kept in
`.sdd/routing/FEATURE.json` under a key of the exact prompt, so planning again is free and
stable, and a changed task list, plan or agent asks again. Prompt, parsing and applying are
pure; `consult` is the one call through the model seam.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.plan.routing import Route
from orchestrator.plan.scoring import Signal

if TYPE_CHECKING:
    from orchestrator.agent.model import Model
    from orchestrator.plan.agents import AgentSet
    from orchestrator.plan.stack import Stack
    from orchestrator.speckit.tasks import TaskList

CLOSE = 1.0  # a margin under this between the two best agents is a close call
TEXT_CAP = 200  # characters of each task's text in the prompt
INSTRUCTIONS = """\
You route the tasks of one software feature to the agents best suited to do them. Each agent
is a specialist (or a generalist) described below in its own words. Judge each task by what
its work is: its text, its files, its phase, and the feature's stack.

Reply with one JSON object and nothing else: each task id you are asked about, mapped to the
name of exactly one agent from the list, e.g. {"T001": "agent-name"}."""


@dataclass(frozen=True, slots=True)
class Prompt:
    system: str
    user: str
    asked: tuple[str, ...]
    key: str  # sha256 of the model id and both texts: what the stored answers answer


def undecided(routes: Mapping[str, Route]) -> list[str]:
    """Tasks whose route came from the scores but nothing about the task itself, or by a
    margin under CLOSE; config routes are never asked about."""
    return [
        tid
        for tid, r in routes.items()
        if r.by == "rules" and len(r.candidates) > 1 and (not r.claimed or r.margin < CLOSE)
    ]


def build_prompt(
    model_id: str,
    agents: AgentSet,
    stack: Stack,
    tasklist: TaskList,
    routes: Mapping[str, Route],
    asked: Sequence[str],
) -> Prompt:
    lines = [INSTRUCTIONS, "", "Agents:"]
    lines += [f"- {a.name}: {a.description}" for a in agents.agents.values()]
    techs = ", ".join(stack.techs) or "not stated"
    lines += ["", f"The feature's stack: {techs}.", "", "The feature's tasks:"]
    phases = tasklist.phases
    for t in tasklist.tasks:
        text = t.description if len(t.description) <= TEXT_CAP else t.description[:TEXT_CAP] + "…"
        lines.append(f"{t.id} [{phases[t.phase].title}] {text}")
    system = "\n".join(lines)
    asks = []
    for tid in asked:
        scores = ", ".join(f"{c.agent} {c.score:g}" for c in routes[tid].candidates)
        asks.append(f"{tid} (rules' scores: {scores})")
    user = "Route these tasks:\n" + "\n".join(asks)
    key = hashlib.sha256(json.dumps([model_id, system, user]).encode()).hexdigest()
    return Prompt(system, user, tuple(asked), key)


def parse_answer(
    text: str, asked: Sequence[str], names: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """The valid choices in a reply, and what was wrong with the rest."""
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return {}, [f"the reply is not a JSON object: {text[:80]!r}"]
    chosen: dict[str, str] = {}
    problems: list[str] = []
    for tid in asked:
        name = data.get(tid)
        if name is None:
            problems.append(f"{tid}: no answer")
        elif not isinstance(name, str) or name not in names:
            problems.append(f"{tid}: {name!r} is not an agent")
        else:
            chosen[tid] = name
    return chosen, problems


def apply(
    routes: Mapping[str, Route], chosen: Mapping[str, str], model_id: str
) -> dict[str, Route]:
    """The routes with the model's choices in: the chosen agent first, carrying a `model`
    signal; the rules' scores stay as they were, so the explanation shows both."""
    out = dict(routes)
    for tid, agent in chosen.items():
        r = routes[tid]
        rules = ", ".join(f"{c.agent} {c.score:g}" for c in r.candidates[:2])
        why = f"model {model_id} chose it over a close call (rules: {rules})"
        first = next(c for c in r.candidates if c.agent == agent)
        first = replace(first, signals=(Signal("model", why, 0.0), *first.signals))
        rest = tuple(c for c in r.candidates if c.agent != agent)
        out[tid] = Route(agent, why, (first, *rest), by="model")
    return out


def consult(model: Model, model_id: str, prompt: Prompt, max_tokens: int) -> str:
    """Ask once; the text of the reply."""
    from orchestrator.agent.model import ModelRequest

    system = [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}]
    request = ModelRequest(
        model=model_id,
        system=system,
        tools=[],
        messages=[{"role": "user", "content": prompt.user}],
        max_tokens=max_tokens,
        task_id="routing",
    )
    turn = model.complete(request)
    return "".join(b.get("text", "") for b in turn.content if b.get("type") == "text")


def load_answers(path: Path, key: str) -> dict[str, str] | None:
    """The stored answers for exactly this prompt, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    answers = data.get("answers")
    if not isinstance(answers, dict):
        return None
    return {str(k): str(v) for k, v in answers.items()}


def save_answers(path: Path, key: str, model_id: str, answers: Mapping[str, str]) -> None:
    """Written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    data = {"key": key, "model": model_id, "answers": dict(answers)}
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
