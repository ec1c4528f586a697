"""One task's conversation: model turns and tool calls until it is verified or out of attempts.

Verification feedback goes back into the same conversation, so the agent repairs its own
change instead of starting over; the caller resets the tree if every attempt fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from orchestrator.agent import prompt
from orchestrator.agent.model import Block, Model, ModelRequest, ModelTurn, Usage
from orchestrator.agent.tools.toolbox import Toolbox
from orchestrator.agent.transcript import Transcript
from orchestrator.store.records import Outcome, TaskKind
from orchestrator.text import cap

RESULT_CAP = 30_000  # characters of one tool result the model sees


@dataclass(frozen=True, slots=True)
class Limits:
    attempts: int = 3
    turns: int = 40  # model calls per attempt
    output_tokens: int = 64_000  # per attempt
    max_tokens: int = 16_000  # per model call


class Checked(Protocol):
    """What the loop reads of a verification: did it pass, what to show the agent, and
    whether it could not run at all (then the attempts stop: no agent can fix that)."""

    @property
    def passed(self) -> bool: ...

    @property
    def output(self) -> str: ...

    @property
    def unverifiable(self) -> bool: ...


@dataclass(slots=True)
class AttemptReport:
    attempt: int
    outcome: Outcome
    verdict: Checked | None
    usage: Usage
    seconds: float
    transcript: str
    summary: str = ""  # what the agent said it did, when the attempt ended with a summary


@dataclass(slots=True)
class LoopResult:
    landed: bool
    kind: TaskKind
    summary: str
    attempts: list[AttemptReport] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for a in self.attempts:
            total = total + a.usage
        return total


class Hooks(Protocol):
    """What the loop needs from its caller; the engine implements it over git and the store."""

    def before_call(self) -> None: ...  # may raise BudgetExceeded

    def on_turn(self, attempt: int, usage: Usage) -> None: ...

    def changed_files(self) -> list[str]: ...

    def verify(self, changed: list[str]) -> Checked: ...

    def transcript(self, attempt: int) -> Transcript: ...

    def attempt_done(self, report: AttemptReport) -> None: ...


def _text_of(turn: ModelTurn) -> str:
    return "\n".join(b.get("text", "") for b in turn.content if b.get("type") == "text").strip()


def _said(message: Block) -> str:
    """The text of a user message (tool results left out): what the agent was told."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "\n\n".join(b.get("text", "") for b in content if b.get("type") == "text")


def _append_user(messages: list[Block], blocks: list[Block]) -> None:
    """Keep roles alternating: merge into a trailing user message instead of adding one."""
    if messages and messages[-1]["role"] == "user":
        prev = messages[-1]["content"]
        if isinstance(prev, str):
            prev = [{"type": "text", "text": prev}]
        messages[-1] = {"role": "user", "content": [*prev, *blocks]}
    else:
        messages.append({"role": "user", "content": blocks})


def _tool_results(turn: ModelTurn, toolbox: Toolbox, log: Transcript) -> list[Block]:
    results = []
    for block in turn.content:
        if block.get("type") != "tool_use":
            continue
        if turn.stop_reason == "max_tokens":
            content, is_error = "Your output was cut off (max_tokens); send smaller steps.", True
        else:
            res = toolbox.call(block.get("name", ""), block.get("input"))
            content, is_error = cap(res.content, RESULT_CAP), res.is_error
        log.write(
            "tool",
            name=block.get("name"),
            input=block.get("input"),
            is_error=is_error,
            result=cap(content, 4_000),
        )
        results.append(
            {
                "type": "tool_result",
                "tool_use_id": block["id"],
                "content": content,
                "is_error": is_error,
            }
        )
    return results


def run_task_loop(
    *,
    model: Model,
    model_id: str,
    system: list[Block],
    toolbox: Toolbox,
    task_id: str,
    first_message: str,
    limits: Limits,
    check_task: bool,
    hooks: Hooks,
) -> LoopResult:
    """The task's attempts in one conversation; verification feedback goes back into it."""
    tools = prompt.tool_schemas(toolbox.schemas())
    messages: list[Block] = [{"role": "user", "content": first_message}]
    result = LoopResult(landed=False, kind=TaskKind.NONE, summary="")
    for attempt in range(1, limits.attempts + 1):
        started = time.monotonic()
        log = hooks.transcript(attempt)
        log.write("user", text=_said(messages[-1]))  # the task, then each feedback sent
        usage = Usage()
        summary, ended = "", False
        for _turn_no in range(limits.turns):
            if usage.output_tokens >= limits.output_tokens:
                break
            hooks.before_call()
            request = ModelRequest(
                model=model_id,
                system=system,
                tools=tools,
                messages=prompt.with_cache_marker(messages),
                max_tokens=limits.max_tokens,
                task_id=task_id,
            )
            turn = model.complete(request)
            usage = usage + turn.usage
            hooks.on_turn(attempt, turn.usage)
            log.write(
                "assistant",
                content=turn.content,
                stop_reason=turn.stop_reason,
                usage=usage_dict(turn.usage),
            )
            # An empty turn would make the next request invalid (non-final messages must have
            # content), and a refused turn kept in the history makes the model refuse again.
            kept = bool(turn.content) and turn.stop_reason != "refusal"
            if kept:
                messages.append({"role": "assistant", "content": turn.content})
            results = _tool_results(turn, toolbox, log) if kept else []
            if results:
                _append_user(messages, results)
                continue
            summary, ended = _text_of(turn), True
            break
        settled = settle(attempt, limits.attempts, ended, check_task, hooks, log)
        if close_attempt(result, hooks, log, attempt, settled, usage, started, summary):
            return result
        _append_user(messages, [{"type": "text", "text": settled.feedback}])
    return result


@dataclass(frozen=True, slots=True)
class Settled:
    """How an attempt ended, and what the agent hears next if it gets another one."""

    outcome: Outcome
    verdict: Checked | None
    feedback: str
    changed: list[str]


LIMIT_FEEDBACK = "You reached this attempt's turn or token limit. Finish the task now."


def settle(
    attempt: int, attempts: int, ended: bool, check_task: bool, hooks: Hooks, log: Transcript
) -> Settled:
    """Judge an attempt that `ended` with a summary (or ran out of turns or tokens).

    Every engine ends its attempts here, so what counts as done is the same whoever edited.
    """
    changed = hooks.changed_files()
    if ended and not changed and not check_task:
        return Settled(Outcome.NO_CHANGE, None, prompt.NO_CHANGE, changed)
    if not ended:
        return Settled(Outcome.LIMIT, None, LIMIT_FEEDBACK, changed)
    verdict = hooks.verify(changed)
    log.write(
        "verify",
        passed=verdict.passed,
        unverifiable=verdict.unverifiable,
        output=verdict.output,
    )
    outcome = Outcome.PASSED if verdict.passed else Outcome.FAILED
    if verdict.unverifiable:
        outcome = Outcome.UNVERIFIABLE
    return Settled(
        outcome, verdict, prompt.feedback_message(attempt, attempts, verdict.output), changed
    )


def close_attempt(
    result: LoopResult,
    hooks: Hooks,
    log: Transcript,
    attempt: int,
    settled: Settled,
    usage: Usage,
    started: float,
    summary: str,
) -> bool:
    """Record the attempt (transcript, hooks, `result`); True when the attempts end here:
    it passed, or its change cannot be verified (no agent can fix that)."""
    seconds = round(time.monotonic() - started, 3)
    report = AttemptReport(
        attempt, settled.outcome, settled.verdict, usage, seconds, str(log.path), summary
    )
    log.write("outcome", outcome=settled.outcome)
    log.close()
    hooks.attempt_done(report)
    result.attempts.append(report)
    if settled.outcome is Outcome.UNVERIFIABLE:
        return True
    if settled.outcome is not Outcome.PASSED:
        return False
    result.landed = True
    result.kind = TaskKind.CHANGE if settled.changed else TaskKind.CHECK
    result.summary = summary
    return True


def usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
    }
