"""Seeded fault injection for the loopback Messages API server (``support.messages_server``).

A ``FaultInjector`` wraps a handler and answers a seeded share of requests with a fault of the
chosen kinds instead: API errors the SDK retries, hangs and drops, errors inside a stream, and
malformed model output (a tool call cut by ``max_tokens``, refusals, empty replies, unknown
tools, tool inputs with missing or wrongly typed fields).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from support.messages_server import (
    CutStream,
    Drop,
    Handler,
    Hang,
    Reply,
    StreamError,
    cut_tool_call,
    empty_reply,
    http_error,
    message,
    refusal,
    text_block,
    tool_use_block,
)

SERVER_FAULTS = ("rate_limit", "overloaded", "server_error", "unavailable", "hang", "drop")
STREAM_FAULTS = ("stream_overloaded", "cut_stream")  # only for streaming requests
MALFORMED = ("max_tokens_tool", "refusal", "empty", "unknown_tool", "bad_input")
FAULT_KINDS = (*SERVER_FAULTS, *STREAM_FAULTS, *MALFORMED)
TOOL_FAULTS = frozenset({"max_tokens_tool", "unknown_tool", "bad_input"})
# Inputs the tools must refuse; the stray/ paths must never appear in the workspace.
BAD_INPUTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Write", {"file_path": "stray/missing-content.txt"}),
    ("Write", {"file_path": "stray/wrong-type.txt", "content": 42}),
    ("Edit", {"file_path": "stray/x.txt", "new_string": "y"}),
    ("Read", {"file_path": ["stray/list.txt"]}),
    ("Bash", {"command": None}),
    ("Glob", {"pattern": "*", "path": 7}),
)
CUT_WRITE = ("Write", {"file_path": "stray/cut.txt", "content": "never written " * 20})


@dataclass(frozen=True)
class Injected:
    index: int  # request index on the server
    kind: str
    tool_use_id: str = ""  # for tool faults: the id whose tool_result must come back as error


class FaultInjector:
    """A handler that answers a seeded share of requests with a fault, the rest via ``handler``.

    The draw happens under a lock in request order, so one seed gives one fault sequence.
    Server errors carry ``retry-after-ms`` so the SDK's retries cost milliseconds; ``hang``
    outlasts a client timeout shorter than ``hang_seconds`` (and is a slow answer otherwise).
    """

    def __init__(
        self,
        handler: Handler,
        rng: random.Random,
        rate: float = 0.3,
        kinds: Sequence[str] = FAULT_KINDS,
        *,
        hang_seconds: float = 2.0,
        retry_after_ms: int = 1,
    ) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.handler, self.rng, self.rate, self.kinds = handler, rng, rate, tuple(kinds)
        self.hang_seconds, self.retry_after_ms = hang_seconds, retry_after_ms
        self.counts: Counter[str] = Counter()
        self.injected: list[Injected] = []
        self._bag: list[str] = []
        self._lock = threading.Lock()

    def _draw(self, streaming: bool) -> str | None:
        """Kinds come from a shuffled bag, so every kind turns up once per len(kinds) faults."""
        for _ in range(2):
            usable = [k for k in self._bag if streaming or k not in STREAM_FAULTS]
            if usable:
                self._bag.remove(usable[0])
                return usable[0]
            self._bag = list(self.kinds)
            self.rng.shuffle(self._bag)
        return None

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        streaming = bool(body.get("stream"))
        with self._lock:
            kind = self._draw(streaming) if self.rng.random() < self.rate else None
            if kind is not None:
                variant = self.rng.randrange(len(BAD_INPUTS))
                tool_id = f"toolu_fault_{index:04d}" if kind in TOOL_FAULTS else ""
                self.counts[kind] += 1
                self.injected.append(Injected(index, kind, tool_id))
        if kind is None:
            return self.handler(body, index)
        return self._fault(kind, body, index, variant, tool_id)

    def _fault(
        self, kind: str, body: dict[str, Any], index: int, variant: int, tool_id: str
    ) -> Reply:
        wait = {"retry-after-ms": str(self.retry_after_ms)}
        if kind in ("rate_limit", "overloaded", "server_error", "unavailable"):
            status, error = {
                "rate_limit": (429, "rate_limit_error"),
                "overloaded": (529, "overloaded_error"),
                "server_error": (500, "api_error"),
                "unavailable": (503, "api_error"),
            }[kind]
            return http_error(status, error, headers=wait)
        if kind == "hang":
            return Hang(self.hang_seconds, self.handler(body, index))
        if kind == "drop":
            return Drop()
        if kind == "stream_overloaded":
            return StreamError()
        if kind == "cut_stream":
            return CutStream(message([text_block("Let me look at the task first.")]).message, 4)
        if kind == "max_tokens_tool":
            return cut_tool_call(tool_id, *CUT_WRITE)
        if kind == "refusal":
            return refusal()
        if kind == "empty":
            return empty_reply()
        if kind == "unknown_tool":
            return message([tool_use_block(tool_id, "Delete", {"path": "stray"})], "tool_use")
        name, tool_input = BAD_INPUTS[variant]
        return message([tool_use_block(tool_id, name, tool_input)], "tool_use")
