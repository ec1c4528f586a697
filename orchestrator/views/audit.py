"""`sdd audit`'s output: plain data for --json, a table and a verdict line for people."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from orchestrator.run.audit import Audit


def audit_data(audit: Audit, ran_tests: bool) -> dict[str, Any]:
    rows = [asdict(r) for r in audit.rows]
    if not ran_tests:
        for row in rows:
            del row["tests"], row["tests_ok"]
    return {
        "feature": audit.feature,
        "ok": audit.ok,
        "ticked": len(audit.rows),
        "unverified": [r.task for r in audit.rows if not r.verified],
        "suite": audit.suite if ran_tests else None,
        "tasks": rows,
    }


def audit_table(audit: Audit, ran_tests: bool) -> Table:
    table = Table(title=f"{audit.feature}: {len(audit.rows)} ticked tasks")
    for col in ("task", "status", "commit", "how", *(("tests now",) if ran_tests else ())):
        table.add_column(col, overflow="fold")
    for r in audit.rows:
        status = "[green]verified[/green]" if r.verified else "[red]unverified[/red]"
        how = r.reason + (f"; {r.evidence}" if r.evidence else "")
        tests = (
            () if not ran_tests else (r.tests if r.tests_ok else f"[red]{escape(r.tests)}[/red]",)
        )
        table.add_row(r.task, status, r.commit[:10], escape(how), *tests)
    return table


def audit_verdict(audit: Audit, ran_tests: bool) -> str:
    """The line under the table: all clear, or what is not and what to do."""
    unverified = [r.task for r in audit.rows if not r.verified]
    failing = [r.task for r in audit.rows if r.verified and not r.tests_ok]
    lines = []
    if ran_tests:
        lines.append(f"suite now: {audit.suite}")
    if not audit.rows:
        lines.append("No ticked tasks to audit.")
    elif audit.ok:
        lines.append(f"All {len(audit.rows)} ticked tasks landed verified.")
    if unverified:
        hint = "" if ran_tests else "; --verify runs the suite and shows what their tests say"
        lines.append(
            f"{len(unverified)} ticked without sdd's verification: {', '.join(unverified)}{hint}"
        )
    if failing:
        lines.append(f"named tests failing now: {', '.join(failing)}")
    return "\n".join(lines)
