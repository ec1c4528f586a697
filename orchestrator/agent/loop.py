"""One task's conversation: model turns and tool calls until it is verified or out of attempts.

Verification feedback goes back into the same conversation, so the agent repairs its own
change instead of starting over; the caller resets the tree if every attempt fails.
"""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass, field
from typing import Protocol

from orchestrator.agent import prompt
from orchestrator.agent.journal import (
    Journal,
    Unrecorded,
    append_user,
    kept,
    replay,
    run_calls,
    text_of,
)
from orchestrator.agent.model import Block, Model, ModelRequest, Usage
from orchestrator.agent.tools.toolbox import Toolbox
from orchestrator.agent.transcript import Transcript
from orchestrator.store.records import Outcome, TaskKind


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
    again: bool = False  # judged again after a resume (it was judged before the stop)


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

    def transcript(self, attempt: int, resumed: bool = False) -> Transcript: ...

    def attempt_done(self, report: AttemptReport) -> None: ...


def _said(message: Block) -> str:
    """The text of a user message (tool results left out): what the agent was told."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "\n\n".join(b.get("text", "") for b in content if b.get("type") == "text")


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
    journal: Journal | None = None,
) -> LoopResult:
    """The task's attempts in one conversation; verification feedback goes back into it.

    With a `journal`, every step is kept as it happens, and a conversation the journal
    already holds continues from its last kept step: no model turn is asked for again."""
    book: Journal = journal or Unrecorded()
    tools = prompt.tool_schemas(toolbox.schemas())
    state = replay(book.steps(), first_message)
    toolbox.ran.extend(state.ran)
    messages = state.messages
    result = LoopResult(landed=False, kind=TaskKind.NONE, summary="")
    for attempt in range(state.attempt, limits.attempts + 1):
        started = time.monotonic()
        here = attempt == state.attempt and state.recorded  # where a resume joins
        joined = state if here and state.started else None
        log = hooks.transcript(attempt, resumed=True) if joined else hooks.transcript(attempt)
        if joined is None:
            first = {"first": first_message} if attempt == 1 else {}
            book.add("attempt", {"n": attempt, **first})
            log.write("user", text=_said(messages[-1]))  # the task, then each feedback sent
            usage, turns, summary, ended = Usage(), 0, "", False
        else:
            usage, turns, summary, ended = joined.usage, joined.turns, joined.summary, joined.ended
        if here:
            log.write("resumed", turns=turns, calls=len(state.pending), judged=bool(state.closed))
        if joined is not None and joined.pending:
            running = frozenset(joined.running)
            calls = run_calls(joined.pending, joined.stop_reason, toolbox, log, book, running)
            append_user(messages, calls)
        while not ended and turns < limits.turns and usage.output_tokens < limits.output_tokens:
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
            turns, usage = turns + 1, usage + turn.usage
            hooks.on_turn(attempt, turn.usage)
            step = {"content": turn.content, "stop_reason": turn.stop_reason}
            book.add("assistant", step | {"usage": list(astuple(turn.usage))})
            log.write("assistant", **step, usage=usage_dict(turn.usage))
            results: list[Block] = []
            if kept(turn.content, turn.stop_reason):
                messages.append({"role": "assistant", "content": turn.content})
                calls = [b for b in turn.content if b.get("type") == "tool_use"]
                results = run_calls(calls, turn.stop_reason, toolbox, log, book)
            if results:
                append_user(messages, results)
                continue
            summary, ended = text_of(turn.content), True
        settled = settle(attempt, limits.attempts, ended, check_task, hooks, log)
        again = joined is not None and joined.closed is not None  # judged before the stop
        if close_attempt(
            result, hooks, log, attempt, settled, usage, started, summary, record=not again
        ):
            book.add("closed", {"outcome": str(settled.outcome)})
            return result
        book.add("closed", {"outcome": str(settled.outcome), "feedback": settled.feedback})
        append_user(messages, [{"type": "text", "text": settled.feedback}])
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
    *,
    record: bool = True,
) -> bool:
    """Record the attempt (transcript, hooks, `result`); True when the attempts end here:
    it passed, or its change cannot be verified (no agent can fix that). `record=False`
    for an attempt judged again after a resume: its row is kept with the new verdict (a
    pass before the stop must not stay one), its tokens were counted turn by turn."""
    seconds = round(time.monotonic() - started, 3)
    report = AttemptReport(
        attempt, settled.outcome, settled.verdict, usage, seconds, str(log.path), summary
    )
    log.write("outcome", outcome=settled.outcome)
    log.close()
    report.again = not record
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
        "cache_write_1h_tokens": usage.cache_write_1h_tokens,
    }
