"""`sdd diff`, `show`, `undo` and `retry` on a project landed by a real scripted run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from test_run_e2e import ADD, git, make_project, run, store, write, write_script

from orchestrator.errors import GitStateError, InputError
from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import make_plan
from orchestrator.run.lock import take_lock
from orchestrator.run.undo import undo_task
from orchestrator.views.commits import task_diff
from orchestrator.views.transcripts import clip, read_attempts, render_transcript

FEATURE = "001-calc"
# T001..T003 sit on adjacent lines, so their ticks would conflict in a textual revert.
TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b) and set A in calc/settings.py
- [ ] T002 Create calc/sub.py with sub(a, b)
- [ ] T003 Set Z in calc/settings.py
"""
SETTINGS = "A = 1\n" + "".join(f"# line {i}\n" for i in range(8)) + "Z = 1\n"
SUB = "def sub(a, b):\n    return a - b\n"


def edit(path: str, old: str, new: str) -> dict:
    return {"Edit": {"file_path": path, "old_string": old, "new_string": new}}


def base_test(body: str) -> dict:
    return write("tests/test_base.py", f"def test_base():\n    assert {body}\n")


SCRIPT = {
    "T001": [  # attempt 1 breaks a passing test, attempt 2 repairs it
        {"tools": [write("calc/add.py", ADD), edit("calc/settings.py", "A = 1", "A = 2")]},
        {"tools": [base_test("False")]},
        {"text": "Added add()."},
        {"tools": [base_test("True")]},
        {"text": "Restored test_base."},
    ],
    "T002": [{"tools": [write("calc/sub.py", SUB)]}, {"text": "Added sub()."}],
    "T003": [{"tools": [edit("calc/settings.py", "Z = 1", "Z = 2")]}, {"text": "Set Z."}],
}


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("template"), TASKS)
    (root / "calc" / "settings.py").write_text(SETTINGS)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "settings")
    status, reason, _ = run(root, write_script(root, SCRIPT))
    assert (status, reason) == ("finished", "")
    return root


@pytest.fixture
def proj(landed: Path, tmp_path: Path) -> Path:
    """A private copy of the landed project, so each test may rewrite its history."""
    root = tmp_path / "proj"
    shutil.copytree(landed, root, symlinks=True)
    write_script(root, SCRIPT)
    return root


def sdd(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )


def refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 and one line on stderr naming every word, never a traceback."""
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def landed_ids(root: Path) -> dict[str, str]:
    return history.task_commits(GitRepo(root), FEATURE)


def tasks_md(root: Path) -> bytes:
    return (root / "specs" / FEATURE / "tasks.md").read_bytes()


# ---------------------------------------------------------------- diff


@pytest.mark.slow
def test_diff_is_the_task_commit_patch_or_stat(landed: Path) -> None:
    feature_dir = landed / "specs" / FEATURE
    patch = task_diff(landed, feature_dir, "t002", stat=False, color=False)
    assert "T002: Create calc/sub.py" in patch and "+def sub(a, b):" in patch
    assert "+- [X] T002" in patch and "a/calc/add.py" not in patch
    stat = task_diff(landed, feature_dir, "T2", stat=True, color=False)
    assert "calc/sub.py" in stat and "|" in stat and "def sub" not in stat
    piped = sdd(landed, "diff", FEATURE, "T002")
    assert piped.returncode == 0 and "+def sub(a, b):" in piped.stdout
    assert "\x1b[" not in piped.stdout  # no colour into a pipe


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("t5", "T005"),
        ("T0005", "T005"),
        ("t012a", "T012a"),
        ("T041", "nearby: T036, T037, T038, T039, T040"),
        ("T7b", "nearby: T005, T006, T007, T008, T009"),
        ("US1", "no task US1 in 001-calc/tasks.md"),
    ],
)
def test_task_ids_are_matched_loosely_and_misses_list_nearby_ids(
    tmp_path: Path, query: str, found: str
) -> None:
    lines = [f"- [ ] T{i:03d} Step {i}" for i in range(1, 41)] + ["- [ ] T012a Step 12a"]
    root = make_project(tmp_path, "# Tasks\n\n## Phase 1: All\n\n" + "\n".join(lines) + "\n")
    plan = make_plan(root, root / "specs" / FEATURE)
    if found.startswith("T"):
        assert plan.find_task(query).id == found
    else:
        with pytest.raises(InputError, match=re.escape(found)):
            plan.find_task(query)


@pytest.mark.slow
def test_unknown_task_on_the_command_line_is_one_line(landed: Path) -> None:
    refused(sdd(landed, "diff", FEATURE, "T099"), "no task T099", "nearby: T001, T002, T003")


# ---------------------------------------------------------------- show


@pytest.mark.slow
def test_show_renders_every_attempt_with_tools_and_verification(landed: Path) -> None:
    task_id, attempts = read_attempts(landed, landed / "specs" / FEATURE, "t001")
    assert task_id == "T001" and [n for n, _ in attempts] == [1, 2]
    console = Console(record=True, width=200)
    console.print(render_transcript(task_id, attempts))
    text = console.export_text()
    assert "T001 attempt 1: failed" in text and "T001 attempt 2: passed" in text
    assert "verification failed" in text and "test_base" in text
    assert "▶ Write(file_path=calc/add.py, content=def add(a, b):\\n" in text
    assert "Added add()." in text and "Restored test_base." in text
    assert text.index("attempt 1") < text.index("verification failed") < text.index("attempt 2")

    only = sdd(landed, "show", FEATURE, "T001", "--attempt", "2")
    assert only.returncode == 0, only.stderr
    assert "attempt 2: passed" in only.stdout and "attempt 1:" not in only.stdout
    assert "Verification failed (attempt 1 of 3)" in only.stdout  # the feedback it was sent


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        ("a\nb\nc", 3, "a\nb\nc"),
        ("\n".join("12345"), 3, "1\n2\n[… 2 lines cut …]\n5"),
        ("\n".join("12345"), 1, "1\n[… 4 lines cut …]"),
        ("x" * 12, 5, "x" * 10 + "… [2 characters cut]"),
    ],
)
def test_clip_keeps_head_and_tail_and_says_what_it_cut(text: str, keep: int, expected: str) -> None:
    assert clip(text, keep, width=10) == expected


@pytest.mark.slow
def test_show_json_is_the_events_as_json_lines(landed: Path) -> None:
    done = sdd(landed, "show", FEATURE, "T001", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {e["attempt"] for e in events} == {1, 2}
    kinds = [e["type"] for e in events if e["attempt"] == 1]
    assert kinds[0] == "user" and kinds[-1] == "outcome" and "tool" in kinds and "verify" in kinds
    verify = next(e for e in events if e["type"] == "verify" and e["attempt"] == 1)
    assert verify["passed"] is False and "test_base" in verify["output"]


@pytest.mark.slow
def test_show_without_transcript_or_attempt_is_refused(proj: Path) -> None:
    with pytest.raises(InputError, match=r"T001 has no attempt 7 \(attempts: 1, 2\)"):
        read_attempts(proj, proj / "specs" / FEATURE, "T001", 7)
    shutil.rmtree(proj / ".sdd" / "transcripts" / FEATURE / "T003")
    refused(sdd(proj, "show", FEATURE, "T003"), "no transcript for T003")


# ---------------------------------------------------------------- undo


@pytest.mark.slow
def test_undo_reverts_the_change_and_unticks_only_that_task(proj: Path) -> None:
    before, ticked = head(proj), tasks_md(proj)
    done = sdd(proj, "undo", FEATURE, "t002")
    assert done.returncode == 0, done.stderr
    assert git(proj, "rev-list", f"{before}..HEAD").split() == [head(proj)]  # one new commit
    message = git(proj, "log", "-1", "--format=%B")
    assert message.startswith('Revert "T002: Create calc/sub.py')
    assert "Sdd-Revert: T002" in message and f"Sdd-Feature: {FEATURE}" in message
    assert not (proj / "calc" / "sub.py").exists()
    assert tasks_md(proj) == ticked.replace(b"- [X] T002", b"- [ ] T002")
    assert git(proj, "status", "--porcelain") == ""
    assert set(landed_ids(proj)) == {"T001", "T003"}
    record = store(proj).task(FEATURE, "T002")
    assert record is not None
    assert (record.status, record.commit_sha, record.attempts) == ("pending", "", 1)
    status = json.loads(sdd(proj, "status", FEATURE, "--json").stdout)
    states = {t["task"]: t["state"] for t in status["tasks"]}
    assert states == {"T001": "landed", "T002": "pending", "T003": "landed"}
    # undone means not landed: diff and a second undo say so
    refused(sdd(proj, "diff", FEATURE, "T002"), "T002 has not landed")
    refused(sdd(proj, "undo", FEATURE, "T002"), "T002 has not landed")


@pytest.mark.slow
def test_undo_refuses_when_a_later_task_touched_the_files_unless_forced(proj: Path) -> None:
    before = head(proj)
    refused(sdd(proj, "undo", FEATURE, "T001"), "T003", "calc/settings.py", "--force")
    assert head(proj) == before and git(proj, "status", "--porcelain") == ""
    done = sdd(proj, "undo", FEATURE, "T001", "--force")
    assert done.returncode == 0, done.stderr
    # a three-way revert: T001's line goes back, T003's later line stays
    assert (proj / "calc" / "settings.py").read_text() == SETTINGS.replace("Z = 1", "Z = 2")
    assert not (proj / "calc" / "add.py").exists()
    assert set(landed_ids(proj)) == {"T002", "T003"}


@pytest.mark.slow
def test_undo_that_conflicts_is_aborted_leaving_the_tree_clean(proj: Path) -> None:
    (proj / "calc" / "sub.py").write_text(SUB + "\n\ndef neg(a):\n    return -a\n")
    git(proj, "commit", "-q", "-am", "my own change to sub.py")
    before = head(proj)
    with pytest.raises(GitStateError, match=r"cannot revert .* calc/sub\.py"):
        undo_task(proj, proj / "specs" / FEATURE, "T002")
    assert head(proj) == before and git(proj, "status", "--porcelain") == ""
    assert "T002" in landed_ids(proj)
    assert store(proj).task(FEATURE, "T002").status == "landed"  # type: ignore[union-attr]


@pytest.mark.slow
def test_undo_refuses_a_dirty_tree_and_a_task_that_never_landed(proj: Path) -> None:
    (proj / "notes.txt").write_text("mine")
    refused(sdd(proj, "undo", FEATURE, "T002"), "uncommitted", "notes.txt")
    assert (proj / "notes.txt").read_text() == "mine" and "T002" in landed_ids(proj)
    fresh = make_project(proj.parent / "fresh", TASKS)
    with pytest.raises(InputError, match="T001 has not landed"):
        undo_task(fresh, fresh / "specs" / FEATURE, "T001")


@pytest.mark.slow
def test_undo_waits_for_no_run_holding_the_feature_lock(proj: Path) -> None:
    lock = take_lock(proj, FEATURE)
    try:
        refused(sdd(proj, "undo", FEATURE, "T002"), "another sdd run")
    finally:
        lock.close()
    assert "T002" in landed_ids(proj)


@pytest.mark.slow
def test_rewritten_history_finds_the_commit_by_trailer_or_says_it_is_gone(proj: Path) -> None:
    git(proj, "commit", "-q", "--amend", "--no-edit", "--date=2001-01-01T00:00:00")  # T003 is HEAD
    recorded = store(proj).task(FEATURE, "T003").commit_sha  # type: ignore[union-attr]
    assert landed_ids(proj)["T003"] == head(proj) != recorded
    assert "T003" in task_diff(proj, proj / "specs" / FEATURE, "T003", stat=True, color=False)
    git(proj, "reset", "-q", "--hard", "HEAD~1")  # T003 gone from the branch, the record stays
    with pytest.raises(GitStateError, match=f"{recorded[:10]} of T003 is not on the current"):
        task_diff(proj, proj / "specs" / FEATURE, "T003", stat=True, color=False)
    git(proj, "reflog", "expire", "--expire=now", "--all")
    git(proj, "gc", "-q", "--prune=now")
    refused(sdd(proj, "undo", FEATURE, "T003"), recorded[:10], "not found", "rewritten")


# ---------------------------------------------------------------- retry


@pytest.mark.slow
def test_retry_lands_the_task_again_as_a_new_commit(proj: Path) -> None:
    before, ticked = head(proj), tasks_md(proj)
    model = f"scripted:{proj.parent / 'script.yaml'}"
    done = sdd(proj, "retry", FEATURE, "T002", "--model", model, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    said = json.loads(done.stdout)  # the run's outcome, as `sdd run --json` gives it
    assert (said["status"], said["exit_code"], said["next"]) == ("finished", 0, [])
    assert [r["task"] for r in said["landed"]] == ["T001", "T002", "T003"]
    new = git(proj, "log", "--format=%s", f"{before}..HEAD").splitlines()
    subject = "T002: Create calc/sub.py with sub(a, b)"
    assert new == [subject, f'Revert "{subject}"']
    assert landed_ids(proj)["T002"] == head(proj)
    assert (proj / "calc" / "sub.py").read_text() == SUB and tasks_md(proj) == ticked
    record = store(proj).task(FEATURE, "T002")
    assert record is not None and (record.status, record.commit_sha) == ("landed", head(proj))
    _, attempts = read_attempts(proj, proj / "specs" / FEATURE, "T002")
    assert [n for n, _ in attempts] == [1, 2]  # the new attempt did not overwrite the old


@pytest.mark.slow
def test_undo_refuses_while_a_landed_task_depends_on_it_and_status_says_not_finished(
    tmp_path: Path,
) -> None:
    tasks = TASKS + "- [ ] T004 Write NOTES.md (depends on T002)\n"
    root = make_project(tmp_path, tasks)
    (root / "calc" / "settings.py").write_text(SETTINGS)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "settings")
    notes = [{"tools": [write("NOTES.md", "notes\n")]}, {"text": "Notes."}]
    script = write_script(root, SCRIPT | {"T004": notes})
    assert run(root, script)[:2] == ("finished", "")
    before = head(root)
    # T004 shares no file with T002, but the graph says it builds on it
    refused(sdd(root, "undo", FEATURE, "T002"), "T004 depends on T002", "--force")
    assert head(root) == before and git(root, "status", "--porcelain") == ""
    assert "T002" in landed_ids(root)
    done = sdd(root, "undo", FEATURE, "T004")
    assert done.returncode == 0, done.stderr
    status = json.loads(sdd(root, "status", FEATURE, "--json").stdout)
    assert status["run"]["status"] == "paused"  # no longer finished
    assert (
        "T004 undone" in status["run"]["reason"] and f"sdd run {FEATURE}" in status["run"]["reason"]
    )
    assert sdd(root, "undo", FEATURE, "T002").returncode == 0  # nothing builds on it now


@pytest.mark.slow
def test_retry_checks_the_model_before_it_reverts_anything(proj: Path) -> None:
    before, ticked = head(proj), tasks_md(proj)
    exclude = (proj / ".git" / "info" / "exclude").read_bytes()
    done = sdd(proj, "retry", FEATURE, "T002", "--model", "claude-sonnet-4-5")
    refused(done, "ANTHROPIC_API_KEY")
    assert head(proj) == before and tasks_md(proj) == ticked  # no revert commit left behind
    assert git(proj, "status", "--porcelain") == ""
    assert (proj / ".git" / "info" / "exclude").read_bytes() == exclude
    record = store(proj).task(FEATURE, "T002")
    assert record is not None and record.status == "landed"


@pytest.mark.slow
def test_commit_keeps_the_task_line_and_every_attempt_s_summary(landed: Path) -> None:
    sha = landed_ids(landed)["T001"]
    message = git(landed, "log", "-1", "--format=%B", sha)
    subject, _, rest = message.partition("\n\n")
    assert subject == "T001: Create calc/add.py with add(a, b) and set A in calc/settings.py"
    body = rest.split("\n\n")
    assert body[0] == "T001 Create calc/add.py with add(a, b) and set A in calc/settings.py"
    assert body[1] == "Attempt 1 (failed): Added add()."  # what the first attempt built
    assert body[2] == "Attempt 2 (passed): Restored test_base."
    assert body[3].startswith("Sdd-Task: T001\n")
