"""What shows that a check task (one that changes nothing) actually checked something (pure).

"Run the quickstart validation" with no quickstart, and no command run, is not done: a task
lands as a check only with evidence, which is stored with it and shown by `sdd log`/`show`.
Evidence is one of: a command the task names (in backticks) that the agent ran and that
exited 0, or that verification ran; else at least one test that verification ran (or, for a
suite without a per-test report, such as `go test`, its passing run). A task naming a file
that does not exist has nothing to check, whatever else ran.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orchestrator.verify.results import Snapshot

_BACKTICKS = re.compile(r"`([^`\n]+)`")
_FILE_LIKE = re.compile(r"^[\w./-]+\.\w{1,8}$|/")


@dataclass(frozen=True, slots=True)
class Evidence:
    ok: bool
    text: str  # what was run (ok), or why nothing counts (not ok)


def named_commands(description: str) -> list[str]:
    """Commands a task names in backticks: `npm run lint`, `ruff check .` (not file names)."""
    return [
        span.strip()
        for span in _BACKTICKS.findall(description)
        if span.strip() and (" " in span.strip() or not _FILE_LIKE.search(span.strip()))
    ]


def check_evidence(
    description: str,
    files: Sequence[str],
    exists: Callable[[str], bool],
    ran: Sequence[tuple[str, bool]],
    now: Snapshot,
) -> Evidence:
    """The evidence for a check task with this description and named `files`, given the
    agent's Bash commands (`ran`: command, exited 0) and the verification `now`."""
    missing = [f for f in files if not exists(f)]
    if missing:
        return Evidence(False, f"the task names {', '.join(missing)}, which does not exist")
    named = named_commands(description)
    if named:
        for command, ok in ran:
            hit = next((n for n in named if n in command), None)
            if ok and hit:
                return Evidence(True, f"ran `{command}` (exit 0)")
        for r in now.results:
            hit = next((n for n in named if n in r.command), None)
            if hit and r.exit_code == 0:
                return Evidence(True, f"verification ran `{r.command}` (exit 0)")
        listed = ", ".join(f"`{n}`" for n in named)
        return Evidence(False, f"nobody ran {listed}, which the task names, to exit 0")
    if now.collected:
        return Evidence(True, f"verification ran {now.collected} tests: {now.summary()}")
    suites = [r.command for r in now.results if not r.structured and r.exit_code == 0]
    if suites:  # go test, cargo test, npm test: no per-test report, but they ran and passed
        return Evidence(True, f"verification ran `{suites[0]}` (exit 0)")
    return Evidence(False, "no test ran, and the task names no command that was run")
