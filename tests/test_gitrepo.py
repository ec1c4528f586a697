"""GitRepo against real repositories: refused states, the user's files, landing and finding
task commits, reverting."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.errors import GitStateError
from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.git.trailers import revert_commit_message, task_commit_message

FEATURE = "001-todo-api"


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config of the machine running the tests leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{role}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{role}_EMAIL", raising=False)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def init(path: Path, *, identity: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Ada User")
        git(path, "config", "user.email", "ada@example.com")
    return path


def commit(root: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        write(root / name, text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = init(tmp_path / "work")
    commit(root, {"README.md": "hello\n", ".gitignore": ".venv/\n", "app.py": "x = 1\n"}, "init")
    return root


def land(repo: GitRepo, task: str, files: dict[str, str], feature: str = FEATURE) -> str:
    for name, text in files.items():
        write(repo.root / name, text)
    trailers = {"Sdd-Task": task, "Sdd-Feature": feature, "Sdd-Agent": "generalist"}
    return repo.commit_all(task_commit_message(task, f"do {task}", "Done.", trailers))


# -- opening and refusing --------------------------------------------------------------------


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitStateError, match=r"^not a git repository: .*plain$"):
        GitRepo(tmp_path / "plain")
    with pytest.raises(GitStateError, match=r"^not a git repository: .*missing$"):
        GitRepo(tmp_path / "missing")


def test_root_is_the_top_of_the_work_tree(work: Path) -> None:
    (work / "sub" / "deeper").mkdir(parents=True)
    repo = GitRepo(work / "sub" / "deeper")
    assert repo.root == work.resolve()
    repo.check_writable()
    assert repo.branch() == "main"
    assert repo.head() == git(work, "rev-parse", "HEAD").strip()


def _bare(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "--bare", "bare.git")
    return tmp_path / "bare.git"


def _no_commits(tmp_path: Path) -> Path:
    return init(tmp_path / "empty")


def _detached(tmp_path: Path) -> Path:
    root = init(tmp_path / "w")
    commit(root, {"a": "1\n"}, "one")
    git(root, "checkout", "-q", "--detach")
    return root


def _diverged(tmp_path: Path) -> Path:
    """main and `other` both changed line one of `a`, so any combination conflicts."""
    root = init(tmp_path / "w")
    commit(root, {"a": "base\n"}, "base")
    git(root, "checkout", "-q", "-b", "other")
    commit(root, {"a": "theirs\n"}, "theirs")
    git(root, "checkout", "-q", "main")
    commit(root, {"a": "ours\n"}, "ours")
    return root


def _merging(tmp_path: Path) -> Path:
    root = _diverged(tmp_path)
    git(root, "merge", "-q", "other", check=False)
    return root


def _rebasing(tmp_path: Path) -> Path:
    root = _diverged(tmp_path)
    git(root, "rebase", "-q", "other", check=False)
    return root


def _cherry_picking(tmp_path: Path) -> Path:
    root = _diverged(tmp_path)
    git(root, "cherry-pick", "other", check=False)
    return root


def _reverting(tmp_path: Path) -> Path:
    root = _diverged(tmp_path)
    commit(root, {"a": "later\n"}, "later")
    git(root, "revert", "--no-edit", "HEAD~1", check=False)
    return root


def _bisecting(tmp_path: Path) -> Path:
    root = _diverged(tmp_path)
    git(root, "bisect", "start")
    return root


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_bare, r"is bare"),
        (_no_commits, r"^the repository has no commits: make an initial commit first$"),
        (_detached, r"^HEAD is detached at [0-9a-f]{10}: check out a branch first$"),
        (_merging, r"^a merge is in progress: .*git merge --abort"),
        (_rebasing, r"^a rebase is in progress: .*git rebase --abort"),
        (_cherry_picking, r"^a cherry-pick is in progress"),
        (_reverting, r"^a revert is in progress"),
        (_bisecting, r"^a bisect is in progress: .*git bisect reset"),
    ],
)
def test_check_writable_refuses(make: Callable[[Path], Path], message: str, tmp_path: Path) -> None:
    repo = GitRepo(make(tmp_path))
    with pytest.raises(GitStateError, match=message) as caught:
        repo.check_writable()
    assert "\n" not in str(caught.value)


def test_head_without_commits_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GitStateError, match="has no commits"):
        GitRepo(_no_commits(tmp_path)).head()


# -- the user's files ----------------------------------------------------------------------------


def test_dirty_files_sees_untracked_and_not_ignored(work: Path) -> None:
    repo = GitRepo(work)
    assert repo.dirty_files() == []
    write(work / "app.py", "x = 2\n")
    write(work / "new dir" / "deep" / "n.py", "")
    write(work / ".venv" / "lib.py", "")
    git(work, "mv", "README.md", "READ.md")
    assert repo.dirty_files() == ["READ.md", "README.md", "app.py", "new dir/deep/n.py"]


def test_exclude_is_idempotent_and_leaves_gitignore_alone(work: Path) -> None:
    repo = GitRepo(work)
    gitignore = (work / ".gitignore").read_bytes()
    write(work / ".sdd" / "state.sqlite", "x")
    assert repo.dirty_files() == [".sdd/state.sqlite"]
    repo.exclude(".sdd/")
    repo.exclude(".sdd/")
    lines = (work / ".git" / "info" / "exclude").read_text().splitlines()
    assert lines.count(".sdd/") == 1
    assert (work / ".gitignore").read_bytes() == gitignore
    assert repo.dirty_files() == []


def test_exclude_from_a_linked_worktree_uses_the_shared_file(work: Path, tmp_path: Path) -> None:
    git(work, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    GitRepo(tmp_path / "wt").exclude(".sdd/")
    assert ".sdd/" in (work / ".git" / "info" / "exclude").read_text().splitlines()


def test_changed_files_against_base(work: Path) -> None:
    repo = GitRepo(work)
    base = repo.head()
    commit(work, {"app.py": "x = 3\n"}, "an agent committed on its own")
    write(work / "README.md", "changed\n")
    write(work / "pkg" / "new.py", "")
    write(work / ".venv" / "ignored.py", "")
    (work / "app.py").write_text("x = 1\n")  # back to the base content
    assert repo.changed_files(base) == ["README.md", "pkg/new.py"]
    assert repo.changed_files(repo.head()) == ["README.md", "app.py", "pkg/new.py"]


def test_reset_to_drops_changes_but_keeps_ignored_files(work: Path) -> None:
    repo = GitRepo(work)
    repo.exclude(".sdd/")
    base = repo.head()
    write(work / "app.py", "broken\n")
    write(work / "stray" / "nested" / "file.py", "")
    write(work / "top.txt", "")
    write(work / ".sdd" / "state.sqlite", "keep")
    write(work / ".venv" / "bin" / "python", "keep")
    git(work, "add", "top.txt")
    repo.reset_to(base)
    assert repo.dirty_files() == []
    assert (work / "app.py").read_text() == "x = 1\n"
    assert not (work / "stray").exists()
    assert not (work / "top.txt").exists()
    assert (work / ".sdd" / "state.sqlite").read_text() == "keep"
    assert (work / ".venv" / "bin" / "python").read_text() == "keep"


def test_git_failures_become_one_line(work: Path) -> None:
    with pytest.raises(GitStateError) as caught:
        GitRepo(work).reset_to("no-such-revision")
    text = str(caught.value)
    assert "no-such-revision" in text
    assert "\n" not in text
    assert not text.startswith(("fatal", "error"))


# -- committing ----------------------------------------------------------------------------------


def test_commit_all_lands_everything_under_the_users_identity(work: Path) -> None:
    repo = GitRepo(work)
    write(work / "src" / "api.py", "app = 1\n")
    message = task_commit_message(
        "T002", "Add `api`", "## Notes\n# kept", {"Sdd-Task": "T002", "Sdd-Feature": FEATURE}
    )
    sha = repo.commit_all(message)
    assert sha == git(work, "rev-parse", "HEAD").strip()
    assert git(work, "log", "-1", "--format=%B", sha) == message + "\n"
    assert git(work, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha).strip() == (
        "Ada User <ada@example.com>|Ada User <ada@example.com>"
    )
    fmt = "--format=%(trailers:key=Sdd-Task,valueonly)"
    assert git(work, "log", "-1", fmt, sha).strip() == "T002"
    assert repo.dirty_files() == []


def test_commit_all_refuses_an_empty_commit(work: Path) -> None:
    repo = GitRepo(work)
    head = repo.head()
    with pytest.raises(GitStateError, match="nothing to commit"):
        repo.commit_all("T001: nothing\n")
    assert repo.head() == head


def test_hooks_run_only_when_asked(work: Path) -> None:
    hook = work / ".git" / "hooks" / "pre-commit"
    write(hook, "#!/bin/sh\necho 'lint failed: app.py' >&2\nexit 1\n")
    hook.chmod(0o755)
    repo = GitRepo(work)
    write(work / "a.txt", "1")
    with pytest.raises(GitStateError, match=r"^lint failed: app\.py$"):
        repo.commit_all("T001: a\n", hooks=True)
    sha = repo.commit_all("T001: a\n")
    assert repo.head() == sha


def test_no_identity_falls_back_to_sdd(tmp_path: Path) -> None:
    root = init(tmp_path / "ci", identity=False)
    # A host with a full domain name could otherwise let git guess one.
    git(root, "config", "user.useConfigOnly", "true")
    write(root / "a.txt", "1")
    repo = GitRepo(root)
    with pytest.raises(GitStateError, match="no user identity"):
        repo.commit_user_changes("WIP")
    sha = repo.commit_all("T001: first\n")
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha).strip() == (
        "sdd <sdd@localhost>|sdd <sdd@localhost>"
    )
    assert git(root, "config", "--get", "user.name", check=False) == ""


def test_commit_user_changes_is_their_own_commit(work: Path) -> None:
    repo = GitRepo(work)
    write(work / "app.py", "x = 42\n")
    write(work / "notes.txt", "mine\n")
    sha = repo.commit_user_changes("Work in progress before sdd run")
    info = history.commit_info(repo, sha)
    assert info is not None
    assert info.author == "Ada User <ada@example.com>"
    assert info.subject == "Work in progress before sdd run"
    assert info.files == ["app.py", "notes.txt"]
    assert info.trailers == {}
    assert repo.dirty_files() == []


# -- finding task commits ------------------------------------------------------------------------


def test_task_commits_by_trailer(work: Path) -> None:
    repo = GitRepo(work)
    t1 = land(repo, "T001", {"a.py": "1\n"})
    land(repo, "T002", {"b.py": "1\n"})
    other = land(repo, "T001", {"c.py": "1\n"}, feature="002-other")
    commit(work, {"d.py": "1"}, "T003: by hand\nSdd-Task: T003\nSdd-Feature: " + FEATURE)
    commit(work, {"e.py": "1"}, "Sdd-Task: T004")
    prose = f"T005: prose\n\nSdd-Task: T005\nSdd-Feature: {FEATURE}\nand then a sentence."
    commit(work, {"f.py": "1"}, prose)  # not a trailer block for git: one line is prose
    t2 = land(repo, "T002", {"b.py": "2\n"})  # landed again: the newest wins
    assert history.task_commits(repo, FEATURE) == {"T001": t1, "T002": t2}
    assert history.task_commits(repo, "002-other") == {"T001": other}
    assert history.task_commits(repo, "003-none") == {}
    assert history.task_commits(repo, FEATURE, rev=t1) == {"T001": t1}


def test_reverted_task_is_not_landed_until_it_lands_again(work: Path) -> None:
    repo = GitRepo(work)
    t1 = land(repo, "T001", {"a.py": "1\n"})
    t2 = land(repo, "T002", {"b.py": "1\n"})
    info = history.commit_info(repo, t1)
    assert info is not None
    undo = repo.revert(t1, revert_commit_message("T001", FEATURE, info.subject, t1))
    assert not (work / "a.py").exists()
    assert history.task_commits(repo, FEATURE) == {"T002": t2}
    assert history.commit_info(repo, undo) is not None
    again = land(repo, "T001", {"a.py": "2\n"})
    assert history.task_commits(repo, FEATURE) == {"T001": again, "T002": t2}
    # An undo of another feature's T001 does not touch this one.
    land(repo, "T001", {"z.py": "1\n"}, feature="002-other")
    other = history.task_commits(repo, "002-other")["T001"]
    repo.revert(other, revert_commit_message("T001", "002-other", "T001: do T001", other))
    assert history.task_commits(repo, FEATURE) == {"T001": again, "T002": t2}
    assert history.task_commits(repo, "002-other") == {}


def test_commit_info_and_unknown_commits(work: Path) -> None:
    repo = GitRepo(work)
    sha = land(repo, "T007", {"src/m.py": "m = 1\n", "README.md": "more\n"})
    info = history.commit_info(repo, sha[:12])
    assert info is not None
    assert info.sha == sha
    assert info.subject == "T007: do T007"
    assert info.trailers["Sdd-Task"] == "T007"
    assert info.files == ["README.md", "src/m.py"]
    assert info.author == "Ada User <ada@example.com>"
    assert info.date[:4].isdigit() and "T" in info.date
    assert history.commit_info(repo, "0" * 40) is None
    assert history.commit_info(repo, "not-a-rev") is None
    assert history.commit_info(repo, git(work, "rev-parse", "HEAD^{tree}").strip()) is None


def test_diff_and_stat(work: Path) -> None:
    repo = GitRepo(work)
    sha = land(repo, "T003", {"app.py": "x = 2\n"})
    patch = history.diff(repo, sha)
    assert patch.startswith(f"commit {sha}")
    assert "-x = 1\n+x = 2\n" in patch
    assert "\x1b[" not in patch
    assert "\x1b[" in history.diff(repo, sha, color=True)
    stat = history.diff(repo, sha, stat=True)
    assert "app.py | 2 +-" in stat
    assert "@@" not in stat
    with pytest.raises(GitStateError, match="not in this repository"):
        history.diff(repo, "0" * 40)


def test_ancestry_and_commits_since(work: Path) -> None:
    repo = GitRepo(work)
    base = repo.head()
    a = land(repo, "T001", {"a.py": "1\n"})
    b = land(repo, "T002", {"b.py": "1\n"})
    assert history.commits_since(repo, base) == [a, b]
    assert history.commits_since(repo, b) == []
    assert history.is_ancestor(repo, a)
    assert history.is_ancestor(repo, base, b)
    assert not history.is_ancestor(repo, b, a)
    assert not history.is_ancestor(repo, "0" * 40)
    git(work, "reset", "-q", "--hard", base)  # history rewritten: a and b are gone from HEAD
    assert not history.is_ancestor(repo, a)
    assert history.task_commits(repo, FEATURE) == {}


def test_revert_conflict_aborts_and_names_the_files(work: Path) -> None:
    repo = GitRepo(work)
    landed = land(repo, "T001", {"app.py": "x = 2\n", "other.py": "o\n"})
    commit(work, {"app.py": "x = 3\n"}, "the user edited the same line")
    head = repo.head()
    with pytest.raises(GitStateError, match=r"cannot revert [0-9a-f]{10} cleanly: .*app\.py$"):
        repo.revert(landed, "Revert T001\n")
    assert repo.head() == head
    assert repo.dirty_files() == []
    repo.check_writable()  # no revert left in progress
    assert (work / "app.py").read_text() == "x = 3\n"


def test_reverting_twice_refuses_and_leaves_no_revert_in_progress(work: Path) -> None:
    repo = GitRepo(work)
    landed = land(repo, "T001", {"a.py": "1\n"})
    repo.revert(landed, revert_commit_message("T001", FEATURE, "T001: do T001", landed))
    head = repo.head()
    with pytest.raises(GitStateError, match="nothing to commit"):
        repo.revert(landed, revert_commit_message("T001", FEATURE, "T001: do T001", landed))
    assert repo.head() == head
    assert repo.dirty_files() == []
    repo.check_writable()
