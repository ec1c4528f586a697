"""The verification gate: decides whether a task's change may land.

Policy, per task (each rule exists because an agent got it wrong somewhere):
- A verification that could not run is neither passed nor failed: it is unverifiable, and the
  task pauses with the cause and the fix (`diagnosis`). A base that cannot be verified is
  found before the task starts. Only a runner the change itself broke goes back to the agent.
- A test that passed at the task's base and fails now, is skipped or xfailed now, or no longer
  runs at all, is a regression and blocks the task (it broke something, or hid it).
- A test file that guarded earlier work (it existed at the task's base) may not be edited or
  deleted unless the task names it (`protect_tests`): change the code, not the test.
- Tests already red at the base are not the task's fault and never block it.
- A TDD test-writing task may leave the tests it wrote red: spec-kit says they MUST fail before
  the implementation exists. Their files are recorded as expected-red.
- Expected-red files may stay red until the end of their phase: the last task of a phase that
  contains implementation work must leave them green (the phase checkpoint).
- Changed Python files must compile.
- A command other than pytest must exit 0 unless it already failed at the base.
- A check task (no change) lands only with evidence that it checked something (`evidence`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from orchestrator.speckit.tasks import Task, TaskList
from orchestrator.text import cap
from orchestrator.verify.evidence import Evidence
from orchestrator.verify.results import COLLECTION, OUTPUT_CAP, Problem, Snapshot, test_file_of

_TEST_WORDS = re.compile(r"\btests?\b|\btdd\b|test-first|contract test", re.IGNORECASE)
_CHECK_VERBS = re.compile(
    r"^\W*(run|verify|validate|check|confirm|execute|review|measure|ensure all)\b", re.IGNORECASE
)


@dataclass(slots=True)
class Verdict:
    passed: bool
    output: str  # what the agent and the transcript see
    expected_red: dict[str, str]  # test file -> task id, after this task
    new_expected: list[str] = field(default_factory=list)
    unverifiable: bool = False  # could not run: the task pauses, nothing is fed back
    headline: str = ""  # one line: PASSED, FAILED: ..., or the cause and fix of unverifiable
    evidence: str = ""  # what let it land: tests run, a check's evidence, red as expected
    red_files: list[str] = field(default_factory=list)  # `3 tests in tests/test_x.py`, ...
    turned_green: dict[str, str] = field(default_factory=dict)  # expected-red file -> its task


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
    protected: Sequence[str] = (),
    evidence: Evidence | None = None,
) -> Verdict:
    """Apply the policy in the module docstring. Pure: two snapshots in, a verdict out.

    `protected` are the test files this change edited or deleted that it may not touch;
    `evidence` is given for a check task (no change) and must be ok for it to land.
    """
    stopped = _unverifiable(now, base, changed)
    if stopped is not None:
        body = [f"COULD NOT VERIFY: {stopped.line()}", *_outputs(now)]
        return Verdict(
            False,
            cap("\n\n".join(body), OUTPUT_CAP),
            dict(expected_red),
            unverifiable=True,
            headline=stopped.line(),
        )
    reasons = [f"restore {f}; change the code, not the test" for f in protected]
    reasons += [f"verification could not run: {p.line()}" for p in now.problems]
    red = dict(expected_red)
    new_expected: list[str] = []
    failing_now = now.failing
    changed_tests = {c for c in changed if is_test_path(c)}
    regressed: list[str] = []
    fails: list[str] = []
    for test in sorted(failing_now - base.failing):
        file = test_file_of(test)
        if file in red and test not in base.passed:
            continue
        if test_task and file in changed_tests and test not in base.passed:
            red[file] = task_id
            if file not in new_expected:
                new_expected.append(file)
        elif test in base.passed:
            regressed.append(test)
        else:
            fails.append(_named(test, now))
    reasons += _listed("regression: passed before and fails now", regressed)
    reasons += _listed("fails", fails)
    reasons += _listed(
        "regression: passed before and skipped now", sorted(base.passed & now.skipped)
    )
    if any(r.structured for r in now.results):
        ran_now = now.passed | now.skipped | failing_now
        gone = [
            t
            for t in sorted(base.passed - ran_now)
            if test_file_of(t) not in changed
            and f"{test_file_of(t)}::{COLLECTION}" not in failing_now
        ]
        reasons += _listed("regression: passed before and no longer runs", gone)
    still_red = {test_file_of(t) for t in failing_now}
    turned_green = {f: t for f, t in red.items() if f not in still_red and f in expected_red}
    red = {f: t for f, t in red.items() if f in still_red}  # green files leave the set
    if phase_end and red:
        reasons += [
            f"end of phase: {f} (tests written by {t}) must pass now" for f, t in red.items()
        ]
    for cmd in sorted(now.failed_commands() - base.failed_commands()):
        reasons.append(f"command failed: {cmd}")
    reasons += now.compile_errors
    if evidence is not None and not evidence.ok:
        reasons.append(f"no evidence that this check ran: {evidence.text}")
    passed = not reasons
    headline = "PASSED" if passed else "FAILED: " + "; ".join(reasons)
    counts = {f: sum(test_file_of(t) == f for t in failing_now) for f in new_expected}
    waiting = sorted(f for f in red if f not in counts)  # red on purpose, from earlier tasks
    shown = _evidence_line(now, evidence, counts, turned_green, waiting)
    body = [headline]
    if shown and passed:
        body.append(f"evidence: {shown}")
    if protected:
        body.append(
            "Those test files guard earlier work and this task does not name them: bring them "
            f"back with `git restore -- {' '.join(protected)}`, then make the code pass them."
        )
    body += _outputs(now)
    return Verdict(
        passed,
        cap("\n\n".join(body), OUTPUT_CAP),
        red if passed else dict(expected_red),
        new_expected,
        headline=headline,
        evidence=shown if passed else "",
        red_files=red_files(counts, now.errors),
        turned_green=turned_green if passed else {},
    )


def _listed(what: str, tests: list[str], shown: int = 5) -> list[str]:
    """One reason for a list of tests: the first few, and how many more."""
    if not tests:
        return []
    more = f" and {len(tests) - shown} more" if len(tests) > shown else ""
    return [f"{what}: {', '.join(tests[:shown])}{more}"]


def _unverifiable(now: Snapshot, base: Snapshot, changed: Sequence[str]) -> Problem | None:
    """The reason the task cannot be judged at all: its base could not be verified, or the
    environment (not the change) stopped verification. A runner broken by a change is the
    change's failure instead; with no change there is nothing else to blame."""
    if base.problems:
        return base.problems[0]
    stopped = [p for p in now.problems if p.environment or not changed]
    return stopped[0] if stopped else None


def _named(test: str, now: Snapshot) -> str:
    """A failing test id, or for a file that cannot be collected, the file and why."""
    if not test.endswith(COLLECTION):
        return test
    file = test_file_of(test)
    why = last_error_line(now.errors.get(file, ""))
    return f"{file} (cannot be collected{': ' + why if why else ''})"


def last_error_line(error: str) -> str:
    """The `E   ...` line pytest ends an error with, else its last line, shortened."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    marked = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return (marked[-1] if marked else lines[-1] if lines else "")[:160]


def _evidence_line(
    now: Snapshot,
    evidence: Evidence | None,
    counts: Mapping[str, int],
    green: Mapping[str, str],
    waiting: Sequence[str] = (),
) -> str:
    """What let the task land, most telling first: tests left red on purpose, expected-red
    tests turned green, then a check's evidence or the test counts."""
    parts = []
    if counts:
        files = ", ".join(red_files(counts, now.errors))
        parts.append(f"red as expected: {files}")
    if green:
        parts.append(
            "turned green: " + ", ".join(f"{f} (written by {t})" for f, t in green.items())
        )
    if evidence is not None:
        parts.append(evidence.text)
    elif now.summary():
        parts.append(now.summary())
    if waiting:
        parts.append(f"still red as expected: {', '.join(waiting)}")
    return "; ".join(parts)


def red_files(counts: Mapping[str, int], errors: Mapping[str, str]) -> list[str]:
    """`3 tests in tests/test_books.py`, or `tests/test_books.py (not collectable yet)`."""
    return [
        f"{f} (not collectable yet)" if f in errors else f"{n} test{'s' if n != 1 else ''} in {f}"
        for f, n in counts.items()
    ]


def _outputs(now: Snapshot) -> list[str]:
    body = [f"$ {r.command}\n[exit {r.exit_code}]\n{r.output.strip()}" for r in now.results]
    return body + now.compile_errors
