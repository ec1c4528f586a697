"""The `claude-code` engine: each attempt of a task is a Claude Code session in the task's
work tree, through the Claude Agent SDK (the `claude-code` extra, imported only here).

`engine` runs the attempts (resuming one session with verification feedback), `session`
drives one Claude Code process, `options` builds what it is started with, `gate` holds sdd's
rules for its tool calls, `stream` turns its messages into transcripts, usage and errors,
`mirror` keeps the session in sdd's store (Claude Code's entries and the stream's copy),
`rebuild` makes a resumable transcript of the two, and `credentials` says which login it
uses. Imports `agent` and `config`, like the rest of
`agent`."""
