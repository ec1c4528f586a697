"""Verification: whether a task's change may land. `runner` runs the commands on a tree,
`policy` judges the result against the task's base (pure), `commands` picks the defaults.
Imports `speckit` (tasks), `procs` and `text` only."""
