"""A run's options kept in its record, so `sdd resume` (or `sdd run` continuing a paused run)
goes on as the run was started: `--approve each` keeps holding every task, `--jobs 4` keeps
four at work, the model and engine stay. What the command line gives now wins, and is kept.

Only what was asked for is kept, never a config default, so an edit of `.specify/sdd.yaml`
still reaches a run that did not override it.
"""

from __future__ import annotations

import json
from dataclasses import replace

from orchestrator.run.context import RunOptions
from orchestrator.store.records import RunRecord, RunStatus
from orchestrator.store.url import mask

KEPT = ("model", "approve", "jobs", "engine", "push")


def continues(run: RunRecord | None, options: RunOptions) -> bool:
    """Whether this start continues `run` (else it starts a new one)."""
    return run is not None and run.status != RunStatus.FINISHED and not options.restart


def with_kept(given: RunOptions, run: RunRecord | None) -> RunOptions:
    """`given`, each option it leaves unset taken from the run it continues."""
    if run is None or not continues(run, given):
        return given
    kept = kept_options(run)

    def text(key: str) -> str | None:
        value = kept.get(key)
        return value if isinstance(value, str) and value else None

    jobs = kept.get("jobs")
    return replace(
        given,
        model=given.model or text("model"),
        approve=given.approve or text("approve"),
        jobs=given.jobs or (jobs if isinstance(jobs, int) and jobs > 0 else None),
        engine=given.engine or text("engine"),
        push=given.push or text("push"),
    )


def kept_options(run: RunRecord) -> dict[str, object]:
    """The options a run record holds ({} for a run recorded before options were)."""
    try:
        data = json.loads(run.options) if run.options else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def options_json(options: RunOptions) -> str:
    """What to keep: the options given (the store's URL masked, for people to read)."""
    data: dict[str, object] = {k: getattr(options, k) for k in KEPT}
    if options.store:
        data["store"] = mask(options.store)
    return json.dumps({k: v for k, v in data.items() if v is not None}, sort_keys=True)
