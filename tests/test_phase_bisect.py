"""Finding the commit that broke a phase (pure): what counts as the failure, and the search."""

from __future__ import annotations

import pytest

from orchestrator.verify.bisect import Span, first_bad, is_bad, suspects
from orchestrator.verify.results import COLLECTION, CommandResult, Problem, Snapshot

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


def test_a_tree_that_cannot_be_verified_is_neither_good_nor_bad() -> None:
    broken = Snapshot([], problems=[Problem("pytest missing", "install it")])
    assert is_bad(broken, suspects(ran(set(), {"t/a.py::x"}), START), set(), last=False) is None


def test_a_suspect_whose_file_cannot_be_collected_is_unknown_unless_the_end_shows_that_too() -> (
    None
):
    found = suspects(ran({"t/b.py::y"}, {"t/a.py::x"}), START)  # x fails at the end
    uncollected = ran({"t/b.py::y"}, {f"t/a.py::{COLLECTION}"})
    assert is_bad(uncollected, found, set(), last=False) is None
    assert is_bad(ran({"t/b.py::y"}), found, set(), last=False) is True  # x is gone: bad
    assert is_bad(ran({"t/a.py::x", "t/b.py::y"}), found, set(), last=False) is False
    # at the end too the file does not collect: the same failure, so bad
    gone = suspects(uncollected, START)
    assert is_bad(uncollected, gone, set(), last=False) is True


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_first_bad_finds_the_first_in_log2_steps(count: int) -> None:
    for culprit in range(count):
        asked: list[int] = []

        def bad(i: int, culprit: int = culprit, asked: list[int] = asked) -> bool:
            asked.append(i)
            return i >= culprit

        assert first_bad(count, bad) == Span(culprit, culprit)
        assert len(asked) <= max(1, (count - 1).bit_length())
        assert count - 1 not in asked  # the last is known bad: never verified again


def search(count: int, culprit: int, unknown: set[int]) -> tuple[Span, list[int]]:
    asked: list[int] = []

    def bad(i: int) -> bool | None:
        asked.append(i)
        return None if i in unknown else i >= culprit

    return first_bad(count, bad), asked


def test_an_unknown_commit_is_skipped_for_its_neighbours_and_the_culprit_still_found() -> None:
    span, asked = search(5, culprit=1, unknown={2})  # the middle could not run
    assert span == Span(1, 1) and span.exact
    assert asked[0] == 2 and 1 in asked
    assert search(8, culprit=6, unknown={3, 4})[0] == Span(6, 6)
    assert search(8, culprit=2, unknown={3, 4})[0] == Span(2, 2)


def test_when_unknown_commits_hide_the_culprit_the_answer_is_the_span() -> None:
    # the culprit is 2 or the unknown 1 before it: no telling which
    span = search(5, culprit=2, unknown={1})[0]
    assert span == Span(1, 2) and not span.exact
    # an unknown commit is never counted as bad: blaming it (an earlier task) would be a guess
    assert search(3, culprit=2, unknown={0, 1})[0] == Span(0, 2)
    assert search(4, culprit=3, unknown={1})[0] == Span(3, 3)  # its neighbours decide
    assert all(count - 1 not in search(count, count - 1, {0})[1] for count in (2, 3, 5))


@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_every_culprit_and_unknown_set_gives_a_span_that_holds_the_culprit(count: int) -> None:
    for culprit in range(count):
        for mask in range(1 << (count - 1)):
            unknown = {i for i in range(count - 1) if mask >> i & 1 and i != culprit}
            span, asked = search(count, culprit, unknown)
            assert span.first <= culprit <= span.last
            assert all(i in unknown for i in range(span.first, span.last))
            assert len(asked) == len(set(asked))  # no commit verified twice
