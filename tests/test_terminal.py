"""What a person sees in a real terminal (tmux) at 80 and 120 columns: the main flows end with
what to do next, no line is wider than the terminal, and no word is cut, except by an
ellipsis at the end of a title line.

A word is cut when the screen shows a fragment the full text never holds: the full text is the
same command's output piped with room for every line (nothing wraps there).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from rich.cells import cell_len
from support.runproc import sdd_argv, sdd_env
from support.tmux import have_tmux, pane
from test_run_e2e import ADD, MUL_TEST, make_project, write, write_script

pytestmark = [
    pytest.mark.slow,  # real runs in a real terminal
    pytest.mark.skipif(not have_tmux(), reason="tmux is not installed (.ci/run installs it)"),
]

TASKS = """# Tasks: calc

## Phase 1: Setup 🏗️

- [ ] T001 Create calc/add.py with add(a, b), a function that returns the sum of its two arguments and documents what it does with numbers of every kind

## Phase 2: User Story 1 - Multiply (Priority: P1) 🎯 MVP

### Tests for User Story 1

- [ ] T002 [US1] Write tests for multiply in tests/test_multiplication_of_two_numbers.py

### Implementation for User Story 1

- [ ] T003 [US1] Implement multiply in calc/mul.py, keeping the implementation small and readable for a reviewer

## Phase 3: Polish

- [ ] T004 Run the full test suite and confirm it passes
"""  # noqa: E501
SCRIPT = {
    "T001": [{"tools": [write("calc/add.py", ADD)]}, {"text": "Added add."}],
    "T002": [
        {"tools": [write("tests/test_multiplication_of_two_numbers.py", MUL_TEST)]},
        {"text": "Red test."},
    ],
    "T003": [
        {"tools": [write("calc/mul.py", "def mul(a, b):\n    return a * b\n")]},
        {"text": "Implemented mul."},
    ],
    "T004": [{"text": "All tests pass; nothing to change."}],
}
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|4[0-9])[;m]")
BOX = "│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╈╋┳┻╍═║"
WIDTHS = (80, 120)
NARROW = {"→", "after"}  # what the narrow plan table says that the wide one puts in columns


def cmd(*args: str) -> str:
    return shlex.join(sdd_argv(*args))


def words(text: str) -> list[str]:
    """The words of a text, without the punctuation a layout may add or leave out."""
    found = (w.strip(":,;()[]") for w in re.split(rf"[\s{BOX}]+", text))
    return [w for w in found if w]


def full_text(root: Path, *args: str) -> str:
    """The command's output piped, every line whole (and tables wide enough for any cell)."""
    env = sdd_env() | {"COLUMNS": "1000", "NO_COLOR": "1"}
    done = subprocess.run(sdd_argv(*args), cwd=root, env=env, capture_output=True, text=True)
    return done.stdout + done.stderr


def assert_readable(lines: list[str], width: int, full: str) -> None:
    """No line wider than the terminal, no word that the full text does not hold (figures,
    shas and paths with digits aside), and an ellipsis only after the start of a real word."""
    wide = [line for line in lines if cell_len(line) > width]
    assert not wide, f"wider than {width} columns:\n" + "\n".join(wide)
    known = set(words(full)) | NARROW
    shown = "\n".join(lines)
    broken = []
    for w in words(shown):
        if w in known or w == "…" or any(c.isdigit() for c in w):
            continue
        stem = w.rstrip("…")
        if w.endswith("…") and stem and any(k.startswith(stem) for k in known):
            continue
        broken.append(w)
    assert not broken, f"cut words {broken} at {width} columns:\n{shown}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    e = sdd_env()
    for key in ("COLUMNS", "LINES", "NO_COLOR", "PAGER", "SDD_PAGER", "LESS"):
        e.pop(key, None)
    return e | {"TERM": "xterm-256color", "PAGER": "cat"}


def project(tmp_path: Path) -> tuple[Path, Path]:
    root = make_project(tmp_path, TASKS)
    return root, write_script(root, SCRIPT)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_and_inspection_read_whole_at_every_width(
    width: int, tmp_path: Path, env: dict[str, str]
) -> None:
    root, script = project(tmp_path / "shown")
    twin, _ = project(tmp_path / "piped")
    model = f"--model=scripted:{script}"
    with pane(width, root, env) as term:
        code, lines = term.run(cmd("run", "001", model))
        assert code == 0, "\n".join(lines)
        assert_readable(lines, width, full_text(twin, "run", "001", model))
        screen = "\n".join(lines)
        assert "All 4 tasks landed." in screen
        # one summary line per attempt with every kind of token, the cost and the time
        said = " ".join(x.strip() for x in lines)
        spent = r"\S+ in, \S+ cache write, \S+ cache read, \S+ out"
        assert re.search(rf"T003 attempt 1/3 passed · {spent} · \$0\.0000 · [0-9.]+s", said)
        assert re.search(rf"Took .* \(verification .*\), 4 attempts: \$0\.0000 for {spent}", said)
        assert "T001 Create calc/add.py" in screen  # the long title, cut at the width
        views = (("plan", "001"), ("status", "001"), ("log", "001"), ("agents",), ("audit", "001"))
        for args in (*views, ("route", "001", "T001")):
            code, lines = term.run(cmd(*args))
            assert code == 0, "\n".join(lines)
            assert_readable(lines, width, full_text(root, *args))
        code, lines = term.run(cmd("plan", "001"))
        assert "tests/test_multiplication_of_two_numbers.py" in "\n".join(lines)  # whole
        code, lines = term.run(cmd("--no-pager", "show", "001", "T003"))
        assert code == 0 and "calc/mul.py" in "\n".join(lines)
        assert_readable(lines, width, full_text(root, "show", "001", "T003"))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_held_task_and_bad_input_say_what_to_do_next(
    width: int, tmp_path: Path, env: dict[str, str]
) -> None:
    root, script = project(tmp_path)
    model = f"--model=scripted:{script}"
    with pane(width, root, env) as term:
        code, lines = term.run(cmd("run", "001", model, "--approve", "each"))
        screen = " ".join(lines)
        assert code == 1, screen
        assert "approv" in screen and "sdd resume 001" in screen
        assert all(cell_len(x) <= width for x in lines), screen
        code, lines = term.run(cmd("diff", "001", "T999"))
        assert code == 2 and lines[0].startswith("error: no task T999"), lines
        assert all(cell_len(x) <= width for x in lines), lines


def test_diff_pages_on_a_terminal_in_colour_unless_told_not_to(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root, script = project(tmp_path)
    done = subprocess.run(
        sdd_argv("run", "001", f"--model=scripted:{script}"),
        cwd=root,
        env=sdd_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    paged = tmp_path / "paged.txt"
    pager = {"SDD_PAGER": f"tee {paged}", "LESS": ""}
    here = {"SPECIFY_FEATURE_DIRECTORY": "specs/001-calc"}  # FEATURE resolves as for run
    with pane(100, root, env | pager | here) as term:
        code, lines = term.run(cmd("diff", "T003"))
        coloured = paged.read_text()
        assert code == 0 and "+def mul(a, b):" in re.sub(r"\x1b\[[0-9;]*m", "", coloured)
        assert "\x1b[" in coloured  # git's colours, on a terminal
        paged.unlink()
        code, _ = term.run(cmd("--no-color", "diff", "001", "T003"))
        assert code == 0 and "+def mul(a, b):" in paged.read_text()
        assert "\x1b[" not in paged.read_text()
        paged.unlink()
        code, lines = term.run(cmd("--no-pager", "diff", "001", "T003"))
        assert code == 0 and not paged.exists() and any("+def mul(a, b):" in x for x in lines)
    with pane(100, root, env | pager | {"NO_COLOR": "1"}) as term:
        code, _ = term.run(cmd("show", "001", "T003"))
        assert code == 0 and "calc/mul.py" in paged.read_text()
        assert not COLOUR.search(paged.read_text())  # bold and dim stay: NO_COLOR is colour
