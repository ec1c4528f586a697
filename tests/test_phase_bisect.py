"""Finding the commit that broke a phase (pure): what counts as the failure, and the search."""

from __future__ import annotations

import pytest

from orchestrator.verify.bisect import first_bad, is_bad, suspects
from orchestrator.verify.results import CommandResult, Problem, Snapshot

PYTEST = "python -m pytest -q"


def ran(passed: set[str], failing: set[str] = set(), skipped: set[str] = set()) -> Snapshot:  # noqa: B006
    code = 1 if failing else 0
    result = CommandResult(PYTEST, code, "", set(failing), True, set(passed), set(skipped))
    return Snapshot([result])


START = ran({"t/a.py::x", "t/b.py::y"}, {"t/old.py::red"})


def test_suspects_are_what_broke_since_the_start_not_what_was_red_there() -> None:
    end = ran({"t/b.py::y"}, {"t/a.py::x", "t/old.py::red", "t/new.py::n"})
    found = suspects(end, START)
    assert found.tests == {"t/a.py::x"}
    assert found.new_red == {"t/new.py::n"}
    assert found.shown() == "t/a.py::x, t/new.py::n"


def test_a_test_skipped_or_gone_at_the_end_is_a_suspect() -> None:
    end = ran(set(), skipped={"t/a.py::x"})
    assert suspects(end, START).tests == {"t/a.py::x", "t/b.py::y"}


def test_a_newly_failing_command_is_a_suspect() -> None:
    lint = CommandResult("ruff check .", 1, "E501", set(), structured=False)
    end = Snapshot([*ran({"t/a.py::x", "t/b.py::y"}).results, lint])
    found = suspects(end, START)
    assert found.commands == {"ruff check ."} and found.shown() == "ruff check ."
    assert is_bad(end, found, set(), last=False)


def test_tests_written_first_are_red_by_design_until_the_phase_end() -> None:
    end = ran({"t/a.py::x", "t/b.py::y"}, {"t/test_new.py::n"})
    found = suspects(end, START)
    middle = ran({"t/a.py::x", "t/b.py::y"}, {"t/test_new.py::n"})
    assert not is_bad(middle, found, {"t/test_new.py"}, last=False)
    assert is_bad(middle, found, {"t/test_new.py"}, last=True)
    assert is_bad(middle, found, set(), last=False)


def test_a_tree_that_cannot_be_verified_is_not_counted_as_good() -> None:
    broken = Snapshot([], problems=[Problem("pytest missing", "install it")])
    assert is_bad(broken, suspects(ran(set(), {"t/a.py::x"}), START), set(), last=False)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_first_bad_finds_the_first_in_log2_steps(count: int) -> None:
    for culprit in range(count):
        asked: list[int] = []

        def bad(i: int, culprit: int = culprit, asked: list[int] = asked) -> bool:
            asked.append(i)
            return i >= culprit

        assert first_bad(count, bad) == culprit
        assert len(asked) <= max(1, (count - 1).bit_length())
        assert count - 1 not in asked  # the last is known bad: never verified again
