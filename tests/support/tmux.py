"""A real terminal for tests: sdd runs in a tmux pane of a given width, and the test reads
what a person would see there (the pane's lines, as tmux drew them)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Pane:
    """One detached tmux session on its own server socket, `width` columns wide."""

    def __init__(self, width: int, height: int, cwd: Path, env: Mapping[str, str]) -> None:
        self.socket = f"sdd-test-{uuid.uuid4().hex[:8]}"
        self.width, self.cwd = width, cwd
        # the server starts with this environment, so the pane's shell has it
        self.env = {k: v for k, v in env.items() if k not in ("TMUX", "TMUX_PANE")}
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                   "-c", str(cwd), "bash --norc --noprofile")  # fmt: skip
        self._tmux("set-option", "-g", "history-limit", "20000")
        self.count = 0

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
        )
        return done.stdout

    def run(self, command: str, timeout: float = 120) -> tuple[int, list[str]]:
        """Type `command` at the prompt and wait for it to end: its exit code, and the lines
        the pane shows from the command's own line on (wrapped lines joined, so a line the
        terminal had to wrap comes back longer than the pane)."""
        self._tmux("send-keys", "-t", "t", "clear", "Enter")
        time.sleep(0.3)
        self._tmux("clear-history", "-t", "t")
        self.count += 1
        mark = f"__sdd_done_{self.count}__"
        self._tmux("send-keys", "-t", "t", "-l", f"{command}; echo {mark}$?")
        self._tmux("send-keys", "-t", "t", "Enter")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t").splitlines()
            ends = [x for x in lines if x.startswith(mark)]
            if ends:
                shown = lines[: lines.index(ends[-1])]
                start = next(i for i, x in enumerate(shown) if mark in x)
                return int(ends[-1][len(mark) :]), shown[start + 1 :]
            time.sleep(0.25)
        raise TimeoutError(f"{command!r} did not end in {timeout}s")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@contextmanager
def pane(width: int, cwd: Path, env: Mapping[str, str], height: int = 60) -> Iterator[Pane]:
    p = Pane(width, height, cwd, env)
    try:
        yield p
    finally:
        p.close()
