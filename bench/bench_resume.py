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
import json
import os
import random
import shutil
import signal
import sqlite3
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


def journal_size(root: Path) -> tuple[list[float], int]:
    """Each turn's stored bytes (its steps' rows, and the rows of the files its steps' trees
    name first) over its message bytes, and the turns."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    rows = db.execute(
        "SELECT task_id, convo, seq, kind, data FROM sdd_turns ORDER BY task_id, convo, seq"
    ).fetchall()
    has_blobs = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sdd_blobs'").fetchone()
    blobs = {
        (task, digest): len(task) + len(digest) + len(parent) + len(data)
        for task, digest, parent, data in (
            db.execute("SELECT task_id, digest, parent, data FROM sdd_blobs") if has_blobs else []
        )
    }
    ratios: list[float] = []
    stored = message = 0
    for task, convo, seq, kind, data in rows:
        row = len(task) + len(kind) + len(data) + 8 + len(str(convo)) + len(str(seq))
        for digest in json.loads(data).get("tree", {}).values():
            row += blobs.pop((task, digest), 0)  # counted once, where first named
        if kind == "assistant":
            if message:
                ratios.append(stored / message)
            step = json.loads(data)
            stored, message = (
                row,
                len(json.dumps({"role": "assistant", "content": step["content"]})),
            )
        elif kind in ("call", "result") and message:
            stored += row
            if kind == "result":
                step = json.loads(data)
                block = {
                    "type": "tool_result",
                    "tool_use_id": step["id"],
                    "content": step["content"],
                    "is_error": step["is_error"],
                }
                message += len(json.dumps(block))
    if message:
        ratios.append(stored / message)
    return ratios, len(ratios)


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


def status_seconds(root: Path, other: Path) -> tuple[float, float]:
    """`sdd status --json` as a whole process in `root` and in `other`, taking turns so load
    from elsewhere falls on both alike: the median of 7 each."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times: dict[Path, list[float]] = {root: [], other: []}
    for _ in range(7):
        for where in (root, other):
            t = time.perf_counter()
            argv = [sys.executable, "-m", "orchestrator.cli", "status", "001", "--json"]
            subprocess.run(argv, cwd=where, env=env, check=True, capture_output=True)
            times[where].append(time.perf_counter() - t)
    return statistics.median(times[root]), statistics.median(times[other])


def stuff(root: Path, n_turns: int) -> None:
    """`n_turns` more stored turns (finished conversations of a task) in the run's store."""
    db = sqlite3.connect(root / ".sdd" / "state.sqlite")
    step = json.dumps(
        {
            "content": [{"type": "text", "text": "x" * 400}],
            "stop_reason": "end_turn",
            "usage": [1, 1, 0, 0],
        }
    )
    db.executemany(
        "INSERT INTO sdd_turns (feature, task_id, convo, seq, kind, data) VALUES (?,?,?,?,?,?)",
        [(FEATURE, "T001", 100 + k // 10, k % 10, "assistant", step) for k in range(n_turns)],
    )
    db.commit()
    db.close()


def startup(n_turns: int) -> float:
    """Reading one conversation back (store query + JSON) with `n_turns` other turns stored."""
    from orchestrator.agent.journal import replay
    from orchestrator.run.journal import open_conversation
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        content = [
            {"type": "text", "text": "x" * 200},
            {"type": "tool_use", "id": "t", "name": "Read", "input": {"file_path": "a"}},
        ]
        usage = [1, 1, 0, 0]
        for k in range(n_turns):  # other tasks' finished conversations
            task = f"T{k // 10:04d}"
            store.add_step(
                FEATURE,
                task,
                1,
                2 * (k % 10),
                "assistant",
                json.dumps({"content": content, "stop_reason": "tool_use", "usage": usage}),
            )
            store.add_step(
                FEATURE,
                task,
                1,
                2 * (k % 10) + 1,
                "result",
                json.dumps({"id": "t", "content": "y" * 300, "is_error": False}),
            )
        store.add_step(FEATURE, "T9999", 1, 0, "begin", json.dumps({"base": "abc"}))
        store.add_step(FEATURE, "T9999", 1, 1, "attempt", json.dumps({"n": 1, "first": "go"}))
        times = []
        for _ in range(20):
            t = time.perf_counter()
            found = open_conversation(store, FEATURE, "T9999")
            assert found is not None
            replay(found.steps, "go")
            times.append(time.perf_counter() - t)
        store.close()
        return statistics.median(times)


def replay_seconds(n_turns: int) -> float:
    """Reading back and replaying one conversation of `n_turns` turns."""
    from orchestrator.agent.journal import replay
    from orchestrator.run.journal import open_conversation
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        store.add_step(FEATURE, "T1", 1, 0, "begin", json.dumps({"base": "abc"}))
        store.add_step(FEATURE, "T1", 1, 1, "attempt", json.dumps({"n": 1, "first": "go"}))
        for k in range(n_turns):
            call = {"type": "tool_use", "id": f"t{k}", "name": "Read", "input": {"file_path": "a"}}
            store.add_step(
                FEATURE,
                "T1",
                1,
                2 + 2 * k,
                "assistant",
                json.dumps({"content": [call], "stop_reason": "tool_use", "usage": [1, 1, 0, 0]}),
            )
            store.add_step(
                FEATURE,
                "T1",
                1,
                3 + 2 * k,
                "result",
                json.dumps({"id": f"t{k}", "content": "y" * 300, "is_error": False}),
            )
        t = time.perf_counter()
        found = open_conversation(store, FEATURE, "T1")
        assert found is not None
        assert replay(found.steps, "go").turns == n_turns
        took = time.perf_counter() - t
        store.close()
        return took


def big_edits(edits: int = 10, lines: int = 2_500) -> tuple[float, float, float, float]:
    """Edits of one line each in a ~100 KB file, through the journal into a SQLite store;
    bytes per turn: the messages, the steps alone, the steps and the kept files, and the steps
    with each step's file kept compressed whole instead of as its change."""
    import zlib

    from orchestrator.git.repo import GitRepo
    from orchestrator.run.journal import StoreJournal
    from orchestrator.run.workspace import Workspace
    from orchestrator.store.sqlite import SqliteBackend
    from orchestrator.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        big = root / "module.py"
        body = (f"def f{k}(x):\n    return x * {k} + {k % 7}\n" for k in range(lines))
        big.write_text("".join(body))
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "init")
        store = Store(SqliteBackend(Path(tmp) / "state.sqlite"))
        ws = Workspace(root, GitRepo(root), "tasks.md")
        journal = StoreJournal(store, FEATURE, "T1", ws, GitRepo(root).head(), ())
        message = whole = 0
        for k in range(edits):
            old, new = f"return x * {k * 200} +", f"return x * {k * 200} - 1 +"
            edit = {"file_path": "module.py", "old_string": old, "new_string": new}
            call = {"type": "tool_use", "id": f"t{k}", "name": "Edit", "input": edit}
            turn = {"content": [call], "stop_reason": "tool_use", "usage": [1, 1, 0, 0]}
            journal.add("assistant", turn)
            journal.add("call", {"id": f"t{k}"})
            big.write_text(big.read_text().replace(old, new, 1))
            result = {"id": f"t{k}", "content": "Edited module.py.", "is_error": False}
            journal.add("result", {**result, "wrote": True})
            block = {"type": "tool_result", "tool_use_id": f"t{k}", **result}
            block.pop("id")
            message += len(json.dumps({"role": "assistant", "content": [call]}))
            message += len(json.dumps(block))
            whole += len(zlib.compress(big.read_bytes(), 6))
        store.close()
        db = sqlite3.connect(Path(tmp) / "state.sqlite")
        rows = db.execute("SELECT task_id, kind, data FROM sdd_turns WHERE kind != 'begin'")
        steps = sum(len(d) + len(t) + len(k) + 8 for t, k, d in rows)
        kept = db.execute("SELECT task_id, digest, parent, data FROM sdd_blobs")
        blobs = sum(len(t) + len(g) + len(p) + len(d) for t, g, p, d in kept)
        db.close()
        return message / edits, steps / edits, (steps + blobs) / edits, (steps + whole) / edits


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
            storage_and_status(ref["root"])
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
    message, steps, stored, whole = big_edits()
    print(
        f"an Edit of one line in a 100 KB file: message {message:.0f} B per turn; stored "
        f"{stored:.0f} B ({stored / message:.2f}x), of which steps {steps:.0f} B "
        f"({steps / message:.2f}x); whole files would store {whole:.0f} B ({whole / message:.1f}x)"
    )
    for n_turns in (0, 1000):
        print(
            f"reading a conversation back with {n_turns} other turns stored: "
            f"{startup(n_turns) * 1000:.2f} ms"
        )
    print(f"reading back a conversation of 1,000 turns: {replay_seconds(1000) * 1000:.1f} ms")


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


def storage_and_status(root: Path) -> None:
    ratios, n = journal_size(root)
    print(
        f"journal: {n} turns, stored/message bytes per turn: "
        f"max {max(ratios):.2f}, median {statistics.median(ratios):.2f}"
    )
    stuffed = root.parent / "stuffed" / "repo"
    shutil.copytree(root, stuffed, symlinks=True)
    stuff(stuffed, 1000)
    before, after = status_seconds(root, stuffed)
    print(f"sdd status --json: {before:.3f} s, with 1,000 more turns stored {after:.3f} s")


if __name__ == "__main__":
    main()
