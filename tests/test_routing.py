"""Routing over every agent: the terms it reads, the stack it finds in plan.md, the signals it
scores and the route it explains. Pure: real agent files in temp dirs, no git, no model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.errors import InputError
from orchestrator.plan import lexicon
from orchestrator.plan.agents import AgentSet, builtin_agents_dir, load_agents
from orchestrator.plan.evidence import facts, related
from orchestrator.plan.routing import Route, RouteRule, route, route_tasks, validate_rules
from orchestrator.plan.stack import Stack, read_stack
from orchestrator.speckit.tasks import Task, parse_tasks

BACKEND = "fastapi-backend-dev"
GENERAL = "generalist"
FIXTURES = Path(__file__).parent / "fixtures"
FASTAPI_PLAN = """# Implementation Plan: Books API

## Technical Context

**Language/Version**: Python 3.12
**Primary Dependencies**: FastAPI, SQLModel, Alembic
**Testing**: pytest, httpx
**Project Type**: single backend API service

## Project Structure

```text
src/
├── models/          # SQLModel tables
└── api/             # FastAPI routers
tests/
```
"""
GO_PLAN = "## Technical Context\n\n**Language/Version**: Go 1.22\n**Primary Dependencies**: cobra\n"
SCIENCE_PLAN = (
    "## Technical Context\n\n**Language/Version**: Python 3.12\n"
    "**Primary Dependencies**: NumPy, Gymnasium\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def agent(name: str, description: str, extra: str = "") -> str:
    extra = f"{extra}\n" if extra else ""
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n\nYou work carefully.\n"


def builtin(*more: tuple[str, Path]) -> AgentSet:
    return load_agents([("built-in", builtin_agents_dir()), *more])


def task(description: str, *files: str, tid: str = "T001", phase: int = 0) -> Task:
    return Task(id=tid, description=description, line=1, phase=phase, files=files)


# --- reading text, plans and tasks -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Implement TaskService.update_task", ["service"]),  # "task", "update": stop words
        ("Add FastAPI and SQLAlchemy models", ["fastapi", "sqlalchemy", "model"]),
        ("Create the Next.js app with pre-commit hooks", ["nextjs", "app", "precommit", "hook"]),
        ("Implement POST /tasks and check /docs", ["endpoint", "endpoint"]),
        ("Write the documentation for endpoints", ["doc", "endpoint"]),
        ("Configure authentication middleware", ["config", "auth", "middleware"]),
        ("[y/N] prompt, and/or labels", ["prompt", "label"]),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert lexicon.terms(text) == expected


def test_name_words_keep_every_word_of_a_name() -> None:
    assert lexicon.name_words("TaskService.update_task") == ["task", "service", "update", "task"]
    assert lexicon.file_facts("src/services/task_service.py")[3] == ("task", "service")


@pytest.mark.parametrize(
    ("path", "family", "kind", "terms"),
    [
        ("src/api/routes.py", "python", "", ("api", "route")),
        ("frontend/src/components/TaskCard.tsx", "js", "frontend",
         ("frontend", "component", "card")),
        ("api/README.md", "", "docs", ()),
        ("docs/api/endpoints.md", "", "docs", ()),
        ("internal/cli/root.go", "go", "", ("cli", "root")),
        ("pyproject.toml", "", "tooling", ("pyproject",)),
        ("tests/conftest.py", "python", "testing", ("test", "conftest")),
        ("backend/alembic/versions/", "", "", ("backend", "alembic", "version")),
    ],
)  # fmt: skip
def test_file_facts(path: str, family: str, kind: str, terms: tuple[str, ...]) -> None:
    assert lexicon.file_facts(path)[:3] == (family, kind, terms)


def test_stack_from_the_technical_context_and_the_structure() -> None:
    stack = read_stack(FASTAPI_PLAN)
    assert stack.techs == ("python", "fastapi", "sqlmodel", "alembic")
    assert (stack.families, stack.ecosystems) == ({"python"}, {"python-web"})
    assert stack.folders == {
        "src/models/": ("sqlmodel", "table"),
        "src/api/": ("fastapi", "router"),
    }
    assert stack.folder_terms("src/api/v1/books.py") == ("fastapi", "router")
    assert stack.source == "plan.md"


def test_the_language_field_decides_the_languages() -> None:
    """A Rust plan naming a Python helper in passing is still a Rust feature."""
    plan = (
        "## Technical Context\n\n**Language/Version**: Rust 1.75\n"
        "**Primary Dependencies**: clap, tokio; a Python script builds the docs\n"
    )
    stack = read_stack(plan)
    assert "python" in stack.techs and stack.families == {"rust"}


def test_the_constitution_fills_in_when_the_plan_names_no_framework() -> None:
    plan = "# Plan\n\n**Language/Version**: Python 3.11\n"
    stack = read_stack(plan, constitution="We build every service with FastAPI and Pydantic.")
    assert stack.ecosystems == {"python-web"}
    assert stack.source == "plan.md and constitution"
    assert read_stack("# Plan\n\nNothing here.\n") == Stack(source="")


def test_related_tasks_share_files_code_names_and_ids() -> None:
    tasks = [
        task("Implement TaskService.create_task in src/services/task_service.py",
             "src/services/task_service.py", tid="T001"),
        task("Ensure updated_at changes in TaskService.update_task", tid="T002"),
        task("Add error handling to src/services/task_service.py",
             "src/services/task_service.py", tid="T003"),
        task("Run the unit tests, verify T001-T003 pass", tid="T004"),
        task("Document the deviations from plan.md in README.md", "plan.md", "README.md",
             tid="T005"),
        task("Create the project layout per plan.md", "plan.md", tid="T006"),
    ]  # fmt: skip
    found = related([facts(t, "", Stack()) for t in tasks])
    assert dict(found["T002"]) == {"T001": "task service", "T003": "task service"}
    assert dict(found["T001"]) == {"T003": "src/services/task_service.py"}
    assert [t for t, _ in found["T004"]] == ["T001", "T002", "T003"]
    assert "T005" not in found and "T006" not in found  # reading plan.md makes no two alike


# --- choosing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "description", "files", "agent", "signal"),
    [
        (FASTAPI_PLAN, "Create the Book model", ["src/models/book.py"], BACKEND, "stack"),
        (FASTAPI_PLAN, "Configure error handlers for a consistent error response format",
         ["src/main.py"], BACKEND, "description"),
        (FASTAPI_PLAN, "Implement test client fixture with dependency overrides",
         ["tests/conftest.py"], BACKEND, "stack"),
        (FASTAPI_PLAN, "Write API tests for POST and GET /api/v1/books", ["tests/test_books.py"],
         BACKEND, "description"),
        (FASTAPI_PLAN, "Run the full test suite and confirm it passes", [], BACKEND, "stack"),
        (FASTAPI_PLAN, "Document the endpoints with curl examples", ["README.md"], GENERAL,
         "files"),
        (FASTAPI_PLAN, "Create documentation for running the backend server", [], GENERAL,
         "description"),
        (FASTAPI_PLAN, "Add a GitHub Actions workflow", [".github/workflows/ci.yml"], GENERAL,
         "folders"),
        (FASTAPI_PLAN, "Run ruff and fix any style issues across all files", [], GENERAL,
         "topic"),
        (FASTAPI_PLAN, "Add .mypy_cache/ to .gitignore", [".gitignore"], GENERAL, "files"),
        (FASTAPI_PLAN, "Add SQLModel and asyncpg to pyproject.toml", ["pyproject.toml"], BACKEND,
         "stack"),
        (FASTAPI_PLAN, "Implement the handler", ["internal/api/tasks.go"], GENERAL, "default"),
        (GO_PLAN, "Implement the HTTP endpoint for tasks", ["internal/api/tasks.go"], GENERAL,
         "default"),
        (GO_PLAN, "Write the tests for the endpoint middleware", [], GENERAL, "default"),
        (SCIENCE_PLAN, "Add schema validation tests for episodes", ["tests/test_schema.py"],
         GENERAL, "default"),
        ("# Plan\n", "Tidy up naming", [], GENERAL, "default"),
    ],
)  # fmt: skip
def test_who_takes_what(
    plan: str, description: str, files: list[str], agent: str, signal: str
) -> None:
    got = route(task(description, *files), builtin(), stack=read_stack(plan))
    assert got.agent == agent, got
    assert signal in {s.kind for s in got.candidates[0].signals}
    assert got.candidates[0].agent == agent
    assert got.candidates[0].score >= got.candidates[1].score


def test_another_language_rules_the_backend_agent_out() -> None:
    got = route(
        task("Add the /books endpoint", "internal/books.go"),
        builtin(),
        stack=read_stack(FASTAPI_PLAN),
    )
    backend = next(c for c in got.candidates if c.agent == BACKEND)
    language = next(s for s in backend.signals if s.kind == "language")
    assert (language.detail, language.weight) == ("internal/books.go is not python", -8.0)


def test_the_explanation_is_the_sum_of_its_signals() -> None:
    got = route(
        task("Create the Book model", "src/models/book.py"),
        builtin(),
        stack=read_stack(FASTAPI_PLAN),
    )
    for c in got.candidates:
        assert c.score == round(sum(s.weight for s in c.signals), 3)
    assert got.by == "rules" and got.claimed
    assert got.reason.startswith("stack: fastapi, alembic;")
    assert got.margin == round(got.candidates[0].score - got.candidates[1].score, 3)
    bare = route(task("Tidy up"), builtin())
    assert bare.reason == "default agent: nothing in the task or the feature points elsewhere"
    assert not bare.claimed


def test_no_agent_is_named_in_the_logic(tmp_path: Path) -> None:
    """The built-in backend agent under another name, from a repo folder, wins the same tasks:
    it is chosen for what its description says, not for what it is called."""
    text = (builtin_agents_dir() / "fastapi-backend-dev.md").read_text(encoding="utf-8")
    write(
        tmp_path / "agents" / "api-smith.md",
        text.replace("name: fastapi-backend-dev", "name: api-smith"),
    )
    write(
        tmp_path / "agents" / "helper.md",
        (builtin_agents_dir() / "generalist.md")
        .read_text()
        .replace("name: generalist", "name: helper"),
    )
    renamed = load_agents([("repo agents/", tmp_path / "agents")])
    tasklist = parse_tasks((FIXTURES / "mixed" / "tasks.md").read_text(encoding="utf-8"))
    stack = read_stack((FIXTURES / "mixed" / "plan.md").read_text(encoding="utf-8"))
    titles = [p.title for p in tasklist.phases]
    before = route_tasks(tasklist.tasks, builtin(), stack=stack, phase_titles=titles)
    after = route_tasks(tasklist.tasks, renamed, default="helper", stack=stack, phase_titles=titles)
    names = {"api-smith": BACKEND, "helper": GENERAL}
    assert {t: names[r.agent] for t, r in after.items()} == {t: r.agent for t, r in before.items()}


def test_config_routes_come_first_in_order_and_decide_alone(tmp_path: Path) -> None:
    write(tmp_path / "frontend-dev.md", agent("frontend-dev", "React components and pages."))
    write(tmp_path / "docs-writer.md", agent("docs-writer", "Writes documentation."))
    agents = builtin(("repo agents/", tmp_path))
    rules = [
        RouteRule("frontend-dev", glob="frontend/**"),
        RouteRule("docs-writer", keyword="changelog"),
        RouteRule(BACKEND, keyword="changelog"),
        RouteRule("docs-writer", glob="src/api/*"),
    ]
    got = route(task("Wire the App", "frontend/src/App.tsx"), agents, rules)
    assert (got.agent, got.reason, got.by) == (
        "frontend-dev",
        "config route: glob 'frontend/**' matched frontend/src/App.tsx",
        "config",
    )
    assert got.candidates[0].agent == "frontend-dev"
    assert got.candidates[0].signals[0].kind == "route"
    got = route(task("Update the CHANGELOG for the endpoint"), agents, rules)
    assert (got.agent, got.reason) == ("docs-writer", "config route: keyword 'changelog'")
    got = route(
        task("Add routes", "src/api/routes.py"), agents, rules, stack=read_stack(FASTAPI_PLAN)
    )
    assert got.agent == "docs-writer"  # a rule beats every score
    got = route(task("Changelogs everywhere", "src/api/v2/routes.py"), agents, rules)
    assert got.by == "rules"


def test_rules_naming_unknown_agents_are_input_errors() -> None:
    agents = builtin()
    rules = [RouteRule(GENERAL, glob="web/**"), RouteRule("ghost", keyword="x")]
    with pytest.raises(InputError, match=r"route rule \(keyword 'x'\) names agent 'ghost'"):
        validate_rules(rules, agents)
    with pytest.raises(InputError, match="'ghost'"):
        route(task("unrelated", "web/a.ts"), agents, rules)  # even when an earlier rule matches
    with pytest.raises(InputError, match="default agent 'nobody' is not defined"):
        route(task("x"), agents, default="nobody")
    with pytest.raises(InputError, match="exactly one of glob or keyword"):
        RouteRule(GENERAL)


def test_the_default_agent_takes_what_nothing_claims(tmp_path: Path) -> None:
    write(tmp_path / "docs-writer.md", agent("docs-writer", "Writes documentation."))
    agents = builtin(("repo agents/", tmp_path))
    assert route(task("Tidy up"), agents, default="docs-writer").agent == "docs-writer"
    only = load_agents(
        [("x", write(tmp_path / "g" / "g.md", agent(GENERAL, "Does anything.")).parent)]
    )
    assert route(task("Implement POST /tasks endpoint"), only).agent == GENERAL


def test_sdd_hints_claim_files_and_name_stacks(tmp_path: Path) -> None:
    write(tmp_path / "edge.md", agent("edge-dev", "Edge functions.", "sdd:\n  paths: ['edge/**']"))
    write(
        tmp_path / "ml.md",
        agent("ml-dev", "Models and training.", "sdd: {stacks: [numpy, gymnasium]}"),
    )
    agents = builtin(("repo agents/", tmp_path))
    got = route(task("Add the handler", "edge/handler.py"), agents, stack=read_stack(FASTAPI_PLAN))
    assert got.agent == "edge-dev"
    assert ("hint", "sdd.paths 'edge/**' matched edge/handler.py", 6.0) in [
        (s.kind, s.detail, s.weight) for s in got.candidates[0].signals
    ]
    science = route(
        task("Implement the reward function", "robot/reward.py"),
        agents,
        stack=read_stack(SCIENCE_PLAN),
    )
    assert science.agent == "ml-dev"
    assert any(s.kind == "stack" and s.weight > 0 for s in science.candidates[0].signals)


def test_a_users_frontend_agent_takes_the_react_tasks_of_a_mixed_feature() -> None:
    """`.claude/agents/react-frontend-dev.md` with a description and no config or hints."""
    mixed = FIXTURES / "mixed"
    agents = builtin((".claude/agents/", mixed / "agents"))
    tasklist = parse_tasks((mixed / "tasks.md").read_text(encoding="utf-8"))
    stack = read_stack((mixed / "plan.md").read_text(encoding="utf-8"))
    titles = [p.title for p in tasklist.phases]
    routes = route_tasks(tasklist.tasks, agents, stack=stack, phase_titles=titles)
    labels = yaml.safe_load((mixed / "labels.yaml").read_text(encoding="utf-8"))
    for tid in labels["backend"]:
        assert routes[tid].agent == BACKEND, (tid, routes[tid])
    unclaimed = _frontend_misses(routes, labels["frontend"])
    # T026 ("Apply optimistic updates to the card cache…") names nothing either agent's
    # description or the task's files say: a close, unclaimed call for routing: model.
    assert unclaimed == ["T026"]
    assert not routes["T026"].claimed
    assert routes["T029"].agent == GENERAL  # README


def _frontend_misses(routes: dict[str, Route], frontend: list[str]) -> list[str]:
    return [t for t in frontend if routes[t].agent != "react-frontend-dev"]


def test_a_language_named_in_a_description_is_one_it_writes(tmp_path: Path) -> None:
    write(tmp_path / "go.md", agent("go-dev", "Go CLI specialist: cobra commands and their tests."))
    write(tmp_path / "logs.md", agent("log-reader", "Use it to go through logs and traces."))
    agents = builtin(("repo agents/", tmp_path))
    stack = read_stack(GO_PLAN)
    got = route(task("Implement the root command", "cmd/root.go"), agents, stack=stack)
    assert got.agent == "go-dev"
    assert ("language", "cmd/root.go is go", 1.0) in [
        (s.kind, s.detail, s.weight) for s in got.candidates[0].signals
    ]
    reader = next(c for c in got.candidates if c.agent == "log-reader")
    assert all(s.kind != "language" for s in reader.signals)  # "go through" is no language
