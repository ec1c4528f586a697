"""One run of a feature: opening it safely (`opening`: checks, locks, records, `context`), the
LangGraph graph (`graph`) and driving it in this process (`driver`), a task in the work tree
(`task`) or a wave of them in worktrees (`waves`), its attempts (`attempt`) and landing
(`landing`), pushing and catching up with a remote (`remote`), and taking a task back
(`undo`). Imports every layer below; what it reports goes through the `reporter` Protocol,
so it never imports `views`."""
