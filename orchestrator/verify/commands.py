"""The repository's side of choosing verification: the facts `environment` decides from, the
names of the project's own modules, and how the agent is told it will be judged."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from orchestrator.verify import environment
from orchestrator.verify.environment import Facts, Verification

_SKIP_DIRS = {
    ".git",
    ".sdd",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    "site-packages",
    "target",
}
_TOOLS = ("uv", "poetry", "pdm", "hatch", "go", "cargo", "npm", "pnpm", "yarn", "bun")
_NO_TEST_SCRIPT = "no test specified"  # npm init's placeholder script, which always fails


def _walk(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    for top, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        yield top, dirnames, filenames


def is_python_test(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def python_test_files(root: Path, limit: int = 5) -> list[str]:
    """Up to `limit` Python test files of the repository (paths from `root`)."""
    found: list[str] = []
    for top, _dirs, filenames in _walk(root):
        for name in sorted(filenames):
            if is_python_test(name):
                found.append((Path(top) / name).relative_to(root).as_posix())
                if len(found) >= limit:
                    return found
    return found


def has_tests(root: Path) -> bool:
    return bool(python_test_files(root, 1))


def project_names(root: Path, mentioned: Iterable[str] = ()) -> frozenset[str]:
    """Top-level names the project's own code may import: its folders and Python files, and
    the first parts of the paths `mentioned` (tasks.md's files, not all written yet)."""
    names: set[str] = set()
    for _top, dirnames, filenames in _walk(root):
        names.update(dirnames)
        names.update(f[:-3] for f in filenames if f.endswith(".py"))
    for path in mentioned:
        for part in Path(path).parts:
            names.add(part.removesuffix(".py"))
    return frozenset(names)


def detect(
    root: Path,
    configured: Sequence[str] | None = None,
    *,
    docs: str = "",
    env: Mapping[str, str] | None = None,
    python: str = sys.executable,
    tree: Path | None = None,
) -> Verification:
    """The verification of the project at `root`: `configured` commands (config `verify:`)
    when given, else the default `environment.choose` picks from the repository's files.
    `tree` is the work tree to be verified when it is not `root` (a wave's worktree): its
    tests count, while the environment is always the repository's own."""
    facts = gather(
        root, docs=docs, env=os.environ if env is None else env, python=python, tree=tree
    )
    if configured is not None:
        return environment.configured(list(configured), facts)
    return environment.choose(facts)


def gather(
    root: Path, *, docs: str, env: Mapping[str, str], python: str, tree: Path | None = None
) -> Facts:
    files = frozenset(m for m in environment.MARKERS if os.path.lexists(root / m))
    path = env.get("PATH", "")
    return Facts(
        files=files,
        python_tests=has_tests(tree or root),
        sdd_python=python,
        virtual_env=env.get("VIRTUAL_ENV", ""),
        tool_tables=_tool_tables(root / "pyproject.toml") if "pyproject.toml" in files else
        frozenset(),
        node_test_script=_has_test_script(root / "package.json") if "package.json" in files
        else False,
        on_path=frozenset(t for t in _TOOLS if shutil.which(t, path=path)),
        docs=docs,
    )  # fmt: skip


def _tool_tables(path: Path) -> frozenset[str]:
    """`[tool.X]` names of pyproject.toml, with `hatch.envs` when hatch environments exist."""
    try:
        tools = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return frozenset()
    if not isinstance(tools, dict):
        return frozenset()
    names = set(tools)
    hatch = tools.get("hatch")
    if isinstance(hatch, dict) and "envs" in hatch:
        names.add("hatch.envs")
    return frozenset(names)


def _has_test_script(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    scripts = data.get("scripts") if isinstance(data, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and bool(test.strip()) and _NO_TEST_SCRIPT not in test


def describe(commands: Sequence[str], protect_tests: bool = True) -> str:
    """One line for the task message: how this task will be judged."""
    how = " && ".join(commands) if commands else "no test suite yet"
    guard = (
        "; test files that already exist are protected: change the code, not the tests, "
        "unless the task names the test file"
        if protect_tests
        else ""
    )
    return (
        f"{how}; changed Python files must compile; tests that passed before must still pass "
        "and may not be skipped (tests you write first for not-yet-implemented code may stay "
        f"red until the end of the phase){guard}."
    )
