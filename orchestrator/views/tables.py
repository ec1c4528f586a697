"""What the inspection commands show, as plain data first (for --json) and tables second."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from orchestrator.views.progress import duration_text, tokens_text

if TYPE_CHECKING:
    from orchestrator.config.model import Price
    from orchestrator.plan.build import Plan
    from orchestrator.plan.routing import Route
    from orchestrator.store.records import RunRecord, TaskRecord
    from orchestrator.verify.environment import Verification


def plan_data(
    plan: Plan, verification: Verification | None = None, phase: Verification | None = None
) -> dict[str, Any]:
    """`sdd plan --json`: depends_on holds every direct predecessor, explicit and derived;
    `verification` is how each task will be verified, and why; `phase`, the full set run at
    each phase's end (`verify: {task, phase}`), else None."""
    graph = plan.graph
    phases = plan.tasklist.phases
    tasks = []
    for t in plan.tasklist.tasks:
        ph = phases[t.phase]
        r = plan.routes[t.id]
        agent = plan.agents.agents[r.agent]
        tasks.append(
            {
                "id": t.id,
                "description": t.description,
                "done": t.done,
                "parallel": t.parallel,
                "story": t.story,
                "phase": {"index": ph.index, "number": ph.number, "title": ph.title},
                "files": list(t.files),
                "depends_on": list(graph.deps(t.id)),
                "agent": r.agent,
                "route_reason": r.reason,
                "line": t.line,
                "routed_by": r.by,
                "model": agent.model or "inherit",
                "tools": list(agent.tools) if agent.tools is not None else None,
                "candidates": candidates_data(r),
            }
        )
    done = {t.id for t in plan.tasklist.tasks if t.done}
    return {
        "feature": plan.docs.name,
        "tasks": tasks,
        "waves": graph.waves(done),
        "warnings": [*plan.tasklist.warnings, *graph.notes, *plan.notes],
        "verification": None if verification is None else verification_data(verification),
        "phase_verification": None if phase is None else verification_data(phase),
    }


def verification_data(v: Verification) -> dict[str, Any]:
    return {
        "commands": list(v.commands),
        "source": "config" if v.configured else "detected",
        "reason": v.reason,
        "environment": v.where,
        "warnings": list(v.warnings),
        "hints": list(v.hints),
    }


def plan_json(data: dict[str, Any]) -> str:
    """`sdd plan --json` as text: indented at the top, one line per task, so a 1,000-task plan
    with its candidates prints fast (the C encoder) and still greps and diffs by task."""
    import json

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = data[key]
        if isinstance(value, list) and value:
            items = [f"    {dump(item)}" for item in value]
            body = ",\n".join(items)
            lines.append(f"  {dump(key)}: [\n{body}\n  ]{comma}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    return "\n".join([*lines, "}"]) + "\n"


def candidates_data(r: Route) -> list[dict[str, Any]]:
    """Every agent considered for a task, best first, with the signals behind its score."""
    return [
        {
            "agent": c.agent,
            "score": c.score,
            "signals": [
                {"kind": s.kind, "detail": s.detail, "weight": s.weight} for s in c.signals
            ],
        }
        for c in r.candidates
    ]


def plan_table(data: dict[str, Any], width: int = 120) -> Table:
    """A file name never breaks (the description column is at least as wide as the longest
    one). Below 110 columns each task's dependencies and agent go under its description, and
    the route reasons stay in `sdd route` and `plan --json`."""
    table = Table(
        title=f"{data['feature']}: {len(data['tasks'])} tasks, {len(data['waves'])} waves"
    )
    narrow = width < 110
    longest = max((len(f) for t in data["tasks"] for f in t["files"]), default=0)
    table.add_column("wave", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("description", ratio=2, min_width=min(max(longest, 20), width - 22))
    if not narrow:
        table.add_column("after", max_width=12)
        table.add_column("agent: model, tools (why)", ratio=1)
    wave_of = {tid: i + 1 for i, wave in enumerate(data["waves"]) for tid in wave}
    for t in data["tasks"]:
        deps = ", ".join(t["depends_on"][:6]) + (" …" if len(t["depends_on"]) > 6 else "")
        flags = " [P]" if t["parallel"] else ""
        about = escape(short_text(t["description"], 140))
        if narrow:
            after = f"after {deps} " if deps else ""
            cells = [f"{about}\n[dim]{after}→ {escape(t['agent'])}[/dim]"]
        else:
            why = escape(t["route_reason"])
            cells = [
                about,
                deps,
                f"{escape(t['agent'])}: {escape(t['model'])}, {tools_text(t['tools'])}\n"
                f"[dim]({why})[/dim]",
            ]
        wave = "✓" if t["done"] else str(wave_of.get(t["id"], ""))
        table.add_row(wave, t["id"] + flags, *cells)
    return table


def short_text(text: str, limit: int) -> str:
    """At most `limit` characters, cut between words, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:") + "…"


def tools_text(tools: list[str] | None) -> str:
    from orchestrator.plan.agents import SDD_TOOLS

    if tools is None or set(tools) >= set(SDD_TOOLS):
        return "all tools"
    return ", ".join(tools) if tools else "no tools"


def saving_usd(r: TaskRecord, price: Price | None) -> float:
    """What the prompt cache saved a task over sending every input token uncached: reads at
    the cache-read price, less the premium paid for writing it (negative when it only wrote)."""
    from orchestrator.agent.budget import cache_summary, spent

    return round(cache_summary(spent([r]), price).saving, 8) if price is not None else 0.0


def cost_usd(r: TaskRecord, price: Price | None) -> float:
    """A task's estimated cost as billed (0 for unknown models and the scripted one)."""
    from orchestrator.agent.budget import cost, spent

    return round(cost(spent([r]), price), 8)


def cache_line(rows: list[dict[str, Any]]) -> str:
    """The prompt cache over these tasks in one line: the share of input read from it, the
    tokens written to it, the estimated cost and the saving over no caching."""
    read = sum(r["cache_read_tokens"] for r in rows)
    written = sum(r.get("cache_write_tokens", 0) for r in rows)
    total = read + written + sum(r["input_tokens"] for r in rows)
    cost = sum(r.get("cost_usd", 0.0) for r in rows)
    saved = sum(r.get("saving_usd", 0.0) for r in rows)
    share = f" ({read / total:.1%} of input)" if total else ""
    line = f"{read} tokens read from cache{share}, {written} written"
    if not cost:
        return f"{line}, ${saved:.4f} saved"
    return f"{line}; est. ${cost:.4f}, ${saved:.4f} saved against ${cost + saved:.4f} uncached"


def log_data(
    records: dict[str, TaskRecord], order: list[str], price: Price | None = None
) -> list[dict[str, Any]]:
    """`sdd log --json`: one entry per landed task, in task order; `price` is the run model's."""
    rank = {tid: i for i, tid in enumerate(order)}
    landed = [r for r in records.values() if r.status == "landed"]
    landed.sort(key=lambda r: rank.get(r.task_id, len(rank)))
    return [
        {
            "task": r.task_id,
            "commit": r.commit_sha,
            "agent": r.agent,
            "attempts": r.attempts,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "cache_write_tokens": r.cache_write_tokens,
            "cache_write_1h_tokens": r.cache_write_1h_tokens,
            "cache_read_tokens": r.cache_read_tokens,
            "saving_usd": saving_usd(r, price),
            "cost_usd": cost_usd(r, price),
            "seconds": r.seconds,
            "verify_seconds": r.verify_seconds,
            "kind": r.kind,
            "evidence": r.evidence,
        }
        for r in landed
    ]


def log_table(feature: str, rows: list[dict[str, Any]], width: int = 120) -> Table:
    """Figures never break; below 110 columns the agent (in `status` and `plan`) and the
    verification's time are left out, so what verified each task has room."""
    caption = cache_line(rows) if rows else None
    table = Table(title=f"{feature}: {len(rows)} landed", caption=caption)
    narrow = width < 110
    for col in ("task", "commit", *(() if narrow else ("agent",)), "tries", "tokens in/out"):
        table.add_column(col, no_wrap=True)
    # the verification's share of the time too where there is room (`--json` always has it)
    table.add_column("time" if narrow else "time (verify)", no_wrap=True, justify="right")
    table.add_column("verified by", ratio=1, min_width=20)
    for r in rows:
        kind = f"[dim]{r['kind']}:[/dim] " if r["kind"] in ("check", "tdd-red") else ""
        table.add_row(
            r["task"],
            r["commit"][:10],
            *(() if narrow else (r["agent"],)),
            str(r["attempts"]),
            f"{tokens_text(r['input_tokens'])}/{tokens_text(r['output_tokens'])}",
            duration_text(r["seconds"]) if narrow else _time(r),
            kind + escape(r.get("evidence", "")),
        )
    return table


def status_data(
    feature: str,
    run: RunRecord | None,
    records: dict[str, TaskRecord],
    order: list[str],
    done: set[str],
    price: Price | None = None,
    running: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """`sdd status --json`; `price` is the run model's, for the cache saving estimate;
    `running` the tokens so far of each running task's attempt in progress."""
    running = running or {}
    tasks = []
    for tid in order:
        r = records.get(tid)
        state = r.status if r else ("landed" if tid in done else "pending")
        if tid in done and state != "landed":
            state = "landed"
        tasks.append(
            {
                "task": tid,
                "state": state,
                "agent": r.agent if r else "",
                "attempts": r.attempts if r else 0,
                "commit": r.commit_sha if r else "",
                "input_tokens": r.input_tokens if r else 0,
                "output_tokens": r.output_tokens if r else 0,
                "cache_write_tokens": r.cache_write_tokens if r else 0,
                "cache_write_1h_tokens": r.cache_write_1h_tokens if r else 0,
                "cache_read_tokens": r.cache_read_tokens if r else 0,
                "saving_usd": (saving_usd(r, price) if r else 0.0),
                "cost_usd": cost_usd(r, price) if r else 0.0,
                "seconds": r.seconds if r else 0.0,
                "verify_seconds": r.verify_seconds if r else 0.0,
                "running_attempt": {"attempt": r.attempts, **running[tid]}
                if r and tid in running
                else None,
            }
        )
    return {
        "feature": feature,
        "run": None
        if run is None
        else {"id": run.run_id, "status": run.status, "reason": run.reason, "model": run.model},
        "tasks": tasks,
    }


def status_table(data: dict[str, Any], width: int = 120) -> Table:
    """Below 110 columns the time column is left out (`--json` has it)."""
    run = data["run"]
    head = "no run yet" if run is None else f"run {run['id']}: {run['status']}"
    if run and run["reason"]:
        head += f" ({run['reason']})"
    used = [t for t in data["tasks"] if t["attempts"]]
    caption = cache_line(used) if used else None
    table = Table(title=f"{data['feature']}: {escape(head)}", caption=caption)
    wide = width >= 110
    for col in ("task", "state", "agent", "tries", "commit", "tokens in/out"):
        table.add_column(col, no_wrap=True)
    if wide:
        table.add_column("time (verify)", no_wrap=True, justify="right")
    colours = {"landed": "green", "failed": "red", "running": "yellow"}
    for t in data["tasks"]:
        c = colours.get(t["state"], "white")
        table.add_row(
            t["task"],
            f"[{c}]{t['state']}[/{c}]",
            t["agent"],
            str(t["attempts"] or ""),
            t["commit"][:10],
            _tokens(t) if t["attempts"] else "",
            *((_time(t) if t["attempts"] else "",) if wide else ()),
        )
    return table


def _time(r: dict[str, Any]) -> str:
    """A task's time, and of it the verification's."""
    return f"{duration_text(r['seconds'])} ({duration_text(r.get('verify_seconds', 0.0))})"


def _tokens(t: dict[str, Any]) -> str:
    """Tokens in/out of the finished attempts, and of the one running (input counts what the
    cache wrote and served too)."""
    done = f"{tokens_text(t['input_tokens'])}/{tokens_text(t['output_tokens'])}"
    now = t.get("running_attempt")
    if not now:
        return done
    sent = now["input_tokens"] + now["cache_write_tokens"] + now["cache_read_tokens"]
    return f"{done} + {tokens_text(sent)}/{tokens_text(now['output_tokens'])} running"
