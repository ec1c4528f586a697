"""`sdd audit`: is every ticked task in tasks.md backed by a verified, landed commit?

A tick is a claim. sdd's own ticks come with a commit carrying the task's trailer and a
record of the verification that passed; ticks made by other tools (`/speckit.implement`, a
person) have neither, and are listed as unverified. With `run_tests`, the current suite runs
once and each ticked task is shown what its named test files say now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.git import history
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import make_plan
from orchestrator.speckit.tasks import Task
from orchestrator.store.open import open_records
from orchestrator.store.records import AttemptRecord, Outcome, TaskRecord, TaskStatus
from orchestrator.verify import runner
from orchestrator.verify.commands import detect
from orchestrator.verify.policy import is_test_path
from orchestrator.verify.results import Snapshot, test_file_of


@dataclass(slots=True)
class AuditRow:
    task: str
    description: str
    verified: bool
    reason: str  # how it was verified, or why it is not
    commit: str = ""
    kind: str = ""
    evidence: str = ""
    tests: str = ""  # with run_tests: what the task's named test files say now
    tests_ok: bool = True


@dataclass(slots=True)
class Audit:
    feature: str
    rows: list[AuditRow] = field(default_factory=list)
    suite: str = ""  # with run_tests: the suite's counts, or why it could not run
    suite_ok: bool = True

    @property
    def ok(self) -> bool:
        return self.suite_ok and all(r.verified and r.tests_ok for r in self.rows)


def audit_rows(
    ticked: list[Task],
    commits: Mapping[str, str],
    records: Mapping[str, TaskRecord],
    attempts: Mapping[str, list[AttemptRecord]],
) -> list[AuditRow]:
    """One row per ticked task: verified only with both a landed commit on HEAD (by trailer)
    and a record of a verification that passed (pure)."""
    rows = []
    for task in ticked:
        sha, rec = commits.get(task.id, ""), records.get(task.id)
        passed = [a for a in attempts.get(task.id, []) if a.outcome == Outcome.PASSED]
        if not sha:
            row = AuditRow(task.id, task.description, False, "ticked without an sdd commit")
        elif rec is None or rec.status != TaskStatus.LANDED or not passed:
            row = AuditRow(
                task.id,
                task.description,
                False,
                "landed, but no record of a verification that passed",
                sha,
            )
        else:
            how = f"verified on attempt {passed[-1].attempt}"
            row = AuditRow(task.id, task.description, True, how, sha, rec.kind, rec.evidence)
        rows.append(row)
    return rows


def run_audit(
    root: Path, feature_dir: Path, store_flag: str | None, run_tests: bool = False
) -> Audit:
    plan = make_plan(root, feature_dir)
    feature = plan.docs.name
    ticked = [t for t in plan.tasklist.tasks if t.done]
    store = open_records(root, store_flag, plan.config.store)
    try:
        records = store.tasks(feature) if store else {}
        attempts = {t.id: store.attempts(feature, t.id) for t in ticked} if store else {}
        expected = store.expected_red(feature) if store else {}
    finally:
        if store:
            store.close()
    commits = history.task_commits(GitRepo(root), feature) if ticked else {}
    result = Audit(feature, audit_rows(ticked, commits, records, attempts))
    if run_tests and ticked:
        docs = f"{plan.docs.plan}\n{plan.docs.constitution}"
        full = plan.config.phase_verify or plan.config.task_verify  # the full suite, if two
        verification = detect(root, full, docs=docs)
        mentioned = [f for t in plan.tasklist.tasks for f in t.files]
        timeout = plan.config.limits.verify_timeout
        snap = runner.verify_tree(root, verification, timeout=timeout, mentioned=mentioned)
        _add_tests(result, {t.id: t for t in ticked}, snap, expected)
    return result


def _add_tests(
    result: Audit, tasks: Mapping[str, Task], snap: Snapshot, expected: Mapping[str, str]
) -> None:
    if snap.problems:
        result.suite, result.suite_ok = f"could not run: {snap.problems[0].line()}", False
        for row in result.rows:
            row.tests, row.tests_ok = "not run", False
        return
    result.suite = snap.summary() or "no tests ran"
    for row in result.rows:
        named = [f.rstrip("/") for f in tasks[row.task].files if is_test_path(f) or f.endswith("/")]
        row.tests, row.tests_ok = _named_tests(named, snap, expected)


def _named_tests(named: list[str], snap: Snapshot, expected: Mapping[str, str]) -> tuple[str, bool]:
    """What the suite says of these test files (or folders), and whether that is fine."""
    if not named:
        return "names no test file", True

    def inside(test: str) -> bool:
        file = test_file_of(test)
        return any(file == n or file.startswith(n + "/") for n in named)

    passed = sum(map(inside, snap.passed))
    failing = [t for t in snap.failing if inside(t)]
    skipped = sum(map(inside, snap.skipped))
    if not passed and not failing and not skipped:
        return f"no test ran in {', '.join(named)}", False
    red = [t for t in failing if test_file_of(t) not in expected]
    parts = [
        f"{n} {what}"
        for n, what in ((passed, "passed"), (len(failing), "failed"), (skipped, "skipped"))
        if n
    ]
    if failing and not red:
        parts.append("red as expected")
    return ", ".join(parts), not red
