"""Planning speed: `sdd plan --json` as a whole process, and parse+schedule in-process.

.venv/bin/python bench/bench_plan.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import tasks_md

from orchestrator.schedule import build_graph
from orchestrator.tasks import parse_tasks


def in_process(n: int, repeat: int = 3) -> float:
    text = tasks_md(n)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        graph = build_graph(parse_tasks(text).tasks)
        graph.waves(())
        times.append(time.perf_counter() - t)
    return min(times)


def whole_process(n: int, repeat: int = 5) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        feature = root / "specs" / "001-synthetic"
        feature.mkdir(parents=True)
        (root / ".specify" / "memory").mkdir(parents=True)
        for name in ("spec.md", "plan.md"):
            (feature / name).write_text("# doc\n")
        (feature / "tasks.md").write_text(tasks_md(n))
        sdd = Path(sys.executable).with_name("sdd")
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(
                [str(sdd), "plan", "001", "--json", "--repo", str(root)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - t)
        return statistics.median(times)


if __name__ == "__main__":
    print(f"sdd plan --json, 1,000 tasks, whole process (median of 5): {whole_process(1000):.3f} s")
    for n in (2_500, 5_000, 10_000, 20_000):
        print(f"parse+schedule in-process, {n:>6} tasks (best of 3): {in_process(n):.3f} s")
