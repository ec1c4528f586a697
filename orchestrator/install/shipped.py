"""What sdd ships for spec-kit: the extension `sdd` (commands, hook, config template), the
workflow step type `sdd`, the workflow `sdd-implement` and the overlay `speckit-sdd`.

They live in one folder, `speckit-extension/` in the source tree and `speckit_extension` inside
the installed package, so `specify extension add --dev` can install it from either. The step
and workflows ride along inside the extension; `sdd init` installs them from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

EXTENSION_ID = "sdd"
STEP_TYPE = "sdd"
WORKFLOW_ID = "sdd-implement"
OVERLAY_ID = "speckit-sdd"
BASE_WORKFLOW = (
    "speckit"  # spec-kit's built-in full cycle, whose implement step the overlay replaces
)
COMMANDS = ("speckit.sdd.run", "speckit.sdd.status", "speckit.sdd.resume")
_SKIP = {"__pycache__", ".DS_Store", ".extensionignore"}  # spec-kit never copies these


def extension_dir() -> Path:
    """The shipped folder: inside the installed package, else the source tree's."""
    installed = resources.files("orchestrator") / "speckit_extension"
    if isinstance(installed, Path) and (installed / "extension.yml").is_file():
        return installed
    return Path(__file__).resolve().parents[2] / "speckit-extension"


def step_dir() -> Path:
    return extension_dir() / "step"


def workflow_file() -> Path:
    return extension_dir() / "workflows" / f"{WORKFLOW_ID}.yml"


def overlay_file() -> Path:
    return extension_dir() / "workflows" / f"{OVERLAY_ID}.yml"


def files(folder: Path) -> Iterator[Path]:
    """The files of a shipped folder, relative to it, without byte-code caches."""
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder)
        if path.is_file() and not _SKIP & set(inside.parts) and path.suffix != ".pyc":
            yield inside


def same_files(shipped: Path, installed: Path, names: Iterator[Path] | None = None) -> bool:
    """Whether every shipped file is installed with the same bytes."""
    for name in names if names is not None else files(shipped):
        target = installed / name
        if not target.is_file() or target.read_bytes() != (shipped / name).read_bytes():
            return False
    return True
