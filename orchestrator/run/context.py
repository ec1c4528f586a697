"""What a run works with: an immutable context, built and checked once before anything is
written, and the small mutable `Head` that only landing a task changes.

The context is rebuilt from the repository, tasks.md and the records on every start, never
checkpointed, so a resumed run sees the world as it is now. It is what every LangGraph node
gets as its runtime context, and what the tasks of a parallel wave share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.agent import prompt
from orchestrator.agent.engine import AgentEngine
from orchestrator.agent.model import Block, Usage
from orchestrator.git.guard import Machinery
from orchestrator.git.repo import GitRepo
from orchestrator.plan.agents import AgentDef
from orchestrator.plan.build import Plan
from orchestrator.run.reporter import Reporter
from orchestrator.store.backend import Closeable
from orchestrator.store.records import PhaseCheck, RunRecord
from orchestrator.store.store import Store
from orchestrator.verify.commands import detect
from orchestrator.verify.environment import Verification
from orchestrator.verify.results import Snapshot


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the command line (or a server run's config) asks of this run."""

    model: str | None = None
    restart: bool = False
    commit_dirty: bool = False
    skip: tuple[str, ...] = ()  # task ids to move past, recorded as skipped, left unticked
    approve: str | None = None  # "each" holds every verified task for approval; None: config
    jobs: int | None = None  # tasks of a wave that work at once; None: config
    store: str | None = None  # the store URL (--store); None: SDD_STORE, config, .sdd/
    push: str | None = None  # a git remote to push each landed commit to; None: config, run
    engine: str | None = None  # "anthropic" | "claude-code"; None: config


class Head:
    """Where the branch stands for this run: the tasks landed (by commit trailer), tasks.md as
    committed, and what this process knows of the tip. Only `run.landing` calls `land`; a
    wave lands one task at a time, so no lock is needed."""

    def __init__(self, landed: dict[str, str], tasks_text: str) -> None:
        self.landed = landed  # task id -> commit sha
        self.tasks_text = tasks_text  # tasks.md at HEAD, ticks included, byte for byte
        self._clean: str | None = None  # HEAD just landed here, so the tree is known clean
        self._verified: Snapshot | None = None  # verification of HEAD, once run

    def take_clean(self) -> str | None:
        """The HEAD this process just landed (no reset needed before the next task), once."""
        clean, self._clean = self._clean, None
        return clean

    def verification(self, run: Callable[[], Snapshot]) -> Snapshot:
        """The verification of HEAD: what is already red there is not the next task's fault."""
        if self._verified is None:
            self._verified = run()
        return self._verified

    def land(self, task_id: str, sha: str, tasks_text: str, verified: Snapshot | None) -> None:
        """`task_id` landed as `sha`; `verified` is the verification of that tree, when the
        landing ran it (None: the next task verifies HEAD again before it starts)."""
        self.landed[task_id], self.tasks_text = sha, tasks_text
        self._clean, self._verified = (sha, verified) if verified is not None else (None, None)


class UsageMeter:
    """The run's tokens so far, added to by every task of a wave at once, for budgets."""

    def __init__(self, start: Usage) -> None:
        self._usage, self._lock = start, threading.Lock()

    def add(self, usage: Usage) -> None:
        with self._lock:
            self._usage = self._usage + usage

    @property
    def total(self) -> Usage:
        return self._usage


class PhaseChecks:
    """The feature's phase checks on record: read from the store on first use, once per run
    (every task selection asks which phase is due), and kept as each new check is saved."""

    def __init__(self, store: Store, feature: str) -> None:
        self._store, self._feature = store, feature
        self._checks: dict[int, PhaseCheck] | None = None
        self.running = ""  # the phase whose check runs now ("" between checks), for Ctrl-C

    def all(self) -> dict[int, PhaseCheck]:
        """The last check of each phase, by phase index."""
        if self._checks is None:
            self._checks = self._store.phase_checks(self._feature)
        return self._checks

    def save(self, check: PhaseCheck) -> None:
        self._store.save_phase_check(check)
        self.all()[check.phase] = check


@dataclass(frozen=True)
class RunContext:
    """A plan bound to a repository, an engine, the records and the locks: ready to run."""

    plan: Plan
    repo: GitRepo
    engine: AgentEngine  # who runs each task's agent, with which model
    store: Store
    run: RunRecord
    reporter: Reporter
    head: Head
    skipped: frozenset[str]  # moved past by `sdd resume --skip`; count as done for scheduling
    secrets: tuple[str, ...] = ()
    approve_each: bool = False
    jobs: int = 1  # tasks of one wave that work at once, each in a worktree of its own
    remote: str = ""  # where each landed commit is pushed ("" = nowhere)
    usage: UsageMeter = field(default_factory=lambda: UsageMeter(Usage()))
    cancel: threading.Event = field(default_factory=threading.Event)  # a second Ctrl-C
    held: tuple[Closeable, ...] = ()  # locks and connections, closed last to first
    machinery: Machinery | None = None  # git's config and hooks as the run found them
    _systems: dict[str, list[Block]] = field(default_factory=dict)
    phase_snapshots: dict[str, Snapshot] = field(default_factory=dict)  # commit -> phase set
    phase_checks: PhaseChecks = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "phase_checks", PhaseChecks(self.store, self.feature))

    @property
    def feature(self) -> str:
        return self.plan.docs.name

    @property
    def root(self) -> Path:
        return self.plan.root

    def done_ids(self) -> set[str]:
        ticked = {t.id for t in self.plan.tasklist.tasks if t.done}
        return ticked | set(self.head.landed) | self.skipped

    def agent_for(self, task_id: str) -> AgentDef:
        return self.plan.agent_for(task_id)

    def system_for(self, agent: AgentDef) -> list[Block]:
        """Built once per agent so every task of the run sends a byte-identical prefix."""
        if agent.name not in self._systems:
            d = self.plan.docs
            docs = prompt.Docs(
                d.name, d.constitution, d.spec, d.plan, d.data_model, d.research, d.contracts
            )
            ttl = self.plan.config.cache_ttl
            self._systems[agent.name] = prompt.system_blocks(agent.body, docs, ttl)
        return self._systems[agent.name]

    def verification(self, tree: Path | None = None) -> Verification:
        """The verify commands and why, chosen afresh each time (a task may add the first
        tests); `tree` is the work tree to verify when it is not the repository's own."""
        d = self.plan.docs
        docs = f"{d.plan}\n{d.constitution}"
        return detect(self.root, self.plan.config.task_verify, docs=docs, tree=tree)

    def phase_verification(self, tree: Path | None = None) -> Verification | None:
        """The phase set (`verify: phase`), or None when each task runs the whole set."""
        commands = self.plan.config.phase_verify
        if commands is None:
            return None
        return detect(self.root, commands, tree=tree)

    def mentioned(self) -> list[str]:
        """Every path tasks.md names: the project's modules, written or still to come."""
        return [f for t in self.plan.tasklist.tasks for f in t.files]

    def close(self) -> None:
        for handle in reversed(self.held):
            handle.close()
