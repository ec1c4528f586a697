"""Each way a verification can fail to run, through real processes: the runner, pytest's JUnit
report and `verify/diagnosis.py`. Every cause has its one-line cause and fix, and none of
them counts as passed."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from support.repo import write_files
from support.venvs import make_venv

from orchestrator.verify.environment import Verification
from orchestrator.verify.policy import judge
from orchestrator.verify.results import Problem, Snapshot
from orchestrator.verify.runner import verify_tree

HINT = "set verify: in .specify/sdd.yaml"
PYTEST = f"{sys.executable} -m pytest -q"
VENV = Verification((), "", ".venv", ".venv/bin/python -m pip install {}")


def project(root: Path, files: dict[str, str]) -> Path:
    return write_files(root, files)


def run(root: Path, *commands: str, how: Verification = VENV) -> Snapshot:
    v = Verification(commands, "", how.where, how.install)
    return verify_tree(root, v, timeout=60, mentioned=["calc/ops.py"])


def only(snap: Snapshot) -> Problem:
    assert len(snap.problems) == 1, snap.problems
    return snap.problems[0]


def test_a_missing_command_is_exit_127_with_the_tool_to_install(tmp_path: Path) -> None:
    p = only(run(tmp_path, "nosuchtool --check"))
    assert (
        p.cause
        == "`nosuchtool` could not be run (exit 127: bash: line 1: nosuchtool: command not found)"
    )
    assert p.fix == f"install nosuchtool where sdd runs, or {HINT}"
    assert p.environment


def test_a_missing_virtualenv_says_to_recreate_it(tmp_path: Path) -> None:
    p = only(run(tmp_path, ".venv/bin/python -m pytest -q"))
    assert p.cause.startswith("`.venv/bin/python` could not be run (exit 127: ")
    assert "No such file or directory" in p.cause
    assert p.fix == f"recreate .venv (python -m venv) with the project's dependencies, or {HINT}"


def test_pytest_missing_from_the_environment(tmp_path: Path) -> None:
    make_venv(tmp_path / ".venv")  # no pytest in it
    project(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    p = only(run(tmp_path, ".venv/bin/python -m pytest -q"))
    assert p.line() == (
        f"pytest is not installed in .venv; fix: .venv/bin/python -m pip install pytest, or {HINT}"
    )


def test_a_test_importing_a_module_the_environment_lacks(tmp_path: Path) -> None:
    project(tmp_path, {"tests/test_a.py": "import fastapi_not_here\n\ndef test_a():\n    pass\n"})
    p = only(run(tmp_path, PYTEST))
    assert p.line() == (
        "tests/test_a.py imports fastapi_not_here, which is not installed in .venv; fix: add it "
        "to the project's dependencies (.venv/bin/python -m pip install fastapi_not_here), "
        f"or {HINT}"
    )
    assert p.environment


def test_a_test_importing_the_projects_own_missing_module_is_a_failure_not_a_problem(
    tmp_path: Path,
) -> None:
    """TDD tests import code that does not exist yet: red, judged like any failing test."""
    project(
        tmp_path, {"tests/test_ops.py": "from calc.ops import triple\n\ndef test_t():\n    pass\n"}
    )
    snap = run(tmp_path, PYTEST)
    assert snap.problems == []
    assert snap.failing == {"tests/test_ops.py::<collection>"}
    assert "No module named 'calc'" in snap.errors["tests/test_ops.py"]


def test_a_conftest_importing_a_missing_module(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "tests/conftest.py": "import yaml_not_here\n",
            "tests/test_a.py": "def test_a():\n    pass\n",
        },
    )
    p = only(run(tmp_path, PYTEST))
    assert p.cause == (
        "the tests' setup (conftest.py) imports yaml_not_here, which is not installed in .venv"
    )


def test_pytest_collecting_nothing_where_tests_exist(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "tests/test_a.py": "def test_a():\n    pass\n",
            "pyproject.toml": "[tool.pytest.ini_options]\npython_files = ['check_*.py']\n",
        },
    )
    p = only(run(tmp_path, PYTEST))
    assert p.line() == (
        "pytest collected no tests, though the repository has test files; fix: check "
        f"testpaths and python_files in the pytest configuration, or {HINT}"
    )
    assert not p.environment  # after a change, the change broke it


def test_a_usage_error_exit_4(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "tests/test_a.py": "def test_a():\n    pass\n",
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--no-such-option'\n",
        },
    )
    p = only(run(tmp_path, PYTEST))
    assert p.cause.startswith("pytest stopped before running the tests (exit 4, usage error): ")
    assert "--no-such-option" in p.cause
    assert p.fix == f"run `{PYTEST}` yourself to see why, or {HINT}"


def test_an_internal_error_exit_3(tmp_path: Path) -> None:
    hook = "def pytest_collection_modifyitems(items):\n    raise RuntimeError('boom')\n"
    project(tmp_path, {"conftest.py": hook, "tests/test_a.py": "def test_a():\n    pass\n"})
    p = only(run(tmp_path, PYTEST))
    assert p.cause.startswith("pytest stopped before running the tests (exit 3, internal error)")


def test_an_interrupted_run_exit_2(tmp_path: Path) -> None:
    hook = "import pytest\n\ndef pytest_collection_finish(session):\n    pytest.exit('stop', 2)\n"
    project(tmp_path, {"conftest.py": hook, "tests/test_a.py": "def test_a():\n    pass\n"})
    p = only(run(tmp_path, PYTEST))
    assert p.cause.startswith("pytest stopped before running the tests (exit 2, interrupted)")


def test_an_environment_tool_that_cannot_start(tmp_path: Path) -> None:
    """uv, pdm and hatch say `error: ...` when they cannot build the environment."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"
    uv.write_text(
        "#!/bin/sh\necho 'error: Failed to fetch: `https://pypi.org/simple/pytest/`' >&2\nexit 2\n"
    )
    uv.chmod(uv.stat().st_mode | stat.S_IEXEC)
    project(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    command = f"{bin_dir}/uv run --frozen python -m pytest -q"
    p = only(run(tmp_path, command))
    assert p.cause == (
        f"`{command}` could not start: error: Failed to fetch: `https://pypi.org/simple/pytest/`"
    )
    assert p.environment


def test_a_pytest_command_that_wrote_no_report(tmp_path: Path) -> None:
    project(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    p = only(run(tmp_path, "echo 'setup failed' && false && python -m pytest -q"))
    assert p.cause == "pytest wrote no report (exit 1): setup failed"
    assert not p.environment


def test_a_timeout_is_the_changes_failure_not_a_problem(tmp_path: Path) -> None:
    v = Verification(("sleep 5",), "")
    snap = verify_tree(tmp_path, v, timeout=0.2)
    assert snap.problems == [] and snap.failed_commands() == {"sleep 5"}


def test_per_test_outcomes_come_from_the_junit_report(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "tests/test_a.py": (
                "import pytest\n\n"
                "def test_ok():\n    pass\n\n"
                "def test_bad():\n    assert 0\n\n"
                "@pytest.mark.skip(reason='later')\ndef test_skip():\n    pass\n\n"
                "@pytest.mark.xfail\ndef test_xf():\n    assert 0\n\n"
                "class TestC:\n    def test_ok(self):\n        pass\n\n"
                "@pytest.mark.parametrize('x', [1, 2])\ndef test_p(x):\n    pass\n"
            )
        },
    )
    snap = run(tmp_path, PYTEST)
    f = "tests/test_a.py"
    assert snap.passed == {
        f"{f}::test_ok",
        f"{f}::TestC::test_ok",
        f"{f}::test_p[1]",
        f"{f}::test_p[2]",
    }
    assert snap.failing == {f"{f}::test_bad"}
    assert snap.skipped == {f"{f}::test_skip", f"{f}::test_xf"}
    assert snap.collected == 7 and snap.summary() == "4 passed, 2 skipped, 1 failed"


@pytest.mark.parametrize("changed", [(), ("app.py",)])
def test_an_environment_problem_is_unverifiable_whatever_changed(
    tmp_path: Path, changed: tuple[str, ...]
) -> None:
    snap = run(tmp_path, "nosuchtool")
    verdict = judge(
        snap,
        Snapshot([]),
        task_id="T1",
        changed=list(changed),
        expected_red={},
        test_task=False,
        phase_end=False,
    )
    assert (verdict.passed, verdict.unverifiable) == (False, True)
    assert verdict.output.startswith("COULD NOT VERIFY: `nosuchtool` could not be run")


def test_a_runner_broken_by_a_change_goes_back_to_the_agent_but_pauses_without_one(
    tmp_path: Path,
) -> None:
    project(
        tmp_path,
        {
            "tests/test_a.py": "def test_a():\n    pass\n",
            "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '--no-such-option'\n",
        },
    )
    snap = run(tmp_path, PYTEST)

    def decide(changed: list[str]) -> tuple[bool, bool, str]:
        v = judge(
            snap,
            Snapshot([]),
            task_id="T1",
            changed=changed,
            expected_red={},
            test_task=False,
            phase_end=False,
        )
        return v.passed, v.unverifiable, v.headline

    passed, unverifiable, headline = decide(["pyproject.toml"])
    assert (passed, unverifiable) == (False, False)
    assert headline.startswith("FAILED: verification could not run: pytest stopped before")
    assert decide([])[:2] == (False, True)  # a check that changed nothing: nobody to blame
