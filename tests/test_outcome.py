"""How a run's end reads: counts that add up, and next steps that name the fix (pure)."""

from __future__ import annotations

from orchestrator.views.outcome import finished_line, next_steps, stopped

ORDER = ["T001", "T002", "T003", "T004", "T005", "T006"]


def test_all_landed_is_said_only_when_every_task_landed() -> None:
    assert finished_line(ORDER, set(ORDER), set()) == "All 6 tasks landed."
    landed = set(ORDER) - {"T001"}
    assert finished_line(ORDER, landed, {"T001"}) == "5 landed, 1 skipped (T001)."
    ticked = set(ORDER) - {"T001", "T004"}
    assert finished_line(ORDER, ticked, {"T001"}) == (
        "4 landed, 1 skipped (T001), 1 ticked before sdd (T004)."
    )


def test_next_steps_answer_a_held_task_and_move_past_a_failed_one() -> None:
    held = next_steps("001-calc", awaiting="T002")
    assert any("sdd diff 001-calc T002" in s for s in held)
    assert "Land it: sdd resume 001-calc --approve" in held
    assert 'Send it back: sdd resume 001-calc --reject --note "what to change"' in held
    failed = next_steps("001-calc", failed=["T005"])
    assert failed[0] == "See why: sdd show 001-calc T005"
    assert "sdd resume 001-calc --skip T005" in failed[1]
    wave = next_steps("001-calc", failed=["T002", "T003", "T004"])
    assert wave[0] == "See why: sdd show 001-calc T002 (also failed: T003, T004)"
    assert wave[1] == (
        "Move past them (left unticked): sdd resume 001-calc --skip T002 --skip T003 --skip T004"
    )
    assert next_steps("001-calc") == ["Continue: sdd resume 001-calc"]


def test_a_budget_pause_says_to_raise_it_and_that_the_attempt_goes_on() -> None:
    reason = "T003: budget reached (budget: run used 1800 tokens, limit 1800); ..."
    (step,) = next_steps("001-calc", reason=reason)
    assert "Raise the budget" in step and "go on where it stopped" in step
    assert step.endswith("sdd resume 001-calc")


def test_a_running_run_whose_process_is_gone_reads_as_stopped() -> None:
    data = {
        "feature": "001-calc",
        "run": {"id": "r1", "status": "running", "reason": "", "model": "m"},
        "tasks": [{"task": "T001", "state": "landed"}, {"task": "T002", "state": "running"}],
    }
    assert stopped(data, "001-calc (pid 7 on host)") == data  # alive: unchanged
    gone = stopped(data, None)
    assert gone["run"]["status"] == "stopped"
    assert gone["run"]["reason"].endswith("resume with sdd resume 001-calc")
    assert [t["state"] for t in gone["tasks"]] == ["landed", "interrupted"]


def test_next_steps_after_a_failed_phase_check_name_the_task_to_take_back() -> None:
    steps = next_steps("001-calc", broken="T002")
    assert steps == [
        "See the phase verification's output: sdd log 001-calc",
        "Take back the task that broke it: sdd undo 001-calc T002, then sdd resume 001-calc",
        "Or commit a fix of your own, then sdd resume 001-calc (the phase is checked again)",
    ]
    assert len(next_steps("001-calc", broken="")) == 2  # no task to blame: a commit broke it
