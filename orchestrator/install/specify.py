"""spec-kit's own CLI, the one way sdd installs into a spec-kit project: `specify extension add`,
`specify workflow step add`, `specify workflow add` and `specify workflow overlay add` validate
and record what they install exactly as they do for anyone else's extension. `Specify` is the
seam; `SpecifyCli` runs the real command in the project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Protocol

from orchestrator.errors import SddError

TIMEOUT = 300.0


class Specify(Protocol):
    def __call__(self, *args: str) -> None:
        """Run `specify ARGS` in the project; a failure raises SddError with its reason."""


class SpecifyCli:
    def __init__(self, executable: str, root: Path) -> None:
        self.executable, self.root = executable, root

    def __call__(self, *args: str) -> None:
        shown = " ".join(("specify", *args))
        env = os.environ | {"SPECIFY_INIT_DIR": str(self.root), "NO_COLOR": "1", "COLUMNS": "200"}
        try:
            done = subprocess.run(
                [self.executable, *args],
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise SddError(f"`{shown}` did not finish in {TIMEOUT:g} s") from None
        except OSError as exc:
            raise SddError(f"cannot run {self.executable}: {exc.strerror or exc}") from None
        if done.returncode != 0:
            reason = _reason(done.stdout + "\n" + done.stderr)
            raise SddError(
                f"`{shown}` failed (exit {done.returncode}): {reason}; "
                "once that is fixed, run sdd init again"
            )


def _reason(output: str) -> str:
    """specify's own explanation: its `Error:` line with what follows it, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "Error" in line:
            return " ".join(lines[i : i + 3])
    return lines[-1] if lines else "no output"
