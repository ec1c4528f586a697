"""Real `sdd` subprocesses for crash tests: start, poll, interrupt, kill -9 the whole group.

Each process gets its own session (process group), so `kill_group` takes its children (git,
hooks) down with it, the way a crash or an OOM kill would. Output goes to files, not pipes,
so a chatty process can never block on a full pipe while a test is polling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import orchestrator

SRC = Path(orchestrator.__file__).resolve().parents[1]


def sdd_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator.cli", *args]


def sdd_env() -> dict[str, str]:
    """The test's own environment, with the package importable and lines wide enough to grep."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env["COLUMNS"] = "240"
    return env


class Proc:
    """One started process; its pid is also its process-group id."""

    def __init__(self, argv: Sequence[str], cwd: Path, logs: Path, name: str) -> None:
        self.name = name
        self.out_path, self.err_path = logs / f"{name}.out", logs / f"{name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=sdd_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return f"--- {self.name} stdout\n{self.stdout()}--- {self.name} stderr\n{self.stderr()}"

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            message = f"{self.name} did not exit in {timeout:g} s\n{self.output()}"
            raise AssertionError(message) from None

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it, but to this process only, not its children."""
        self.popen.send_signal(signal.SIGINT)

    def kill_group(self) -> None:
        """kill -9 to the process and everything in its group, then reap it."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()


class Procs:
    """The processes a test started; whatever still runs at teardown is killed by its id."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.started: list[Proc] = []

    def sdd(self, cwd: Path, *args: str) -> Proc:
        """`sdd ARGS` run from `cwd` (the project), in a session of its own."""
        proc = Proc(sdd_argv(*args), cwd, self.logs, f"p{len(self.started)}-{args[0]}")
        self.started.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.started:
            proc.kill_group()


def wait_until(
    check: Callable[[], bool],
    what: str,
    *,
    proc: Proc | None = None,
    timeout: float = 45,
    interval: float = 0.01,
) -> None:
    """Poll `check`; fail with `what` (and the process output) on timeout or early exit."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and not proc.running():
            if check():
                return
            raise AssertionError(f"{proc.name} exited before {what}\n{proc.output()}")
        if time.monotonic() > deadline:
            extra = f"\n{proc.output()}" if proc else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{extra}")
        time.sleep(interval)
