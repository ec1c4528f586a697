"""Running the Bash tool's commands: a scrubbed environment, everything started killed when the
call ends, and bounded output. What may run is `bash_rules`' decision."""

from __future__ import annotations

import codecs
import os
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from orchestrator.agent.tools.sandbox import Sandbox
from orchestrator.procs import spawn, stop
from orchestrator.text import join_cut


class _Capture:
    """Keeps the head and tail of a stream, so a flood of output costs bounded memory."""

    def __init__(self, limit: int) -> None:
        self.head_cap = limit // 2
        self.tail_cap = limit - self.head_cap
        self.head = ""
        self.tail = ""
        self.total = 0

    def drain(self, stream: IO[bytes]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with stream:
            while chunk := os.read(stream.fileno(), 65536):
                self._add(decoder.decode(chunk))
        self._add(decoder.decode(b"", final=True))

    def _add(self, text: str) -> None:
        self.total += len(text)
        if len(self.head) < self.head_cap:
            take = self.head_cap - len(self.head)
            self.head, text = self.head + text[:take], text[take:]
        if text:
            self.tail = (self.tail + text)[-self.tail_cap :] if self.tail_cap else ""

    def text(self) -> str:
        return join_cut(self.head, self.tail, self.total - len(self.head) - len(self.tail))


def run_command(
    command: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    max_output: int,
    sandbox: Sandbox | None = None,
) -> tuple[str, bool]:
    """Run `bash -c command`; return (output with its exit status line, whether it failed).

    The command runs under the reaper, which ends everything it started when it ends or times
    out, so background jobs cannot outlive the call or hold its output open.
    """
    argv = ["bash", "-c", command]
    proc = spawn(sandbox.wrap(argv) if sandbox else argv, cwd, env)
    capture = _Capture(max_output)
    reader = threading.Thread(target=capture.drain, args=(proc.stdout,), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # also on Ctrl-C: nothing the agent started survives the call
        stop(proc)
    proc.wait()
    reader.join(timeout=5)  # a process that left the group may still hold the pipe: stop waiting
    body = capture.text().rstrip("\n") or "(no output)"
    if timed_out:
        note = f"[timed out after {timeout:g} s; the command and its children were killed]"
        return f"{body}\n{note}", True
    return f"{body}\n[exit code {proc.returncode}]", proc.returncode != 0
