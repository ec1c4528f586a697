"""A feature's documents as text, read once so every task of a run sees the same ones, and
tasks.md read and written byte for byte (BOM and line endings kept) so a tick changes one
character. Every way reading can fail is one InputError line naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import InputError
from orchestrator.regular import NotRegular, read_regular
from orchestrator.speckit.integration import speckit_command

DOCS = ("spec.md", "plan.md", "tasks.md")
CONSTITUTIONS = (".specify/memory/constitution.md", "memory/constitution.md", "CONSTITUTION.md")


@dataclass(frozen=True, slots=True)
class FeatureDocs:
    """A feature's documents as text, read once so every task of a run sees the same ones."""

    name: str
    dir: Path
    spec: str
    plan: str
    tasks: str
    tasks_path: Path
    constitution: str = ""
    constitution_path: Path | None = None
    research: str | None = None
    data_model: str | None = None
    quickstart: str | None = None
    contracts: dict[str, str] = field(default_factory=dict)


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text without its BOM; binary or mis-encoded input is the user's to fix."""
    nul = data.find(b"\0")
    if nul != -1:
        raise InputError(f"{label} is binary, not text (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{label} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})"
        ) from None


MAX_BYTES = 64_000_000  # a document, an agent or a script past this is not prompt material


def regular_bytes(path: Path, label: str, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes. A device, FIFO or socket (also behind a symlink) is refused
    before reading, so `/dev/zero` cannot exhaust memory and a FIFO cannot hang the run."""
    try:
        return read_regular(path, limit)
    except NotRegular as e:
        if e.kind == "directory":
            raise InputError(f"{label} is a folder, not a file") from None
        if e.kind == "too-large":
            size = f"{e.size} bytes; at most" if e.size >= 0 else "over"
            raise InputError(f"{label} is too large ({size} {limit} bytes)") from None
        raise InputError(f"{label} is not a regular file (a device, FIFO or socket)") from None
    except FileNotFoundError:
        raise InputError(f"{label} is missing") from None
    except OSError as e:
        raise InputError(f"cannot read {label}: {e.strerror or e}") from None


def _read_bytes(path: Path, label: str) -> bytes:
    return regular_bytes(path, label)


def read_text(path: Path, root: Path | None = None) -> str:
    """A document's text, with every way reading it can fail turned into one InputError line.

    `root` (resolved) makes the message name the path relative to the project.
    """
    label = rel(root, path) if root is not None else str(path)
    return decode_text(_read_bytes(path, label), label)


def _optional(path: Path, root: Path) -> str | None:
    return read_text(path, root) if os.path.lexists(path) else None


def _contracts(folder: Path, root: Path) -> dict[str, str]:
    """Text files under contracts/; binary assets (images, archives) are not prompt material."""
    if not folder.is_dir():
        return {}
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in inside.parts):
            continue
        label = rel(root, path)
        data = _read_bytes(path, label)
        if b"\0" not in data:
            found[inside.as_posix()] = decode_text(data, label)
    return found


def find_constitution(root: Path) -> Path | None:
    for rel in CONSTITUTIONS:
        if (root / rel).is_file():
            return root / rel
    return None


def load_feature(root: Path, feature_dir: Path) -> FeatureDocs:
    """Read the feature's documents: spec, plan and tasks are required, the rest optional."""
    root = root.resolve()
    feature_dir = feature_dir.resolve()
    missing = [rel(root, feature_dir / d) for d in DOCS if not os.path.lexists(feature_dir / d)]
    if missing:
        plan, tasks = (speckit_command(root, name) for name in ("plan", "tasks"))
        raise InputError(
            f"missing {', '.join(missing)}: a feature needs spec.md, plan.md and tasks.md "
            f"({plan} and {tasks} write them)"
        )
    spec, plan, tasks = (read_text(feature_dir / d, root) for d in DOCS)
    constitution_path = find_constitution(root)
    return FeatureDocs(
        name=feature_dir.name,
        dir=feature_dir,
        spec=spec,
        plan=plan,
        tasks=tasks,
        tasks_path=feature_dir / "tasks.md",
        constitution=read_text(constitution_path, root) if constitution_path else "",
        constitution_path=constitution_path,
        research=_optional(feature_dir / "research.md", root),
        data_model=_optional(feature_dir / "data-model.md", root),
        quickstart=_optional(feature_dir / "quickstart.md", root),
        contracts=_contracts(feature_dir / "contracts", root),
    )


def read_exact(path: Path) -> str:
    """The file as bytes decoded, keeping a BOM and CRLF, so a tick changes one character."""
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


def write_exact(path: Path, text: str) -> None:
    """Replace the file atomically: a crash leaves the old text or the new, never half."""
    tmp = path.with_name(f".{path.name}.sdd-tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
