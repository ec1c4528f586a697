"""How much of each recorded Messages API request a prompt cache would have served.

A measurement over request bodies as the loopback server records them, so the figure follows
from what sdd really sends, not from what the code intends.

The model of the API's prompt cache implemented here:

* The prompt is a sequence of blocks in prefix order: each tool definition, each system block,
  then each content block of each message (string content counts as one text block). A block
  is compared as canonical JSON (sorted keys, no ``cache_control``) tagged with where it sits
  (``tools``, ``system``, or the message's index and role), so two prefixes match exactly when
  every block up to the boundary is byte-identical. ``cache_control`` is not part of the key:
  moving a breakpoint does not change the bytes cached before it.
* A request may carry at most four breakpoints (the API refuses more): more is a ValueError.
* The cache is keyed on the model (and ``tool_choice``/``thinking`` when sent) plus the prefix.
* Writing: after a request is served, each of its breakpoints (a block with ``cache_control``)
  whose prefix holds at least ``min_tokens`` estimated tokens stores an entry for exactly that
  prefix. Shorter prefixes are not cached (the API's minimum cacheable length).
* Reading: for each breakpoint of a request, the block boundaries from the breakpoint back
  ``lookback`` blocks are checked for a live entry with the same prefix; the longest hit over
  all breakpoints is what the request reads from cache. A hit refreshes the entry.
* Lifetime: an entry lives for its breakpoint's TTL (``cache_control.ttl``: ``"1h"`` is an
  hour, otherwise the cache's default, 5 minutes) after it was last written or read. Without
  timestamps every request is taken to come within the lifetime of the one before.
* Written tokens are split by TTL as the API's ``usage.cache_creation`` reports them: what
  lies up to the last 1-hour breakpoint is written to the 1-hour cache.
* Sizes: the characters of a prefix are those of its blocks' canonical JSON; tokens are
  estimated as characters / 4. Cached + written + uncached = the request's whole input.

"Tasks 2..n" are the requests of every task but the first one seen (a task is named by the
``# Task T001`` heading of the first user message, as ``prompt.task_message`` writes it).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

CHARS_PER_TOKEN = 4
TTL_SECONDS = 300.0
HOUR = 3600.0
LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4
MIN_TOKENS = 1024  # Sonnet/Opus minimum cacheable prompt
_TASK = re.compile(r"^# Task (\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Block:
    where: str  # tools[2], system[0], messages[3].content[1]
    key: str  # canonical JSON, cache_control removed
    breakpoint: bool
    hour: bool = False  # a breakpoint asking for the 1-hour cache


def _canonical(tag: str, block: Any) -> str:
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps([tag, block], sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _marked(block: Any) -> bool:
    return isinstance(block, dict) and block.get("cache_control") is not None


def _hour(block: Any) -> bool:
    return _marked(block) and block["cache_control"].get("ttl") == "1h"


def blocks(body: dict[str, Any]) -> list[Block]:
    """The request's prompt in the cache's prefix order: tools, system, messages."""
    out: list[Block] = []
    for i, tool in enumerate(body.get("tools") or []):
        out.append(Block(f"tools[{i}]", _canonical("tools", tool), _marked(tool), _hour(tool)))
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    for i, part in enumerate(system):
        out.append(Block(f"system[{i}]", _canonical("system", part), _marked(part), _hour(part)))
    for m, msg in enumerate(body.get("messages") or []):
        content = msg.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        tag = f"{m}:{msg.get('role')}"
        for i, part in enumerate(content or []):
            where = f"messages[{m}].content[{i}]"
            out.append(Block(where, _canonical(tag, part), _marked(part), _hour(part)))
    return out


def breakpoints(body: dict[str, Any]) -> list[int]:
    """Prefix ends (numbers of blocks) at which the request asks for a cache entry."""
    return [k + 1 for k, b in enumerate(blocks(body)) if b.breakpoint]


def task_of(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    first = messages[0].get("content", "")
    text = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
    found = _TASK.search(text)
    return found.group(1) if found else ""


@dataclass(frozen=True, slots=True)
class RequestShare:
    index: int
    task: str
    input_chars: int
    cached_chars: int  # read from cache
    written_chars: int  # written to cache (between the hit and the last cacheable breakpoint)
    hit_blocks: int  # prefix length in blocks of the cache hit (0: miss)
    n_blocks: int
    written_1h_chars: int = 0  # of written_chars, those written to the 1-hour cache

    @property
    def share(self) -> float:
        return self.cached_chars / self.input_chars if self.input_chars else 0.0


def tokens(chars: int) -> int:
    return chars // CHARS_PER_TOKEN


@dataclass(slots=True)
class PromptCache:
    """The cache as it evolves request by request; `serve` answers like the API would."""

    ttl: float = TTL_SECONDS  # of a breakpoint that does not ask for the hour
    lookback: int = LOOKBACK_BLOCKS
    min_tokens: int = MIN_TOKENS
    entries: dict[str, tuple[float, float]] = field(default_factory=dict)  # hash -> touched, ttl
    served: int = 0

    def serve(self, body: dict[str, Any], at: float = 0.0) -> RequestShare:
        prompt = blocks(body)
        root = json.dumps(
            [body.get("model"), body.get("tool_choice"), body.get("thinking")], sort_keys=True
        )
        hashes, ends = [hashlib.sha256(root.encode()).hexdigest()], [0]
        for b in prompt:  # hashes[k], ends[k]: the prefix of the first k blocks
            hashes.append(hashlib.sha256((hashes[-1] + b.key).encode()).hexdigest())
            ends.append(ends[-1] + len(b.key))
        marks = [k + 1 for k, b in enumerate(prompt) if b.breakpoint]
        if len(marks) > MAX_BREAKPOINTS:
            raise ValueError(f"{len(marks)} cache_control blocks; the API allows 4")
        hit = 0
        for end in marks:
            for k in range(end, max(hit, end - self.lookback - 1), -1):
                entry = self.entries.get(hashes[k])
                if entry is not None and at - entry[0] <= entry[1]:
                    hit = k
                    break
        if hit:
            self.entries[hashes[hit]] = (at, self.entries[hashes[hit]][1])
        cacheable = [e for e in marks if tokens(ends[e]) >= self.min_tokens]
        for end in cacheable:
            self.entries[hashes[end]] = (at, HOUR if prompt[end - 1].hour else self.ttl)
        written = max(0, ends[cacheable[-1]] - ends[hit]) if cacheable else 0
        hours = [e for e in cacheable if prompt[e - 1].hour]
        written_1h = max(0, ends[hours[-1]] - ends[hit]) if hours else 0
        share = RequestShare(
            self.served, task_of(body), ends[-1], ends[hit], written, hit, len(prompt), written_1h
        )
        self.served += 1
        return share


@dataclass(frozen=True, slots=True)
class CacheReport:
    requests: list[RequestShare]

    def later(self) -> list[RequestShare]:
        """Requests of tasks 2..n: every task but the first one seen."""
        first = self.requests[0].task if self.requests else ""
        return [r for r in self.requests if r.task != first]

    def written_1h(self, rows: Sequence[RequestShare] | None = None) -> int:
        """Characters written to the 1-hour cache."""
        return sum(r.written_1h_chars for r in (self.later() if rows is None else rows))

    def totals(self, rows: Sequence[RequestShare] | None = None) -> tuple[int, int, int]:
        """(input, cached, written) characters."""
        rows = self.later() if rows is None else rows
        return (
            sum(r.input_chars for r in rows),
            sum(r.cached_chars for r in rows),
            sum(r.written_chars for r in rows),
        )

    def share(self, rows: Sequence[RequestShare] | None = None) -> float:
        total, cached, _ = self.totals(rows)
        return cached / total if total else 0.0


def measure(
    bodies: Iterable[dict[str, Any]],
    times: Sequence[float] | None = None,
    *,
    cache: PromptCache | None = None,
    task: Callable[[dict[str, Any]], str] = task_of,
) -> CacheReport:
    """Replay the requests, in order, through a fresh (or the given) cache model."""
    cache = cache or PromptCache()
    rows = []
    for k, body in enumerate(bodies):
        row = cache.serve(body, times[k] if times is not None else 0.0)
        rows.append(replace(row, task=task(body)))
    return CacheReport(rows)
