"""Reading what landed: task commits found by their trailers, commit details, patches.

Git is the truth about what landed: a task's commit is found by its `Sdd-Task` trailer, and a
store record only says where to look when the trailer is gone (history rewritten, reverted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.errors import GitStateError, InputError
from orchestrator.git.repo import GitRepo
from orchestrator.git.runner import first_line
from orchestrator.git.trailers import FEATURE, REVERT, TASK, parse_trailers

_US, _RS = "\x1f", "\x1e"


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    subject: str
    message: str
    trailers: dict[str, str]
    files: list[str]
    author: str  # "Name <email>"
    date: str  # author date, strict ISO 8601


@dataclass(frozen=True, slots=True)
class Landing:
    """A task's landing commit: the id it had then and its text as the subject holds it."""

    task_id: str
    sha: str
    text: str  # the subject after `T005: ` (cut with an ellipsis when long)


def task_commits(repo: GitRepo, feature: str, rev: str = "HEAD") -> dict[str, str]:
    """Task id -> sha of its landing commit, newest first; a later Sdd-Revert unlands it."""
    landed: dict[str, str] = {}
    for landing in landings(repo, feature, rev):
        landed.setdefault(landing.task_id, landing.sha)
    return landed


def landings(repo: GitRepo, feature: str, rev: str = "HEAD") -> list[Landing]:
    """The feature's landing commits on `rev`, newest first: the newest for each (id, text),
    unless a later Sdd-Revert of that id took it back. Ids alone can mislead once tasks.md was
    renumbered; the text tells which task a commit was."""
    fields = (f"%(trailers:key={key},valueonly,unfold,separator=%x2C)" for key in (TASK, REVERT))
    fmt = "%H%x1f{}%x1f{}%x1f%(trailers:key={},valueonly,unfold,separator=%x2C)%x1f%s%x1e".format(
        *fields, FEATURE
    )
    out = repo.git.out("log", f"--format={fmt}", "-i", "-F", f"--grep={FEATURE}", rev, "--")
    reverted: dict[str, int] = {}  # id -> landings of it that later reverts still take back
    seen: set[tuple[str, str]] = set()
    found: list[Landing] = []
    for record in out.split(_RS):
        parts = record.strip().split(_US)
        if len(parts) != 5 or feature not in _values(parts[3]):
            continue
        sha, tasks, reverts, subject = parts[0], _values(parts[1]), _values(parts[2]), parts[4]
        for task in reverts:
            reverted[task] = reverted.get(task, 0) + 1
        for task in tasks:
            text = subject.removeprefix(f"{task}: ").strip() if len(tasks) == 1 else ""
            if reverted.get(task):
                reverted[task] -= 1
            elif (task, text) not in seen:
                seen.add((task, text))
                found.append(Landing(task, sha, text))
    return found


def commits_since(repo: GitRepo, base: str) -> list[str]:
    """Commits on HEAD that `base` lacks, oldest first."""
    return repo.git.out("rev-list", "--reverse", f"{base}..HEAD").split()


def oldest(repo: GitRepo, shas: list[str]) -> str:
    """The commit of `shas` every other one descends from (their common ancestor: on a linear
    branch, the oldest of them)."""
    return repo.git.out("merge-base", "--octopus", *shas).strip()


def is_ancestor(repo: GitRepo, sha: str, rev: str = "HEAD") -> bool:
    if repo.resolve(sha) is None:
        return False
    code, _, err = repo.git.run("merge-base", "--is-ancestor", sha, rev, check=False)
    if code in (0, 1):
        return code == 0
    raise GitStateError(first_line(err, f"git merge-base failed for {sha}"))


def moved_past(repo: GitRepo, base: str, files: Iterable[str], rev: str = "HEAD") -> bool:
    """Whether `rev` is `base` with commits on top that touch none of `files` (paths from the
    top): an uncommitted change to them made at `base` is the same change at `rev`."""
    if not is_ancestor(repo, base, rev):
        return False
    since = repo.git.out("diff", "--name-only", "-z", "--no-renames", base, rev).split("\0")
    return not set(files) & {f for f in since if f}


def commit_info(repo: GitRepo, sha: str) -> CommitInfo | None:
    """The commit, or None when it is gone (history rewritten since it landed)."""
    full = repo.resolve(sha)
    if full is None:
        return None
    out = repo.git.out("show", "-s", "--format=%an <%ae>%x1f%aI%x1f%B", full)
    author, date, message = out.split(_US, 2)
    files = repo.git.out("diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "--root", full)
    return CommitInfo(
        sha=full,
        subject=message.split("\n", 1)[0],
        message=message.rstrip(),
        trailers=parse_trailers(message),
        files=[f for f in files.split("\0") if f],
        author=author,
        date=date,
    )


def diff(repo: GitRepo, sha: str, *, stat: bool = False, color: bool = False) -> str:
    """`git show` of one commit: its header and patch, or its --stat."""
    if repo.resolve(sha) is None:
        raise GitStateError(f"commit {sha[:10]} is not in this repository")
    mode = ["--stat"] if stat else ["--patch"]
    colour = "--color=always" if color else "--color=never"
    return repo.git.out("show", "--no-ext-diff", colour, *mode, sha, "--")


def pending_ref(feature: str, task_id: str) -> str:
    """Where a verified task waits for approval (`--approve each`), committed beside the
    branch, not on it."""
    return f"refs/sdd/pending/{feature}/{task_id}"


def patch(repo: GitRepo, sha: str, *, leave_out: str = "") -> str:
    """One commit's patch without its header, `leave_out` (a path) left out."""
    spec = ["--", ".", f":(exclude,top){leave_out}"] if leave_out else ["--"]
    return repo.git.out(
        "show", "--no-ext-diff", "--color=never", "--format=", "--patch", sha, *spec
    )


def landed_commit(repo: GitRepo, feature: str, task_id: str, recorded: str = "") -> CommitInfo:
    """The task's landing commit on HEAD, with a clear reason when there is none.

    `recorded` is the commit the store says the task landed as, consulted only when no commit
    on HEAD carries the task's trailer, to say why.
    """
    sha = task_commits(repo, feature).get(task_id)
    if sha is not None:
        info = commit_info(repo, sha)
        assert info is not None  # task_commits just read it from the log
        return info
    if not recorded:
        raise InputError(f"{task_id} has not landed")
    info = commit_info(repo, recorded)
    if info is None:
        raise GitStateError(
            f"commit {recorded[:10]} of {task_id} not found: history was rewritten since it landed"
        )
    if info.trailers.get(TASK) != task_id or info.trailers.get(FEATURE) != feature:
        raise GitStateError(
            f"commit {recorded[:10]} recorded for {task_id} is not sdd's "
            f"(no {TASK}: {task_id} trailer for {feature})"
        )
    if not is_ancestor(repo, info.sha):
        raise GitStateError(f"commit {recorded[:10]} of {task_id} is not on the current branch")
    raise InputError(f"{task_id} has not landed (its commit {recorded[:10]} was reverted)")


def _values(field: str) -> list[str]:
    return [v.strip() for v in field.split(",") if v.strip()]
