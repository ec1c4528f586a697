"""How a run ended, in words a person can act on: honest counts when it finished, and the
exact next commands when it paused (pure)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def finished_line(order: list[str], landed: Collection[str], skipped: Collection[str]) -> str:
    """`All 6 tasks landed.` only when every task landed; else what each of them is."""
    mine = [t for t in order if t in landed]
    moved = [t for t in order if t in skipped and t not in landed]
    other = [t for t in order if t not in landed and t not in moved]
    if not moved and not other:
        return f"All {len(order)} tasks landed."
    parts = [f"{len(mine)} landed"]
    if moved:
        parts.append(f"{len(moved)} skipped ({_ids(moved)})")
    if other:
        parts.append(f"{len(other)} ticked before sdd ({_ids(other)})")
    return ", ".join(parts) + "."


def next_steps(
    feature: str,
    awaiting: str = "",
    failed: Collection[str] = (),
    broken: str | None = None,
    reason: str = "",
) -> list[str]:
    """The commands that move a paused run on (the run keeps its options, so none repeat);
    `broken` is the task a failed phase check blamed ("" when none), None without one;
    `reason` is the pause's, for a budget reached."""
    resume = f"sdd resume {feature}"
    if broken is not None:
        undo = [f"Take back the task that broke it: sdd undo {feature} {broken}, then {resume}"]
        return [
            f"See the phase verification's output: sdd log {feature}",
            *(undo if broken else []),
            f"Or commit a fix of your own, then {resume} (the phase is checked again)",
        ]
    if awaiting:
        return [
            f"Review it: sdd diff {feature} {awaiting} (the agent's work: sdd show {feature} "
            f"{awaiting})",
            f"Land it: {resume} --approve",
            f'Send it back: {resume} --reject --note "what to change"',
        ]
    if failed:
        ids = list(failed)  # a wave can fail several: each is named
        also = f" (also failed: {_ids(ids[1:])})" if len(ids) > 1 else ""
        skips = " ".join(f"--skip {t}" for t in ids)
        them = "them" if len(ids) > 1 else "it"
        return [
            f"See why: sdd show {feature} {ids[0]}{also}",
            f"Move past {them} (left unticked): {resume} {skips}",
            f"Or fix the cause (a test, the task's text, the config), then try again: {resume}",
        ]
    if "budget reached" in reason:  # the task's attempt waits, kept, where it stopped
        return [
            "Raise the budget (budget: in .specify/sdd.yaml, committed), then go on where it "
            f"stopped: {resume}"
        ]
    return [f"Continue: {resume}"]


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")


def stopped(data: dict[str, Any], holder: str | None) -> dict[str, Any]:
    """`status` data for a run recorded as running whose process is gone (no live process
    holds the working tree's lock): say so, and how to go on; its task in flight was cut."""
    run = data.get("run")
    if not run or run["status"] != "running" or holder is not None:
        return data
    feature = data["feature"]
    reason = f"unexpectedly, its process is gone; resume with sdd resume {feature}"
    tasks = [t | {"state": "interrupted"} if t["state"] == "running" else t for t in data["tasks"]]
    return data | {"run": run | {"status": "stopped", "reason": reason}, "tasks": tasks}
