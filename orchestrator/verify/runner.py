"""Running the verify commands on a tree: each one in its own process group, pytest reporting
per-test results through a JUnit XML file (never read from its text output), changed Python
files compiled. The I/O half of verification; `diagnosis` and `policy` judge what it returns.
The commands run the agent's code, so they get the same scrubbed environment as its Bash (no
API key), and nothing they start outlives them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.procs import scrubbed_env, spawn, stop
from orchestrator.text import cap
from orchestrator.verify.commands import has_tests, project_names
from orchestrator.verify.diagnosis import diagnose
from orchestrator.verify.environment import Verification
from orchestrator.verify.results import COLLECTION, OUTPUT_CAP, CommandResult, Snapshot

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


@dataclass(slots=True)
class _Report:
    failing: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)


def _test_id(case: ET.Element) -> tuple[str, str]:
    """(file, `file::Class::name`) of a testcase, as pytest names it (xunit1 attributes)."""
    cls, name = case.get("classname") or "", case.get("name") or ""
    file = case.get("file") or (cls or name).replace(".", "/") + ".py"
    if not cls:  # a collection error names the module, not a test
        return file, f"{file}::{COLLECTION}"
    module = file.removesuffix(".py").replace("/", ".")
    inner = cls[len(module) + 1 :] if cls.startswith(module + ".") else ""
    return file, "::".join(p for p in (file, *inner.split("."), name) if p)


def parse_junit(path: Path) -> _Report | None:
    """Per-test outcomes from pytest's JUnit XML; None when there is no readable report."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return None
    report = _Report()
    for case in tree.iter("testcase"):
        file, test = _test_id(case)
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            report.failing.add(test)
            if test.endswith(COLLECTION):
                report.errors[file] = (bad.text or bad.get("message") or "").strip()
        elif case.find("skipped") is not None:
            report.skipped.add(test)
        else:
            report.passed.add(test)
    return report


def run_command(command: str, root: Path, timeout: float, env: Mapping[str, str]) -> CommandResult:
    """Run one verify command; pytest anywhere inside it reports per-test results via junit."""
    with tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-") as tmp:
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
            stop(proc)
            out, _ = proc.communicate()
            code = 124
            out += f"\n[timed out after {timeout:g} s]\n".encode()
        finally:
            stop(proc)
        report = parse_junit(junit) if junit.exists() else None
    output = cap(out.decode("utf-8", errors="replace"), OUTPUT_CAP)
    if report is None:
        return CommandResult(command, code, output)
    return CommandResult(
        command,
        code,
        output,
        report.failing,
        True,
        report.passed,
        report.skipped,
        {f: cap(e, 4_000) for f, e in report.errors.items()},
    )


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
