"""spec-kit as sdd reads it: which project and feature (`project`), the feature's documents
(`documents`), tasks.md parsed into tasks (`tasks`, one line at a time by `task_line`),
ticking a task done in place (`ticks`), and how the project's people call spec-kit's commands
(`integration`, for hints). Pure but for reading files and asking git for the branch; imports
only `errors` and `git`."""
