"""The words routing understands: how text becomes terms, which terms belong to one kind of
work (a concept), which name a technology and its language, and what a file's name says.

General knowledge about software, never about a particular agent: an agent is matched through
its own description, and these tables only let "SQLModel entity" meet "SQLAlchemy models" or
"README.md" meet "documentation". Pure data and small pure functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# fmt: off
STOP = _set("""
a an and are as at be by can do each else every for from has have if in into is it its make
no not of on one only or other our so such than that the their them then there these this to
up use used uses using via when where which while who will with without you your all any both
new add added adds adding create created creates creating implement implemented implements
write writes written update updated updates ensure ensures run runs running verify verified
check checks make makes set sets also etc e g i ie eg per just like more most should must
task tasks general software engineer specialist specialists claim claims claimed use work
thing things change changes changed existing basic proper properly support supports
project projects language languages
""")

ALIASES = {
    "authentication": "auth", "authorization": "auth", "authenticate": "auth",
    "authenticated": "auth", "authorize": "auth", "authz": "auth", "authn": "auth",
    "oauth2": "oauth", "configuration": "config", "configure": "config",
    "configured": "config", "configuring": "config", "conf": "config", "cfg": "config",
    "settings": "setting", "testing": "test", "tested": "test",
    "documentation": "doc", "docs": "doc", "document": "doc", "documenting": "doc",
    "documented": "doc", "docstring": "doc", "styling": "style", "styled": "style",
    "routing": "route", "routes": "route", "routers": "router", "db": "database",
    "endpoints": "endpoint", "migrate": "migration", "migrations": "migration",
    "repositories": "repository", "repo": "repository", "postgresql": "postgres",
    "formatting": "format", "linting": "lint", "linter": "lint",
    "initialise": "init", "initialize": "init", "initialization": "init",
    "initialisation": "init", "installation": "install", "installing": "install",
    "dependencies": "dependency", "deps": "dependency", "dep": "dependency",
    "utilities": "util", "utils": "util", "golang": "go", "ts": "typescript",
    "js": "javascript", "py": "python", "tailwindcss": "tailwind", "pyjwt": "jwt",
    "virtualenv": "venv", "env": "environment", "dotenv": "environment",
    "accessible": "accessibility", "components": "component", "pages": "page",
    "hooks": "hook", "styles": "style",
    "schemas": "schema", "models": "model", "services": "service", "tests": "test",
}

CONCEPTS: dict[str, frozenset[str]] = {
    "web-api": _set("""
        api endpoint route router http rest request response middleware cors openapi swagger
        handler header lifespan startup shutdown server uvicorn health webhook fastapi
        starlette flask django backend pagination
    """),
    "data": _set("""
        database model schema orm migration alembic sqlalchemy sqlmodel session repository
        crud query table entity postgres asyncpg psycopg sqlite transaction pydantic
        validation persistence index seed
    """),
    "auth": _set("""
        auth jwt oauth token password login logout security permission role bearer
        credential hash
    """),
    "service": _set("service business domain"),
    "testing": _set("""
        test pytest fixture conftest contract integration unit coverage e2e mock vitest jest
        playwright tdd assertion
    """),
    "frontend": _set("""
        frontend ui component page layout css tailwind react vue svelte angular nextjs
        vite jsx tsx browser button form modal dialog theme responsive accessibility a11y
        zustand redux storybook html spa keyboard click drag drop hover tooltip toast spinner
    """),
    "docs": _set("doc readme changelog guide tutorial"),
    "tooling": _set("""
        tooling tool script ci workflow github lint ruff mypy pyright eslint prettier formatter
        precommit husky gitignore makefile docker dockerfile install venv uv npm pnpm yarn
        pip package dependency setup init scaffold directory folder structure benchmark
    """),
    "config": _set("config setting environment variable yaml toml"),
}

# A technology's language family and ecosystem. Families decide who may write which files;
# ecosystems whether an agent's stack is the feature's.
TECH: dict[str, tuple[str, str]] = {
    "python": ("python", ""), "fastapi": ("python", "python-web"),
    "starlette": ("python", "python-web"), "uvicorn": ("python", "python-web"),
    "pydantic": ("python", "python-web"), "sqlalchemy": ("python", "python-web"),
    "sqlmodel": ("python", "python-web"), "alembic": ("python", "python-web"),
    "asyncpg": ("python", "python-web"), "psycopg": ("python", "python-web"),
    "flask": ("python", "python-web"), "django": ("python", "python-web"),
    "celery": ("python", "python-web"), "gunicorn": ("python", "python-web"),
    "numpy": ("python", "python-science"), "pandas": ("python", "python-science"),
    "scipy": ("python", "python-science"), "matplotlib": ("python", "python-science"),
    "gymnasium": ("python", "python-science"), "pygame": ("python", "python-science"),
    "torch": ("python", "python-science"), "pytorch": ("python", "python-science"),
    "tensorflow": ("python", "python-science"), "jax": ("python", "python-science"),
    "sklearn": ("python", "python-science"), "moviepy": ("python", "python-science"),
    "jupyter": ("python", "python-science"),
    "typescript": ("js", ""), "javascript": ("js", ""), "react": ("js", "js-web"),
    "vue": ("js", "js-web"), "svelte": ("js", "js-web"), "angular": ("js", "js-web"),
    "nextjs": ("js", "js-web"), "vite": ("js", "js-web"), "tailwind": ("js", "js-web"),
    "zustand": ("js", "js-web"), "redux": ("js", "js-web"), "vitest": ("js", "js-web"),
    "jsx": ("js", "js-web"), "tsx": ("js", "js-web"), "css": ("js", "js-web"),
    "nodejs": ("js", "js-server"), "node": ("js", "js-server"),
    "express": ("js", "js-server"), "nestjs": ("js", "js-server"),
    "go": ("go", ""), "cobra": ("go", "go"), "gin": ("go", "go"),
    "rust": ("rust", ""), "cargo": ("rust", "rust"), "tokio": ("rust", "rust"),
    "clap": ("rust", "rust"), "reqwest": ("rust", "rust"), "ratatui": ("rust", "rust"),
    "serde": ("rust", "rust"), "axum": ("rust", "rust"),
    "java": ("jvm", ""), "kotlin": ("jvm", ""), "spring": ("jvm", "jvm"),
    "maven": ("jvm", "jvm"), "gradle": ("jvm", "jvm"), "junit": ("jvm", "jvm"),
    "flyway": ("jvm", "jvm"), "jdbc": ("jvm", "jvm"), "hibernate": ("jvm", "jvm"),
    "ruby": ("ruby", ""), "rails": ("ruby", "ruby"), "php": ("php", ""),
    "laravel": ("php", "php"), "csharp": ("dotnet", ""), "dotnet": ("dotnet", "dotnet"),
    "swift": ("swift", ""), "dart": ("dart", ""), "flutter": ("dart", "dart"),
    "elixir": ("elixir", ""), "phoenix": ("elixir", "elixir"),
}
# Words that are also plain English: a technology only where a stack is described.
STACK_ONLY = frozenset({"go", "node", "express", "spring", "rust"})

EXT_FAMILY = {
    ".py": "python", ".pyi": "python", ".ts": "js", ".tsx": "js", ".js": "js", ".jsx": "js",
    ".mjs": "js", ".cjs": "js", ".mts": "js", ".vue": "js", ".svelte": "js", ".css": "js",
    ".scss": "js", ".sass": "js", ".less": "js", ".html": "js", ".go": "go", ".rs": "rust",
    ".java": "jvm", ".kt": "jvm", ".kts": "jvm", ".scala": "jvm", ".gradle": "jvm",
    ".rb": "ruby", ".php": "php", ".cs": "dotnet", ".swift": "swift", ".dart": "dart",
    ".ex": "elixir", ".exs": "elixir", ".c": "c", ".cc": "c", ".cpp": "c", ".h": "c",
    ".hpp": "c",
}
EXT_CONCEPT = {
    ".md": "docs", ".rst": "docs", ".adoc": "docs", ".tsx": "frontend", ".jsx": "frontend",
    ".vue": "frontend", ".svelte": "frontend", ".css": "frontend", ".scss": "frontend",
    ".sass": "frontend", ".less": "frontend", ".html": "frontend", ".sql": "data",
    ".mako": "data",
}
NAME_CONCEPT = {
    "readme": "docs", "changelog": "docs", "contributing": "docs", "license": "docs",
    ".gitignore": "tooling", ".pre-commit-config.yaml": "tooling", "makefile": "tooling",
    "dockerfile": "tooling", "pyproject.toml": "tooling", "package.json": "tooling",
    "requirements.txt": "tooling", "go.mod": "tooling", "cargo.toml": "tooling",
    ".editorconfig": "tooling", "tsconfig.json": "tooling", "conftest.py": "testing",
    "alembic.ini": "data",
}
DOC_DIRS = frozenset({"docs", "doc"})
# Dependency manifests: tool files, but what they declare is the application's own stack.
MANIFESTS = frozenset(
    {"pyproject.toml", "package.json", "requirements.txt", "go.mod", "cargo.toml"}
)
# Words that make the project's tools, not its code, the product: a lint run, a hook, a CI job.
TOOLING_PRODUCT = _set("""
    lint ruff mypy pyright eslint prettier formatter precommit husky gitignore ci workflow
    makefile dockerfile benchmark venv
""")
# Structure words that say where a file sits, not what it is about.
PATH_NOISE = frozenset({"src", "app", "lib", "internal", "pkg", "cmd", "main", "index", "init"})
# fmt: on

# One pass over the text: a compound (Next.js, pre-commit, a URL path) or a word.
_TOKEN = re.compile(
    r"(next\.js|node\.js|vue\.js|nest\.js|pre-commit|e2e|a11y"
    r"|\b(?:GET|POST|PUT|PATCH|DELETE)\s+/\S*|(?<![\w.~/])/[a-z][\w/{}.-]*)"
    r"|([A-Za-z][A-Za-z0-9]*)",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_COMPOUNDS = {
    "next.js": "nextjs",
    "node.js": "nodejs",
    "vue.js": "vue",
    "nest.js": "nestjs",
    "pre-commit": "precommit",
    "e2e": "e2e",
    "a11y": "a11y",
}


@functools.lru_cache(maxsize=8192)
def norm(word: str) -> str:
    """One word as a term: lowercase, an alias's canonical form, a plural made singular."""
    w = word.lower()
    if w in ALIASES:
        return ALIASES[w]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "os")):
        w = w[:-1]
    return ALIASES.get(w, w)


@functools.lru_cache(maxsize=16384)
def _word_terms(word: str) -> tuple[str, ...]:
    """`FastAPI` -> fastapi (a known name stays whole); `TaskService` -> task, service."""
    parts = [word] if word.islower() or word.isupper() else _CAMEL.findall(word)
    if len(parts) > 1 and norm(word) in TECH:
        return (norm(word),)
    out = []
    for part in parts:
        t = norm(part)
        if len(t) > 1 and t not in STOP and not t.isdigit():
            out.append(t)
    return tuple(out)


@functools.lru_cache(maxsize=16384)
def _word_parts(word: str) -> tuple[str, ...]:
    parts = [word] if word.islower() or word.isupper() else _CAMEL.findall(word)
    return tuple(norm(p) for p in parts if not p.isdigit())


def name_words(text: str) -> list[str]:
    """Every word of a name, stop words kept: `TaskService.update_task` gives task, service,
    update, task, as does `task_service.py`'s stem with update_task; for matching names."""
    return [w for word in _NAME_WORD.findall(text) for w in _word_parts(word)]


def terms(text: str) -> list[str]:
    """The meaningful terms of free text, in order: `TaskService.update_task` gives task,
    service, update; `Next.js` gives nextjs; `POST /tasks` and `/docs` (a URL path, not a
    file) give endpoint."""
    out: list[str] = []
    for compound, word in _TOKEN.findall(text):
        if compound:
            out.append(_COMPOUNDS.get(compound.lower(), "endpoint"))
        else:
            out += _word_terms(word)
    return out


@functools.lru_cache(maxsize=4096)
def concepts_of(term: str) -> tuple[str, ...]:
    return tuple(c for c, members in CONCEPTS.items() if term in members)


def families(words: Iterable[str]) -> set[str]:
    """The language families named among technology terms."""
    return {TECH[w][0] for w in words if w in TECH}


def ecosystems(words: Iterable[str]) -> set[str]:
    return {TECH[w][1] for w in words if w in TECH and TECH[w][1]}


@functools.lru_cache(maxsize=16384)
def file_facts(path: str) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """(language family, concept, path terms, name terms) of one task file; "" or () where
    none applies.

    The path terms come from its directories and name (`src/api/routes.py`: api, route); a
    documentation file's directories say what it documents, not what it is, so it has none.
    The name words are its name's alone, stop words kept (`TaskCard.tsx`: task, card).
    """
    clean = path.rstrip("/")
    name = clean.rsplit("/", 1)[-1]
    dirs = clean.split("/")[:-1]
    stem, dot, ext = name.rpartition(".")
    ext = "." + ext.lower() if dot and stem else ""
    if not ext:
        stem = name
    lower = name.lower()
    family = EXT_FAMILY.get(ext, "")
    concept = NAME_CONCEPT.get(lower) or NAME_CONCEPT.get(stem.lower(), "")
    concept = concept or EXT_CONCEPT.get(ext, "")
    if not concept and any(d.lower() in DOC_DIRS for d in dirs):
        concept = "docs"
    named = tuple(name_words(stem.replace("_", " ").replace("-", " ")))
    if concept == "docs":
        return family, concept, (), named
    found = [t for d in [*dirs, stem] for t in terms(d.replace("_", " ").replace("-", " "))]
    return family, concept, tuple(dict.fromkeys(t for t in found if t not in PATH_NOISE)), named
