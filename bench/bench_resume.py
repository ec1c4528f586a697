"""What a kill -9 costs: model requests a resume repeats, commits it lands, the journal's size.

A 6-task feature whose tasks take 5-10 model turns each (Write, Edit, Read, Grep and Bash
calls, then a summary; seeded), run by real `sdd` processes over the anthropic SDK against
the loopback Messages API server, which counts every request. One uninterrupted run gives
the reference: its requests and the tree of each commit. Then each trial starts the same
run, kills its process group with SIGKILL at a random moment, and resumes until the run
finishes; it reports the requests beyond the reference (the goal: at most 1 per resume) and
whether the same commits landed (by Sdd-Task trailer and tree). Also: the journal's bytes
per turn (its steps and the files their trees name) against the turn's own message bytes,
the same for Edits of one line in a large file, and how long reading a conversation back
takes with 1,000 turns stored.

With `--engine claude-code` each attempt is a real Claude Code session (the CLI the Agent SDK
bundles); each trial also says what the killed run's store held only as the session's
stream gave it (Claude Code had not written it yet), and the storage figure is the task's
Claude Code steps (mirrored entries and stream copies) over its turns' message bytes.

    .venv/bin/python bench/bench_resume.py [--trials 20] [--latency 0.05] [--seed 7]
    .venv/bin/python bench/bench_resume.py --engine claude-code --trials 8
    .venv/bin/python bench/bench_resume.py --engine claude-code --on-request --trials 8

`--on-request` kills at the moment a random request reaches the server (before it is
answered) instead of at a random time: the point where the turn before it is most likely
not yet written.
    .venv/bin/python bench/bench_resume.py --kills-only    # an older commit (no journal)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support

import resume_claude
import resume_store
from support.messages_server import MessagesServer, Reply, message, text_block, tool_use_block

ROOT = Path(__file__).resolve().parents[1]
FEATURE = "001-resume"
IDS = [f"T00{k}" for k in range(1, 7)]
MODEL = "claude-sonnet-4-5"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def script(seed: int) -> dict[str, list[list[dict[str, Any]]]]:
    """Each task's turns: tool calls on its own files, then a closing summary."""
    rng = random.Random(seed)
    turns: dict[str, list[list[dict[str, Any]]]] = {}
    for tid in IDS:
        name = f"src/{tid.lower()}.txt"
        steps: list[list[dict[str, Any]]] = [[write(name, f"{tid} start\n")]]
        for k in range(rng.randint(3, 8)):
            kind = rng.choice(["Edit", "Read", "Bash", "Grep", "Write"])
            if kind in ("Edit", "Write"):  # an Edit comes after a Write, in the same turn
                turn = [write(name, f"{tid} v{k}\n")]
                if kind == "Edit":
                    edit = {"file_path": name, "old_string": f"v{k}", "new_string": f"v{k + 1}"}
                    turn.append({"name": "Edit", "input": edit})
                steps.append(turn)
            elif kind == "Read":
                steps.append([{"name": "Read", "input": {"file_path": name}}])
            elif kind == "Grep":
                steps.append([{"name": "Grep", "input": {"pattern": tid, "path": "src"}}])
            else:
                steps.append([{"name": "Bash", "input": {"command": f"wc -c {name}"}}])
        steps.append([{"type": "text", "text": f"{tid}: done."}])
        turns[tid] = steps
    return turns


def write(name: str, content: str) -> dict[str, Any]:
    return {"name": "Write", "input": {"file_path": name, "content": content}}


class Agent:
    """Answers each request with its task's next turn (the count of assistant messages)."""

    def __init__(self, turns: dict[str, list[list[dict[str, Any]]]], latency: float) -> None:
        self.turns, self.latency = turns, latency
        self.count = 0
        self.kill: tuple[int, int] | None = None  # (at this count, this process group)

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        self.count += 1
        if self.kill is not None and self.count == self.kill[0]:
            os.killpg(self.kill[1], signal.SIGKILL)
            self.kill = None
        time.sleep(self.latency)
        first = body["messages"][0]["content"]
        text = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
        task = next((t for t in IDS if f"# Task {t}" in text), None)
        if task is None:
            return message([text_block("Nothing to do.")], id=f"msg_{index:04d}")
        cursor = resume_claude.turns_of(body["messages"])
        steps = self.turns[task]
        blocks = steps[cursor] if cursor < len(steps) else [{"type": "text", "text": "Done."}]
        content = [
            tool_use_block(f"toolu_{index:04d}_{k}", b["name"], b["input"])
            if "name" in b
            else text_block(b["text"])
            for k, b in enumerate(blocks)
        ]
        tools = any("name" in b for b in blocks)
        # an id of its own: Claude Code joins streamed replies that share one
        return message(content, "tool_use" if tools else "end_turn", id=f"msg_{index:04d}")


def project(root: Path) -> None:
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n\nSmall.\n")
    (root / ".specify" / "sdd.yaml").write_text("verify: ['test -d src']\n")
    (feature / "spec.md").write_text("# Spec\n\nOne file per task.\n")
    (feature / "plan.md").write_text("# Plan\n\nPlain files under src/.\n")
    lines = ["# Tasks", "", "## Phase 1: Files", ""]
    lines += [f"- [ ] {t} Create src/{t.lower()}.txt" for t in IDS]
    (feature / "tasks.md").write_text("\n".join(lines) + "\n")
    (root / "src").mkdir()
    (root / "src" / ".keep").write_text("")
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "init")


def sdd(root: Path, url: str, engine: str, *args: str) -> subprocess.Popen[bytes]:
    if engine == "claude-code":
        env = resume_claude.env(url, root.parent / "home")
    else:
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-bench-key-0000"}
    env["PYTHONPATH"] = str(ROOT)
    argv = [sys.executable, "-m", "orchestrator.cli", *args, "001", "--model", MODEL]
    argv += ["--engine", engine]
    out = open(root.parent / "sdd.log", "ab")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(
        argv,
        cwd=root,
        env=env,
        stdout=out,
        stderr=out,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def landed(root: Path) -> list[tuple[str, str]]:
    """(task, tree) of each landed commit, oldest first."""
    out = git(root, "log", "--reverse", "--format=%T %(trailers:key=Sdd-Task,valueonly)")
    return [(p[1], p[0]) for p in (line.split() for line in out.splitlines()) if len(p) == 2]


def run_once(
    url: str,
    agent: Agent,
    tmp: Path,
    kill_at: float | None,
    engine: str,
    on_request: int | None = None,
) -> dict[str, Any]:
    root = tmp / "repo"
    project(root)
    before = agent.count
    started = time.monotonic()
    proc = sdd(root, url, engine, "run")
    resumes = 0
    streamed = (0, 0)
    if on_request is not None:
        agent.kill = (before + on_request, proc.pid)
        kill_at = 300.0
    if kill_at is not None:
        try:
            code = proc.wait(timeout=kill_at)
            if on_request is not None and code == -signal.SIGKILL:
                raise subprocess.TimeoutExpired(proc.args, kill_at)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            resumes = 1
            if engine == "claude-code":
                streamed = resume_claude.only_streamed(root)
            proc = sdd(root, url, engine, "resume")
    code = proc.wait(timeout=300)
    log = (tmp / "sdd.log").read_text(errors="replace")
    notes = [line.strip() for line in log.splitlines() if "starts over" in line]
    return {
        "notes": notes,
        "code": code,
        "requests": agent.count - before,
        "resumes": resumes,
        "streamed": streamed,
        "seconds": time.monotonic() - started,
        "landed": landed(root),
        "root": root,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kills-only", action="store_true", help="only the kills (any commit)")
    ap.add_argument("--engine", choices=("anthropic", "claude-code"), default="anthropic")
    ap.add_argument("--on-request", action="store_true", help="kill as a random request arrives")
    args = ap.parse_args()
    cc = args.engine == "claude-code"
    turns = script(args.seed)
    agent = Agent(turns, args.latency)
    rng = random.Random(args.seed)
    with MessagesServer(handler=agent) as server, tempfile.TemporaryDirectory() as t:
        ref = run_once(server.url, agent, Path(t) / "ref", None, args.engine)
        assert ref["code"] == 0, (ref["root"].parent / "sdd.log").read_text()
        print(
            f"reference: {ref['requests']} requests, {len(ref['landed'])} commits, "
            f"{ref['seconds']:.1f} s; turns per task "
            f"{[len(turns[t]) for t in IDS]}"
        )
        if cc:
            claude_storage(ref["root"])
        elif not args.kills_only:
            resume_store.storage_and_status(ref["root"], FEATURE)
        extra: list[int] = []
        same = kills = 0
        for k in range(args.trials):
            at = rng.uniform(0.5, ref["seconds"] * 0.85)
            nth = rng.randint(2, ref["requests"] - 1) if args.on_request else None
            got = run_once(server.url, agent, Path(t) / f"trial{k}", at, args.engine, nth)
            ok = got["code"] == 0 and [x[0] for x in got["landed"]] == IDS
            ok = ok and got["landed"] == ref["landed"]
            same += ok
            kills += got["resumes"]
            over = got["requests"] - ref["requests"]
            extra.append(over)
            for note in got["notes"]:
                print(f"          {note}")
            turns, results = got["streamed"]
            only = f", only in the stream copy: {turns} turns, {results} results" if cc else ""
            when = f"request {nth:2d}" if nth is not None else f"{at:4.1f} s"
            print(
                f"trial {k + 1:2d}: kill at {when}, {got['resumes']} resume, "
                f"{got['requests']} requests ({over:+d}), same commits: {ok}{only}"
            )
        print(
            f"extra requests per resume: max {max(extra, default=0)}, total {sum(extra)} "
            f"over {kills} kills; same commits in {same}/{args.trials}"
        )
    if args.kills_only or cc:
        return
    message, steps, stored, whole = resume_store.big_edits()
    print(
        f"an Edit of one line in a 100 KB file: message {message:.0f} B per turn; stored "
        f"{stored:.0f} B ({stored / message:.2f}x), of which steps {steps:.0f} B "
        f"({steps / message:.2f}x); whole files would store {whole:.0f} B ({whole / message:.1f}x)"
    )
    resume_store.print_kept_after_landing()
    for n_turns in (0, 1000):
        print(
            f"reading a conversation back with {n_turns} other turns stored: "
            f"{resume_store.startup(n_turns) * 1000:.2f} ms"
        )
    plain, packed = (resume_store.replay_seconds(1000, packed) for packed in (False, True))
    print(
        f"reading back a conversation of 1,000 turns: {packed * 1000:.1f} ms "
        f"(stored as plain JSON: {plain * 1000:.1f} ms, {packed / plain:.2f}x)"
    )


def claude_storage(root: Path) -> None:
    got = resume_claude.storage(root)
    tasks = got["tasks"].values()
    ratios = [t["turns"] / t["message"] for t in tasks if t["message"]]
    if not ratios:
        print("Claude Code steps: none stored")
        return
    turns = sum(t["n"] for t in tasks)
    per_turn = sum(t["turns"] for t in tasks) / turns
    message = sum(t["message"] for t in tasks) / turns
    start = statistics.median(t["start"] for t in tasks)
    kinds = got["by_kind"]
    print(
        f"Claude Code steps: {turns} turns; per turn {per_turn:.0f} B stored for {message:.0f} B "
        f"of messages, stored/message per task: max {max(ratios):.2f}, median "
        f"{statistics.median(ratios):.2f}; a session's start {start / 1000:.1f} KB (median); "
        f"stream copies {kinds['said']} B, mirrored entries {kinds['session']} B in all"
    )


if __name__ == "__main__":
    main()
