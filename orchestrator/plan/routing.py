"""Which agent takes a task, and why. Pure: a task, the agents and the config rules in.

Config rules first, then backend signals for `fastapi-backend-dev`, then the default agent.
Documentation and frontend tasks never go to the backend specialist, whatever words they use,
nor does code in another language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from orchestrator.errors import InputError
from orchestrator.globs import glob_match
from orchestrator.plan.graph import normalize_path

if TYPE_CHECKING:
    from orchestrator.config.model import Config
    from orchestrator.plan.agents import AgentSet
    from orchestrator.speckit.tasks import Task

BACKEND_AGENT = "fastapi-backend-dev"


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


def rules_from(config: Config) -> list[RouteRule]:
    """The config's `routes:` as rules, in order."""
    return [RouteRule(r.agent, glob=r.glob, keyword=r.keyword) for r in config.routes]


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
            hit = next((f for f in files if glob_match(normalize_path(rule.glob), f)), None)
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


@functools.lru_cache(maxsize=256)
def _word(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(keyword)}(?!\w)", re.IGNORECASE)
