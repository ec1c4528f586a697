"""Verification that cannot lie, through whole runs: projects with their own environments
(a `python -m venv .venv`, a uv project) whose tests import a module only that environment
has, sdd run from an interpreter without pytest, protected tests, checks that need evidence,
TDD tests landed red on purpose, and `sdd plan` saying how it will verify."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.records import project_store
from support.repo import commit_tree, git, write_files
from support.runproc import sdd_argv, sdd_env
from support.venvs import make_venv, python_without_pytest, site_packages

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

pytestmark = pytest.mark.slow  # whole runs through real subprocesses

FEATURE = "001-calc"
OPS = "from calcdep import double\n\n\ndef quadruple(x):\n    return double(double(x))\n"
OPS_TEST = (
    "from calc.ops import quadruple\n\n\ndef test_quadruple():\n    assert quadruple(2) == 8\n"
)
TASKS = """# Tasks: calc

## Phase 1: Core

- [ ] T001 Add triple(x) to calc/ops.py
- [ ] T002 Make quadruple in calc/ops.py read better
"""


def make_project(root: Path, tasks: str = TASKS, extra: dict[str, str] | None = None) -> Path:
    files = {
        ".specify/memory/constitution.md": "# Calc\n\nTests guard every change.\n",
        f"specs/{FEATURE}/spec.md": "# Calc\n",
        f"specs/{FEATURE}/plan.md": "# Plan\n\nPython, pytest.\n",
        f"specs/{FEATURE}/tasks.md": tasks,
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": OPS_TEST,
        ".gitignore": "__pycache__/\n.venv/\n",
        **(extra or {}),
    }
    commit_tree(write_files(root, files))
    return root


def with_venv(root: Path, wheels: Path) -> Path:
    """The project's own `.venv`: pytest and calcdep, which sdd's interpreter does not have."""
    make_venv(root / ".venv", sorted(wheels.glob("*.whl")))
    return root


def write(path: str, content: str) -> dict:
    return {"Write": {"file_path": path, "content": content}}


def script(root: Path, tasks: dict[str, list[dict]]) -> Path:
    path = root.parent / "script.yaml"
    path.write_text(yaml.safe_dump({"tasks": tasks}))
    return path


def run(root: Path, script_path: Path) -> tuple[str, str, str]:
    """One in-process run; (status, reason, what it printed)."""
    console = Console(record=True, width=300)
    options = RunOptions(model=f"scripted:{script_path}")
    ctx = open_run(root, root / "specs" / FEATURE, options, Reporter(console))
    try:
        result = run_session(ctx)
    finally:
        ctx.close()
    return result.status, result.reason, console.export_text()


def sdd(root: Path, *args: str, python: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = sdd_argv(*args) if python is None else [str(python), "-m", "orchestrator.cli", *args]
    env = sdd_env()
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=300)


TRIPLE = OPS + "\n\ndef triple(x):\n    return 3 * x\n"
BROKEN = OPS.replace("double(double(x))", "double(x) + x")  # 3x: quadruple(2) == 6
GOOD_T001 = [{"tools": [write("calc/ops.py", TRIPLE)]}, {"text": "Added triple()."}]
BREAKS_T002 = [{"tools": [write("calc/ops.py", BROKEN)]}, {"text": "Simpler."}] * 3


@pytest.fixture(autouse=True)
def no_active_virtualenv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)


def test_a_venv_project_lands_good_work_and_refuses_a_breaking_task(
    tmp_path: Path, wheels: Path
) -> None:
    """sdd's own interpreter cannot import calcdep: only the project's .venv verifies."""
    root = with_venv(make_project(tmp_path / "proj"), wheels)
    status, reason, printed = run(root, script(root, {"T001": GOOD_T001, "T002": BREAKS_T002}))
    assert status == "paused"
    assert reason.startswith("T002 failed after 3 attempts (last: failed: regression: ")
    assert "tests/test_ops.py::test_quadruple" in reason
    assert "verify: .venv/bin/python -m pytest -q (found .venv/bin/python)" in printed
    assert "warning" not in printed
    assert [s.split(":")[0] for s in git(root, "log", "--format=%s").splitlines()] == [
        "T001",
        "initial",
    ]
    assert (root / "calc/ops.py").read_text() == TRIPLE  # T002's breakage did not land
    assert git(root, "status", "--porcelain") == ""


def test_sdd_without_pytest_still_verifies_a_venv_project(tmp_path: Path, wheels: Path) -> None:
    nopy = python_without_pytest(tmp_path / "sdd-env")
    assert subprocess.run([str(nopy), "-c", "import pytest"], capture_output=True).returncode
    root = with_venv(make_project(tmp_path / "proj"), wheels)
    path = script(root, {"T001": GOOD_T001, "T002": BREAKS_T002})
    done = sdd(root, "run", FEATURE, "--model", f"scripted:{path}", python=nopy)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "T001 landed as" in done.stdout
    assert "T002 failed after 3 attempts" in done.stdout
    attempts = project_store(root).attempts(FEATURE, "T002")
    assert [a.outcome for a in attempts] == ["failed"] * 3
    assert "regression: passed before and fails now" in attempts[0].verify_output


def test_sdd_without_pytest_on_a_project_without_an_environment_pauses_before_any_task(
    tmp_path: Path,
) -> None:
    nopy = python_without_pytest(tmp_path / "sdd-env")
    root = make_project(tmp_path / "proj")
    path = script(root, {"T001": GOOD_T001, "T002": BREAKS_T002})
    done = sdd(root, "run", FEATURE, "--model", f"scripted:{path}", python=nopy)
    assert done.returncode == 1, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert f"pytest is not installed in sdd's own interpreter ({nopy})" in out
    assert "Run paused: cannot verify HEAD:" in out and "Continue: sdd resume" in out
    assert project_store(root).attempts(FEATURE, "T001") == []  # no agent ran
    assert len(git(root, "log", "--format=%s").splitlines()) == 1


def test_a_new_import_the_environment_lacks_pauses_the_task_instead_of_failing_it(
    tmp_path: Path, wheels: Path
) -> None:
    root = with_venv(make_project(tmp_path / "proj"), wheels)
    uses_yaml = OPS + "\n\ndef load(text):\n    import yamlish\n\n    return yamlish.load(text)\n"
    test_load = "from yamlish import load\n\n\ndef test_load():\n    assert load('1') == 1\n"
    t001 = [
        {"tools": [write("calc/ops.py", uses_yaml), write("tests/test_load.py", test_load)]},
        {"text": "Added load()."},
    ]
    status, reason, _ = run(root, script(root, {"T001": t001 * 2, "T002": []}))
    assert status == "paused"
    assert reason == (
        "T001 could not be verified: tests/test_load.py imports yamlish, which is not installed "
        "in .venv; fix: add it to the project's dependencies (.venv/bin/python -m pip install "
        "yamlish), or set verify: in .specify/sdd.yaml"
    )
    attempts = project_store(root).attempts(FEATURE, "T001")
    assert [a.outcome for a in attempts] == ["unverifiable"]  # not fed back to the agent
    assert git(root, "status", "--porcelain") == ""
    # once a person installs it, the same task verifies and lands on resume
    (site_packages(root / ".venv") / "yamlish.py").write_text("def load(t):\n    return int(t)\n")
    t002 = [{"tools": [write("calc/extra.py", "X = 1\n")]}, {"text": "Added X."}]
    status, _, _ = run(root, script(root, {"T001": t001 * 2, "T002": t002}))
    assert status == "finished"


def test_a_base_that_cannot_collect_a_test_file_pauses_before_the_first_task(
    tmp_path: Path, wheels: Path
) -> None:
    broken = {"tests/test_broken.py": "def test_x(:\n    pass\n"}
    root = with_venv(make_project(tmp_path / "proj", extra=broken), wheels)
    status, reason, _ = run(root, script(root, {"T001": GOOD_T001}))
    assert status == "paused"
    assert reason.startswith("tests/test_broken.py cannot be collected at HEAD (SyntaxError: ")
    assert reason.endswith(
        "so its tests guard nothing; fix it first, or leave it out: set verify: in "
        ".specify/sdd.yaml (e.g. --ignore=tests/test_broken.py)"
    )
    assert project_store(root).attempts(FEATURE, "T001") == []


HOSTILE = """# Tasks: calc

## Phase 1: Core

- [ ] T001 Make quadruple in calc/ops.py cheaper
"""


@pytest.mark.parametrize("protect", [True, False])
def test_a_task_that_edits_an_earlier_test_to_pass_is_refused_then_fixes_the_code(
    tmp_path: Path, wheels: Path, protect: bool
) -> None:
    extra = {} if protect else {".specify/sdd.yaml": "protect_tests: false\n"}
    root = with_venv(make_project(tmp_path / "proj", HOSTILE, extra), wheels)
    cheat = OPS_TEST.replace("== 8", "== 6")
    cheaper = OPS.replace("double(double(x))", "double(double(x))  # two doublings")
    t001 = [
        {"tools": [write("calc/ops.py", BROKEN), write("tests/test_ops.py", cheat)]},
        {"text": "Made it cheaper."},
        {"tools": [write("tests/test_ops.py", OPS_TEST), write("calc/ops.py", cheaper)]},
        {"text": "Kept the test; fixed the code."},
    ]
    status, _, _ = run(root, script(root, {"T001": t001}))
    assert status == "finished"
    attempts = project_store(root).attempts(FEATURE, "T001")
    if not protect:  # the switch is honoured: the weakened test landed
        assert [a.outcome for a in attempts] == ["passed"]
        assert "tests/test_ops.py" in git(root, "show", "--name-only", "--format=", "HEAD")
        return
    assert [a.outcome for a in attempts] == ["failed", "passed"]
    assert attempts[0].verify_output.startswith(
        "FAILED: restore tests/test_ops.py; change the code, not the test"
    )
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == [
        "calc/ops.py",
        f"specs/{FEATURE}/tasks.md",
    ]


CHECKS = """# Tasks: calc

## Phase 1: Polish

- [ ] T001 Run `python -m pytest -q tests/test_ops.py` and confirm it passes
- [ ] T002 Run quickstart.md validation
"""


def test_a_check_lands_with_its_evidence_and_a_check_without_any_does_not(
    tmp_path: Path, wheels: Path
) -> None:
    root = with_venv(make_project(tmp_path / "proj", CHECKS), wheels)
    # the agent's `python` is the project's: calcdep imports, so the command exits 0
    t001 = [
        {"tools": [{"Bash": {"command": "python -m pytest -q tests/test_ops.py"}}]},
        {"text": "It passes."},
    ]
    t002 = [{"text": "Task T002 is complete."}] * 3
    status, reason, printed = run(root, script(root, {"T001": t001, "T002": t002}))
    assert status == "paused"
    assert reason == (
        "T002 failed after 3 attempts (last: failed: no evidence that this check ran: the task "
        "names quickstart.md, which does not exist)"
    )
    evidence = "ran `python -m pytest -q tests/test_ops.py` (exit 0)"
    assert "T001 landed as" in printed and f"(check: {evidence})" in printed
    trailers = git(root, "log", "-1", "--format=%(trailers)", "HEAD")
    assert "Sdd-Kind: check" in trailers and f"Sdd-Evidence: {evidence}" in trailers
    assert "- [ ] T002" in (root / f"specs/{FEATURE}/tasks.md").read_text()  # not ticked
    log = json.loads(sdd(root, "log", FEATURE, "--json").stdout)
    assert [(r["task"], r["kind"], r["evidence"]) for r in log] == [("T001", "check", evidence)]
    shown = sdd(root, "show", FEATURE, "T001").stdout
    assert f"evidence: {evidence}" in " ".join(shown.split())


TDD = """# Tasks: calc

## Phase 1: Story

### Tests for the story

- [ ] T001 [P] Contract tests for triple in tests/test_triple.py

### Implementation

- [ ] T002 Implement triple in calc/ops.py
"""
TRIPLE_TESTS = (
    "from calc.ops import quadruple\n\n\n"
    "def test_three():\n    from calc.ops import triple\n\n    assert triple(1) == 3\n\n\n"
    "def test_nine():\n    from calc.ops import triple\n\n    assert triple(3) == 9\n\n\n"
    "def test_kept():\n    assert quadruple(1) == 4\n"
)


def test_tests_landed_red_on_purpose_say_so_everywhere(tmp_path: Path, wheels: Path) -> None:
    root = with_venv(make_project(tmp_path / "proj", TDD), wheels)
    tasks = {
        "T001": [{"tools": [write("tests/test_triple.py", TRIPLE_TESTS)]}, {"text": "Red."}],
        "T002": GOOD_T001,
    }
    status, _, printed = run(root, script(root, tasks))
    assert status == "finished"
    assert "T001 landed red as expected: 2 tests in tests/test_triple.py (" in printed
    assert "turned green: tests/test_triple.py (written by T001)" in printed
    first = git(root, "log", "-1", "--format=%(trailers)", "HEAD~1")
    assert "Sdd-Kind: tdd-red" in first
    assert "Sdd-Expected-Red: 2 tests in tests/test_triple.py" in first
    second = git(root, "log", "-1", "--format=%(trailers)", "HEAD")
    assert "Sdd-Turned-Green: tests/test_triple.py (written by T001)" in second
    log = json.loads(sdd(root, "log", FEATURE, "--json").stdout)
    assert [r["kind"] for r in log] == ["tdd-red", "change"]


def test_plan_says_how_it_will_verify_and_why(tmp_path: Path, wheels: Path) -> None:
    root = make_project(tmp_path / "proj", extra={"go.mod": "module calc\n"})
    bare = json.loads(sdd(root, "plan", FEATURE, "--json").stdout)["verification"]
    assert bare["source"] == "detected"
    assert bare["commands"] == [f"{sys.executable} -m pytest -q", "go test ./..."]
    assert bare["warnings"][0].startswith("the tests run with sdd's own interpreter")
    with_venv(root, wheels)
    table = sdd(root, "plan", FEATURE)
    text = " ".join(table.stdout.split())
    assert (
        "verify: .venv/bin/python -m pytest -q (found .venv/bin/python); go test ./... (go.mod)"
        in text
    )
    assert "sdd's own interpreter" not in text


def uv_binary() -> str | None:
    return shutil.which(
        "uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


@pytest.mark.skipif(uv_binary() is None, reason="uv is not installed (pip install uv)")
def test_a_uv_project_verifies_with_uv_run_from_its_lockfile(
    tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uv = Path(str(uv_binary()))
    monkeypatch.setenv("PATH", f"{uv.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_PYTHON", getattr(sys, "_base_executable", sys.executable))
    monkeypatch.setenv("UV_OFFLINE", "1")  # the wheelhouse is all it may use
    pyproject = f"""[project]
name = "calc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["calcdep"]

[dependency-groups]
dev = ["pytest"]

[tool.uv]
package = false
no-index = true
find-links = ["{wheels}"]
environments = ["sys_platform == 'linux'"]
"""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text(pyproject)
    subprocess.run([str(uv), "lock", "-q"], cwd=root, check=True)
    make_project(root)
    status, reason, printed = run(root, script(root, {"T001": GOOD_T001, "T002": BREAKS_T002}))
    assert "verify: uv run --frozen python -m pytest -q (uv.lock)" in printed
    assert status == "paused" and "T002 failed after 3 attempts" in reason
    assert "regression: passed before and fails now: tests/test_ops.py::test_quadruple" in reason
    assert [s.split(":")[0] for s in git(root, "log", "--format=%s").splitlines()] == [
        "T001",
        "initial",
    ]
