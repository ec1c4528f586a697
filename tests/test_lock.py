"""The working tree's lock: one run at a time, and a probe (`sdd status`) that never turns a
run away."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.errors import SddError
from orchestrator.run.lock import held_by, take_lock


def test_a_run_holds_the_lock_and_a_second_is_refused_with_the_holder(tmp_path: Path) -> None:
    assert held_by(tmp_path) is None
    with take_lock(tmp_path, "001-calc"):
        holder = held_by(tmp_path)
        assert holder is not None and holder.startswith("001-calc (pid ")
        with pytest.raises(SddError, match=r"another sdd run is driving 001-calc \(pid"):
            take_lock(tmp_path, "002-other")
    assert held_by(tmp_path) is None
    take_lock(tmp_path, "002-other").close()


def test_status_probing_the_lock_never_refuses_a_run_starting(tmp_path: Path) -> None:
    """With one try (`PATIENCE = ()`), this refused 145 of the 300 runs here."""
    take_lock(tmp_path, "001-calc").close()
    probing = tmp_path / "probing"
    code = (  # `sdd status` asking, over and over, whether a run holds the lock
        "import sys, pathlib\n"
        "from orchestrator.run.lock import held_by\n"
        "root = pathlib.Path(sys.argv[1])\n"
        "(root / 'probing').touch()\n"
        "while (root / 'probing').exists():\n"
        "    held_by(root)\n"
    )
    prober = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
    refused = 0
    try:
        deadline = time.monotonic() + 30
        while not probing.exists():
            assert time.monotonic() < deadline and prober.poll() is None
            time.sleep(0.01)
        for _ in range(300):
            try:
                take_lock(tmp_path, "001-calc").close()
            except SddError:
                refused += 1
    finally:
        probing.unlink(missing_ok=True)
        prober.wait(10)
    assert refused == 0
