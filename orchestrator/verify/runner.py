"""Running the verify commands on a tree: each one in its own process group, pytest (and any
runner that writes one to `$SDD_JUNIT_XML`) reporting per-test results through a JUnit XML
file (never read from its text output), changed Python files compiled. The I/O half of
verification; `diagnosis` and `policy` judge what it returns. The commands run the agent's
code, so they get the same scrubbed environment as its Bash (no API key), and nothing they
start outlives them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from orchestrator.procs import scrubbed_env, spawn, stop
from orchestrator.text import cap
from orchestrator.verify.commands import has_tests, project_names
from orchestrator.verify.diagnosis import diagnose
from orchestrator.verify.environment import Verification
from orchestrator.verify.junit import ENV, Report, read_any, read_pytest
from orchestrator.verify.results import OUTPUT_CAP, CommandResult, Snapshot

_TMP_PREFIX = "sdd-verify-"


def clean_stale_dirs() -> None:
    """Remove the temporary folders of verifications whose sdd process is gone (killed)."""
    tmp = Path(tempfile.gettempdir())
    for folder in tmp.glob(f"{_TMP_PREFIX}*-*"):
        pid = folder.name[len(_TMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_command(command: str, root: Path, timeout: float, env: Mapping[str, str]) -> CommandResult:
    """Run one verify command; pytest anywhere inside it reports per-test results via junit,
    and any other runner may write a JUnit report to `$SDD_JUNIT_XML`."""
    with tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-") as tmp:
        junit, other = Path(tmp) / "junit.xml", Path(tmp) / "report.xml"
        run_env = dict(env)
        run_env["PYTEST_ADDOPTS"] = (
            f"{env.get('PYTEST_ADDOPTS', '')} --junitxml={junit} -o junit_family=xunit1"
            " --continue-on-collection-errors -p no:cacheprovider"
        ).strip()
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        run_env[ENV] = str(other)
        proc = spawn(["bash", "-c", command], root, run_env)
        try:
            out, _ = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            stop(proc)
            out, _ = proc.communicate()
            code = 124
            out += f"\n[timed out after {timeout:g} s]\n".encode()
        finally:
            stop(proc)
        pytest = read_pytest(junit) if junit.exists() else None
        report = _usable(read_any(other) if other.exists() else None, code)
    output = cap(out.decode("utf-8", errors="replace"), OUTPUT_CAP)
    if pytest is None and report is None:
        return CommandResult(command, code, output)
    both = _merged(pytest, report)
    return CommandResult(
        command,
        code,
        output,
        both.failing,
        True,
        both.passed,
        both.skipped,
        {f: cap(e, 4_000) for f, e in both.errors.items()},
        pytest_report=pytest is not None,
    )


def _usable(report: Report | None, code: int) -> Report | None:
    """Another runner's report, when it can stand for the command: a command that failed
    (or timed out) with no failing test in its report failed for a reason the report does
    not show, so its exit code judges it instead."""
    if report is None or (code != 0 and not report.failing):
        return None
    return report


def _merged(*reports: Report | None) -> Report:
    out = Report()
    for r in reports:
        if r is not None:
            out.failing |= r.failing
            out.passed |= r.passed
            out.skipped |= r.skipped
            out.errors |= r.errors
    return out


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


def verify_tree(
    root: Path,
    verification: Verification,
    changed: Iterable[str] = (),
    *,
    timeout: float = 900,
    mentioned: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> Snapshot:
    """Run `verification` on the tree at `root` and say what kept any command from running
    (`mentioned`: paths tasks.md names, so modules not written yet count as the project's)."""
    snap = snapshot(root, verification.commands, changed, timeout=timeout, env=env)
    names: frozenset[str] | None = None

    def is_project_module(module: str) -> bool:
        nonlocal names
        if names is None:
            names = project_names(root, mentioned)
        return module.split(".")[0] in names

    snap.problems = diagnose(snap, verification, is_project_module, has_tests(root))
    return snap


def snapshot(
    root: Path,
    commands: Sequence[str],
    changed: Iterable[str] = (),
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
) -> Snapshot:
    env = scrubbed_env(os.environ if env is None else env)
    started = time.monotonic()
    results = [run_command(c, root, timeout, env) for c in commands]
    errors = compile_errors(root, changed)
    return Snapshot(results, errors, seconds=round(time.monotonic() - started, 3))
