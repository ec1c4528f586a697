"""Which commands verify a project, chosen from its files, and why (pure).

A project's tests need the project's environment: its dependencies live there, not in the
interpreter that runs sdd (installed with pipx or `uv tool`, in a venv of its own). So the
tool that owns a lockfile runs them (uv, poetry, pdm, hatch), else a virtualenv in the
repository or the active one; sdd's own interpreter is the last resort, with a warning.
Go, Rust and JavaScript projects run their own test commands. `commands.detect` gathers the
facts from the repository; this module only decides.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from orchestrator.verify.results import is_pytest

PYTEST = "python -m pytest -q"
# Files whose presence decides, looked up at the project root.
MARKERS = (
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "hatch.toml",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    ".venv/bin/python",
    "venv/bin/python",
    "go.mod",
    "Cargo.toml",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "yarn.lock",
    "bun.lock",
    "bun.lockb",
)
_COMPILED = (("go.mod", "go", "go test ./..."), ("Cargo.toml", "cargo", "cargo test"))
_PYTHON_MARKERS = {"pyproject.toml", "setup.py", "setup.cfg", "requirements.txt"}
_NODE_LOCKS = (
    ("pnpm-lock.yaml", "pnpm", "pnpm test"),
    ("yarn.lock", "yarn", "yarn test"),
    ("bun.lock", "bun", "bun run test"),
    ("bun.lockb", "bun", "bun run test"),
    ("package-lock.json", "npm", "npm test"),
    ("npm-shrinkwrap.json", "npm", "npm test"),
)
# Lint and type checkers a plan or constitution may name; sdd does not run them on its own.
_CHECKERS = re.compile(
    r"\b(ruff|mypy|pyright|flake8|pylint|eslint|tsc|golangci-lint|clippy)\b",
    re.IGNORECASE,
)
CONFIG_HINT = "set verify: in .specify/sdd.yaml"
# (marker, tool, the environment as messages name it, how to add a package to it)
_LOCKED = (
    ("uv.lock", "uv", "uv's environment (.venv)", "uv add --dev {}"),
    ("poetry.lock", "poetry", "poetry's environment", "poetry add --group dev {}"),
    ("pdm.lock", "pdm", "pdm's environment", "pdm add -dG test {}"),
    ("hatch.toml", "hatch", "hatch's default environment", "add {} to the hatch environment"),
)
_FROZEN = {"uv": "--frozen "}  # run from uv.lock as it is, never re-locking it


@dataclass(frozen=True, slots=True)
class Facts:
    """What the repository shows about its environment (gathered by `commands.detect`)."""

    files: frozenset[str]  # the MARKERS present
    python_tests: bool  # test_*.py / *_test.py files exist
    sdd_python: str  # the interpreter running sdd
    virtual_env: str = ""  # $VIRTUAL_ENV
    tool_tables: frozenset[str] = frozenset()  # pyproject.toml's [tool.X] names ("hatch.envs")
    node_test_script: bool = False  # package.json has a real `test` script
    on_path: frozenset[str] = frozenset()  # the runner tools found on PATH
    docs: str = ""  # plan.md and the constitution, for the checkers they name


@dataclass(frozen=True, slots=True)
class Verification:
    """The verify commands and the account of them that `sdd plan` and messages give."""

    commands: tuple[str, ...]
    reason: str  # why these commands, in one line
    where: str = ""  # the Python environment as messages name it, e.g. ".venv"
    install: str = ""  # how to add a package there; `{}` stands for its name
    bin_dir: str = ""  # the environment's bin folder (from the root), first on the agent's PATH
    warnings: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # advice that needs no action
    configured: bool = False  # from `verify:` in the config

    def install_hint(self, package: str) -> str:
        return self.install.format(package) if self.install else f"install {package}"


@dataclass(frozen=True, slots=True)
class _Python:
    command: str
    why: str
    where: str
    install: str
    bin_dir: str = ""
    tool: str = ""  # the runner tool that must be on PATH
    fallback: bool = False  # sdd's own interpreter: no project environment was found


def configured(commands: list[str], facts: Facts) -> Verification:
    """`verify:` from the config: run as given; the Python environment still names fixes."""
    py = _python(facts)
    how = " && ".join(commands)
    reason = f"{how} (verify: in .specify/sdd.yaml)" if commands else "turned off (verify: [])"
    hints = tuple(_by_exit_code(commands))
    return Verification(
        tuple(commands), reason, py.where, py.install, py.bin_dir, (), hints, configured=True
    )


def choose(facts: Facts) -> Verification:
    """The default verification of a repository with these facts; see the module docstring."""
    commands: list[str] = []
    reasons: list[str] = []
    warnings: list[str] = []
    hints: list[str] = []
    py = _python(facts)
    if facts.python_tests:
        commands.append(py.command)
        reasons.append(f"{py.command} ({py.why})")
        if py.fallback:
            warnings.append(
                f"the tests run with sdd's own interpreter ({facts.sdd_python}), which may lack "
                "the project's dependencies (no uv.lock, poetry.lock, pdm.lock, .venv, venv or "
                f"active virtualenv found); {CONFIG_HINT}, e.g. [.venv/bin/python -m pytest -q]"
            )
    elif _python_project(facts):
        reasons.append(f"no Python tests yet; once there are, {py.command} ({py.why})")
    if py.tool and facts.python_tests and py.tool not in facts.on_path:
        warnings.append(f"{py.tool} is not on PATH: install it, or {CONFIG_HINT}")
    for marker, tool, command in _COMPILED:
        if marker in facts.files:
            commands.append(command)
            reasons.append(f"{command} ({marker})")
            if tool not in facts.on_path:
                warnings.append(f"{tool} is not on PATH: install it, or {CONFIG_HINT}")
    node = _node(facts, reasons, warnings)
    if node:
        commands.append(node)
    named = sorted({m.group(1).lower() for m in _CHECKERS.finditer(facts.docs)})
    if named:
        hints.append(
            f"plan.md or the constitution name {', '.join(named)}: not run by default; "
            "add them to verify: to enforce them on every task"
        )
    hints += _by_exit_code(commands)
    if not reasons:
        reasons.append("nothing to run yet: no tests, no go.mod, Cargo.toml or package.json")
    return Verification(
        tuple(commands),
        "; ".join(reasons),
        py.where,
        py.install,
        py.bin_dir,
        tuple(warnings),
        tuple(hints),
    )


def _by_exit_code(commands: list[str]) -> list[str]:
    """The hint for commands judged by their exit code alone: neither pytest (sdd asks it for
    a per-test report) nor a command that writes one to $SDD_JUNIT_XML."""
    plain = [c for c in commands if not is_pytest(c) and "SDD_JUNIT_XML" not in c]
    if not plain:
        return []
    shown = ", ".join(f"`{c}`" for c in plain)
    return [
        f"{shown} {'is' if len(plain) == 1 else 'are'} judged by exit code: a JUnit XML report "
        "written to $SDD_JUNIT_XML would judge each test (see README, verification)"
    ]


def _python_project(facts: Facts) -> bool:
    return bool(_PYTHON_MARKERS & facts.files) or any(
        lock in facts.files for lock in ("uv.lock", "poetry.lock", "pdm.lock")
    )


def _python(facts: Facts) -> _Python:
    """The first of: a lockfile's tool, .venv, venv, $VIRTUAL_ENV, sdd's own interpreter."""
    files = facts.files
    venv = ".venv/bin" if ".venv/bin/python" in files else ""
    hatch = "hatch.toml" in files or "hatch.envs" in facts.tool_tables
    for marker, tool, where, install in _LOCKED:
        if marker in files or (tool == "hatch" and hatch):
            if tool == "hatch":
                marker = marker if marker in files else "[tool.hatch.envs] in pyproject.toml"
            return _Python(
                f"{tool} run {_FROZEN.get(tool, '')}{PYTEST}", marker, where, install, venv, tool
            )
    for folder in (".venv", "venv"):
        python = f"{folder}/bin/python"
        if python in files:
            install = f"{python} -m pip install {{}}"
            return _Python(
                f"{python} -m pytest -q", f"found {python}", folder, install, f"{folder}/bin"
            )
    if facts.virtual_env:
        bin_dir = f"{facts.virtual_env.rstrip('/')}/bin"
        python = shlex.quote(f"{bin_dir}/python")
        where = f"the active virtualenv {facts.virtual_env}"
        return _Python(
            f"{python} -m pytest -q",
            "the active virtualenv ($VIRTUAL_ENV)",
            where,
            f"{python} -m pip install {{}}",
            bin_dir,
        )
    python = shlex.quote(facts.sdd_python)
    return _Python(
        f"{python} -m pytest -q",
        "sdd's own interpreter: no project environment found",
        f"sdd's own interpreter ({facts.sdd_python})",
        "create the project's environment (python -m venv .venv, then .venv/bin/pip install {}"
        " and the project's dependencies)",
        fallback=True,
    )


def _node(facts: Facts, reasons: list[str], warnings: list[str]) -> str:
    if "package.json" not in facts.files:
        return ""
    lock = next(((f, tool, cmd) for f, tool, cmd in _NODE_LOCKS if f in facts.files), None)
    if lock is None:
        reasons.append("package.json without a lockfile: its tests are not run")
        warnings.append(
            "package.json has no lockfile (package-lock.json, pnpm-lock.yaml, yarn.lock, "
            f"bun.lock): install the dependencies to make one, or {CONFIG_HINT}"
        )
        return ""
    marker, tool, command = lock
    if not facts.node_test_script:
        reasons.append("package.json has no test script: nothing of it to run")
        return ""
    reasons.append(f"{command} ({marker})")
    if tool not in facts.on_path:
        warnings.append(f"{tool} is not on PATH: install it, or {CONFIG_HINT}")
    return command
