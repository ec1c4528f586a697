"""`langgraph dev` as a test server: the in-memory runtime on a free loopback port, offline.

It serves the top-level `langgraph.json` from a folder of its own (the runtime pickles its
threads into `.langgraph_api/` there, not into the checkout) and dies with its process group.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from support.runproc import SRC, sdd_env

MODULES = ("langgraph_cli", "langgraph_api", "langgraph_runtime_inmem", "langgraph_sdk")
OFFLINE = {  # what keeps `langgraph dev` off the network (see docs/langgraph-server.md)
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}


def missing_modules() -> list[str]:
    return [m for m in MODULES if importlib.util.find_spec(m) is None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def langgraph_dev(work: Path, env: Mapping[str, str], timeout: float = 45) -> Iterator[str]:
    """Start the server, yield its URL once it answers, kill its process group at the end."""
    url = f"http://127.0.0.1:{free_port()}"
    argv = [
        *(sys.executable, "-m", "langgraph_cli", "dev", "--config", str(SRC / "langgraph.json")),
        *("--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--no-browser", "--no-reload"),
        *("--n-jobs-per-worker", "4"),
    ]
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=work,
            env=sdd_env() | OFFLINE | dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"langgraph dev did not answer on {url}:\n{tail}")
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
