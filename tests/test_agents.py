"""Agent definition files (real files in tmp dirs), the three sources, and the glob dialect of
routes and hints; routing itself is tests/test_routing.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.agent.tools.bash_rules import Rule
from orchestrator.errors import InputError
from orchestrator.globs import glob_match
from orchestrator.plan.agents import (
    SDD_TOOLS,
    agent_dirs,
    builtin_agents_dir,
    load_agent,
    load_agents,
)


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


def test_sdd_hints_are_read_and_claude_code_fields_kept(tmp_path: Path) -> None:
    hinted, notes = load_one(
        write(
            tmp_path / "web.md",
            agent_file(
                "web", extra="sdd:\n  paths: ['web/**', 'ui/*.tsx']\n  stacks: [react, vite]"
            ),
        )
    )
    assert hinted.hints.paths == ("web/**", "ui/*.tsx")
    assert hinted.hints.stacks == ("react", "vite")
    assert notes == []
    single, _ = load_one(write(tmp_path / "one.md", agent_file("one", extra="sdd: {paths: a/**}")))
    assert (single.hints.paths, single.hints.stacks) == (("a/**",), ())
    plain, _ = load_one(write(tmp_path / "plain.md", agent_file("plain")))
    assert (plain.hints.paths, plain.hints.stacks) == ((), ())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("sdd: [web/**]", "'sdd' must be a mapping: sdd: {paths: [...], stacks: [...]}"),
        ("sdd: {path: [web/**]}", "unknown key 'sdd.path' (sdd takes paths and stacks)"),
        ("sdd: {paths: [web/**, '']}", "'sdd.paths' must be a list of non-empty strings"),
        ("sdd: {stacks: {react: 1}}", "'sdd.stacks' must be a list of non-empty strings"),
    ],
)
def test_bad_sdd_hints_name_the_file_and_line(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path / "bad.md", agent_file("bad", extra=extra))
    with pytest.raises(InputError) as err:
        load_one(path)
    assert str(err.value) == f"{path}:4: {message}"


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


# --- globs (config routes and sdd.paths hints) --------------------------------------------


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
