"""The plan's graph as Mermaid, DOT and SVG: phases as clusters, direct edges, waves, colours."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.runproc import sdd_argv, sdd_env

from orchestrator.plan.build import Plan, make_plan
from orchestrator.views import graphs as graphview

TASKS = """# Tasks: tricky

## Phase 1: Setup [core] "quoted"

- [ ] T001 Create src/app.py: "hi" [v1]
- [ ] T002 [P] Add docs/a.md {braces} | pipes <angle>
- [ ] T003 [P] Add docs/b.md # hash `tick`

## Phase 2: Backend work

- [ ] T004 Implement the API in src/api.py (depends on T001)
- [ ] T005 Write README.md documentation for end users
"""

# Mermaid: an id, then ["label"] whose body has no raw quote or bracket.
NODE = re.compile(r'^    ([A-Za-z][A-Za-z0-9_]*)\["([^"\[\]{}<>|`]*)"\]$')
# DOT: "id" [label="…", fillcolor="#…", …]; with every quote inside a string escaped.
DQ = r'"(?:[^"\\]|\\.)*"'
DOT_NODE = re.compile(rf"^    ({DQ}) \[label={DQ}, fillcolor=\"#[0-9a-f]{{6}}\", tooltip={DQ}")


def project(tmp_path: Path, tasks: str = TASKS) -> Plan:
    root = tmp_path / "proj"
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# C\n")
    feature = root / "specs" / "001-tricky"
    feature.mkdir(parents=True)
    (feature / "spec.md").write_text("# Spec\n")
    (feature / "plan.md").write_text("# Plan\n")
    (feature / "tasks.md").write_text(tasks)
    return make_plan(root, feature)


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return project(tmp_path)


def test_build_has_direct_edges_whole_graph_waves_and_agents(plan: Plan) -> None:
    g = graphview.build(plan)
    ids = [n.id for n in g.nodes]
    assert ids == plan.graph.order
    assert set(g.edges) == {(d, t) for t in ids for d in plan.graph.deps(t)}
    waves = {n.id: n.wave for n in g.nodes}
    for a, b in g.edges:
        assert waves[a] < waves[b]
    assert waves["T002"] == waves["T003"] == waves["T001"] + 1  # a [P] run shares a wave
    assert g.agents == sorted({plan.routes[t].agent for t in ids})
    assert all(n.state == "" for n in g.nodes)


def test_mermaid_has_a_subgraph_per_phase_and_escaped_labels(plan: Plan) -> None:
    text = graphview.to_mermaid(graphview.build(plan))
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    subgraphs = [line for line in lines if line.startswith("  subgraph ")]
    assert len(subgraphs) == len(plan.tasklist.phases) == 2
    assert subgraphs[0] == '  subgraph phase0["Phase 1: Setup #91;core#93; #quot;quoted#quot;"]'
    assert lines.count("  end") == 2
    nodes = [line for line in lines if line.startswith("    ")]
    assert len(nodes) == len(plan.graph.order)
    for line in nodes:
        assert NODE.match(line), line
    t001 = next(line for line in nodes if line.startswith("    T001["))
    assert "wave 1: Create src/app.py: #quot;hi#quot; #91;v1#93;" in t001
    edges = {tuple(line.split(" --> ")) for line in lines if " --> " in line}
    assert edges == {(f"  {a}", b) for a, b in graphview.build(plan).edges}


def test_mermaid_classes_colour_every_node_by_agent_and_by_state(plan: Plan) -> None:
    states = {"T001": "landed", "T004": "failed"}
    g = graphview.build(plan, states)
    text = graphview.to_mermaid(g)
    members: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("  class "):
            _, ids, name = line.split()
            members[name] = set(ids.split(","))
        if line.startswith("  classDef "):
            assert re.match(r"  classDef \w+ (fill|stroke):#[0-9a-f]{6}", line), line
    agent_classes = {k: v for k, v in members.items() if k.startswith("agent_")}
    assert set().union(*agent_classes.values()) == set(plan.graph.order)
    for agent in g.agents:
        expected = {n.id for n in g.nodes if n.agent == agent}
        assert agent_classes["agent_" + re.sub(r"\W", "_", agent)] == expected
    assert members["state_landed"] == {"T001"} and members["state_failed"] == {"T004"}


def test_dot_has_a_cluster_per_phase_and_quotes_escaped(plan: Plan) -> None:
    g = graphview.build(plan, {"T002": "skipped"})
    text = graphview.to_dot(g)
    assert text.startswith('digraph "001-tricky" {') and text.rstrip().endswith("}")
    assert text.count("subgraph cluster_") == 2
    assert 'label="Phase 1: Setup [core] \\"quoted\\""' in text
    nodes = [line for line in text.splitlines() if line.startswith('    "')]
    assert len(nodes) == len(plan.graph.order)
    for line in nodes:
        assert DOT_NODE.match(line), line
    skipped = next(line for line in nodes if line.startswith('    "T002"'))
    assert f'color="{graphview.STATE_STROKE["skipped"]}", penwidth=3' in skipped
    assert text.count(" -> ") == len(g.edges)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_dot_renders_with_graphviz(plan: Plan) -> None:
    text = graphview.to_dot(graphview.build(plan))
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(done.stdout)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert {"cluster_0", "cluster_1", *plan.graph.order} <= set(titles)


def test_svg_is_well_formed_with_one_clickable_box_per_task(plan: Plan) -> None:
    g = graphview.build(plan, {"T003": "commit not found"})
    root = ET.fromstring(graphview.to_svg(g))
    boxes = [e for e in root.iter("g") if e.get("class") == "node"]
    assert [b.get("data-task") for b in boxes] == plan.graph.order
    assert len([e for e in root.iter("line") if e.get("class") == "edge"]) == len(g.edges)
    assert len([e for e in root.iter("rect") if e.get("class") == "band"]) == 2
    t003 = next(b for b in boxes if b.get("data-task") == "T003").find("rect")
    assert t003 is not None and t003.get("stroke") == graphview.STATE_STROKE["commit not found"]
    rows = {n.id: b.find("rect").get("y") for n, b in zip(g.nodes, boxes, strict=True)}  # type: ignore[union-attr]
    assert rows["T002"] == rows["T003"] != rows["T001"]  # one wave, one row


@pytest.mark.slow
def test_cli_plan_formats(plan: Plan) -> None:
    def sdd(*args: str) -> subprocess.CompletedProcess[str]:
        argv = sdd_argv("plan", "001", *args)
        return subprocess.run(argv, cwd=plan.root, env=sdd_env(), capture_output=True, text=True)

    g = graphview.build(plan)
    assert sdd("--format", "mermaid").stdout == graphview.to_mermaid(g)
    assert sdd("--format", "DOT").stdout == graphview.to_dot(g)
    as_json = json.loads(sdd("--json").stdout)
    assert as_json == json.loads(sdd("--format", "json").stdout)
    assert [t["id"] for t in as_json["tasks"]] == plan.graph.order
    assert "T004" in sdd().stdout
    bad = sdd("--format", "svg")
    assert bad.returncode == 2 and "--format takes table, json, mermaid or dot" in bad.stderr
