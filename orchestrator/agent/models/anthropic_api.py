"""The real model: one Messages API call per turn through the anthropic SDK.

The SDK keeps its own retries (408/409/429/5xx/529, timeouts, dropped connections). What is
left afterwards is sorted into two errors: `ModelError` when retrying cannot help (auth,
billing, permission, bad request, unknown model) and `ModelUnavailable` when the endpoint is
overloaded or unreachable and the run should pause to be resumed later. Streams need extra
care: an `event: error` inside a 200 stream is not retried by the SDK, and a stream cut
mid-body surfaces as a raw httpx2 error or as a message with no stop_reason.
"""

from __future__ import annotations

from typing import Any

from orchestrator.agent.model import ModelRequest, ModelTurn, Usage
from orchestrator.errors import ModelError, ModelUnavailable, SddError

# Error types that arrive inside a 200 stream and mean "try again later".
TRANSIENT_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})
TRANSIENT_STATUSES = frozenset({408, 409, 429})
HINTS = {
    401: "check ANTHROPIC_API_KEY",
    402: "check the account's billing",
    403: "the key may not use this model or endpoint",
}
API_MESSAGE_CAP = 300


class AnthropicModel:
    """`complete()` is safe to call from several threads: the SDK client is shared."""

    def __init__(
        self,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 600,
        stream: bool = True,
    ) -> None:
        import anthropic

        self.name = model
        self.max_retries = max_retries
        self.timeout = timeout
        self.stream = stream
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
        self._secret = self._client.api_key or ""

    def complete(self, request: ModelRequest) -> ModelTurn:
        import anthropic
        import httpx2

        params: dict[str, Any] = {
            "model": request.model or self.name,
            "max_tokens": request.max_tokens,
            "messages": request.messages,
        }
        if request.system:
            params["system"] = request.system
        if request.tools:
            params["tools"] = request.tools
        try:
            if self.stream:
                with self._client.messages.stream(**params) as stream:
                    message = stream.get_final_message()
                if message.stop_reason is None:
                    raise self._unavailable("stream ended before message_stop")
            else:
                message = self._client.messages.create(**params, timeout=self.timeout)
        except anthropic.APIError as exc:
            raise self._translate(exc, params["model"]) from exc
        except httpx2.TransportError as exc:  # raised while reading a stream's body
            raise self._unavailable(f"stream broken ({type(exc).__name__})") from exc
        return to_turn(message)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "[key]") if self._secret else text

    def _unavailable(self, reason: str) -> ModelUnavailable:
        return ModelUnavailable(
            self._scrub(f"model API at {self._client.base_url} unavailable: {reason}")
        )

    def _translate(self, exc: Exception, model: str) -> SddError:
        import anthropic

        retried = f"after {self.max_retries} retries"
        if isinstance(exc, anthropic.APITimeoutError):
            return self._unavailable(f"timed out {retried}")
        if isinstance(exc, anthropic.APIConnectionError):
            return self._unavailable(f"connection failed {retried}")
        if not isinstance(exc, anthropic.APIStatusError):
            return ModelError(self._scrub(f"unexpected reply from the model API: {exc}"))
        status, kind = exc.status_code, exc.type or "error"
        ref = f"HTTP {status}, request {exc.request_id or 'unknown'}"
        if status == 200:  # an `event: error` inside a stream; the SDK does not retry these
            if kind in TRANSIENT_STREAM_ERRORS:
                return self._unavailable(f"{kind} mid-stream ({ref})")
        elif status in TRANSIENT_STATUSES or status >= 500:
            return self._unavailable(f"{kind} ({ref}) {retried}")
        detail = (exc.api_message or "")[:API_MESSAGE_CAP]
        hint = f"is the model id {model!r} right?" if status == 404 else HINTS.get(status, "")
        tail = "; ".join(part for part in (detail, hint) if part)
        message = f"model API refused the request: {kind} ({ref})"
        return ModelError(self._scrub(f"{message}: {tail}" if tail else message))


def to_turn(message: Any) -> ModelTurn:
    """SDK Message -> plain dicts, so turns can be logged, checkpointed and sent back as-is."""
    usage = message.usage
    split = getattr(usage, "cache_creation", None)  # by TTL, when the API reports it
    return ModelTurn(
        content=[block.model_dump(mode="json", exclude_none=True) for block in message.content],
        stop_reason=message.stop_reason or "",
        usage=Usage(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_1h_tokens=(split.ephemeral_1h_input_tokens or 0) if split else 0,
        ),
        model=message.model,
    )
