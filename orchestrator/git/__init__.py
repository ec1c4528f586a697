"""Git: the only code that runs git. `runner` runs commands, `repo` checks and writes the
repository (commits, resets, worktrees, remotes), `history` reads what landed, `trailers`
formats and parses sdd's commit messages (pure). Imports nothing of sdd but `errors`."""
