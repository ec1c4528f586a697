"""The agent: one task's conversation with a model, using tools in a work tree.

`model` is the seam (requests, turns, usage); `models` holds the factory and the adapters
(the Messages API, the offline script); `loop` runs turns and feeds verification back;
`journal` says which steps of a conversation are kept, and replays them to go on after a kill;
`prompt`, `budget` and `transcript` format, meter and record; `tools` acts on the work tree.
Knows nothing of git, the store or the run graph: the caller hooks those in."""
