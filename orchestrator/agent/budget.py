"""Token and cost budgets: checked before every model call, so a run pauses, never overspends.

Pure arithmetic over Usage and the price table; `run.attempt` feeds it and acts on its answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.agent.model import Usage
from orchestrator.config.model import Budget, Price
from orchestrator.store.records import TaskRecord


def spent(records: Iterable[TaskRecord]) -> Usage:
    """The tokens the tasks' records hold, added up."""
    total = Usage()
    for r in records:
        total = total + Usage(
            r.input_tokens,
            r.output_tokens,
            r.cache_write_tokens,
            r.cache_read_tokens,
            r.cache_write_1h_tokens,
        )
    return total


def cost(usage: Usage, price: Price | None) -> float:
    """Estimated USD; unknown models (and the scripted one) cost nothing."""
    if price is None:
        return 0.0
    write = price.cache_write if price.cache_write is not None else 1.25 * price.input
    hour = price.cache_write_1h if price.cache_write_1h is not None else 2 * price.input
    read = price.cache_read if price.cache_read is not None else 0.1 * price.input
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + (usage.cache_write_tokens - usage.cache_write_1h_tokens) * write
        + usage.cache_write_1h_tokens * hour
        + usage.cache_read_tokens * read
    ) / 1_000_000


@dataclass(frozen=True, slots=True)
class CacheSummary:
    """What the prompt cache did for a run or a task, as the API billed it."""

    read_share: float  # of all input tokens (uncached + written + read), read from cache
    write_tokens: int
    cost: float  # estimated USD as billed
    uncached_cost: float  # the same tokens with every input token at the input price
    saving: float  # uncached_cost - cost: reads at 0.1x, less the write premium (1.25x/2x)


def cache_summary(usage: Usage, price: Price | None) -> CacheSummary:
    """The cache's effect on `usage`; costs are 0 for unknown models (and the scripted one)."""
    total = usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
    share = usage.cache_read_tokens / total if total else 0.0
    billed = cost(usage, price)
    plain = cost(Usage(total, usage.output_tokens), price)
    return CacheSummary(share, usage.cache_write_tokens, billed, plain, plain - billed)


def tokens(usage: Usage) -> int:
    return usage.input_tokens + usage.output_tokens


@dataclass(slots=True)
class Meter:
    """Usage so far of one task and of the whole run, against the configured limits."""

    budget: Budget
    price: Price | None
    run: Usage
    task: Usage

    def add(self, usage: Usage) -> None:
        self.run = self.run + usage
        self.task = self.task + usage

    def exceeded(self, task_id: str) -> str | None:
        """The reason to pause before the next call, with the figures, or None."""
        b = self.budget
        checks = [
            ("run", "tokens", tokens(self.run), b.run_tokens),
            (task_id, "tokens", tokens(self.task), b.task_tokens),
            ("run", "cost", cost(self.run, self.price), b.run_cost),
            (task_id, "cost", cost(self.task, self.price), b.task_cost),
        ]
        for who, kind, used, limit in checks:
            if limit is not None and used >= limit:
                if kind == "cost":
                    return f"budget: {who} estimated cost ${used:.4f} reached the ${limit:g} limit"
                return f"budget: {who} used {used} tokens, limit {limit}"
        return None
