"""Standard output that a reader may leave: `sdd run 001 | head` must not stop the run when
`head` exits. Python ignores SIGPIPE, so the next write raises BrokenPipeError; from then on
what is printed goes to /dev/null, and the run goes on (or pauses) as it would have."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO


class PipeSafe:
    """Standard output (as it is at each write: tests swap it) that drops what it is given
    once the reader has gone."""

    def __init__(self) -> None:
        self.gone = False

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        """Point the stream's descriptor at /dev/null, so the buffered rest (and Python's
        own flush at exit) writes nowhere instead of failing again."""
        self.gone = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def isatty(self) -> bool:
        return not self.gone and self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8") or "utf-8"
