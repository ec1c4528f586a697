"""One Claude Code process: start (or resume) a session, send one prompt, read every message
until the result, with sdd's gate answering its tool calls.

The gate is asked twice, by two mechanisms that cover each other: a PreToolUse hook sees
every call (Claude Code would run some, like reads inside the work tree, without asking) and
refuses what sdd's rules refuse; `can_use_tool` answers every call Claude Code asks about,
checking again and also refusing a command Claude Code found reaching outside the work tree.

A PostToolUse hook (and PostToolUseFailure) hands what each tool gave to the session's
record before Claude Code reports the result and sends its next request.

The PreToolUse hook is also where a session stops before its next API call: Claude Code
runs a turn's tools and asks again at once, faster than sdd reads the turn's usage, so each
tool call waits until its turn has been metered (and kept), and a budget reached (or Ctrl-C,
or the attempt's token limit) ends the session there, before the tool runs and before any
further call.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from orchestrator.agent.claude_code.gate import Gate
from orchestrator.agent.claude_code.stream import SessionLog
from orchestrator.errors import ModelUnavailable

T = TypeVar("T")
STDERR_KEEP = 20  # lines of the CLI's stderr kept for an error message


METER_WAIT = 60.0  # seconds a tool call waits for its turn's usage before going on anyway


@dataclass
class Control:
    """What metering a turn decided, for the next tool call to act on: the attempt reached
    its output-token limit (`limit`), or the run must stop (`abort`: a budget, Ctrl-C)."""

    limit: bool = False
    abort: BaseException | None = None

    def reason(self) -> str | None:
        if self.abort is not None:
            return f"sdd stops here: {self.abort}"
        return "sdd stops here: the attempt reached its output-token limit" if self.limit else None


def gate_hooks(
    gate: Gate, sink: SessionLog, control: Control, watch: Callable[[str, Any], None] | None = None
) -> tuple[Any, Any]:
    """The PreToolUse hook and the `can_use_tool` callback over one gate; `watch` is told
    each call the gate allows (the live progress line)."""
    from claude_agent_sdk import (
        HookMatcher,
        PermissionResultAllow,
        PermissionResultDeny,
        ToolPermissionContext,
    )

    def deny(reason: str) -> dict[str, Any]:
        return {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }

    async def pre_tool_use(data: Any, tool_use_id: str | None, context: Any) -> Any:
        if tool_use_id:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sink.metered(tool_use_id).wait(), METER_WAIT)
        stop = control.reason()
        if stop is not None:
            sink.refused.add(tool_use_id or "")
            return {"continue": False, "stopReason": stop, "hookSpecificOutput": deny(stop)}
        reason = gate.check(data.get("tool_name", ""), data.get("tool_input") or {})
        if reason is None:
            if watch is not None:
                watch(data.get("tool_name", ""), data.get("tool_input") or {})
            return {}
        sink.refused.add(tool_use_id or "")
        return {"hookSpecificOutput": deny(f"sdd refused this: {reason}")}

    async def can_use_tool(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        reason = gate.check(name, tool_input) or gate.check_blocked(context.blocked_path)
        if reason is None:
            return PermissionResultAllow()
        sink.refused.add(context.tool_use_id or "")
        return PermissionResultDeny(message=f"sdd refused this: {reason}")

    async def post_tool_use(data: Any, tool_use_id: str | None, context: Any) -> Any:
        sink.tool_done(dict(data))
        return {}

    hooks = {
        "PreToolUse": [HookMatcher(matcher=None, hooks=[pre_tool_use])],
        "PostToolUse": [HookMatcher(matcher=None, hooks=[post_tool_use])],
        "PostToolUseFailure": [HookMatcher(matcher=None, hooks=[post_tool_use])],
    }
    return hooks, can_use_tool


async def _converse(options: Any, prompt: str, sink: SessionLog) -> None:
    from claude_agent_sdk import ClaudeSDKClient

    async with ClaudeSDKClient(options=options) as client:
        await client.query(prompt)
        async for message in client.receive_response():
            sink.take(message)


def converse(options: Any, prompt: str, sink: SessionLog, control: Control) -> None:
    """Run the session to its result; a CLI that dies without one pauses the run, and a
    stop `control` decided on is raised once the session has ended."""
    from claude_agent_sdk import ClaudeSDKError

    stderr: deque[str] = deque(maxlen=STDERR_KEEP)
    options.stderr = stderr.append
    try:
        run_async(lambda: _converse(options, prompt, sink))
    except ClaudeSDKError as exc:
        if control.abort is not None:
            raise control.abort from None
        if sink.result is not None:  # an error result ends the CLI with exit code 1
            return
        tail = " | ".join(line.strip() for line in list(stderr)[-3:] if line.strip())
        detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        raise ModelUnavailable(
            f"Claude Code stopped without a result ({detail}{'; ' + tail if tail else ''})"
        ) from exc
    if control.abort is not None:
        raise control.abort


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end from sync code, in a thread of its own if this thread is
    already running an event loop (as under LangGraph Server)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(make()))
        except BaseException as exc:  # handed to the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="claude-code-session")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box[0]
