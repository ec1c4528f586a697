"""tasks.md renumbered or edited after tasks landed: landings are matched to today's tasks by
their text (pure), and task text reaches a terminal only with its control characters escaped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.errors import InputError, TaskParseError
from orchestrator.git.history import Landing
from orchestrator.git.trailers import subject_line
from orchestrator.run.reconcile import reconcile, same_text
from orchestrator.speckit.tasks import parse_tasks
from orchestrator.verify import runner

BEFORE = """## Phase 1: Setup

- [x] T001 Create calc/add.py with add(a, b)
- [x] T002 Create calc/mul.py with mul(a, b)
- [ ] T003 Run the test suite
"""
# /speckit-tasks regenerated: a new task took T002, the rest moved down
AFTER = """## Phase 1: Setup

- [x] T001 Create calc/add.py with add(a, b)
- [ ] T002 Write tests for mul in tests/test_mul.py
- [ ] T003 Create calc/mul.py with mul(a, b)
- [ ] T004 Run the test suite
"""


def landing(task_id: str, description: str, sha: str) -> Landing:
    text = subject_line(task_id, description).removeprefix(f"{task_id}: ")
    return Landing(task_id, sha * 40, text)


def tasks(text: str) -> dict:
    return {t.id: t for t in parse_tasks(text).tasks}


LANDED = [
    landing("T002", "Create calc/mul.py with mul(a, b)", "b"),
    landing("T001", "Create calc/add.py with add(a, b)", "a"),
]


def test_a_renumbered_task_is_found_by_its_text_and_the_new_one_is_not_landed() -> None:
    landed, notes = reconcile(LANDED, tasks(AFTER))
    assert landed == {"T001": "a" * 40, "T003": "b" * 40}
    assert "T002" not in landed  # the new task: never shown as landed by the old commit
    assert notes == []


def test_the_same_ids_and_texts_land_as_before() -> None:
    landed, _ = reconcile(LANDED, tasks(BEFORE))
    assert landed == {"T001": "a" * 40, "T002": "b" * 40}


def test_a_text_no_task_has_any_more_lands_nothing_and_says_so() -> None:
    text = AFTER.replace("Create calc/mul.py with mul(a, b)", "Create calc/times.py")
    landed, notes = reconcile(LANDED, tasks(text))
    assert landed == {"T001": "a" * 40}
    assert len(notes) == 1 and "T002 landed as bbbbbbbbbb" in notes[0]
    assert "will run" in notes[0] and "tick it" in notes[0]


def test_a_text_several_tasks_share_is_a_question_unless_one_is_ticked() -> None:
    twice = "- [ ] T005 Run the test suite\n- [ ] T006 Run the test suite\n"
    ran = [landing("T004", "Run the test suite", "c")]
    with pytest.raises(InputError, match=r"T005, T006 now have that text.*tick that one"):
        reconcile(ran, tasks(twice))
    landed, _ = reconcile(ran, tasks(twice.replace("[ ] T006", "[x] T006")))
    assert landed == {"T006": "c" * 40}
    landed, _ = reconcile([landing("T005", "Run the test suite", "d")], tasks(twice))
    assert landed == {"T005": "d" * 40}  # the id settles it


def test_long_texts_match_through_the_cut_subject() -> None:
    long = "Implement the repository layer for todos with SQLAlchemy 2 async sessions and tests"
    cut = subject_line("T009", long).removeprefix("T009: ")
    assert cut.endswith("…")
    assert same_text(cut, long, "T100")
    assert not same_text(cut, long.replace("repository", "service"), "T100")


def test_control_characters_in_task_text_are_escaped() -> None:
    text = (
        "## Phase 1: Set\x1b]0;pwned\x07up\n\n- [ ] T001 Add \x1b[31mred\x1b[0m text \u202eevil\n"
    )
    parsed = parse_tasks(text)
    task = parsed.tasks[0]
    assert "\x1b" not in task.description and "\u202e" not in task.description
    assert task.description == "Add \\x1b[31mred\\x1b[0m text \\u202eevil"
    assert "\x07" not in parsed.phases[task.phase].title


def test_a_task_that_depends_on_itself_is_an_error() -> None:
    with pytest.raises(TaskParseError, match="T002 depends on itself"):
        parse_tasks("- [ ] T001 Do a\n- [ ] T002 Do b (depends on T002)\n")


def test_stale_verification_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    import tempfile

    pid = os.getpid()
    gone = Path(tempfile.mkdtemp(prefix=f"sdd-verify-{2**22 + 1}-"))  # above any pid_max
    mine = Path(tempfile.mkdtemp(prefix=f"sdd-verify-{pid}-"))
    try:
        runner.clean_stale_dirs()
        assert not gone.exists() and mine.exists()
    finally:
        for folder in (gone, mine):
            if folder.exists():
                folder.rmdir()
