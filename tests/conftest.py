"""Shared test setup: nothing reaches the internet, and no real API key is ever in reach."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from support.runproc import Procs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/support is importable as `support`

# A model call that escapes a test's own loopback server lands on a closed local port.
os.environ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"
os.environ.pop("ANTHROPIC_API_KEY", None)
os.environ.pop("ANTHROPIC_AUTH_TOKEN", None)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    """Real `sdd` processes a test starts; any still running are stopped at its end."""
    from support.runproc import Procs

    started = Procs(tmp_path / "logs")
    yield started
    started.close()


@pytest.fixture
def repo_root() -> Path:
    """The sdd source tree (for the shipped agents and examples)."""
    return ROOT


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL of a PostgreSQL server: SDD_TEST_PG_URL, or a throwaway loopback cluster."""
    from support import pgserver

    if os.environ.get("SDD_TEST_PG_URL"):
        yield os.environ["SDD_TEST_PG_URL"]
        return
    if pgserver.pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    with pgserver.cluster() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on that server."""
    from support import pgserver

    return pgserver.fresh_database(pg_server)


@pytest.fixture(scope="session")
def node() -> None:
    """Node with its junit test reporter (node 20 and later), or the test is skipped."""
    import shutil
    import subprocess
    import tempfile

    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    probe = ["node", "--test", "--test-reporter=junit", "--test-reporter-destination=/dev/null"]
    with tempfile.TemporaryDirectory() as empty:  # no test files to find
        done = subprocess.run(probe, cwd=empty, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.skip("this node has no junit test reporter")


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheelhouse for projects' own environments: pytest's wheels (rebuilt from the ones
    installed here, so nothing is downloaded) and `calcdep`, a module (`double(x)`) that no
    environment has unless it is installed there."""
    from support.venvs import wheelhouse

    calcdep = {"calcdep.py": "def double(x):\n    return 2 * x\n"}
    return wheelhouse(tmp_path_factory.mktemp("wheels"), {"calcdep": calcdep})


@pytest.fixture(scope="session", autouse=True)
def _children_without_plugins() -> None:
    """The projects under test verify with pytest, and need none of the plugins installed here
    (langsmith, hypothesis, anyio...): loading them costs 2-4 s per verification, for nothing.
    Users' own runs keep their plugins; this is the tests' environment, not sdd's behaviour.
    Set when the first test starts, so pytest's own worker processes still load theirs."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
