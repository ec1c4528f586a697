"""`routing: model` for one feature: the stored answers when they answer this exact plan, else
(when asked to consult) one request to the routing model, kept for next time. Whatever goes
wrong (no key, the API down, a reply that is not JSON) leaves the rules' routes and a note."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator import paths
from orchestrator.errors import SddError
from orchestrator.plan import advice
from orchestrator.plan.routing import Route

if TYPE_CHECKING:
    from orchestrator.config.model import Config
    from orchestrator.plan.agents import AgentSet
    from orchestrator.plan.stack import Stack
    from orchestrator.speckit.tasks import TaskList

MAX_TOKENS_PER_TASK = 24


def settle(
    root: Path,
    feature: str,
    config: Config,
    agents: AgentSet,
    stack: Stack,
    tasklist: TaskList,
    routes: Mapping[str, Route],
    consult: bool,
) -> tuple[dict[str, Route], list[str]]:
    """The routes with the model's choices for the undecided tasks, and notes for people."""
    from orchestrator.agent.models import resolve_model_id

    asked = advice.undecided(routes)
    if not asked:
        return dict(routes), []
    spec = config.model if config.routing_model.strip() == "inherit" else config.routing_model
    model_id = resolve_model_id(spec, spec)
    prompt = advice.build_prompt(model_id, agents, stack, tasklist, routes, asked)
    store = paths.routing_file(root, feature)
    stored = advice.load_answers(store, prompt.key)
    if stored is not None:
        chosen = {t: a for t, a in stored.items() if t in routes and a in agents.agents}
        return advice.apply(routes, chosen, model_id), []
    if not consult:
        return dict(routes), [
            f"routing: model has not settled {len(asked)} close call(s) for this plan yet; "
            f"`sdd plan {feature}` asks {model_id}"
        ]
    try:
        from orchestrator.agent.models import make_model

        model = make_model(
            spec,
            root=root,
            stream=False,
            timeout=config.api.timeout,
            max_retries=config.api.max_retries,
        )
        cap = min(config.limits.max_tokens, 64 + MAX_TOKENS_PER_TASK * len(asked))
        text = advice.consult(model, model_id, prompt, cap)
    except SddError as exc:
        return dict(routes), [f"routing: model could not ask {model_id} ({exc}); routed by rules"]
    chosen, problems = advice.parse_answer(text, prompt.asked, list(agents.agents))
    notes = []
    if problems:
        shown = "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        notes.append(f"routing: {model_id} left some tasks to the rules: {shown}")
    if chosen or not problems:
        try:
            advice.save_answers(store, prompt.key, model_id, chosen)
        except OSError as exc:
            notes.append(f"routing: could not keep the answers in {store}: {exc.strerror or exc}")
    return advice.apply(routes, chosen, model_id), notes
