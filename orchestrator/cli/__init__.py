"""The `sdd` command line: thin commands that parse arguments, call one library function and
render its result (`app` holds what they share, `initializing` init, `running`
plan/agents/run/resume/demo, `inspecting` status/log/diff/show/report/audit/undo/retry, `demo`
the example project, `pipes` standard output a reader may leave). Heavy modules are imported
inside the commands that need them, so `sdd plan` starts fast."""

from __future__ import annotations


def main() -> None:
    """Console entry point (`sdd`): errors the user can fix are one line and an exit code,
    never a traceback."""
    from orchestrator import vault

    with vault.kept_out():  # before anything can start a child process
        _main()


def _main() -> None:
    from orchestrator.cli import initializing, inspecting, running
    from orchestrator.cli.app import app
    from orchestrator.errors import AwaitingAnswer, SddError

    for command in (*initializing.COMMANDS, *running.BEFORE, *inspecting.COMMANDS, *running.AFTER):
        app.command()(command)
    try:
        app()
    except KeyboardInterrupt:  # outside a run (a run pauses on Ctrl-C and exits 130 itself)
        _fail("interrupted", 130)
    except OSError as exc:  # disk full, permissions, a file where a folder should be
        _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), 2)
    except AwaitingAnswer as exc:  # not an error: the run waits for the person's answer
        _fail(str(exc), exc.code, "[yellow]paused:[/yellow]")
    except SddError as exc:
        _fail(str(exc), exc.code)


def _fail(text: str, code: int, label: str = "[red]error:[/red]") -> None:
    import sys

    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False)
    # piped: one line to grep; on a terminal, wrapped between words
    console.print(f"{label} {escape(text)}", soft_wrap=not console.is_terminal)
    sys.exit(code)
