"""Verification: whether a task's change may land, judged in the project's own environment.
`environment` picks the commands from the repository's files and says why (pure), `commands`
gathers those facts, `runner` runs the commands on a tree, `junit` reads the per-test results
of their JUnit reports (pytest's, and any runner's written to `$SDD_JUNIT_XML`), `diagnosis`
says why a command could not run (pure), `evidence` what a check task ran (pure), `policy`
judges a tree against the task's base (pure), and `bisect` finds the commit that broke a phase
(pure); `results` holds the data they share. Imports `speckit` (tasks), `procs` and `text`
only."""
