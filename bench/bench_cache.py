"""Prompt-cache share of the demo feature's run, measured on the wire.

    .venv/bin/python bench/bench_cache.py            # the 10-task demo, goal >= 85 %
    .venv/bin/python bench/bench_cache.py --requests # and one line per request

The demo (examples/todo-api, 10 tasks, two agents) runs through the real AnthropicModel and
SDK against the loopback Messages API server, whose handler replays examples/todo-api.script.yaml
turn by turn (the cursor is the number of assistant messages in the request, as ScriptedModel
counts). So the requests are byte for byte what sdd would send to Claude. The server answers
with the usage a prompt cache would report (tests/support/cache_share.py's model of it), so
`sdd log` shows cache reads and savings as a real run would; the figure itself is computed
afterwards from the recorded requests alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support

from rich.console import Console
from support.cache_share import CacheReport, PromptCache, blocks, measure, task_of, tokens
from support.messages_server import MessagesServer, Reply, message, text_block, tool_use_block

from orchestrator.agent.models.scripted import Script, estimate_tokens, load_script
from orchestrator.cli.demo import prepare_demo
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter
from orchestrator.views.tables import log_data, log_table

MODEL = "claude-sonnet-5-5"
FEATURE = "001-todo-api"
GOAL = 0.85


class ScriptReplay:
    """The Messages API handler: the script's next turn for the request's task, with usage."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.cache = PromptCache()
        self.started = time.monotonic()
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        task = task_of(body)
        cursor = sum(1 for m in body["messages"] if m["role"] == "assistant")
        turns = self.script.tasks.get(task, self.script.default) or []
        content: list[dict[str, Any]] = []
        if cursor >= len(turns):
            content.append(text_block(f"The script for {task} is exhausted."))
            stop = "end_turn"
        else:
            turn = turns[cursor]
            if turn.text:
                content.append(text_block(turn.text))
            for k, (name, args) in enumerate(turn.tools):
                content.append(tool_use_block(f"toolu_{index:03d}_{k}", name, args))
            stop = turn.stop_reason
        with self._lock:
            now = time.monotonic() - self.started
            self.times.append(now)
            served = self.cache.serve(body, now)
        rest = served.input_chars - served.cached_chars - served.written_chars
        usage = {
            "input_tokens": tokens(rest),
            "output_tokens": estimate_tokens(content),
            "cache_creation_input_tokens": tokens(served.written_chars),
            "cache_read_input_tokens": tokens(served.cached_chars),
        }
        return message(content, stop, usage, model=MODEL)


def first_difference(earlier: dict[str, Any], later: dict[str, Any]) -> str:
    """Where two requests' prompts part: the first block that differs, or 'none'."""
    a, b = blocks(earlier), blocks(later)
    for x, y in zip(a, b, strict=False):
        if x.key != y.key:
            return x.where
    return "none" if len(a) == len(b) else f"after block {min(len(a), len(b))}"


def explain(bodies: list[dict[str, Any]], report: CacheReport) -> list[str]:
    """Each task's first request that missed the system prefix, and where it parts from the
    latest earlier request (of another task) whose system prefix it could have reused."""
    lines = []
    seen: set[str] = set()
    for row, body in zip(report.requests, bodies, strict=True):
        if row.task in seen:
            continue
        seen.add(row.task)
        n_prefix = len(body.get("tools") or []) + len(body.get("system") or [])
        if row.index == 0 or row.hit_blocks >= n_prefix:
            continue
        previous = bodies[row.index - 1]
        lines.append(
            f"  {row.task}: cache hit {row.hit_blocks}/{n_prefix} prefix blocks; differs from "
            f"request {row.index - 1} ({task_of(previous)}) at "
            f"{first_difference(previous, body)}"
        )
    return lines


def per_task(report: CacheReport) -> list[str]:
    lines = [f"  {'task':6} {'requests':>8} {'input tok':>10} {'cached tok':>10} {'share':>7}"]
    order = list(dict.fromkeys(r.task for r in report.requests))
    for task in order:
        rows = [r for r in report.requests if r.task == task]
        total, cached, _ = report.totals(rows)
        lines.append(
            f"  {task:6} {len(rows):>8} {tokens(total):>10} {tokens(cached):>10} "
            f"{cached / total:>7.1%}"
        )
    return lines


def run(show_requests: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="sdd-bench-cache-") as tmp:
        root, script_path = prepare_demo(Path(tmp) / "todo-api")
        replay = ScriptReplay(load_script(script_path))
        with MessagesServer(handler=replay) as server:
            os.environ["ANTHROPIC_BASE_URL"] = server.url
            os.environ["ANTHROPIC_API_KEY"] = "sk-bench-loopback"
            session = open_run(
                root,
                root / "specs" / FEATURE,
                RunOptions(model=MODEL),
                Reporter(Console(quiet=True)),
            )
            try:
                result = run_session(session)
                price = session.plan.config.price(session.run.model)
                rows = log_data(session.store.tasks(FEATURE), session.plan.graph.order, price)
            finally:
                session.close()
        bodies = [r.body for r in server.requests if r.body is not None]
        report = measure(bodies, replay.times)
        print(f"run: {result.status} {result.reason}".rstrip())
        print(f"requests: {len(bodies)}, tasks: {len({r.task for r in report.requests})}")
        print("\n".join(per_task(report)))
        if show_requests:
            for r in report.requests:
                print(
                    f"  #{r.index:<3} {r.task:6} blocks {r.n_blocks:>3} hit {r.hit_blocks:>3} "
                    f"input {tokens(r.input_chars):>6} cached {tokens(r.cached_chars):>6} "
                    f"({r.share:.0%})"
                )
        total, cached, written = report.totals()
        share = report.share()
        print(
            f"tasks 2..n: {tokens(cached)} of {tokens(total)} input tokens in a cached prefix "
            f"= {share:.1%} (goal >= {GOAL:.0%}: {'met' if share >= GOAL else 'NOT met'}); "
            f"{tokens(written)} written to cache"
        )
        print(f"whole run: {report.share(report.requests):.1%}")
        misses = explain(bodies, report)
        if misses:
            print("system-prefix misses:")
            print("\n".join(misses))
        Console(width=120).print(log_table(FEATURE, rows))
        return 0 if result.status == "finished" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", action="store_true", help="one line per request")
    args = parser.parse_args()
    raise SystemExit(run(args.requests))


if __name__ == "__main__":
    main()
