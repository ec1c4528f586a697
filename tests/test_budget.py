"""Budgets: the meter's answer before each model call, and the cost it is based on."""

from __future__ import annotations

import pytest

from orchestrator.agent.budget import Meter, cost
from orchestrator.agent.model import Usage
from orchestrator.config.model import Budget, Price

PRICE = Price(input=2.0, output=10.0)  # USD per million; cache write 2.5, cache read 0.2


def test_cost_prices_each_kind_of_token() -> None:
    usage = Usage(1_000_000, 100_000, 200_000, 1_000_000)
    assert cost(usage, PRICE) == pytest.approx(2.0 + 1.0 + 0.5 + 0.2)
    assert cost(usage, Price(input=2.0, output=10.0, cache_write=3.0, cache_read=0.1)) == (
        pytest.approx(2.0 + 1.0 + 0.6 + 0.1)
    )


def test_a_model_without_a_price_costs_nothing() -> None:
    assert cost(Usage(10**9, 10**9), None) == 0.0


NOTHING = Usage()


def meter(budget: Budget, run: Usage = NOTHING, task: Usage = NOTHING) -> Meter:
    return Meter(budget, PRICE, run, task)


def test_no_budget_never_stops() -> None:
    assert meter(Budget(), Usage(10**9, 10**9), Usage(10**9, 10**9)).exceeded("T001") is None


@pytest.mark.parametrize(
    ("budget", "reason"),
    [
        (Budget(run_tokens=1000), "budget: run used 1000 tokens, limit 1000"),
        (Budget(task_tokens=300), "budget: T001 used 300 tokens, limit 300"),
        (Budget(run_cost=0.002), "budget: run estimated cost $0.0036 reached the $0.002 limit"),
        (Budget(task_cost=0.0005), "budget: T001 estimated cost $0.0014 reached the $0.0005 limit"),
    ],
)
def test_each_ceiling_is_reached_at_its_limit_and_says_the_figures(
    budget: Budget, reason: str
) -> None:
    m = meter(budget, run=Usage(800, 200), task=Usage(200, 100))
    assert m.exceeded("T001") == reason


def test_the_run_ceiling_is_checked_before_the_tasks() -> None:
    m = meter(Budget(run_tokens=10, task_tokens=10), Usage(50, 0), Usage(50, 0))
    assert m.exceeded("T001") == "budget: run used 50 tokens, limit 10"


def test_cache_tokens_cost_but_do_not_count_as_tokens() -> None:
    m = meter(Budget(task_tokens=100), task=Usage(10, 10, 10_000, 10_000))
    assert m.exceeded("T001") is None
    assert meter(Budget(task_cost=0.01), task=Usage(0, 0, 10_000, 0)).exceeded("T001") == (
        "budget: T001 estimated cost $0.0250 reached the $0.01 limit"
    )


def test_adding_a_turn_counts_for_the_task_and_the_run() -> None:
    m = meter(Budget(run_tokens=500), run=Usage(300, 0))
    assert m.exceeded("T002") is None
    m.add(Usage(150, 50))
    assert (m.run, m.task) == (Usage(450, 50), Usage(150, 50))
    assert m.exceeded("T002") == "budget: run used 500 tokens, limit 500"
