"""The verification fast path, `verify: {task: [...], phase: [...]}`, against the plain list
(every task runs the whole suite), in one run of this script.

8 tasks in `--phases` phases (2), a scripted model with `--latency` seconds per turn (3 turns
a task), one at a time. The suite is `--tests` pytest tests (50) in five files, each test taking
`--test-ms` (20 ms, so about a second a suite, as a small real project's does); the `task`
set is one of the five files. Both forms run on a fresh repository built the same way; the
phase set's runs are counted by a command that logs them.

    .venv/bin/python bench/bench_fastpath.py [--latency 0.1] [--tests 50] [--test-ms 20]
                                             [--phases 2]
"""

from __future__ import annotations

import argparse
import os
import shlex
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
FEATURE = "001-fastpath"


def project(
    root: Path, latency: float, verify: object, tests: int, test_ms: int, phases: int
) -> Path:
    lines: list[str] = []
    size = N // phases
    for phase in range(1, phases + 1):
        lines += [f"## Phase {phase}: Part {phase}", ""]
        first = (phase - 1) * size + 1
        ids = range(first, N + 1 if phase == phases else first + size)
        lines += [f"- [ ] T{i:03d} Write part {i} in parts/p{i}.py" for i in ids]
        lines.append("")
    bodies = [
        "import time\n\n\n"
        + "".join(
            f"def test_ok_{f}_{k}():\n    time.sleep({test_ms / 1000})\n\n\n"
            for k in range(tests // 5 + (f < tests % 5))
        )
        for f in range(5)
    ]
    return parts_project(root, FEATURE, {"verify": verify}, lines, bodies, latency)


def one(
    form: str, latency: float, tests: int, test_ms: int, phases: int
) -> tuple[float, int, int, float, float]:
    """(wall seconds, full-suite runs, commits, the tasks' verification seconds, the phase
    checks' seconds)."""
    with tempfile.TemporaryDirectory(prefix=f"sdd-fast-{form}-") as tmp:
        root = Path(tmp) / "repo"
        log = Path(tmp) / "full.log"
        pytest = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q"
        pytest += " -p no:cacheprovider"
        full = [f"sh -c 'echo x >> {shlex.quote(str(log))}' && {pytest} tests"]
        subset = [f"{pytest} tests/test_ok0.py"]
        verify: object = full if form == "list" else {"task": subset, "phase": full}
        script = project(root, latency, verify, tests, test_ms, phases)
        options = RunOptions(model=f"scripted:{script}")
        t0 = time.perf_counter()
        session = open_run(root, root / "specs" / FEATURE, options, Reporter(quiet=True))
        try:
            result = run_session(session)
            records = session.store.tasks(FEATURE)
            checks = session.store.phase_checks(FEATURE)
        finally:
            session.close()
        wall = time.perf_counter() - t0
        assert result.status == "finished", result.reason
        runs = len(log.read_text().splitlines()) if log.exists() else 0
        task_verify = sum(r.verify_seconds for r in records.values())
        phase_verify = sum(c.seconds for c in checks.values())
        return wall, runs, landed_count(root), task_verify, phase_verify


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--tests", type=int, default=50)
    ap.add_argument("--test-ms", type=int, default=20)
    ap.add_argument("--phases", type=int, default=2, choices=range(1, N + 1))
    args = ap.parse_args()
    print(
        f"{N} tasks in {args.phases} phases, 3 turns x {args.latency} s, {args.tests} tests x "
        f"{args.test_ms} ms, task set 1/5 of them, load {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} cores"
    )
    walls = {}
    for form in ("list", "fast"):
        wall, runs, landed, verify, checks = one(
            form, args.latency, args.tests, args.test_ms, args.phases
        )
        walls[form] = wall
        print(
            f"{form:>4}: {wall:6.2f} s wall, full suite run {runs} times, tasks' verification "
            f"{verify:5.2f} s, phase checks {checks:5.2f} s, {landed} commits"
        )
    print(f"speed-up of the fast path: {walls['list'] / walls['fast']:.2f}x")


if __name__ == "__main__":
    main()
