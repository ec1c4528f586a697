"""Live progress of a run. Lines that read the same in a terminal, a pipe or CI, and on a
terminal one live line per working task (its current step, time and tokens so far).

On a terminal a line never runs past the width: a task's title ends in rich's ellipsis, and
longer lines wrap between words. Piped, every line is printed whole (no wrapping at 80).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from orchestrator.agent.model import Usage


def tokens_text(n: int) -> str:
    """A token count as people read it: 950, 12.3k, 1.25M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.2f}M"


def duration_text(seconds: float) -> str:
    """4.2s, 2m 05s, 1h 03m."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"


def usage_text(u: Usage) -> str:
    """Every kind of token an attempt spent, in the order the API bills them."""
    return (
        f"{tokens_text(u.input_tokens)} in, {tokens_text(u.cache_write_tokens)} cache write, "
        f"{tokens_text(u.cache_read_tokens)} cache read, {tokens_text(u.output_tokens)} out"
    )


def cache_share(u: Usage) -> float:
    """The share of the input the prompt cache served."""
    sent = u.input_tokens + u.cache_write_tokens + u.cache_read_tokens
    return u.cache_read_tokens / sent if sent else 0.0


@dataclass(slots=True)
class Totals:
    """What this invocation spent, for the last line of a run and `run --json`."""

    started: float = field(default_factory=time.monotonic)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    attempts: int = 0
    verify_seconds: float = 0.0

    def data(self) -> dict[str, object]:
        u = self.usage
        return {
            "seconds": round(time.monotonic() - self.started, 3),
            "verify_seconds": round(self.verify_seconds, 3),
            "attempts": self.attempts,
            "input_tokens": u.input_tokens,
            "cache_write_tokens": u.cache_write_tokens,
            "cache_read_tokens": u.cache_read_tokens,
            "output_tokens": u.output_tokens,
            "cache_share": round(cache_share(u), 4),
            "cost_usd": round(self.cost, 6),
        }

    def line(self) -> str:
        took = duration_text(time.monotonic() - self.started)
        if not self.attempts:
            return f"Took {took}; no agent attempt ran."
        return (
            f"Took {took} (verification {duration_text(self.verify_seconds)}), "
            f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}: "
            f"${self.cost:.4f} for {usage_text(self.usage)} "
            f"({cache_share(self.usage):.0%} of input from cache)"
        )


@dataclass(slots=True)
class _Working:
    step: str
    since: float  # when the task started
    tokens: int = 0


class Reporter:
    """The one place a run prints (`run.reporter.Reporter`); tests pass a Console that records.

    `verbose` adds a line per model turn and tool call; `quiet` keeps only failures. `live`
    (default: the console is a terminal and not quiet) shows the steps as one line per task.
    """

    def __init__(
        self,
        console: Console | None = None,
        quiet: bool = False,
        verbose: bool = False,
        live: bool | None = None,
    ) -> None:
        self.console = console or Console(highlight=False)
        self.quiet, self.verbose = quiet, verbose and not quiet
        self.live = (self.console.is_terminal and not quiet) if live is None else live
        self.totals = Totals()
        self._working: dict[str, _Working] = {}
        self._lock = threading.RLock()  # the working tasks
        self._out = threading.RLock()  # writing: a line and the live line never interleave
        self._display: Live | None = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # printing ---------------------------------------------------------------------------

    def _line(self, markup: str, *, title: bool = False, head: str = "", indent: int = 0) -> None:
        """A line that fits: on a terminal a title line ends in an ellipsis, and a longer line
        wraps between words under its text, after `head` (`T007 attempt 1`), `indent` in;
        piped, the whole line."""
        pad = " " * indent
        with self._out:
            if not self.console.is_terminal:
                line = f"{pad}{head} {markup}" if head else pad + markup
                self.console.print(line, soft_wrap=True)
            elif title:
                self.console.print(markup, no_wrap=True, overflow="ellipsis")
            else:
                grid = Table.grid(padding=(0, 1, 0, 0))
                if head:
                    grid.add_column(no_wrap=True)
                grid.add_column(ratio=1)
                grid.add_row(*((head,) if head else ()), markup)
                self.console.print(Padding(grid, (0, 0, 0, indent)) if indent else grid)
            if self._display is not None:
                self._display.refresh()

    def _render(self) -> RenderableType:
        now = time.monotonic()
        with self._lock:
            rows = [
                Text.assemble(
                    ("▸ ", "cyan"),
                    (f"{tid} ", "bold"),
                    w.step,
                    (f" · {duration_text(now - w.since)} · {tokens_text(w.tokens)} tokens", "dim"),
                    no_wrap=True,
                    overflow="ellipsis",
                    end="",
                )
                for tid, w in self._working.items()
            ]
        return Group(*rows)

    def _show(self) -> None:
        if not self.live or self._display is not None:
            return
        # refreshed here, under the same lock as every line, never by rich's own thread:
        # a line printed while that thread redraws would land beside the live line
        self._display = Live(
            console=self.console,
            get_renderable=self._render,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        with self._out:
            self._display.start(refresh=True)
        self._ticker = threading.Thread(target=self._tick, name="sdd-live", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            with self._out:
                if self._display is not None:
                    self._display.refresh()

    def close(self) -> None:
        """Take the live line away (at the end of a run, before its table)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            self._working.clear()
        with self._out:
            if self._display is not None:
                self._display.stop()
                self._display = None

    # the run's events -------------------------------------------------------------------

    def note(self, text: str) -> None:
        if not self.quiet:
            self._line(f"[dim]{escape(text)}[/dim]")

    def task_started(self, task_id: str, description: str, agent: str, reason: str) -> None:
        with self._lock:
            self._working[task_id] = _Working("starting", time.monotonic())
        if not self.quiet:
            self._line(
                f"[bold]{task_id}[/bold] {escape(description)} "
                f"[cyan]→ {escape(agent)}[/cyan] [dim]({escape(reason)})[/dim]",
                title=True,
            )
        self._show()

    def activity(self, task_id: str, step: str) -> None:
        """What the task's agent is doing now: a model call, a tool, verifying, landing."""
        with self._lock:
            working = self._working.get(task_id)
            if working is not None:
                working.step = step
        if self.verbose:
            self._line(f"[dim]{escape(step)}[/dim]", head=f"[dim]{task_id}[/dim]", indent=2)

    def turn(self, task_id: str, attempt: int, usage: Usage) -> None:
        with self._lock:
            working = self._working.get(task_id)
            if working is not None:
                working.tokens += usage.input_tokens + usage.output_tokens
                working.tokens += usage.cache_read_tokens + usage.cache_write_tokens
        if self.verbose:
            said = f"[dim]turn: {usage_text(usage)}[/dim]"
            self._line(said, head=f"[dim]{task_id} attempt {attempt}[/dim]", indent=2)

    def attempt(
        self,
        task_id: str,
        attempt: int,
        outcome: str,
        detail: str = "",
        *,
        of: int = 0,
        usage: Usage | None = None,
        seconds: float = 0.0,
        cost: float = 0.0,
        verify_seconds: float = 0.0,
    ) -> None:
        """One summary line per attempt (`attempt` of `of` in this round of the task): how it
        ended, its tokens of every kind, cost, time."""
        with self._lock:
            t = self.totals
            t.attempts += 1
            t.usage = t.usage + (usage or Usage())
            t.cost += cost
            t.verify_seconds += verify_seconds
        if self.quiet:
            return
        colour = {"passed": "green", "check": "green"}.get(outcome, "yellow")
        spent = f" · {usage_text(usage)} · ${cost:.4f} · {duration_text(seconds)}" if usage else ""
        extra = f": {escape(detail)}" if detail else ""
        n = f"{attempt}/{of}" if of else str(attempt)
        said = f"[{colour}]{outcome}[/{colour}][dim]{spent}[/dim]{extra}"
        self._line(said, head=f"{task_id} attempt {n}", indent=2)

    def landed(self, task_id: str, sha: str, kind: str, evidence: str = "") -> None:
        """One line with what verified it: a check what it ran, TDD tests that they landed
        red on purpose (the evidence then starts with that), a phase end what turned green."""
        with self._lock:
            self._working.pop(task_id, None)
        if self.quiet:
            return
        if kind == "tdd-red" and evidence.startswith("red as expected"):
            red, _, rest = evidence.partition("; ")
            line = f"landed {red} ({sha[:10]}{'; ' + rest if rest else ''})"
        else:
            what = f"check: {evidence or 'no change needed'}" if kind == "check" else evidence
            line = f"landed as {sha[:10]}" + (f" ({what})" if what else "")
        c = "yellow" if kind == "tdd-red" else "green"
        self._line(f"[{c}]{escape(line)}[/{c}]", head=f"[{c}]✓ {task_id}[/{c}]", indent=2)

    def failed(self, task_id: str, reason: str) -> None:
        with self._lock:
            self._working.pop(task_id, None)
        said = reason.removeprefix(f"{task_id}: ").removeprefix(f"{task_id} ")  # named once
        self._line(f"[red]{escape(said)}[/red]", head=f"[red]✗ {task_id}:[/red]", indent=2)
