"""Per-attempt transcripts as JSONL under `.sdd/`, with secrets redacted before they hit disk."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_KEY_SHAPES = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}")


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables that look secret, longest first so overlaps redact fully."""
    env = os.environ if env is None else env
    values = {
        v
        for k, v in env.items()
        if ((k.startswith("ANTHROPIC_") and k != "ANTHROPIC_BASE_URL") or _SECRET_NAME.search(k))
        and len(v) >= 6
    }
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, "[REDACTED]")
    return _KEY_SHAPES.sub("[REDACTED]", text)


class Transcript:
    """Appends events for one attempt; each line is one JSON object."""

    def __init__(self, path: Path, secrets: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._secrets = secrets
        self._file = path.open("w", encoding="utf-8")

    def write(self, kind: str, **data: object) -> None:
        line = json.dumps({"type": kind, **data}, ensure_ascii=False, sort_keys=True)
        self._file.write(redact(line, self._secrets) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()
