"""Where the spec-kit corpus lives: `SDD_CORPUS`, else the first `shared/corpus` beside the
repository or above it (CI lays it beside the checkout; a git worktree sits one level deeper)."""

from __future__ import annotations

import os
from pathlib import Path


def find_corpus(start: Path | None = None) -> Path | None:
    if os.environ.get("SDD_CORPUS"):
        path = Path(os.environ["SDD_CORPUS"])
        return path if path.is_dir() else None
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return None
