"""sdd's own git never runs code an agent could plant (hooks, fsmonitor), and the guard puts back
git's files, HEAD and the branch after an attempt changed them, on real repositories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from support.repo import commit_tree, git

from orchestrator.git.guard import Machinery, Position
from orchestrator.git.repo import GitRepo
from orchestrator.run.guard import AttemptGuard, is_rules_file, refused_paths
from orchestrator.run.workspace import Workspace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    (root / ".specify").mkdir()
    (root / ".specify" / "sdd.yaml").write_text("jobs: 1\n")
    commit_tree(root)
    return root


def spy(root: Path, name: str) -> Path:
    """An executable that records that it ran (and with which environment) beside the repo."""
    mark = root.parent / f"{name}.ran"
    script = root.parent / f"{name}.sh"
    script.write_text(f"#!/bin/sh\nenv > '{mark}'\nexit 0\n")
    script.chmod(0o755)
    return mark


def hook(root: Path, name: str) -> Path:
    mark = spy(root, name)
    path = root / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\nexec '{root.parent / (name + '.sh')}'\n")
    path.chmod(0o755)
    return mark


def test_no_hook_runs_when_hooks_are_off(repo: Path) -> None:
    marks = [hook(repo, h) for h in ("pre-commit", "prepare-commit-msg", "commit-msg")]
    marks += [hook(repo, h) for h in ("post-commit", "post-checkout", "post-merge")]
    gr = GitRepo(repo)
    (repo / "b.txt").write_text("b\n")
    sha = gr.commit_all("T001: b")
    gr.reset_to(f"{sha}^")
    gr.add_worktree(repo.parent / "wt", sha)
    gr.fast_forward(sha)
    assert [m.name for m in marks if m.exists()] == []


def test_hooks_run_when_a_commit_asks(repo: Path) -> None:
    marks = [hook(repo, h) for h in ("pre-commit", "prepare-commit-msg", "post-commit")]
    (repo / "b.txt").write_text("b\n")
    GitRepo(repo).commit_all("T001: b", hooks=True)
    assert all(m.exists() for m in marks)


@pytest.mark.parametrize(
    "key", ["core.fsmonitor", "core.hooksPath"], ids=["fsmonitor", "hooks-path"]
)
def test_config_an_agent_writes_runs_nothing_in_sdds_git(repo: Path, key: str) -> None:
    mark = spy(repo, "planted")
    target = repo.parent / "planted.sh"
    if key == "core.hooksPath":
        hooks = repo.parent / "planted-hooks"
        hooks.mkdir()
        for name in ("pre-commit", "post-commit", "post-checkout", "post-merge"):
            (hooks / name).symlink_to(target)
        target = hooks
    git(repo, "config", key, str(target))
    gr = GitRepo(repo)
    (repo / "b.txt").write_text("b\n")
    gr.dirty_files()
    gr.changed_files("HEAD")
    sha = gr.commit_all("T001: b")
    gr.reset_to(f"{sha}^")
    gr.fast_forward(sha)
    assert not mark.exists(), f"{key} ran {mark.read_text()[:200]}"


def test_machinery_notices_and_restores_config_and_hooks(repo: Path) -> None:
    gr = GitRepo(repo)
    git_dir = repo / ".git"
    (git_dir / "hooks" / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    config_before = (git_dir / "config").read_bytes()
    snap = Machinery.capture(gr)
    assert snap.changes() == []
    git(repo, "config", "core.fsmonitor", "/tmp/evil")
    planted = git_dir / "hooks" / "post-merge"
    planted.write_text("#!/bin/sh\necho evil\n")
    planted.chmod(0o755)
    (git_dir / "hooks" / "pre-push").unlink()
    (git_dir / "info" / "attributes").write_text("* filter=evil\n")
    assert snap.changes() == [
        ".git/config",
        ".git/hooks/post-merge",
        ".git/hooks/pre-push",
        ".git/info/attributes",
    ]
    assert snap.restore() == snap.changes() or snap.changes() == []
    assert snap.changes() == []
    assert (git_dir / "config").read_bytes() == config_before
    assert not planted.exists() and not (git_dir / "info" / "attributes").exists()
    assert (git_dir / "hooks" / "pre-push").read_text() == "#!/bin/sh\nexit 0\n"


def test_machinery_restores_modes(repo: Path) -> None:
    gr = GitRepo(repo)
    sample = repo / ".git" / "hooks" / "pre-commit.sample"
    mode = stat.S_IMODE(sample.stat().st_mode)
    snap = Machinery.capture(gr)
    sample.chmod(0o777)
    assert snap.changes() == [".git/hooks/pre-commit.sample"]
    snap.restore()
    assert stat.S_IMODE(sample.stat().st_mode) == mode


@pytest.mark.parametrize("route", ["commit", "checkout", "update-ref"])
def test_position_puts_head_and_branch_back_and_keeps_the_work(repo: Path, route: str) -> None:
    gr = GitRepo(repo)
    base = gr.head()
    where = Position.of(gr)
    (repo / "new.txt").write_text("agent's work\n")
    (repo / "a.txt").write_text("changed\n")
    if route == "commit":
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "agent commit")
    elif route == "checkout":
        git(repo, "checkout", "-q", "-b", "other")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "agent commit on other")
    else:
        git(repo, "add", "-A")
        tree = git(repo, "write-tree").strip()
        sha = git(repo, "commit-tree", tree, "-p", base, "-m", "forged").strip()
        git(repo, "update-ref", "refs/heads/main", sha)
    assert where.moved(gr)
    where.restore(gr)
    assert where.moved(gr) == ""
    assert gr.head() == base and gr.branch() == "main"
    assert git(repo, "rev-parse", "refs/heads/main").strip() == base
    assert (repo / "new.txt").read_text() == "agent's work\n"
    assert sorted(gr.changed_files(base)) == ["a.txt", "new.txt"]
    assert git(repo, "diff", "--cached", "--name-only") == ""


def test_attempt_guard_undoes_rules_files_the_task_does_not_name(repo: Path) -> None:
    gr = GitRepo(repo)
    ws = Workspace(repo, gr, "specs/x/tasks.md")
    guard = AttemptGuard(ws, gr.head(), Machinery.capture(gr), named=[".gitignore"])
    (repo / ".specify" / "sdd.yaml").write_text("verify: []\n")
    (repo / ".claude" / "agents").mkdir(parents=True)
    (repo / ".claude" / "agents" / "evil.md").write_text("---\nname: evil\n---\n")
    (repo / ".claude" / "settings.local.json").write_text("{}")
    (repo / ".gitattributes").write_text("* filter=x\n")
    (repo / ".gitignore").write_text("build/\n")
    (repo / "app.py").write_text("print(1)\n")
    feedback, touched, changed = guard.check()
    assert touched == [
        ".claude/agents/evil.md",
        ".claude/settings.local.json",
        ".gitattributes",
        ".specify/sdd.yaml",
    ]
    assert "sdd's rules" in feedback
    assert (repo / ".specify" / "sdd.yaml").read_text() == "jobs: 1\n"
    assert not (repo / ".claude" / "agents" / "evil.md").exists()
    assert not (repo / ".gitattributes").exists()
    assert ws.changed(gr.head()) == changed == [".gitignore", "app.py"]
    assert guard.check() == ("", [], changed)


def test_rules_files() -> None:
    assert is_rules_file(".specify/sdd.yaml")
    assert is_rules_file("agents/reviewer.md") and is_rules_file(".claude/agents/x.md")
    assert is_rules_file(".claude/settings.json") and is_rules_file("sub/.gitmodules")
    assert is_rules_file(".specify/memory/constitution.md")
    assert not is_rules_file("app/agents.py") and not is_rules_file(".github/workflows/ci.yml")
    assert refused_paths([".gitignore", "x/.gitattributes"], ["./.gitignore"]) == [
        "x/.gitattributes"
    ]


def test_sdds_git_ignores_the_system_config(repo: Path, tmp_path: Path) -> None:
    system = tmp_path / "system-gitconfig"
    system.write_text("[core]\n\tfsmonitor = /nonexistent/evil\n")
    old = os.environ.get("GIT_CONFIG_SYSTEM")
    os.environ["GIT_CONFIG_SYSTEM"] = str(system)
    try:
        out = GitRepo(repo).git.out("config", "--show-origin", "--list")
    finally:
        if old is None:
            os.environ.pop("GIT_CONFIG_SYSTEM")
        else:
            os.environ["GIT_CONFIG_SYSTEM"] = old
    assert str(system) not in out
