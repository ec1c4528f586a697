"""`python -m orchestrator.cli`: the same entry point as the `sdd` command."""

from orchestrator.cli import main

main()
