"""`routing: model`: the real anthropic SDK asks the loopback Messages API once per feature for
the close calls, the answer is validated against the agents, kept, and reused for free."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from support.messages_server import MessagesServer, Reply, http_error, message, text_block

from orchestrator import paths
from orchestrator.plan.build import make_plan

MIXED = Path(__file__).parent / "fixtures" / "mixed"
FEATURE = "002-task-board"
KEY = "sk-ant-routing-test"


def project(tmp_path: Path, config: str = "routing: model\n") -> Path:
    """The mixed feature (FastAPI + React) with a user's React agent, as a spec-kit project."""
    root = tmp_path / "proj"
    feature = root / "specs" / FEATURE
    feature.mkdir(parents=True)
    for name in ("spec.md", "plan.md", "tasks.md"):
        shutil.copy(MIXED / name, feature / name)
    (root / ".specify" / "memory").mkdir(parents=True)
    (root / ".specify" / "memory" / "constitution.md").write_text("# Constitution\n")
    (root / ".specify" / "sdd.yaml").write_text(config + "api: {max_retries: 0}\n")
    (root / ".claude" / "agents").mkdir(parents=True)
    shutil.copy(MIXED / "agents" / "react-frontend-dev.md", root / ".claude" / "agents")
    return root


class Router:
    """Answers a routing request with a choice per asked task, recording what it was asked."""

    def __init__(self, choose: dict[str, str] | str) -> None:
        self.choose = choose
        self.asked: list[list[str]] = []

    def __call__(self, body: dict[str, Any], index: int) -> Reply:
        user = body["messages"][0]["content"]
        ids = [line.split(" ", 1)[0] for line in user.splitlines()[1:]]
        self.asked.append(ids)
        if isinstance(self.choose, str):
            return message([text_block(self.choose)])
        answer = {tid: self.choose.get(tid, "generalist") for tid in ids}
        return message([text_block("Here you are:\n" + json.dumps(answer))])


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(server: MessagesServer) -> None:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)

    return use


def plan(root: Path, consult: bool = True):  # type: ignore[no-untyped-def]
    return make_plan(root, root / "specs" / FEATURE, consult=consult)


def test_one_cached_request_settles_the_close_calls_and_is_kept(tmp_path: Path, api: Any) -> None:
    root = project(tmp_path)
    router = Router({"T026": "react-frontend-dev"})
    with MessagesServer(handler=router) as server:
        api(server)
        first = plan(root)
        second = plan(root)  # stable and free: no second request
        offline = plan(root, consult=False)
    assert len(server.requests) == 1
    body = server.requests[0].body
    assert body is not None
    assert body["model"] == "claude-haiku-5-5"
    assert "tools" not in body
    (system,) = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    for needle in ("react-frontend-dev: React and TypeScript", "fastapi-backend-dev: FastAPI",
                   "generalist:", "fastapi", "T001 [Setup", "T032 [Polish"):  # fmt: skip
        assert needle in system["text"], needle
    asked = router.asked[0]
    assert "T026" in asked and "T015" not in asked  # the endpoint is no close call
    r = first.routes["T026"]
    assert (r.agent, r.by) == ("react-frontend-dev", "model")
    assert r.reason.startswith("model claude-haiku-5-5 chose it over a close call (rules: ")
    assert r.candidates[0].agent == "react-frontend-dev"
    assert r.candidates[0].signals[0].kind == "model"
    assert first.notes == []
    for later in (second, offline):
        assert {t: x.agent for t, x in later.routes.items()} == {
            t: x.agent for t, x in first.routes.items()
        }
    stored = json.loads(paths.routing_file(root, FEATURE).read_text())
    assert (
        stored["model"] == "claude-haiku-5-5" and stored["answers"]["T026"] == "react-frontend-dev"
    )
    assert set(stored["answers"]) == set(asked)


def test_a_changed_plan_asks_again(tmp_path: Path, api: Any) -> None:
    root = project(tmp_path)
    with MessagesServer(handler=Router({"T026": "react-frontend-dev"})) as server:
        api(server)
        plan(root)
        tasks = root / "specs" / FEATURE / "tasks.md"
        tasks.write_text(tasks.read_text().replace("card cache", "query cache"))
        assert (
            plan(root, consult=False).notes[0].startswith("routing: model has not settled")
        )  # the stored answer is for another plan
        plan(root)
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        ('{"T026": "ghost"}', "T026: 'ghost' is not an agent"),
        ("I would rather not say.", "the reply is not a JSON object"),
    ],
)
def test_answers_are_checked_against_the_agents(
    tmp_path: Path, api: Any, reply: str, note: str
) -> None:
    root = project(tmp_path)
    rules = plan(project(tmp_path / "rules", config=""))
    with MessagesServer(handler=Router(reply)) as server:
        api(server)
        got = plan(root)
    assert got.routes["T026"].agent == rules.routes["T026"].agent
    assert got.routes["T026"].by == "rules"
    assert any(note in n for n in got.notes), got.notes


def test_without_a_key_or_an_endpoint_the_rules_stand(tmp_path: Path, api: Any) -> None:
    root = project(tmp_path)
    got = plan(root)  # conftest leaves no key
    assert got.notes == [
        "routing: model could not ask claude-haiku-5-5 (no Anthropic API key for model haiku: "
        "set ANTHROPIC_API_KEY, or use --model scripted:PATH for an offline run); "
        "routed by rules"
    ]
    assert all(r.by in ("rules", "config") for r in got.routes.values())
    assert not paths.routing_file(root, FEATURE).exists()
    with MessagesServer(http_error(529, "overloaded_error")) as server:
        api(server)
        down = plan(root)
    assert "model API at" in down.notes[0] and "unavailable" in down.notes[0]
    assert not paths.routing_file(root, FEATURE).exists()


def test_config_routes_are_never_asked_about(tmp_path: Path, api: Any) -> None:
    root = project(tmp_path, "routing: model\nroutes:\n  - {agent: generalist, keyword: cache}\n")
    router = Router({})
    with MessagesServer(handler=router) as server:
        api(server)
        got = plan(root)
    assert got.routes["T026"].by == "config"
    assert "T026" not in router.asked[0]
