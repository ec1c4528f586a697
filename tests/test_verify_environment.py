"""Choosing how a project is verified: its own environment, picked from its files (pure
`verify/environment.py`), and the facts read from a real directory (`verify/commands.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.verify.commands import detect, project_names
from orchestrator.verify.environment import Facts, choose, configured

SDD_PY = "/opt/sdd/bin/python"
TOOLS = frozenset({"uv", "poetry", "pdm", "hatch", "go", "cargo", "npm", "pnpm", "yarn", "bun"})


def facts(*files: str, tests: bool = True, **more: object) -> Facts:
    return Facts(
        frozenset(files),
        tests,
        SDD_PY,
        **{"on_path": TOOLS, **more},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("files", "command", "why"),
    [
        (
            ("uv.lock", "pyproject.toml", ".venv/bin/python"),
            "uv run --frozen python -m pytest -q",
            "uv.lock",
        ),
        (("poetry.lock", "pyproject.toml"), "poetry run python -m pytest -q", "poetry.lock"),
        (("pdm.lock",), "pdm run python -m pytest -q", "pdm.lock"),
        (("hatch.toml",), "hatch run python -m pytest -q", "hatch.toml"),
        (
            (".venv/bin/python", "venv/bin/python"),
            ".venv/bin/python -m pytest -q",
            "found .venv/bin/python",
        ),
        (
            ("venv/bin/python", "requirements.txt"),
            "venv/bin/python -m pytest -q",
            "found venv/bin/python",
        ),
    ],
)
def test_python_tests_run_in_the_environment_the_repository_declares(
    files: tuple[str, ...], command: str, why: str
) -> None:
    chosen = choose(facts(*files))
    assert chosen.commands == (command,)
    assert chosen.reason == f"{command} ({why})"
    assert chosen.warnings == ()


def test_a_lockfile_wins_over_a_virtualenv_and_the_venv_is_still_the_agents_bin() -> None:
    chosen = choose(facts("uv.lock", ".venv/bin/python"))
    assert chosen.commands[0].startswith("uv run --frozen")
    assert chosen.bin_dir == ".venv/bin"
    assert chosen.install_hint("pytest") == "uv add --dev pytest"


def test_hatch_environments_declared_in_pyproject_count() -> None:
    chosen = choose(facts("pyproject.toml", tool_tables=frozenset({"hatch", "hatch.envs"})))
    assert chosen.commands == ("hatch run python -m pytest -q",)
    assert "[tool.hatch.envs] in pyproject.toml" in chosen.reason
    # hatchling as a build backend alone is no hatch environment
    assert choose(facts("pyproject.toml", tool_tables=frozenset({"hatch"}))).commands == (
        f"{SDD_PY} -m pytest -q",
    )


def test_the_active_virtualenv_comes_before_sdds_own_interpreter() -> None:
    chosen = choose(facts("pyproject.toml", virtual_env="/home/me/envs/proj"))
    assert chosen.commands == ("/home/me/envs/proj/bin/python -m pytest -q",)
    assert chosen.bin_dir == "/home/me/envs/proj/bin"
    assert chosen.warnings == ()


def test_sdds_own_interpreter_is_the_last_resort_and_says_how_to_fix_it() -> None:
    chosen = choose(facts("pyproject.toml"))
    assert chosen.commands == (f"{SDD_PY} -m pytest -q",)
    assert chosen.where == f"sdd's own interpreter ({SDD_PY})"
    (warning,) = chosen.warnings
    assert warning.startswith(f"the tests run with sdd's own interpreter ({SDD_PY})")
    assert "set verify: in .specify/sdd.yaml" in warning


def test_a_runner_tool_missing_from_path_is_a_warning() -> None:
    chosen = choose(facts("uv.lock", on_path=frozenset()))
    assert chosen.warnings == (
        "uv is not on PATH: install it, or set verify: in .specify/sdd.yaml",
    )


def test_no_tests_yet_runs_nothing_but_says_what_will_run() -> None:
    chosen = choose(facts("poetry.lock", "pyproject.toml", tests=False))
    assert chosen.commands == ()
    assert chosen.reason == (
        "no Python tests yet; once there are, poetry run python -m pytest -q (poetry.lock)"
    )
    empty = choose(facts(tests=False))
    assert empty.commands == () and empty.reason.startswith("nothing to run yet")


@pytest.mark.parametrize(
    ("files", "command"),
    [
        (("go.mod",), "go test ./..."),
        (("Cargo.toml",), "cargo test"),
        (("package.json", "package-lock.json"), "npm test"),
        (("package.json", "pnpm-lock.yaml"), "pnpm test"),
        (("package.json", "yarn.lock"), "yarn test"),
        (("package.json", "bun.lock"), "bun run test"),
    ],
)
def test_other_stacks_run_their_own_test_command(files: tuple[str, ...], command: str) -> None:
    chosen = choose(facts(*files, tests=False, node_test_script=True))
    assert chosen.commands == (command,)
    assert chosen.reason == f"{command} ({files[-1]})"
    assert chosen.hints == (
        f"`{command}` is judged by exit code: a JUnit XML report written to $SDD_JUNIT_XML "
        "would judge each test (see README, verification)",
    )


def test_package_json_needs_a_lockfile_and_a_test_script() -> None:
    no_lock = choose(facts("package.json", tests=False, node_test_script=True))
    assert no_lock.commands == ()
    assert "package.json has no lockfile" in no_lock.warnings[0]
    no_script = choose(facts("package.json", "yarn.lock", tests=False))
    assert no_script.commands == ()
    assert "package.json has no test script" in no_script.reason


def test_a_repository_with_several_stacks_runs_each() -> None:
    chosen = choose(
        facts(
            ".venv/bin/python", "go.mod", "package.json", "package-lock.json", node_test_script=True
        )
    )
    assert chosen.commands == (".venv/bin/python -m pytest -q", "go test ./...", "npm test")
    assert chosen.hints[0].startswith("`go test ./...`, `npm test` are judged by exit code")


def test_checkers_the_plan_names_are_a_hint_not_a_command() -> None:
    chosen = choose(facts(".venv/bin/python", docs="Lint with Ruff; type-check with mypy."))
    assert chosen.commands == (".venv/bin/python -m pytest -q",)
    assert chosen.hints == (
        "plan.md or the constitution name mypy, ruff: not run by default; "
        "add them to verify: to enforce them on every task",
    )


def test_configured_commands_are_run_as_given_and_fixes_still_name_the_environment() -> None:
    chosen = configured(["make test"], facts(".venv/bin/python"))
    assert chosen.commands == ("make test",)
    assert chosen.reason == "make test (verify: in .specify/sdd.yaml)" and chosen.configured
    assert chosen.install_hint("httpx") == ".venv/bin/python -m pip install httpx"
    assert configured([], facts()).reason == "turned off (verify: [])"
    assert chosen.hints[0].startswith("`make test` is judged by exit code")
    node = "node --test --test-reporter=junit --test-reporter-destination=$SDD_JUNIT_XML"
    assert configured([node, "python -m pytest -q"], facts()).hints == ()


def test_detect_reads_the_facts_from_a_real_repository(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("def test_x():\n    pass\n")
    (tmp_path / "pyproject.toml").write_text("[tool.hatch.envs.default]\ndependencies = []\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to("/nonexistent/python3")  # dangling
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "vitest"}}))
    (tmp_path / "pnpm-lock.yaml").write_text("")
    env = {"PATH": "/nonexistent", "VIRTUAL_ENV": "/somewhere/else"}
    chosen = detect(tmp_path, env=env, python=SDD_PY)
    assert chosen.commands == ("hatch run python -m pytest -q", "pnpm test")
    assert "hatch is not on PATH" in chosen.warnings[0]
    assert chosen.bin_dir == ".venv/bin"  # a broken venv is still the project's: say so later


def test_npm_inits_placeholder_test_script_is_no_test_script(tmp_path: Path) -> None:
    script = 'echo "Error: no test specified" && exit 1'
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": script}}))
    (tmp_path / "package-lock.json").write_text("{}")
    assert detect(tmp_path, env={"PATH": ""}, python=SDD_PY).commands == ()


def test_the_tests_counted_are_the_verified_trees_the_environment_the_repositorys(
    tmp_path: Path,
) -> None:
    repo, tree = tmp_path / "repo", tmp_path / "tree"
    (repo / "venv" / "bin").mkdir(parents=True)
    (repo / "venv" / "bin" / "python").write_text("")
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "test_new.py").write_text("")
    assert detect(repo, env={}, python=SDD_PY).commands == ()
    assert detect(repo, env={}, python=SDD_PY, tree=tree).commands == (
        "venv/bin/python -m pytest -q",
    )


def test_project_names_cover_its_folders_modules_and_what_tasks_md_will_create(
    tmp_path: Path,
) -> None:
    (tmp_path / "src" / "calc").mkdir(parents=True)
    (tmp_path / "src" / "calc" / "ops.py").write_text("")
    (tmp_path / ".venv" / "lib" / "fastapi").mkdir(parents=True)
    names = project_names(tmp_path, ["app/routers/books.py"])
    assert {"src", "calc", "ops", "app", "routers", "books"} <= names
    assert "fastapi" not in names
