"""The agent's tools, with Claude Code's names and inputs: `toolbox` dispatches a call, `files`
does Read/Write/Edit/Glob/Grep through one `pathguard`, `bash_rules` decides which commands
may run and `bash` runs them. Imports `errors`, `procs`, `text` and `globs` only."""
