"""Live progress of a run, printed as lines so it reads the same in a terminal, a pipe or CI."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from orchestrator.agent.model import Usage


class Reporter:
    """The one place a run prints (`run.reporter.Reporter`); tests pass a Console that records."""

    def __init__(self, console: Console | None = None, quiet: bool = False) -> None:
        self.console = console or Console(highlight=False)
        self.quiet = quiet

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]{escape(text)}[/dim]")

    def task_started(self, task_id: str, description: str, agent: str, reason: str) -> None:
        if not self.quiet:
            self.console.print(
                f"[bold]{task_id}[/bold] {escape(description[:80])} "
                f"[cyan]→ {escape(agent)}[/cyan] [dim]({escape(reason)})[/dim]"
            )

    def turn(self, task_id: str, attempt: int, usage: Usage) -> None:
        if not self.quiet:
            self.console.print(
                f"  [dim]{task_id} attempt {attempt}: +{usage.input_tokens} in "
                f"+{usage.output_tokens} out ({usage.cache_read_tokens} cached)[/dim]"
            )

    def attempt(
        self, task_id: str, attempt: int, outcome: str, detail: str = "", of: int = 0
    ) -> None:
        if self.quiet:
            return
        colour = {"passed": "green", "check": "green"}.get(outcome, "yellow")
        extra = f": {escape(detail)}" if detail else ""
        n = f"{attempt}/{of}" if of else str(attempt)
        self.console.print(f"  {task_id} attempt {n} [{colour}]{outcome}[/{colour}]{extra}")

    def landed(self, task_id: str, sha: str, kind: str, evidence: str = "") -> None:
        """One line with what verified it: a check what it ran, TDD tests that they landed
        red on purpose (the evidence then starts with that), a phase end what turned green."""
        if self.quiet:
            return
        if kind == "tdd-red" and evidence.startswith("red as expected"):
            red, _, rest = evidence.partition("; ")
            line = f"✓ {task_id} landed {red} ({sha[:10]}{'; ' + rest if rest else ''})"
        else:
            what = f"check: {evidence or 'no change needed'}" if kind == "check" else evidence
            line = f"✓ {task_id} landed as {sha[:10]}" + (f" ({what})" if what else "")
        colour = "yellow" if kind == "tdd-red" else "green"
        self.console.print(f"  [{colour}]{escape(line)}[/{colour}]")

    def failed(self, task_id: str, reason: str) -> None:
        self.console.print(f"  [red]✗ {task_id}: {escape(reason)}[/red]")
