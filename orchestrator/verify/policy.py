"""The verification gate: decides whether a task's change may land.

Policy, per task (each rule exists because an agent got it wrong somewhere):
- A test that passed at the task's base and fails now blocks the task (it broke something).
- Tests already red at the base are not the task's fault and never block it.
- A TDD test-writing task may leave the tests it wrote red: spec-kit says they MUST fail before
  the implementation exists. Their files are recorded as expected-red.
- Expected-red files may stay red until the end of their phase: the last task of a phase that
  contains implementation work must leave them green (the phase checkpoint).
- Changed Python files must compile.
- A command other than pytest must exit 0 unless it already failed at the base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orchestrator.speckit.tasks import Task, TaskList
from orchestrator.text import cap

_TEST_WORDS = re.compile(r"\btests?\b|\btdd\b|test-first|contract test", re.IGNORECASE)
_CHECK_VERBS = re.compile(
    r"^\W*(run|verify|validate|check|confirm|execute|review|measure|ensure all)\b", re.IGNORECASE
)
OUTPUT_CAP = 12_000


@dataclass(slots=True)
class CommandResult:
    command: str
    exit_code: int
    output: str
    failing: set[str] = field(default_factory=set)  # pytest test ids ("file::name")
    structured: bool = False  # True when pytest reported per-test results


@dataclass(slots=True)
class Snapshot:
    """Outcome of running the verify commands once on a tree."""

    results: list[CommandResult]
    compile_errors: list[str] = field(default_factory=list)

    @property
    def failing(self) -> set[str]:
        return set().union(*(r.failing for r in self.results)) if self.results else set()

    def failed_commands(self) -> set[str]:
        return {r.command for r in self.results if r.exit_code not in (0, 5) and not r.structured}


@dataclass(slots=True)
class Verdict:
    passed: bool
    output: str  # what the agent and the transcript see
    expected_red: dict[str, str]  # test file -> task id, after this task
    new_expected: list[str] = field(default_factory=list)


def test_file_of(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (
        name.startswith("test_")
        or name.endswith(("_test.py", ".test.ts", ".spec.ts"))
        or name == "conftest.py"
        or "/tests/" in f"/{path}"
    )


def is_test_task(task: Task, phase_title: str) -> bool:
    """A task whose job is writing tests (by its words or its section/phase heading)."""
    heading = f"{task.section} {phase_title}"
    return bool(_TEST_WORDS.search(task.description) or _TEST_WORDS.search(heading)) and all(
        is_test_path(f) for f in task.files
    )


def is_phase_end(
    tasklist: TaskList, task: Task, done: set[str], running: frozenset[str] = frozenset()
) -> bool:
    """Last pending task of a phase that contains implementation (not only test writing):
    the task whose verification must find the phase's expected-red tests green.

    A task working beside others of its phase (`running`) is not the end: they have not
    landed in its tree, so the phase's tests cannot be expected green there yet.
    """
    phase_tasks = [t for t in tasklist.tasks if t.phase == task.phase]
    title = tasklist.phases[task.phase].title
    if all(is_test_task(t, title) for t in phase_tasks):
        return False
    if any(t.id != task.id and t.id in running for t in phase_tasks):
        return False
    return not any(t.id != task.id and t.id not in done and t.line > task.line for t in phase_tasks)


def is_check_task(task: Task) -> bool:
    """A task that only runs or inspects things, so changing nothing is its honest outcome."""
    return bool(_CHECK_VERBS.match(task.description))


def judge(
    now: Snapshot,
    base: Snapshot,
    *,
    task_id: str,
    changed: Sequence[str],
    expected_red: Mapping[str, str],
    test_task: bool,
    phase_end: bool,
) -> Verdict:
    """Apply the policy in the module docstring. Pure: two snapshots in, a verdict out."""
    reasons: list[str] = []
    red = dict(expected_red)
    new_expected: list[str] = []
    failing_now = now.failing
    new_failures = failing_now - base.failing
    changed_tests = {c for c in changed if is_test_path(c)}
    for test in sorted(new_failures):
        file = test_file_of(test)
        if file in red:
            continue
        if test_task and file in changed_tests:
            red[file] = task_id
            new_expected.append(file)
            continue
        reasons.append(f"broke {test}")
    still_red = {test_file_of(t) for t in failing_now}
    red = {f: t for f, t in red.items() if f in still_red}  # green files leave the set
    if phase_end and red:
        reasons += [
            f"end of phase: {f} (tests written by {t}) must pass now" for f, t in red.items()
        ]
    for cmd in sorted(now.failed_commands() - base.failed_commands()):
        reasons.append(f"command failed: {cmd}")
    reasons += now.compile_errors
    passed = not reasons
    body = [("PASSED" if passed else "FAILED: " + "; ".join(reasons))]
    if new_expected:
        body.append("expected red (TDD tests written first): " + ", ".join(new_expected))
    for r in now.results:
        body.append(f"$ {r.command}\n[exit {r.exit_code}]\n{r.output.strip()}")
    body += now.compile_errors
    output = cap("\n\n".join(body), OUTPUT_CAP)
    return Verdict(passed, output, red if passed else dict(expected_red), new_expected)
