"""Which credential a Claude Code session signs in with, named for the run banner; the secret
itself is never read here, only whether it is there.

Claude Code's own order: a bearer token or API key in the environment, an OAuth token made
by `claude setup-token`, a cloud provider, then the login a person made with `claude`
(`/login`, a Claude subscription or a Console account), kept in its config folder or, on
macOS, in the keychain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import InputError

_ENV_CREDENTIALS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
_CLOUDS = (
    ("CLAUDE_CODE_USE_BEDROCK", "Amazon Bedrock (AWS credentials)"),
    ("CLAUDE_CODE_USE_VERTEX", "Google Vertex AI (Google Cloud credentials)"),
    ("CLAUDE_CODE_USE_FOUNDRY", "Microsoft Foundry (Azure credentials)"),
)
LOGIN_FILE = ".credentials.json"


@dataclass(frozen=True, slots=True)
class Credential:
    label: str  # what `sdd run` prints
    login: bool  # kept in the user's Claude Code config folder, which sessions must then use
    env: dict[str, str] = field(default_factory=dict, repr=False)  # given to the CLI only


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def config_dir(env: Mapping[str, str]) -> Path:
    """The user's Claude Code config folder: CLAUDE_CONFIG_DIR, else ~/.claude."""
    given = env.get("CLAUDE_CONFIG_DIR")
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(given).expanduser() if given else Path(home) / ".claude"


def _shown(path: Path, env: Mapping[str, str]) -> str:
    home = env.get("HOME")
    if home and path.is_relative_to(home):
        return "~/" + path.relative_to(home).as_posix()
    return path.as_posix()


def find_credential(env: Mapping[str, str], platform: str) -> Credential:
    """The credential a session will use, or a one-line error naming the ways to give one.
    `env` holds the keys sdd withheld from its own environment (`vault`)."""
    for name in _ENV_CREDENTIALS:
        if env.get(name, "").strip():
            return Credential(f"{name} from the environment", False, {name: env[name]})
    for flag, label in _CLOUDS:
        if _truthy(env.get(flag)):
            return Credential(label, login=False)
    login = config_dir(env) / LOGIN_FILE
    if login.is_file():
        return Credential(f"your Claude Code login ({_shown(login, env)})", login=True)
    if platform == "darwin":  # the login lives in the keychain, which sdd does not open
        return Credential("your Claude Code login (macOS keychain)", login=True)
    raise InputError(
        "no credential for Claude Code: set ANTHROPIC_API_KEY, or log in once by running "
        "`claude` and `/login` (a Claude subscription works)"
    )
