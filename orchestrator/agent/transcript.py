"""Per-attempt transcripts as JSONL under `.sdd/`, with secrets redacted before they hit disk.

A secret is redacted as written and in the forms an agent could cheaply turn it into: reversed,
base64 (standard or URL-safe, at any alignment), hex, and any long enough piece of it (a key
printed in parts). `find_secret` looks for the same forms, to refuse a commit that holds one.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestrator import vault

_KEY_SHAPES = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}")
_TRANSFORMED = 16  # shorter values are redacted only as written


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables that look secret, and the withheld API keys, longest first so
    overlaps redact fully."""
    env = os.environ if env is None else env
    values = {
        v
        for k, v in env.items()
        if vault.is_secret_name(k) and k != "ANTHROPIC_BASE_URL" and len(v) >= 6
    }
    values.update(vault.withheld())
    return sorted(values, key=len, reverse=True)


def secret_forms(value: str) -> list[str]:
    """`value` and, when it is long enough to be unmistakable, its cheap transformations."""
    if len(value) < _TRANSFORMED:
        return [value]
    forms = {value, value[::-1], value.encode().hex()}
    raw = value.encode()
    for shift in range(3):  # the base64 of the bytes from `shift` on, whole groups only
        part = raw[shift:]
        core = base64.b64encode(part[: len(part) // 3 * 3]).decode()
        forms.update({core, core.replace("+", "-").replace("/", "_")})
    window = max(12, min(24, len(value) // 3))  # a piece of the key, printed in parts
    for text in (value, value[::-1]):
        forms.update(text[i : i + window] for i in range(len(text) - window + 1))
    return sorted(forms, key=len, reverse=True)


@functools.lru_cache(maxsize=8)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = sorted({f for s in secrets for f in secret_forms(s)}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, forms))) if forms else None


def redact(text: str, secrets: Iterable[str]) -> str:
    pattern = _pattern(tuple(secrets))
    if pattern is not None:
        text = pattern.sub("[REDACTED]", text)
    return _KEY_SHAPES.sub("[REDACTED]", text)


def find_secret(text: str, secrets: Iterable[str]) -> bool:
    """Whether `text` holds one of `secrets` in any of the forms `redact` removes."""
    pattern = _pattern(tuple(secrets))
    return pattern is not None and pattern.search(text) is not None


class Transcript:
    """Appends events for one attempt; each line is one JSON object."""

    def __init__(self, path: Path, secrets: list[str], *, append: bool = False) -> None:
        """`append` continues an attempt's transcript after a resume (a torn last line of
        the killed process ends where the new lines begin)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._secrets = secrets
        if append and path.exists() and not path.read_bytes().endswith(b"\n"):
            with path.open("a", encoding="utf-8") as f:
                f.write("\n")
        self._file = path.open("a" if append else "w", encoding="utf-8")

    def write(self, kind: str, **data: object) -> None:
        line = json.dumps({"type": kind, **data}, ensure_ascii=False, sort_keys=True)
        self._file.write(redact(line, self._secrets) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
