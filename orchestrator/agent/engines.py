"""Making the engine a run asks for; each is imported only when chosen, so a run on one
never loads the other's SDK."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator import vault
from orchestrator.agent.engine import AgentEngine, AnthropicEngine
from orchestrator.config.model import Config
from orchestrator.errors import InputError

ENGINES = ("anthropic", "claude-code")


def make_engine(
    engine: str, model: str, *, root: Path, config: Config, env: Mapping[str, str] | None = None
) -> AgentEngine:
    """The engine a run uses, checked (model, credentials, installation) before it starts."""
    from orchestrator.agent.models import make_model

    if engine == "anthropic":
        return AnthropicEngine(
            make_model(
                model,
                root=root,
                env=env,
                stream=config.stream,
                timeout=config.api.timeout,
                max_retries=config.api.max_retries,
            )
        )
    if engine == "claude-code":
        from orchestrator.agent.claude_code.engine import open_engine

        if env is None:  # with the keys sdd keeps out of its own environment
            env = {**os.environ, **{k: v for k in vault.API_KEYS if (v := vault.get(k))}}
        return open_engine(model, root=root, config=config, env=env)
    raise InputError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
