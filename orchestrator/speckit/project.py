"""Find the spec-kit project and the feature the user means.

Resolution follows spec-kit's own rules (scripts/bash/common.sh), so `sdd` picks the same
feature a `/speckit.*` command would: SPECIFY_INIT_DIR or a walk up to `.specify/` for the
root; SPECIFY_FEATURE_DIRECTORY, then `.specify/feature.json`, then the branch for the feature.
Matching names is pure; the branch comes from `orchestrator.git`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestrator.errors import InputError
from orchestrator.git.runner import current_branch
from orchestrator.speckit.documents import DOCS, read_text, rel
from orchestrator.speckit.integration import speckit_command

SPECS = "specs"
NESTED = "features"  # spec-kit-plus keeps features under specs/features/
OLD_MARKER = "memory/constitution.md"  # projects made before spec-kit v0.0.23 have no .specify/
_PREFIX = re.compile(r"^(\d{8}-\d{6}|\d+)-(.+)$")  # timestamp or sequential number, short name
HOW_TO_NAME = (
    "name it as an argument (folder, number or short name), set SPECIFY_FEATURE_DIRECTORY, "
    "or check out its branch"
)


# ---------------------------------------------------------------- the project root


def is_root(path: Path) -> bool:
    return (path / ".specify").is_dir() or (path / OLD_MARKER).is_file()


def find_root(
    repo: Path | None = None, start: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The spec-kit project root: `repo` as given, else SPECIFY_INIT_DIR, else a walk up."""
    env = os.environ if env is None else env
    explicit = repo if repo is not None else env.get("SPECIFY_INIT_DIR") or None
    if explicit is not None:
        path = Path(explicit).expanduser().resolve()
        if not path.exists():
            raise InputError(f"repository not found: {path}")
        if not path.is_dir():
            raise InputError(f"repository is not a directory: {path}")
        if not is_root(path):
            raise InputError(f"no .specify/ in {path}: run `specify init` or `sdd init` there")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_root(folder):
            return folder
    raise InputError(
        f"no .specify/ in {here} or any folder above it: run `specify init` or `sdd init`, "
        "or pass --repo"
    )


# ---------------------------------------------------------------- naming a feature (pure)


def split_name(folder: str) -> tuple[str | None, str]:
    """`001-todo-api` -> ("001", "todo-api"); `20260319-143022-x` -> ("20260319-143022", "x")."""
    m = _PREFIX.match(folder)
    return (m.group(1), m.group(2)) if m else (None, folder)


def same_prefix(a: str, b: str) -> bool:
    """Numbers compare as numbers, so `1`, `01` and `001` all name feature 001."""
    if a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a == b


def match_name(query: str, names: Sequence[str]) -> list[str]:
    """The folder names `query` denotes: the full name, else its prefix, else its short name."""
    exact = [n for n in names if n == query]
    if exact:
        return exact
    if re.fullmatch(r"\d+|\d{8}-\d{6}", query):
        return [n for n in names if (p := split_name(n)[0]) is not None and same_prefix(p, query)]
    return [n for n in names if split_name(n)[1] == query]


def match_branch(branch: str, names: Sequence[str]) -> list[str]:
    """Branches may carry a path (`user/app/001-x`) and share a spec by numeric prefix."""
    leaf = branch.rsplit("/", 1)[-1]
    exact = [n for n in names if n in (branch, leaf)]
    if exact:
        return exact
    prefix = split_name(leaf)[0]
    if prefix is None:
        return []
    return [n for n in names if (p := split_name(n)[0]) is not None and same_prefix(p, prefix)]


# ---------------------------------------------------------------- the feature folder


def list_features(root: Path) -> list[Path]:
    """Feature folders under specs/ (and specs/features/), sorted by their path."""
    specs = root / SPECS
    if not specs.is_dir():
        return []
    found: list[Path] = []
    for d in _subdirs(specs):
        if d.name == NESTED and not any((d / doc).exists() for doc in DOCS):
            found.extend(_subdirs(d))
        else:
            found.append(d)
    return sorted(found)


def _subdirs(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]


def resolve_feature(root: Path, name: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The feature folder `name` means, or the current one as spec-kit would find it; past
    spec-kit's rules, a repository's only feature (on `main`, say, whose name points at none)."""
    env = os.environ if env is None else env
    root = root.resolve()
    if name is not None and name.strip():
        return _by_name(root, name.strip())
    if env.get("SPECIFY_FEATURE_DIRECTORY"):
        return _pointed(root, env["SPECIFY_FEATURE_DIRECTORY"], "SPECIFY_FEATURE_DIRECTORY")
    pointer = root / ".specify" / "feature.json"
    if pointer.is_file():
        directory = _feature_json(root, pointer)
        if directory:
            return _pointed(root, directory, ".specify/feature.json")
    if env.get("SPECIFY_FEATURE"):
        return _by_branch(root, env["SPECIFY_FEATURE"], "SPECIFY_FEATURE")
    branch = current_branch(root)
    features = list_features(root)
    if branch and (match_branch(branch, _names(features)) or len(features) != 1):
        return _by_branch(root, branch, "the current branch")
    if len(features) == 1:
        return features[0]
    raise InputError(f"which feature? {HOW_TO_NAME}; {_existing(root)}")


def _by_name(root: Path, name: str) -> Path:
    if "/" in name or os.sep in name:
        for base in (root, Path.cwd()):
            candidate = (base / name).expanduser().resolve()
            if candidate.is_dir():
                return _inside(root, candidate, name)
    features = list_features(root)
    found = match_name(name.rstrip("/"), _names(features))
    return _pick(root, f"feature `{name}`", found, features)


def _by_branch(root: Path, branch: str, source: str) -> Path:
    features = list_features(root)
    found = match_branch(branch, _names(features))
    if not found:
        raise InputError(
            f"no feature given and {source} `{branch}` names none: {HOW_TO_NAME}; {_existing(root)}"
        )
    return _pick(root, f"{source} `{branch}`", found, features)


def _pick(root: Path, what: str, names: list[str], features: list[Path]) -> Path:
    chosen = [f for f in features if f.name in names]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise InputError(f"{what} not found; {_existing(root)}")
    listed = ", ".join(rel(root, f) for f in chosen)
    raise InputError(f"{what} is ambiguous: it matches {listed}; name it by its folder or path")


def _pointed(root: Path, value: str, source: str) -> Path:
    path = Path(value).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_dir():
        raise InputError(f"{source} points to {value}, which is not a folder; {HOW_TO_NAME}")
    return _inside(root, path, value)


def _inside(root: Path, path: Path, given: str) -> Path:
    if not path.is_relative_to(root):
        raise InputError(f"feature folder {given} is outside the project root {root}")
    return path


def _feature_json(root: Path, pointer: Path) -> str:
    text = read_text(pointer, root)
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise InputError(f".specify/feature.json line {e.lineno}: invalid JSON: {e.msg}") from None
    value = data.get("feature_directory") if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise InputError(".specify/feature.json: feature_directory must be a string path")
    return value or ""


def _names(features: list[Path]) -> list[str]:
    return [f.name for f in features]


def _existing(root: Path) -> str:
    features = list_features(root)
    if not features:
        create = speckit_command(root, "specify")
        return f"there are no features under {root / SPECS} yet (create one with {create})"
    shown = ", ".join(f.name for f in features[:20])
    more = f" (and {len(features) - 20} more)" if len(features) > 20 else ""
    return f"features: {shown}{more}"
