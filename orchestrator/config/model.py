"""The schema of `.specify/sdd.yaml`: a repository's standing choices for `sdd run`.

Every key has a default, so the file only holds what a project changes. The field docstrings
are the documentation: `reference.config_reference()` turns them into the README's table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.store.url import url_problem

CONFIG_PATH = ".specify/sdd.yaml"
_BASH_RULE = re.compile(r"Bash\((.+)\)")


class _Section(BaseModel):
    # strict: YAML already gives numbers and booleans their types, so `jobs: true` or
    # `commit_hooks: 1` is a mistake to report, not a value to coerce
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, strict=True)


class RouteConfig(_Section):
    agent: str = Field(min_length=1)
    """The agent (by name) that takes the tasks this route matches."""
    glob: str | None = None
    """Match tasks that name a file matching this glob, e.g. `app/api/**`."""
    keyword: str | None = None
    """Match tasks whose description contains this word (case-insensitive)."""

    @model_validator(mode="after")
    def _one_matcher(self) -> RouteConfig:
        if (self.glob is None) == (self.keyword is None):
            raise ValueError("a route needs exactly one of `glob` or `keyword`")
        return self


class Limits(_Section):
    attempts: int = Field(3, ge=1)
    """Attempts per task; verification output goes back to the agent between them."""
    turns: int = Field(40, ge=1)
    """Model turns per attempt."""
    output_tokens: int = Field(64000, ge=1)
    """Output tokens per attempt, across its turns."""
    max_tokens: int = Field(16000, ge=1)
    """`max_tokens` of each model call."""
    bash_timeout: float = Field(300, gt=0)
    """Seconds one Bash tool call may run."""
    verify_timeout: float = Field(900, gt=0)
    """Seconds each verification command may run."""


class BashRules(_Section):
    allow: list[str] = []
    """Commands the agents' Bash tool may run: `Bash(pytest:*)` or a bare prefix (`pytest`)."""
    deny: list[str] = []
    """Commands it may never run, in the same form; deny wins over allow."""
    sandbox: Literal["none", "bwrap"] = "none"
    """`bwrap` runs each Bash command in bubblewrap: writes only to the work tree, `$HOME` and
    other processes hidden (needs the `bwrap` program)."""

    @field_validator("allow", "deny")
    @classmethod
    def _rule_form(cls, rules: list[str]) -> list[str]:
        for rule in rules:
            if not rule.strip():
                raise ValueError("a Bash rule cannot be empty")
            if "(" in rule and not _BASH_RULE.fullmatch(rule.strip()):
                raise ValueError(f"`{rule}` is neither `Bash(prefix:*)` nor a bare prefix")
        return rules


class VerifySets(_Section):
    """`verify:` as two sets: fast checks after each task, the full suite at phase ends."""

    task: list[str]
    """With `verify.phase`: run after each task instead of the whole suite (a unit subset,
    lint); a task lands when these pass."""
    phase: list[str]
    """The full suite, run when a phase's last task has landed (so before the next phase and
    before the run finishes), against the same commands at the phase's start; a new failure
    pauses the run naming the task whose commit broke it."""


class Budget(_Section):
    run_tokens: int | None = Field(None, ge=1)
    """Pause the run once it has used this many tokens (input + output)."""
    task_tokens: int | None = Field(None, ge=1)
    """Stop a task's attempts once it has used this many tokens."""
    run_cost: float | None = Field(None, gt=0)
    """Pause the run once its estimated cost reaches this many USD."""
    task_cost: float | None = Field(None, gt=0)
    """Stop a task's attempts once its estimated cost reaches this many USD."""


class Api(_Section):
    timeout: float = Field(600, gt=0)
    """Seconds one API request may take before the SDK gives up on it (and retries)."""
    max_retries: int = Field(2, ge=0)
    """Retries the SDK makes on 429/5xx/529, timeouts and dropped connections; after them
    the run pauses, resumable."""


class ClaudeCode(_Section):
    settings: Literal["none", "project", "user"] = "none"
    """Claude Code settings files a session loads: `none`, `project` (the repository's
    `.claude/settings*.json` and CLAUDE.md) or `user` (those and `~/.claude/`)."""
    cli: str | None = None
    """A Claude Code executable to run instead of the one the Agent SDK bundles."""


class Price(_Section):
    model_config = ConfigDict(frozen=True)

    input: float = Field(ge=0)
    """USD per million input tokens."""
    output: float = Field(ge=0)
    """USD per million output tokens."""
    cache_write: float | None = Field(None, ge=0)
    """USD per million tokens written to the prompt cache (default 1.25 × input)."""
    cache_write_1h: float | None = Field(None, ge=0)
    """USD per million tokens written to the 1-hour prompt cache (default 2 × input)."""
    cache_read: float | None = Field(None, ge=0)
    """USD per million tokens read from the prompt cache (default 0.1 × input)."""

    @model_validator(mode="before")
    @classmethod
    def _cache_rates(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("input"), int | float):
            rate = float(data["input"])
            data = {
                "cache_write": rate * 1.25,
                "cache_write_1h": rate * 2,
                "cache_read": rate / 10,
            } | data
        return data


DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-5-5": Price(input=4.0, output=20.0),
    "claude-sonnet-5-5": Price(input=2.0, output=10.0),
    "claude-haiku-5-5": Price(input=0.10, output=0.50),
}


class Config(_Section):
    model: str = Field("claude-sonnet-5-5", min_length=1)
    """A model id, an alias (`sonnet`, `opus`, `haiku`) or `scripted:PATH` (from the repo root)."""
    default_agent: str = Field("generalist", min_length=1)
    """The agent that wins ties and takes tasks nothing points elsewhere."""
    verify: list[str] | VerifySets | None = None
    """Shell commands run from the repo root after each task; null = chosen from the
    repository (`sdd plan` says which and why: uv, poetry, pdm, hatch, .venv, go, cargo, a
    package manager's test script); `[]` turns verification off. Changed Python files are
    always compiled. A mapping of two lists is the fast path (see `verify.task`, `verify.phase`)."""
    protect_tests: bool = True
    """Refuse a task's edits to (or deletion of) test files that existed before it, unless
    the task names them: the agent is told to change the code, not the test."""
    routes: list[RouteConfig] = []
    """Routing rules tried in order before any scoring; the first match decides."""
    routing: Literal["rules", "model"] = "rules"
    """`rules`: each task goes to the agent whose description, stack and files fit it best;
    `model`: a small model then settles the close and unclaimed calls, once per feature,
    answers kept in `.sdd/routing/` (needs an API key)."""
    routing_model: str = Field("haiku", min_length=1)
    """The model `routing: model` asks: an id, an alias (`haiku`, `sonnet`, `opus`) or
    `inherit` (the run's `model`)."""
    limits: Limits = Field(default_factory=Limits)
    """How long one task may go on."""
    bash: BashRules = Field(default_factory=BashRules)
    """Project-wide Bash rules, added to each agent's own."""
    commit_hooks: bool = False
    """Run the repository's git hooks when committing (and pushing) a task; off, sdd's git
    runs no hook at all."""
    approve: Literal["never", "each"] = "never"
    """`each` pauses before every commit for `sdd resume --approve/--reject`."""
    budget: Budget = Field(default_factory=Budget)
    """Token and cost ceilings; null = no ceiling."""
    prices: dict[str, Price] = {}
    """Prices by model id, over the built-in ones, for cost estimates."""
    jobs: int = Field(1, ge=1)
    """Tasks of a wave that work at once, each in its own git worktree (`--jobs`)."""
    reverify: Literal["always", "auto"] = "always"
    """Verified changes of a wave waiting to land are verified again as the trees they make
    together (head+A, head+A+B, ..., at once). `auto` skips that for a change whose files no
    change landed since its start touches, when neither side touches tests or project config:
    faster, but a combination (A renames what B calls) is then first verified at its phase's
    end. `always` verifies every landed tree."""
    cache_ttl: Literal["5m", "1h"] = "5m"
    """How long the feature's documents and each agent's prompt stay in the prompt cache.
    `1h` writes them at 2 × the input price instead of 1.25 ×, once; it pays when a prefix
    would otherwise expire more than 0.65 times per write: verifications (or approval
    waits) longer than about five minutes. The conversation's own breakpoints stay at 5m.
    With `engine: claude-code`, `1h` sets Claude Code's ENABLE_PROMPT_CACHING_1H."""
    worktree_links: list[str] = [".venv", "venv", "node_modules"]
    """Ignored folders of the project that a wave's worktrees link to, so verification finds
    its dependencies there."""
    allow_env_files: bool = False
    """Let agents read and write `.env` files."""
    stream: bool = True
    """Stream model responses (recommended; an in-stream overload then pauses the run instead
    of hanging)."""
    api: Api = Field(default_factory=Api)
    """The Anthropic API client."""
    engine: Literal["anthropic", "claude-code"] = "anthropic"
    """Who edits: sdd's own tool loop over the Messages API, or a Claude Code session per
    attempt (`claude-code`, the `claude-code` extra); `--engine` overrides it."""
    claude_code: ClaudeCode = Field(default_factory=ClaudeCode)
    """The `claude-code` engine."""
    store: str | None = None
    """Where records and checkpoints live: `sqlite:///PATH` (null = `.sdd/state.sqlite`) or
    `postgresql://USER:PASSWORD@HOST/DB`, shared between machines; `SDD_STORE` and `--store`
    override it."""
    push: str | None = None
    """A git remote each landed commit is pushed to as it lands (as `--push REMOTE`)."""

    @field_validator("limits", "bash", "budget", "api", "claude_code", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        """`limits:` with every sub-key commented out is YAML null: keep the defaults."""
        return {} if value is None else value

    @field_validator("worktree_links")
    @classmethod
    def _inside(cls, names: list[str]) -> list[str]:
        for name in names:
            parts = Path(name).parts
            if not name.strip() or Path(name).is_absolute() or ".." in parts:
                raise ValueError(f"{name!r} must be a path inside the project")
        return names

    @field_validator("store")
    @classmethod
    def _store_url(cls, url: str | None) -> str | None:
        problem = url_problem(url) if url is not None else None
        if problem:
            raise ValueError(problem)
        return url

    @field_validator("verify", mode="before")
    @classmethod
    def _commands(cls, value: object) -> object:
        """A list, or the two sets; each problem said in one line naming the key."""
        if value is None:
            return value
        if isinstance(value, list):
            _nonblank(value, "a verify command")
            return value
        if not isinstance(value, dict):
            raise ValueError("Input should be a list of commands, or `{task: [...], phase: [...]}`")
        unknown = sorted(str(k) for k in value if k not in ("task", "phase"))
        if unknown:
            raise ValueError(f"unknown key `{unknown[0]}` (a mapping takes `task` and `phase`)")
        for key in ("task", "phase"):
            commands = value.get(key)
            if not isinstance(commands, list) or not commands:
                raise ValueError(f"`{key}` needs a list of at least one command")
            _nonblank(commands, f"a `{key}` command")
        return VerifySets.model_validate(value)

    @property
    def task_verify(self) -> list[str] | None:
        """The commands each task is judged by (None: chosen from the repository)."""
        return self.verify.task if isinstance(self.verify, VerifySets) else self.verify

    @property
    def phase_verify(self) -> list[str] | None:
        """The commands run at phase ends; None when each task runs the whole set."""
        return self.verify.phase if isinstance(self.verify, VerifySets) else None

    def price(self, model_id: str) -> Price | None:
        """The price of a model id; a dated id (`claude-x-5-5-20260101`) takes its base price."""
        prices = {**DEFAULT_PRICES, **self.prices}
        if model_id in prices:
            return prices[model_id]
        bases = [k for k in prices if model_id.startswith(k + "-")]
        return prices[max(bases, key=len)] if bases else None


def _nonblank(commands: list[object], what: str) -> None:
    if any(not isinstance(c, str) for c in commands):
        raise ValueError(f"{what} must be a string")
    if any(not str(c).strip() for c in commands):
        raise ValueError(f"{what} cannot be empty")
