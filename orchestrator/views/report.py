"""`sdd report`: one self-contained HTML file about a feature's run, for people to read.

No network and no server: CSS, JS and the graph (inline SVG) are in the file. Each task's
detail (diff, transcript) sits in its own `<script type="application/json">` that the page
parses only when the task is opened, so a 1,000-task report opens as fast as its table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from orchestrator import paths
from orchestrator.agent.budget import cache_summary, cost, spent
from orchestrator.agent.transcript import redact, secret_values
from orchestrator.config.model import Price
from orchestrator.errors import SddError
from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import Plan, make_plan
from orchestrator.store.open import open_records
from orchestrator.store.records import AttemptRecord, RunRecord, TaskKind, TaskRecord, TaskStatus
from orchestrator.views import graphs
from orchestrator.views.phase_checks import phase_checks_data
from orchestrator.views.report_page import render_html
from orchestrator.views.transcripts import clip, read_events

DIFF_LINES = 1500
NOT_FOUND = "commit not found"


def build_report(root: Path, feature_dir: Path, store_flag: str | None = None) -> dict[str, Any]:
    """Everything the page shows (plain data, plus the Graph for the legend); secrets redacted."""
    plan = make_plan(root, feature_dir)
    feature = plan.docs.name
    store = open_records(root, store_flag, plan.config.store)
    try:
        run = store.latest_run(feature) if store else None
        records = store.tasks(feature) if store and run else {}
        attempts = {tid: store.attempts(feature, tid) for tid in records} if store else {}
        checks = store.phase_checks(feature) if store and run else {}
        repo = GitRepo(root) if records else None
        commits, notes = _commits(repo, feature, records) if repo else ({}, {})
    finally:
        if store:
            store.close()
    secrets = secret_values()
    states = {tid: _state(plan, records.get(tid), tid, notes) for tid in plan.graph.order}
    graph = graphs.build(plan, states if run else None)
    waves = {n.id: n.wave for n in graph.nodes}
    price = plan.config.price(run.model) if run else None
    tasks, details = [], {}
    for task in plan.tasklist.tasks:
        rec, route = records.get(task.id), plan.routes[task.id]
        spent = _spent(rec, attempts.get(task.id, []), price)
        row = {
            "id": task.id,
            "description": task.description,
            "phase": graph.phases[task.phase],
            "wave": waves[task.id],
            "state": states[task.id],
            "agent": rec.agent if rec and rec.agent else route.agent,
            "route_reason": rec.route_reason if rec and rec.route_reason else route.reason,
            "attempts": rec.attempts if rec else 0,
            "commit": commits.get(task.id, ""),
            "note": notes.get(task.id, ""),
            "kind": str(rec.kind) if rec else "",
            "evidence": rec.evidence if rec else "",
            **spent,
            "verify_seconds": rec.verify_seconds if rec else 0.0,
        }
        tasks.append(row)
        sha = commits.get(task.id)
        diff = history.diff(repo, sha) if repo and sha else ""
        details[task.id] = row | {
            "files": list(task.files),
            "depends_on": list(plan.graph.deps(task.id)),
            "message": redact(rec.message, secrets) if rec else "",
            "diff": redact(clip(diff, DIFF_LINES, width=2000), secrets),
            "attempt_log": [
                {
                    "attempt": a.attempt,
                    "outcome": a.outcome,
                    "verify": redact(clip(a.verify_output, 60), secrets),
                    "events": _events(root, feature, task.id, a.attempt, secrets),
                }
                for a in attempts.get(task.id, [])
            ],
        }
    return {
        "feature": feature,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "run": _summary(plan, run, records) if run else None,
        "tasks": tasks,
        "phase_checks": [
            r | {"output": redact(clip(r["output"], 60), secrets)}
            for r in phase_checks_data(checks, plan.tasklist.phases)
        ],
        "details": details,
        "svg": graphs.to_svg(graph),
        "graph": graph,
    }


def _spent(
    rec: TaskRecord | None, attempts: list[AttemptRecord], price: Price | None
) -> dict[str, Any]:
    """A task's tokens, estimated cost, time and verdict (its last attempt's; a TDD task's
    tests landed red on purpose say `expected-red`)."""
    if rec is None:
        return {"tokens": {}, "cost": None, "seconds": 0.0, "verdict": ""}
    usage = spent([rec])
    verdict = str(attempts[-1].outcome) if attempts else ""
    if rec.kind == TaskKind.TDD_RED and rec.status == TaskStatus.LANDED:
        verdict = "expected-red"
    return {
        "tokens": {
            "input": usage.input_tokens,
            "cache_write": usage.cache_write_tokens,
            "cache_read": usage.cache_read_tokens,
            "output": usage.output_tokens,
        },
        "cost": None if price is None else round(cost(usage, price), 6),
        "seconds": rec.seconds,
        "verdict": verdict,
    }


def report_json(data: dict[str, Any]) -> dict[str, Any]:
    """`sdd report --json`: the data behind the page (each task's detail under its row)."""
    details = data["details"]
    return {
        "feature": data["feature"],
        "generated": data["generated"],
        "run": data["run"],
        "tasks": [details[t["id"]] for t in data["tasks"]],
        "phase_checks": data["phase_checks"],
    }


def _commits(
    repo: GitRepo, feature: str, records: dict[str, TaskRecord]
) -> tuple[dict[str, str], dict[str, str]]:
    """Landing commits on HEAD by trailer (one `git log`), and why a landed record has none."""
    commits = history.task_commits(repo, feature)
    notes: dict[str, str] = {}
    for tid, rec in records.items():
        landed = rec.status == TaskStatus.LANDED
        if landed and tid not in commits and rec.kind != TaskKind.ALREADY_LANDED:
            try:
                history.landed_commit(repo, feature, tid, rec.commit_sha)
            except SddError as exc:
                notes[tid] = str(exc)
    return commits, notes


def _state(plan: Plan, rec: TaskRecord | None, tid: str, notes: dict[str, str]) -> str:
    if tid in notes:
        return NOT_FOUND
    if rec:
        return rec.status
    return "landed" if plan.tasks[tid].done else "pending"


def _summary(plan: Plan, run: RunRecord, records: dict[str, TaskRecord]) -> dict[str, Any]:
    recs = list(records.values())
    usage = spent(recs)
    price = plan.config.price(run.model)
    cache = cache_summary(usage, price)
    counts = {s: sum(r.status == s for r in recs) for s in ("landed", "failed", "skipped")}
    return {
        "id": run.run_id,
        "status": run.status,
        "reason": run.reason,
        "model": run.model,
        **counts,
        "pending": len(plan.graph.order) - sum(counts.values()),
        "attempts": sum(r.attempts for r in recs),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost": None if price is None else round(cost(usage, price), 4),
        "cache_read_share": round(cache.read_share, 4),
        "cache_saving": None if price is None else round(cache.saving, 4),
        "wall_seconds": round(max(0.0, run.updated - run.started), 1),
        "task_seconds": round(sum(r.seconds for r in recs), 1),
        "verify_seconds": round(sum(r.verify_seconds for r in recs), 1),
    }


def _events(
    root: Path, feature: str, tid: str, attempt: int, secrets: list[str]
) -> list[dict[str, str]]:
    """One attempt's transcript as (kind, head, body) items, long texts shortened."""
    path = paths.transcript_file(root, feature, tid, attempt)
    if not path.is_file():
        return []
    return [{k: redact(v, secrets) for k, v in _item(event).items()} for event in read_events(path)]


def _item(event: dict[str, Any]) -> dict[str, str]:
    kind = str(event.get("type"))
    if kind == "user":
        return {"kind": "prompt", "head": "prompt", "body": clip(str(event.get("text")), 12)}
    if kind == "assistant":
        usage = event.get("usage") or {}
        texts = [b.get("text", "") for b in event.get("content") or [] if b.get("type") == "text"]
        head = f"model: {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out"
        if usage.get("cache_read_tokens"):
            head += f" ({usage['cache_read_tokens']} cache read)"
        return {"kind": "model", "head": head, "body": clip("\n\n".join(texts), 40)}
    if kind == "tool":
        args = json.dumps(event.get("input"), ensure_ascii=False)
        head = f"{event.get('name')} {clip(args, 1, width=200)}"
        failed = "error" if event.get("is_error") else "tool"
        return {"kind": failed, "head": head, "body": clip(str(event.get("result", "")), 16)}
    if kind == "verify":
        passed = "passed" if event.get("passed") else "failed"
        body = clip(str(event.get("output", "")), 30)
        said = "could not run" if event.get("unverifiable") else passed
        return {"kind": f"verify-{passed}", "head": f"verification {said}", "body": body}
    if kind == "outcome":
        return {"kind": "outcome", "head": f"outcome: {event.get('outcome')}", "body": ""}
    return {"kind": "other", "head": kind, "body": clip(json.dumps(event), 6)}


def write_report(root: Path, feature_dir: Path, out: Path, store: str | None = None) -> Path:
    """Build and write the report; the path written."""
    html = render_html(build_report(root, feature_dir, store))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
