"""Opening a run: everything that could make it unsafe is checked before anything is written,
then the records, the locks and the run context.

The order matters: a refusal (bad input, dirty tree, a missing key) leaves no trace; the
first write is `.git/info/exclude`, and the store is opened only under the worktree's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator import paths
from orchestrator.agent.budget import spent as spent_by
from orchestrator.agent.engine import AgentEngine
from orchestrator.agent.engines import make_engine
from orchestrator.agent.transcript import secret_values
from orchestrator.errors import AwaitingAnswer, GitStateError, InputError
from orchestrator.git.guard import Machinery
from orchestrator.git.history import landings
from orchestrator.git.repo import GitRepo
from orchestrator.plan.build import Plan, make_plan
from orchestrator.run.context import Head, RunContext, RunOptions, UsageMeter
from orchestrator.run.footprint import Leftovers, leftovers
from orchestrator.run.journal import open_conversation
from orchestrator.run.lock import check_free, take_lock
from orchestrator.run.preflight import check_before_writing
from orchestrator.run.reconcile import reconcile
from orchestrator.run.remembered import continues, options_json, with_kept
from orchestrator.run.remote import catch_up
from orchestrator.run.reporter import Reporter
from orchestrator.run.waves import keep_worktrees
from orchestrator.speckit.documents import read_exact
from orchestrator.store.backend import Closeable
from orchestrator.store.open import open_existing, open_store, remember_store, store_url
from orchestrator.store.records import RunRecord, TaskRecord, TaskStatus
from orchestrator.store.store import Store
from orchestrator.store.url import StoreUrl
from orchestrator.verify.runner import clean_stale_dirs


@dataclass(frozen=True, slots=True)
class Checked:
    """Everything `check_run` found safe, for `open_run` to act on."""

    plan: Plan
    url: StoreUrl
    repo: GitRepo
    options: RunOptions  # as given, with what the run being continued was given filled in
    engine: AgentEngine
    landed: dict[str, str]
    notes: list[str]
    skip: list[str]
    found: Leftovers
    ours: str  # the `.git/info/exclude` line for `.sdd/`


def check_run(
    root: Path, feature_dir: Path, given: RunOptions, answered: bool | None = None
) -> Checked:
    """Every refusal a run can meet, before anything is written: bad documents or config,
    an unusable store, model or engine, a busy tree, a dirty one, `--skip` of no task, and
    (when `answered` says whether an approval answer was given) an answer with no question
    or a question without an answer."""
    plan = make_plan(root, feature_dir)
    url = store_url(root, given.store, plan.config.store)
    repo = GitRepo(root)
    repo.check_writable()
    cfg = plan.config
    prior, held = _prior(root, url, plan.feature)
    options = with_kept(given, prior)
    if answered is not None:
        _check_answer(plan.feature, held if continues(prior, options) else [], answered)
    engine = make_engine(
        options.engine or cfg.engine, options.model or cfg.model, root=root, config=cfg
    )
    check_free(root)
    landed, notes = reconcile(landings(repo, plan.feature), plan.tasks)
    skip = check_before_writing(repo, plan, landed, options.skip)
    prefix = root.resolve().relative_to(repo.root.resolve()).as_posix()
    ours = paths.exclude_pattern(prefix)
    dirty = [f for f in repo.dirty_files() if not f.startswith(ours)]
    record = paths.footprint_file(root, plan.feature)
    found = leftovers(record, repo, repo.head(), dirty)
    if found.foreign and not options.commit_dirty:
        raise GitStateError(_dirty_message(found))
    sdd_dir = paths.state_dir(root)
    if sdd_dir.exists() and not sdd_dir.is_dir():
        raise InputError(f"{sdd_dir} is not a directory; sdd keeps its state there")
    return Checked(plan, url, repo, options, engine, landed, notes, skip, found, ours)


def _prior(root: Path, url: StoreUrl, feature: str) -> tuple[RunRecord | None, list[str]]:
    """The feature's latest run and the tasks held for approval, read without creating or
    changing anything."""
    store = open_existing(root, url)
    if store is None:
        return None, []
    try:
        tasks = store.tasks(feature).values()
        held = [t.task_id for t in tasks if t.status == TaskStatus.AWAITING]
        return store.latest_run(feature), held
    finally:
        store.close()


def _check_answer(feature: str, held: list[str], answered: bool) -> None:
    if held and not answered:
        raise AwaitingAnswer(needs_answer(feature, held[0]))
    if answered and not held:
        raise InputError(f"no task of {feature} is awaiting approval")


def needs_answer(feature: str, task_id: str) -> str:
    """What a resume without `--approve` or `--reject` is told while a task is held."""
    return (
        f"{task_id} is held for your approval; review it with `sdd diff {feature} {task_id}`, "
        f"then `sdd resume {feature} --approve`, or `sdd resume {feature} --reject --note "
        '"what to change"`'
    )


def open_run(
    root: Path,
    feature_dir: Path,
    given: RunOptions,
    reporter: Reporter,
    answered: bool | None = None,
) -> RunContext:
    """Check everything that could make the run unsafe, then open records and the lock;
    `answered`: whether an approval answer comes with this start (None: not checked here)."""
    checked = check_run(root, feature_dir, given, answered)
    plan, repo, options, engine = checked.plan, checked.repo, checked.options, checked.engine
    landed, found, cfg = checked.landed, checked.found, plan.config
    record = paths.footprint_file(root, plan.feature)
    try:
        repo.exclude(checked.ours)  # the first write, after every refusal
        if given.store:
            remember_store(root, checked.url)
    except OSError as exc:
        raise GitStateError(f"cannot write {exc.filename}: {exc.strerror}") from None
    held: list[Closeable] = [take_lock(root, plan.feature)]
    try:
        machinery = Machinery.capture(repo)
        clean_stale_dirs()  # what verifications of a killed run left in the temp folder
        store = open_store(root, checked.url)
        held.append(store)
        run_lock = store.lock_run(plan.feature)
        if run_lock is not None:
            held.append(run_lock)
        _leftovers(repo, store, plan.feature, found, reporter, checked.skip)
        keep_worktrees(repo, store, plan.feature, paths.worktrees_dir(root, plan.feature))
        store.drop_blobs(plan.feature)  # kept files no open conversation needs (any left)
        record.unlink(missing_ok=True)
        if found.foreign:
            sha = repo.commit_user_changes("Work in progress before sdd run")
            reporter.note(f"committed your uncommitted changes as {sha[:10]}")
        run = store.latest_run(plan.feature)
        remote = options.push or cfg.push or (run.remote if run else "")
        catch_up(repo, store, plan.feature, remote, hooks=cfg.commit_hooks)
        if run is None or not continues(run, options):
            run = store.new_run(plan.feature, engine.model, remote)
        elif remote != run.remote:
            store.set_run_remote(run.run_id, remote)
        store.set_run_options(run.run_id, options_json(options))
        for note in checked.notes:
            reporter.note(note)
        head = Head(landed, read_exact(plan.docs.tasks_path))
        skipped = _apply_skips(store, plan, checked.skip, options)
        if plan.config.routing == "model":  # a request, and .sdd/routing/: after every check
            plan.consult()
            for note in plan.notes:
                reporter.note(note)
    except BaseException:
        for handle in reversed(held):
            handle.close()
        raise
    used = [r for r in store.tasks(plan.feature).values() if r.run_id == run.run_id]
    spent = spent_by(used)
    return RunContext(
        plan=plan,
        repo=repo,
        engine=engine,
        store=store,
        run=run,
        reporter=reporter,
        head=head,
        skipped=frozenset(skipped),
        secrets=tuple(secret_values()),
        approve_each=(options.approve or cfg.approve) == "each",
        jobs=options.jobs or cfg.jobs,
        remote=remote,
        usage=UsageMeter(spent),
        held=tuple(held),
        machinery=machinery,
    )


def _leftovers(
    repo: GitRepo,
    store: Store,
    feature: str,
    found: Leftovers,
    reporter: Reporter,
    skip: list[str],
) -> None:
    """What a crash or a pause mid-task left: kept when that task's conversation was cut
    short (the task decides whether it goes on in this tree), else discarded, and said so
    (`--skip` of that task too). Under the lock."""
    if not found.own:
        return
    task = found.task_id
    if task and task not in skip and not found.foreign and open_conversation(store, feature, task):
        return
    then = "it is skipped" if task in skip else "it will be redone"
    repo.restore_paths(repo.head(), found.own)
    reporter.note(
        f"discarded what the interrupted attempt of {task} left "
        f"({', '.join(found.own[:5])}); {then}"
    )


def _dirty_message(found: Leftovers) -> str:
    files = found.foreign
    shown = ", ".join(files[:10]) + (f" (and {len(files) - 10} more)" if len(files) > 10 else "")
    whose = (
        f" that the interrupted attempt of {found.task_id} did not make" if found.task_id else ""
    )
    return (
        f"uncommitted changes in the working tree{whose}: {shown}; commit or stash them, "
        "or pass --commit-dirty to commit them first as your own commit"
    )


def _apply_skips(store: Store, plan: Plan, skip: list[str], options: RunOptions) -> set[str]:
    """Record `--skip` choices (already checked); `--restart` forgets earlier ones."""
    feature = plan.feature
    records = store.tasks(feature)
    for task_id in skip:
        record = records.get(task_id) or TaskRecord(feature, task_id)
        record.status, record.message = TaskStatus.SKIPPED, "skipped by --skip"
        store.save_task(record)
        records[task_id] = record
    skipped = {tid for tid, r in records.items() if r.status == TaskStatus.SKIPPED}
    if options.restart and not options.skip:
        for tid in skipped:
            records[tid].status = TaskStatus.PENDING
            store.save_task(records[tid])
        return set()
    return skipped
