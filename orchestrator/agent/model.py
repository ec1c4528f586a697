"""The model seam: what the agent loop sends, what comes back, and who answers.

The loop only sees plain dicts and these records, so the real API (`models.anthropic_api`) and
the offline script player (`models.scripted`) are interchangeable; nothing here imports an SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Block = dict[str, Any]  # one content block, tool definition or message, as JSON


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0  # cache_creation_input_tokens
    cache_read_tokens: int = 0  # cache_read_input_tokens
    cache_write_1h_tokens: int = 0  # of cache_write_tokens, written with the 1-hour TTL

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
        )


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: str  # resolved model id
    system: list[Block]  # text blocks; cache_control already placed by the caller
    tools: list[Block]  # tool definitions; cache_control already placed by the caller
    messages: list[Block]  # Messages API shape; content blocks as plain dicts
    max_tokens: int
    task_id: str = ""  # lets the scripted model pick the task's turns; never sent to the API


@dataclass(frozen=True, slots=True)
class ModelTurn:
    content: list[Block]  # plain JSON blocks, thinking included, fit to be sent back unchanged
    stop_reason: str  # end_turn | tool_use | max_tokens | refusal | pause_turn | ...
    usage: Usage
    model: str


class Model(Protocol):
    name: str  # e.g. "claude-sonnet-5-5" or "scripted:/path/x.yaml"

    def complete(self, request: ModelRequest) -> ModelTurn: ...
