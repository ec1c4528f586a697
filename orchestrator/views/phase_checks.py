"""Phase checks (`verify: {task, phase}`) as people and scripts see them in `status`, `log`
and the report: each phase's last full verification, its result, time and culprit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from orchestrator.views.progress import duration_text

if TYPE_CHECKING:
    from orchestrator.speckit.tasks import Phase
    from orchestrator.store.records import PhaseCheck

_OUTPUT_LINES = 40  # of a failed check's output, in `sdd log`


def phase_checks_data(checks: dict[int, PhaseCheck], phases: list[Phase]) -> list[dict[str, Any]]:
    """One entry per phase checked, in tasks.md's order."""
    rows = []
    for index, c in sorted(checks.items()):
        phase = phases[index] if index < len(phases) else None
        rows.append(
            {
                "phase": (phase.number if phase and phase.number else str(index + 1)),
                "title": phase.title if phase else "",
                "result": _result(c),
                "headline": c.headline,
                "culprit": c.culprit,
                "seconds": c.seconds,
                "runs": c.runs,
                "head": c.head,
                "base": c.base,
                "output": c.output,
            }
        )
    return rows


def _result(check: PhaseCheck) -> str:
    """passed, failed, or stopped: a second Ctrl-C ended it with no verdict."""
    if check.passed:
        return "passed"
    return "stopped" if check.stopped else "failed"


def log_entries(
    tasks: list[dict[str, Any]],
    checks: dict[int, PhaseCheck],
    phases: list[Phase],
    phase_of: dict[str, int],
) -> list[dict[str, Any]]:
    """`sdd log --json`: the landed tasks in task order, each phase check placed where it ran,
    after its phase's tasks and before any task of a later phase. A check's entry has kind
    `phase-check`, no task (`""`), and the commit it verified, so every entry keeps the keys
    `kind`, `task`, `commit` and `seconds` that scripts read."""
    rows = phase_checks_data(checks, phases)
    pending = [
        {"kind": "phase-check", "task": "", "commit": row["head"], **row, "index": index}
        for index, row in zip(sorted(checks), rows, strict=True)
    ]
    merged: list[dict[str, Any]] = []
    for task in tasks:
        phase = phase_of.get(task["task"], -1)
        while pending and pending[0]["index"] < phase:
            merged.append(pending.pop(0))
        merged.append(task)
    merged.extend(pending)
    for entry in merged:
        entry.pop("index", None)
    return merged


def phase_checks_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="phase checks (verify: phase)")
    for col in ("phase", "result", "time (runs)"):
        table.add_column(col, no_wrap=True)
    table.add_column("what it found", ratio=1, min_width=20)
    for r in rows:
        colour = {"passed": "green", "failed": "red"}.get(r["result"], "yellow")
        table.add_row(
            escape(r["phase"]),
            f"[{colour}]{r['result']}[/{colour}]",
            f"{duration_text(r['seconds'])} ({r['runs']})",
            escape(r["headline"]),
        )
    return table


def failed_output(rows: list[dict[str, Any]]) -> str:
    """The output of each failed check, its last lines, for `sdd log`."""
    parts = []
    for r in rows:
        if r["result"] == "failed" and r["output"]:
            lines = r["output"].rstrip().splitlines()
            cut = (
                f"[… {len(lines) - _OUTPUT_LINES} lines before]\n"
                if len(lines) > _OUTPUT_LINES
                else ""
            )
            parts.append(
                f"phase {r['phase']} verification:\n{cut}" + "\n".join(lines[-_OUTPUT_LINES:])
            )
    return "\n\n".join(parts)
