"""Where runs are remembered: sdd's records (`records`, in tables from `schema`, and each task's
conversation as steps compressed by `packing`, with the files they changed) kept by one
`Store` over a SQLite or Postgres `Backend` (`backend`), the URL that picks one (`url`,
`open`), and the LangGraph checkpointer in the same database. Imports `errors`, `paths`
and `git` (for the repository's key) only."""
