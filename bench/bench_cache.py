"""Prompt-cache share of the demo feature's run, measured on the wire.

    .venv/bin/python bench/bench_cache.py            # the 10-task demo, goal >= 85 %
    .venv/bin/python bench/bench_cache.py --requests # and one line per request
    .venv/bin/python bench/bench_cache.py --alternating 10 --doc-tokens 3000   # goal >= 90 %
    .venv/bin/python bench/bench_cache.py --alternating 10 --doc-tokens 30000  # goal >= 95 %
    .venv/bin/python bench/bench_cache.py --verify-seconds 60,240,400   # slow verifications
    .venv/bin/python bench/bench_cache.py --cache-ttl 1h --verify-seconds 60,240,400

The demo (examples/todo-api, 10 tasks, two agents) runs through the real AnthropicModel and
SDK against the loopback Messages API server, whose handler replays examples/todo-api.script.yaml
turn by turn (the cursor is the number of assistant messages in the request, as ScriptedModel
counts). So the requests are byte for byte what sdd would send to Claude. `--alternating N`
runs a generated FastAPI feature instead (bench/gen.py), whose N tasks alternate between the
backend agent and the generalist, with `--doc-tokens` of constitution, spec, plan and design
docs. The server answers
with the usage a prompt cache would report (tests/support/cache_share.py's model of it), so
`sdd log` shows cache reads and savings as a real run would; the figure itself is computed
afterwards from the recorded requests alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support

from gen import alternating_project
from rich.console import Console
from support.cache_share import CacheReport, PromptCache, blocks, measure, task_of, tokens
from support.messages_server import MessagesServer, Reply, message, text_block, tool_use_block

from orchestrator.agent.models.scripted import Script, estimate_tokens, load_script
from orchestrator.cli.demo import prepare_demo
from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter
from orchestrator.views.tables import cache_line, log_data, log_table

MODEL = "claude-sonnet-5-5"
FEATURE = "001-todo-api"
GOALS = {"demo": 0.85, "small": 0.90, "large": 0.95}


class ScriptReplay:
    """The Messages API handler: the script's next turn for the request's task, with usage."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.cache = PromptCache()
        self.started = time.monotonic()
        self.times: list[float] = []
        self.billed = {"input": 0, "write": 0, "write_1h": 0, "read": 0}
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
            written, hour = tokens(served.written_chars), tokens(served.written_1h_chars)
            usage: dict[str, Any] = {
                "input_tokens": tokens(rest),
                "output_tokens": estimate_tokens(content),
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": tokens(served.cached_chars),
                "cache_creation": {
                    "ephemeral_5m_input_tokens": written - hour,
                    "ephemeral_1h_input_tokens": hour,
                },
            }
            self.billed["input"] += usage["input_tokens"]
            self.billed["write"] += written
            self.billed["write_1h"] += hour
            self.billed["read"] += usage["cache_read_input_tokens"]
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


def slow_verify(bodies: list[dict[str, Any]], times: list[float], seconds: float) -> str:
    """The same requests replayed as if each verification took `seconds`: every gap that holds
    one (a task's first request, or an attempt's after feedback) is stretched to it. Input
    read and written, each breakpoint at the TTL it asked for, and what it costs in units of
    the input price (writes 1.25x for 5 minutes, 2x for an hour; reads 0.1x)."""
    stretched, shift = [], 0.0
    for k, body in enumerate(bodies):
        last = body["messages"][-1]["content"]
        text = last if isinstance(last, str) else " ".join(b.get("text", "") for b in last)
        verified = k > 0 and (len(body["messages"]) == 1 or "Verification failed" in text)
        if verified:
            shift += seconds
        stretched.append(times[k] + shift)
    report = measure(bodies, stretched)
    total, cached, written = report.totals(report.requests)
    hour = tokens(report.written_1h(report.requests))
    rest = total - cached - written
    units = tokens(rest) + 1.25 * (tokens(written) - hour) + 2 * hour + 0.1 * tokens(cached)
    return (
        f"  {seconds:>5.0f} s: {report.share(report.requests):.1%} read, {tokens(written)} "
        f"tokens written ({hour} for an hour); input cost {units / tokens(total):.3f}x uncached"
    )


def run(
    show_requests: bool,
    alternating: int,
    doc_tokens: int,
    verify_seconds: list[float],
    cache_ttl: str,
) -> int:
    with tempfile.TemporaryDirectory(prefix="sdd-bench-cache-") as tmp:
        feature, goal = FEATURE, GOALS["demo"]
        if alternating:
            root = Path(tmp) / "repo"
            script_path = alternating_project(root, alternating, doc_tokens)
            feature, goal = "001-alternating", GOALS["large" if doc_tokens >= 20_000 else "small"]
        else:
            root, script_path = prepare_demo(Path(tmp) / "todo-api")
        if cache_ttl != "5m":
            config = root / ".specify" / "sdd.yaml"
            config.write_text(config.read_text() + f"cache_ttl: {cache_ttl}\n")
            subprocess.run(["git", "-C", str(root), "commit", "-qam", "cache_ttl"], check=True)
        replay = ScriptReplay(load_script(script_path))
        with MessagesServer(handler=replay) as server:
            os.environ["ANTHROPIC_BASE_URL"] = server.url
            os.environ["ANTHROPIC_API_KEY"] = "sk-bench-loopback"
            session = open_run(
                root,
                root / "specs" / feature,
                RunOptions(model=MODEL),
                Reporter(Console(quiet=True)),
            )
            try:
                result = run_session(session)
                price = session.plan.config.price(session.run.model)
                records = session.store.tasks(feature)
                rows = log_data(records, session.plan.graph.order, price)
                agents = [records[t].agent for t in session.plan.graph.order if t in records]
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
            f"= {share:.1%} (goal >= {goal:.0%}: {'met' if share >= goal else 'NOT met'}); "
            f"{tokens(written)} written to cache"
        )
        print(f"whole run: {report.share(report.requests):.1%}")
        print("agents in task order: " + " ".join(a[:3] for a in agents))
        logged = {
            "input": sum(r["input_tokens"] for r in rows),
            "write": sum(r["cache_write_tokens"] for r in rows),
            "write_1h": sum(r["cache_write_1h_tokens"] for r in rows),
            "read": sum(r["cache_read_tokens"] for r in rows),
        }
        same = "equal" if logged == replay.billed else "DIFFERENT"
        print(f"billed by the server {replay.billed}; sdd log --json {logged}: {same}")
        print(f"sdd log: {cache_line(rows)}")
        if verify_seconds:
            print(f"replayed with slow verifications (cache_ttl: {cache_ttl}):")
            for seconds in verify_seconds:
                print(slow_verify(bodies, replay.times, seconds))
        misses = explain(bodies, report)
        if misses:
            print("system-prefix misses:")
            print("\n".join(misses))
        Console(width=120).print(log_table(feature, rows))
        return 0 if result.status == "finished" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", action="store_true", help="one line per request")
    parser.add_argument("--alternating", type=int, default=0, metavar="N",
                        help="a generated feature of N tasks alternating two agents")  # fmt: skip
    parser.add_argument("--doc-tokens", type=int, default=3000, help="its documents' size")
    parser.add_argument("--verify-seconds", default="", metavar="S[,S...]",
                        help="replay as if each verification took this long")  # fmt: skip
    parser.add_argument("--cache-ttl", choices=("5m", "1h"), default="5m",
                        help="the run's cache_ttl")  # fmt: skip
    args = parser.parse_args()
    seconds = [float(x) for x in args.verify_seconds.split(",") if x.strip()]
    raise SystemExit(run(args.requests, args.alternating, args.doc_tokens, seconds, args.cache_ttl))


if __name__ == "__main__":
    main()
