"""`sdd report`: one self-contained HTML file about a feature's run, for people to read.

No network and no server: CSS, JS and the graph (inline SVG) are in the file. Each task's
detail (diff, transcript) sits in its own `<script type="application/json">` that the page
parses only when the task is opened, so a 1,000-task report opens as fast as its table.
"""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any

from orchestrator import graphview
from orchestrator.budget import cost
from orchestrator.errors import SddError
from orchestrator.gitrepo import GitRepo
from orchestrator.inspection import clip, landed_commit, transcript_dir
from orchestrator.model import Usage
from orchestrator.planning import Plan, make_plan
from orchestrator.store import Store, TaskRecord
from orchestrator.stores import open_records
from orchestrator.transcript import redact, secret_values

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
        repo = GitRepo(root) if records else None
        commits, notes = _commits(repo, store, feature, records) if repo else ({}, {})
    finally:
        if store:
            store.close()
    secrets = secret_values()
    states = {tid: _state(plan, records.get(tid), tid, notes) for tid in plan.graph.order}
    graph = graphview.build(plan, states if run else None)
    waves = {n.id: n.wave for n in graph.nodes}
    tasks, details = [], {}
    for task in plan.tasklist.tasks:
        rec, route = records.get(task.id), plan.routes[task.id]
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
        }
        tasks.append(row)
        sha = commits.get(task.id)
        diff = repo.diff(sha) if repo and sha else ""
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
        "details": details,
        "svg": graphview.to_svg(graph),
        "graph": graph,
    }


def _commits(
    repo: GitRepo, store: Store | None, feature: str, records: dict[str, TaskRecord]
) -> tuple[dict[str, str], dict[str, str]]:
    """Landing commits on HEAD by trailer (one `git log`), and why a landed record has none."""
    commits = repo.task_commits(feature)
    notes: dict[str, str] = {}
    for tid, rec in records.items():
        if rec.status == "landed" and tid not in commits and rec.kind != "already-landed":
            try:
                landed_commit(repo, store, feature, tid)
            except SddError as exc:
                notes[tid] = str(exc)
    return commits, notes


def _state(plan: Plan, rec: TaskRecord | None, tid: str, notes: dict[str, str]) -> str:
    if tid in notes:
        return NOT_FOUND
    if rec:
        return rec.status
    return "landed" if plan.tasks[tid].done else "pending"


def _summary(plan: Plan, run: Any, records: dict[str, TaskRecord]) -> dict[str, Any]:
    recs = list(records.values())
    usage = Usage(
        sum(r.input_tokens for r in recs),
        sum(r.output_tokens for r in recs),
        sum(r.cache_write_tokens for r in recs),
        sum(r.cache_read_tokens for r in recs),
    )
    price = plan.config.price(run.model)
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
        "wall_seconds": round(max(0.0, run.updated - run.started), 1),
        "task_seconds": round(sum(r.seconds for r in recs), 1),
    }


def _events(
    root: Path, feature: str, tid: str, attempt: int, secrets: list[str]
) -> list[dict[str, Any]]:
    """One attempt's transcript as (kind, head, body) items, long texts shortened."""
    path = transcript_dir(root, feature, tid) / f"attempt-{attempt}.jsonl"
    if not path.is_file():
        return []
    items = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:  # a crash mid-write leaves a torn last line
            event = {"type": "unreadable", "text": line}
        if isinstance(event, dict):
            items.append({k: redact(v, secrets) for k, v in _item(event).items()})
    return items


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
        return {"kind": f"verify-{passed}", "head": f"verification {passed}", "body": body}
    if kind == "outcome":
        return {"kind": "outcome", "head": f"outcome: {event.get('outcome')}", "body": ""}
    return {"kind": "other", "head": kind, "body": clip(json.dumps(event), 6)}


# ---------------------------------------------------------------- HTML


def _json_script(element_id: str, value: object) -> str:
    """JSON that cannot close its <script>: every `<` is written as \\u003c."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def _figures(run: dict[str, Any] | None, total: int) -> str:
    if run is None:
        return (
            '<p class="norun" id="no-run">No run yet for this feature: this report shows the '
            f"plan alone ({total} tasks). Start one with <code>sdd run</code>.</p>"
        )
    price = "n/a (no price for this model)" if run["cost"] is None else f"${run['cost']:.4f}"
    reason = f" ({run['reason']})" if run["reason"] else ""
    rows = [
        ("run", f"{run['id']}: {run['status']}{reason}"),
        ("model", run["model"]),
        ("tasks", f"{run['landed']} landed, {run['failed']} failed, {run['skipped']} skipped, "
                  f"{run['pending']} pending, of {total}"),
        ("attempts", str(run["attempts"])),
        ("tokens", f"{run['input_tokens']:,} in / {run['output_tokens']:,} out, "
                   f"{run['cache_read_tokens']:,} cache read, "
                   f"{run['cache_write_tokens']:,} cache write"),
        ("estimated cost", price),
        ("wall time", f"{run['wall_seconds']:.1f} s (tasks {run['task_seconds']:.1f} s)"),
    ]  # fmt: skip
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="figures" id="summary-figures">{cells}</dl>'


def _legend(graph: graphview.Graph) -> str:
    agents = "".join(
        f'<span class="chip" style="background:{graph.colour(a)}">{escape(a)}</span>'
        for a in graph.agents
    )
    states = "".join(
        f'<span class="chip" style="border:3px solid {c}">{escape(s)}</span>'
        for s, c in graphview.STATE_STROKE.items()
    )
    return f'<p class="legend">agents: {agents} &nbsp; states (border): {states}</p>'


def render_html(data: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr data-task="{escape(t["id"])}" class="st-{escape(t["state"].replace(" ", "-"))}">'
        f'<td><a href="#task-{escape(t["id"])}">{escape(t["id"])}</a></td>'
        f"<td>{t['wave']}</td><td>{escape(t['state'])}</td><td>{escape(t['agent'])}</td>"
        f"<td>{t['attempts'] or ''}</td><td><code>{escape(t['commit'][:10])}</code></td>"
        f"<td>{escape(graphview.short(t['description'], 110))}</td></tr>"
        for t in data["tasks"]
    )
    details = "\n".join(_json_script(f"task-data-{tid}", d) for tid, d in data["details"].items())
    title = f"sdd report: {data['feature']}"
    return _PAGE.format(
        title=escape(title),
        generated=escape(data["generated"]),
        figures=_figures(data["run"], len(data["tasks"])),
        legend=_legend(data["graph"]),
        svg=data["svg"],
        rows=rows,
        details=details,
        css=_CSS,
        js=_JS,
    )


def write_report(root: Path, feature_dir: Path, out: Path, store: str | None = None) -> Path:
    """Build and write the report; the path written."""
    html = render_html(build_report(root, feature_dir, store))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{css}</style></head>
<body><main>
<h1>{title}</h1><p class="sub">generated {generated}</p>
<section id="summary"><h2>Summary</h2>{figures}</section>
<section id="graph"><h2>Task graph</h2>{legend}<div class="scroll">{svg}</div></section>
<section id="tasks"><h2>Tasks</h2><table id="task-table"><thead><tr><th>task</th><th>wave</th>
<th>state</th><th>agent</th><th>attempts</th><th>commit</th><th>description</th></tr></thead>
<tbody>{rows}</tbody></table></section>
</main>
<aside id="detail" hidden></aside>
{details}
<script>{js}</script>
</body></html>
"""

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{padding:12px 24px;max-width:1500px}
h1{margin:4px 0;font-size:22px}h2{font-size:17px;margin:18px 0 6px}.sub{color:#666;margin:0}
.figures{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
.figures dt{font-weight:600;color:#444}.figures dd{margin:0}
.norun{background:#fff3cd;border:1px solid #e0c36b;padding:8px 12px;border-radius:6px}
.scroll{overflow:auto;max-height:70vh;border:1px solid #ddd;background:#fff;border-radius:6px}
.graph .band{fill:#f3f5f8;stroke:#d5d9e0;rx:8}.graph .band-title{font-weight:600;fill:#445}
.graph text{font-size:11px;fill:#111;pointer-events:none}.graph .nid{font-weight:700}
.graph .node{cursor:pointer}.graph .node:hover rect,.graph .node.sel rect{stroke:#000;
stroke-width:3}.graph .edge{stroke:#999;stroke-width:1}
.legend .chip{display:inline-block;padding:0 6px;margin:2px;border-radius:4px;font-size:12px;
border:1px solid #999}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
tr[data-task]{cursor:pointer}tr[data-task]:hover,tr.sel{background:#eef4ff}
.st-failed td:nth-child(3),.st-commit-not-found td:nth-child(3){color:#c62828;font-weight:600}
.st-landed td:nth-child(3){color:#2e7d32}
#detail{position:fixed;top:0;right:0;bottom:0;width:min(52vw,900px);overflow:auto;
background:#fff;border-left:2px solid #ccd;box-shadow:-4px 0 16px #0002;padding:10px 18px}
#detail .close{float:right;font-size:20px;text-decoration:none;color:#555}
#detail dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}
#detail dt{font-weight:600;color:#444}#detail dd{margin:0}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;margin:4px 0;
white-space:pre-wrap;word-break:break-word}
.diff span{display:block}.diff .add{background:#e6ffec;color:#116329}
.diff .del{background:#ffebe9;color:#82071e}.diff .hunk{color:#0550ae;background:#ddf4ff}
.diff .file{font-weight:700;color:#333}
.ev{border-left:4px solid #ccc;margin:6px 0;padding:0 8px}.ev h4{margin:2px 0;font-size:13px}
.ev.model{border-color:#0969da}.ev.tool{border-color:#bf8700}.ev.error{border-color:#c62828}
.ev.verify-passed{border-color:#2e7d32}.ev.verify-failed{border-color:#c62828}
.note{color:#c62828;font-weight:600}
"""

_JS = r"""
(function () {
  var panel = document.getElementById('detail');
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function diffView(text) {
    var pre = el('pre', 'diff');
    text.split('\n').forEach(function (line) {
      var c = /^(\+\+\+|---|diff |index |commit )/.test(line) ? 'file'
        : line[0] === '+' ? 'add' : line[0] === '-' ? 'del'
        : line.indexOf('@@') === 0 ? 'hunk' : '';
      pre.appendChild(el('span', c, line));
    });
    return pre;
  }
  function show(id) {
    var src = document.getElementById('task-data-' + id);
    if (!src) { panel.hidden = true; return; }
    var d = JSON.parse(src.textContent);
    panel.textContent = '';
    var close = el('a', 'close', '\u2715'); close.href = '#'; panel.appendChild(close);
    panel.appendChild(el('h2', null, d.id + ': ' + d.state));
    panel.appendChild(el('p', null, d.description));
    if (d.note) panel.appendChild(el('p', 'note', d.note));
    var dl = el('dl');
    [['agent', d.agent + ' (' + d.route_reason + ')'], ['phase', d.phase], ['wave', d.wave],
     ['depends on', d.depends_on.join(', ') || 'nothing'], ['files', d.files.join(', ')],
     ['attempts', d.attempts], ['commit', d.commit || '-'], ['summary', d.message]]
      .forEach(function (kv) {
        dl.appendChild(el('dt', null, kv[0]));
        dl.appendChild(el('dd', null, String(kv[1])));
      });
    panel.appendChild(dl);
    panel.appendChild(el('h3', null, 'Diff'));
    panel.appendChild(d.diff ? diffView(d.diff) : el('p', null, 'No commit to show.'));
    panel.appendChild(el('h3', null, 'Attempts'));
    if (!d.attempt_log.length) panel.appendChild(el('p', null, 'No attempts recorded.'));
    d.attempt_log.forEach(function (a) {
      panel.appendChild(el('h4', null, 'Attempt ' + a.attempt + ': ' + a.outcome));
      a.events.forEach(function (ev) {
        var box = el('div', 'ev ' + ev.kind);
        box.appendChild(el('h4', null, ev.head));
        if (ev.body) box.appendChild(el('pre', null, ev.body));
        panel.appendChild(box);
      });
      if (a.verify) {
        panel.appendChild(el('h4', null, 'Verification output'));
        panel.appendChild(el('pre', null, a.verify));
      }
    });
    panel.hidden = false;
    panel.dataset.task = d.id;
    document.querySelectorAll('.sel').forEach(function (n) { n.classList.remove('sel'); });
    document.querySelectorAll('[data-task="' + CSS.escape(d.id) + '"]').forEach(function (n) {
      if (n !== panel) n.classList.add('sel');
    });
  }
  function route() {
    var m = /^#task-(.+)$/.exec(location.hash);
    if (m) show(decodeURIComponent(m[1])); else panel.hidden = true;
  }
  document.addEventListener('click', function (e) {
    var n = e.target.closest('[data-task]');
    if (n && n !== panel && !panel.contains(n)) {
      location.hash = 'task-' + n.getAttribute('data-task');
    }
  });
  window.addEventListener('hashchange', route);
  route();
})();
"""
