"""The same scripted feature on both engines: per-task wall time, what each engine sends, and
the Claude Code engine's orchestration overhead as a ratio.

N tasks of three turns each (Write a file, Read it back, a closing summary) and `verify:
["true"]`, in-process, against the loopback Messages API server: the anthropic engine through
the anthropic SDK, the claude-code engine through the Agent SDK and the Claude Code CLI it
bundles. The server answers at once, so the figures are each engine's own cost. It has no
tokenizer: a request's input is counted as its JSON bytes / 4, which is what the figures
call tokens (the same estimate for both engines). `--prompts` also measures the first
request of a Claude Code session with sdd's prompt appended to Claude Code's (what the engine
does) and with sdd's prompt replacing it.

    .venv/bin/python bench/bench_engines.py [--tasks 6] [--prompts]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support

from support.claude_code import ScriptedAgent, claude_env, task_of, tool, write
from support.messages_server import MessagesServer, Reply, message, text_block

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

ROOT = Path(__file__).resolve().parents[1]
FEATURE = "001-bench"
MODEL = "claude-sonnet-5-5"
ENGINES = ("anthropic", "claude-code")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def project(root: Path, n: int) -> None:
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n\nSmall.\n")
    (root / ".specify" / "sdd.yaml").write_text("verify: ['true']\n")
    (feature / "spec.md").write_text("# Spec\n\nParts of a package.\n")
    (feature / "plan.md").write_text("# Plan\n\nOne module per part.\n")
    lines = ["# Tasks", "", "## Phase 1: Parts", ""]
    lines += [f"- [ ] T{i:03d} Write part {i} in parts/p{i}.py" for i in range(1, n + 1)]
    (feature / "tasks.md").write_text("\n".join(lines) + "\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "spec")


def script(n: int) -> dict[str, list[list[dict[str, Any]]]]:
    turns = {}
    for i in range(1, n + 1):
        path = f"parts/p{i}.py"
        turns[f"T{i:03d}"] = [
            [write(path, f"PART = {i}\n")],
            [tool("Read", file_path=path)],
            [text_block(f"Part {i} written.")],
        ]
    return turns


class Sized:
    """The scripted agent, with each request's input counted as its JSON bytes / 4."""

    def __init__(self, agent: ScriptedAgent) -> None:
        self.agent = agent
        self.sent: list[tuple[str | None, int, dict[str, int]]] = []  # task, tokens, parts

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        reply = self.agent(body, index)
        parts = {k: len(json.dumps(body.get(k) or [])) for k in ("system", "tools", "messages")}
        tokens = sum(parts.values()) // 4
        assert not isinstance(reply, type) and hasattr(reply, "message")
        usage = {"input_tokens": tokens, "output_tokens": 50}
        usage |= {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        reply.message["usage"] = usage  # type: ignore[union-attr]
        self.sent.append((task_of(body), tokens, parts))
        return reply


def one(engine: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"sdd-engine-{engine}-") as tmp:
        root = Path(tmp) / "repo"
        project(root, n)
        sized = Sized(ScriptedAgent(script(n)))
        with MessagesServer(handler=sized) as server:
            saved = dict(os.environ)
            os.environ.update(claude_env(server.url, Path(tmp) / "home"))
            try:
                options = RunOptions(model=MODEL, engine=engine)
                t0 = time.perf_counter()
                ctx = open_run(root, root / "specs" / FEATURE, options, Reporter(quiet=True))
                opened = time.perf_counter() - t0
                try:
                    result = run_session(ctx)
                    records = ctx.store.tasks(FEATURE)
                finally:
                    ctx.close()
                wall = time.perf_counter() - t0
            finally:
                os.environ.clear()
                os.environ.update(saved)
        assert result.status == "finished", result.reason
        seconds = [r.seconds for r in records.values()]
        return {
            "wall": wall,
            "opened": opened,
            "task_median": statistics.median(seconds),
            "task_first": seconds[0],
            "requests": len(sized.sent),
            "tokens": sum(t for _, t, _ in sized.sent),
            "first": sized.sent[0][2],
        }


def prompt_sizes() -> None:
    """The first request of one Claude Code session: sdd's prompt appended, or replacing."""
    from claude_agent_sdk import ClaudeAgentOptions, query

    from orchestrator.agent.claude_code.options import QUIET, flag_settings

    sdd_prompt = (ROOT / "agents" / "generalist.md").read_text() + "\n# How sdd runs you\n..."
    variants: dict[str, Any] = {
        "append (the engine)": {"type": "preset", "preset": "claude_code", "append": sdd_prompt},
        "replace": sdd_prompt,
    }
    tools = ["Read", "Write", "Edit", "Glob", "Grep", "Bash"]
    for name, system in variants.items():
        seen: list[dict[str, Any]] = []

        def answer(body: dict[str, Any], index: int, seen: list[dict[str, Any]] = seen) -> Reply:
            seen.append(body)
            return message([text_block("ok")], id=f"msg_{index}")

        with tempfile.TemporaryDirectory() as tmp, MessagesServer(handler=answer) as server:
            env = claude_env(server.url, Path(tmp) / "home", **QUIET)
            opts = ClaudeAgentOptions(
                cwd=tmp,
                env=env,
                setting_sources=[],
                settings=flag_settings(),  # as the engine starts it: no auto-memory
                tools=tools,
                system_prompt=system,
                model=MODEL,
            )

            async def run(opts: ClaudeAgentOptions = opts) -> None:
                async for _ in query(prompt="# Task T001\n\nWrite part 1.", options=opts):
                    pass

            asyncio.run(run())
        body = seen[0]
        system_bytes = len(json.dumps(body["system"]))
        sdd_bytes = len(json.dumps(sdd_prompt))
        print(
            f"  {name:20} system {system_bytes:6d} B (of it sdd's {sdd_bytes} B), "
            f"tools {len(json.dumps(body['tools'])):6d} B, "
            f"messages {len(json.dumps(body['messages'])):5d} B"
        )


def session_phases(rounds: int = 5) -> None:
    """Where one Claude Code session's time goes: one tool turn and a closing one, started as
    the engine starts it (launcher, hooks, callback), through `_Sessions.run`."""
    from orchestrator.agent.claude_code.engine import open_engine
    from orchestrator.agent.engine import Job
    from orchestrator.agent.loop import Limits
    from orchestrator.agent.tools.toolbox import Toolbox
    from orchestrator.config.model import Config

    stamps: dict[str, list[float]] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "w"
            work.mkdir()
            git(work, "init", "-q")
            agent = ScriptedAgent({"T001": script(1)["T001"][::2]})  # Write, then the summary
            seen: list[float] = []

            def answer(
                body: dict[str, Any], index: int, seen: list[float] = seen, agent: Any = agent
            ) -> Reply:
                seen.append(time.perf_counter())
                return agent(body, index)

            with MessagesServer(handler=answer) as server:
                env = claude_env(server.url, Path(tmp) / "home")
                engine = open_engine(MODEL, root=work, config=Config(), env=env)
                task, box = "# Task T001\n\nWrite part 1.", Toolbox(work)
                job = Job("T001", work, MODEL, [], task, Limits(), False, box)
                job = dataclasses.replace(job, env={**os.environ, **env})
                hooks = _Quiet(Path(tmp) / "t.jsonl")
                t0 = time.perf_counter()
                engine.run_task(job, hooks)
                end = hooks.done - t0
        for name, value in (
            ("start to first request", seen[0] - t0),
            ("between the two requests (a Write)", seen[1] - seen[0]),
            ("last request to the attempt's end", end - (seen[1] - t0)),
            ("whole attempt", end),
        ):
            stamps.setdefault(name, []).append(value)
    for name, values in stamps.items():
        print(f"  {name:36} median {statistics.median(values):.3f} s")


class _Passed:
    passed, output, unverifiable = True, "", False


class _Quiet:
    """Hooks for a session alone: nothing to verify, nothing to record."""

    def __init__(self, path: Path) -> None:
        self.path, self.done = path, 0.0

    def before_call(self) -> None: ...

    def on_turn(self, attempt: int, usage: Any) -> None: ...

    def changed_files(self) -> list[str]:
        return ["parts/p1.py"]

    def verify(self, changed: list[str]) -> Any:
        return _Passed()

    def transcript(self, attempt: int) -> Any:
        from orchestrator.agent.transcript import Transcript

        return Transcript(self.path, [])

    def attempt_done(self, report: Any) -> None:
        self.done = time.perf_counter()


def warm() -> None:
    """Import both engines' libraries first, so neither run pays for them."""
    import anthropic  # noqa: F401
    import claude_agent_sdk  # noqa: F401
    import langgraph.graph  # noqa: F401


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", type=int, default=6)
    ap.add_argument("--prompts", action="store_true")
    args = ap.parse_args()
    warm()
    print(f"{args.tasks} tasks x 3 turns, verify true, load {os.getloadavg()[0]:.2f}")
    runs = {engine: one(engine, args.tasks) for engine in ENGINES}
    for engine, r in runs.items():
        first = r["first"]
        print(
            f"  {engine:12} wall {r['wall']:6.2f} s (open {r['opened']:.2f} s), "
            f"per task median {r['task_median']:.2f} s (first {r['task_first']:.2f} s), "
            f"{r['requests']} requests, ~{r['tokens'] / args.tasks:,.0f} input tokens/task; "
            f"first request: system {first['system']} B, tools {first['tools']} B, "
            f"messages {first['messages']} B"
        )
    a, c = runs["anthropic"], runs["claude-code"]
    print(
        f"claude-code / anthropic: per task {c['task_median'] / a['task_median']:.2f}x "
        f"(+{c['task_median'] - a['task_median']:.2f} s), wall {c['wall'] / a['wall']:.2f}x, "
        f"input tokens {c['tokens'] / a['tokens']:.2f}x"
    )
    if args.prompts:
        print("first request of a Claude Code session, by system prompt:")
        prompt_sizes()
        print("one Claude Code session of two calls, as the engine runs it (median of 5):")
        session_phases()


if __name__ == "__main__":
    main()
