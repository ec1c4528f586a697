"""The model seam: what the agent loop sends, what comes back, and which model answers.

The loop only sees plain dicts and these records, so the real API (`anthropic_model`) and the
offline script player (`scripted`) are interchangeable, and nothing here imports the SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from orchestrator.errors import InputError

MODEL_ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
SCRIPTED_PREFIX = "scripted:"


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0  # cache_creation_input_tokens
    cache_read_tokens: int = 0  # cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
        )


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: str  # resolved model id
    system: list[dict]  # text blocks; cache_control already placed by the caller
    tools: list[dict]  # tool definitions; cache_control already placed by the caller
    messages: list[dict]  # Messages API shape; content blocks as plain dicts
    max_tokens: int
    task_id: str = ""  # lets the scripted model pick the task's turns; never sent to the API


@dataclass(frozen=True, slots=True)
class ModelTurn:
    content: list[dict]  # plain JSON blocks, thinking included, fit to be sent back unchanged
    stop_reason: str  # end_turn | tool_use | max_tokens | refusal | pause_turn | ...
    usage: Usage
    model: str


class Model(Protocol):
    name: str  # e.g. "claude-sonnet-5-5" or "scripted:/path/x.yaml"

    def complete(self, request: ModelRequest) -> ModelTurn: ...


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

    Credentials and base URL are read from `env` (default: the process environment) here, so
    a missing key is an input error before the run starts, not a failure at the first task.
    """
    spec = spec.strip()
    if spec.startswith(SCRIPTED_PREFIX):
        from orchestrator.scripted import ScriptedModel

        script = spec.removeprefix(SCRIPTED_PREFIX).strip()
        if not script:
            raise InputError("--model scripted:PATH needs a script path after 'scripted:'")
        return ScriptedModel(root / script)
    if not spec:
        raise InputError(
            "no model given: pass --model MODEL_ID, or scripted:PATH for an offline run"
        )
    env = os.environ if env is None else env
    key = env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
    if not key:
        raise InputError(
            f"no Anthropic API key for model {spec}: set ANTHROPIC_API_KEY, "
            "or use --model scripted:PATH for an offline run"
        )
    from orchestrator.anthropic_model import AnthropicModel

    return AnthropicModel(
        MODEL_ALIASES.get(spec, spec),
        api_key=key,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        stream=stream,
        timeout=timeout,
        max_retries=max_retries,
    )
