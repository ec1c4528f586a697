"""Inspection and resume cost with history: `sdd status --json` on a run of N landed tasks as a
whole process, and a resume's time from process start to its first model call (here: the first
tool call's file appearing) at 10, 100 and 1,000 landed tasks.

    .venv/bin/python bench/bench_status.py [N ...]      # default: 10 100 1000
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import project

SDD = [sys.executable, "-m", "orchestrator.cli"]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def bench(n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        script = project(root, n)
        subprocess.run(
            [*SDD, "run", "001", "--model", f"scripted:{script}"],
            cwd=root,
            check=True,
            capture_output=True,
        )
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(
                [*SDD, "status", "001", "--json"], cwd=root, check=True, capture_output=True
            )
            times.append(time.perf_counter() - t)
        status = statistics.median(times)
        # one more task, then a resume: how long until its first tool call lands a file?
        extra = f"T{n + 1:04d}"
        tasks = root / "specs" / "001-synthetic" / "tasks.md"
        tasks.write_text(tasks.read_text() + f"- [ ] {extra} Write the marker file\n")
        git(root, "commit", "-qam", "one more task")
        data = yaml.safe_load(script.read_text())
        marker = root / "out" / "marker.txt"
        data["tasks"][extra] = [
            {"tools": [{"Write": {"file_path": "out/marker.txt", "content": "x\n"}}]},
            {"text": "Marker."},
        ]
        script.write_text(yaml.safe_dump(data))
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*SDD, "resume", "001", "--model", f"scripted:{script}"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not marker.exists():
            time.sleep(0.002)
        first_call = time.perf_counter() - t
        proc.wait()
        return status, first_call


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [10, 100, 1000]:
        status, first = bench(n)
        print(
            f"{n:>5} landed: sdd status --json {status:.3f} s (median of 5); "
            f"resume to first tool call {first:.3f} s"
        )
