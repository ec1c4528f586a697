"""Running the verify commands on a tree: each one in its own process group, pytest reporting
per-test results through a JUnit XML file, changed Python files compiled. The I/O half of
verification; `policy` judges what it returns. The commands run the agent's code, so they get
the same scrubbed environment as its Bash (no API key), and nothing they start outlives them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from orchestrator.procs import scrubbed_env, spawn, stop
from orchestrator.text import cap
from orchestrator.verify.policy import OUTPUT_CAP, CommandResult, Snapshot

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
        failing = _parse_junit(junit) if junit.exists() else None
    text = out.decode("utf-8", errors="replace")
    output = cap(text, OUTPUT_CAP)
    return CommandResult(command, code, output, failing or set(), failing is not None)


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
    env = scrubbed_env(os.environ if env is None else env)
    results = [run_command(c, root, timeout, env) for c in commands]
    return Snapshot(results, compile_errors(root, changed))
