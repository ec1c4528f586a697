"""Which model answers: `scripted:PATH` (offline) or an Anthropic model id or alias.

The adapters are imported when chosen, so planning and inspection never load an SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator import vault
from orchestrator.agent.model import Model
from orchestrator.errors import InputError

MODEL_ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
SCRIPTED_PREFIX = "scripted:"


def resolve_model_id(agent_model: str | None, run_default: str) -> str:
    """An agent's `model:` field as an API id: inherit the run's model, expand an alias."""
    if agent_model is None or agent_model.strip() in ("", "inherit"):
        return run_default
    agent_model = agent_model.strip()
    return MODEL_ALIASES.get(agent_model, agent_model)


def make_model(
    spec: str,
    *,
    root: Path,
    env: Mapping[str, str] | None = None,
    stream: bool = True,
    timeout: float = 600,
    max_retries: int = 2,
) -> Model:
    """The model a run talks to: `scripted:PATH` (relative to root) or an API model id/alias.

    Credentials and base URL are read from `env` (default: the key `vault` withheld from the
    process environment, and the environment) here, so a missing key is an input error before
    the run starts, not a failure at the first task.
    """
    spec = spec.strip()
    if spec.startswith(SCRIPTED_PREFIX):
        from orchestrator.agent.models.scripted import ScriptedModel

        script = spec.removeprefix(SCRIPTED_PREFIX).strip()
        if not script:
            raise InputError("--model scripted:PATH needs a script path after 'scripted:'")
        return ScriptedModel(root / script)
    if not spec:
        raise InputError(
            "no model given: pass --model MODEL_ID, or scripted:PATH for an offline run"
        )
    if env is None:
        env, key = os.environ, vault.get("ANTHROPIC_API_KEY") or vault.get("ANTHROPIC_AUTH_TOKEN")
    else:
        key = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
    if not key:
        raise InputError(
            f"no Anthropic API key for model {spec}: set ANTHROPIC_API_KEY, "
            "or use --model scripted:PATH for an offline run"
        )
    from orchestrator.agent.models.anthropic_api import AnthropicModel

    return AnthropicModel(
        MODEL_ALIASES.get(spec, spec),
        api_key=key,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        stream=stream,
        timeout=timeout,
        max_retries=max_retries,
    )
