"""What the agent is told: the system block, the task message, feedback. Pure formatting.

Prompt caching reads a byte-identical prefix in the order tools -> system -> messages. The
system prompt is two blocks, each with a breakpoint: first what every agent of the feature
shares (how sdd runs it, constitution, spec, plan, design docs), then the agent's own prompt.
So an agent switch re-reads the feature's documents from cache and writes only its persona;
everything about the task goes into the first user message. The tools carry no breakpoint of
their own: the shared block's breakpoint caches them with it (agents with the same `tools:`
share it; a different list is a different prefix from the first tool on, as the API keys it).
Four breakpoints at most: shared, persona, and two in the conversation (`with_cache_marker`).
With `cache_ttl: 1h` the two system breakpoints ask for the 1-hour cache (the API wants
longer TTLs before shorter ones, which the order gives); the conversation's stay at 5 minutes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.agent.model import Block
from orchestrator.speckit.tasks import Phase, Task
from orchestrator.text import cap_end

CACHE = {"type": "ephemeral"}  # the API's default TTL, 5 minutes


def marker(ttl: str = "5m") -> dict[str, str]:
    """A breakpoint's `cache_control`; the default TTL is left implicit, as the API has it."""
    return dict(CACHE) if ttl == "5m" else {**CACHE, "ttl": ttl}


DOC_CAP = 40_000  # characters per optional design document
CONTRACTS_CAP = 60_000  # characters for all contracts together


@dataclass(frozen=True, slots=True)
class Docs:
    """The feature's documents as the prompt needs them (a view of `FeatureDocs`)."""

    feature: str
    constitution: str
    spec: str
    plan: str
    data_model: str | None = None
    research: str | None = None
    contracts: Mapping[str, str] | None = None


RULES = (
    "# How sdd runs you\n"
    "You are implementing ONE task of a spec-kit feature inside its git repository, "
    "using the tools. Read before you edit. Keep the change to what the task asks. "
    "Do not edit tasks.md and do not commit: sdd verifies your change, ticks the task and "
    "commits it. When the task is done, reply without tool calls with a short summary "
    "(1-3 sentences) of what you changed; it becomes the commit message body. "
    "Your role for this task follows the feature's documents."
)


def shared_block(docs: Docs, ttl: str = "5m") -> Block:
    """What every agent of the feature reads first: the run's rules and the feature's
    documents, with a breakpoint, so it is one cache entry for the whole feature."""
    parts = [
        RULES,
        f"# Constitution\n\n{docs.constitution.strip() or '(none)'}",
        f"# Feature {docs.feature}: spec.md\n\n{docs.spec.strip()}",
        f"# Feature {docs.feature}: plan.md\n\n{docs.plan.strip()}",
    ]
    if docs.data_model:
        parts.append(f"# data-model.md\n\n{cap_end(docs.data_model.strip(), DOC_CAP)}")
    if docs.research:
        parts.append(f"# research.md\n\n{cap_end(docs.research.strip(), DOC_CAP)}")
    if docs.contracts:
        joined = "\n\n".join(f"## contracts/{n}\n\n{t.strip()}" for n, t in docs.contracts.items())
        parts.append(f"# contracts/\n\n{cap_end(joined, CONTRACTS_CAP)}")
    return {"type": "text", "text": "\n\n".join(parts), "cache_control": marker(ttl)}


def persona_block(agent_prompt: str, ttl: str = "5m") -> Block:
    """The agent's own prompt, after the shared documents, with a breakpoint of its own."""
    text = f"# Your role\n\n{agent_prompt.strip()}"
    return {"type": "text", "text": text, "cache_control": marker(ttl)}


def system_blocks(agent_prompt: str, docs: Docs, ttl: str = "5m") -> list[Block]:
    """The run-stable system prompt: the feature's shared block, then the agent's persona."""
    return [shared_block(docs, ttl), persona_block(agent_prompt, ttl)]


def tool_schemas(schemas: Sequence[Block]) -> list[Block]:
    """Tool definitions, unmarked: the shared system block's breakpoint caches them."""
    return [dict(s) for s in schemas]


def task_message(
    task: Task,
    phase: Phase,
    landed: Sequence[tuple[str, str, str]],
    verification: str,
    phase_suite: Sequence[str] = (),
) -> str:
    """The first user message of a task. `landed` holds (task id, short sha, description);
    `phase_suite`, the commands run at the phase's end (`verify: phase`), when there are."""
    label = " ".join(x for x in (task.id, "[P]" if task.parallel else "", task.story or "") if x)
    where = f"Phase {phase.number}: {phase.title}" if phase.number else phase.title
    lines = [f"# Task {label}", "", task.description, "", f"Phase: {where or '(none)'}"]
    if task.section:
        lines.append(f"Section: {task.section}")
    if task.files:
        lines.append("Files named by the task: " + ", ".join(task.files))
    if task.depends_on:
        lines.append("Depends on: " + ", ".join(task.depends_on))
    if landed:
        shown = landed[-30:]
        lines += ["", f"Already landed in this feature ({len(landed)} tasks, latest last):"]
        if len(landed) > len(shown):
            lines.append(f"- ... {len(landed) - len(shown)} earlier tasks")
        lines += [f"- {tid} ({sha}): {desc[:100]}" for tid, sha, desc in shown]
    lines += ["", f"How it will be verified: {verification}"]
    if phase_suite:
        lines.append(
            f"At the end of the phase the full suite also runs ({' && '.join(phase_suite)}); a "
            "regression it finds is blamed on the task that caused it, so run it yourself when "
            "you change code other tasks share."
        )
    return "\n".join(lines)


def feedback_message(attempt: int, attempts: int, output: str) -> str:
    """Verification failure, sent back into the same conversation for the agent to fix."""
    return (
        f"Verification failed (attempt {attempt} of {attempts}). Fix your change so that it "
        f"passes, then reply with a summary.\n\n{output.strip()}"
    )


NO_CHANGE = (
    "You changed no files, but this task requires a change to the repository. "
    "Make the change with the tools, then reply with a summary."
)


def with_cache_marker(messages: list[Block]) -> list[Block]:
    """A copy with breakpoints on the newest message and on the newest one of the previous
    request, so each turn re-reads its history cached.

    The API looks back at most 20 blocks from a breakpoint for an earlier entry: a turn of ten
    tool calls adds twenty blocks, so the previous request's own breakpoint is kept too. With
    the shared and the persona system blocks that makes four, the API's maximum.
    """
    out = list(messages)
    for index in (len(out) - 1, len(out) - 3):
        if index < 0:
            continue
        marked = copy.deepcopy(out[index])
        content = marked["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if content:
            content[-1] = {**content[-1], "cache_control": dict(CACHE)}
        marked["content"] = content
        out[index] = marked
    return out
