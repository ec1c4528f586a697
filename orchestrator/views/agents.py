"""`sdd agents`: the agent definitions in use, as data (for --json) and as a table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from orchestrator.views.tables import short_text, tools_text

if TYPE_CHECKING:
    from orchestrator.plan.agents import AgentSet


def shown_path(path: Path, root: Path) -> str:
    """A path as people read it: relative to the repository, `~/` for the home folder."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        pass
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def agents_data(found: AgentSet, root: Path) -> list[dict[str, Any]]:
    """`sdd agents --json`: every agent definition in use, paths relative to the repository."""
    return [
        {
            "name": a.name,
            "source": a.source,
            "path": "" if a.source == "built-in" else shown_path(a.path, root),
            "tools": list(a.tools) if a.tools is not None else None,
            "model": a.model or "inherit",
            "description": a.description,
            "paths": list(a.hints.paths),
            "stacks": list(a.hints.stacks),
        }
        for a in found.agents.values()
    ]


def agents_table(rows: list[dict[str, Any]]) -> Table:
    """Names and tools never broken; the description takes what width is left, wrapped."""
    table = Table(title="agents")
    table.add_column("name", no_wrap=True)
    table.add_column("from", max_width=30)
    table.add_column("model", no_wrap=True)
    table.add_column("tools", max_width=24)
    table.add_column("description", ratio=1, min_width=20)
    for a in rows:
        hints = [f"{k}: {', '.join(a[k])}" for k in ("paths", "stacks") if a[k]]
        about = escape(short_text(a["description"], 240)) + (
            f"\n[dim]sdd {escape('; '.join(hints))}[/dim]" if hints else ""
        )
        tools = tools_text(a["tools"])
        where = f"{a['source']}\n[dim]{escape(a['path'])}[/dim]" if a["path"] else a["source"]
        table.add_row(a["name"], where, a["model"], tools, about)
    return table
