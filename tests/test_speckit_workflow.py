"""sdd inside spec-kit, end to end with the real specify-cli: `sdd init` in a project made by
`specify init`, then `specify workflow run sdd-implement` with the scripted model: approval
gates pause the workflow and `specify workflow resume` answers them, a failed task pauses it
with sdd's reason, bad input fails it with sdd's error line."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from support.repo import git
from support.runproc import wait_until
from support.speckit_project import (
    CALC_TASKS,
    commit_all,
    sdd,
    specify,
    specify_executable,
    speckit_project,
    tool_env,
)
from test_init import snapshot

from orchestrator.config.load import load_config
from orchestrator.config.model import Config

pytestmark = pytest.mark.slow  # spec-kit workflows that run sdd in subprocesses


def test_init_in_a_speckit_project_installs_the_extension_step_and_workflows(
    tmp_path: Path,
) -> None:
    root = speckit_project(tmp_path)
    before = snapshot(root)
    dry = sdd(root, "init", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    for what in ("extension", "step", "workflow", "overlay"):
        assert re.search(rf"^  would be installed\s+{what}\s", dry.stdout, re.M), what
    assert snapshot(root) == before

    done = sdd(root, "init")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "integration claude" in done.stdout
    assert "/speckit-sdd-run, /speckit-sdd-status, /speckit-sdd-resume" in done.stdout
    assert "sdd run FEATURE, or /speckit-sdd-run in your agent, or specify workflow run " \
        "sdd-implement" in done.stdout  # fmt: skip

    listed = json.loads(specify(root, "extension", "list", "--json").stdout)
    assert [(e["id"], e["enabled"]) for e in listed] == [("sdd", True)]
    skill = root / ".claude" / "skills" / "speckit-sdd-run" / "SKILL.md"
    text = skill.read_text(encoding="utf-8")
    assert ".specify/scripts/bash/check-prerequisites.sh --json --require-tasks" in text
    assert 'sdd run "FEATURE"' in text and "/speckit-sdd-resume" in text and "{SCRIPT}" not in text
    for name in ("status", "resume"):
        assert (root / ".claude" / "skills" / f"speckit-sdd-{name}" / "SKILL.md").is_file()
    hooks = yaml.safe_load((root / ".specify" / "extensions.yml").read_text())
    (hook,) = hooks["hooks"]["after_tasks"]
    assert (hook["command"], hook["optional"], hook["prompt"]) == (
        "speckit.sdd.run",
        True,
        "Implement with sdd?",
    )
    assert load_config(root) == Config()  # what sdd init wrote loads with sdd's own loader
    steps = specify(root, "workflow", "step", "list").stdout
    assert re.search(r"\bsdd\b", steps)
    assert "sdd-implement" in specify(root, "workflow", "list").stdout
    excluded = (root / ".git" / "info" / "exclude").read_text().splitlines()
    assert excluded[-2:] == [".sdd/", ".specify/workflows/runs/"]

    # what sdd init wrote, committed, then sdd init again: nothing to do, nothing touched
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Set up sdd")
    again = sdd(root, "init", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {a["state"] for a in json.loads(again.stdout)["actions"]} == {"unchanged"}
    assert git(root, "status", "--porcelain") == ""

    # the overlay: spec-kit's full cycle with sdd as its implement step, and nothing else changed
    from specify_cli.workflows import load_custom_steps
    from specify_cli.workflows.engine import validate_workflow
    from specify_cli.workflows.overlay import WorkflowResolver

    assert load_custom_steps(root) == ["sdd"]
    composed = WorkflowResolver(root).resolve("speckit")
    base = yaml.safe_load((root / ".specify/workflows/speckit/workflow.yml").read_text())
    assert [s["id"] for s in composed.steps] == [s["id"] for s in base["steps"]]
    for step, original in zip(composed.steps, base["steps"], strict=True):
        expected = {"id": "implement", "type": "sdd"} if step["id"] == "implement" else original
        assert step == expected
    assert validate_workflow(composed) == []


# ---------------------------------------------------------------- the sdd-implement workflow


def write(path: str, content: str) -> dict[str, object]:
    return {"Write": {"file_path": path, "content": content}}


GOOD = {
    "T001": [{"tools": [write("calc/add.py", "def add(a, b):\n    return a + b\n")]},
             {"text": "Added add()."}],
    "T002": [{"tools": [write("calc/mul.py", "def mul(a, b):\n    return a * b\n")]},
             {"text": "Added mul()."}],
    "T003": [{"tools": [write("calc/power.py", "def power(a, b):\n    return a**b\n")]},
             {"text": "Added power()."}],
}  # fmt: skip
BROKEN = {  # a change that breaks a passing test
    "T001": [{"tools": [write("tests/test_base.py", "def test_base():\n    assert 0\n")]},
             {"text": "Done."}],
}  # fmt: skip


TWO_TASKS = CALC_TASKS[: CALC_TASKS.index("- [ ] T003")]


@pytest.fixture(scope="module")
def initialized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec-kit project after `sdd init`, committed: made once, copied by each test."""
    root = speckit_project(tmp_path_factory.mktemp("initialized"))
    done = sdd(root, "init")
    assert done.returncode == 0, done.stdout + done.stderr
    commit_all(root, "Set up sdd")
    return root


@pytest.fixture
def set_up(initialized: Path, tmp_path: Path) -> Callable[..., Path]:
    def make(
        tasks: dict[str, list[dict[str, object]]],
        approve: str,
        tasks_md: str = CALC_TASKS,
        attempts: int = 3,
    ) -> Path:
        """The initialized project, its config turned to the scripted model, and `tasks_md`."""
        root = tmp_path / "proj"
        shutil.copytree(initialized, root, symlinks=True)
        script(root, tasks)
        config = root / ".specify" / "sdd.yaml"
        text = config.read_text()
        text = text.replace("# model: claude-sonnet-5-5\n", "model: scripted:../script.yaml\n")
        text = text.replace("# approve: never\n", f"approve: {approve}\n")
        text = text.replace("  # attempts: 3\n", f"  attempts: {attempts}\n")
        config.write_text(text)
        loaded = load_config(root)  # uncommenting a default is all it takes
        assert (loaded.approve, loaded.limits.attempts) == (approve, attempts)
        tasks_file = root / "specs" / "001-calc" / "tasks.md"
        head = tasks_file.read_text()
        tasks_file.write_text(head[: head.index("## Phase 1:")] + tasks_md.lstrip())
        commit_all(root, "Config for the scripted model")
        return root

    return make


def script(root: Path, tasks: dict[str, list[dict[str, object]]], latency: float = 0) -> None:
    (root.parent / "script.yaml").write_text(yaml.safe_dump({"latency": latency, "tasks": tasks}))


def workflow(root: Path, *args: str) -> tuple[dict[str, object], str]:
    """`specify workflow ARGS --json`: its outcome, and what the step showed (sdd's output)."""
    done = specify(root, "workflow", *args, "--json")
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout), done.stderr


def step_record(root: Path, run_id: object) -> dict[str, object]:
    state = json.loads((root / ".specify" / "workflows" / "runs" / str(run_id) / "state.json")
                       .read_text())  # fmt: skip
    (node,) = state["execution"]["sequence"]["nodes"]
    return node["result"]  # type: ignore[no-any-return]


def task_commits(root: Path) -> list[tuple[str, str]]:
    """(task, sha) of every task commit, oldest first, from the Sdd-Task trailers."""
    log = git(root, "log", "--reverse", "--format=%H %(trailers:key=Sdd-Task,valueonly)")
    return [
        (line.split()[1], line.split()[0]) for line in log.splitlines() if len(line.split()) > 1
    ]


def test_approval_gates_pause_the_workflow_and_resume_answers_them(
    set_up: Callable[..., Path],
) -> None:
    root = set_up(GOOD, approve="each", tasks_md=TWO_TASKS)
    shutil.copytree(root / "specs" / "001-calc", root / "specs" / "002-other")
    commit_all(root, "Another feature")
    head = git(root, "rev-parse", "HEAD")
    outcome, shown = workflow(root, "run", "sdd-implement")
    run_id = outcome["run_id"]
    assert outcome["status"] == "paused", shown
    assert "sdd run 001-calc" in shown and "T001 verified as" in shown  # sdd's own output
    assert "sdd paused: T001 awaits approval" in shown
    assert f"Resume with: specify workflow resume {run_id} --input decision=approve" in shown
    record = step_record(root, run_id)
    assert record["status"] == "paused" and "T001 awaits approval" in str(record["error"])
    assert record["output"]["awaiting"] == ["T001"]  # type: ignore[index]
    assert git(root, "rev-parse", "HEAD") == head  # nothing lands before it is approved

    # meanwhile spec-kit's current feature moves on; resuming continues the one sdd started
    (root / ".specify" / "feature.json").write_text('{"feature_directory": "specs/002-other"}')

    outcome, shown = workflow(root, "resume", str(run_id), "--input", "decision=approve")
    assert outcome["status"] == "paused" and "sdd paused: T002 awaits approval" in shown
    assert [t for t, _ in task_commits(root)] == ["T001"]

    # an answer is used once: resuming again without one leaves T002 waiting
    outcome, shown = workflow(root, "resume", str(run_id))
    assert outcome["status"] == "paused" and "sdd paused: T002 awaits approval" in shown
    assert [t for t, _ in task_commits(root)] == ["T001"]

    # a rejection goes back to the agent with its note, and the task is held again
    note = "name the function multiply, not mul"
    outcome, shown = workflow(
        root, "resume", str(run_id), "--input", "decision=reject", "--input", f"note={note}"
    )
    assert outcome["status"] == "paused" and "sdd paused: T002 awaits approval" in shown
    transcript = sdd(root, "show", "001-calc", "T002", "--json").stdout
    assert note in transcript

    outcome, shown = workflow(root, "resume", str(run_id), "--input", "decision=approve")
    assert outcome["status"] == "completed", shown
    landed = task_commits(root)
    assert [t for t, _ in landed] == ["T001", "T002"]
    assert all(
        "Sdd-Feature: 001-calc" in git(root, "log", "-1", "--format=%(trailers)", sha)
        for _, sha in landed
    )
    assert "All 2 tasks landed." in shown
    record = step_record(root, run_id)
    assert record["status"] == "completed"
    output = record["output"]
    assert output["status"] == "finished"  # type: ignore[index]
    assert [(c["task"], c["commit"]) for c in output["landed"]] == landed  # type: ignore[index]
    tasks_md = (root / "specs" / "001-calc" / "tasks.md").read_text()
    assert "- [X] T001" in tasks_md and "- [X] T002" in tasks_md
    assert git(root, "status", "--porcelain") == ""
    status = specify(root, "workflow", "status", str(run_id)).stdout
    assert re.search(r"Status:\s+completed", status)


def test_a_failed_task_pauses_the_workflow_with_sdds_reason(set_up: Callable[..., Path]) -> None:
    root = set_up(BROKEN, approve="never", attempts=1)
    outcome, shown = workflow(root, "run", "sdd-implement")
    run_id = outcome["run_id"]
    assert outcome["status"] == "paused", shown
    record = step_record(root, run_id)
    assert str(record["error"]).startswith("T001 failed")
    assert f"sdd paused: {record['error']}" in shown
    assert f"Resume with: specify workflow resume {run_id}\n" in shown
    assert task_commits(root) == []
    assert git(root, "status", "--porcelain") == ""  # the failed attempts left nothing behind

    script(root, GOOD)  # the cause is dealt with; resuming the workflow resumes sdd
    outcome, shown = workflow(root, "resume", str(run_id))
    assert outcome["status"] == "completed", shown
    assert [t for t, _ in task_commits(root)] == ["T001", "T002", "T003"]


def test_ctrl_c_lets_the_task_finish_and_pauses_the_workflow(
    set_up: Callable[..., Path], tmp_path: Path
) -> None:
    root = set_up(GOOD, approve="never", tasks_md=TWO_TASKS)
    script(root, GOOD, latency=1.0)  # each model turn takes a second: time to press Ctrl-C
    log = tmp_path / "workflow.out"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(specify_executable()), "workflow", "run", "sdd-implement"],
            cwd=root,
            env=tool_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C from a terminal reaches specify, as here
        )
    try:
        wait_until(lambda: "T001 Create calc/add.py" in log.read_text(), "T001 to start")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    shown = log.read_text()
    assert "Ctrl-C: finishing the current task, then pausing" in shown  # sdd got it, once
    assert "sdd paused: interrupted by Ctrl-C" in shown
    run_id = re.search(r"Run ID: (\S+)", shown)[1]  # type: ignore[index]
    assert step_record(root, run_id)["status"] == "paused"
    assert [t for t, _ in task_commits(root)] == ["T001"]  # the task in flight finished
    assert git(root, "status", "--porcelain") == ""


def test_bad_input_fails_the_step_with_sdds_error(set_up: Callable[..., Path]) -> None:
    root = set_up(GOOD, approve="never")
    done = specify(root, "workflow", "run", "sdd-implement", "--input", "feature=042", "--json")
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "failed"
    assert outcome["error"] == "feature `042` not found; features: 001-calc"
    assert task_commits(root) == []
