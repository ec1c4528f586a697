"""The verification gate's decisions, pure: two snapshots in, a verdict out (verify/policy.py)."""

from __future__ import annotations

import pytest

from orchestrator.speckit.tasks import parse_tasks
from orchestrator.verify.evidence import Evidence, check_evidence, named_commands
from orchestrator.verify.policy import (
    is_check_task,
    is_phase_end,
    is_test_path,
    is_test_task,
    judge,
)
from orchestrator.verify.results import CommandResult, Problem, Snapshot

PYTEST = "python -m pytest -q"


def ran(
    *failing: str,
    passed: tuple[str, ...] = (),
    skipped: tuple[str, ...] = (),
    code: int | None = None,
) -> Snapshot:
    """A pytest run that reported per-test results: these tests failing, passed, skipped."""
    exit_code = code if code is not None else (1 if failing else 0)
    result = CommandResult(PYTEST, exit_code, "", set(failing), True, set(passed), set(skipped))
    return Snapshot([result])


def decide(
    now: Snapshot,
    base: Snapshot,
    *,
    changed: tuple[str, ...] = ("app/models.py",),
    red: dict[str, str] | None = None,
    test_task: bool = False,
    phase_end: bool = False,
) -> tuple[bool, str, dict[str, str]]:
    verdict = judge(
        now,
        base,
        task_id="T005",
        changed=list(changed),
        expected_red=red or {},
        test_task=test_task,
        phase_end=phase_end,
    )
    return verdict.passed, verdict.output.splitlines()[0], verdict.expected_red


def test_a_test_that_passed_at_the_base_and_fails_now_blocks_the_task() -> None:
    passed, head, _ = decide(
        ran("tests/test_a.py::test_x"), ran(passed=("tests/test_a.py::test_x",))
    )
    assert not passed
    assert head == "FAILED: regression: passed before and fails now: tests/test_a.py::test_x"


def test_a_new_test_that_fails_blocks_an_implementation_task() -> None:
    passed, head, _ = decide(ran("tests/test_new.py::test_y"), ran())
    assert not passed
    assert head == "FAILED: fails: tests/test_new.py::test_y"


def test_tests_already_red_at_the_base_are_not_the_tasks_fault() -> None:
    red = "tests/test_a.py::test_x"
    assert decide(ran(red), ran(red))[:2] == (True, "PASSED")


def test_a_tdd_task_may_leave_the_tests_it_wrote_red_and_they_are_recorded() -> None:
    now = ran("tests/test_books.py::test_create", "tests/test_books.py::test_list")
    passed, _, red = decide(now, ran(), changed=("tests/test_books.py",), test_task=True)
    assert passed
    assert red == {"tests/test_books.py": "T005"}


def test_a_tdd_task_may_not_break_tests_it_did_not_write() -> None:
    now = ran("tests/test_books.py::test_create", "tests/test_old.py::test_kept")
    base = ran(passed=("tests/test_old.py::test_kept",))
    passed, head, _ = decide(now, base, changed=("tests/test_books.py",), test_task=True)
    assert not passed
    assert head == "FAILED: regression: passed before and fails now: tests/test_old.py::test_kept"


def test_a_tdd_task_may_not_turn_a_passing_test_red_even_in_a_file_it_names() -> None:
    old = "tests/test_books.py::test_list"
    now = ran("tests/test_books.py::test_create", old)
    passed, head, _ = decide(
        now, ran(passed=(old,)), changed=("tests/test_books.py",), test_task=True
    )
    assert not passed
    assert head == f"FAILED: regression: passed before and fails now: {old}"


def test_an_implementation_task_may_not_leave_new_red_tests_even_in_files_it_wrote() -> None:
    now = ran("tests/test_books.py::test_create")
    assert not decide(now, ran(), changed=("tests/test_books.py",), test_task=False)[0]


def test_expected_red_files_may_stay_red_until_the_phase_ends() -> None:
    red = {"tests/test_books.py": "T003"}
    now = ran("tests/test_books.py::test_create")
    assert decide(now, ran(), red=red) == (True, "PASSED", red)
    passed, head, kept = decide(now, ran(), red=red, phase_end=True)
    assert not passed
    assert head == "FAILED: end of phase: tests/test_books.py (tests written by T003) must pass now"
    assert kept == red  # a failed verdict leaves the set as it was


def test_expected_red_files_that_went_green_leave_the_set() -> None:
    red = {"tests/test_books.py": "T003", "tests/test_authors.py": "T004"}
    now = ran("tests/test_authors.py::test_list")
    assert decide(now, ran(), red=red)[2] == {"tests/test_authors.py": "T004"}
    assert decide(ran(), ran(), red=red, phase_end=True) == (True, "PASSED", {})


def test_a_command_other_than_pytest_must_exit_0_unless_it_failed_at_the_base() -> None:
    lint = CommandResult("ruff check .", 1, "E501", set(), structured=False)
    clean = CommandResult("ruff check .", 0, "", set(), structured=False)
    assert decide(Snapshot([lint]), Snapshot([clean]))[1] == "FAILED: command failed: ruff check ."
    assert decide(Snapshot([lint]), Snapshot([lint]))[0]


def test_pytest_finding_no_tests_is_not_a_failed_command() -> None:
    none_ran = CommandResult(PYTEST, 5, "no tests ran", set(), structured=False)
    assert decide(Snapshot([none_ran]), Snapshot([]))[0]


def test_changed_python_files_must_compile() -> None:
    now = Snapshot([], ["app/models.py:3: SyntaxError: invalid syntax"])
    passed, head, _ = decide(now, Snapshot([]))
    assert not passed
    assert head == "FAILED: app/models.py:3: SyntaxError: invalid syntax"


def test_the_output_shows_each_command_with_its_exit_code() -> None:
    result = CommandResult(PYTEST, 1, "1 failed\n", {"tests/test_a.py::t"}, structured=True)
    verdict = judge(
        Snapshot([result]),
        ran(),
        task_id="T1",
        changed=[],
        expected_red={},
        test_task=False,
        phase_end=False,
    )
    assert f"$ {PYTEST}\n[exit 1]\n1 failed" in verdict.output


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/test_books.py", True),
        ("app/books_test.py", True),
        ("src/tests/helpers.py", True),
        ("tests/conftest.py", True),
        ("web/src/app.test.ts", True),
        ("app/models.py", False),
        ("app/testing_tools.py", False),
    ],
)
def test_test_paths(path: str, is_test: bool) -> None:
    assert is_test_path(path) is is_test


TASKS = """# Tasks

## Phase 1: Setup

- [ ] T001 Create the package in app/__init__.py

## Phase 2: User Story 1

### Tests for User Story 1

- [ ] T002 [P] Contract test for POST /books in tests/test_books.py
- [ ] T003 [P] Integration test for listing books in tests/test_list.py

### Implementation for User Story 1

- [ ] T004 Create the Book model in app/models.py
- [ ] T005 Implement the books router in app/routers/books.py

## Phase 3: Only tests

- [ ] T006 Write tests for the authors in tests/test_authors.py

## Phase 4: Polish

- [ ] T007 Run the test suite and validate quickstart.md
"""


def test_test_tasks_are_known_by_their_words_or_heading_and_their_files() -> None:
    tasklist = parse_tasks(TASKS)
    by_id = {t.id: t for t in tasklist.tasks}

    def title(tid: str) -> str:
        return tasklist.phases[by_id[tid].phase].title

    assert is_test_task(by_id["T002"], title("T002"))
    assert is_test_task(by_id["T003"], title("T003"))
    assert not is_test_task(by_id["T004"], title("T004"))
    assert is_test_task(by_id["T006"], title("T006"))
    assert not is_test_task(by_id["T007"], title("T007"))  # names a file that is not a test


def test_check_tasks_start_with_a_verb_that_changes_nothing() -> None:
    by_id = {t.id: t for t in parse_tasks(TASKS).tasks}
    assert is_check_task(by_id["T007"])
    assert not is_check_task(by_id["T004"])


def test_the_phase_end_is_its_last_pending_task_in_a_phase_that_implements_something() -> None:
    tasklist = parse_tasks(TASKS)
    by_id = {t.id: t for t in tasklist.tasks}
    assert not is_phase_end(tasklist, by_id["T004"], set())  # T005 still to come
    assert is_phase_end(tasklist, by_id["T005"], set())
    assert is_phase_end(tasklist, by_id["T004"], {"T005"})  # T005 landed out of order
    assert is_phase_end(tasklist, by_id["T001"], set())  # a phase of one task


def test_a_phase_of_only_tests_has_no_end_to_enforce() -> None:
    tasklist = parse_tasks(TASKS)
    t006 = next(t for t in tasklist.tasks if t.id == "T006")
    assert not is_phase_end(tasklist, t006, set())


def test_a_task_working_beside_a_sibling_of_its_phase_is_not_the_end() -> None:
    tasklist = parse_tasks(TASKS)
    t005 = next(t for t in tasklist.tasks if t.id == "T005")
    assert not is_phase_end(tasklist, t005, set(), running=frozenset({"T004", "T005"}))
    assert is_phase_end(tasklist, t005, set(), running=frozenset({"T005"}))


OLD = "tests/test_old.py::test_kept"


def test_a_passing_test_that_is_skipped_or_xfailed_now_is_a_regression() -> None:
    passed, head, _ = decide(ran(skipped=(OLD,)), ran(passed=(OLD,)))
    assert not passed
    assert head == f"FAILED: regression: passed before and skipped now: {OLD}"


def test_a_passing_test_that_no_longer_runs_is_a_regression_unless_its_file_was_edited() -> None:
    passed, head, _ = decide(ran(passed=("tests/test_new.py::t",)), ran(passed=(OLD,)))
    assert not passed
    assert head == f"FAILED: regression: passed before and no longer runs: {OLD}"
    # the task edited that file (and was allowed to: it names it, or protect_tests is off)
    assert decide(ran(), ran(passed=(OLD,)), changed=("tests/test_old.py",))[0]


def test_many_regressions_are_one_reason_with_a_count() -> None:
    tests = tuple(f"tests/test_a.py::t{i}" for i in range(8))
    _, head, _ = decide(ran(*tests), ran(passed=tests))
    assert head.endswith("tests/test_a.py::t4 and 3 more")


def test_edits_to_protected_tests_are_refused_with_what_to_do() -> None:
    verdict = judge(
        ran(passed=(OLD,)),
        ran(passed=(OLD,)),
        task_id="T5",
        changed=["app/models.py", "tests/test_old.py"],
        expected_red={},
        test_task=False,
        phase_end=False,
        protected=["tests/test_old.py"],
    )
    assert not verdict.passed and not verdict.unverifiable
    assert verdict.headline == ("FAILED: restore tests/test_old.py; change the code, not the test")


def test_a_check_lands_only_with_evidence_which_the_verdict_carries() -> None:
    def check(evidence: Evidence) -> tuple[bool, str, str]:
        v = judge(
            ran(passed=(OLD,)),
            ran(passed=(OLD,)),
            task_id="T9",
            changed=[],
            expected_red={},
            test_task=False,
            phase_end=False,
            evidence=evidence,
        )
        return v.passed, v.headline, v.evidence

    assert check(Evidence(True, "verification ran 1 tests: 1 passed")) == (
        True,
        "PASSED",
        "verification ran 1 tests: 1 passed",
    )
    missing = Evidence(False, "the task names quickstart.md, which does not exist")
    assert check(missing) == (
        False,
        "FAILED: no evidence that this check ran: the task names quickstart.md, which does not "
        "exist",
        "",
    )


def test_tests_written_red_and_turned_green_are_in_the_evidence() -> None:
    red = judge(
        ran("tests/test_books.py::a", "tests/test_books.py::b", passed=(OLD,)),
        ran(passed=(OLD,)),
        task_id="T3",
        changed=["tests/test_books.py"],
        expected_red={},
        test_task=True,
        phase_end=False,
    )
    assert red.passed and red.red_files == ["2 tests in tests/test_books.py"]
    assert red.evidence == "red as expected: 2 tests in tests/test_books.py; 1 passed, 2 failed"
    green = judge(
        ran(passed=(OLD, "tests/test_books.py::a")),
        ran("tests/test_books.py::a"),
        task_id="T4",
        changed=["app/books.py"],
        expected_red={"tests/test_books.py": "T3"},
        test_task=False,
        phase_end=True,
    )
    assert green.passed and green.turned_green == {"tests/test_books.py": "T3"}
    assert green.evidence == "turned green: tests/test_books.py (written by T3); 2 passed"


def test_a_base_that_could_not_be_verified_makes_every_verdict_unverifiable() -> None:
    base = ran()
    base.problems.append(Problem("pytest is not installed in .venv", "install it"))
    verdict = judge(
        ran(),
        base,
        task_id="T1",
        changed=["a.py"],
        expected_red={},
        test_task=False,
        phase_end=False,
    )
    assert verdict.unverifiable and not verdict.passed
    assert verdict.headline == "pytest is not installed in .venv; fix: install it"


def test_named_commands_are_the_backticked_ones_that_are_not_files() -> None:
    assert named_commands("Run `npm run lint`, `pytest` and check `quickstart.md` in `docs/`") == [
        "npm run lint",
        "pytest",
    ]


def snap_of(collected: int) -> Snapshot:
    return ran(passed=tuple(f"tests/test_a.py::t{i}" for i in range(collected)))


@pytest.mark.parametrize(
    ("description", "files", "ran_cmds", "now", "expected"),
    [
        ("Run the test suite", (), (), snap_of(3), (True, "verification ran 3 tests: 3 passed")),
        (
            "Run the test suite",
            (),
            (),
            Snapshot([]),
            (False, "no test ran, and the task names no command that was run"),
        ),
        (
            "Run quickstart.md validation",
            ("quickstart.md",),
            (),
            snap_of(3),
            (False, "the task names quickstart.md, which does not exist"),
        ),
        (
            "Run `npm run lint`",
            (),
            (("cd web && npm run lint", True),),
            snap_of(3),
            (True, "ran `cd web && npm run lint` (exit 0)"),
        ),
        (
            "Run `npm run lint`",
            (),
            (("npm run lint", False),),
            snap_of(3),
            (False, "nobody ran `npm run lint`, which the task names, to exit 0"),
        ),
        (
            "Run the tests",
            (),
            (),
            Snapshot([CommandResult("go test ./...", 0, "ok")]),
            (True, "verification ran `go test ./...` (exit 0)"),
        ),
        (
            "Run the tests",
            (),
            (),
            Snapshot([CommandResult("go test ./...", 1, "FAIL")]),
            (False, "no test ran, and the task names no command that was run"),
        ),
        (
            "Run `pytest -q` and confirm",
            (),
            (),
            snap_of(2),
            (True, f"verification ran `{PYTEST}` (exit 0)"),
        ),
    ],
)
def test_check_evidence(
    description: str,
    files: tuple[str, ...],
    ran_cmds: tuple[tuple[str, bool], ...],
    now: Snapshot,
    expected: tuple[bool, str],
) -> None:
    found = check_evidence(description, files, lambda f: False, ran_cmds, now)
    assert (found.ok, found.text) == expected
