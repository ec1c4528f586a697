"""Which landed commit broke a phase (pure): the phase's full verification failed at its end,
so its commits since the phase's start are searched for the first one that already shows the
failure, in log2(n) verifications.

A commit is bad when any of the phase end's suspects (a test that passed at the phase's start
and fails, is skipped or no longer runs at the end, or a command that newly fails) is broken
there too. Tests written first by a TDD task of the phase are red by design until the phase's
code exists, so they are not held against the commits before the last one. A commit where the
phase set could not run says nothing either way: it is skipped, and when that leaves the
culprit among several commits, the search says so rather than blame one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from orchestrator.verify.results import COLLECTION, Snapshot, test_file_of


@dataclass(frozen=True, slots=True)
class Suspects:
    """What broke between the phase's start and its end."""

    tests: frozenset[str]  # passed at the start; fail, skip or are gone at the end
    new_red: frozenset[str]  # did not pass at the start (new tests), fail at the end
    commands: frozenset[str]  # commands that newly fail

    def shown(self, limit: int = 3) -> str:
        """`tests/test_a.py::test_x, ... and 4 more`, or the failing commands."""
        names = sorted(self.tests | self.new_red) or sorted(self.commands)
        more = f" and {len(names) - limit} more" if len(names) > limit else ""
        return ", ".join(names[:limit]) + more


def suspects(end: Snapshot, start: Snapshot) -> Suspects:
    ran = end.passed | end.skipped | end.failing
    broken = (start.passed & (end.failing | end.skipped)) | (start.passed - ran)
    return Suspects(
        frozenset(broken),
        frozenset(end.failing - start.failing - start.passed),
        frozenset(end.failed_commands() - start.failed_commands()),
    )


def is_bad(
    at: Snapshot, found: Suspects, written_first: Collection[str], last: bool
) -> bool | None:
    """Whether the tree verified as `at` already shows the phase end's failure; `last` is the
    phase end's own commit, where nothing is red by design any more. None when it cannot say:
    the phase set could not run there, or a suspect's test file could not be collected (a
    failure the end does not show), so the test's own result there is unknown."""
    if at.problems:
        return None
    ran = at.passed | at.skipped | at.failing
    if any(t in at.failing or t in at.skipped for t in found.tests):
        return True
    red = {t for t in found.new_red & at.failing if last or test_file_of(t) not in written_first}
    if red or found.commands & at.failed_commands():
        return True
    missing = [t for t in found.tests if t not in ran]
    if any(f"{test_file_of(t)}::{COLLECTION}" in at.failing for t in missing):
        return None
    return bool(missing)


@dataclass(frozen=True, slots=True)
class Span:
    """Where the first bad commit is: `first` itself when `first == last`; otherwise one of
    `first..last`, where only `last` is known bad and those before it could not be verified."""

    first: int
    last: int

    @property
    def exact(self) -> bool:
        return self.first == self.last


def first_bad(count: int, bad: Callable[[int], bool | None]) -> Span:
    """The first of `count` commits (oldest first, the last known bad) for which `bad` holds,
    assuming once bad stays bad: binary search, calling `bad` about log2(count) times. A commit
    where `bad` is None (unknown) is skipped as `git bisect skip` does: the untried commit
    nearest the middle is tried instead, and when only unknown ones are left before the first
    known bad, the answer is that span."""
    lo, hi = 0, count - 1
    unknown: set[int] = set()
    while True:
        left = [i for i in range(lo, hi) if i not in unknown]
        if not left:
            return Span(lo, hi)
        middle = (lo + hi) // 2
        mid = min(left, key=lambda i: (abs(i - middle), i))
        verdict = bad(mid)
        if verdict is None:
            unknown.add(mid)
        elif verdict:
            hi = mid
        else:
            lo = mid + 1
