"""Commit messages: subject shortening, layout, and trailers that git itself reads back."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.git.trailers import (
    ELLIPSIS,
    SUBJECT_LIMIT,
    parse_trailers,
    revert_commit_message,
    subject_line,
    task_commit_message,
)

TRAILERS = {
    "Sdd-Task": "T005",
    "Sdd-Feature": "001-todo-api",
    "Sdd-Agent": "fastapi-backend-dev",
    "Sdd-Run": "run-7f3a",
    "Sdd-Attempts": "2",
}
LONG = (
    "Implement the `TodoService.update` method in src/services/todo_service.py with "
    "validation of the title length and the due date"
)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Create project structure", "T005: Create project structure"),
        ("  Add `GET /todos`\n  endpoint\tin api.py ", "T005: Add `GET /todos` endpoint in api.py"),
        ("", "T005"),
        (
            LONG,
            f"T005: Implement the `TodoService.update` method in{ELLIPSIS}",
        ),
        ("x" * 100, f"T005: {'x' * (SUBJECT_LIMIT - 7)}{ELLIPSIS}"),
        ("Add models, " + "y" * 70, f"T005: Add models{ELLIPSIS}"),
    ],
)
def test_subject_line(description: str, expected: str) -> None:
    subject = subject_line("T005", description)
    assert subject == expected
    assert len(subject) <= SUBJECT_LIMIT
    assert "\n" not in subject


def test_subject_exactly_at_the_limit_is_not_shortened() -> None:
    description = "a" * (SUBJECT_LIMIT - len("T005: "))
    assert subject_line("T005", description) == f"T005: {description}"
    assert subject_line("T005", description + "b").endswith(ELLIPSIS)


def test_message_layout_with_summary() -> None:
    summary = "\n\nAdded the endpoint.  \r\nTests cover 404.\n\n"
    message = task_commit_message("T005", "Add endpoint", summary, TRAILERS)
    assert message == (
        "T005: Add endpoint\n"
        "\n"
        "Added the endpoint.\n"
        "Tests cover 404.\n"
        "\n"
        "Sdd-Task: T005\n"
        "Sdd-Feature: 001-todo-api\n"
        "Sdd-Agent: fastapi-backend-dev\n"
        "Sdd-Run: run-7f3a\n"
        "Sdd-Attempts: 2\n"
    )


@pytest.mark.parametrize("summary", ["", "   \n\n  "])
def test_empty_summary_omits_the_body(summary: str) -> None:
    message = task_commit_message("T001", "Setup", summary, {"Sdd-Task": "T001"})
    assert message == "T001: Setup\n\nSdd-Task: T001\n"
    assert parse_trailers(message) == {"Sdd-Task": "T001"}


def test_trailer_values_are_one_line_and_keys_are_checked() -> None:
    message = task_commit_message("T001", "Setup", "", {"Sdd-Run": "a\nb"})
    assert message.endswith("Sdd-Run: a b\n")
    with pytest.raises(ValueError, match="not a trailer key"):
        task_commit_message("T001", "Setup", "", {"Sdd Task": "T001"})


def test_markdown_summary_keeps_headings_and_defuses_dashes() -> None:
    summary = "## Changes\n\n- added api.py\n\n---\n\nSdd-Task: T999"
    message = task_commit_message("T005", "Add endpoint", summary, TRAILERS)
    assert "## Changes" in message
    assert "\n ---\n" in message  # a bare `---` would end the message for `git am`
    assert parse_trailers(message) == TRAILERS  # the summary's look-alike is not a trailer


def test_revert_message_names_the_task() -> None:
    message = revert_commit_message("T005", "001-todo-api", "T005: Add endpoint", "ab" * 20)
    assert message.startswith('Revert "T005: Add endpoint"\n\nThis reverts commit abab')
    assert parse_trailers(message) == {"Sdd-Revert": "T005", "Sdd-Feature": "001-todo-api"}


def _git_parse(message: str, home: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    out = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
        cwd=home,
        env=env,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        found.pop(key, None)
        found[key] = value.strip()
    return found


AGREE_WITH_GIT = [
    task_commit_message("T005", LONG, "Did it.\n\nNote: see api.py", TRAILERS),
    task_commit_message("T001", "Setup", "", TRAILERS),
    "T001: subject only\n",
    "T001: trailers in the title\nSdd-Task: T001\nSdd-Feature: f\n",
    "Sdd-Task: T001\n",
    "Subject\n\nbody\nSdd-Task: T001\n",  # a quarter is not enough without a git trailer
    "Subject\n\nbody line\nSigned-off-by: A <a@x>\nSdd-Task: T001\n",
    "Subject\n\n(cherry picked from commit abc)\nSdd-Task: T001\n",
    "Subject\n\nSdd-Task: T001\nSdd-Note: first\n  folded on\nSdd-Task: T002\n",
    "Subject\n\nbody\n\nSdd-Task : T001\nSdd-Feature:f\n\n\n",
    "Subject\r\n\r\nSdd-Task: T001\r\n",
]


@pytest.mark.parametrize("message", AGREE_WITH_GIT)
def test_parse_trailers_agrees_with_git(message: str, tmp_path: Path) -> None:
    assert parse_trailers(message) == _git_parse(message, tmp_path)


def test_parse_trailers_reads_back_every_key() -> None:
    trailers = {**TRAILERS, "Sdd-Kind": "check"}
    message = task_commit_message("T009", "Check `pytest` passes", "All green.", trailers)
    assert parse_trailers(message) == trailers


def test_body_starts_with_the_whole_task_line_and_keeps_every_attempt() -> None:
    from orchestrator.agent.loop import AttemptReport
    from orchestrator.agent.model import Usage
    from orchestrator.run.landing import commit_body
    from orchestrator.speckit.tasks import Task
    from orchestrator.store.records import Outcome

    line = f"- [ ] T005 [P] [US1] {LONG}"
    task = Task("T005", LONG, line=3, phase=0, parallel=True, story="US1")
    tasks_md = f"# Tasks\n\n{line}\n"

    def report(n: int, outcome: Outcome, summary: str) -> AttemptReport:
        return AttemptReport(n, outcome, None, Usage(), 0.0, "", summary)

    one = commit_body(tasks_md, task, [report(1, Outcome.PASSED, "Built it.")])
    assert one == f"T005 [P] [US1] {LONG}\n\nBuilt it."
    two = commit_body(
        tasks_md,
        task,
        [report(1, Outcome.FAILED, "Built the service."), report(2, Outcome.PASSED, "Fixed.")],
    )
    assert two.split("\n\n")[1:] == [
        "Attempt 1 (failed): Built the service.",
        "Attempt 2 (passed): Fixed.",
    ]
    message = task_commit_message("T005", LONG, two, TRAILERS)
    assert len(message.splitlines()[0]) <= SUBJECT_LIMIT
    assert parse_trailers(message)["Sdd-Task"] == "T005"
