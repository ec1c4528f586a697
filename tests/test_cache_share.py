"""Prompt caching, measured on the requests the real SDK sends.

A small run goes through AnthropicModel and the SDK to the loopback Messages API; the recorded
request bodies must keep the cache-prefix property (tools and system byte-identical across
tasks, each conversation only growing past its previous breakpoint) and the cache model of
`support.cache_share` must find most input of tasks 2..n in a cached prefix. The model itself
is checked first on small hand-made requests, so the figure cannot pass by construction.
"""

from __future__ import annotations

import copy
import json
from contextlib import closing
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from support.cache_share import PromptCache, blocks, breakpoints, measure, tokens
from support.messages_server import MessagesServer, api_problem, text_block
from support.records import sqlite_store
from test_anthropic_run import MODEL, VERIFY, Agent, Turn, run_in_process, sdd, write
from test_run_e2e import git, make_project

from orchestrator.agent.prompt import Docs, system_blocks, tool_schemas, with_cache_marker
from orchestrator.config.model import Config
from orchestrator.store.records import TaskRecord
from orchestrator.views.tables import saving_usd

BIG = "x" * 8000  # 2000 estimated tokens: above the 1024-token minimum cacheable prefix


def body(system: str = BIG, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A request as with_cache_marker shapes it: breakpoints on system and the newest block."""
    msgs = copy.deepcopy(messages or [{"role": "user", "content": "# Task T001\n\ngo"}])
    last = msgs[-1]
    if isinstance(last["content"], str):
        last["content"] = [text_block(last["content"])]
    last["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return {
        "model": MODEL,
        "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
        "messages": msgs,
    }


def turn(n: int) -> list[dict[str, Any]]:
    """The first user message and n assistant/user exchanges after it."""
    out: list[dict[str, Any]] = [{"role": "user", "content": "# Task T001\n\ngo"}]
    for k in range(n):
        out.append({"role": "assistant", "content": [text_block(f"step {k}")]})
        out.append({"role": "user", "content": [text_block(f"result {k}")]})
    return out


# ---------------------------------------------------------------- the cache model


def test_a_growing_conversation_reads_up_to_the_previous_breakpoint() -> None:
    first, second = body(messages=turn(0)), body(messages=turn(1))
    report = measure([first, second])
    a, b = report.requests
    assert (a.cached_chars, a.hit_blocks) == (0, 0)
    assert a.written_chars == a.input_chars  # the whole prompt up to its last breakpoint
    assert b.hit_blocks == breakpoints(first)[-1] == 2
    assert b.cached_chars == a.input_chars
    assert b.cached_chars + b.written_chars == b.input_chars


@pytest.mark.parametrize(
    ("change", "hit"),
    [
        ("nothing", 2),  # same prompt again: all of it
        ("system byte", 0),  # one character of the system block: nothing
        ("model", 0),  # the cache is per model
        ("message text", 1),  # the conversation differs: only the system prefix hits
    ],
)
def test_what_breaks_the_prefix(change: str, hit: int) -> None:
    first = body()
    second = copy.deepcopy(first)
    if change == "system byte":
        second["system"][0]["text"] = "y" + BIG[1:]
    elif change == "model":
        second["model"] = "claude-opus-5-5"
    elif change == "message text":
        second["messages"][0]["content"][0]["text"] += " more"
    assert measure([first, second]).requests[1].hit_blocks == hit


def test_entries_expire_after_five_minutes_unless_read() -> None:
    a, b = body(), body()
    assert measure([a, b], [0.0, 299.0]).requests[1].hit_blocks == 2
    assert measure([a, b], [0.0, 301.0]).requests[1].hit_blocks == 0
    # a read refreshes the entry: 0 -> 200 -> 450 keeps it alive
    assert measure([a, b, b], [0.0, 200.0, 450.0]).requests[2].hit_blocks == 2


def test_lookback_is_twenty_blocks_and_short_prefixes_are_not_cached() -> None:
    far = body(messages=[turn(0)[0], *turn(11)[1:]])  # 22 blocks after the first message
    report = measure([body(messages=turn(0)), far])
    assert report.requests[1].hit_blocks == 1  # only the system breakpoint finds an entry
    small = body(system="short")
    assert measure([small, small]).requests[1].cached_chars == 0
    assert measure([small, small], cache=PromptCache(min_tokens=1)).requests[1].hit_blocks == 2


def test_a_turn_of_many_tool_calls_still_reads_the_history_cached() -> None:
    """prompt.with_cache_marker keeps the previous request's breakpoint: past the lookback."""
    wide = [
        *turn(1),
        {"role": "assistant", "content": [text_block(f"call {k}") for k in range(12)]},
        {"role": "user", "content": [text_block(f"result {k}") for k in range(12)]},
    ]
    before, after = (
        {"model": MODEL, "system": body()["system"], "messages": with_cache_marker(m)}
        for m in (wide[:3], wide)
    )
    assert len(breakpoints(after)) == 3  # system, the previous request's newest, the newest
    hit = measure([before, after]).requests[1].hit_blocks
    assert hit == breakpoints(before)[-1]  # all of the previous request, 24 blocks back


def test_more_than_four_breakpoints_is_refused_like_the_api_does() -> None:
    crowded = body(messages=[{"role": "user", "content": [text_block(f"b{k}") for k in range(4)]}])
    for part in crowded["messages"][0]["content"]:
        part["cache_control"] = {"type": "ephemeral"}
    with pytest.raises(ValueError, match="5 cache_control blocks"):
        measure([crowded])


def test_an_agent_switch_reads_the_features_documents_and_writes_only_its_persona() -> None:
    """prompt.system_blocks: shared documents first, each agent's persona after them."""
    docs = Docs("001-x", "constitution " * 600, "spec " * 1200, "plan " * 800)
    backend, other = (
        {
            "model": MODEL,
            "tools": tool_schemas([{"name": "Read", "input_schema": {"type": "object"}}]),
            "system": system_blocks(persona, docs),
            "messages": with_cache_marker([{"role": "user", "content": f"# Task {t}\n\ngo"}]),
        }
        for persona, t in (("You build FastAPI services.", "T001"), ("You write docs.", "T002"))
    )
    assert len(breakpoints(backend)) == 3  # shared, persona, the newest message
    _, b = measure([backend, other]).requests
    assert b.hit_blocks == 2  # the tool and the shared block: all but persona and task
    shared_chars = len(blocks(other)[0].key) + len(blocks(other)[1].key)
    assert b.cached_chars == shared_chars and b.cached_chars > 0.9 * b.input_chars
    assert b.written_chars == b.input_chars - shared_chars
    # the first agent again reads its persona too
    assert measure([backend, other, backend]).requests[2].hit_blocks == 4


# ---------------------------------------------------------------- a real run's requests

TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)
- [ ] T002 Create calc/mul.py with mul(a, b)
- [ ] T003 Create calc/sub.py with sub(a, b)
- [ ] T004 Create calc/div.py with div(a, b)
"""


def _turns(name: str, op: str) -> list[Turn]:
    return [
        [text_block(f"Creating {name}."), write(f"calc/{name}.py", f"# {name}\n")],
        [write(f"calc/{name}.py", f"def {name}(a, b):\n    return a {op} b\n")],
        [text_block(f"Added {name}().")],
    ]


TURNS = {
    "T001": _turns("add", "+"),
    "T002": _turns("mul", "*"),
    "T003": _turns("sub", "-"),
    "T004": _turns("div", "/"),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """One 4-task run over the SDK; its request bodies in order."""
    monkeypatch = pytest.MonkeyPatch()
    root = make_project(tmp_path_factory.mktemp("cache"), TASKS)
    (root / ".specify" / "sdd.yaml").write_text(VERIFY)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sdd config")
    try:
        with MessagesServer(handler=Agent(TURNS)) as server:
            monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cache")
            assert run_in_process(root) == ("finished", "")
    finally:
        monkeypatch.undo()
    return root, [r.body for r in server.requests if r.body is not None]


@pytest.mark.slow  # they read one recorded end-to-end run
def test_tools_and_system_are_byte_identical_across_tasks(recorded: Any) -> None:
    _, bodies = recorded
    assert len(bodies) == 12
    stable = {json.dumps([b["tools"], b["system"]], sort_keys=True) for b in bodies}
    assert len(stable) == 1


@pytest.mark.slow  # they read one recorded end-to-end run
def test_each_request_extends_the_previous_one_up_to_its_last_breakpoint(recorded: Any) -> None:
    _, bodies = recorded
    n_stable = len(bodies[0]["tools"]) + len(bodies[0]["system"])
    for prev, cur in pairwise(bodies):
        same_task = prev["messages"][0] == cur["messages"][0]
        upto = breakpoints(prev)[-1] if same_task else n_stable
        assert [b.key for b in blocks(cur)[:upto]] == [b.key for b in blocks(prev)[:upto]]
        assert breakpoints(cur)[-1] == len(blocks(cur))  # the newest block is marked


@pytest.mark.slow  # they read one recorded end-to-end run
def test_most_input_of_later_tasks_lies_in_a_cached_prefix(recorded: Any) -> None:
    _, bodies = recorded
    report = measure(bodies)
    n_stable = len(bodies[0]["tools"]) + len(bodies[0]["system"])
    for prev, row in pairwise(report.requests):
        same_task = prev.task == row.task
        # within a task all of the previous request is read; a new task reads tools + system
        assert row.hit_blocks == (prev.n_blocks if same_task else n_stable), row
    # Why 85 % holds for this small project: tools + system are ~1,350 estimated tokens (the
    # 1,024-token minimum is met by a system breakpoint, not by the tools alone) and a request
    # adds ~70-130 tokens to the previous one, so the worst request (a task's first: tools and
    # system cached, the task message not) is ~90 % cached and the others ~95 % (~94 % overall).
    assert report.share() >= 0.85, report.share()
    assert tokens(report.totals()[1]) > 9 * 1024


@pytest.mark.slow
def test_log_and_status_show_cache_reads_and_the_saving(recorded: Any) -> None:
    root, _ = recorded
    with closing(sqlite_store(root / ".sdd" / "state.sqlite")) as store:
        records = store.tasks("001-calc")
    price = Config().price(MODEL)
    assert price is not None and price.cache_read == pytest.approx(0.1 * price.input)
    assert price.cache_write == pytest.approx(1.25 * price.input)
    log = {row["task"]: row for row in json.loads(sdd(root, "log", "001", "--json").stdout)}
    status = json.loads(sdd(root, "status", "001", "--json").stdout)
    billed = uncached = 0.0
    for tid, r in records.items():
        # the saving over no caching: reads at 0.1x, less the 0.25x premium on writes
        saving = (0.9 * r.cache_read_tokens - 0.25 * r.cache_write_tokens) * price.input / 1e6
        cost = (
            (r.input_tokens + 1.25 * r.cache_write_tokens + 0.1 * r.cache_read_tokens) * price.input
            + r.output_tokens * price.output
        ) / 1e6
        billed += cost
        uncached += cost + saving
        assert r.cache_read_tokens > 0 and r.cache_write_tokens > 0
        assert log[tid]["saving_usd"] == pytest.approx(saving)
        assert log[tid]["cost_usd"] == pytest.approx(cost)
        assert log[tid]["cache_read_tokens"] == r.cache_read_tokens
        assert log[tid]["cache_write_tokens"] == r.cache_write_tokens
        row = next(t for t in status["tasks"] if t["task"] == tid)
        assert (row["cache_read_tokens"], row["saving_usd"]) == (
            r.cache_read_tokens,
            pytest.approx(saving),
        )
    assert saving_usd(TaskRecord("f", "T1", cache_read_tokens=10**6), None) == 0.0
    only_wrote = TaskRecord("f", "T1", cache_write_tokens=10**6)
    assert saving_usd(only_wrote, price) == pytest.approx(-0.25 * price.input)
    hour = TaskRecord("f", "T1", cache_write_tokens=10**6, cache_write_1h_tokens=10**6)
    assert saving_usd(hour, price) == pytest.approx(-1.0 * price.input)
    read = sum(r.cache_read_tokens for r in records.values())
    written = sum(r.cache_write_tokens for r in records.values())
    share = read / sum(r.input_tokens + r.cache_write_tokens + r.cache_read_tokens
                       for r in records.values())  # fmt: skip
    line = (
        f"{read} tokens read from cache ({share:.1%} of input), {written} written; "
        f"est. ${billed:.4f}, ${uncached - billed:.4f} saved against ${uncached:.4f} uncached"
    )
    for command in ("status", "log"):
        shown = " ".join(sdd(root, command, "001").stdout.split())
        assert line in shown, (command, shown[-400:])


# ---------------------------------------------------------------- cache_ttl: 1h


def test_a_one_hour_breakpoint_outlives_a_slow_verification() -> None:
    hour = body()
    hour["system"][0]["cache_control"] = {"type": "ephemeral", "ttl": "1h"}
    five = body()
    report = measure([hour, hour, five], [0.0, 400.0, 4001.0])
    first, second, third = report.requests
    assert first.written_1h_chars == len(blocks(hour)[0].key)  # the system block, at 1h
    assert first.written_chars > first.written_1h_chars  # the message's breakpoint, at 5m
    assert second.hit_blocks == 1 and second.written_1h_chars == 0  # 400 s: the hour holds
    assert third.hit_blocks == 0  # 3,600 s after its last read, it is gone
    assert measure([five, five], [0.0, 400.0]).requests[1].hit_blocks == 0


@pytest.mark.parametrize(
    ("ttls", "problem"),
    [(["1h", "1h", "5m"], None), (["5m", "1h"], "must not come after"), (["2h"], "ttl")],
)
def test_the_server_refuses_ttls_the_api_refuses(ttls: list[str], problem: str | None) -> None:
    system = [
        {"type": "text", "text": f"part {k}", "cache_control": {"type": "ephemeral", "ttl": t}}
        for k, t in enumerate(ttls)
    ]
    found = api_problem({"model": MODEL, "system": system, "messages": [turn(0)[0]]})
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found.message


class Billing:
    """Answers like `Agent`, billing each request by the cache model, split by TTL as the
    API reports it (`usage.cache_creation`)."""

    def __init__(self, turns: dict[str, list[Turn]]) -> None:
        self.agent, self.cache = Agent(turns), PromptCache()
        self.billed = {"write": 0, "write_1h": 0, "read": 0}

    def __call__(self, body: dict[str, Any], index: int) -> Any:
        reply = self.agent(body, index)
        served = self.cache.serve(body)
        written, hour = tokens(served.written_chars), tokens(served.written_1h_chars)
        reply.message["usage"] |= {
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": tokens(served.cached_chars),
            "cache_creation": {
                "ephemeral_5m_input_tokens": written - hour,
                "ephemeral_1h_input_tokens": hour,
            },
        }
        self.billed["write"] += written
        self.billed["write_1h"] += hour
        self.billed["read"] += tokens(served.cached_chars)
        return reply


@pytest.mark.slow
def test_cache_ttl_1h_caches_the_documents_for_an_hour_and_bills_it(tmp_path: Path) -> None:
    root = make_project(tmp_path, TASKS)
    (root / ".specify" / "sdd.yaml").write_text(VERIFY + "cache_ttl: 1h\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sdd config")
    billing = Billing(TURNS)
    monkeypatch = pytest.MonkeyPatch()
    try:
        with MessagesServer(handler=billing, strict=True) as server:
            monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-cache")
            assert run_in_process(root) == ("finished", "")
    finally:
        monkeypatch.undo()
    assert server.rejected == []
    bodies = [r.body for r in server.requests if r.body is not None]
    for b in bodies:
        assert [s["cache_control"] for s in b["system"]] == [{"type": "ephemeral", "ttl": "1h"}] * 2
        marked = [p for m in b["messages"] if isinstance(m["content"], list) for p in m["content"]]
        assert all("ttl" not in p.get("cache_control", {}) for p in marked)
    # the documents are written once, at 1h; later tasks write only their own messages, at 5m
    assert 0 < billing.billed["write_1h"] < billing.billed["write"]
    log = json.loads(sdd(root, "log", "001", "--json").stdout)
    assert sum(r["cache_write_tokens"] for r in log) == billing.billed["write"]
    assert sum(r["cache_write_1h_tokens"] for r in log) == billing.billed["write_1h"]
    price = Config().price(MODEL)
    assert price is not None
    for r in log:  # 1-hour writes at 2x input, 5-minute ones at 1.25x
        hour, five = (
            r["cache_write_1h_tokens"],
            r["cache_write_tokens"] - r["cache_write_1h_tokens"],
        )
        expected = (
            (r["input_tokens"] + 1.25 * five + 2 * hour + 0.1 * r["cache_read_tokens"])
            * price.input
            + r["output_tokens"] * price.output
        ) / 1e6
        assert r["cost_usd"] == pytest.approx(expected)
