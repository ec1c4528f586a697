"""`sdd route FEATURE TASK`: why one task goes to its agent, as data (--json) and as text:
every candidate with every signal behind its score, and what would change the choice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape

if TYPE_CHECKING:
    from orchestrator.plan.build import Plan

DECIDED = {
    "config": "a config route (decides outright)",
    "rules": "the scores below",
    "model": "routing: model, among close candidates",
}


def route_data(plan: Plan, task_id: str) -> dict[str, Any]:
    from orchestrator.plan.advice import CLOSE
    from orchestrator.views.tables import candidates_data

    r = plan.routes[task_id]
    task = plan.tasks[task_id]
    agent = plan.agents.agents[r.agent]
    return {
        "feature": plan.feature,
        "task": task_id,
        "description": task.description,
        "files": list(task.files),
        "phase": plan.tasklist.phases[task.phase].title,
        "agent": r.agent,
        "route_reason": r.reason,
        "routed_by": r.by,
        "model": agent.model or "inherit",
        "tools": list(agent.tools) if agent.tools is not None else None,
        "margin": r.margin,
        "close": r.by == "rules" and (not r.claimed or r.margin < CLOSE),
        "stack": list(plan.stack.techs),
        "candidates": candidates_data(r),
        "changes": changes(plan, task_id),
    }


def changes(plan: Plan, task_id: str) -> list[str]:
    """What a person could do to send the task elsewhere, in the order they would try it."""
    from orchestrator.plan.advice import CLOSE

    r = plan.routes[task_id]
    task = plan.tasks[task_id]
    out: list[str] = []
    if r.by == "config":
        out.append("remove or reorder the matching route in .specify/sdd.yaml: it decides alone")
    elif len(r.candidates) > 1:
        second = r.candidates[1]
        behind = round(r.candidates[0].score - second.score, 3)
        out.append(
            f"{second.agent} is {behind:g} behind: words of its description in the task, "
            "or the task's files in its folders, would close the gap"
        )
    target = task.files[0] if task.files else None
    where = f"glob: '{_folder(target)}'" if target else f"keyword: '{_keyword(task.description)}'"
    out.append(f"a config route decides outright: routes: [{{agent: NAME, {where}}}]")
    if target:
        out.append(f"an agent's front matter `sdd: {{paths: ['{_folder(target)}']}}` adds +6")
    close = r.by == "rules" and (not r.claimed or r.margin < CLOSE)
    if close and plan.config.routing == "rules":
        out.append("routing: model in .specify/sdd.yaml lets a small model settle close calls")
    return out


def route_lines(data: dict[str, Any]) -> list[str]:
    from orchestrator.views.tables import tools_text

    tools = tools_text(data["tools"])
    files = f" ({', '.join(data['files'])})" if data["files"] else ""
    stack = ", ".join(data["stack"]) or "not stated"
    lines = [
        f"[bold]{data['task']}[/bold] {escape(data['description'])}{escape(files)}",
        f"  phase: {escape(data['phase'])}; stack: {escape(stack)}",
        f"→ [bold]{data['agent']}[/bold] (model {escape(data['model'])}, {escape(tools)})",
        f"  why: {escape(data['route_reason'])}",
        f"  decided by {DECIDED[data['routed_by']]}" + (" — a close call" if data["close"] else ""),
        "",
        "candidates, best first:",
    ]
    for c in data["candidates"]:
        lines.append(f"  [bold]{c['agent']}[/bold]  {c['score']:g}")
        for s in sorted(c["signals"], key=lambda s: -abs(s["weight"])):
            weight = f"{s['weight']:+.2f}" if s["weight"] else "     "
            lines.append(f"    {weight}  {s['kind']:<11} {escape(s['detail'])}")
    lines += ["", "what would change it:"]
    lines += [f"  - {escape(c)}" for c in data["changes"]]
    return lines


def _folder(path: str) -> str:
    head = path.rstrip("/").rsplit("/", 1)[0] if "/" in path.rstrip("/") else ""
    return f"{head}/**" if head else path


def _keyword(description: str) -> str:
    words = [w.strip(".,:;()`'\"") for w in description.split()]
    return max(words, key=len) if words else "word"
