"""The Bash tool's optional sandbox (`bash.sandbox: bwrap`): bubblewrap runs each command with
the whole file system read-only but the workspace, `$HOME` and sdd's `.sdd/` hidden behind empty
folders, a private /tmp, and a process namespace of its own (other processes, sdd's among them,
are out of sight, and everything in it ends with the call). `.git` stays read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_BASE = (
    "--die-with-parent",
    "--new-session",
    "--unshare-pid",
    "--unshare-ipc",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
)


def unavailable() -> str:
    """Why bubblewrap cannot sandbox commands here, or ''."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run(["bwrap", *_BASE, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap cannot run: {exc}"
    if done.returncode != 0:
        return f"bwrap cannot make a sandbox here: {done.stderr.strip() or done.returncode}"
    return ""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Where a sandboxed command may write (`writable`), what it may not see (`hidden`), and
    what inside `writable` stays read-only."""

    writable: Path
    hidden: tuple[Path, ...] = ()
    readonly: tuple[Path, ...] = ()

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """bwrap's command line for `argv`. Mounts apply in order: a hidden folder holding the
        workspace is hidden before the workspace is bound into it, any other after."""
        hidden = [p for p in self.hidden if p.is_dir() and p != Path("/")]
        around = [h for h in hidden if self.writable.is_relative_to(h)]
        args = ["bwrap", *_BASE]
        for path in around:
            args += ["--tmpfs", str(path)]
        args += ["--bind", str(self.writable), str(self.writable)]
        for path in hidden:
            if path not in around:
                args += ["--tmpfs", str(path)]
        for prefix in sorted({sys.prefix, sys.base_prefix}):  # what the agent's `python` runs
            if any(Path(prefix).is_relative_to(h) for h in hidden):
                args += ["--ro-bind", prefix, prefix]
        for path in self.readonly:
            if os.path.lexists(path):
                args += ["--ro-bind", str(path), str(path)]
        return [*args, "--chdir", str(self.writable), "--", *argv]
