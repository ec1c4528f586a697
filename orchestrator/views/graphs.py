"""The task graph as a picture: Mermaid and DOT text for `sdd plan`, inline SVG for the report.

Pure: a Plan (and optionally each task's run state) in, text out. Waves here are levels of the
whole graph (longest chain of dependencies), not the remaining waves of `sdd plan`, so a
finished run still shows the shape it ran in.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from html import escape as xml_escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from orchestrator.plan.build import Plan

PALETTE = (
    "#cfe2ff", "#d1f0d8", "#ffe5b4", "#f3d1f4", "#d7f3f7",
    "#fff3b0", "#e2d9f3", "#fbd5d5", "#dfe7c4", "#e6e6e6",
)  # fmt: skip
STATE_STROKE = {
    "landed": "#2e7d32",
    "failed": "#c62828",
    "skipped": "#ef6c00",
    "running": "#f9a825",
    "held": "#6a1b9a",
    "commit not found": "#6d4c41",
}
_MERMAID_ESC = {
    "#": "#35;", '"': "#quot;", "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;",
    "(": "#40;", ")": "#41;", "<": "#lt;", ">": "#gt;", "|": "#124;", "`": "#96;",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    description: str
    phase: int
    wave: int  # 1-based level in the whole graph
    agent: str
    state: str  # "" when there is no run


@dataclass(frozen=True, slots=True)
class Graph:
    feature: str
    phases: list[str]  # display titles, by phase index
    nodes: list[Node]  # file order
    edges: list[tuple[str, str]]  # (dependency, dependant), the graph's direct edges
    agents: list[str]  # sorted; an agent's colour is PALETTE[index % len]

    def colour(self, agent: str) -> str:
        return PALETTE[self.agents.index(agent) % len(PALETTE)]


def build(plan: Plan, states: Mapping[str, str] | None = None) -> Graph:
    """Nodes, direct edges and whole-graph waves; `states` maps task id -> run state."""
    graph = plan.graph
    deps = {tid: graph.deps(tid) for tid in graph.order}
    waves = _levels(graph.order, deps)
    phases = [
        " ".join(p for p in (f"Phase {ph.number}:" if ph.number else "", ph.title) if p)
        or f"Phase {ph.index + 1}"
        for ph in plan.tasklist.phases
    ]
    nodes = [
        Node(
            t.id,
            t.description,
            t.phase,
            waves[t.id],
            plan.routes[t.id].agent,
            (states or {}).get(t.id, ""),
        )
        for t in plan.tasklist.tasks
    ]
    edges = [(d, tid) for tid in graph.order for d in deps[tid]]
    return Graph(plan.docs.name, phases, nodes, edges, sorted({n.agent for n in nodes}))


def _levels(order: list[str], deps: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """1 + the longest chain of dependencies below each task (iterative: 1,000-task chains)."""
    level: dict[str, int] = {}
    for root in order:
        stack = [root]
        while stack:
            tid = stack[-1]
            if tid in level:
                stack.pop()
                continue
            missing = [d for d in deps[tid] if d not in level]
            if missing:
                stack.extend(missing)
                continue
            level[tid] = 1 + max((level[d] for d in deps[tid]), default=0)
            stack.pop()
    return level


def short(text: str, width: int = 40) -> str:
    """At most `width` characters on one line, cut between words (inside a word only when
    the last half holds no space), with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    head = text[: width - 1]
    if " " in head[width // 2 :]:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "…"


def _class_name(prefix: str, value: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", value)


# ---------------------------------------------------------------- Mermaid


def mermaid_text(label: str) -> str:
    """A label safe inside Mermaid's `["…"]`: brackets and quotes become entity codes."""
    text = " ".join(label.split())
    return "".join(_MERMAID_ESC.get(c, c) for c in text)


def to_mermaid(g: Graph) -> str:
    """`flowchart TD`, one subgraph per phase, fill by agent, border by state.

    Task ids (`T\\d{3,}[A-Za-z]?`, tasks.TASK_ID) are valid Mermaid node ids as they are."""
    lines = ["flowchart TD"]
    for index, title in enumerate(g.phases):
        members = [n for n in g.nodes if n.phase == index]
        if not members:
            continue
        lines.append(f'  subgraph phase{index}["{mermaid_text(title)}"]')
        for n in members:
            label = mermaid_text(f"{n.id} · wave {n.wave}: {short(n.description)}")
            lines.append(f'    {n.id}["{label}"]')
        lines.append("  end")
    lines += [f"  {a} --> {b}" for a, b in g.edges]
    for agent in g.agents:
        name = _class_name("agent_", agent)
        lines.append(f"  classDef {name} fill:{g.colour(agent)},stroke:#555,color:#111")
        ids = ",".join(n.id for n in g.nodes if n.agent == agent)
        lines.append(f"  class {ids} {name}")
    for state in sorted({n.state for n in g.nodes if n.state in STATE_STROKE}):
        name = _class_name("state_", state)
        lines.append(f"  classDef {name} stroke:{STATE_STROKE[state]},stroke-width:3px")
        ids = ",".join(n.id for n in g.nodes if n.state == state)
        lines.append(f"  class {ids} {name}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- DOT


def dot_text(text: str) -> str:
    """A DOT double-quoted string body: backslashes and quotes escaped, one line."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(g: Graph) -> str:
    """A `digraph` with one `cluster_` per phase, fill by agent, border by state."""
    lines = [
        f'digraph "{dot_text(g.feature)}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    ]
    for index, title in enumerate(g.phases):
        members = [n for n in g.nodes if n.phase == index]
        if not members:
            continue
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="{dot_text(title)}"; style=rounded; color="#999999";')
        for n in members:
            label = f"{dot_text(n.id)} · wave {n.wave}\\n{dot_text(short(n.description))}"
            attrs = f'label="{label}", fillcolor="{g.colour(n.agent)}"'
            attrs += f', tooltip="{dot_text(n.agent)}"'
            if n.state in STATE_STROKE:
                attrs += f', color="{STATE_STROKE[n.state]}", penwidth=3'
            lines.append(f'    "{dot_text(n.id)}" [{attrs}];')
        lines.append("  }")
    lines += [f'  "{dot_text(a)}" -> "{dot_text(b)}";' for a, b in g.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- SVG

BOX_W, BOX_H, GAP_X, GAP_Y, PER_LINE, LEFT, MAX_EDGES = 150, 40, 14, 26, 8, 190, 3000


def _title_lines(title: str, width: int = 26, count: int = 3) -> str:
    """A phase title wrapped into a few <tspan> lines that fit left of the boxes."""
    lines = textwrap.wrap(title, width)
    if len(lines) > count:
        lines = [*lines[: count - 1], short(" ".join(lines[count - 1 :]), width)]
    return "".join(
        f'<tspan x="12" dy="{14 if i else 0}">{xml_escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )


def to_svg(g: Graph) -> str:
    """Phases as bands, waves as rows inside them, boxes by agent (fill) and state (border).

    Each box is a `<g class="node" data-task=ID>`, which the report makes clickable. Past
    MAX_EDGES edges (two big parallel groups in a row) the arrows are left out: they would
    only paint the gap between the bands.
    """
    pos: dict[str, tuple[int, int]] = {}
    parts: list[str] = []
    width = LEFT + PER_LINE * (BOX_W + GAP_X) + 10
    y = 10
    for index, title in enumerate(g.phases):
        members = [n for n in g.nodes if n.phase == index]
        if not members:
            continue
        top = y
        for wave in sorted({n.wave for n in members}):
            row = [n for n in members if n.wave == wave]
            for start in range(0, len(row), PER_LINE):
                for col, n in enumerate(row[start : start + PER_LINE]):
                    pos[n.id] = (LEFT + col * (BOX_W + GAP_X), y)
                y += BOX_H + GAP_Y
        parts.append(
            f'<rect class="band" x="4" y="{top - 6}" width="{width - 8}" height="{y - top - 8}"/>'
            f'<text class="band-title" x="12" y="{top + 14}">{_title_lines(title)}</text>'
        )
    if len(g.edges) <= MAX_EDGES:
        for a, b in g.edges:
            (ax, ay), (bx, by) = pos[a], pos[b]
            parts.append(
                f'<line class="edge" x1="{ax + BOX_W // 2}" y1="{ay + BOX_H}" '
                f'x2="{bx + BOX_W // 2}" y2="{by}" marker-end="url(#arrow)"/>'
            )
    for n in g.nodes:
        x, y0 = pos[n.id]
        stroke = STATE_STROKE.get(n.state, "#777777")
        wide = 3 if n.state in STATE_STROKE else 1
        tip = xml_escape(f"{n.id} ({n.agent}, wave {n.wave}) {n.state}: {n.description}")
        parts.append(
            f'<g class="node" data-task="{xml_escape(n.id)}" tabindex="0"><title>{tip}</title>'
            f'<rect x="{x}" y="{y0}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{g.colour(n.agent)}" stroke="{stroke}" stroke-width="{wide}"/>'
            f'<text x="{x + 6}" y="{y0 + 15}" class="nid">{xml_escape(n.id)} · w{n.wave}</text>'
            f'<text x="{x + 6}" y="{y0 + 31}">{xml_escape(short(n.description, 22))}</text></g>'
        )
    defs = (
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker></defs>'
    )
    return (
        f'<svg class="graph" width="{width}" height="{y}" '
        f'viewBox="0 0 {width} {y}" role="img" aria-label="task graph">{defs}{"".join(parts)}</svg>'
    )
