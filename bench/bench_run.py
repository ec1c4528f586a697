"""Per-task orchestration overhead of `sdd run` (graph step + checkpoint + commit + records),
with a zero-latency scripted model (one Write per task) and a no-op verify command.

    .venv/bin/python bench/bench_run.py [N ...]            # default: 100 1000
    .venv/bin/python bench/bench_run.py --keep DIR 300     # keep the repository for inspection

Per task, these views of the time:
- `record`: TaskRecord.seconds from the store: agent loop + verify + tick + commit;
- `landing interval`: the gap between two consecutive landings, everything one task costs
  (select_task node, checkpoint writes, records, git reset/commit, verify);
- `cpu interval`: the same gap in CPU seconds of this process plus its finished children (git,
  bash), which other load on a shared machine barely moves, unlike wall time; split into
  sdd's own CPU and the children's;
- `wall/N`: the whole `run_session` call divided by the task count (includes the lazy
  langgraph import and the base verify run).
First and last tenth of the run show whether a task costs more as more tasks have landed;
a gc callback counts full collections and the time all collections take.
The store is measured after the run's connections are closed: as left (main file + WAL),
then with the WAL folded in (`PRAGMA wal_checkpoint(TRUNCATE)`), and per table with dbstat.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import project

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter


def _cpu_split() -> tuple[float, float]:
    """User+sys seconds of this process, and of its finished children (git, bash)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _cpu() -> float:
    return sum(_cpu_split())


class Clock(Reporter):
    """A quiet reporter that notes (wall, own cpu, children's cpu) at each landing."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.landings: list[tuple[float, float, float]] = []

    def landed(self, task_id: str, sha: str, kind: str, evidence: str = "") -> None:
        self.landings.append((time.perf_counter(), *_cpu_split()))


class GcTimer:
    """Counts full (generation 2) collections and the time all collections take."""

    def __init__(self) -> None:
        self.full, self.seconds, self._start = 0, 0.0, 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._start
        self.full += info["generation"] == 2


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _stats(values: list[float]) -> dict[str, float]:
    """Milliseconds: median, p90, and the medians of the first and last tenth."""
    tenth = max(1, len(values) // 10)
    return {
        "median": 1000 * statistics.median(values),
        "p90": 1000 * _p90(values),
        "first": 1000 * statistics.median(values[:tenth]),
        "last": 1000 * statistics.median(values[-tenth:]),
    }


def _store_size(db: Path) -> dict[str, object]:
    """Bytes of the main file + WAL as the run left them, then after folding the WAL in."""
    wal = db.with_name(db.name + "-wal")
    left = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            tables = dict(
                conn.execute(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                ).fetchall()
            )
        except sqlite3.OperationalError:  # SQLite built without dbstat
            tables = {}
        rows = dict(
            conn.execute(
                "SELECT 'checkpoints', COUNT(*) FROM checkpoints"
                " UNION ALL SELECT 'writes', COUNT(*) FROM writes"
            ).fetchall()
        )
    finally:
        conn.close()
    folded = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return {"left": left, "folded": folded, "tables": tables, "rows": rows}


def bench(n: int, keep: Path | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        script = project(root, n)
        clock = Clock()
        session = open_run(
            root, root / "specs" / "001-synthetic", RunOptions(model=f"scripted:{script}"), clock
        )
        gc_timer = GcTimer()
        gc.callbacks.append(gc_timer)
        t, cpu = time.perf_counter(), _cpu()
        try:
            result = run_session(session)
        finally:
            gc.callbacks.remove(gc_timer)
        wall, cpu = time.perf_counter() - t, _cpu() - cpu
        records = session.store.tasks(session.feature)
        session.close()
        assert result.status == "finished", result
        assert len(records) == n == len(clock.landings), (len(records), len(clock.landings))
        by_landing = sorted(records.values(), key=lambda r: r.updated)
        size = _store_size(root / ".sdd" / "state.sqlite")
        if keep:
            shutil.copytree(root, keep / f"repo-{n}", dirs_exist_ok=True)
        return {
            "n": n,
            "wall": wall,
            "wall_per_task_ms": 1000 * wall / n,
            "cpu_per_task_ms": 1000 * cpu / n,
            "record": _stats([r.seconds for r in by_landing]),
            "interval": _stats([b[0] - a[0] for a, b in pairwise(clock.landings)]),
            "cpu": _stats([b[1] + b[2] - a[1] - a[2] for a, b in pairwise(clock.landings)]),
            "cpu_self": _stats([b[1] - a[1] for a, b in pairwise(clock.landings)]),
            "cpu_children": _stats([b[2] - a[2] for a, b in pairwise(clock.landings)]),
            "store": size,
            "gc": (gc_timer.full, gc_timer.seconds),
        }


def report(r: dict) -> str:
    size, n = r["store"], r["n"]

    def row(label: str, s: dict[str, float]) -> str:
        return (
            f"       {label:<17} median {s['median']:6.1f}  p90 {s['p90']:6.1f}"
            f"  first tenth {s['first']:6.1f}  last tenth {s['last']:6.1f}  (ms)"
        )

    lines = [
        f"{n:>5} tasks: wall {r['wall']:.1f} s = {r['wall_per_task_ms']:.1f} ms/task wall/N,"
        f" {r['cpu_per_task_ms']:.1f} ms/task cpu/N",
        row("record seconds", r["record"]),
        row("landing interval", r["interval"]),
        row("cpu interval", r["cpu"]),
        row("  of it sdd", r["cpu_self"]),
        row("  of it git, bash", r["cpu_children"]),
        f"       store as left {size['left'] / 1024 / n:6.2f} KB/task,"
        f" after wal_checkpoint(TRUNCATE) {size['folded'] / 1024 / n:6.2f} KB/task"
        f" ({size['folded'] / 1024:.0f} KB total)",
        f"       rows: {size['rows']['checkpoints']} checkpoints, {size['rows']['writes']} writes",
        f"       garbage collector: {r['gc'][0]} full collections, {r['gc'][1]:.1f} s in all"
        f" collections ({1000 * r['gc'][1] / n:.1f} ms/task)",
    ]
    if size["tables"]:
        top = ", ".join(f"{k} {v / 1024 / n:.2f}" for k, v in list(size["tables"].items())[:6])
        lines.append(f"       KB/task by table/index: {top}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--keep", type=Path, help="copy each finished repository here")
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        results.append(bench(n, args.keep))
        print(report(results[-1]), flush=True)
    if len(results) > 1:
        a, b = results[0], results[-1]

        def ratio(get) -> str:  # type: ignore[no-untyped-def]
            return f"{get(b) / get(a):.2f}"

        print(
            f"ratios {b['n']}/{a['n']}:"
            f" wall/N {ratio(lambda r: r['wall_per_task_ms'])},"
            f" cpu/N {ratio(lambda r: r['cpu_per_task_ms'])},"
            f" record median {ratio(lambda r: r['record']['median'])},"
            f" interval median {ratio(lambda r: r['interval']['median'])},"
            f" cpu interval median {ratio(lambda r: r['cpu']['median'])},"
            f" store/task {ratio(lambda r: r['store']['folded'] / r['n'])}"
        )


if __name__ == "__main__":
    main()
