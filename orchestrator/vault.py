"""The API key, kept out of every child process's reach.

`withhold()` runs first thing in the `sdd` command: it takes the Anthropic credentials out of
the process environment, so no child (git, an agent's Bash, verification) inherits them, and
overwrites them, with every other secret-looking variable, where the kernel keeps the
environment the process started with, so a child reading `/proc/$PPID/environ` finds nothing.
The SDK client gets the key from here. The process is also marked non-dumpable, which keeps
other processes of the user (not root) out of its memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

API_KEYS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
_PR_SET_DUMPABLE = 4
_kept: dict[str, str] = {}


def is_secret_name(name: str) -> bool:
    """A variable that holds an API endpoint's settings or looks like a credential."""
    upper = name.upper()
    return upper.startswith("ANTHROPIC_") or any(w in upper for w in _SECRET_WORDS)


def withhold() -> None:
    """Move the API keys out of the environment, and every secret out of /proc/self/environ."""
    for name in API_KEYS:
        value = os.environ.pop(name, None)
        if value:
            _kept[name] = value
    others = [name for name in os.environ if is_secret_name(name)]
    for name in others:  # a fresh copy for sdd's own use; the original is wiped below
        os.environ[name] = os.environ[name]
    if sys.platform.startswith("linux"):
        _wipe_initial_environ({*API_KEYS, *others})
        if _kept:
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


@contextlib.contextmanager
def kept_out() -> Iterator[None]:
    """`withhold` for the life of a command; afterwards (a command run in-process, as tests
    do) the environment has its keys back."""
    withhold()
    try:
        yield
    finally:
        while _kept:
            name, value = _kept.popitem()
            os.environ[name] = value


def get(name: str) -> str | None:
    """A credential: withheld by `withhold`, else (in-process callers, tests) the environment."""
    return _kept.get(name) or os.environ.get(name) or None


def withheld() -> list[str]:
    return list(_kept.values())


def _wipe_initial_environ(names: set[str]) -> None:
    """Zero the values of `names` in the memory /proc/self/environ reads (the environment as
    the process started); the process's own copies were already moved elsewhere."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rfind(b")") + 2 :].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
    except (OSError, IndexError, ValueError):
        return
    if not 0 < start < end or end - start > 64 << 20:
        return
    region = ctypes.string_at(start, end - start)
    offset = 0
    for entry in region.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep and name.decode(errors="replace") in names and value:
            ctypes.memset(start + offset + len(name) + 1, 0, len(value))
        offset += len(entry) + 1
