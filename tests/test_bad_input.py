"""A catalogue of malformed input through the real CLI: one clear line, the right code, no writes.

Each case builds a fresh spec-kit project (valid, like test_run_e2e's), breaks one thing, hashes
the whole case folder (every file's bytes, `.git` included, plus refs and HEAD), runs `sdd` as a
subprocess, and checks the answer and that nothing changed. A few inputs that look odd but are
fine (CRLF, a BOM, 10 MB, duplicate agents, no run yet) must work instead, also without writing.

The cases run in a thread pool once per session (only those selected), each in its own folder,
so the file stays fast; every test then checks its own recorded outcome.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # end-to-end runs through real subprocesses

SDD = [sys.executable, "-m", "orchestrator.cli"]
PAST = 1_600_000_000  # mtimes before any index write: no racily-clean entries for git to redo
WORKERS = 4

TASKS = """# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create calc/add.py with add(a, b)

## Phase 2: User Story 1 - Multiply (Priority: P1)

### Tests for User Story 1

- [ ] T002 [US1] Write tests for multiply in tests/test_mul.py

### Implementation for User Story 1

- [ ] T003 [US1] Implement multiply in calc/mul.py

## Phase 3: Polish

- [ ] T004 Run the full test suite and confirm it passes
"""
IDS = ["T001", "T002", "T003", "T004"]
FEATURE = "specs/001-calc"
SCRIPT = {"tasks": {t: [{"text": "Nothing to do."}] for t in IDS}}
AGENT = "---\nname: helper\ndescription: Helps with small chores.\ntools: {tools}\n---\n\nHelp.\n"
CONFIG = ".specify/sdd.yaml"


# ---------------------------------------------------------------- building a case


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True, env=env
    )


def put(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def remove(root: Path, rel: str) -> None:
    path = root / rel
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def baseline(root: Path) -> None:
    put(root, ".specify/memory/constitution.md", "# Calc Constitution\n\nTest first.\n")
    put(root, f"{FEATURE}/spec.md", "# Feature: calc\n\nAdd and multiply numbers.\n")
    put(root, f"{FEATURE}/plan.md", "# Plan: calc\n\nPython package calc/, pytest tests/.\n")
    put(root, f"{FEATURE}/tasks.md", TASKS)
    put(root, "calc/__init__.py", "")
    put(root, "tests/test_base.py", "def test_base():\n    assert True\n")
    put(root, ".gitignore", "__pycache__/\n")


def backdate(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        if ".git" in dirs:
            dirs.remove(".git")
        for name in files + dirs:
            os.utime(Path(folder) / name, (PAST, PAST), follow_symlinks=False)


def commit(root: Path, message: str) -> None:
    backdate(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


def conflict(root: Path, command: tuple[str, ...]) -> None:
    """Two branches change calc/__init__.py differently; `command` stops on the conflict."""
    git(root, "checkout", "-q", "-b", "other")
    put(root, "calc/__init__.py", "X = 1\n")
    commit(root, "other side")
    git(root, "checkout", "-q", "main")
    put(root, "calc/__init__.py", "X = 2\n")
    commit(root, "main side")
    if command[0] == "rebase":
        git(root, "checkout", "-q", "other")
    done = git(root, *command, check=False)
    assert done.returncode != 0, f"git {command} did not stop on a conflict"


# ---------------------------------------------------------------- the tree fingerprint


def snapshot(case_dir: Path) -> dict[str, str]:
    """Path -> content digest for everything under the case folder, plus each repo's refs."""
    seen: dict[str, str] = {}
    for folder, dirs, files in os.walk(case_dir):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(folder) / name
            rel = path.relative_to(case_dir).as_posix()
            if path.is_symlink():
                seen[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                seen[rel] = "dir"
            else:
                try:
                    seen[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                except PermissionError:
                    seen[rel] = f"unreadable {oct(path.lstat().st_mode)}"
    for repo in sorted(case_dir.iterdir()):
        if (repo / ".git").exists() or (repo / "HEAD").is_file():
            for args in (("for-each-ref",), ("rev-parse", "-q", "--verify", "HEAD")):
                done = git(repo, *args, check=False)
                seen[f"<git {' '.join(args)} in {repo.name}>"] = done.stdout + done.stderr
            seen[f"<HEAD of {repo.name}>"] = git(
                repo, "symbolic-ref", "-q", "HEAD", check=False
            ).stdout
    return seen


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    out = [f"created {p}" for p in after if p not in before]
    out += [f"removed {p}" for p in before if p not in after]
    out += [f"changed {p}" for p in before if p in after and before[p] != after[p]]
    return out


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One broken (or odd but valid) input. `args` may use {script}, {case} and {root}."""

    id: str
    args: tuple[str, ...]
    expect: str  # regex: in the error line; for "ok", in stdout; for "usage", in stderr
    setup: Callable[[Path], Path | None] | None = None  # may return the cwd to run in
    kind: str = "error"  # error | usage | ok
    code: int = 2  # error and usage cases; "ok" cases must exit 0
    git_mode: str = "commit"  # commit: setup's changes committed | raw: left as setup left them
    #                           init: `git init` only | none: not a git repository
    env: dict[str, str] = field(default_factory=dict)
    after: Callable[[Path], Callable[[], object]] | None = None  # last step; returns its undo
    check: Callable[[str], None] | None = None  # more about stdout, for "ok" cases

    def __str__(self) -> str:
        return self.id


def run_args(feature: str = "001") -> tuple[str, ...]:
    return ("run", feature, "--model", "scripted:{script}")


def write(rel: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        put(root, rel, content)

    return setup


def delete(rel: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        remove(root, rel)

    return setup


def detach(root: Path) -> None:
    git(root, "checkout", "-q", "--detach", "HEAD")


def tasks(content: str | bytes) -> Callable[[Path], None]:
    return write(f"{FEATURE}/tasks.md", content)


def folder_instead(rel: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        remove(root, rel)
        put(root, f"{rel}/inner.md", "a folder where a file belongs\n")

    return setup


def second_feature(root: Path) -> None:
    for doc in ("spec.md", "plan.md", "tasks.md"):
        shutil.copy(root / FEATURE / doc, put(root, f"specs/001-other/{doc}", ""))


def outside_folder(root: Path) -> None:
    put(root.parent, "elsewhere/spec.md", "# not in the project\n")


def unreadable_tasks(root: Path) -> None:
    path = root / FEATURE / "tasks.md"
    path.chmod(0)
    if os.access(path, os.R_OK):
        path.chmod(0o644)
        pytest.skip("running as root: a chmod 000 file is still readable (see spec-is-a-folder)")


def bare_clone(root: Path) -> Path:
    """spec-kit files inside a bare clone: there is no work tree to land commits in."""
    bare = root.parent / "proj.git"
    git(root.parent, "clone", "-q", "--bare", str(root), str(bare))
    for rel in (".specify", "specs"):
        shutil.copytree(root / rel, bare / rel)
    return bare


def not_in_a_repo(root: Path) -> None:
    inside = subprocess.run(
        ["git", "rev-parse", "--git-dir"], cwd=root, capture_output=True, text=True
    )
    if inside.returncode == 0:
        pytest.skip(f"the temp folder is inside a git repository ({inside.stdout.strip()})")


def read_only(root: Path) -> Callable[[], object]:
    """chmod -R a-w does not stop root; the immutable flag does. Without either: skip."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
        return partial(subprocess.run, ["chmod", "-R", "u+w", str(root)], check=False)
    undo = partial(subprocess.run, ["chattr", "-R", "-i", str(root)], capture_output=True)
    done = subprocess.run(["chattr", "-R", "+i", str(root)], capture_output=True, text=True)
    if done.returncode != 0:
        undo()
        pytest.skip(f"as root chmod a-w is no barrier and chattr +i failed: {done.stderr.strip()}")
    return undo


def sdd_file(root: Path) -> None:
    put(root, ".sdd", "not a folder\n")


def corrupt_state(root: Path) -> None:
    put(root, ".sdd/state.sqlite", b"this is not an SQLite database\n" * 64)


def big_tasks(root: Path) -> None:
    """10 MB: the four tasks, then long notes (100k tasks also plan, but take ~20 s of CPU)."""
    note = "This note explains the background of the feature at length. " * 160 + "\n\n"
    put(root, f"{FEATURE}/tasks.md", TASKS + "\n## Notes\n\n" + note * (10_500_000 // len(note)))


def two_helpers(root: Path) -> None:
    put(root, ".claude/agents/a-helper.md", AGENT.format(tools="Read"))
    put(root, ".claude/agents/b-helper.md", AGENT.format(tools="Read, Write"))
    put(root, "agents/generalist.md", AGENT.replace("helper", "generalist").format(tools="Read"))


def immutable_tasks(root: Path) -> Callable[[], object]:
    """chattr +i: not even root may replace the file (ticking a task does)."""
    path = root / FEATURE / "tasks.md"
    undo = partial(subprocess.run, ["chattr", "-i", str(path)], capture_output=True)
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i failed: {done.stderr.strip()}")
    return undo


def specs_elsewhere(root: Path) -> None:
    """specs/ is a symlink to a folder outside the repository."""
    shutil.move(root / "specs", root.parent / "elsewhere-specs")
    (root / "specs").symlink_to(root.parent / "elsewhere-specs", target_is_directory=True)


def failing_signing(root: Path) -> None:
    git(root, "config", "commit.gpgSign", "true")
    git(root, "config", "gpg.program", "false")


def refusing_pre_commit(root: Path) -> Callable[[], object]:
    """Installed last: the case's own commits would run it too."""
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: style' >&2\nexit 1\n")
    hook.chmod(0o755)
    return partial(hook.unlink, missing_ok=True)


def stale_index_lock(root: Path) -> Callable[[], object]:
    lock = root / ".git" / "index.lock"
    lock.write_text("")
    return partial(lock.unlink, missing_ok=True)


def config_from_work_tree(root: Path) -> None:
    put(root, "extra.gitconfig", "[core]\n\tautocrlf = false\n")
    git(root, "config", "include.path", "../extra.gitconfig")


def link_to_zero(rel: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        if (root / rel).exists():
            remove(root, rel)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to("/dev/zero")

    return setup


def crashed_then_edited(root: Path) -> None:
    """A crash left the record of T001's attempt; then the user edited tasks.md."""
    head = git(root, "rev-parse", "HEAD").stdout.strip()
    record = {"task": "T001", "base": head, "files": {"calc/add.py": "0" * 64}}
    put(root, ".sdd/footprints/001-calc.json", json.dumps(record))
    put(root, "calc/add.py", "def add(a, b):\n    return a + b\n")  # not what T001 left
    put(root, f"{FEATURE}/tasks.md", TASKS.replace("T004 Run", "T004 Then run"))


def renumbered_twice(root: Path) -> None:
    """T009 landed as "Run the full test suite…"; tasks.md now has that text twice."""
    put(root, "calc/done.txt", "checked\n")
    commit(
        root,
        "T009: Run the full test suite and confirm it passes\n\n"
        "Sdd-Task: T009\nSdd-Feature: 001-calc",
    )
    put(
        root,
        f"{FEATURE}/tasks.md",
        TASKS + "- [ ] T005 Run the full test suite and confirm it passes\n",
    )


def plan_ids(stdout: str) -> None:
    data = json.loads(stdout)
    assert [t["id"] for t in data["tasks"]] == IDS, data["tasks"]
    assert data["waves"] == [[t] for t in IDS]


def no_rows(stdout: str) -> None:
    assert json.loads(stdout) == []


def all_pending(stdout: str) -> None:
    data = json.loads(stdout)
    assert data["run"] is None
    assert [(t["task"], t["state"]) for t in data["tasks"]] == [(t, "pending") for t in IDS]


def agent_winners(stdout: str) -> None:
    """Both notes name the winner; a piped table wraps at 80 columns, even inside a path."""
    joined = "".join(stdout.split())
    assert "helper:b-helper.mdwinsovera-helper.mdin.claude/agents/" in joined, stdout
    assert re.search(
        r"generalistfromrepoagents/\S*/proj/agents/generalist\.mdoverridesbuilt-in", joined
    ), stdout


CRLF = TASKS.replace("\n", "\r\n")
PLAN = ("plan", "001")
CASES = [
    # -- where is the project, which feature ------------------------------------------------
    Case("plan-repo-does-not-exist", (*PLAN, "--repo", "/nonexistent/sdd-x"),
         r"repository not found: /nonexistent/sdd-x"),
    Case("plan-repo-is-a-file", (*PLAN, "--repo", "{root}/.gitignore"),
         r"repository is not a directory: .*\.gitignore"),
    Case("plan-repo-without-specify", (*PLAN, "--repo", "{root}"),
         r"no \.specify/ in .*proj: run `specify init`", delete(".specify")),
    Case("plan-cwd-without-specify", PLAN, r"no \.specify/ in .*proj or any folder above it",
         delete(".specify")),
    Case("plan-no-such-feature", ("plan", "999"),
         r"feature `999` not found; features: 001-calc$"),
    Case("plan-ambiguous-feature-number", ("plan", "1"),
         r"`1` is ambiguous: it matches specs/001-calc, specs/001-other", second_feature),
    Case("plan-branch-names-no-feature", ("plan",),
         r"current branch `main` names none: .*features: 001-calc, 001-other", second_feature),
    Case("plan-no-features-at-all", ("plan",), r"there are no features under .*specs yet",
         delete("specs")),
    Case("plan-feature-json-broken", ("plan",), r"\.specify/feature\.json line 1: invalid JSON",
         write(".specify/feature.json", "{")),
    Case("plan-feature-json-points-nowhere", ("plan",),
         r"\.specify/feature\.json points to specs/404-gone, which is not a folder",
         write(".specify/feature.json", '{"feature_directory": "specs/404-gone"}')),
    Case("plan-feature-env-points-nowhere", ("plan",),
         r"SPECIFY_FEATURE_DIRECTORY points to specs/404-gone",
         env={"SPECIFY_FEATURE_DIRECTORY": "specs/404-gone"}),
    Case("plan-feature-outside-root", ("plan", "../elsewhere"),
         r"feature folder \.\./elsewhere is outside the project root", outside_folder),
    # -- the feature's documents ---------------------------------------------------------------
    Case("plan-missing-spec", PLAN, r"missing specs/001-calc/spec\.md: a feature needs",
         delete(f"{FEATURE}/spec.md")),
    Case("plan-missing-plan", PLAN, r"missing specs/001-calc/plan\.md",
         delete(f"{FEATURE}/plan.md")),
    Case("plan-missing-tasks", PLAN, r"missing specs/001-calc/tasks\.md",
         delete(f"{FEATURE}/tasks.md")),
    Case("plan-spec-is-a-folder", PLAN, r"specs/001-calc/spec\.md is a folder, not a file",
         folder_instead(f"{FEATURE}/spec.md")),
    Case("plan-tasks-is-a-folder", PLAN, r"specs/001-calc/tasks\.md is a folder, not a file",
         folder_instead(f"{FEATURE}/tasks.md")),
    Case("plan-tasks-unreadable", PLAN, r"cannot read specs/001-calc/tasks\.md",
         unreadable_tasks, git_mode="raw"),
    Case("plan-constitution-latin-1", PLAN,
         r"\.specify/memory/constitution\.md is not UTF-8 text \(byte 0xe9",
         write(".specify/memory/constitution.md", "# Caf\u00e9 rules\n".encode("latin-1"))),
    # -- tasks.md that holds no runnable tasks ----------------------------------------------
    Case("plan-tasks-empty", PLAN, r"no tasks found: expected lines like `- \[ \] T001", tasks("")),
    Case("plan-tasks-prose-only", PLAN, r"no tasks found",
         tasks("# Tasks: calc\n\nTo be written after /speckit.plan.\n")),
    Case("plan-tasks-only-non-task-checkboxes", PLAN,
         r"line 3: no task IDs found; `- \[ \] CHK001 Is every requirement testable\?` looks",
         tasks("# Checklist\n\n- [ ] CHK001 Is every requirement testable?\n- [x] CHK002 Ok\n")),
    Case("plan-tasks-id-less-checklist", PLAN,
         r"line 5: no task IDs found; `- \[ \] Create the project structure` looks like a task",
         tasks("# Tasks\n\n## Phase 1\n\n- [ ] Create the project structure\n- [ ] Add calc\n")),
    Case("plan-tasks-duplicate-id", PLAN, r"duplicate task ID T002 on lines 11 and 15",
         tasks(TASKS.replace("T003", "T002"))),
    Case("plan-tasks-dependency-cycle", PLAN, r"dependency cycle: T001 \(line 1\) -> T002",
         tasks("- [ ] T001 Do a (depends on T002)\n- [ ] T002 Do b (depends on T001)\n")),
    Case("plan-tasks-unknown-dependency", PLAN,
         r"line 2: T002 depends on T099, which is not in tasks\.md",
         tasks("- [ ] T001 Do a\n- [ ] T002 Do b (depends on T099)\n")),
    Case("plan-tasks-binary", PLAN, r"tasks\.md is binary, not text \(NUL byte at offset 15\)",
         tasks(b"- [ ] T001 Do a\x00\x00\x01\x02\n")),
    Case("plan-tasks-utf-16", PLAN, r"tasks\.md is binary, not text",
         tasks(TASKS.encode("utf-16"))),
    Case("plan-tasks-latin-1", PLAN, r"tasks\.md is not UTF-8 text \(byte 0xe9 at offset 18\)",
         tasks("- [ ] T001 Add caf\u00e9 support\n".encode("latin-1"))),
    # -- agent definitions -------------------------------------------------------------------
    Case("plan-agent-broken-yaml-in-agents", PLAN, r"agents/helper\.md:\d+: invalid YAML",
         write("agents/helper.md", AGENT.format(tools="[Read, Write"))),
    Case("plan-agent-broken-yaml-in-claude-agents", PLAN,
         r"\.claude/agents/helper\.md:\d+: invalid YAML",
         write(".claude/agents/helper.md", AGENT.format(tools="[Read, Write"))),
    Case("plan-agent-unknown-tool", PLAN, r"helper\.md:4: unknown tool 'Teleport'",
         write(".claude/agents/helper.md", AGENT.format(tools="Read, Teleport"))),
    Case("plan-agent-missing-name", PLAN, r"helper\.md:1: missing 'name' in the front matter",
         write("agents/helper.md", AGENT.format(tools="Read").replace("name: helper\n", ""))),
    Case("plan-agent-no-front-matter", PLAN, r"helper\.md:1: no front matter",
         write("agents/helper.md", "# Helper\n\nHelps.\n")),
    # -- .specify/sdd.yaml -------------------------------------------------------------------
    Case("plan-config-broken-yaml", PLAN, r"sdd\.yaml`? line \d+: not valid YAML",
         write(CONFIG, "model: [sonnet\n")),
    Case("plan-config-wrong-type", PLAN, r"sdd\.yaml`?: jobs: .*integer.*\(got 'many'\)",
         write(CONFIG, "jobs: many\n")),
    Case("plan-config-unknown-key", PLAN, r"sdd\.yaml`?: modle: unknown key \(did you mean `model`",
         write(CONFIG, "modle: sonnet\n")),
    Case("plan-config-top-level-list", PLAN, r"top level must be a mapping of keys, not a list",
         write(CONFIG, "- model: sonnet\n")),
    Case("plan-config-out-of-range", PLAN, r"limits\.attempts: .*greater than or equal to 1",
         write(CONFIG, "limits:\n  attempts: 0\n")),
    Case("plan-config-route-to-unknown-agent", PLAN,
         r"route rule \(keyword 'api'\) names agent 'ghost', which is not defined",
         write(CONFIG, "routes:\n  - agent: ghost\n    keyword: api\n")),
    Case("plan-config-unknown-default-agent", PLAN, r"default agent 'ghost' is not defined",
         write(CONFIG, "default_agent: ghost\n")),
    Case("plan-config-unknown-engine", PLAN, r"sdd\.yaml`?: engine: .*'anthropic' or 'claude-code'",
         write(CONFIG, "engine: codex\n")),
    # -- sdd agents ----------------------------------------------------------------------------
    Case("agents-broken-yaml", ("agents",), r"\.claude/agents/helper\.md:\d+: invalid YAML",
         write(".claude/agents/helper.md", AGENT.format(tools="[Read"))),
    Case("agents-unknown-tool", ("agents",), r"unknown tool 'Teleport'",
         write("agents/helper.md", AGENT.format(tools="Teleport"))),
    Case("agents-without-specify", ("agents",), r"no \.specify/ in .*or any folder above it",
         delete(".specify")),
    # -- sdd run: the repository's state ----------------------------------------------------
    Case("run-not-a-git-repository", run_args(), r"not a git repository: .*proj",
         not_in_a_repo, git_mode="none"),
    Case("run-bare-repository", run_args(), r"is bare: sdd needs a work tree", bare_clone),
    Case("run-no-commits-yet", run_args(), r"the repository has no commits", git_mode="init"),
    Case("run-detached-head", run_args(), r"HEAD is detached at [0-9a-f]{10}",
         detach, git_mode="raw"),
    Case("run-merge-in-progress", run_args(), r"a merge is in progress: .*git merge --abort",
         lambda root: conflict(root, ("merge", "-q", "other")), git_mode="raw"),
    Case("run-rebase-in-progress", run_args(), r"a rebase is in progress: .*git rebase --abort",
         lambda root: conflict(root, ("rebase", "main")), git_mode="raw"),
    Case("run-dirty-untracked-file", run_args(), r"uncommitted changes in .*: notes\.txt; commit",
         write("notes.txt", "mine\n"), git_mode="raw"),
    Case("run-dirty-modified-file", run_args(), r"uncommitted changes in .*: tests/test_base\.py",
         write("tests/test_base.py", "def test_base():\n    assert 1\n"), git_mode="raw"),
    Case("run-read-only-tree", run_args(),
         r"(?i)read-only|not permitted|permission|cannot write", after=read_only),
    Case("run-state-dir-is-a-file", run_args(), r"\.sdd", sdd_file),
    # -- sdd run: the model --------------------------------------------------------------------
    Case("run-script-missing", ("run", "001", "--model", "scripted:missing.yaml"),
         r"model script .*proj/missing\.yaml does not exist"),
    Case("run-script-broken-yaml", ("run", "001", "--model", "scripted:{case}/broken.yaml"),
         r"broken\.yaml: line \d+: invalid YAML",
         write("../broken.yaml", "tasks: [T001\n")),
    Case("run-script-wrong-shape", ("run", "001", "--model", "scripted:{case}/shape.yaml"),
         r"shape\.yaml: line 1: tasks: tasks must map task ids",
         write("../shape.yaml", "tasks: [1, 2]\n")),
    Case("run-script-no-path", ("run", "001", "--model", "scripted:"),
         r"--model scripted:PATH needs a script path"),
    Case("run-no-api-key", ("run", "001"), r"no Anthropic API key .*set ANTHROPIC_API_KEY"),
    # -- sdd run: the plan is checked before anything is written ----------------------------
    Case("run-tasks-dependency-cycle", run_args(), r"dependency cycle",
         tasks("- [ ] T001 Do a (depends on T002)\n- [ ] T002 Do b (depends on T001)\n")),
    Case("run-agent-unknown-tool", run_args(), r"unknown tool 'Teleport'",
         write(".claude/agents/helper.md", AGENT.format(tools="Teleport"))),
    # -- what would fail only after an agent worked: checked before anything is written -----
    Case("run-tasks-immutable", run_args(), r"tasks\.md cannot be written .*chattr -i",
         after=immutable_tasks),
    Case("run-specs-symlinked-outside", run_args(),
         r"specs/001-calc is outside the repository \(it leads to .*elsewhere-specs",
         specs_elsewhere),
    Case("run-signing-fails", run_args(), r"commit\.gpgSign is on, but signing a commit fails",
         failing_signing),
    Case("run-pre-commit-refuses", run_args(),
         r"pre-commit hook refuses a commit even before any task \(lint failed: style\)",
         write(CONFIG, "commit_hooks: true\n"), after=refusing_pre_commit),
    Case("run-stale-index-lock", run_args(), r"index\.lock exists: another git command",
         after=stale_index_lock),
    Case("run-git-config-from-work-tree", run_args(),
         r"git reads its config from extra\.gitconfig .*move it out", config_from_work_tree),
    Case("resume-skip-unknown-task", ("resume", "001", "--model", "scripted:{script}", "--skip",
         "T999"), r"no task T999 in tasks\.md"),
    Case("run-agent-is-dev-zero", run_args(), r"evil\.md is not a regular file",
         link_to_zero("agents/evil.md")),
    Case("plan-tasks-is-dev-zero", PLAN, r"tasks\.md is not a regular file",
         link_to_zero(f"{FEATURE}/tasks.md")),
    Case("plan-spec-is-dev-zero", PLAN, r"spec\.md is not a regular file",
         link_to_zero(f"{FEATURE}/spec.md")),
    Case("plan-config-bool-for-int", PLAN, r"jobs: Input should be a valid integer \(got True\)",
         write(CONFIG, "jobs: true\n")),
    Case("plan-config-duplicate-key", PLAN, r"line 2: not valid YAML: duplicate key 'jobs'",
         write(CONFIG, "jobs: 2\njobs: 3\n")),
    Case("plan-agent-duplicate-key", PLAN, r"helper\.md:\d+: invalid YAML.*duplicate key 'name'",
         write("agents/helper.md", AGENT.format(tools="Read").replace(
             "name: helper\n", "name: helper\nname: other\n"))),
    Case("plan-tasks-self-dependency", PLAN, r"T002 depends on itself",
         tasks("- [ ] T001 Do a\n- [ ] T002 Do b (depends on T002)\n")),
    Case("run-resume-after-crash-with-user-edits", run_args(),
         r"changes in the working tree that the interrupted attempt of T001 did not make: "
         r"calc/add\.py, specs/001-calc/tasks\.md", crashed_then_edited, git_mode="raw"),
    Case("run-renumbered-ambiguous", run_args(),
         r"T009 landed as [0-9a-f]{10} .*T004, T005 now have that text", renumbered_twice),
    Case("resume-approve-with-nothing-held", ("resume", "001", "--approve"),
         r"no task of 001-calc is awaiting approval"),
    # -- sdd status / sdd log ----------------------------------------------------------------
    Case("status-no-such-feature", ("status", "999"), r"feature `999` not found"),
    Case("log-no-such-feature", ("log", "nope"), r"feature `nope` not found"),
    Case("status-tasks-binary", ("status", "001"), r"tasks\.md is binary", tasks(b"\x00T001")),
    Case("log-config-broken-yaml", ("log", "001"), r"not valid YAML", write(CONFIG, "jobs: [\n")),
    Case("status-state-db-corrupt", ("status", "001"), r"\.sdd/state\.sqlite", corrupt_state,
         git_mode="raw"),
    Case("log-state-db-corrupt", ("log", "001"), r"\.sdd/state\.sqlite", corrupt_state,
         git_mode="raw"),
    # -- odd but valid: these must work, and still write nothing ---------------------------
    Case("ok-plan-crlf-line-endings", (*PLAN, "--json"), r"T004", tasks(CRLF), kind="ok",
         check=plan_ids),
    Case("ok-plan-utf-8-bom", (*PLAN, "--json"), r"T004", tasks("\ufeff" + TASKS), kind="ok",
         check=plan_ids),
    Case("ok-plan-bom-and-crlf", (*PLAN, "--json"), r"T004", tasks("\ufeff" + CRLF), kind="ok",
         check=plan_ids),
    Case("ok-plan-10-mb-tasks", (*PLAN, "--json"), r"T004", big_tasks, kind="ok",
         check=plan_ids),
    Case("ok-agents-duplicate-names", ("agents",), r"helper", two_helpers, kind="ok",
         check=agent_winners),
    Case("ok-status-no-run-yet", ("status", "001", "--json"), r'"run": null', kind="ok",
         check=all_pending),
    Case("ok-log-no-run-yet", ("log", "001", "--json"), r"\[\]", kind="ok",
         check=no_rows),
    # -- command-line usage: typer's own usage box, exit 2 ----------------------------------
    Case("usage-unknown-option", ("plan", "--bogus"), r"No such option: --bogus", kind="usage"),
    Case("usage-option-missing-value", ("run", "001", "--model"),
         r"Option '--model' requires an argument", kind="usage"),
    Case("usage-unknown-command", ("frobnicate",), r"No such command 'frobnicate'", kind="usage"),
    Case("usage-unknown-engine", ("run", "001", "--engine", "codex"),
         r"--engine takes 'anthropic' or 'claude-code'", kind="usage"),
    Case("usage-note-without-reject", ("resume", "001", "--note", "shorter"),
         r"--note goes with --reject", kind="usage"),
    Case("usage-extra-argument", ("plan", "001", "extra"), r"unexpected extra argument.*\(extra\)",
         kind="usage"),
]  # fmt: skip


# ---------------------------------------------------------------- running the cases


@dataclass
class Outcome:
    code: int = -1
    stdout: str = ""
    stderr: str = ""
    changed: list[str] = field(default_factory=list)
    skip: str = ""
    crash: str = ""  # the test's own setup failed


def environment(case: Case) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPECIFY_", "ANTHROPIC_"))}
    env["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"  # nothing may reach a real endpoint
    return env | case.env


def prepare(case: Case, case_dir: Path) -> tuple[Path, Path, Callable[[], object] | None]:
    root = case_dir / "proj"
    baseline(root)
    if case.git_mode != "none":
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Test User")
        git(root, "config", "user.email", "user@example.invalid")
    if case.git_mode in ("commit", "raw"):
        commit(root, "initial")
    cwd = (case.setup(root) if case.setup else None) or root
    if case.git_mode == "commit" and git(root, "status", "--porcelain").stdout:
        commit(root, "break one thing")
    if case.git_mode != "none":
        backdate(root)
        git(root, "status", "--porcelain")  # settle the index before the fingerprint
    return root, cwd, case.after(root) if case.after else None


def play(case: Case, case_dir: Path) -> Outcome:
    undo = None
    try:
        try:
            root, cwd, undo = prepare(case, case_dir)
        except pytest.skip.Exception as e:
            return Outcome(skip=str(e))
        script = put(case_dir, "script.yaml", yaml.safe_dump(SCRIPT))
        fill = {"script": str(script), "case": str(case_dir), "root": str(root)}
        args = [a.format(**fill) for a in case.args]
        before = snapshot(case_dir)
        done = subprocess.run(
            [*SDD, *args], cwd=cwd, capture_output=True, text=True, env=environment(case),
            timeout=120,
        )  # fmt: skip
        return Outcome(
            done.returncode, done.stdout, done.stderr, changes(before, snapshot(case_dir))
        )
    except Exception as e:  # reported by the case's test, not lost in the pool
        return Outcome(crash=f"{type(e).__name__}: {e}")
    finally:
        if undo:
            undo()


class _OnDemand(dict[str, Outcome]):
    """Each case played when its test asks for it."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        super().__init__()
        self._factory = factory

    def __missing__(self, case_id: str) -> Outcome:
        case = next(c for c in CASES if c.id == case_id)
        self[case_id] = outcome = play(case, self._factory.mktemp(case_id))
        return outcome


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Play every selected case at once, in threads: each one is a subprocess and some git.
    On an xdist worker, which does not know which of them it will be given, each case is
    played when its test runs: the workers share them out instead of each playing all."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return _OnDemand(tmp_path_factory)
    wanted = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "callspec", None) and isinstance(item.callspec.params.get("case"), Case)
    ]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c.id: pool.submit(play, c, tmp_path_factory.mktemp(c.id)) for c in wanted}
        return {cid: f.result() for cid, f in futures.items()}


def flat(text: str) -> str:
    """Typer's usage box without its frame, on one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_case_ids_are_unique_and_cover_every_command() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    errors = [c for c in CASES if c.kind == "error"]
    assert len(errors) >= 40
    assert {c.args[0] for c in errors} == {"plan", "run", "resume", "agents", "status", "log"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, outcomes: dict[str, Outcome]) -> None:
    out = outcomes[case.id]
    if out.skip:
        pytest.skip(out.skip)
    assert not out.crash, f"the case could not be set up: {out.crash}"
    shown = f"exit {out.code}\n--- stdout\n{out.stdout[-3000:]}\n--- stderr\n{out.stderr[-3000:]}"
    problems: list[str] = []
    code = 0 if case.kind == "ok" else case.code
    if out.code != code:
        problems.append(f"exit code {out.code}, expected {code}")
    if "Traceback" in out.stdout + out.stderr:
        problems.append("a traceback")
    if case.kind == "error":
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        if len(lines) != 1 or not lines[0].startswith("error: "):
            problems.append(f"stderr is {len(lines)} lines, not one `error: ...` line")
        elif not re.search(case.expect, lines[0]):
            problems.append(f"the error line does not match {case.expect!r}")
    elif case.kind == "usage":
        if not re.search(case.expect, flat(out.stderr)):
            problems.append(f"the usage error does not match {case.expect!r}")
    else:
        if out.stderr.strip():
            problems.append("stderr is not empty")
        if not re.search(case.expect, out.stdout):
            problems.append(f"stdout does not match {case.expect!r}")
        elif case.check:
            try:
                case.check(out.stdout)
            except (AssertionError, ValueError) as e:
                problems.append(f"stdout check failed: {e}")
    created = [c for c in out.changed if c.startswith("created") and ".sdd" in c.split("/")]
    if created:
        problems.append(".sdd/ was created: " + ", ".join(created[:5]))
    if out.changed:
        problems.append("the tree changed: " + ", ".join(out.changed[:10]))
    assert not problems, "; ".join(problems) + "\n" + shown
