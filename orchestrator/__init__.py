"""sdd: run a spec-kit feature to completion, one verified, resumable commit per task.

Subpackages by concept, each importing only from the layers below it (pyproject's
import-linter contract checks this):

    cli | server          entry points: the `sdd` command, the LangGraph Server graph factory
    views                 what people read: progress, tables, graph pictures, transcripts, report
    run                   one run: context, the LangGraph graph, tasks, attempts, waves, landing
    plan                  the pure plan: task graph, agent definitions, routing
    agent | verify        the agent's loop, models, prompt and tools | judging a change
    config                `.specify/sdd.yaml`
    speckit | store       spec-kit documents and tasks.md | records and checkpoints
    git                   the only code that runs git
    errors, paths, procs, text, globs    shared leaves
"""

__version__ = "0.1.0"
