"""Agent definitions (Claude Code subagent format) and the routing of tasks to them.

A definition is a Markdown file: YAML front matter (`name`, `description`; optional `tools`,
`model`, `color`) and a body that is the agent's system prompt. Three sources, later ones
overriding earlier ones by name: sdd's built-in agents, the repository's `agents/`, and its
`.claude/agents/`, so subagents written for Claude Code work unchanged (tools only Claude Code
has are ignored with a note).

Routing is pure: config rules first, then backend signals for `fastapi-backend-dev`, then the
default agent. Documentation and frontend tasks never go to the backend specialist, whatever
words they use, nor does code in another language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

import yaml

from orchestrator.errors import InputError
from orchestrator.schedule import normalize_path
from orchestrator.tasks import Task

SDD_TOOLS = ("Read", "Write", "Edit", "Glob", "Grep", "Bash")
# fmt: off
CLAUDE_ONLY_TOOLS = frozenset({
    "MultiEdit", "LS", "NotebookEdit", "NotebookRead", "WebFetch", "WebSearch", "TodoWrite",
    "TodoRead", "Task", "Agent", "BashOutput", "KillShell", "KillBash", "SlashCommand", "Skill",
    "ExitPlanMode", "AskUserQuestion", "ListMcpResourcesTool", "ReadMcpResourceTool",
})
# fmt: on
BACKEND_AGENT = "fastapi-backend-dev"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOOL_RULE = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class AgentDef:
    """One agent. `tools` None means every sdd tool; `bash_rules` empty means any command."""

    name: str
    description: str
    tools: tuple[str, ...] | None
    bash_rules: tuple[str, ...]  # `Bash(pytest:*)` entries as written: the only commands allowed
    model: str | None  # None = inherit the run's model
    color: str | None
    body: str
    path: Path
    source: str  # "built-in", "repo agents/", ".claude/agents/"


@dataclass(slots=True)
class AgentSet:
    agents: dict[str, AgentDef]
    notes: list[str] = field(default_factory=list)  # overrides and ignored tools, for `sdd agents`


def builtin_agents_dir() -> Path:
    """The shipped definitions: inside the installed package, else the source tree's agents/."""
    installed = resources.files("orchestrator") / "builtin_agents"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[1] / "agents"


def agent_dirs(repo_root: Path) -> list[tuple[str, Path]]:
    return [
        ("built-in", builtin_agents_dir()),
        ("repo agents/", repo_root / "agents"),
        (".claude/agents/", repo_root / ".claude" / "agents"),
    ]


def load_agents(dirs: Sequence[tuple[str, Path]]) -> AgentSet:
    """Every `*.md` of each source in sorted order; a later definition of a name wins."""
    found = AgentSet({})
    seen: set[Path] = set()
    for source, folder in dirs:
        if not folder.is_dir() or folder.resolve() in seen:
            continue  # e.g. sdd's own checkout, whose agents/ is also the built-in folder
        seen.add(folder.resolve())
        here: dict[str, AgentDef] = {}
        for path in sorted(folder.glob("*.md")):
            if path.name.lower() == "readme.md":
                found.notes.append(f"{path}: skipped, a README is not an agent definition")
                continue
            agent = load_agent(path, source, found.notes)
            if agent.name in here:
                found.notes.append(
                    f"{agent.name}: {path.name} wins over {here[agent.name].path.name} in "
                    f"{source} (same name twice; the later file in sorted order wins)"
                )
            elif agent.name in found.agents:
                old = found.agents[agent.name]
                found.notes.append(
                    f"{agent.name} from {source} {path} overrides {old.source} {old.path}"
                )
            here[agent.name] = agent
        found.agents.update(here)
    return found


def load_agent(path: Path, source: str, notes: list[str]) -> AgentDef:
    """Parse one definition; what sdd ignores in it is appended to `notes`."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise _bad(path, line, "not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise _bad(path, 1, "no front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise _bad(path, 1, "the front matter has no closing '---' line")
    meta = _front_matter(lines[1:end], path, notes)
    if not isinstance(meta, dict):
        raise _bad(path, 2, "the front matter must be a mapping (name: …, description: …)")

    def at(key: str) -> int:
        pattern = re.compile(rf"^{key}\s*:")
        return next((i + 1 for i in range(1, end) if pattern.match(lines[i])), 1)

    name = meta.get("name")
    if name is None:
        raise _bad(path, 1, "missing 'name' in the front matter")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _bad(path, at("name"), f"name {name!r} must be lowercase letters, digits, hyphens")
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _bad(path, at("description"), "missing 'description' in the front matter")
    for key in ("model", "color"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise _bad(path, at(key), f"'{key}' must be a string")
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise _bad(path, end + 1, "no system prompt below the front matter")
    tools, rules = _tools(meta.get("tools"), path, at("tools"), notes)
    model = None if meta.get("model") in (None, "", "inherit") else meta["model"]
    color = meta.get("color") or None
    return AgentDef(name, description.strip(), tools, rules, model, color, body, path, source)


def _front_matter(lines: list[str], path: Path, notes: list[str]) -> object:
    """YAML, except an unquoted description holding `: `, which Claude Code reads as text."""
    try:
        return yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as e:
        error = e
    start = next((i for i, line in enumerate(lines) if line.startswith("description:")), -1)
    if start < 0:
        raise _yaml_error(path, error)
    stop = start + 1
    while stop < len(lines) and (not lines[stop].strip() or lines[stop][0] in " \t"):
        stop += 1
    text = " ".join(line.strip() for line in lines[start:stop])[len("description:") :].strip()
    try:  # blank lines in its place keep the line numbers of any other error
        meta = yaml.safe_load("\n".join(lines[:start] + [""] * (stop - start) + lines[stop:]))
    except yaml.YAMLError as e:
        raise _yaml_error(path, e) from None
    if not isinstance(meta, dict | None):
        return meta
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    notes.append(f"{path}:{start + 2}: description is not valid YAML; read as plain text")
    return {**(meta or {}), "description": text}


def _yaml_error(path: Path, e: yaml.YAMLError) -> InputError:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or type(e).__name__
    return _bad(path, mark.line + 2 if mark else 1, f"invalid YAML: {problem}")


def _tools(
    value: object, path: Path, line: int, notes: list[str]
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    if value is None or value == "":
        return None, ()
    if isinstance(value, str):
        entries = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        entries = value
    else:
        raise _bad(path, line, "'tools' must be a comma-separated string or a list of names")
    tools: dict[str, None] = {}
    rules: dict[str, None] = {}
    ignored: list[str] = []
    for entry in (e.strip() for e in entries):
        rule = _TOOL_RULE.match(entry)
        tool = rule.group(1) if rule else entry
        if tool in SDD_TOOLS:
            tools[tool] = None
            if tool == "Bash":  # plain Bash allows every command, whatever rules say
                rules[entry if rule and rule.group(2).strip() not in ("", "*") else "*"] = None
            elif rule:
                ignored.append(entry)  # a path rule on Read/Edit/…: the tool stays, unrestricted
        elif tool in CLAUDE_ONLY_TOOLS or tool.startswith("mcp__"):
            ignored.append(entry)
        elif tool:
            raise _bad(path, line, f"unknown tool '{entry}' (sdd has {', '.join(SDD_TOOLS)})")
    if ignored:
        notes.append(f"{path}: ignores {', '.join(ignored)} (sdd has {', '.join(SDD_TOOLS)})")
    if "*" in rules:
        return tuple(tools), ()
    from orchestrator.bashtool import Rule

    for text in rules:
        try:
            Rule.parse(text)
        except InputError as e:
            raise _bad(path, line, str(e)) from None
    return tuple(tools), tuple(rules)


def _bad(path: Path, line: int, message: str) -> InputError:
    return InputError(f"{path}:{line}: {message}")


# --- routing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteRule:
    """A config route: a glob on the task's files or a keyword in its description."""

    agent: str
    glob: str | None = None
    keyword: str | None = None

    def __post_init__(self) -> None:
        if (self.glob is None) == (self.keyword is None):
            raise InputError(f"route to '{self.agent}' needs exactly one of glob or keyword")


@dataclass(frozen=True, slots=True)
class Route:
    agent: str
    reason: str


def validate_rules(rules: Sequence[RouteRule], agents: AgentSet) -> None:
    for rule in rules:
        if rule.agent not in agents.agents:
            what = f"glob '{rule.glob}'" if rule.glob is not None else f"keyword '{rule.keyword}'"
            raise InputError(
                f"route rule ({what}) names agent '{rule.agent}', which is not defined "
                f"(agents: {', '.join(sorted(agents.agents))})"
            )


def route(
    task: Task, agents: AgentSet, rules: Sequence[RouteRule] = (), default: str = "generalist"
) -> Route:
    """Exactly one agent for the task, and why."""
    validate_rules(rules, agents)
    if default not in agents.agents:
        known = ", ".join(sorted(agents.agents))
        raise InputError(f"default agent '{default}' is not defined (agents: {known})")
    files = [normalize_path(f) for f in task.files if f.strip()]
    for rule in rules:
        if rule.glob is not None:
            hit = next((f for f in files if glob_match(rule.glob, f)), None)
            if hit:
                return Route(rule.agent, f"config route: glob '{rule.glob}' matched {hit}")
        elif _word(rule.keyword or "").search(task.description):
            return Route(rule.agent, f"config route: keyword '{rule.keyword}'")
    kind, reason = classify(task.description, files)
    if kind == "backend" and BACKEND_AGENT in agents.agents:
        return Route(BACKEND_AGENT, reason)
    return Route(default, reason if kind in ("docs", "frontend", "other") else "default agent")


_DOC_EXTS = {".md", ".rst", ".txt", ".adoc"}
_FRONTEND_EXTS = {".tsx", ".jsx", ".vue", ".svelte", ".css", ".scss", ".sass", ".less", ".html"}
_FRONTEND_DIRS = {"frontend", "components"}
_PYTHONISH_EXTS = {"", ".py", ".pyi", ".sql", ".ini", ".mako"}
# fmt: off
_OTHER_CODE_EXTS = {
    ".go", ".rs", ".java", ".kt", ".kts", ".scala", ".ts", ".mts", ".js", ".mjs", ".cjs", ".cs",
    ".rb", ".php", ".swift", ".c", ".cc", ".cpp", ".h", ".hpp", ".dart", ".ex", ".exs", ".gradle",
}
_BACKEND_TOKENS = {
    "api", "apis", "routers", "routes", "endpoints", "models", "schemas", "services", "db",
    "database", "migrations", "alembic", "repositories", "crud", "middleware", "auth",
    "authentication", "authorization", "oauth", "oauth2", "jwt", "router", "route", "endpoint",
    "service", "migration", "repository",
}
# fmt: on
_TOKEN_SPLIT = re.compile(r"[_\-.]")
_DOC_WORDS = re.compile(r"(?<![/\w])(readme|documentation|docs|changelog|docstrings?)\b", re.I)
_FRONTEND_WORDS = re.compile(
    r"\b(react|vue(?:\.js)?|svelte|angular|tailwind(?:css)?|next\.js|nextjs|tsx|jsx|css)\b",
    re.IGNORECASE,
)
_BACKEND_WORDS = re.compile(
    r"\b(endpoints?|fastapi|pydantic|sqlalchemy|sqlmodel|alembic|asyncpg|jwt|oauth2?|"
    r"migrations?|middleware|orm|crud|database|(?:api)?routers?)\b",
    re.IGNORECASE,
)
# "repository" as the data-access pattern (TaskRepository, repository layer), not the git repo.
_REPOSITORY = re.compile(
    r"\b(?:[A-Z][A-Za-z]*Repository|[Rr]epository (?:pattern|layer|class|interface)s?)\b"
)
# Another stack's words: a FastAPI specialist is the wrong hand for a Spring or Node task.
_OTHER_STACK_WORDS = re.compile(
    r"\b(spring(?: boot)?|gradle|maven|flyway|jdbc|java|kotlin|npm|node\.js|express|cargo|rust|"
    r"golang|go module)\b",
    re.IGNORECASE,
)


def classify(description: str, files: Sequence[str]) -> tuple[str, str]:
    """(kind, reason): kind is docs, frontend, other (non-Python code), backend or none."""
    parts = [(f, PurePosixPath(f)) for f in files]
    is_doc = [_is_doc(p) for _, p in parts]
    if parts and all(is_doc):
        return "docs", f"documentation task ({files[0]})"
    for f, p in parts:
        if p.suffix in _FRONTEND_EXTS or _FRONTEND_DIRS & set(p.parts):
            return "frontend", f"frontend task ({f})"
    code = [(f, p) for (f, p), doc in zip(parts, is_doc, strict=True) if not doc]
    python = any(p.suffix in (".py", ".pyi") for _, p in code)
    other = [f for f, p in code if p.suffix in _OTHER_CODE_EXTS]
    if other and not python:
        return "other", f"not Python code ({other[0]})"
    if not python and (m := _OTHER_STACK_WORDS.search(description)):
        return "other", f"not Python (keyword '{m.group(0)}')"
    for f, p in code:
        if p.suffix in _PYTHONISH_EXTS:
            tokens = {t for part in (*p.parent.parts, p.stem) for t in _TOKEN_SPLIT.split(part)}
            if tokens & _BACKEND_TOKENS:
                return "backend", f"backend path {f}"
    if not code and (m := _DOC_WORDS.search(description)):
        return "docs", f"documentation task (keyword '{m.group(0)}')"
    if not python and (m := _FRONTEND_WORDS.search(description)):
        return "frontend", f"frontend task (keyword '{m.group(0)}')"
    if m := _BACKEND_WORDS.search(description) or _REPOSITORY.search(description):
        return "backend", f"backend keyword '{m.group(0)}'"
    return "none", "default agent"


def _is_doc(p: PurePosixPath) -> bool:
    if p.suffix in _DOC_EXTS and not p.name.startswith(("requirements", "constraints")):
        return True
    if p.stem.upper() in ("README", "CHANGELOG", "CONTRIBUTING", "LICENSE"):
        return True
    return "docs" in p.parts[:-1] or str(p) in ("docs", "docs/")


def glob_match(pattern: str, path: str) -> bool:
    """fnmatch with `**` across directories; a pattern without `/` matches the file name."""
    if "/" not in pattern.rstrip("/"):
        path = path.rstrip("/").rsplit("/", 1)[-1]
    return _glob_regex(normalize_path(pattern)).match(path) is not None


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        c = pattern[i]
        close = pattern.find("]", i + 2) if c == "[" else -1
        if close > 0:
            cls = pattern[i + 1 : close]
            out.append("[" + ("^" + cls[1:] if cls.startswith("!") else cls) + "]")
            i = close + 1
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out) + r"/?\Z")


@functools.lru_cache(maxsize=256)
def _word(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)", re.IGNORECASE)
