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

import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.procs import kill_group, spawn
from orchestrator.tasks import Task

_SKIP_DIRS = {
    ".git",
    ".sdd",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    "site-packages",
}
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


def is_check_task(task: Task) -> bool:
    """A task that only runs or inspects things, so changing nothing is its honest outcome."""
    return bool(_CHECK_VERBS.match(task.description))


def has_tests(root: Path) -> bool:
    for _dir, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        if any(
            f.endswith(".py") and (f.startswith("test_") or f.endswith("_test.py"))
            for f in filenames
        ):
            return True
    return False


def default_commands(root: Path, python: str = sys.executable) -> list[str]:
    """pytest when the repository has tests, run by the interpreter that runs sdd."""
    return [f"{shlex.quote(python)} -m pytest -q"] if has_tests(root) else []


def _parse_junit(path: Path) -> set[str] | None:
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return None
    failing: set[str] = set()
    for case in tree.iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        file = case.get("file") or ""
        cls, name = case.get("classname") or "", case.get("name") or ""
        if not file:
            file = (cls or name).replace(".", "/") + ".py"
        failing.add(f"{file}::{name if cls else '<collection>'}")
    return failing


def _cap(text: str) -> str:
    if len(text) <= OUTPUT_CAP:
        return text
    half = OUTPUT_CAP // 2
    return f"{text[:half]}\n[... {len(text) - OUTPUT_CAP} characters cut ...]\n{text[-half:]}"


def run_command(command: str, root: Path, timeout: float, env: Mapping[str, str]) -> CommandResult:
    """Run one verify command; pytest anywhere inside it reports per-test results via junit."""
    with tempfile.TemporaryDirectory(prefix="sdd-verify-") as tmp:
        junit = Path(tmp) / "junit.xml"
        run_env = dict(env)
        run_env["PYTEST_ADDOPTS"] = (
            f"{env.get('PYTEST_ADDOPTS', '')} --junitxml={junit} -o junit_family=xunit1"
            " --continue-on-collection-errors -p no:cacheprovider"
        ).strip()
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        proc = spawn(["bash", "-c", command], root, run_env)
        try:
            out, _ = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            out, _ = proc.communicate()
            code = 124
            out += f"\n[timed out after {timeout:g} s]\n".encode()
        finally:
            kill_group(proc.pid)
        failing = _parse_junit(junit) if junit.exists() else None
    text = out.decode("utf-8", errors="replace")
    return CommandResult(command, code, _cap(text), failing or set(), failing is not None)


def compile_errors(root: Path, changed: Iterable[str]) -> list[str]:
    errors = []
    for rel in changed:
        if not rel.endswith(".py"):
            continue
        path = root / rel
        if not path.is_file():
            continue
        try:
            compile(path.read_bytes(), rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            errors.append(f"{rel}:{exc.lineno}: SyntaxError: {exc.msg}")
        except ValueError as exc:  # NUL bytes
            errors.append(f"{rel}: {exc}")
    return errors


def snapshot(
    root: Path,
    commands: Sequence[str],
    changed: Iterable[str] = (),
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
) -> Snapshot:
    env = dict(os.environ if env is None else env)
    results = [run_command(c, root, timeout, env) for c in commands]
    return Snapshot(results, compile_errors(root, changed))


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
    return Verdict(
        passed, _cap("\n\n".join(body)), red if passed else dict(expected_red), new_expected
    )


def describe(commands: Sequence[str]) -> str:
    """One line for the task message: how this task will be judged."""
    how = " && ".join(commands) if commands else "no test suite yet"
    return (
        f"{how}; changed Python files must compile; tests that passed before must still pass "
        "(tests you write first for not-yet-implemented code may stay red until the end of "
        "the phase)."
    )
