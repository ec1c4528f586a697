"""`sdd init`: set sdd up in a repository (and in its spec-kit project, when there is one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.app import out, print_json

Where = Annotated[
    Path | None,
    typer.Option("--repo", help="The repository (default: walk up to .specify/, else here)."),
]


def init(
    repo: Where = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Rewrite .specify/sdd.yaml and reinstall the spec-kit parts."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be done; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
) -> None:
    """Set sdd up here: a commented config, .sdd/ kept out of git, sdd's spec-kit extension."""
    from orchestrator.install.detect import find_specify
    from orchestrator.install.setup import find_project, init_project
    from orchestrator.views.setup import init_data, init_lines

    result = init_project(find_project(repo), force=force, dry_run=dry_run, specify=find_specify())
    if as_json:
        print_json(init_data(result))
        return
    for line in init_lines(result):
        out.print(line, soft_wrap=True)


COMMANDS = (init,)
