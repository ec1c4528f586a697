"""Everything one `sdd run` needs, gathered and checked before anything is written.

The session is the engine's runtime context: rebuilt from the repository, tasks.md and the
records on every start, never checkpointed, so a resumed run sees the world as it is now.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from orchestrator import prompt, verify
from orchestrator.agents import AgentDef
from orchestrator.errors import GitStateError, InputError, SddError
from orchestrator.gitrepo import GitRepo
from orchestrator.model import Model, Usage, make_model
from orchestrator.planning import Plan, make_plan, state_dir, worktrees_dir
from orchestrator.progress import Reporter
from orchestrator.remote import catch_up
from orchestrator.store import RunRecord, Store, TaskRecord
from orchestrator.stores import open_store, store_url
from orchestrator.storeurl import StoreUrl
from orchestrator.tasks import Task
from orchestrator.transcript import secret_values


@dataclass(slots=True)
class RunOptions:
    model: str | None = None
    restart: bool = False
    commit_dirty: bool = False
    skip: tuple[str, ...] = ()  # task ids to move past, recorded as skipped, left unticked
    approve: str | None = None  # "each" holds every verified task for approval; None: config
    jobs: int | None = None  # tasks of a wave that work at once; None: config
    store: str | None = None  # the store URL (--store); None: SDD_STORE, config, .sdd/
    push: str | None = None  # a git remote to push each landed commit to; None: config, run


@dataclass
class Session:
    """A plan bound to a repository, a model, the records and a lock: ready to run."""

    plan: Plan
    repo: GitRepo
    model: Model
    store: Store
    run: RunRecord
    reporter: Reporter
    landed: dict[str, str]  # task id -> commit sha, from the commit trailers
    skipped: set[str]  # moved past by `sdd resume --skip`; count as done for scheduling
    tasks_text: str  # tasks.md as committed at HEAD (ticks included)
    secrets: list[str] = field(default_factory=list)
    base_snapshot: verify.Snapshot | None = None
    run_usage: Usage = field(default_factory=Usage)  # this run's tokens so far, for budgets
    approve_each: bool = False
    clean_head: str | None = None  # HEAD just landed by this process, so no reset is needed
    jobs: int = 1  # tasks of one wave that work at once, each in a worktree of its own
    cancel: threading.Event = field(default_factory=threading.Event)  # a second Ctrl-C
    remote: str = ""  # where each landed commit is pushed ("" = nowhere)
    _lock: IO[str] | None = None
    _run_lock: Any = None  # a shared store's database lock on this run
    _usage_lock: threading.Lock = field(default_factory=threading.Lock)
    _systems: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        return self.plan.docs.name

    @property
    def root(self) -> Path:
        return self.plan.root

    def done_ids(self) -> set[str]:
        ticked = {t.id for t in self.plan.tasklist.tasks if t.done}
        return ticked | set(self.landed) | self.skipped

    def add_run_usage(self, usage: Usage) -> None:
        """The run's tokens, added to by every task of a wave at once."""
        with self._usage_lock:
            self.run_usage = self.run_usage + usage

    def agent_for(self, task_id: str) -> AgentDef:
        return self.plan.agents.agents[self.plan.routes[task_id].agent]

    def system_for(self, agent: AgentDef) -> list[dict]:
        """Built once per agent so every task of the run sends a byte-identical prefix."""
        if agent.name not in self._systems:
            d = self.plan.docs
            docs = prompt.Docs(
                d.name, d.constitution, d.spec, d.plan, d.data_model, d.research, d.contracts
            )
            self._systems[agent.name] = prompt.system_blocks(agent.body, docs)
        return self._systems[agent.name]

    def verify_commands(self) -> list[str]:
        cmds = self.plan.config.verify
        return list(cmds) if cmds is not None else verify.default_commands(self.root)

    def close(self) -> None:
        self.store.close()
        if self._run_lock is not None:
            self._run_lock.close()
        if self._lock:
            self._lock.close()


def take_lock(sdd_dir: Path, feature: str) -> IO[str]:
    """One sdd run per working tree, whatever the feature: runs of two features would share
    the tree and HEAD, and one's reset would wipe the other's work."""
    locks = sdd_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    handle = (locks / "worktree.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another feature"
        handle.close()
        raise SddError(
            f"another sdd run is driving {holder} in this working tree; wait for it"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{feature} (pid {os.getpid()})")
    handle.flush()
    return handle


def open_session(root: Path, feature_dir: Path, options: RunOptions, reporter: Reporter) -> Session:
    """Check everything that could make the run unsafe, then open records and the lock."""
    plan = make_plan(root, feature_dir)
    url = store_url(root, options.store, plan.config.store)
    repo = GitRepo(root)
    repo.check_writable()
    cfg = plan.config
    model = make_model(
        options.model or cfg.model,
        root=root,
        stream=cfg.stream,
        timeout=cfg.api.timeout,
        max_retries=cfg.api.max_retries,
    )
    prefix = root.resolve().relative_to(repo.root.resolve()).as_posix()
    ours = ".sdd/" if prefix == "." else f"{prefix}/.sdd/"
    dirty = [f for f in repo.dirty_files() if not f.startswith(ours)]
    interrupted = _interrupted_task(root, url, plan.docs.name, repo.head()) if dirty else None
    if dirty and not interrupted and not options.commit_dirty:
        shown = ", ".join(dirty[:10]) + (
            f" (and {len(dirty) - 10} more)" if len(dirty) > 10 else ""
        )
        raise GitStateError(
            f"uncommitted changes in the working tree: {shown}; commit or stash them, "
            "or pass --commit-dirty to commit them first as your own commit"
        )
    sdd_dir = state_dir(root)
    if sdd_dir.exists() and not sdd_dir.is_dir():
        raise InputError(f"{sdd_dir} is not a directory; sdd keeps its state there")
    try:
        repo.exclude(ours)  # the first write, after every refusal
    except OSError as exc:
        raise GitStateError(f"cannot write {exc.filename}: {exc.strerror}") from None
    lock = take_lock(sdd_dir, plan.docs.name)
    store, run_lock = None, None
    try:
        if interrupted:  # a crash mid-task left these; under the lock, nothing else writes
            sha = repo.stash_leftovers(
                f"sdd: leftovers of the interrupted attempt of {interrupted}"
            )
            reporter.note(
                f"put aside what the interrupted attempt of {interrupted} left "
                f"({', '.join(dirty[:5])}) as stash {sha[:10]}; it will be redone"
            )
        elif dirty:
            sha = repo.commit_user_changes("Work in progress before sdd run")
            reporter.note(f"committed your uncommitted changes as {sha[:10]}")
        repo.clear_worktrees(worktrees_dir(root, plan.docs.name))  # a killed wave's
        store = open_store(root, url)
        assert store is not None
        run_lock = store.lock_run(plan.docs.name)
        run = store.latest_run(plan.docs.name)
        remote = options.push or plan.config.push or (run.remote if run else "")
        catch_up(repo, store, plan.docs.name, remote)
        if run is None or run.status == "finished" or options.restart:
            run = store.new_run(plan.docs.name, model.name, remote)
        elif remote != run.remote:
            store.set_run_remote(run.run_id, remote)
        landed = repo.task_commits(plan.docs.name)
        for gone in sorted(set(landed) - set(plan.tasks)):
            reporter.note(f"{gone} landed as {landed[gone][:10]} but is no longer in tasks.md")
        tasks_text = read_exact(plan.docs.tasks_path)
        skipped = _apply_skips(store, plan, landed, options)
    except BaseException:
        for held in (run_lock, store, lock):
            if held is not None:
                held.close()
        raise
    used = [r for r in store.tasks(plan.docs.name).values() if r.run_id == run.run_id]
    run_usage = Usage(
        sum(r.input_tokens for r in used),
        sum(r.output_tokens for r in used),
        sum(r.cache_write_tokens for r in used),
        sum(r.cache_read_tokens for r in used),
    )
    return Session(
        run_usage=run_usage,
        approve_each=(options.approve or plan.config.approve) == "each",
        jobs=options.jobs or plan.config.jobs,
        plan=plan,
        repo=repo,
        model=model,
        store=store,
        run=run,
        reporter=reporter,
        landed=landed,
        skipped=skipped,
        tasks_text=tasks_text,
        secrets=secret_values(),
        remote=remote,
        _lock=lock,
        _run_lock=run_lock,
    )


def _interrupted_task(root: Path, url: StoreUrl, feature: str, head: str) -> str | None:
    """The task a crash interrupted, if its attempt started from the current HEAD."""
    store = open_store(root, url, readonly=True)
    if store is None:
        return None
    try:
        running = [r for r in store.tasks(feature).values() if r.status == "running"]
    finally:
        store.close()
    return next((r.task_id for r in running if r.base == head), None)


def _apply_skips(store: Store, plan: Plan, landed: dict[str, str], options: RunOptions) -> set[str]:
    """Record `--skip` choices; `--restart` forgets earlier ones."""
    feature = plan.docs.name
    records = store.tasks(feature)
    tasks = plan.tasks
    for raw in options.skip:
        task_id = _task_id(raw, tasks)
        if task_id in landed:
            raise InputError(f"{task_id} has already landed; `sdd undo` reverts it")
        record = records.get(task_id) or TaskRecord(feature, task_id)
        record.status, record.message = "skipped", "skipped by --skip"
        store.save_task(record)
        records[task_id] = record
    skipped = {tid for tid, r in records.items() if r.status == "skipped"}
    if options.restart and not options.skip:
        for tid in skipped:
            records[tid].status = "pending"
            store.save_task(records[tid])
        return set()
    return skipped


def _task_id(raw: str, tasks: dict[str, Task]) -> str:
    for tid in tasks:
        if tid.casefold() == raw.strip().casefold():
            return tid
    raise InputError(f"no task {raw} in tasks.md")


def read_exact(path: Path) -> str:
    """The file as bytes decoded, keeping a BOM and CRLF, so a tick changes one character."""
    with path.open(encoding="utf-8", newline="") as f:
        return f.read()


def write_exact(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.sdd-tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
