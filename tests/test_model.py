"""The model seam: the scripted player, and the real SDK against a loopback Messages API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from support.messages_server import (
    CutStream,
    Drop,
    Hang,
    MessageReply,
    MessagesServer,
    StreamError,
    http_error,
    message,
    text_block,
    tool_use_block,
)

from orchestrator.agent.model import ModelRequest, ModelTurn, Usage
from orchestrator.agent.models import make_model, resolve_model_id
from orchestrator.agent.models.anthropic_api import AnthropicModel
from orchestrator.agent.models.scripted import ScriptedModel
from orchestrator.errors import InputError, ModelError, ModelUnavailable

SENTINEL = "sk-test-sentinel"
SYSTEM = [
    {"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "Task T001: create the package."},
]
TOOLS = [
    {
        "name": "Read",
        "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
    },
    {
        "name": "Write",
        "description": "Write a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
    },
]
FIRST = {
    "role": "user",
    "content": [{"type": "text", "text": "Do T001", "cache_control": {"type": "ephemeral"}}],
}


def request(
    messages: list[dict] | None = None, task_id: str = "T001", **kw: object
) -> ModelRequest:
    fields: dict = {
        "model": "claude-sonnet-5-5",
        "system": SYSTEM,
        "tools": TOOLS,
        "messages": messages or [FIRST],
        "max_tokens": 2048,
        "task_id": task_id,
    }
    return ModelRequest(**(fields | kw))


# -- ScriptedModel -------------------------------------------------------------------------

SCRIPT = """\
latency: 0
tasks:
  T001:
    - text: "Creating the package."
      tools:
        - Write: {file_path: app/__init__.py, content: ""}
        - Read: {file_path: README.md}
    - text: "Created the app package."
  T004:
    - tools: [{Edit: {file_path: app/x.py, old_string: "a", new_string: "b"}}]
    - text: "Done."
    - tools: [{Edit: {file_path: app/x.py, old_string: "b", new_string: "c"}}]
    - text: "Fixed the status code."
  T009:
    - tools: [{Glob: }]
      stop_reason: max_tokens
"""


def scripted(tmp_path: Path, text: str = SCRIPT, name: str = "script.yaml") -> ScriptedModel:
    path = tmp_path / name
    path.write_text(text)
    return ScriptedModel(path)


def after(messages: list[dict], turn: ModelTurn, user: list[dict]) -> list[dict]:
    """The conversation as the agent loop extends it: the assistant turn, then a user message."""
    return [
        *messages,
        {"role": "assistant", "content": turn.content},
        {"role": "user", "content": user},
    ]


def test_scripted_plays_turns_in_order_with_deterministic_tool_ids(tmp_path: Path) -> None:
    model = scripted(tmp_path)
    first = model.complete(request())
    assert first.stop_reason == "tool_use"
    assert first.content == [
        {"type": "text", "text": "Creating the package."},
        {
            "type": "tool_use",
            "id": "toolu_T001_0_0",
            "name": "Write",
            "input": {"file_path": "app/__init__.py", "content": ""},
        },
        {
            "type": "tool_use",
            "id": "toolu_T001_0_1",
            "name": "Read",
            "input": {"file_path": "README.md"},
        },
    ]
    assert first.model == model.name == f"scripted:{tmp_path / 'script.yaml'}"
    results = [
        {"type": "tool_result", "tool_use_id": b["id"], "content": "ok"}
        for b in first.content
        if b["type"] == "tool_use"
    ]
    messages = after([FIRST], first, results)
    second = model.complete(request(messages))
    assert (second.content, second.stop_reason) == (
        [{"type": "text", "text": "Created the app package."}],
        "end_turn",
    )
    # Stateless: the same request from a fresh model (a resumed process) plays the same turn.
    assert scripted(tmp_path).complete(request(messages)) == second
    assert model.complete(request()) == first


def test_scripted_feedback_moves_to_the_next_turn_then_the_script_runs_out(tmp_path: Path) -> None:
    model = scripted(tmp_path)
    messages = [FIRST]
    played = []
    for user in (
        [{"type": "tool_result", "tool_use_id": "toolu_T004_0_0", "content": "edited"}],
        [{"type": "text", "text": "Verification failed: 1 test failed."}],
        [{"type": "tool_result", "tool_use_id": "toolu_T004_2_0", "content": "edited"}],
        [{"type": "text", "text": "Verification failed again."}],
    ):
        turn = model.complete(request(messages, task_id="T004"))
        played.append(turn)
        messages = after(messages, turn, user)
    assert [t.stop_reason for t in played] == ["tool_use", "end_turn", "tool_use", "end_turn"]
    assert played[2].content[0]["id"] == "toolu_T004_2_0"
    assert played[2].content[0]["input"]["new_string"] == "c"
    assert played[3].content == [{"type": "text", "text": "Fixed the status code."}]
    exhausted = model.complete(request(messages, task_id="T004"))
    assert exhausted.stop_reason == "end_turn"
    assert exhausted.content[0]["text"] == "The script for task T004 is exhausted after 4 turns."


def test_scripted_default_turns_and_unknown_tasks(tmp_path: Path) -> None:
    without = scripted(tmp_path).complete(request(task_id="T777"))
    assert without.stop_reason == "end_turn"
    assert without.content == [{"type": "text", "text": "The script has no turns for task T777."}]
    with_default = scripted(tmp_path, SCRIPT + "default:\n  - text: Nothing to change.\n", "d.yaml")
    turn = with_default.complete(request(task_id="T777"))
    assert (turn.content, turn.stop_reason) == ([text_block("Nothing to change.")], "end_turn")
    assert with_default.complete(request(task_id="T001")).stop_reason == "tool_use"


def test_scripted_stop_reason_override_and_empty_tool_input(tmp_path: Path) -> None:
    turn = scripted(tmp_path).complete(request(task_id="T009"))
    assert turn.stop_reason == "max_tokens"
    assert turn.content == [tool_use_block("toolu_T009_0_0", "Glob", {})]


def test_scripted_turns_are_fresh_copies(tmp_path: Path) -> None:
    model = scripted(tmp_path)
    model.complete(request()).content[1]["input"]["file_path"] = "mutated"
    assert model.complete(request()).content[1]["input"]["file_path"] == "app/__init__.py"


def test_scripted_usage_estimates_tokens_from_characters(tmp_path: Path) -> None:
    model = scripted(tmp_path)
    small = model.complete(request()).usage
    big_first = {"role": "user", "content": "x" * 4000}
    big = model.complete(request([big_first])).usage
    assert small.input_tokens > 0 and small.output_tokens > 0
    assert big.input_tokens - small.input_tokens == pytest.approx(1000, abs=30)
    assert big.output_tokens == small.output_tokens
    assert (small.cache_write_tokens, small.cache_read_tokens) == (0, 0)
    long_turn = model.complete(request(task_id="T004")).usage.output_tokens
    assert long_turn != small.output_tokens


def test_scripted_latency_sleeps_per_turn(tmp_path: Path) -> None:
    model = scripted(tmp_path, SCRIPT.replace("latency: 0", "latency: 0.2"), "slow.yaml")
    started = time.monotonic()
    model.complete(request())
    model.complete(request())
    assert time.monotonic() - started >= 0.4
    instant = scripted(tmp_path)
    started = time.monotonic()
    for _ in range(20):
        instant.complete(request())
    assert time.monotonic() - started < 0.2


def test_scripted_reads_json_scripts(tmp_path: Path) -> None:
    data = yaml.safe_load(SCRIPT)
    model = scripted(tmp_path, json.dumps(data, indent=1), "script.json")
    assert model.complete(request()).content[1]["id"] == "toolu_T001_0_0"


BAD_SCRIPTS = [
    # (file name, content, expected fragments of the one-line message)
    ("broken.yaml", "tasks:\n  T001:\n    - text: [unclosed\n", ["line 4", "invalid YAML"]),
    ("tabs.yaml", "tasks:\n\tT001: []\n", ["line 2", "invalid YAML"]),
    ("broken.json", '{"tasks": {"T001": [}\n', ["line 1", "invalid JSON"]),
    ("list.yaml", "- text: hi\n", ["line 1", "a script is a mapping"]),
    ("empty.yaml", "", ["a script is a mapping"]),
    ("neither.yaml", "latency: 0\n", ["needs 'tasks' or 'default'"]),
    ("key.yaml", "tasks: {}\nturns: []\n", ["line 2", "turns: unknown key"]),
    ("latency.yaml", "latency: -1\ntasks: {}\n", ["line 1", "latency must be"]),
    ("tasks.yaml", "tasks: [T001]\n", ["line 1", "tasks must map"]),
    ("turns.yaml", "tasks:\n  T001: {text: hi}\n", ["line 2", "tasks.T001: expected a list"]),
    (
        "two-keys.yaml",
        "tasks:\n  T001:\n    - text: a\n    - tools:\n        - Read: {file_path: a}\n"
        "        - {Read: {file_path: b}, Write: {file_path: c}}\n",
        ["line 6", "tasks.T001[1].tools[1]", "one-key mapping"],
    ),
    (
        "args.yaml",
        "tasks:\n  T001:\n    - tools: [{Read: a.py}]\n",
        ["line 3", "tasks.T001[0].tools[0].Read", "must be a mapping"],
    ),
    ("bare.yaml", "tasks:\n  T001:\n    - tools: [Read]\n", ["tools[0]", "one-key mapping"]),
    ("nothing.yaml", "tasks:\n  T001:\n    - {}\n", ["line 3", "needs 'text' or 'tools'"]),
    ("text.yaml", "tasks:\n  T001:\n    - text: {a: 1}\n", ["line 3", "text must be a string"]),
    ("turnkey.yaml", "tasks:\n  T001:\n    - txt: hi\n", ["line 3", "T001[0].txt: unknown"]),
    ("default.yaml", "default: {text: hi}\n", ["line 1", "default: expected a list"]),
]


@pytest.mark.parametrize(
    ("name", "text", "fragments"), BAD_SCRIPTS, ids=[b[0] for b in BAD_SCRIPTS]
)
def test_bad_scripts_fail_at_construction_naming_file_and_line(
    tmp_path: Path, name: str, text: str, fragments: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        make_model(f"scripted:{name}", root=tmp_path, env={})
    msg = str(caught.value)
    assert msg.startswith(f"{path}: ")
    assert "\n" not in msg
    for fragment in fragments:
        assert fragment in msg


def test_missing_script_and_empty_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"model script .*nope\.yaml does not exist"):
        make_model("scripted:nope.yaml", root=tmp_path)
    with pytest.raises(InputError, match="needs a script path"):
        make_model("scripted:", root=tmp_path)


def test_make_model_scripted_resolves_relative_to_root_without_any_key(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "x.yaml").write_text(SCRIPT)
    model = make_model("scripted:s/x.yaml", root=tmp_path, env={})
    assert isinstance(model, ScriptedModel)
    assert model.name == f"scripted:{tmp_path / 's' / 'x.yaml'}"
    absolute = make_model(f"scripted:{tmp_path / 's' / 'x.yaml'}", root=Path("/nonexistent"))
    assert absolute.name == model.name


# -- resolve_model_id / make_model ---------------------------------------------------------


@pytest.mark.parametrize(
    ("agent_model", "default", "expected"),
    [
        (None, "claude-opus-5-5", "claude-opus-5-5"),
        ("inherit", "claude-opus-5-5", "claude-opus-5-5"),
        ("", "scripted:/x.yaml", "scripted:/x.yaml"),
        ("sonnet", "claude-opus-5-5", "claude-sonnet-5-5"),
        ("opus", "claude-haiku-5-5", "claude-opus-5-5"),
        ("haiku", "claude-opus-5-5", "claude-haiku-5-5"),
        ("claude-fable-5-2", "claude-opus-5-5", "claude-fable-5-2"),
        (" sonnet ", "claude-opus-5-5", "claude-sonnet-5-5"),
    ],
)
def test_resolve_model_id(agent_model: str | None, default: str, expected: str) -> None:
    assert resolve_model_id(agent_model, default) == expected


@pytest.mark.parametrize("env", [{}, {"ANTHROPIC_API_KEY": ""}, None])
def test_make_model_without_a_key_is_an_input_error(tmp_path: Path, env: dict | None) -> None:
    with pytest.raises(InputError) as caught:
        make_model("claude-sonnet-5-5", root=tmp_path, env=env)  # None: conftest cleared the env
    assert "set ANTHROPIC_API_KEY" in str(caught.value)
    assert "--model scripted:PATH" in str(caught.value)


@pytest.mark.parametrize("key_var", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
def test_make_model_uses_env_key_base_url_and_aliases(tmp_path: Path, key_var: str) -> None:
    with MessagesServer(message([text_block("hi")])) as server:
        env = {key_var: SENTINEL, "ANTHROPIC_BASE_URL": server.url}
        model = make_model("haiku", root=tmp_path, env=env)
        assert isinstance(model, AnthropicModel) and model.name == "claude-haiku-5-5"
        turn = model.complete(request(model=model.name))
    assert turn.content == [text_block("hi")]
    assert server.requests[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert server.requests[0].body["model"] == "claude-haiku-5-5"


def test_usage_adds_field_by_field() -> None:
    total = Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)
    assert total == Usage(11, 22, 33, 44)
    assert Usage() + total == total


# -- AnthropicModel against the loopback server --------------------------------------------


def api_model(server: MessagesServer, **kw: object) -> AnthropicModel:
    options: dict = {"max_retries": 0, "timeout": 5.0} | kw
    return AnthropicModel("claude-sonnet-5-5", api_key=SENTINEL, base_url=server.url, **options)


TOOL_TURN = message(
    [
        text_block("Let me look at the README first."),
        tool_use_block("toolu_01", "Read", {"file_path": "README.md", "limit": 40}),
    ],
    "tool_use",
    usage={
        "input_tokens": 1200,
        "output_tokens": 40,
        "cache_creation_input_tokens": 1100,
        "cache_read_input_tokens": 7,
    },
)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])
def test_tool_use_turn_round_trips(stream: bool) -> None:
    with MessagesServer(TOOL_TURN) as server:
        turn = api_model(server, stream=stream).complete(request())
    assert turn == ModelTurn(
        content=[
            {"type": "text", "text": "Let me look at the README first."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "Read",
                "input": {"file_path": "README.md", "limit": 40},
            },
        ],
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=1200, output_tokens=40, cache_write_tokens=1100, cache_read_tokens=7
        ),
        model="claude-sonnet-5-5",
    )
    (sent,) = server.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {SENTINEL}"
    body = sent.body
    assert body is not None
    assert body["system"] == SYSTEM and body["tools"] == TOOLS and body["messages"] == [FIRST]
    assert body["model"] == "claude-sonnet-5-5" and body["max_tokens"] == 2048
    assert bool(body.get("stream")) is stream
    assert "temperature" not in body and "tool_choice" not in body and "task_id" not in body


def test_thinking_blocks_come_back_as_dicts_that_can_be_sent_unchanged() -> None:
    thinking = {"type": "thinking", "thinking": "Need the README.", "signature": "sig-abc123"}
    reply = message(
        [thinking, tool_use_block("toolu_02", "Read", {"file_path": "a.py"})], "tool_use"
    )
    with MessagesServer(reply, message([text_block("Done.")])) as server:
        model = api_model(server)
        turn = model.complete(request())
        assert turn.content[0] == thinking
        result = [{"type": "tool_result", "tool_use_id": "toolu_02", "content": "x = 1"}]
        final = model.complete(request(after([FIRST], turn, result)))
    assert final.stop_reason == "end_turn"
    assert server.requests[1].body["messages"][1] == {"role": "assistant", "content": turn.content}


def test_empty_system_and_tools_are_left_out() -> None:
    with MessagesServer(message([text_block("ok")])) as server:
        api_model(server).complete(request(system=[], tools=[]))
    assert "system" not in server.requests[0].body and "tools" not in server.requests[0].body


def assert_clean(error: Exception) -> str:
    text = str(error)
    assert SENTINEL not in text and "\n" not in text
    return text


@pytest.mark.parametrize(
    ("status", "kind", "hint"),
    [
        (401, "authentication_error", "check ANTHROPIC_API_KEY"),
        (402, "billing_error", "billing"),
        (403, "permission_error", "may not use"),
        (400, "invalid_request_error", "loopback 400"),
        (404, "not_found_error", "'claude-sonnet-5-5'"),
    ],
)
def test_refusals_are_model_errors_without_retry(status: int, kind: str, hint: str) -> None:
    with (
        MessagesServer(http_error(status, kind)) as server,
        pytest.raises(ModelError) as caught,
    ):
        api_model(server, max_retries=2).complete(request())
    assert len(server.requests) == 1
    text = assert_clean(caught.value)
    assert kind in text and f"HTTP {status}" in text and "req_loopback_1" in text and hint in text


def test_the_key_is_scrubbed_even_when_the_server_echoes_it() -> None:
    with (
        MessagesServer(http_error(401, "authentication_error", f"bad key {SENTINEL}")) as server,
        pytest.raises(ModelError) as caught,
    ):
        api_model(server).complete(request())
    assert "bad key [key]" in assert_clean(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"), [(529, "overloaded_error"), (429, "rate_limit_error"), (500, "api_error")]
)
def test_persistent_overload_is_unavailable_after_the_sdk_retries(status: int, kind: str) -> None:
    with (
        MessagesServer(http_error(status, kind, headers={"retry-after-ms": "10"})) as server,
        pytest.raises(ModelUnavailable) as caught,
    ):
        api_model(server, max_retries=1).complete(request())
    assert len(server.requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]
    text = assert_clean(caught.value)
    assert kind in text and "req_loopback_2" in text and "after 1 retries" in text


def test_transient_overload_is_retried_by_the_sdk() -> None:
    overloaded = http_error(529, "overloaded_error", headers={"retry-after-ms": "10"})
    with MessagesServer(overloaded, TOOL_TURN) as server:
        turn = api_model(server, max_retries=2).complete(request())
    assert turn.stop_reason == "tool_use" and len(server.requests) == 2


@pytest.mark.parametrize("kind", ["overloaded_error", "api_error", "rate_limit_error"])
def test_error_event_inside_a_stream_is_unavailable(kind: str) -> None:
    with (
        MessagesServer(StreamError(kind)) as server,
        pytest.raises(ModelUnavailable) as caught,
    ):
        api_model(server, max_retries=2).complete(request())
    assert len(server.requests) == 1  # the SDK does not retry these
    text = assert_clean(caught.value)
    assert f"{kind} mid-stream" in text and "req_loopback_1" in text


def test_other_error_events_inside_a_stream_are_model_errors() -> None:
    with (
        MessagesServer(StreamError("invalid_request_error", "prompt too long")) as server,
        pytest.raises(ModelError, match=r"invalid_request_error.*prompt too long"),
    ):
        api_model(server).complete(request())


def test_dropped_connections_are_unavailable_after_retries() -> None:
    with (
        MessagesServer(Drop()) as server,
        pytest.raises(ModelUnavailable) as caught,
    ):
        api_model(server, max_retries=1).complete(request())
    assert len(server.requests) == 2
    assert "connection failed after 1 retries" in assert_clean(caught.value)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (CutStream(TOOL_TURN.message, after_events=5), "stream broken (RemoteProtocolError)"),
        (CutStream(TOOL_TURN.message, after_events=5, chunked=False), "before message_stop"),
        (CutStream(TOOL_TURN.message, after_events=3, stall=2.0), "stream broken (ReadTimeout)"),
    ],
    ids=["cut-chunked", "cut-clean-eof", "stall"],
)
def test_streams_broken_midway_are_unavailable(reply: CutStream, reason: str) -> None:
    with (
        MessagesServer(reply) as server,
        pytest.raises(ModelUnavailable) as caught,
    ):
        api_model(server, timeout=0.3).complete(request())
    assert reason in assert_clean(caught.value)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "create"])
def test_a_hung_server_times_out_as_unavailable(stream: bool) -> None:
    with MessagesServer(Hang(2.0, TOOL_TURN)) as server:
        started = time.monotonic()
        with pytest.raises(ModelUnavailable) as caught:
            api_model(server, timeout=0.3, stream=stream).complete(request())
    assert time.monotonic() - started < 1.5
    assert "timed out after 0 retries" in assert_clean(caught.value)


def test_server_handler_scripts_replies_by_request() -> None:
    """The loopback server's handler hook: replies computed from the request body."""

    def echo(body: dict, index: int) -> MessageReply:
        return message([text_block(f"{index}:{body['messages'][-1]['content'][0]['text']}")])

    with MessagesServer(handler=echo) as server:
        model = api_model(server)
        texts = [model.complete(request()).content[0]["text"] for _ in range(2)]
    assert texts == ["0:Do T001", "1:Do T001"]
