"""Child processes that cannot outlive their call, nor the orchestrator, nor see its secrets.

Agent commands and verification run in a session of their own under `reaper.py`, which ends
every process they started (even those that left the session) when the command ends, when sdd
stops it, or when sdd itself dies (kill -9, crash), so nothing keeps writing into a working
tree that the next task or a resumed run is about to use. Their environment is scrubbed of
API keys and other secrets.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.vault import is_secret_name

_PR_SET_PDEATHSIG = 1
REAPER = Path(__file__).with_name("reaper.py")
# Variables that point git at another repository, index or object store than the workspace's
# own (set, say, when sdd itself runs from a git hook): a child's git must see its worktree.
_GIT_LOCATION = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)


def scrubbed_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the commands an agent's work runs (its Bash, verification): no API
    endpoint settings, nothing secret-looking, no variable sending git to another repository."""
    return {k: v for k, v in env.items() if not is_secret_name(k) and k not in _GIT_LOCATION}


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start argv under the reaper in a new session, stdout+stderr on one pipe, no stdin."""
    reaped = [sys.executable, "-I", "-S", str(REAPER), str(os.getpid()), "--", *argv]
    return subprocess.Popen(
        reaped,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def stop(proc: subprocess.Popen[bytes], grace: float = 5) -> None:
    """End a spawned command and everything it started: the reaper sweeps, then, should it
    not answer in time, its whole process group is killed."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    kill_group(proc.pid)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
