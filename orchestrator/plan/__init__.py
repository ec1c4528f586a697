"""The plan of a feature, pure: the task graph (`graph`: who waits for whom, what is ready,
which tasks form waves), the agent definitions (`agents`), which agent takes each task and
why (`routing`), and all of it bound together for one feature (`build.Plan`). No git, model
or store; imports `speckit`, `config` and the agent's tool names and Bash rule grammar."""
