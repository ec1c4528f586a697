"""What `sdd init` reports: one line per action with its state, then the next steps (rich
markup for people, plain data for `--json`)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from orchestrator.install import shipped
from orchestrator.install.setup import KEPT, SKIPPED, InitResult

_COLOURS = {KEPT: "yellow", SKIPPED: "yellow", "unchanged": "dim"}


def next_steps(result: InitResult) -> list[str]:
    integration = result.detection.integration
    steps = []
    if result.dry_run:
        steps.append("Dry run: nothing was written. Run sdd init without --dry-run to do it.")
    elif result.wrote:
        steps.append(
            "Commit what sdd init wrote (git status lists it): sdd lands tasks only on a clean "
            "working tree."
        )
    ways = ["sdd run FEATURE"]
    if result.speckit_ready:
        ways.append(f"{integration.command('speckit.sdd.run')} in your agent")
        ways.append(f"specify workflow run {shipped.WORKFLOW_ID}")
    steps.append("Implement a feature: " + ", or ".join(ways) + ".")
    return steps


def init_data(result: InitResult) -> dict[str, Any]:
    """`sdd init --json`."""
    return {
        "root": str(result.root),
        "dry_run": result.dry_run,
        "speckit_project": result.detection.speckit_project,
        "integration": result.detection.integration.key,
        "verify": list(result.detection.verify.commands),
        "agents": [name for name, _ in result.detection.agents],
        "actions": [
            {"what": o.what, "state": o.state, "detail": o.detail} for o in result.outcomes
        ],
        "next": next_steps(result),
    }


def init_lines(result: InitResult) -> list[str]:
    found = result.detection
    kind = "a spec-kit project" if found.speckit_project else "not a spec-kit project"
    using = f", integration {found.integration.key}" if found.integration.key else ""
    lines = [f"[bold]sdd init[/bold] {escape(str(result.root))} [dim]({kind}{using})[/dim]"]
    width = max(len(o.state) for o in result.outcomes)
    for o in result.outcomes:
        colour = _COLOURS.get(o.state, "yellow" if o.state.startswith("would") else "green")
        state = f"[{colour}]{o.state:<{width}}[/{colour}]"
        lines.append(f"  {state}  {o.what:<9}  {escape(o.detail)}")
    lines += [escape(step) for step in next_steps(result)]
    return lines
