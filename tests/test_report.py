"""`sdd report`: a self-contained HTML page of a real run, checked as text and in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.runproc import sdd_argv, sdd_env
from test_run_e2e import ADD, MUL_TEST, git, make_project, run, write, write_script

from orchestrator.cli.demo import prepare_demo
from orchestrator.views.report import NOT_FOUND, write_report

FEATURE = "001-calc"
SECRET = "hunter2-report-secret-value"
KEY = "sk-ant-api03-abcdefghijklmnop"
MUL = f'# {SECRET} {KEY}\n"""</script><script>alert(1)</script>"""\n\n\ndef mul(a, b):\n'
SCRIPT = {
    "T001": [{"tools": [write("calc/add.py", ADD)]}, {"text": "Added add."}],
    "T002": [{"tools": [write("tests/test_mul.py", MUL_TEST)]}, {"text": "Red test."}],
    "T003": [
        {"tools": [write("calc/mul.py", MUL + "    return a * b\n")]},
        {"text": "Implemented mul."},
    ],
    "T004": [{"text": "All tests pass; nothing to change."}],
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses


class Page(HTMLParser):
    """The parts of the page the checks need: elements by id, scripts, external references."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: dict[str, dict[str, str | None]] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.refs: list[str] = []
        self.rows: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids[str(a["id"])] = a
        if tag == "script":
            self.scripts.append(a)
        if tag == "tr" and a.get("data-task"):
            self.rows.append(str(a["data-task"]))
        self.refs += [str(a[k]) for k in ("src", "href", "action") if a.get(k)]
        if tag == "link":
            self.refs.append(f"<link {a}>")


def detail(text: str, task: str) -> dict:
    m = re.search(rf'<script type="application/json" id="task-data-{task}">(.*?)</script>', text)
    assert m, task
    return json.loads(m.group(1))


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sdd_argv(*args), cwd=root, env=sdd_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("report"))
    status, reason, _ = run(root, write_script(root, SCRIPT))
    assert (status, reason) == ("finished", "")
    return root


def test_report_is_self_contained_and_shows_the_run_and_every_task(
    landed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT_SERVICE_TOKEN", SECRET)
    out = tmp_path / "r.html"
    done = subprocess.run(
        sdd_argv("report", FEATURE, "-o", str(out)),
        cwd=landed,
        env=sdd_env() | {"REPORT_SERVICE_TOKEN": SECRET},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and str(out) in done.stdout.replace("\n", ""), done.stderr
    text = out.read_text()
    page = Page(text)
    assert [r for r in page.refs if not r.startswith("#")] == []  # nothing fetched, no links out
    assert not re.search(r"https?://", text)
    assert page.rows == ["T001", "T002", "T003", "T004"]
    data_scripts = [s for s in page.scripts if s.get("type") == "application/json"]
    assert [s["id"] for s in data_scripts] == [f"task-data-{t}" for t in page.rows]
    assert len(page.scripts) == 5  # the diff's </script> did not open or close a script
    assert "no-run" not in page.ids and "summary-figures" in page.ids
    assert "4 landed, 0 failed, 0 skipped, 0 pending, of 4" in text
    assert text.count('<g class="node" data-task=') == 4
    assert SECRET not in text and KEY not in text

    assert "of input read from cache" in text  # the run's prompt-cache figures
    t003 = detail(text, "T003")
    assert t003["state"] == "landed" and t003["attempts"] == 1
    assert 0 < t003["verify_seconds"] <= t003["seconds"]  # its verification's wall time
    assert t003["commit"] == git(landed, "rev-parse", "HEAD~1").strip()
    assert "+def mul(a, b):" in t003["diff"] and "+# [REDACTED] [REDACTED]" in t003["diff"]
    assert "</script><script>alert(1)</script>" in t003["diff"]  # shown as text, not run
    (log,) = t003["attempt_log"]
    kinds = [e["kind"] for e in log["events"]]
    assert kinds[0] == "prompt" and "model" in kinds and "tool" in kinds and "outcome" in kinds
    tool = next(e for e in log["events"] if e["kind"] == "tool")
    assert tool["head"].startswith("Write ") and "calc/mul.py" in tool["head"]
    assert SECRET not in tool["head"] and "[REDACTED]" in tool["head"]
    assert detail(text, "T004")["diff"].startswith("commit ")  # a check task still commits


def test_feature_without_a_run_shows_the_plan_and_says_so(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = write_report(root, root / "specs" / FEATURE, tmp_path / "plan.html")
    text = out.read_text()
    page = Page(text)
    assert "no-run" in page.ids and "No run yet for this feature" in text
    assert page.rows == ["T001", "T002", "T003", "T004"]
    assert text.count('<g class="node" data-task=') == 4
    t001 = detail(text, "T001")
    assert (t001["state"], t001["diff"], t001["attempt_log"]) == ("pending", "", [])


def test_tasks_whose_commits_were_rewritten_away_are_marked_not_failed(
    landed: Path, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    shutil.copytree(landed, root, symlinks=True)
    git(root, "reset", "-q", "--hard", "HEAD~2")  # T003 and T004 rebased away
    git(root, "reflog", "expire", "--expire=now", "--all")
    git(root, "gc", "-q", "--prune=now")
    done = sdd(root, "report", FEATURE, "-o", "out.html")
    assert done.returncode == 0, done.stderr
    text = (root / "out.html").read_text()
    for task in ("T003", "T004"):
        d = detail(text, task)
        assert d["state"] == NOT_FOUND and d["diff"] == "" and "not found" in d["note"]
        assert f'<tr data-task="{task}" class="st-commit-not-found">' in text
    assert "+def add(a, b):" in detail(text, "T001")["diff"]


def test_plan_graph_is_coloured_by_the_run_state(landed: Path) -> None:
    mermaid = sdd(landed, "plan", FEATURE, "--format", "mermaid")
    assert "  class T001,T002,T003,T004 state_landed" in mermaid.stdout, mermaid.stderr
    dot = sdd(landed, "plan", FEATURE, "--format", "dot").stdout
    assert dot.count("penwidth=3") == 4


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from orchestrator.cli.app import run_feature
    from orchestrator.cli.running import _demo_options

    target, script = prepare_demo(tmp_path_factory.mktemp("demo") / "todo-api")
    assert run_feature(target, "001-todo-api", _demo_options(script), quiet=True) == 0
    return write_report(target, target / "specs" / "001-todo-api", target.parent / "report.html")


def test_demo_report_marks_tests_landed_red_and_checks_with_their_evidence(
    demo_report: Path,
) -> None:
    html = demo_report.read_text()

    def row(task: str) -> str:
        found = re.search(rf'<tr data-task="{task}".*?</tr>', html, re.S)
        assert found, task
        return found.group(0)

    assert '<span class="marker tdd-red">red as expected</span>' in row("T006")
    assert '<span class="marker check">check</span>' in row("T010")
    assert "marker" not in row("T007")
    assert "verification ran 16 tests: 16 passed" in html  # T010's evidence, in its detail


def chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            timeout=120,
        )


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="Chromium is not installed (.ci/run installs Debian's chromium)",
)
def test_demo_report_in_headless_chromium_shows_the_graph_and_a_clicked_task_diff(
    demo_report: Path, tmp_path: Path
) -> None:
    url = demo_report.resolve().as_uri()
    plain = chromium("--dump-dom", url)
    assert plain.returncode == 0, plain.stderr.decode()[-2000:]
    dom = plain.stdout.decode()
    assert dom.count('<g class="node" data-task=') == 10
    assert '<aside id="detail" hidden="">' in dom  # nothing open before a click

    opened = chromium("--dump-dom", url + "#task-T007").stdout.decode()
    panel = re.search(r'<aside id="detail" data-task="T007">(.*?)</aside>', opened, re.S)
    assert panel, opened[-3000:]
    shown = panel.group(1)
    assert "<h2>T007: landed</h2>" in shown
    assert '<span class="file">+++ b/app/routers/todos.py</span>' in shown
    assert '<span class="add">+router = APIRouter(' in shown
    assert '<div class="ev tool"><h4>Read ' in shown  # the transcript's tool calls
    # the failed verification of attempt 1 is shown once: in the transcript, not again below it
    assert shown.count('<div class="ev verify-failed">') == 1
    assert "Verification output" not in shown
    assert re.search(r'<g class="node sel" data-task="T007"', opened)

    shot = tmp_path / "report.png"
    taken = chromium("--window-size=1400,1000", f"--screenshot={shot}", url + "#task-T007")
    assert taken.returncode == 0, taken.stderr.decode()[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    if os.environ.get("SDD_UPDATE_DOCS"):  # the README's picture: SDD_UPDATE_DOCS=1 pytest -k …
        shutil.copyfile(shot, Path(__file__).resolve().parents[1] / "docs" / "report.png")


# The report in a 1400 px frame of a probe page, which measures it and draws a phase title's
# emoji in the page's own font (colour pixels mean a colour emoji font rendered it, not a box).
PROBE = r"""<!doctype html><html><body style="margin:0">
<iframe id="f" src="URL" style="width:1400px;height:1000px;border:0"></iframe>
<pre id="out">not measured</pre><script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, w = this.contentWindow;
  var box = d.querySelector('#graph .scroll'), svg = box.querySelector('svg');
  var title = Array.prototype.filter.call(d.querySelectorAll('.graph .band-title'),
    function (t) { return t.textContent.indexOf('\u{1F3AF}') >= 0; })[0];
  var c = d.createElement('canvas'); c.width = 64; c.height = 64;
  var g = c.getContext('2d');
  g.font = '40px ' + w.getComputedStyle(title).fontFamily;
  g.fillText('\u{1F3AF}', 4, 48);
  var px = g.getImageData(0, 0, 64, 64).data, coloured = 0;
  for (var i = 0; i < px.length; i += 4) {
    var hi = Math.max(px[i], px[i + 1], px[i + 2]), lo = Math.min(px[i], px[i + 1], px[i + 2]);
    if (px[i + 3] > 0 && hi - lo > 80) coloured++;
  }
  var row = d.querySelector('tr[data-task="T006"]');
  document.getElementById('out').textContent = JSON.stringify({
    page: d.documentElement.scrollWidth, view: w.innerWidth,
    graph: svg.getBoundingClientRect().width, box: box.clientWidth,
    sideways: box.scrollWidth - box.clientWidth, title: title.textContent,
    coloured: coloured, head: Array.prototype.map.call(
      d.querySelectorAll('#task-table th'), function (h) { return h.textContent; }),
    t006: Array.prototype.map.call(row.cells, function (c) { return c.textContent; })
  });
});
</script></body></html>"""


@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="Chromium is not installed (.ci/run installs Debian's chromium)",
)
def test_demo_report_at_1400px_fits_the_graph_renders_emoji_and_shows_the_costs(
    demo_report: Path, tmp_path: Path
) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.replace("URL", demo_report.resolve().as_uri()), encoding="utf-8")
    done = chromium(
        "--allow-file-access-from-files", "--window-size=1450,1100", "--dump-dom",
        probe.as_uri(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout.decode(), re.S)
    assert found and found.group(1).startswith("{"), done.stdout.decode()[-2000:]
    seen = json.loads(html_text(found.group(1)))
    assert seen["page"] <= seen["view"] == 1400  # the page never scrolls sideways
    assert seen["sideways"] == 0 and seen["graph"] <= seen["box"]  # the graph fits its box
    assert "🎯" in seen["title"] and seen["coloured"] > 50, seen  # a colour emoji, no box
    head = seen["head"]
    assert head[:4] == ["task", "wave", "state", "verdict"]
    assert {"tokens", "cost", "time"} <= set(head)
    t006 = dict(zip(head, seen["t006"], strict=True))
    assert t006["verdict"] == "expected-red"
    assert re.fullmatch(r"[0-9.]+k in / \d+ out", t006["tokens"]), t006
    assert re.fullmatch(r"\d+\.\ds", t006["time"]), t006


def html_text(text: str) -> str:
    import html

    return html.unescape(text)
