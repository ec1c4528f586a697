"""One run of a feature: opening it safely (`opening`: checks, locks, records, `context`; the
options a run keeps, `remembered`), the
LangGraph graph (`graph`) and driving it in this process (`driver`), a task in the work tree
(`task`) or a wave of them in worktrees (`waves`), where it starts (`start`), its attempts
(`attempt`), its conversation kept step by step to go on after a kill (`journal`) with the
files it changed, to go on in another clone (`treefiles`, as changes: `delta`), verification
against its base (`verifying`), each phase's full verification (`phases`) and landing
(`landing`), pushing and catching up with a remote
(`remote`), taking a task back (`undo`), and auditing the ticks of tasks.md (`audit`). Imports
every layer below; what it reports goes through the `reporter` Protocol, so it never imports
`views`."""
