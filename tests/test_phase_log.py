"""`sdd log --json` with phase checks (pure): still a list of the landed tasks in task order,
each phase check an entry of kind `phase-check` where it ran."""

from __future__ import annotations

from typing import Any

from orchestrator.speckit.tasks import Phase
from orchestrator.store.records import PhaseCheck
from orchestrator.views.phase_checks import log_entries

PHASES = [Phase(0, "1", "Core", 3), Phase(1, "2", "Polish", 9), Phase(2, "3", "Docs", 12)]
PHASE_OF = {"T001": 0, "T002": 0, "T003": 1, "T004": 2}


def task(tid: str) -> dict[str, Any]:
    return {"task": tid, "commit": f"sha-{tid}", "kind": "change", "seconds": 1.0}


def check(phase: int, passed: bool, culprit: str = "") -> PhaseCheck:
    head = f"head-{phase}"
    return PhaseCheck("001-calc", phase, "r1", passed, head, "base", culprit=culprit, runs=2)


def test_each_check_sits_after_its_phase_tasks_and_before_the_next_phase() -> None:
    tasks = [task(t) for t in ("T001", "T002", "T003", "T004")]
    checks = {0: check(0, True), 1: check(1, False, "T003")}
    entries = log_entries(tasks, checks, PHASES, PHASE_OF)
    shown = [(e["kind"], e["task"] or e["phase"]) for e in entries]
    assert shown == [
        ("change", "T001"),
        ("change", "T002"),
        ("phase-check", "1"),
        ("change", "T003"),
        ("phase-check", "2"),
        ("change", "T004"),
    ]
    failed = entries[4]
    assert (failed["result"], failed["culprit"], failed["commit"]) == ("failed", "T003", "head-1")
    assert entries[2]["title"] == "Core" and entries[2]["runs"] == 2
    # every entry keeps the keys scripts read
    assert all({"kind", "task", "commit", "seconds"} <= set(e) for e in entries)
    assert all("index" not in e for e in entries)
    assert [e for e in entries if e["kind"] != "phase-check"] == tasks


def test_a_check_of_the_last_phase_comes_last_and_no_checks_leave_the_list_as_it_was() -> None:
    tasks = [task("T001"), task("T002")]
    entries = log_entries(tasks, {0: check(0, True)}, PHASES, PHASE_OF)
    assert [e["kind"] for e in entries] == ["change", "change", "phase-check"]
    assert log_entries(tasks, {}, PHASES, PHASE_OF) == tasks
    assert log_entries([], {}, PHASES, PHASE_OF) == []
