"""What running the verify commands on a tree produced, as plain data (pure).

`runner` fills these from real processes and their JUnit XML reports; `diagnosis` says why
a command could not run; `policy` judges a task by comparing two snapshots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OUTPUT_CAP = 12_000  # characters of a command's output kept for the agent and the records
COLLECTION = "<collection>"  # the test name of a file pytest could not collect
_PYTEST = re.compile(r"(^|[\s/])(py\.test|pytest)(\s|$)")


@dataclass(slots=True)
class CommandResult:
    command: str
    exit_code: int
    output: str
    failing: set[str] = field(default_factory=set)  # test ids ("file::name"), errors included
    structured: bool = False  # True when a per-test report was written (`verify.junit`)
    passed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)  # skipped or xfailed
    errors: dict[str, str] = field(default_factory=dict)  # file pytest could not collect -> why
    pytest_report: bool = False  # pytest wrote one of them: its exit codes mean what they say

    @property
    def collected(self) -> int:
        """Tests that ran or were skipped, collection errors not counted."""
        return len(self.passed) + len(self.skipped) + len(self.failing) - len(self.errors)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a verification could not run, in one line each: the cause and the fix.

    `environment` problems lie outside any change (a missing tool, runner or dependency): the
    task pauses for a person. The others mean the runner itself broke (a usage error, nothing
    collected); after a change that is the change's fault and goes back to the agent.
    """

    cause: str
    fix: str
    environment: bool = True

    def line(self) -> str:
        return f"{self.cause}; fix: {self.fix}"


@dataclass(slots=True)
class Snapshot:
    """Outcome of running the verify commands once on a tree."""

    results: list[CommandResult]
    compile_errors: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # filled by `diagnosis`
    seconds: float = 0.0  # wall time of running the commands

    @property
    def failing(self) -> set[str]:
        return set().union(*(r.failing for r in self.results)) if self.results else set()

    @property
    def passed(self) -> set[str]:
        return set().union(*(r.passed for r in self.results)) if self.results else set()

    @property
    def skipped(self) -> set[str]:
        return set().union(*(r.skipped for r in self.results)) if self.results else set()

    @property
    def collected(self) -> int:
        return sum(r.collected for r in self.results if r.structured)

    @property
    def errors(self) -> dict[str, str]:
        return {f: e for r in self.results for f, e in r.errors.items()}

    def failed_commands(self) -> set[str]:
        return {r.command for r in self.results if r.exit_code not in (0, 5) and not r.structured}

    def summary(self) -> str:
        """`16 passed, 1 skipped, 2 failed` over the structured results; '' when none."""
        if not any(r.structured for r in self.results):
            return ""
        counts = (
            (len(self.passed), "passed"),
            (len(self.skipped), "skipped"),
            (len(self.failing) - len(self.errors), "failed"),
            (len(self.errors), "not collected"),
        )
        return ", ".join(f"{n} {what}" for n, what in counts if n) or "no tests"


def is_pytest(command: str) -> bool:
    """Whether a verify command runs pytest (and so should write a per-test report)."""
    return bool(_PYTEST.search(command))


def test_file_of(test_id: str) -> str:
    return test_id.split("::", 1)[0]
