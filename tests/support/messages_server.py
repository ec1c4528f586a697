"""A loopback Messages API server (stdlib only) for tests and benchmarks.

The real anthropic SDK talks to it over HTTP, so request building, SSE parsing, retries and
error classes are the SDK's own, not a mock's idea of them. Usage::

    with MessagesServer(message([text_block("hi")])) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="sk-test")
        ...
        server.requests[0].body["model"]

Replies are served in order from a queue (``push``); once it is empty the ``handler``
``(request_body, index) -> Reply`` answers, and with no handler the last queued reply repeats
(so ``MessagesServer(http_error(529, "overloaded_error"))`` is "always overloaded").

Reply kinds (add new fault kinds as another small dataclass plus a branch in ``_serve``):
  MessageReply   a Message as JSON, or as the SSE event sequence when the request streams
  ErrorReply     an HTTP error status with an error body and headers (e.g. retry-after-ms)
  StreamError    a 200 SSE stream that starts a message, then sends ``event: error``
  Hang           wait, then serve another reply (for client timeouts)
  Drop           close the connection without answering
  CutStream      start a stream, send its first N events, optionally stall, then close

Malformed model output is a MessageReply too: ``refusal()``, ``empty_reply()``,
``cut_tool_call()`` (max_tokens inside a tool call's input), or a ``tool_use_block`` naming an
unknown tool or carrying bad input. ``strict=True`` answers requests the real API would refuse
(``api_problem``) with its 400; ``support.faults.FaultInjector`` wraps a handler to replace a
seeded share of requests with faults of chosen kinds.

Streams use chunked transfer encoding, as the API does.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_USAGE = {
    "input_tokens": 100,
    "output_tokens": 20,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


@dataclass(frozen=True)
class MessageReply:
    """``raw_inputs`` maps a tool_use block's index to the JSON text its stream carries
    (for inputs cut off mid-way); other blocks stream ``json.dumps`` of their input."""

    message: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_inputs: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorReply:
    status: int
    type: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamError:
    type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass(frozen=True)
class Hang:
    seconds: float
    then: Reply


@dataclass(frozen=True)
class Drop:
    """Close the connection before any response (the SDK retries this as a connection error)."""


@dataclass(frozen=True)
class CutStream:
    """A stream of ``message`` that breaks after ``after_events`` events.

    ``chunked=True`` ends inside the chunked body (the client's HTTP layer raises);
    ``chunked=False`` sends a close-delimited body that just ends early (no ``message_stop``).
    ``stall`` seconds of silence come before the close (for read timeouts mid-stream).
    """

    message: dict[str, Any]
    after_events: int
    chunked: bool = True
    stall: float = 0.0


Reply = MessageReply | ErrorReply | StreamError | Hang | Drop | CutStream
Handler = Callable[[dict[str, Any], int], Reply]


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any] | None


# -- reply helpers -------------------------------------------------------------------------


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(id: str, name: str, input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def message(
    content: list[dict[str, Any]],
    stop_reason: str = "end_turn",
    usage: Mapping[str, int] | None = None,
    model: str = "claude-sonnet-5-5",
    headers: Mapping[str, str] | None = None,
    id: str = "msg_loopback",
) -> MessageReply:
    """A reply. Claude Code joins streamed replies that share an id into one message, so
    a server that talks to it gives each reply an id of its own."""
    body = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {**DEFAULT_USAGE, **(usage or {})},
    }
    return MessageReply(body, dict(headers or {}))


def refusal(text: str = "I can't help with that.") -> MessageReply:
    """A streaming classifier's refusal: the text so far, then stop_reason refusal."""
    return message([text_block(text)] if text else [], "refusal")


def empty_reply(stop_reason: str = "end_turn") -> MessageReply:
    return message([], stop_reason)


def cut_tool_call(id: str, name: str, input: dict[str, Any], keep: float = 0.5) -> MessageReply:
    """max_tokens reached inside a tool call: its input JSON stops after ``keep`` of its text.

    The stream carries the cut JSON; the block's ``input`` is what the SDK's own partial
    parser makes of it, which is also what a non-streaming reply holds.
    """
    from jiter import from_json  # the anthropic SDK's JSON parser

    raw = json.dumps(input)
    partial = raw[: max(1, int(len(raw) * keep))]
    parsed = from_json(partial.encode(), partial_mode=True)
    reply = message([tool_use_block(id, name, parsed)], "max_tokens")
    return MessageReply(reply.message, reply.headers, {0: partial})


def http_error(
    status: int, type: str, message: str | None = None, headers: Mapping[str, str] | None = None
) -> ErrorReply:
    return ErrorReply(status, type, message or f"loopback {status} {type}", dict(headers or {}))


# -- SSE -----------------------------------------------------------------------------------


def _halves(text: str) -> list[str]:
    """Two chunks, so clients must really assemble deltas."""
    cut = len(text) // 2
    return [part for part in (text[:cut], text[cut:]) if part]


def _block_events(
    index: int, block: dict[str, Any], raw_input: str | None = None
) -> Iterator[dict[str, Any]]:
    kind = block.get("type")
    if kind == "text":
        yield {"type": "content_block_start", "index": index, "content_block": text_block("")}
        for chunk in _halves(block["text"]):
            delta = {"type": "text_delta", "text": chunk}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    elif kind == "tool_use":
        start = {**block, "input": {}}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        for chunk in _halves(json.dumps(block["input"]) if raw_input is None else raw_input):
            delta = {"type": "input_json_delta", "partial_json": chunk}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        for chunk in _halves(block["thinking"]):
            delta = {"type": "thinking_delta", "thinking": chunk}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        delta = {"type": "signature_delta", "signature": block["signature"]}
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    else:  # other block kinds arrive whole
        yield {"type": "content_block_start", "index": index, "content_block": block}
    yield {"type": "content_block_stop", "index": index}


def sse_events(
    msg: dict[str, Any], raw_inputs: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """The stream the API sends for ``msg`` (tech.md §3.7): start, ping, blocks, delta, stop."""
    usage = msg["usage"]
    start = {
        **msg,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    events = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(msg["content"]):
        events.extend(_block_events(index, block, (raw_inputs or {}).get(index)))
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": msg["stop_sequence"]},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return events


# -- what the real API refuses, and faults ---------------------------------------------------


def _blocks(content: Any) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else []


def _cache_problem(body: dict[str, Any]) -> ErrorReply | None:
    """A `cache_control` the API refuses: an unknown TTL, or a 1-hour breakpoint after a
    5-minute one in prefix order (tools, system, messages)."""
    parts: list[Any] = [*(body.get("tools") or [])]
    system = body.get("system")
    parts += system if isinstance(system, list) else []
    for msg in body.get("messages") or []:
        parts += _blocks(msg.get("content"))
    short = False
    for part in parts:
        marker = part.get("cache_control") if isinstance(part, dict) else None
        if not marker:
            continue
        ttl = marker.get("ttl", "5m")
        if ttl not in ("5m", "1h"):
            return http_error(400, "invalid_request_error", f"cache_control.ttl: {ttl!r}")
        if ttl == "1h" and short:
            return http_error(
                400,
                "invalid_request_error",
                "a ttl='1h' cache_control block must not come after a ttl='5m' one",
            )
        short = short or ttl == "5m"
    return None


def api_problem(body: dict[str, Any]) -> ErrorReply | None:
    """The 400 the Messages API gives a malformed conversation (its own wording), or None."""
    cache = _cache_problem(body)
    if cache is not None:
        return cache
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    for i, msg in enumerate(messages):
        final_assistant = i == len(messages) - 1 and msg.get("role") == "assistant"
        if not msg.get("content") and not final_assistant:
            return http_error(
                400,
                "invalid_request_error",
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message",
            )
        asked = [b["id"] for b in _blocks(msg.get("content")) if b.get("type") == "tool_use"]
        after = messages[i + 1]["content"] if i + 1 < len(messages) else []
        answered = {b.get("tool_use_id") for b in _blocks(after) if b.get("type") == "tool_result"}
        missing = [tool_id for tool_id in asked if tool_id not in answered]
        if msg.get("role") == "assistant" and missing and i + 1 < len(messages):
            return http_error(
                400,
                "invalid_request_error",
                f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}",
            )
    return None


# -- the server ----------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (timeout, drop) resets its connection; that is not a server bug."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class MessagesServer:
    """Messages API on 127.0.0.1:<free port>; a context manager, every request recorded."""

    def __init__(
        self, *replies: Reply, handler: Handler | None = None, strict: bool = False
    ) -> None:
        self.requests: list[Recorded] = []
        self.rejected: list[tuple[int, str]] = []  # (request index, 400 message) when strict
        self.handler = handler
        self.strict = strict
        self._queue: list[Reply] = list(replies)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # A short poll interval keeps shutdown (and so every test using the server) fast.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> MessagesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()  # wakes handlers still in a Hang
        self._httpd.shutdown()
        self._httpd.server_close()

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def _next(self, body: dict[str, Any] | None, recorded: Recorded) -> tuple[int, Reply]:
        with self._lock:
            self.requests.append(recorded)
            index = len(self.requests) - 1
            problem = api_problem(body) if self.strict and body else None
            if problem is not None:
                self.rejected.append((index, problem.message))
                return index, problem
            if self._queue and (len(self._queue) > 1 or self.handler is not None):
                return index, self._queue.pop(0)
            if self._queue:
                return index, self._queue[0]
        if self.handler is None:
            raise RuntimeError("MessagesServer has no reply queued and no handler")
        return index, self.handler(body or {}, index)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._handle(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                self._handle(body)

            def _handle(self, body: dict[str, Any] | None) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                index, reply = server._next(body, Recorded(self.path, headers, body))
                streaming = bool(body and body.get("stream"))
                try:
                    self._serve(reply, index, streaming)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _start(self, status: int, index: int, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                self.send_header("request-id", f"req_loopback_{index + 1}")
                for name, value in headers.items():
                    self.send_header(name, value)

            def _json(
                self, status: int, payload: dict[str, Any], index: int, headers: Mapping[str, str]
            ) -> None:
                data = json.dumps(payload).encode()
                self._start(status, index, headers)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _open_stream(self, index: int, headers: Mapping[str, str], chunked: bool) -> None:
                self._start(200, index, headers)
                self.send_header("content-type", "text/event-stream")
                if chunked:
                    self.send_header("transfer-encoding", "chunked")
                else:
                    self.send_header("connection", "close")
                    self.close_connection = True
                self.end_headers()

            def _event(self, event: dict[str, Any], chunked: bool) -> None:
                data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
                if chunked:
                    data = b"%x\r\n%s\r\n" % (len(data), data)
                self.wfile.write(data)
                self.wfile.flush()

            def _stream(
                self, events: list[dict[str, Any]], index: int, headers: Mapping[str, str]
            ) -> None:
                self._open_stream(index, headers, chunked=True)
                for event in events:
                    self._event(event, chunked=True)
                self.wfile.write(b"0\r\n\r\n")

            def _serve(self, reply: Reply, index: int, streaming: bool) -> None:
                if isinstance(reply, Hang):
                    if server._closed.wait(reply.seconds):
                        self.close_connection = True
                        return
                    reply = reply.then
                if isinstance(reply, MessageReply):
                    if streaming:
                        events = sse_events(reply.message, reply.raw_inputs)
                        self._stream(events, index, reply.headers)
                    else:
                        self._json(200, reply.message, index, reply.headers)
                elif isinstance(reply, ErrorReply):
                    error = {"type": reply.type, "message": reply.message}
                    payload = {
                        "type": "error",
                        "error": error,
                        "request_id": f"req_err_{index + 1}",
                    }
                    self._json(reply.status, payload, index, reply.headers)
                elif isinstance(reply, StreamError):
                    start = sse_events(message([]).message)[:2]
                    error = {
                        "type": "error",
                        "error": {"type": reply.type, "message": reply.message},
                    }
                    self._stream([*start, error], index, {})
                elif isinstance(reply, CutStream):
                    self._open_stream(index, {}, reply.chunked)
                    for event in sse_events(reply.message)[: reply.after_events]:
                        self._event(event, reply.chunked)
                    server._closed.wait(reply.stall)
                    self.close_connection = True
                elif isinstance(reply, Drop):
                    self.close_connection = True

        return Handler
