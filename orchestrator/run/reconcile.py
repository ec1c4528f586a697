"""Which tasks of tasks.md as it is now have landed, by the text of each landing commit and
not only its id: regenerating tasks.md (`/speckit-tasks`) renumbers tasks, and an old commit's
`Sdd-Task: T002` may now name a different task. Pure.

A landing whose text one task has is that task's, whatever its id now. A text that several
tasks share is settled by the id, else by which of them is ticked, else it is a question for
the user. A text that no task has any more lands nothing: the task now holding its id has not
landed and will run, which is said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.errors import InputError
from orchestrator.git.history import Landing
from orchestrator.git.trailers import ELLIPSIS, subject_line
from orchestrator.speckit.tasks import Task


def same_text(landed: str, description: str, task_id: str) -> bool:
    """Whether a commit subject's text (cut with an ellipsis when long) is `description`."""
    text = subject_line(task_id, description).removeprefix(f"{task_id}: ")
    if text == task_id:  # no description
        text = ""
    if landed == text:
        return True
    stem = landed.removesuffix(ELLIPSIS)
    whole = " ".join(description.split())
    return landed.endswith(ELLIPSIS) and len(stem) >= 20 and whole.startswith(stem)


def reconcile(
    landings: Sequence[Landing], tasks: Mapping[str, Task]
) -> tuple[dict[str, str], list[str]]:
    """(current task id -> its landing commit, notes for the user); raises InputError with a
    question when a landing could be one of several tasks."""
    landed: dict[str, str] = {}
    notes: list[str] = []
    for landing in landings:
        sha = landing.sha[:10]
        matches = [t for t in tasks.values() if same_text(landing.text, t.description, t.id)]
        ticked = [t for t in matches if t.done]
        if any(t.id == landing.task_id for t in matches):
            target = landing.task_id
        elif len(matches) == 1:
            target = matches[0].id
        elif len(ticked) == 1:
            target = ticked[0].id
        elif matches:
            ids = ", ".join(t.id for t in matches)
            raise InputError(
                f"tasks.md changed since {landing.task_id} landed as {sha} "
                f"(“{landing.text}”): {ids} now have that text, and sdd cannot tell which "
                "one it was; tick that one ([x]) in tasks.md, then run again"
            )
        else:
            now = tasks.get(landing.task_id)
            if now is None:
                notes.append(f"{landing.task_id} landed as {sha} but is no longer in tasks.md")
            elif landing.task_id not in landed:
                notes.append(
                    f"{landing.task_id} landed as {sha} for “{landing.text}”, which tasks.md "
                    f"no longer has; {now.id} there now is another task and will run "
                    "(tick it in tasks.md if it is the same task reworded)"
                )
            continue
        landed.setdefault(target, landing.sha)
    return landed, notes
