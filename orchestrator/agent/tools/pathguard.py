"""The one path guard every file tool goes through.

Paths are resolved with symlinks (to a fixpoint) and must stay under the resolved workspace
root and outside .git/ and .sdd/ in every spelling a file system may treat as the same name.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from orchestrator.errors import InputError


class ToolError(Exception):
    """A tool call that cannot be done as asked; Toolbox.call turns it into an error result."""


def _fold(name: str) -> str:
    """A name as case-insensitive, Unicode-normalising file systems compare it (.GIT, .git.)."""
    name = unicodedata.normalize("NFKC", name)
    name = "".join(c for c in name if unicodedata.category(c) != "Cf").casefold()
    return name.rstrip(" .") or name


def _realpath(path: str) -> str:
    """realpath to a fixpoint. Non-strict realpath stops at a symlink loop and then drops '..'
    lexically, so `loop/../link/x` would come back with `link` unresolved."""
    for _ in range(40):
        resolved = os.path.realpath(path)
        if resolved == path:
            return path
        path = resolved
    raise ToolError("too many levels of symbolic links")


def is_env_file(name: str) -> bool:
    n = _fold(name)
    return n == ".env" or n.startswith(".env.") or n.endswith(".env")


class PathGuard:
    """Maps an agent's path to a real path inside the workspace, or refuses it."""

    def __init__(
        self, root: Path, denied: Sequence[str] = (".git", ".sdd"), allow_env_files: bool = False
    ) -> None:
        self.given = Path(os.path.abspath(root))
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise InputError(f"workspace {root} is not a directory")
        self.denied = frozenset(_fold(d) for d in denied)
        self.allow_env_files = allow_env_files

    def resolve(self, path: str, *, must_exist: bool = False) -> Path:
        if not isinstance(path, str) or not path.strip():
            raise ToolError("the path is empty")
        if "\x00" in path:
            raise ToolError("the path contains a NUL byte")
        try:
            raw = os.fsencode(path)
        except UnicodeError:
            raise ToolError(f"{path!r} is not a valid file name") from None
        if len(raw) > 4096 or any(len(part) > 255 for part in raw.split(b"/")):
            raise ToolError(f"{path[:80]!r}... is too long (255 bytes per name, 4096 in all)")
        parts = Path(path).parts
        if os.path.isabs(path):  # only under the root, as given or as resolved
            base = next(
                (b for b in (self.root, self.given) if parts[: len(b.parts)] == b.parts), None
            )
            if base is None:
                raise ToolError(f"{path!r} is outside the workspace")
            parts = parts[len(base.parts) :]
        self._check_names(path, parts)
        try:
            target = Path(_realpath(str(self.root.joinpath(*parts))))
            rel = target.relative_to(self.root)
        except (OSError, ValueError):
            raise ToolError(f"{path!r} is outside the workspace") from None
        self._check_names(path, rel.parts)
        names = [p for p in (rel.name, parts[-1] if parts else "") if p]
        if not self.allow_env_files and any(is_env_file(n) for n in names):
            raise ToolError(f"{path!r} is an environment file (.env); agents may not touch it")
        if must_exist and not target.exists():
            raise ToolError(f"{path!r} does not exist")
        return target

    def _check_names(self, path: str, parts: Sequence[str]) -> None:
        for part in parts:
            if _fold(part) in self.denied:
                raise ToolError(f"{path!r} is inside {part}, which only sdd may touch")

    def display(self, target: Path) -> str:
        """A path as the agent should name it: relative to the workspace root."""
        try:
            return target.relative_to(self.root).as_posix() or "."
        except ValueError:
            return target.as_posix()

    def files(self, base: Path) -> Iterator[Path]:
        """Regular files under base, like ripgrep: symlinks are not followed, .git/.sdd are
        skipped (and so are FIFOs, devices and sockets, which reading could hang on)."""
        if not base.is_dir():
            if base.is_file():
                yield base
            return
        stack = [base]
        while stack:
            try:
                entries = sorted(os.scandir(stack.pop()), key=lambda e: e.name)
            except OSError:
                continue
            subdirs = []
            for e in entries:
                hidden = _fold(e.name) in self.denied or (
                    not self.allow_env_files and is_env_file(e.name)
                )
                if hidden or e.is_symlink():
                    continue
                if e.is_dir():
                    subdirs.append(Path(e.path))
                elif e.is_file():
                    yield Path(e.path)
            stack.extend(reversed(subdirs))
