"""The plan of a feature, pure: the task graph (`graph`: who waits for whom, what is ready,
which tasks form waves), the agent definitions (`agents`), which agent takes each task and
why (`routing`, scoring each agent by `scoring` on what a task says (`evidence`), what an
agent says (`profiles`), the feature's stack (`stack`) and the words they share (`lexicon`)),
`routing: model`'s settling of close calls (`advice`, `consulting`: the one place a model
is asked), and all of it bound together for one feature (`build.Plan`). No git or store;
imports `speckit`, `config`, the agent's tool names, Bash rule grammar and model seam, and
`verify`'s notion of a check task."""
