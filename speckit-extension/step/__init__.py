"""The `sdd` workflow step: implements a feature's tasks.md with sdd inside a spec-kit workflow.

It runs in specify's own process (which need not have sdd's Python packages), so it calls the
`sdd` command line and maps its documented exit codes: 0 every task landed (COMPLETED, with
the landed commits as output), 1 the run paused (PAUSED, with sdd's reason: an approval gate,
a budget, a failed task), 130 Ctrl-C paused it (PAUSED too), 2 bad input and 3 the model
endpoint refused us (FAILED, with sdd's error). `specify workflow resume` re-runs the step
with `is_resume`, which becomes `sdd resume`; an answer to an approval gate comes in as a
workflow input (`--input decision=approve`, or `reject` with `--input note=...`) and is used
once.

Step config (every key optional):

    - id: implement
      type: sdd
      feature: "{{ inputs.feature }}"  # empty: the feature spec-kit resolves (feature.json...)
      decision_input: decision         # the workflow input holding approve/reject on resume
      note_input: note                 # the workflow input holding the reject note
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from typing import Any

from specify_cli.workflows.base import StepBase, StepContext, StepResult, StepStatus
from specify_cli.workflows.expressions import evaluate_expression

FINISHED, PAUSED, BAD_INPUT, REFUSED, INTERRUPTED = 0, 1, 2, 3, 130
DECISIONS = ("approve", "reject")
CONFIG_KEYS = {"id", "type", "feature", "decision_input", "note_input"}
INSTALL_HINT = "install sdd (Python package sdd-orchestrator) so `sdd` is on PATH"


class SddStep(StepBase):
    """Run (or, on resume, continue) sdd for the workflow's feature."""

    type_key = "sdd"

    def execute(self, config: dict[str, Any], context: StepContext) -> StepResult:
        root = context.project_root or os.getcwd()
        feature = _text(config.get("feature", ""), context)
        if context.is_resume and not feature:  # the one it started, not today's current one
            feature = _recall(context, config)
        sdd = shutil.which("sdd")
        if sdd is None:
            return _failed(f"sdd is not installed: {INSTALL_HINT}", feature)
        where = [feature] if feature else []
        if context.is_resume:
            answer = _take_answer(config, context)
            if isinstance(answer, StepResult):
                return answer
            argv = [sdd, "resume", *where, "--repo", root, *answer]
        else:
            argv = [sdd, "run", *where, "--repo", root]
        try:
            code, error = _run(argv, root)
        except OSError as exc:
            return _failed(f"cannot run {sdd}: {exc.strerror or exc}", feature)
        if code in (FINISHED, PAUSED, INTERRUPTED):
            status = _status(sdd, where, root)
            _remember(context, config, str(status.get("feature") or feature))
            return _outcome(code, status, config, context)
        if code == REFUSED:
            return _failed(f"the model endpoint refused sdd: {error}", feature)
        if code == BAD_INPUT:
            return _failed(error or "sdd refused its input (exit code 2)", feature)
        return _failed(f"sdd stopped with exit code {code}: {error or 'no error line'}", feature)

    def validate(self, config: dict[str, Any]) -> list[str]:
        errors = super().validate(config)
        step = config.get("id", "?")
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            errors.append(
                f"sdd step {step!r}: unknown keys {unknown} (known: {sorted(CONFIG_KEYS)})"
            )
        for key in ("feature", "decision_input", "note_input"):
            if key in config and not isinstance(config[key], str):
                errors.append(f"sdd step {step!r}: {key!r} must be a string")
        return errors


def _memory(context: StepContext) -> str:
    """Where the step keeps what it resolved, beside the workflow run's own state."""
    runs = os.path.join(context.project_root or os.getcwd(), ".specify", "workflows", "runs")
    return os.path.join(runs, str(context.run_id), "sdd-step.json")


def _remember(context: StepContext, config: dict[str, Any], feature: str) -> None:
    """The feature sdd ran, so a resume continues it even if spec-kit's current feature has
    moved on since (a new /speckit-specify rewrites .specify/feature.json)."""
    path = _memory(context)
    if not feature or not os.path.isdir(os.path.dirname(path)):
        return
    try:
        with open(path, encoding="utf-8") as f:
            kept = json.load(f)
    except (OSError, ValueError):
        kept = {}
    kept = kept if isinstance(kept, dict) else {}
    kept[str(config.get("id", ""))] = feature
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(kept, f)
    except OSError:
        pass  # a resume then takes the feature spec-kit resolves, as `sdd resume` does


def _recall(context: StepContext, config: dict[str, Any]) -> str:
    try:
        with open(_memory(context), encoding="utf-8") as f:
            kept = json.load(f)
    except (OSError, ValueError):
        return ""
    feature = kept.get(str(config.get("id", ""))) if isinstance(kept, dict) else None
    return feature if isinstance(feature, str) else ""


def _text(value: object, context: StepContext) -> str:
    if isinstance(value, str) and "{{" in value:
        value = evaluate_expression(value, context)
    return "" if value is None else str(value).strip()


def _take_answer(config: dict[str, Any], context: StepContext) -> list[str] | StepResult:
    """sdd resume's options for the approval answer in the inputs; the inputs are cleared, so a
    later pause is never answered by an earlier answer."""
    decision_key, note_key = _answer_inputs(config)
    decision = str(context.inputs.get(decision_key) or "").strip().lower()
    note = str(context.inputs.get(note_key) or "").strip()
    if not decision:
        return []
    if decision not in DECISIONS:
        return _failed(
            f"input {decision_key!r} is {decision!r}: answer with approve or reject, e.g. "
            f"specify workflow resume {context.run_id} --input {decision_key}=approve",
            "",
        )
    for key in (decision_key, note_key):
        if key in context.inputs:
            context.inputs[key] = ""
    if decision == "approve":
        return ["--approve"]
    return ["--reject", *(["--note", note] if note else [])]


def _answer_inputs(config: dict[str, Any]) -> tuple[str, str]:
    return str(config.get("decision_input", "decision")), str(config.get("note_input", "note"))


def _run(argv: list[str], root: str) -> tuple[int, str]:
    """Run sdd with its output passed through line by line; (exit code, its `error:` line).

    sdd has its own process group, so a terminal's Ctrl-C reaches it once, through us: the
    first lets the task in flight finish and pauses, a second stops at once, as in sdd itself.
    """
    env = dict(os.environ)
    if sys.stdout.isatty():
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    proc = subprocess.Popen(
        argv,
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    error = ""
    assert proc.stdout is not None
    while True:
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                if line.startswith("error: "):
                    error = line[len("error: ") :].strip()
            return proc.wait(), error
        except KeyboardInterrupt:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)


def _status(sdd: str, where: list[str], root: str) -> dict[str, Any]:
    """`sdd status --json`: the run's status and reason, and each task's state and commit."""
    done = subprocess.run(
        [sdd, "status", *where, "--repo", root, "--json"],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    try:
        data = json.loads(done.stdout) if done.returncode == 0 else {}
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


def _outcome(
    code: int, status: dict[str, Any], config: dict[str, Any], context: StepContext
) -> StepResult:
    feature = _text(config.get("feature", ""), context)
    decision, note = _answer_inputs(config)
    run = status.get("run") or {}
    tasks = status.get("tasks") or []
    output = {
        "feature": status.get("feature", feature),
        "run_id": run.get("id", ""),
        "status": run.get("status", ""),
        "reason": run.get("reason", ""),
        "landed": [
            {"task": t["task"], "commit": t["commit"]}
            for t in tasks
            if t.get("state") == "landed" and t.get("commit")
        ],
        "awaiting": [t["task"] for t in tasks if t.get("state") == "awaiting approval"],
    }
    if code == FINISHED:
        return StepResult(status=StepStatus.COMPLETED, output=output)
    reason = output["reason"] or "the run paused (see sdd's output above)"
    resume = f"specify workflow resume {context.run_id}"
    if not output["awaiting"]:
        hint = resume
    elif decision in context.inputs:
        hint = f"{resume} --input {decision}=approve (or {decision}=reject --input {note}=...)"
    else:  # a workflow without answer inputs: answer sdd itself, then continue the workflow
        hint = f"sdd resume {output['feature']} --approve (or --reject --note ...), then {resume}"
    print(f"sdd paused: {reason}\nResume with: {hint}", flush=True)
    return StepResult(status=StepStatus.PAUSED, output=output, error=reason)


def _failed(error: str, feature: str) -> StepResult:
    return StepResult(status=StepStatus.FAILED, output={"feature": feature}, error=error)
