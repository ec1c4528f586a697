"""Why a verification could not run, and what fixes it (pure).

A command that is missing, a pytest that is not installed, a test file importing a module
the environment lacks, a runner that stopped before reporting: none of these says anything
about a task's change, so none may count as passed, and none is the agent's failure to fix
blindly. Each becomes a `Problem` with a one-line cause and fix. Per-test outcomes come from
pytest's report; only the reason a command did not run is read from its output.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from orchestrator.verify.environment import CONFIG_HINT, Verification
from orchestrator.verify.results import CommandResult, Problem, Snapshot, is_pytest

_MISSING = re.compile(r"No module named '?([A-Za-z0-9_.]+)'?")
_PYTEST_EXIT = {
    2: "interrupted",
    3: "internal error",
    4: "usage error",
}
_NOT_FOUND = (126, 127)


def diagnose(
    snapshot: Snapshot,
    verification: Verification,
    is_project_module: Callable[[str], bool],
    has_tests: bool,
) -> list[Problem]:
    """The problems of every command of `snapshot`, in command order."""
    problems: list[Problem] = []
    for result in snapshot.results:
        problems.extend(_command(result, verification, is_project_module, has_tests))
    return problems


def _command(
    r: CommandResult, v: Verification, is_project_module: Callable[[str], bool], has_tests: bool
) -> list[Problem]:
    if r.exit_code in _NOT_FOUND:
        return [_not_found(r, v)]
    if r.exit_code == 124:  # a timeout is the change's fault (a hang), not the environment's
        return []
    if r.structured and not r.pytest_report:
        return []  # another runner's report: judged test by test
    if r.structured:
        problems = [
            _missing(m, f"{file} imports {m}", v)
            for file, error in sorted(r.errors.items())
            if (m := _missing_module(error)) and not is_project_module(m)
        ]
        if r.exit_code == 5 and has_tests:
            problems.append(_nothing_collected())
        elif r.exit_code in _PYTEST_EXIT:
            problems.append(_stopped(r))
        return problems
    if not is_pytest(r.command):
        return []  # judged by its exit code
    if r.exit_code == 5 and has_tests:
        return [_nothing_collected()]
    missing = _missing_module(r.output)
    if missing == "pytest":
        return [
            Problem(
                f"pytest is not installed in {v.where or 'the environment that runs it'}",
                f"{v.install_hint('pytest')}, or {CONFIG_HINT}",
            )
        ]
    if missing and not is_project_module(missing):
        return [_missing(missing, "the tests' setup (conftest.py) imports " + missing, v)]
    first = _first_error(r.output)
    if first.startswith("error"):  # uv, pdm and hatch say `error: ...`; pytest says `ERROR:`
        return [Problem(f"`{r.command}` could not start: {first}", f"fix it, or {CONFIG_HINT}")]
    if r.exit_code in _PYTEST_EXIT:
        return [_stopped(r)]
    if r.exit_code == 0 or r.exit_code == 5:
        return []
    return [
        Problem(
            f"pytest wrote no report (exit {r.exit_code}): {first or 'no output'}",
            f"run `{r.command}` yourself to see why, or {CONFIG_HINT}",
            environment=False,
        )
    ]


def _not_found(r: CommandResult, v: Verification) -> Problem:
    tool = r.command.split()[0] if r.command.split() else r.command
    line = _first_error(r.output) or ("command not found" if r.exit_code == 127 else "")
    if tool.endswith("/bin/python"):
        fix = (
            f"recreate {tool.removesuffix('/bin/python')} (python -m venv) with the project's "
            f"dependencies, or {CONFIG_HINT}"
        )
    else:
        fix = f"install {tool} where sdd runs, or {CONFIG_HINT}"
    return Problem(f"`{tool}` could not be run (exit {r.exit_code}: {line})", fix)


def _missing(module: str, what: str, v: Verification) -> Problem:
    top = module.split(".")[0]
    where = v.where or "the environment that runs the tests"
    return Problem(
        f"{what}, which is not installed in {where}",
        f"add it to the project's dependencies ({v.install_hint(top)}), or {CONFIG_HINT}",
    )


def _nothing_collected() -> Problem:
    return Problem(
        "pytest collected no tests, though the repository has test files",
        f"check testpaths and python_files in the pytest configuration, or {CONFIG_HINT}",
        environment=False,
    )


def _stopped(r: CommandResult) -> Problem:
    why = _PYTEST_EXIT[r.exit_code]
    first = _first_error(r.output)
    return Problem(
        f"pytest stopped before running the tests (exit {r.exit_code}, {why})"
        + (f": {first}" if first else ""),
        f"run `{r.command}` yourself to see why, or {CONFIG_HINT}",
        environment=False,
    )


def _missing_module(text: str) -> str:
    """The module a ModuleNotFoundError names, '' when the text has none."""
    for line in text.splitlines():
        if "ModuleNotFoundError" in line or line.lstrip().startswith(("E ", "No module")):
            match = _MISSING.search(line)
            if match:
                return match.group(1)
    match = _MISSING.search(text)
    return match.group(1) if match else ""


def _first_error(output: str) -> str:
    """The line of a command's output that best says why it stopped, shortened."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        low = line.lower()
        if low.startswith("error: usage:"):  # pytest's usage banner; the reason follows
            continue
        if low.startswith(("error", "e ", "internalerror")) or "error:" in low:
            return line[:200]
    return lines[-1][:200] if lines else ""
