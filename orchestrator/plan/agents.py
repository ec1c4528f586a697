"""Agent definitions in Claude Code's subagent format: loading, validating, and their sources.

A definition is a Markdown file: YAML front matter (`name`, `description`; optional `tools`,
`model`, `color`, and sdd's own routing hints under `sdd:`, which Claude Code ignores) and a
body that is the agent's system prompt. Three sources, later ones
overriding earlier ones by name: sdd's built-in agents, the repository's `agents/`, and its
`.claude/agents/`, so subagents written for Claude Code work unchanged (tools only Claude Code
has are ignored with a note). Which agent takes a task is `routing`'s concern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from orchestrator.agent.tools.bash_rules import Rule
from orchestrator.agent.tools.inputs import TOOL_NAMES
from orchestrator.config.load import load_yaml
from orchestrator.errors import InputError
from orchestrator.speckit.documents import regular_bytes

SDD_TOOLS = TOOL_NAMES
# fmt: off
CLAUDE_ONLY_TOOLS = frozenset({
    "MultiEdit", "LS", "NotebookEdit", "NotebookRead", "WebFetch", "WebSearch", "TodoWrite",
    "TodoRead", "Task", "Agent", "BashOutput", "KillShell", "KillBash", "SlashCommand", "Skill",
    "ExitPlanMode", "AskUserQuestion", "ListMcpResourcesTool", "ReadMcpResourceTool",
})
# fmt: on
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOOL_RULE = re.compile(r"^(\w+)\((.*)\)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Hints:
    """`sdd: {paths: [...], stacks: [...]}` in the front matter: files this agent owns (globs)
    and technologies it is for, beyond what its description says."""

    paths: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()


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
    hints: Hints = field(default_factory=Hints)


@dataclass(slots=True)
class AgentSet:
    agents: dict[str, AgentDef]
    notes: list[str] = field(default_factory=list)  # overrides and ignored tools, for `sdd agents`


def builtin_agents_dir() -> Path:
    """The shipped definitions: inside the installed package, else the source tree's agents/."""
    installed = resources.files("orchestrator") / "builtin_agents"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "agents"


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
    raw = regular_bytes(path, str(path))
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
    hints = _hints(meta.get("sdd"), path, at("sdd"))
    return AgentDef(
        name, description.strip(), tools, rules, model, color, body, path, source, hints
    )


def _hints(value: object, path: Path, line: int) -> Hints:
    if value is None:
        return Hints()
    if not isinstance(value, dict):
        raise _bad(path, line, "'sdd' must be a mapping: sdd: {paths: [...], stacks: [...]}")
    unknown = sorted(str(k) for k in value if k not in ("paths", "stacks"))
    if unknown:
        raise _bad(path, line, f"unknown key 'sdd.{unknown[0]}' (sdd takes paths and stacks)")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("paths", "stacks"):
        items = value.get(key) or []
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise _bad(path, line, f"'sdd.{key}' must be a list of non-empty strings")
        lists[key] = tuple(i.strip() for i in items)
    return Hints(lists["paths"], lists["stacks"])


def _front_matter(lines: list[str], path: Path, notes: list[str]) -> object:
    """YAML, except an unquoted description holding `: `, which Claude Code reads as text."""
    try:
        return load_yaml("\n".join(lines))
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
        meta = load_yaml("\n".join(lines[:start] + [""] * (stop - start) + lines[stop:]))
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
    for text in rules:
        try:
            Rule.parse(text)
        except InputError as e:
            raise _bad(path, line, str(e)) from None
    return tuple(tools), tuple(rules)


def _bad(path: Path, line: int, message: str) -> InputError:
    return InputError(f"{path}:{line}: {message}")
