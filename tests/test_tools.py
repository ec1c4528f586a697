"""The agent's tools in a real workspace: happy paths, refusals, path escapes, Bash policy."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.agent.tools.bash_rules import Rule, subcommands
from orchestrator.agent.tools.files import MAX_LISTED
from orchestrator.agent.tools.inputs import TOOL_NAMES
from orchestrator.agent.tools.pathguard import PathGuard, ToolError
from orchestrator.agent.tools.toolbox import Toolbox, ToolResult
from orchestrator.errors import InputError
from orchestrator.procs import scrubbed_env

BASE_ENV = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
SECRET = "TOPSECRET-outside"
GIT_MARKER = "GITMARKER-inside-dot-git"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_workspace(base: Path) -> tuple[Path, Path]:
    """A git repo with source files, .sdd state, and symlinks pointing inside and outside it."""
    root, outside = base / "ws", base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    root.mkdir()
    _git(root, "init", "-q")
    with (root / ".git" / "config").open("a") as f:
        f.write(f"# {GIT_MARKER}\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def hello():\n    return 'hi'\n")
    (root / "src" / "util.py").write_text("X = 1\nY = 2\n")
    (root / "README.md").write_text("# demo\nhello world\n")
    (root / ".gitignore").write_text("*.pyc\n")
    (root / ".sdd").mkdir()
    (root / ".sdd" / "state.txt").write_text("hello from sdd\n")
    (root / ".env").write_text("API_KEY=hello\n")
    (root / "outlink").symlink_to(outside, target_is_directory=True)
    (root / "outfile").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to(outside / "missing.txt")
    (root / "inlink").symlink_to(root / "src", target_is_directory=True)
    (root / "infile").symlink_to("src/app.py")
    (root / "gitlink").symlink_to(".git", target_is_directory=True)
    (root / "loop").symlink_to("loop")
    return root, outside


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path)[0]


@pytest.fixture
def tb(ws: Path) -> Toolbox:
    return Toolbox(ws, env=BASE_ENV)


def ok(result: ToolResult) -> str:
    assert not result.is_error, result.content
    return result.content


def err(result: ToolResult) -> str:
    assert result.is_error, result.content
    return result.content


# --- Read -------------------------------------------------------------------------------------


def test_read_numbers_lines_like_cat_n(tb: Toolbox) -> None:
    assert ok(tb.call("Read", {"file_path": "src/app.py"})) == (
        "     1\tdef hello():\n     2\t    return 'hi'"
    )


def test_read_offset_limit_and_truncation_note(tb: Toolbox, ws: Path) -> None:
    (ws / "ten.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = ok(tb.call("Read", {"file_path": "ten.txt", "offset": 3, "limit": 2}))
    assert out == "     3\tline 3\n     4\tline 4\n[lines 3-4 of 10; read on with offset=5]"
    assert ok(tb.call("Read", {"file_path": "ten.txt", "offset": 10})) == "    10\tline 10"


def test_read_default_limit_and_long_lines(tb: Toolbox, ws: Path) -> None:
    (ws / "big.txt").write_text("".join(f"{i}\n" for i in range(1, 2501)))
    out = ok(tb.call("Read", {"file_path": "big.txt"})).splitlines()
    assert out[-2] == "  2000\t2000"
    assert out[-1] == "[lines 1-2000 of 2500; read on with offset=2001]"
    (ws / "wide.txt").write_text("a" * 2500 + "\nshort\n")
    first, second, note = ok(tb.call("Read", {"file_path": "wide.txt"})).splitlines()
    assert first == "     1\t" + "a" * 2000
    assert second == "     2\tshort"
    assert "1 lines longer than 2000 characters were cut" in note


def test_read_output_is_capped_by_max_output(ws: Path) -> None:
    (ws / "many.txt").write_text("x" * 50 + "\n" * 1 + ("y" * 50 + "\n") * 99)
    out = ok(Toolbox(ws, max_output=300).call("Read", {"file_path": "many.txt"}))
    assert len(out) < 400
    assert out.endswith("of 100; read on with offset=6]")


@pytest.mark.parametrize(
    ("setup", "tool_input", "message"),
    [
        (None, {"file_path": "src"}, "is a directory"),
        ("bin", {"file_path": "blob.bin"}, "is a binary file"),
        (None, {"file_path": "nope.txt"}, "'nope.txt' does not exist"),
        (None, {"file_path": "src/app.py", "offset": 9}, "offset 9 is past the end"),
        (None, {"file_path": "src/app.py", "offset": 0}, "offset"),
    ],
)
def test_read_errors(
    tb: Toolbox, ws: Path, setup: str | None, tool_input: dict, message: str
) -> None:
    if setup == "bin":
        (ws / "blob.bin").write_bytes(b"PK\x03\x04\x00\x00binary")
    assert message in err(tb.call("Read", tool_input))


def test_read_empty_file(tb: Toolbox, ws: Path) -> None:
    (ws / "empty.txt").write_text("")
    assert "empty" in ok(tb.call("Read", {"file_path": "empty.txt"}))


# --- Write / Edit -----------------------------------------------------------------------------


def test_write_creates_parents_and_overwrites(tb: Toolbox, ws: Path) -> None:
    assert ok(tb.call("Write", {"file_path": "pkg/sub/mod.py", "content": "a\nb\n"})) == (
        "Created pkg/sub/mod.py (2 lines)"
    )
    assert (ws / "pkg/sub/mod.py").read_bytes() == b"a\nb\n"
    absolute = str(ws / "pkg/sub/mod.py")
    assert ok(tb.call("Write", {"file_path": absolute, "content": "é\r\n"})).startswith("Overwrote")
    assert (ws / "pkg/sub/mod.py").read_bytes() == "é\r\n".encode()
    assert "is a directory" in err(tb.call("Write", {"file_path": "src", "content": "x"}))


def test_edit_replaces_a_unique_string(tb: Toolbox, ws: Path) -> None:
    out = ok(
        tb.call("Edit", {"file_path": "src/util.py", "old_string": "Y = 2", "new_string": "Y = 3"})
    )
    assert out == "Edited src/util.py: replaced 1 occurrence(s), the first at line 2"
    assert (ws / "src/util.py").read_text() == "X = 1\nY = 3\n"


def test_edit_replace_all_and_crlf(tb: Toolbox, ws: Path) -> None:
    (ws / "w.txt").write_bytes(b"a = 1\r\nb = 1\r\n")
    args = {"file_path": "w.txt", "old_string": "1", "new_string": "2", "replace_all": True}
    assert "replaced 2 occurrence(s)" in ok(tb.call("Edit", args))
    args = {"file_path": "w.txt", "old_string": "a = 2\nb = 2", "new_string": "c = 0\nd = 0"}
    ok(tb.call("Edit", args))
    assert (ws / "w.txt").read_bytes() == b"c = 0\r\nd = 0\r\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("nothere", "x", "old_string not found in src/util.py"),
        (" = ", " == ", "old_string found 2 times in src/util.py"),
        ("X = 1", "X = 1", "old_string and new_string are the same"),
        ("", "x", "old_string is empty"),
    ],
)
def test_edit_errors_leave_the_file_alone(
    tb: Toolbox, ws: Path, old: str, new: str, message: str
) -> None:
    before = (ws / "src/util.py").read_bytes()
    args = {"file_path": "src/util.py", "old_string": old, "new_string": new}
    assert message in err(tb.call("Edit", args))
    assert (ws / "src/util.py").read_bytes() == before


def test_edit_refuses_binary_and_missing(tb: Toolbox, ws: Path) -> None:
    (ws / "b.bin").write_bytes(b"\x00\x01abc")
    edit = {"old_string": "abc", "new_string": "x"}
    assert "binary" in err(tb.call("Edit", {"file_path": "b.bin", **edit}))
    assert "does not exist" in err(tb.call("Edit", {"file_path": "no.py", **edit}))


# --- Glob / Grep ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool_input", "expected"),
    [
        ({"pattern": "**/*.py"}, ["src/app.py", "src/util.py"]),
        ({"pattern": "*.md"}, ["README.md"]),
        ({"pattern": "*.py", "path": "src"}, ["src/app.py", "src/util.py"]),
        ({"pattern": "src/{app,nope}.py"}, ["src/app.py"]),
        ({"pattern": "./**/app.?y"}, ["src/app.py"]),
        ({"pattern": "**/*.txt"}, []),  # .sdd/state.txt and outlink/secret.txt stay hidden
        ({"pattern": "**/config"}, []),  # .git/config and gitlink/config stay hidden
    ],
)
def test_glob(tb: Toolbox, tool_input: dict, expected: list[str]) -> None:
    out = ok(tb.call("Glob", tool_input))
    assert out.splitlines() == (expected or ["No files matched."])


def test_glob_lists_everything_visible_and_nothing_else(tb: Toolbox) -> None:
    listed = ok(tb.call("Glob", {"pattern": "**"})).splitlines()
    assert listed == [".gitignore", "README.md", "src/app.py", "src/util.py"]  # no symlinks


def test_glob_caps_and_rejects(tb: Toolbox, ws: Path) -> None:
    (ws / "many").mkdir()
    for i in range(MAX_LISTED + 7):
        (ws / "many" / f"f{i:04}.txt").write_text("")
    lines = ok(tb.call("Glob", {"pattern": "many/*.txt"})).splitlines()
    assert len(lines) == MAX_LISTED + 1
    assert lines[0] == "many/f0000.txt"
    assert lines[-1] == "[7 more not shown; narrow the pattern]"
    assert "'..'" in err(tb.call("Glob", {"pattern": "../*"}))
    assert "not a directory" in err(tb.call("Glob", {"pattern": "*", "path": "README.md"}))
    assert "outside the workspace" in err(tb.call("Glob", {"pattern": "*", "path": "outlink"}))


def test_grep_lists_matching_lines(tb: Toolbox, ws: Path) -> None:
    (ws / "blob.bin").write_bytes(b"hello\x00world")
    assert ok(tb.call("Grep", {"pattern": r"hel+o"})).splitlines() == [
        "README.md:2:hello world",
        "src/app.py:1:def hello():",
    ]  # not .env, .sdd/state.txt, the binary file, nor again through the infile/inlink symlinks
    assert ok(tb.call("Grep", {"pattern": "hello", "glob": "*.py"})) == "src/app.py:1:def hello():"
    assert ok(tb.call("Grep", {"pattern": "Y", "path": "src/util.py"})) == "src/util.py:2:Y = 2"
    assert ok(tb.call("Grep", {"pattern": "zzz"})) == "No matches."


def test_grep_never_reads_git_sdd_or_outside(tb: Toolbox) -> None:
    for pattern in (GIT_MARKER, SECRET, "hello from sdd", "API_KEY"):
        assert ok(tb.call("Grep", {"pattern": pattern})) == "No matches."


def test_grep_errors(tb: Toolbox) -> None:
    assert "bad regular expression" in err(tb.call("Grep", {"pattern": "(unclosed"}))
    assert "inside .git" in err(tb.call("Grep", {"pattern": "x", "path": ".git"}))
    assert "outside" in err(tb.call("Grep", {"pattern": "x", "path": "outlink"}))


# --- the path guard ---------------------------------------------------------------------------

REFUSED = [
    ("../x", "outside the workspace"),
    ("/etc/passwd", "outside the workspace"),
    ("outfile", "outside the workspace"),
    ("outlink/secret.txt", "outside the workspace"),
    ("outlink/new.txt", "outside the workspace"),
    ("dangling", "outside the workspace"),
    ("src/../../outside/secret.txt", "outside the workspace"),
    ("loop/../outlink/secret.txt", "outside the workspace"),
    ("loop/../gitlink/x", "inside .git"),
    (".git/config", "inside .git"),
    ("./.git/../.git/config", "inside .git"),
    (".git/../src/app.py", "inside .git"),
    (".GIT/config", "inside .GIT"),
    (".git", "inside .git"),
    ("gitlink/config", "inside .git"),
    (".sdd/x", "inside .sdd"),
    ("src/../.Sdd/state.txt", "inside .Sdd"),
    (".git./config", "inside .git."),
    ("a\x00b", "NUL byte"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * 256, "too long"),
    ("a/" * 2100, "too long"),
    (".env", "environment file"),
    ("config/.env.local", "environment file"),
    ("prod.env", "environment file"),
]


@pytest.mark.parametrize(("path", "message"), REFUSED)
def test_guard_refuses(ws: Path, path: str, message: str) -> None:
    with pytest.raises(ToolError, match=message.replace(".", r"\.")):
        PathGuard(ws).resolve(path)


@pytest.mark.parametrize(("path", "message"), REFUSED)
@pytest.mark.parametrize("tool", ["Read", "Write", "Edit", "Glob", "Grep"])
def test_every_file_tool_refuses(tb: Toolbox, ws: Path, tool: str, path: str, message: str) -> None:
    field = {"Glob": "path", "Grep": "path"}.get(tool, "file_path")
    extra = {
        "Write": {"content": "pwned"},
        "Edit": {"old_string": "TOPSECRET", "new_string": "pwned"},
        "Glob": {"pattern": "*"},
        "Grep": {"pattern": "."},
    }.get(tool, {})
    assert message in err(tb.call(tool, {field: path, **extra}))
    assert (ws.parent / "outside" / "secret.txt").read_text() == SECRET + "\n"
    assert not (ws.parent / "outside" / "new.txt").exists()
    assert not (ws.parent / "outside" / "missing.txt").exists()


@pytest.mark.parametrize(
    ("path", "resolved"),
    [
        ("src/app.py", "src/app.py"),
        ("./src//app.py", "src/app.py"),
        ("src/../README.md", "README.md"),
        ("infile", "src/app.py"),
        ("inlink/app.py", "src/app.py"),
        (".gitignore", ".gitignore"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        ("new/dir/file.py", "new/dir/file.py"),
        ("x" * 255, "x" * 255),
    ],
)
def test_guard_accepts(ws: Path, path: str, resolved: str) -> None:
    guard = PathGuard(ws)
    assert guard.resolve(path) == ws.resolve() / resolved
    assert guard.resolve(str(ws / path)) == ws.resolve() / resolved


def test_write_through_an_inside_symlink(tb: Toolbox, ws: Path) -> None:
    ok(tb.call("Write", {"file_path": "infile", "content": "NEW\n"}))
    assert (ws / "infile").is_symlink()
    assert (ws / "src/app.py").read_text() == "NEW\n"
    ok(tb.call("Edit", {"file_path": "inlink/app.py", "old_string": "NEW", "new_string": "NEWER"}))
    assert (ws / "src/app.py").read_text() == "NEWER\n"


def test_env_files_allowed_when_configured(ws: Path) -> None:
    assert "API_KEY=hello" in ok(
        Toolbox(ws, allow_env_files=True).call("Read", {"file_path": ".env"})
    )


def test_git_file_of_a_worktree_is_refused(tmp_path: Path) -> None:
    main = tmp_path / "main"
    main.mkdir()
    _git(main, "init", "-q")
    _git(
        main,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    _git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    tb = Toolbox(tmp_path / "wt")
    assert "inside .git" in err(tb.call("Read", {"file_path": ".git"}))
    assert "inside .git" in err(tb.call("Write", {"file_path": ".git", "content": "gitdir: /x"}))


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        Toolbox(tmp_path / "missing")


# --- Bash -------------------------------------------------------------------------------------


def test_bash_runs_in_root_with_exit_code(tb: Toolbox, ws: Path) -> None:
    assert ok(tb.call("Bash", {"command": "pwd; cat"})) == f"{ws.resolve()}\n[exit code 0]"
    out = err(tb.call("Bash", {"command": "echo out; echo oops >&2; exit 3"}))
    assert out == "out\noops\n[exit code 3]"
    assert ok(tb.call("Bash", {"command": "true", "description": "nothing"})) == (
        "(no output)\n[exit code 0]"
    )


def _alive(pid: int) -> bool:
    """Running and not a zombie (an orphan may wait a moment for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_bash_timeout_kills_the_whole_group(ws: Path) -> None:
    tb = Toolbox(ws, env=BASE_ENV, bash_timeout=1)
    started = time.monotonic()
    out = err(tb.call("Bash", {"command": "sleep 30 & echo $! > child.pid; sleep 30"}))
    assert time.monotonic() - started < 10
    assert "timed out after 1 s" in out
    assert _gone(int((ws / "child.pid").read_text()))


def test_bash_requested_timeout_and_leftover_jobs(tb: Toolbox) -> None:
    assert "timed out after 0.3 s" in err(tb.call("Bash", {"command": "sleep 5", "timeout": 300}))
    started = time.monotonic()
    out = ok(tb.call("Bash", {"command": "sleep 30 & echo $!"}))
    assert time.monotonic() - started < 10
    assert _gone(int(out.splitlines()[0]))


def test_bash_output_keeps_head_and_tail(ws: Path) -> None:
    out = ok(Toolbox(ws, env=BASE_ENV, max_output=1000).call("Bash", {"command": "seq 1 100000"}))
    full = "".join(f"{i}\n" for i in range(1, 100001))
    assert out.startswith(full[:500])
    assert out.endswith(full[-500:].rstrip("\n") + "\n[exit code 0]")
    assert f"\n[... {len(full) - 1000} characters cut ...]\n" in out
    assert len(out) < 1100


def test_bash_environment_is_scrubbed(ws: Path) -> None:
    env = {
        **BASE_ENV,
        "FOO_API_KEY": "k",
        "GITHUB_TOKEN": "t",
        "ANTHROPIC_BASE_URL": "http://x",
        "db_password": "p",
        "MY_SECRET_THING": "s",
        "KEEP_ME": "yes",
        "GIT_DIR": "/elsewhere/.git",
        "GIT_WORK_TREE": "/elsewhere",
        "GIT_INDEX_FILE": "/elsewhere/.git/index",
    }
    out = ok(Toolbox(ws, env=env).call("Bash", {"command": "env"}))
    names = {line.split("=", 1)[0] for line in out.splitlines()}
    assert "KEEP_ME" in names
    assert not names & {"FOO_API_KEY", "GITHUB_TOKEN", "ANTHROPIC_BASE_URL", "db_password"}
    assert "MY_SECRET_THING" not in names
    assert not names & {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}
    assert scrubbed_env(env) == {**BASE_ENV, "KEEP_ME": "yes"}


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("git commit -m x", "'git commit' (only sdd commits)"),
        ("git -C . -c user.name=x commit", "'git commit'"),
        ("FOO=1 git commit", "'git commit'"),
        ("echo ok && git push origin main", "'git push'"),
        ("ls; git reset --hard HEAD~1", "'git reset --hard'"),
        ("true || git checkout main", "'git checkout'"),
        ("ls | git stash", "'git stash'"),
        ("git switch -c other", "'git switch'"),
        ("git rebase main", "'git rebase'"),
        ("git merge x", "'git merge'"),
        ("git clean -fdx", "'git clean'"),
        ("echo a\ngit commit -am x", "'git commit'"),
        ("echo $(git commit -m x)", "'git commit'"),
        ('echo "`git merge x`"', "'git merge'"),
        ("bash -c 'git rebase main'", "'git rebase'"),
        ("eval git clean -fd", "'git clean'"),
        ("(cd src && git commit -m x)", "'git commit'"),
        ("cat .git/config", "'.git/'"),
        ("ls .SDD", "'.sdd/'"),
        ("echo x > .git/HEAD", "'.git/'"),
        ("git --git-dir=.git log", "'.git/'"),
    ],
)
def test_bash_default_deny_rules(tb: Toolbox, ws: Path, command: str, rule: str) -> None:
    (ws / "marker").write_text("untouched")
    out = err(tb.call("Bash", {"command": command + "; rm marker"}))
    assert out.startswith("Bash: refused by deny rule " + rule)
    assert (ws / "marker").exists()


@pytest.mark.parametrize(
    "command",
    [
        "git status",
        "git diff HEAD -- src",
        "git log --oneline | head -1",
        "cat .gitignore",
        "ls .github 2>/dev/null || echo none",
        "grep -c commit README.md || true",
    ],
)
def test_bash_allows_harmless_git_and_dotfiles(tb: Toolbox, command: str) -> None:
    assert "refused" not in tb.call("Bash", {"command": command}).content


def test_bash_refuses_what_it_cannot_parse(tb: Toolbox) -> None:
    assert "cannot parse" in err(tb.call("Bash", {"command": "echo 'unterminated"}))
    assert "empty" in err(tb.call("Bash", {"command": "  "}))


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("echo hi", None),
        ("echo hi && true", None),
        ("FOO=1 echo hi 2>&1 > out.txt", None),
        ("printf x", None),
        ("git status --short", None),
        ("true x", "'true x' matches no allow rule"),
        ("echo hi | cat", "'cat' matches no allow rule"),
        ("ls", "'ls' matches no allow rule"),
        ("echo $(whoami)", "'whoami' matches no allow rule"),
        ("echo hi; git commit -m x", "refused by deny rule 'git commit'"),
        ("echo ok; rm -rf x", "refused by deny rule 'Bash(rm -rf:*)'"),
    ],
)
def test_bash_allow_and_deny_rules(ws: Path, command: str, refusal: str | None) -> None:
    tb = Toolbox(
        ws,
        env=BASE_ENV,
        bash_allow=["Bash(echo:*)", "Bash(true)", "printf", "Bash(git * --short)", "Bash(rm:*)"],
        bash_deny=["Bash(rm -rf:*)"],
    )
    result = tb.call("Bash", {"command": command})
    if refusal is None:
        assert "refused" not in result.content and result.content.endswith("[exit code 0]")
    else:
        assert result.is_error and refusal in result.content


def test_rules_parse_claude_code_forms() -> None:
    assert Rule.parse("Bash(pytest:*)").matches(["pytest", "-q"])
    assert not Rule.parse("Bash(pytest:*)").matches(["pytest-watch"])
    assert Rule.parse("Bash(npm run test)").matches(["npm", "run", "test"])
    assert not Rule.parse("Bash(npm run test)").matches(["npm", "run", "test", "--x"])
    assert Rule.parse("Bash").matches(["anything"])
    assert Rule.parse("curl").matches(["sudo", "curl", "x"], anywhere=True)
    for bad in ("Read(./x)", "Bash(echo 'x)", "Bash( )"):
        with pytest.raises(InputError):
            Rule.parse(bad)
    with pytest.raises(InputError):
        Toolbox(Path("."), bash_deny=["Edit(src/**)"])


def test_subcommands_split_compound_commands() -> None:
    assert subcommands(
        "A=1 pytest -q 2>&1 | tee log && echo done; # note\nif true; then ls; fi"
    ) == [
        ["pytest", "-q"],
        ["tee", "log"],
        ["echo", "done"],
        ["true"],
        ["ls"],
    ]


# --- schemas and input validation -------------------------------------------------------------


def test_schemas_are_stable_and_filtered(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "bb"
    a.mkdir()
    b.mkdir()
    first = Toolbox(a, bash_allow=["Bash(pytest:*)"], max_output=10).schemas()
    assert json.dumps(first) == json.dumps(Toolbox(b).schemas())
    assert [s["name"] for s in first] == list(TOOL_NAMES)
    assert str(tmp_path) not in json.dumps(first)
    first[0]["description"] = "changed"
    assert Toolbox(a).schemas()[0]["description"] != "changed"
    required = {s["name"]: s["input_schema"]["required"] for s in Toolbox(b).schemas()}
    assert required == {
        "Read": ["file_path"],
        "Write": ["file_path", "content"],
        "Edit": ["file_path", "old_string", "new_string"],
        "Glob": ["pattern"],
        "Grep": ["pattern"],
        "Bash": ["command"],
    }
    only = Toolbox(a, allowed=["Grep", "Read", "WebFetch"])
    assert [s["name"] for s in only.schemas()] == ["Read", "Grep"]
    assert "not available to this agent" in err(only.call("Bash", {"command": "ls"}))


@pytest.mark.parametrize(
    ("name", "tool_input", "message"),
    [
        ("Edit", {"file_path": "a", "new_string": "x"}, "Edit: old_string is required (string)"),
        (
            "Edit",
            {"file_path": "a", "old_string": 1, "new_string": "x"},
            "old_string must be of type string",
        ),
        ("Read", {"file_path": "a", "limit": "10"}, "Read: limit must be of type integer"),
        ("Read", {"path": "a"}, "unknown field 'path'"),
        ("Bash", {"command": "ls", "timeout": 10**9}, "Bash: timeout"),
        ("Write", ["file_path"], "Write: input must be an object, not list"),
        ("Write", None, "Write: input must be an object, not NoneType"),
        ("Delete", {}, "unknown tool: 'Delete'"),
    ],
)
def test_bad_input_is_an_error_result(
    tb: Toolbox, name: str, tool_input: object, message: str
) -> None:
    assert message in err(tb.call(name, tool_input))


# --- property: nothing the guard accepts is outside the root or inside .git/.sdd -----------------


def _tree_digest(*dirs: Path) -> str:
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            h.update(str(p).encode())
            if p.is_file() and not p.is_symlink():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_property_no_accepted_path_escapes(tmp_path_factory: pytest.TempPathFactory) -> None:
    root, outside = make_workspace(tmp_path_factory.mktemp("prop"))
    real_root = root.resolve()
    tb = Toolbox(root, env=BASE_ENV)
    fragments = [
        "..",
        ".",
        "",
        ".git",
        ".GIT",
        ".Git",
        ".sdd",
        ".SDD",
        "src",
        "app.py",
        "new",
        "x.txt",
        "outlink",
        "outfile",
        "dangling",
        "inlink",
        "infile",
        "gitlink",
        "loop",
        "config",
        ".ｇｉｔ",
        ".gıt",
        ".git\u200b",
        ".git.",
        ".git ",
        "．sdd",
        "\u2024git",
        ".env",
        "x" * 255,
        "y" * 256,
        "ａｐｐ.py",
        "HEAD",
    ]
    prefixes = [
        "",
        "/",
        "./",
        "//",
        "../",
        f"{root}/",
        f"{real_root}/",
        f"{outside}/",
        f"{root.parent}/",
        f"{root}/../ws/",
    ]
    paths = st.builds(
        lambda pre, parts: pre + "/".join(parts),
        st.sampled_from(prefixes),
        st.lists(st.sampled_from(fragments), min_size=1, max_size=7),
    )
    seen: list[str] = []
    escapes: list[str] = []
    before = _tree_digest(outside, root / ".git", root / ".sdd")

    @settings(
        max_examples=2000,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(paths)
    def check(path: str) -> None:
        seen.append(path)
        for must_exist in (False, True):
            try:
                target = tb.guard.resolve(path, must_exist=must_exist)
            except ToolError:
                continue
            rel = target.relative_to(real_root) if target.is_relative_to(real_root) else None
            bad = rel is None or any(p.casefold() in (".git", ".sdd") for p in rel.parts)
            if bad or (os.path.realpath(target) != str(target) and target.exists()):
                escapes.append(path)
        tb.call("Write", {"file_path": path, "content": "written by the property test\n"})
        tb.call("Edit", {"file_path": path, "old_string": "TOPSECRET", "new_string": "pwned"})
        for name, args in (
            ("Read", {"file_path": path}),
            ("Grep", {"pattern": "MARKER|TOPSECRET|from sdd", "path": path}),
        ):
            content = tb.call(name, args).content
            if any(s in content for s in (SECRET, GIT_MARKER, "hello from sdd")):
                escapes.append(f"{name} {path}: {content[:200]}")
        listed = tb.call("Glob", {"pattern": "**/*t*", "path": path})
        for line in listed.content.splitlines() if not listed.is_error else ():
            parts = Path(line).parts
            if line.startswith("/") or any(p.casefold() in (".git", ".sdd", "..") for p in parts):
                escapes.append(f"Glob {path}: {line}")

    check()
    assert len(seen) >= 2000
    assert escapes == []
    assert _tree_digest(outside, root / ".git", root / ".sdd") == before


@pytest.mark.slow
@pytest.mark.parametrize("how", ["setsid", "double-fork", "nohup"])
def test_bash_leaves_nothing_running_after_the_call(ws: Path, how: str) -> None:
    """Even a process that left the call's session is ended when the call returns."""
    late = "sh -c 'sleep 1; echo late > late.txt'"
    start = {
        "setsid": f"setsid {late} > /dev/null 2>&1 &",
        "double-fork": f"( ( {late} ) & ) > /dev/null 2>&1;",
        "nohup": f"nohup {late} > /dev/null 2>&1 & disown;",
    }[how]
    tb = Toolbox(ws, env=BASE_ENV)
    out = ok(tb.call("Bash", {"command": f"{start} echo started"}))
    assert out.startswith("started")
    time.sleep(1.6)
    assert not (ws / "late.txt").exists()


@pytest.mark.slow
def test_bash_timeout_ends_an_escaped_process_too(ws: Path) -> None:
    tb = Toolbox(ws, env=BASE_ENV, bash_timeout=0.5)
    command = "setsid sh -c 'sleep 1; echo late > late.txt' > /dev/null 2>&1 & sleep 30"
    assert "timed out" in err(tb.call("Bash", {"command": command}))
    time.sleep(1.5)
    assert not (ws / "late.txt").exists()


def test_file_tools_refuse_fifos_and_sockets_without_blocking(ws: Path, tb: Toolbox) -> None:
    import socket

    os.mkfifo(ws / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws / "sock"))
    try:
        started = time.monotonic()
        for path in ("pipe", "sock"):
            assert "not a regular file" in err(tb.call("Read", {"file_path": path}))
            edit = {"file_path": path, "old_string": "a", "new_string": "b"}
            assert "not a regular file" in err(tb.call("Edit", edit))
            write = {"file_path": path, "content": "x"}
            assert "not a regular file" in err(tb.call("Write", write))
            assert ok(tb.call("Grep", {"pattern": "x", "path": path})) == "No matches."
        assert ok(tb.call("Grep", {"pattern": "hello"})) != "No matches."  # the rest is read
        assert time.monotonic() - started < 5
    finally:
        sock.close()


def test_sandboxed_bash_writes_only_the_workspace(ws: Path, tmp_path: Path) -> None:
    from orchestrator.agent.tools.sandbox import Sandbox, unavailable

    if unavailable():
        pytest.skip(unavailable())
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "private.txt").write_text("PRIVATE-CONTENT\n")
    outside = tmp_path / "outside"
    box = Sandbox(ws, (home, ws / ".sdd"), (ws / ".git",))
    tb = Toolbox(ws, env={**BASE_ENV, "HOME": str(home)}, sandbox=box)
    command = (
        f"ls -A {home}; cat {home}/notes/private.txt; echo x > {outside}/new.txt; "
        "echo x > $(printf .gi)t/evil; ls $(printf .sd)d; echo y > inside.txt; "
        "cat /proc/$PPID/environ | tr '\\0' '\\n' | grep -c PATH; echo done"
    )
    out = tb.call("Bash", {"command": command}).content
    assert "PRIVATE-CONTENT" not in out and "state.txt" not in out, out
    assert "done" in out
    assert (ws / "inside.txt").read_text() == "y\n"
    assert not (outside / "new.txt").exists()
    assert not (ws / ".git" / "evil").exists()
    assert (home / "notes" / "private.txt").read_text() == "PRIVATE-CONTENT\n"
