"""Parallel speed-up of `sdd run --jobs N` over `--jobs 1`, in one run of this script.

8 independent `[P]` tasks, a scripted model with 0.5 s latency per turn and 3 turns per task
(two tool turns and a closing one), and a no-op verify command (`true`), so the figure is
sdd's own parallelism. `--verify pytest` swaps in a real `python -m pytest -q` on a suite of
`--tests` tests (50) in five files (without the plugins sdd's own venv holds, as a project's
venv would be; `--plugins` loads them: ~2 s of CPU a run), so each task pays what a small
project's verification
costs, in its worktree and again (with its siblings' changes) before it lands. Each `--jobs`
value runs on a fresh repository built the same way; `--reverify auto` sets that option.

    .venv/bin/python bench/bench_parallel.py [--jobs 1 4 8] [--latency 0.5] [--verify pytest]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree, not the editable one

from gen import landed_count, parts_project

from orchestrator.run.context import RunOptions
from orchestrator.run.driver import run_session
from orchestrator.run.opening import open_run
from orchestrator.views.progress import Reporter

N = 8
FEATURE = "001-parallel"


def project(
    root: Path, latency: float, verify: list[str], tests: int = 1, reverify: str = ""
) -> Path:
    config: dict[str, object] = {"verify": verify}
    if reverify:
        config["reverify"] = reverify
    lines = ["## Phase 1: Parts", ""]
    lines += [f"- [ ] T{i:03d} [P] Write part {i} in parts/p{i}.py" for i in range(1, N + 1)]
    files = min(5, tests)
    bodies = [
        "".join(
            f"def test_ok_{f}_{k}():\n    assert sum(range({k + 10})) > 0\n\n\n"
            for k in range(tests // files + (f < tests % files))
        )
        for f in range(files)
    ]
    return parts_project(root, FEATURE, config, lines, bodies, latency)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one(
    jobs: int, latency: float, verify: list[str], tests: int, reverify: str
) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory(prefix=f"sdd-par{jobs}-") as tmp:
        root = Path(tmp) / "repo"
        script = project(root, latency, verify, tests, reverify)
        options = RunOptions(model=f"scripted:{script}", jobs=jobs)
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        session = open_run(root, root / "specs" / FEATURE, options, Reporter(quiet=True))
        try:
            result = run_session(session)
        finally:
            session.close()
        wall = time.perf_counter() - t0
        assert result.status == "finished", result.reason
        landed = landed_count(root)
        return wall, children_cpu() - cpu0, landed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--latency", type=float, default=0.5)
    ap.add_argument("--verify", choices=["true", "pytest"], default="true")
    ap.add_argument("--tests", type=int, default=50, help="tests in the pytest suite")
    ap.add_argument("--reverify", choices=["always", "auto"], default="")
    ap.add_argument(
        "--plugins", action="store_true", help="load the pytest plugins of sdd's venv (~2 s a run)"
    )
    args = ap.parse_args()
    pytest = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    if not args.plugins:  # a project's own small venv, not sdd's (hypothesis, langsmith, cov)
        pytest = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {pytest}"
    args.verify = [pytest] if args.verify == "pytest" else ["true"]
    load = os.getloadavg()[0]
    model_floor = N * 3 * args.latency
    suite = f" ({args.tests} tests)" if args.verify != ["true"] else ""
    how = f", reverify {args.reverify}" if args.reverify else ""
    print(
        f"{N} [P] tasks, 3 turns x {args.latency} s, verify {args.verify}{suite}{how}, "
        f"load {load:.1f}, {os.cpu_count()} cores"
    )
    print(f"model time alone, one at a time: {model_floor:.1f} s")
    walls = {}
    for jobs in args.jobs:
        wall, kids, landed = one(jobs, args.latency, args.verify, args.tests, args.reverify)
        walls[jobs] = wall
        print(f"--jobs {jobs}: {wall:6.2f} s wall, {kids:5.2f} s children CPU, {landed} commits")
    base = walls[args.jobs[0]]
    for jobs in args.jobs[1:]:
        print(f"speed-up --jobs {jobs} vs --jobs {args.jobs[0]}: {base / walls[jobs]:.2f}x")


if __name__ == "__main__":
    main()
