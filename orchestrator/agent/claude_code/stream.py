"""A Claude Code session's messages as sdd records them: transcript events in the shape the
anthropic engine writes (so `sdd show` and `sdd report` read both), the usage of each API
call, and what the session's end means (done, out of turns, or an API error).

Usage comes from the raw stream events: the SDK repeats a call's `message_start` usage on
every content block (output_tokens 1), and its result message adds up the whole session, so
neither says what one call cost. `message_delta` carries the final output count.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from orchestrator.agent.claude_code.rebuild import done_text
from orchestrator.agent.loop import usage_dict
from orchestrator.agent.model import Block, Usage
from orchestrator.agent.transcript import Transcript
from orchestrator.errors import ModelError, ModelUnavailable, SddError
from orchestrator.text import cap

RESULT_CAP = 4_000  # characters of a tool result kept in the transcript
TRANSIENT_STATUSES = frozenset({408, 409, 429})
TRANSIENT_KINDS = frozenset({"rate_limit", "server_error"})
REFUSED_KINDS = frozenset({"authentication_failed", "billing_error", "invalid_request"})
HINTS = {
    401: "check the credential, or log in again with `claude` and `/login`",
    402: "check the account's billing",
    403: "the credential may not use this model or endpoint",
    404: "is the model id right?",
}
OnCall = Callable[[Usage, str], None]  # (usage of one API call, its stop_reason)
Said = Callable[[dict[str, Any]], None]  # one message of the session, as the stream gave it

_BLOCK_TYPES = {
    "TextBlock": "text",
    "ThinkingBlock": "thinking",
    "ToolUseBlock": "tool_use",
    "ToolResultBlock": "tool_result",
    "ServerToolUseBlock": "server_tool_use",
    "ServerToolResultBlock": "server_tool_result",
}


def block_dict(block: Any) -> Block:
    """An SDK content block as the Messages API spells it."""
    is_instance = dataclasses.is_dataclass(block) and not isinstance(block, type)
    data = dataclasses.asdict(block) if is_instance else {"value": block}
    kind = _BLOCK_TYPES.get(type(block).__name__, type(block).__name__)
    return {"type": kind, **{k: v for k, v in data.items() if v is not None}}


def result_text(content: object) -> str:
    """A tool result's content as text (images and other blocks named, not inlined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for item in content:
            kind = item.get("type") if isinstance(item, dict) else None
            parts.append(item.get("text", "") if kind == "text" else f"[{kind or 'content'}]")
        return "\n".join(parts)
    return str(content)


def _usage(raw: dict[str, Any]) -> Usage:
    split = raw.get("cache_creation") or {}
    return Usage(
        int(raw.get("input_tokens") or 0),
        int(raw.get("output_tokens") or 0),
        int(raw.get("cache_creation_input_tokens") or 0),
        int(raw.get("cache_read_input_tokens") or 0),
        int(split.get("ephemeral_1h_input_tokens") or 0) if isinstance(split, dict) else 0,
    )


class SessionLog:
    """Consumes one session's messages in order; writes the transcript as they come.
    `take` hands each message to the `_on_<SDK type name>` method, if there is one."""

    def __init__(
        self,
        log: Transcript,
        on_call: OnCall,
        ran: list[tuple[str, bool]] | None = None,
        said: Said | None = None,
    ) -> None:
        self.log, self.on_call, self.said = log, on_call, said
        self.ran = [] if ran is None else ran  # Bash commands that ran, and whether they exited 0
        self.refused: set[str] = set()  # tool_use ids sdd's gate refused
        self.session_id: str | None = None
        self.result: Any = None  # the ResultMessage, once it came
        self.error_kind: str | None = None  # an API error Claude Code gave up on
        self.calls = 0
        self._tools: dict[str, tuple[str, Any]] = {}  # tool_use id -> (name, input)
        self._call: dict[str, Any] | None = None  # the API call being streamed
        self._metered: dict[str, asyncio.Event] = {}  # tool_use id -> its call was metered

    def metered(self, tool_use_id: str) -> asyncio.Event:
        """Set once the call that asked for this tool has been written and metered."""
        return self._metered.setdefault(tool_use_id, asyncio.Event())

    def take(self, message: Any) -> None:
        kind = type(message).__name__
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(message)
        elif kind not in ("SystemMessage",):
            self.log.write("claude_code", message=kind, data=_plain(message))

    def _on_SystemMessage(self, message: Any) -> None:
        data = dict(message.data)
        if message.subtype == "init":
            self.session_id = data.get("session_id")
            keep = ("session_id", "claude_code_version", "model", "tools", "cwd")
            extra = {k: data.get(k) for k in keep}
            self.log.write("session", permission_mode=data.get("permissionMode"), **extra)
        elif message.subtype != "status":  # "requesting" before every call: noise
            data.pop("type", None)
            self.log.write("claude_code", **data)

    def _on_StreamEvent(self, message: Any) -> None:
        event = message.event
        kind = event.get("type")
        if kind == "message_start":
            start = event.get("message") or {}
            self._call = {
                "id": start.get("id"),
                "model": start.get("model"),
                "usage": dict(start.get("usage") or {}),
                "content": [],
                "stop_reason": None,
                "said": [],  # (uuid, block, the prompt's uuid) of each message of the call
            }
        elif kind == "message_delta" and self._call is not None:
            self._call["usage"].update(event.get("usage") or {})
            self._call["stop_reason"] = (event.get("delta") or {}).get("stop_reason")
        elif kind == "message_stop" and self._call is not None:
            call, self._call = self._call, None
            usage = _usage(call["usage"])
            stop = call["stop_reason"] or ""
            self.calls += 1
            self.log.write(
                "assistant",
                content=call["content"],
                stop_reason=stop,
                usage=usage_dict(usage),
                model=call["model"],
                message_id=call["id"],
            )
            self.on_call(usage, stop)
            self._say_call(call, stop)
            for block in call["content"]:
                if block.get("type") == "tool_use":
                    self.metered(block["id"]).set()

    def _on_AssistantMessage(self, message: Any) -> None:
        if message.error:  # Claude Code's own message for an API call it gave up on
            self.error_kind = message.error
            text = " ".join(b.text for b in message.content if hasattr(b, "text"))
            self.log.write("api_error", error=message.error, text=text)
            return
        blocks = [block_dict(b) for b in message.content]
        for b in blocks:
            if b["type"] == "tool_use":
                self._tools[b["id"]] = (b["name"], b.get("input"))
        if self._call is not None and message.message_id == self._call["id"]:
            self._call["content"].extend(blocks)
            if message.parent_tool_use_id is None:
                asked = message.user_message_uuid
                self._call["said"].extend((message.uuid, b, asked) for b in blocks)
            return
        # Not streamed (partial messages are on, so this should not happen): keep it, and let
        # its tools run rather than wait for usage that will not come.
        self.log.write("assistant", content=blocks, stop_reason=message.stop_reason or "")
        for b in blocks:
            if b["type"] == "tool_use":
                self.metered(b["id"]).set()

    def _say_call(self, call: dict[str, Any], stop: str) -> None:
        """Hand on each message of a finished call (Claude Code makes one per content block),
        before its tools may run: Claude Code writes its own transcript later, in batches."""
        if self.said is None:
            return
        for uuid, block, asked in call["said"]:
            if not uuid:
                continue
            said: dict[str, Any] = {
                "uuid": uuid,
                "message": {
                    "id": call["id"],
                    "type": "message",
                    "role": "assistant",
                    "model": call["model"],
                    "content": [block],
                    "stop_reason": stop or None,
                    "stop_sequence": None,
                    "usage": call["usage"],
                },
            }
            if asked:
                said["asked"] = asked
            self.said(said)

    def tool_done(self, data: dict[str, Any]) -> None:
        """A tool of the session has run (its PostToolUse or PostToolUseFailure hook): keep
        what it gave, since Claude Code reports the result and asks again right after."""
        if self.said is None or data.get("agent_id") or not data.get("tool_use_id"):
            return
        failed = data.get("hook_event_name") == "PostToolUseFailure"
        text = str(data.get("error", "")) if failed else done_text(data.get("tool_response"))
        record: dict[str, Any] = {"done": data["tool_use_id"], "text": text}
        if failed:
            record["is_error"] = True
        self.said(record)

    def _on_UserMessage(self, message: Any) -> None:
        if isinstance(message.content, str):
            return  # a prompt echoed back; it is in the transcript already
        if self.said is not None and message.uuid and message.parent_tool_use_id is None:
            content = [block_dict(b) for b in message.content]
            self.said({"uuid": message.uuid, "message": {"role": "user", "content": content}})
        for block in message.content:
            if type(block).__name__ != "ToolResultBlock":
                continue
            name, tool_input = self._tools.get(block.tool_use_id, ("?", None))
            ran = name == "Bash" and block.tool_use_id not in self.refused
            if ran and isinstance(tool_input, dict) and isinstance(tool_input.get("command"), str):
                self.ran.append((tool_input["command"], not block.is_error))
            self.log.write(
                "tool",
                name=name,
                input=tool_input,
                is_error=bool(block.is_error),
                result=cap(result_text(block.content), RESULT_CAP),
            )

    def _on_ResultMessage(self, message: Any) -> None:
        self.result = message
        self.session_id = message.session_id or self.session_id
        self.log.write(
            "result",
            subtype=message.subtype,
            is_error=message.is_error,
            num_turns=message.num_turns,
            api_calls=self.calls,
            stop_reason=message.stop_reason,
            terminal_reason=getattr(message, "terminal_reason", None),
            api_error_status=getattr(message, "api_error_status", None),
            total_cost_usd=message.total_cost_usd,
            duration_ms=message.duration_ms,
            usage=message.usage,
            result=cap(message.result or "", RESULT_CAP),
            errors=getattr(message, "errors", None),
        )

    # -- what the end means ---------------------------------------------------------------

    @property
    def out_of_turns(self) -> bool:
        r = self.result
        return r is not None and (
            r.subtype == "error_max_turns" or getattr(r, "terminal_reason", None) == "max_turns"
        )

    def summary(self) -> str:
        r = self.result
        return (r.result or "").strip() if r is not None and not r.is_error else ""

    def failure(self, retries: int) -> SddError | None:
        """The error a result reports (ModelUnavailable: pause; ModelError: refused), if any."""
        r = self.result
        if r is None or not r.is_error or self.out_of_turns:
            return None
        status = getattr(r, "api_error_status", None)
        text = " ".join((r.result or "; ".join(getattr(r, "errors", None) or [])).split())
        what = f"Claude Code: {text or r.subtype}" + (f" (HTTP {status})" if status else "")
        refused = status in HINTS or status == 400 or self.error_kind in REFUSED_KINDS
        if not refused and (
            self.error_kind in TRANSIENT_KINDS
            or status in TRANSIENT_STATUSES
            or (status or 0) >= 500
            or status is None
        ):
            return ModelUnavailable(f"{what} after {retries} retries")
        hint = HINTS.get(status or 0) or (HINTS[401] if "login" in text.lower() else "")
        return ModelError(f"{what}; {hint}" if hint else what)


def _plain(message: Any) -> Any:
    try:
        return dataclasses.asdict(message)
    except TypeError:
        return repr(message)
