"""The API key stays out of children's reach (their environment and /proc/$PPID/environ), and
redaction covers the forms an agent can cheaply turn a key into."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.agent.transcript import find_secret, redact, secret_forms, secret_values
from orchestrator.procs import scrubbed_env

KEY = "sk-ant-api03-SENTINEL0123456789abcdefghijklmnopqrstuvwxyzABCDEF-_0123456789"

CHILD = """
import os, subprocess, sys
from orchestrator import vault
vault.withhold()
assert "ANTHROPIC_API_KEY" not in os.environ and "ANTHROPIC_AUTH_TOKEN" not in os.environ
assert vault.get("ANTHROPIC_API_KEY") == sys.argv[1]
assert os.environ["GITHUB_TOKEN"] == "ghp-still-usable-by-sdd"
seen = subprocess.run(
    ["sh", "-c", "cat /proc/$PPID/environ; echo; env"], capture_output=True
).stdout
sys.stdout.buffer.write(seen)
"""


def test_withheld_key_is_in_no_childs_environment_nor_in_proc_environ(tmp_path: Path) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("no /proc")
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_AUTH_TOKEN": KEY[::-1],
        "GITHUB_TOKEN": "ghp-still-usable-by-sdd",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, KEY], env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    seen = done.stdout.decode("latin-1")
    assert "ANTHROPIC_API_KEY=" in seen  # the name is still there, its value is not
    assert KEY not in seen and KEY[::-1] not in seen
    assert "ghp-still-usable-by-sdd" not in seen.split("\n", 1)[0]  # not in the parent's


def test_redaction_covers_reversed_base64_hex_and_pieces() -> None:
    raw = KEY.encode()
    leaks = [
        KEY,
        KEY[::-1],
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.b64encode(b"x" + raw).decode(),
        base64.b64encode(b"xy" + raw).decode(),
        base64.urlsafe_b64encode(b"z" + raw).decode(),
        f"first half {KEY[:40]} and the rest {KEY[40:]}",
    ]
    for leak in leaks:
        text = f"prefix {leak} suffix"
        assert find_secret(text, [KEY]), leak
        cleaned = redact(text, [KEY])
        assert not find_secret(cleaned, [KEY]), (leak, cleaned)
        assert "[REDACTED]" in cleaned
    assert not find_secret("nothing to see, sk-ant is a prefix only", [KEY])
    assert secret_forms("short-pw") == ["short-pw"]  # short values: only as written


def test_secret_values_include_the_withheld_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator import vault

    monkeypatch.setattr(vault, "_kept", {"ANTHROPIC_API_KEY": KEY})
    assert KEY in secret_values({})


def test_scrubbed_env_drops_credentials_and_git_locations() -> None:
    env = {"PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "x", "GIT_CREDENTIALS": "y", "GIT_DIR": "/x"}
    assert scrubbed_env(env) == {"PATH": "/bin"}
