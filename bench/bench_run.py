"""Per-task orchestration overhead of `sdd run` (graph step + checkpoint + commit + records),
with a zero-latency scripted model (one Write per task) and a no-op verify command.

    .venv/bin/python bench/bench_run.py [N ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import project

from orchestrator.engine import run_session
from orchestrator.progress import Reporter
from orchestrator.session import RunOptions, open_session


def bench(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        script = project(root, n)
        session = open_session(
            root,
            root / "specs" / "001-synthetic",
            RunOptions(model=f"scripted:{script}"),
            Reporter(quiet=True),
        )
        t = time.perf_counter()
        result = run_session(session)
        wall = time.perf_counter() - t
        secs = [r.seconds for r in session.store.tasks(session.feature).values()]
        session.close()
        assert result.status == "finished", result
        db = root / ".sdd" / "state.sqlite"
        for suffix in ("-wal",):
            extra = db.with_name(db.name + suffix)
        size = db.stat().st_size + (extra.stat().st_size if extra.exists() else 0)
        return {
            "n": n,
            "wall": wall,
            "per_task_ms": 1000 * wall / n,
            "median_task_ms": 1000 * statistics.median(secs),
            "store_kb_per_task": size / 1024 / n,
        }


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [100, 1000]:
        r = bench(n)
        print(
            f"{r['n']:>5} tasks: wall {r['wall']:.1f} s, {r['per_task_ms']:.1f} ms/task overall, "
            f"median task node {r['median_task_ms']:.1f} ms, "
            f"store {r['store_kb_per_task']:.2f} KB/task"
        )
