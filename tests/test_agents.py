"""Agent definition files (real files in tmp dirs), the three sources, and task routing."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.agent.tools.bash_rules import Rule
from orchestrator.errors import InputError
from orchestrator.globs import glob_match
from orchestrator.plan.agents import (
    SDD_TOOLS,
    AgentSet,
    agent_dirs,
    builtin_agents_dir,
    load_agent,
    load_agents,
)
from orchestrator.plan.routing import RouteRule, route, validate_rules
from orchestrator.speckit.tasks import Task


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def agent_file(name: str, tools: str | None = None, extra: str = "", body: str = "Prompt.") -> str:
    lines = ["---", f"name: {name}", f"description: The {name} agent. Use it for things."]
    if tools is not None:
        lines.append(f"tools: {tools}")
    return "\n".join([*lines, *([extra] if extra else []), "---", "", body, ""])


def load_one(path: Path) -> tuple:
    notes: list[str] = []
    return load_agent(path, "repo agents/", notes), notes


# --- parsing -------------------------------------------------------------------------------


def test_valid_file_with_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path / "reviewer.md",
        "---\nname: code-reviewer\ndescription: Reviews code.\n  Use after edits.\n"
        "tools: Read, Grep, Glob\nmodel: sonnet\ncolor: purple\n---\n\nYou review code.\n\n"
        "Be kind.\n",
    )
    agent, notes = load_one(path)
    assert agent.name == "code-reviewer"
    assert agent.description == "Reviews code. Use after edits."
    assert agent.tools == ("Read", "Grep", "Glob")
    assert agent.bash_rules == ()
    assert (agent.model, agent.color) == ("sonnet", "purple")
    assert agent.body == "You review code.\n\nBe kind."
    assert (agent.path, agent.source) == (path, "repo agents/")
    assert notes == []


def test_tools_as_yaml_list_and_defaults(tmp_path: Path) -> None:
    listed, _ = load_one(
        write(
            tmp_path / "a.md", agent_file("a", extra="tools:\n  - Read\n  - Edit\nmodel: inherit")
        )
    )
    assert listed.tools == ("Read", "Edit")
    assert listed.model is None  # inherit
    plain, _ = load_one(write(tmp_path / "b.md", agent_file("b")))
    assert plain.tools is None  # every sdd tool
    assert (plain.model, plain.color) == (None, None)
    bom, _ = load_one(write(tmp_path / "c.md", b"\xef\xbb\xbf" + agent_file("c").encode()))
    assert bom.name == "c"


def test_claude_code_only_tools_are_ignored_with_a_note(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.md",
        agent_file("r", "Read, WebFetch, TodoWrite, mcp__github__create_issue, Grep, MultiEdit"),
    )
    agent, notes = load_one(path)
    assert agent.tools == ("Read", "Grep")
    assert len(notes) == 1
    for name in ("WebFetch", "TodoWrite", "mcp__github__create_issue", "MultiEdit", str(path)):
        assert name in notes[0]


def test_bash_rules_are_kept_in_the_form_the_bash_tool_reads(tmp_path: Path) -> None:
    agent, _ = load_one(
        write(tmp_path / "t.md", agent_file("t", "Read, Bash(pytest:*), Bash(ruff check:*)"))
    )
    assert agent.tools == ("Read", "Bash")
    assert agent.bash_rules == ("Bash(pytest:*)", "Bash(ruff check:*)")
    rules = [Rule.parse(r) for r in agent.bash_rules]
    assert any(r.matches(["pytest", "-q", "tests"]) for r in rules)
    assert any(r.matches(["ruff", "check", "."]) for r in rules)
    assert not any(r.matches(["rm", "-rf", "/"]) for r in rules)

    unrestricted, _ = load_one(write(tmp_path / "u.md", agent_file("u", "Bash(pytest:*), Bash")))
    assert (unrestricted.tools, unrestricted.bash_rules) == (("Bash",), ())


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (agent_file("x", extra="color: [red"), 4, "invalid YAML"),
        ("---\nname: x\n  bad: indent\ndescription: d\n---\nbody\n", 3, "invalid YAML"),
        ("---\ndescription: a: b\nmodel: [x\n---\nbody\n", 3, "invalid YAML"),
        ("---\ndescription: no name\n---\nbody\n", 1, "missing 'name'"),
        ("---\nname: x\n---\nbody\n", 1, "missing 'description'"),
        ("---\nname: x\ndescription: '  '\n---\nbody\n", 3, "missing 'description'"),
        ("---\ntools: Read\nname: Backend_Dev\ndescription: d\n---\nbody\n", 3, "'Backend_Dev'"),
        ("---\nname: 7\ndescription: d\n---\nbody\n", 2, "must be lowercase"),
        ("# Just markdown\n", 1, "no front matter"),
        ("---\nname: x\ndescription: d\n", 1, "no closing '---'"),
        ("---\n- a\n- b\n---\nbody\n", 2, "must be a mapping"),
        ("---\nname: x\ndescription: d\n---\n\n", 4, "no system prompt"),
        (agent_file("x", "Read, Frobnicate"), 4, "unknown tool 'Frobnicate'"),
        (agent_file("x", extra="tools: {Read: yes}"), 4, "'tools' must be"),
        (agent_file("x", extra="model: 3"), 4, "'model' must be a string"),
        (agent_file("x", "Bash('unclosed)"), 4, "cannot be parsed"),
    ],
)
def test_bad_files_name_file_and_line(
    tmp_path: Path, content: str, line: int, message: str
) -> None:
    path = write(tmp_path / "bad.md", content)
    with pytest.raises(InputError) as err:
        load_one(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)


def test_unquoted_description_with_colons_reads_as_claude_code_does(tmp_path: Path) -> None:
    path = write(
        tmp_path / "hunter.md",
        "---\nname: silent-failure-hunter\n"
        "description: Use this agent when reviewing code. Examples:\\n<example>\\nContext: A PR."
        '\\nuser: "Review it"\\n</example>\n  and more: text\n'
        "model: inherit\ncolor: yellow\n---\nHunt silent failures.\n",
    )
    agent, notes = load_one(path)
    assert agent.description == (
        "Use this agent when reviewing code. Examples:\\n<example>\\nContext: A PR."
        '\\nuser: "Review it"\\n</example> and more: text'
    )
    assert (agent.name, agent.model, agent.color) == ("silent-failure-hunter", None, "yellow")
    assert notes == [f"{path}:3: description is not valid YAML; read as plain text"]


def test_non_utf8_file(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.md", b"---\nname: x\ndescription: caf\xe9\n---\nbody\n")
    with pytest.raises(InputError, match=r"latin\.md:3: not UTF-8 text"):
        load_one(path)


# --- sources -------------------------------------------------------------------------------


def test_builtin_agents_load_and_are_valid(repo_root: Path) -> None:
    assert builtin_agents_dir() == repo_root / "agents"
    found = load_agents([("built-in", builtin_agents_dir())])
    assert set(found.agents) == {"fastapi-backend-dev", "generalist"}
    assert found.notes == []
    backend = found.agents["fastapi-backend-dev"]
    assert backend.tools == SDD_TOOLS
    assert (backend.model, backend.color, backend.source) == (None, "green", "built-in")
    assert "FastAPI" in backend.description
    assert 60 <= len(backend.body.splitlines()) <= 100
    for topic in ("201", "204", "Pydantic", "Alembic", "selectinload", "Depends", "never commit"):
        assert topic.lower() in backend.body.lower(), topic
    generalist = found.agents["generalist"]
    assert generalist.tools == SDD_TOOLS
    assert generalist.model is None
    assert len(generalist.body) < len(backend.body)


def test_later_sources_override_earlier_ones(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "agents" / "generalist.md", agent_file("generalist", body="Repo generalist."))
    write(repo / "agents" / "api.md", agent_file("fastapi-backend-dev", body="Repo backend."))
    claude = write(repo / ".claude" / "agents" / "g.md", agent_file("generalist", body="Mine."))
    write(repo / ".claude" / "agents" / "helper.md", agent_file("helper", "Read, WebSearch"))
    dirs = agent_dirs(repo)
    assert [source for source, _ in dirs] == ["built-in", "repo agents/", ".claude/agents/"]

    found = load_agents(dirs)
    assert set(found.agents) == {"fastapi-backend-dev", "generalist", "helper"}
    assert found.agents["generalist"].body == "Mine."
    assert found.agents["generalist"].path == claude
    assert found.agents["generalist"].source == ".claude/agents/"
    assert found.agents["fastapi-backend-dev"].body == "Repo backend."
    overrides = [n for n in found.notes if "overrides" in n]
    assert len(overrides) == 3
    assert any(
        n.startswith("generalist from .claude/agents/") and "repo agents/" in n for n in overrides
    )
    assert any(n.startswith("generalist from repo agents/") and "built-in" in n for n in overrides)
    assert any("WebSearch" in n for n in found.notes)


def test_same_name_twice_in_one_source_later_file_wins(tmp_path: Path) -> None:
    write(tmp_path / "b-second.md", agent_file("dup", body="Second."))
    write(tmp_path / "a-first.md", agent_file("dup", body="First."))
    found = load_agents([("repo agents/", tmp_path)])
    assert found.agents["dup"].body == "Second."
    assert len(found.notes) == 1
    assert "b-second.md wins over a-first.md" in found.notes[0]


def test_missing_dirs_readmes_and_the_same_dir_twice(tmp_path: Path, repo_root: Path) -> None:
    write(tmp_path / "agents" / "README.md", "# Our agents\n\nNo front matter here.\n")
    found = load_agents(
        [
            ("built-in", repo_root / "agents"),
            ("repo agents/", tmp_path / "agents"),
            ("x", tmp_path / "nope"),
        ]
    )
    assert set(found.agents) == {"fastapi-backend-dev", "generalist"}
    assert len(found.notes) == 1 and "README" in found.notes[0]
    own = load_agents(agent_dirs(repo_root))  # sdd's own checkout: agents/ is the built-in folder
    assert own.notes == []
    assert all(a.source == "built-in" for a in own.agents.values())


def test_a_bad_file_in_any_source_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path / ".claude" / "agents" / "broken.md", "---\nname: [x\n---\nbody\n")
    with pytest.raises(InputError, match=r"broken\.md:2: invalid YAML"):
        load_agents(agent_dirs(tmp_path))


# --- routing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> AgentSet:
    extra = tmp_path_factory.mktemp("agents")
    write(extra / "frontend-dev.md", agent_file("frontend-dev"))
    write(extra / "docs-writer.md", agent_file("docs-writer"))
    return load_agents([("built-in", builtin_agents_dir()), ("repo agents/", extra)])


def task(description: str, *files: str) -> Task:
    return Task(id="T001", description=description, line=1, phase=0, files=files)


BACKEND = "fastapi-backend-dev"
GENERAL = "generalist"


@pytest.mark.parametrize(
    ("description", "files", "agent", "reason"),
    [
        ("Create User model in src/models/user.py", ["src/models/user.py"], BACKEND,
         "backend path src/models/user.py"),
        ("Add routes in ./app/api/routes.py", ["./app/api/routes.py"], BACKEND,
         "backend path app/api/routes.py"),
        ("Login handler", ["src/auth/login.py"], BACKEND, "backend path src/auth/login.py"),
        ("Password hashing", ["app/core/auth_utils.py"], BACKEND,
         "backend path app/core/auth_utils.py"),
        ("Migration for tasks table", ["alembic/versions/"], BACKEND,
         "backend path alembic/versions/"),
        ("Contract tests", ["tests/contract/test_api.py"], BACKEND,
         "backend path tests/contract/test_api.py"),
        ("Implement POST /tasks endpoint", [], BACKEND, "backend keyword 'endpoint'"),
        ("Define pydantic models for Task", [], BACKEND, "backend keyword 'pydantic'"),
        ("Issue JWT access tokens", ["app/core/security.py"], BACKEND, "backend keyword 'JWT'"),
        ("Implement TaskRepository over the session", [], BACKEND,
         "backend keyword 'TaskRepository'"),
        ("Add CORS middleware for the React app", ["src/main.py"], BACKEND,
         "backend keyword 'middleware'"),
        ("Add CORS for the React app in src/api/main.py", ["src/api/main.py"], BACKEND,
         "backend path src/api/main.py"),
        ("Initialize the git repository and .gitignore", [".gitignore"], GENERAL, "default agent"),
        ("Configure pytest in pyproject.toml", ["pyproject.toml"], GENERAL, "default agent"),
        ("Document the API in README.md", ["README.md"], GENERAL,
         "documentation task (README.md)"),
        ("Describe every endpoint", ["docs/api/endpoints.md"], GENERAL,
         "documentation task (docs/api/endpoints.md)"),
        ("Write API documentation for all endpoints", [], GENERAL,
         "documentation task (keyword 'documentation')"),
        ("Update the README with the FastAPI quickstart", [], GENERAL,
         "documentation task (keyword 'README')"),
        ("TaskList component calling the tasks API", ["frontend/src/components/TaskList.tsx"],
         GENERAL, "frontend task (frontend/src/components/TaskList.tsx)"),
        ("Board page for the API", ["web/src/Board.vue"], GENERAL,
         "frontend task (web/src/Board.vue)"),
        ("Style the board with Tailwind and call the endpoint", [], GENERAL,
         "frontend task (keyword 'Tailwind')"),
        ("Implement the handler", ["internal/api/tasks.go"], GENERAL,
         "not Python code (internal/api/tasks.go)"),
        ("Configure the Spring Boot database connection", [], GENERAL,
         "not Python (keyword 'Spring Boot')"),
        ("Tidy up naming", [], GENERAL, "default agent"),
    ],
)  # fmt: skip
def test_routing_table(
    agents: AgentSet, description: str, files: list[str], agent: str, reason: str
) -> None:
    got = route(task(description, *files), agents)
    assert (got.agent, got.reason) == (agent, reason)


def test_config_rules_come_first_in_order(agents: AgentSet) -> None:
    rules = [
        RouteRule("frontend-dev", glob="frontend/**"),
        RouteRule("docs-writer", keyword="changelog"),
        RouteRule(BACKEND, keyword="changelog"),
        RouteRule("docs-writer", glob="src/api/*"),
    ]
    got = route(task("Wire the App", "frontend/src/App.tsx"), agents, rules)
    assert (got.agent, got.reason) == (
        "frontend-dev",
        "config route: glob 'frontend/**' matched frontend/src/App.tsx",
    )
    got = route(task("Update the CHANGELOG for the endpoint"), agents, rules)
    assert (got.agent, got.reason) == ("docs-writer", "config route: keyword 'changelog'")
    got = route(task("Add routes", "src/api/routes.py"), agents, rules)  # a rule beats a signal
    assert got.agent == "docs-writer"
    got = route(task("Changelogs everywhere", "src/api/v2/routes.py"), agents, rules)
    assert (got.agent, got.reason) == (BACKEND, "backend path src/api/v2/routes.py")


def test_default_agent_and_missing_backend_agent(agents: AgentSet, tmp_path: Path) -> None:
    got = route(task("Tidy up"), agents, default="docs-writer")
    assert (got.agent, got.reason) == ("docs-writer", "default agent")
    only = load_agents(
        [("repo agents/", write(tmp_path / "g.md", agent_file("generalist")).parent)]
    )
    got = route(task("Implement POST /tasks endpoint"), only)
    assert (got.agent, got.reason) == (GENERAL, "default agent")
    got = route(task("Write documentation"), only)
    assert (got.agent, got.reason) == (GENERAL, "documentation task (keyword 'documentation')")


def test_rules_naming_unknown_agents_are_input_errors(agents: AgentSet) -> None:
    rules = [RouteRule("frontend-dev", glob="web/**"), RouteRule("ghost", keyword="x")]
    with pytest.raises(InputError, match=r"route rule \(keyword 'x'\) names agent 'ghost'"):
        validate_rules(rules, agents)
    with pytest.raises(InputError, match="'ghost'"):
        route(task("unrelated", "web/a.ts"), agents, rules)  # even when an earlier rule matches
    with pytest.raises(InputError, match="default agent 'nobody' is not defined"):
        route(task("x"), agents, default="nobody")
    with pytest.raises(InputError, match="exactly one of glob or keyword"):
        RouteRule("generalist")
    with pytest.raises(InputError, match="exactly one of glob or keyword"):
        RouteRule("generalist", glob="*", keyword="x")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("frontend/**", "frontend/src/App.tsx", True),
        ("frontend/**", "backend/frontend.py", False),
        ("**/*.py", "a.py", True),
        ("**/*.py", "a/b/c.py", True),
        ("src/**/test_*.py", "src/test_a.py", True),
        ("src/**/test_*.py", "src/x/y/test_a.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("*.tsx", "web/src/App.tsx", True),
        ("src/api/*", "src/api/routes.py", True),
        ("tests/test_?.py", "tests/test_a.py", True),
        ("src/[ab].py", "src/c.py", False),
        ("src/[!ab].py", "src/c.py", True),
        ("./src/**", "src/x.py", True),
        ("src/api", "src/api/", True),
        ("Src/**", "src/x.py", False),
    ],
)
def test_glob_match(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches
