"""Setting sdd up in a repository (`sdd init`): what it detects (`detect`: the verification,
the agents, the spec-kit integration), the spec-kit extension, workflow step and workflows sdd
ships (`shipped`), installing them through spec-kit's own CLI (`specify`), and the plan of
what to write, checked whole before anything is written (`setup`). Imports `config`, `plan`,
`verify`, `speckit`, `git` and `paths`."""
