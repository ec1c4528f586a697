"""What a Claude Code session is started with: its prompt, tools, limits, settings and
environment, and two small launchers written for it.

- The launcher starts the CLI in a session of its own (a terminal's Ctrl-C is sdd's to
  handle: the first one lets the task finish) under sdd's reaper, like sdd's own child
  processes: when the CLI ends, or sdd dies, everything it started ends too.
- The shell prefix (`CLAUDE_CODE_SHELL_PREFIX`) runs every Bash command of the session
  without the variables sdd keeps from its own Bash tool (API keys, tokens, secrets, git
  locations): the CLI needs its credential, the commands it runs do not. Claude Code's own
  scrubbing needs bubblewrap, which sdd cannot count on.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from orchestrator.procs import REAPER, scrubbed_env

Source = Literal["user", "project", "local"]
SETTING_SOURCES: Mapping[str, list[Source]] = {
    "none": [],
    "project": ["project", "local"],
    "user": ["user", "project", "local"],
}
# Claude Code's auto-memory writes outside the work tree, which the gate refuses.
FLAG_SETTINGS = {"autoMemoryEnabled": False}
QUIET = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1"}
# Set by a Claude Code session for the commands it runs: sdd started from one must not pass it
# on, or its own sessions take themselves for nested ones (the SDK drops it, sdd's env not).
NESTING = frozenset({"CLAUDECODE"})

_LAUNCH = """\
import os, sys
os.setsid()
os.execv(sys.executable, [sys.executable, "-I", "-S", *sys.argv[1:]])
"""


@dataclass(frozen=True, slots=True)
class Launchers:
    cli: Path  # starts the CLI in its own session, under sdd's reaper
    shell_prefix: Path  # runs a Bash command without the secret variables


def _script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(stat.S_IRWXU)
    return path


def write_launchers(folder: Path, cli: Path, env: Mapping[str, str]) -> Launchers:
    """Write both launchers into `folder` (private, removed after the session)."""
    hidden = sorted(k for k in env if k not in scrubbed_env(env) and k.isidentifier())
    bash = shutil.which("bash", path=env.get("PATH")) or "/bin/bash"
    prefix = ["#!/bin/sh"]
    if hidden:
        prefix.append("unset " + " ".join(hidden))
    prefix.append(f'exec {shlex.quote(bash)} -c "$1"')
    python, reaper = shlex.quote(sys.executable), shlex.quote(str(REAPER))
    launch = (
        f"#!/bin/sh\nexec {python} -IS -c {shlex.quote(_LAUNCH)} {reaper} {os.getpid()} -- "
        f'{shlex.quote(str(cli))} "$@"\n'
    )
    return Launchers(
        cli=_script(folder / "claude", launch),
        shell_prefix=_script(folder / "bash-prefix", "\n".join(prefix) + "\n"),
    )


def session_env(
    base: Mapping[str, str],
    *,
    max_tokens: int,
    max_retries: int,
    timeout: float,
    bash_timeout: float,
    shell_prefix: Path,
    config_dir: Path | None,
    cache_1h: bool = False,
) -> dict[str, str]:
    """The CLI's environment: the agent's, with sdd's limits in Claude Code's variables.
    `cache_1h` (`cache_ttl: 1h`) asks Claude Code for its 1-hour prompt cache."""
    bash_ms = str(int(bash_timeout * 1000))
    env = {
        **{k: v for k, v in base.items() if k not in NESTING},
        **QUIET,
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": str(max_tokens),
        "CLAUDE_CODE_MAX_RETRIES": str(max_retries),
        "API_TIMEOUT_MS": str(int(timeout * 1000)),
        "BASH_DEFAULT_TIMEOUT_MS": bash_ms,
        "BASH_MAX_TIMEOUT_MS": bash_ms,
        "CLAUDE_CODE_SHELL_PREFIX": str(shell_prefix),
    }
    if config_dir is not None:
        env["CLAUDE_CONFIG_DIR"] = str(config_dir)
    if cache_1h:
        env["ENABLE_PROMPT_CACHING_1H"] = "1"
    return env


def full_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """What the CLI really gets: the SDK lays the options' variables over sdd's own."""
    return {**os.environ, **overrides}


def appended_prompt(sdd_system: list[dict[str, Any]]) -> str:
    """sdd's system prompt (agent, rules, documents), appended to Claude Code's own."""
    return "\n\n".join(b.get("text", "") for b in sdd_system if b.get("type") == "text")


def flag_settings() -> str:
    return json.dumps(FLAG_SETTINGS)
