"""The report's page: one self-contained HTML file (CSS, JS and the SVG graph inline) from the
data `report.build_report` gathers. Pure formatting."""

from __future__ import annotations

import json
from html import escape
from pathlib import PurePath
from typing import Any

from orchestrator.views import graphs
from orchestrator.views.progress import duration_text, tokens_text


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
        ("model", _model(run["model"])),
        ("tasks", f"{run['landed']} landed, {run['failed']} failed, {run['skipped']} skipped, "
                  f"{run['pending']} pending, of {total}"),
        ("attempts", str(run["attempts"])),
        ("tokens", f"{run['input_tokens']:,} in / {run['output_tokens']:,} out, "
                   f"{run['cache_read_tokens']:,} cache read, "
                   f"{run['cache_write_tokens']:,} cache write"),
        ("prompt cache", f"{run['cache_read_share']:.1%} of input read from cache"
                         + ("" if run["cache_saving"] is None
                            else f", ${run['cache_saving']:.4f} saved against no caching")),
        ("estimated cost", price),
        ("wall time", f"{run['wall_seconds']:.1f} s (tasks {run['task_seconds']:.1f} s, "
                      f"verification {run['verify_seconds']:.1f} s)"),
    ]  # fmt: skip
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="figures" id="summary-figures">{cells}</dl>'


def _phase_checks(checks: list[dict[str, Any]]) -> str:
    """Each phase's full verification (`verify: phase`): result, time, what it found."""
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td>{escape(c['phase'])}</td><td>{escape(c['result'])}</td>"
        f"<td>{c['seconds']:.1f} s ({c['runs']} runs)</td><td>{escape(c['headline'])}"
        + (f"<pre>{escape(c['output'])}</pre>" if c["result"] == "failed" else "")
        + "</td></tr>"
        for c in checks
    )
    return (
        '<section id="phase-checks"><h2>Phase checks</h2><table><thead><tr><th>phase</th>'
        f"<th>result</th><th>time</th><th>what it found</th></tr></thead><tbody>{rows}</tbody>"
        "</table></section>\n"
    )


def _model(model: str) -> str:
    """A scripted model by its script's file name: the page is shared, the path is local."""
    if model.startswith("scripted:"):
        return f"scripted ({PurePath(model.removeprefix('scripted:')).name})"
    return model


def _legend(graph: graphs.Graph) -> str:
    agents = "".join(
        f'<span class="chip" style="background:{graph.colour(a)}">{escape(a)}</span>'
        for a in graph.agents
    )
    states = "".join(
        f'<span class="chip" style="border:3px solid {c}">{escape(s)}</span>'
        for s, c in graphs.STATE_STROKE.items()
    )
    return f'<p class="legend">agents: {agents} &nbsp; states (border): {states}</p>'


def _marker(kind: str) -> str:
    """A landed task that changed nothing (check) or landed its tests red on purpose."""
    label = {"check": "check", "tdd-red": "red as expected"}.get(kind)
    return f' <span class="marker {kind}">{label}</span>' if label else ""


def _spent(t: dict[str, Any]) -> str:
    """The tokens, cost and time cells: short figures, every kind of token on hover."""
    tokens = t.get("tokens") or {}
    if not tokens:
        return "<td></td><td></td><td></td>"
    full = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in tokens.items())
    short = f"{tokens_text(tokens['input'] + tokens['cache_write'] + tokens['cache_read'])} in"
    short += f" / {tokens_text(tokens['output'])} out"
    price = "" if t["cost"] is None else f"${t['cost']:.4f}"
    seconds = duration_text(t["seconds"]) if t["seconds"] else ""
    return f'<td title="{escape(full)}">{short}</td><td>{price}</td><td>{seconds}</td>'


def _verdict(t: dict[str, Any]) -> str:
    v = t.get("verdict", "")
    return f'<td class="verdict v-{escape(v)}">{escape(v)}</td>'


def render_html(data: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr data-task="{escape(t["id"])}" class="st-{escape(t["state"].replace(" ", "-"))}">'
        f'<td><a href="#task-{escape(t["id"])}">{escape(t["id"])}</a></td>'
        f"<td>{t['wave']}</td><td>{escape(t['state'])}{_marker(t.get('kind', ''))}</td>"
        f"{_verdict(t)}<td>{escape(t['agent'])}</td>"
        f"<td>{t['attempts'] or ''}</td>{_spent(t)}<td><code>{escape(t['commit'][:10])}</code></td>"
        f"<td>{escape(graphs.short(t['description'], 140))}</td></tr>"
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
        phases=_phase_checks(data.get("phase_checks", [])),
        details=details,
        css=_CSS,
        js=_JS,
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{css}</style></head>
<body><main>
<h1>{title}</h1><p class="sub">generated {generated}</p>
<section id="summary"><h2>Summary</h2>{figures}</section>
<section id="graph"><h2>Task graph</h2>{legend}<div class="scroll">{svg}</div></section>
<section id="tasks"><h2>Tasks</h2><table id="task-table"><thead><tr><th>task</th><th>wave</th>
<th>state</th><th>verdict</th><th>agent</th><th>attempts</th><th>tokens</th><th>cost</th>
<th>time</th><th>commit</th><th>description</th></tr></thead>
<tbody>{rows}</tbody></table></section>
{phases}</main>
<aside id="detail" hidden></aside>
{details}
<script>{js}</script>
</body></html>
"""

_CSS = """
body{font:14px/1.45 system-ui,sans-serif,"Noto Color Emoji","Apple Color Emoji",
"Segoe UI Emoji";margin:0;color:#1d1d1f;background:#fafafa}
main{padding:12px 24px;max-width:1500px}
h1{margin:4px 0;font-size:22px}h2{font-size:17px;margin:18px 0 6px}.sub{color:#666;margin:0}
.figures{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
.figures dt{font-weight:600;color:#444}.figures dd{margin:0}
.norun{background:#fff3cd;border:1px solid #e0c36b;padding:8px 12px;border-radius:6px}
.scroll{overflow-y:auto;overflow-x:hidden;max-height:70vh;border:1px solid #ddd;
background:#fff;border-radius:6px}.scroll svg{display:block;max-width:100%;height:auto}
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
.st-landed td:nth-child(3){color:#2e7d32}td:nth-child(4),td:nth-child(5),
td:nth-child(7),td:nth-child(8),td:nth-child(9){white-space:nowrap}.v-expected-red{color:#9a6700}.v-failed,.v-regression{color:#c62828}
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
.marker{font-size:.8em;padding:0 .4em;border-radius:3px;background:#eee}
.marker.tdd-red{background:#fff3cd}
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
     ['attempts', d.attempts], ['verdict', d.verdict || '-'],
     ['tokens', Object.keys(d.tokens).map(function (k) {
        return d.tokens[k].toLocaleString() + ' ' + k.replace('_', ' ');
      }).join(', ') || '-'],
     ['cost', d.cost == null ? '-' : '$' + d.cost.toFixed(4)], ['commit', d.commit || '-'],
     ['seconds', d.seconds.toFixed(1) + ' (verification ' + d.verify_seconds.toFixed(1) + ')'],
     ['verified by', d.evidence || '-'], ['summary', d.message]]
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
      var verified = false;
      a.events.forEach(function (ev) {
        var box = el('div', 'ev ' + ev.kind);
        box.appendChild(el('h4', null, ev.head));
        if (ev.body) box.appendChild(el('pre', null, ev.body));
        panel.appendChild(box);
        if (ev.kind.indexOf('verify-') === 0) verified = true;
      });
      if (a.verify && !verified) {  // shown once: the transcript's own verification if any
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
