"""Looking back at one task: its commit (`sdd diff`), its transcripts (`sdd show`), and taking
it back (`sdd undo`, `sdd retry`).

Git is the truth about what landed: a task's commit is found by its trailer, and the store
record only says where to look when the trailer is gone (history rewritten, or reverted).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from orchestrator.commitmsg import FEATURE, TASK, revert_commit_message
from orchestrator.errors import GitStateError, InputError
from orchestrator.gitrepo import CommitInfo, GitRepo, _first_line
from orchestrator.planning import Plan, make_plan, state_dir
from orchestrator.session import read_exact, take_lock, write_exact
from orchestrator.store import Store, TaskRecord
from orchestrator.stores import open_records, open_store, store_url
from orchestrator.tasks import Task
from orchestrator.ticks import set_done

_TARGETS = ("file_path", "path", "command", "pattern")
_ID = re.compile(r"([A-Za-z]*)0*(\d+)([A-Za-z]*)")


# ---------------------------------------------------------------- which task, which commit


def find_task(plan: Plan, query: str) -> Task:
    """`t5`, `T005` and `t005` all name T005; a miss lists the ids nearest to what was typed."""
    tasks = plan.tasks
    if query.strip() in tasks:  # T008a and T008A may both exist
        return tasks[query.strip()]
    wanted = query.strip().upper()
    exact = [t for tid, t in tasks.items() if tid.upper() == wanted]
    if exact:
        return exact[0]
    key = _id_key(wanted)
    same = [t for tid, t in tasks.items() if key is not None and _id_key(tid.upper()) == key]
    if len(same) == 1:
        return same[0]
    near = _nearby(wanted, list(tasks))
    where = f"{plan.docs.name}/tasks.md"
    hint = f"; nearby: {', '.join(near)}" if near else ""
    raise InputError(f"no task {query.strip()} in {where}{hint}")


def _id_key(tid: str) -> tuple[str, int, str] | None:
    m = _ID.fullmatch(tid)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else None


def _nearby(wanted: str, ids: list[str], count: int = 5) -> list[str]:
    key = _id_key(wanted)
    if key is not None:
        numbered = [(k, tid) for tid in ids if (k := _id_key(tid.upper())) and k[0] == key[0]]
        if numbered:
            numbered.sort(key=lambda kt: (abs(kt[0][1] - key[1]), kt[0]))
            return sorted((tid for _, tid in numbered[:count]), key=ids.index)
    return difflib.get_close_matches(wanted, ids, n=count, cutoff=0.5)


def landed_commit(repo: GitRepo, store: Store | None, feature: str, task_id: str) -> CommitInfo:
    """The task's landing commit on HEAD, with a clear reason when there is none."""
    sha = repo.task_commits(feature).get(task_id)
    if sha is not None:
        info = repo.commit_info(sha)
        assert info is not None  # task_commits just read it from the log
        return info
    record = store.task(feature, task_id) if store else None
    recorded = record.commit_sha if record and record.status == "landed" else ""
    if not recorded:
        raise InputError(f"{task_id} has not landed")
    info = repo.commit_info(recorded)
    if info is None:
        raise GitStateError(
            f"commit {recorded[:10]} of {task_id} not found: history was rewritten since it landed"
        )
    if info.trailers.get(TASK) != task_id or info.trailers.get(FEATURE) != feature:
        raise GitStateError(
            f"commit {recorded[:10]} recorded for {task_id} is not sdd's "
            f"(no {TASK}: {task_id} trailer for {feature})"
        )
    if not repo.is_ancestor(info.sha):
        raise GitStateError(f"commit {recorded[:10]} of {task_id} is not on the current branch")
    raise InputError(f"{task_id} has not landed (its commit {recorded[:10]} was reverted)")


def task_diff(
    root: Path, feature_dir: Path, query: str, *, stat: bool, color: bool, store: str | None = None
) -> str:
    """`git show` of the task's commit: the patch, or its --stat."""
    plan = make_plan(root, feature_dir)
    task = find_task(plan, query)
    repo = GitRepo(root)
    records = open_records(root, store, plan.config.store)
    try:
        info = landed_commit(repo, records, plan.docs.name, task.id)
    finally:
        if records:
            records.close()
    return repo.diff(info.sha, stat=stat, color=color)


# ---------------------------------------------------------------- transcripts


Attempt = tuple[int, list[dict[str, Any]]]


def transcript_dir(root: Path, feature: str, task_id: str) -> Path:
    """Where the executor writes `attempt-N.jsonl` (executor.transcript_path)."""
    return state_dir(root) / "transcripts" / feature / task_id


def read_attempts(
    root: Path, feature_dir: Path, query: str, attempt: int | None = None
) -> tuple[str, list[Attempt]]:
    """The task id and its attempts' events, oldest first (or only attempt N)."""
    plan = make_plan(root, feature_dir)
    task = find_task(plan, query)
    folder = transcript_dir(root, plan.docs.name, task.id)
    files: dict[int, Path] = {}
    for path in folder.glob("attempt-*.jsonl"):
        n = path.stem.removeprefix("attempt-")
        if n.isdigit():
            files[int(n)] = path
    if not files:
        rel = folder.relative_to(root) if folder.is_relative_to(root) else folder
        raise InputError(f"no transcript for {task.id} (nothing in {rel.as_posix()})")
    if attempt is not None:
        if attempt not in files:
            have = ", ".join(str(n) for n in sorted(files))
            raise InputError(f"{task.id} has no attempt {attempt} (attempts: {have})")
        files = {attempt: files[attempt]}
    return task.id, [(n, _read_events(files[n])) for n in sorted(files)]


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:  # a crash mid-write leaves a torn last line
                events.append({"type": "unreadable", "line": number, "text": line.strip()})
    return events


def json_lines(attempts: list[Attempt]) -> Iterator[str]:
    """The events as written, each tagged with its attempt so several attempts stay apart."""
    for n, events in attempts:
        for event in events:
            yield json.dumps({"attempt": n, **event}, ensure_ascii=False, sort_keys=True)


def clip(text: str, keep: int, width: int = 300) -> str:
    """Head and tail lines of a long text, saying how much was cut."""
    lines = [
        line if len(line) <= width else f"{line[:width]}… [{len(line) - width} characters cut]"
        for line in text.splitlines()
    ]
    if len(lines) <= keep:
        return "\n".join(lines)
    head = (keep + 1) // 2
    tail = keep - head
    cut = f"[… {len(lines) - keep} lines cut …]"
    return "\n".join([*lines[:head], cut, *(lines[-tail:] if tail else [])])


def _short(value: object, width: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")  # one line
    return text if len(text) <= width else f"{text[:width]}… [+{len(text) - width} chars]"


def _call(name: object, args: object) -> str:
    if isinstance(args, dict):  # what it acts on first, then short values, bodies last
        keys = sorted(args, key=lambda k: (k not in _TARGETS, len(_short(args[k], 10**6))))
        inner = ", ".join(f"{k}={_short(args[k])}" for k in keys)
    else:
        inner = _short(args)
    return f"{name}({inner})"


def _block(text: str, style: str = "") -> Padding:
    return Padding(Text(text, style=style), (0, 0, 0, 4), expand=False)


def _event(event: dict[str, Any], turn: int) -> list[RenderableType]:
    kind = event.get("type")
    if kind == "user":
        return [
            Text("  prompt", style="bold"),
            _block(clip(str(event.get("text")), 8), "dim"),
        ]
    if kind == "assistant":
        usage = event.get("usage") or {}
        head = Text(f"  model, turn {turn}", style="bold cyan")
        head.append(f"  {usage.get('input_tokens', 0)} in / {usage.get('output_tokens', 0)} out")
        stop = event.get("stop_reason")
        if stop not in (None, "end_turn", "tool_use"):
            head.append(f"  stopped: {stop}", style="red")
        texts = [b.get("text", "") for b in event.get("content") or [] if b.get("type") == "text"]
        return [head, *(_block(clip(t, 40)) for t in texts if t.strip())]
    if kind == "tool":
        failed = bool(event.get("is_error"))
        head = Text(f"  ▶ {_call(event.get('name'), event.get('input'))}", style="yellow")
        if failed:
            head.append("  (error)", style="red")
        result = str(event.get("result", ""))
        return [head, _block(clip(result, 10), "red" if failed else "dim")] if result else [head]
    if kind == "verify":
        passed = bool(event.get("passed"))
        head = Text(
            f"  verification {'passed' if passed else 'failed'}",
            style="bold green" if passed else "bold red",
        )
        return [head, _block(clip(str(event.get("output", "")), 30))]
    if kind == "outcome":
        return [Text(f"  outcome: {event.get('outcome')}", style="bold")]
    return [Text(f"  {_short(event, 200)}", style="dim")]


def render_transcript(task_id: str, attempts: list[Attempt]) -> Group:
    """Model text, each tool call with its input and result, verification, outcome."""
    items: list[RenderableType] = []
    for n, events in attempts:
        outcome = next((e.get("outcome") for e in events if e.get("type") == "outcome"), None)
        items.append(Rule(f"{task_id} attempt {n}: {outcome or 'unfinished'}", align="left"))
        turn = 0
        for event in events:
            turn += event.get("type") == "assistant"
            items.extend(_event(event, turn))
    return Group(*items)


# ---------------------------------------------------------------- undo


@dataclass(frozen=True, slots=True)
class UndoResult:
    feature: str
    task_id: str
    reverted: str  # the task's commit
    revert: str  # the new commit taking it back
    files: list[str]  # what the revert changed besides tasks.md


class _Reverter(GitRepo):
    """A revert that leaves one file to us: tasks.md ticks sit on adjacent lines, so a textual
    revert of one tick conflicts with the next task's tick; we untick by rewriting it instead."""

    def revert_except(
        self, sha: str, keep: str, edit: Callable[[str], str], message: str, *, hooks: bool
    ) -> str:
        code, _, err = self._run("revert", "--no-commit", sha, check=False)
        try:
            unmerged = self._out("diff", "--name-only", "--diff-filter=U", "-z").split("\0")
            conflicts = [p for p in unmerged if p and p != keep]
            if conflicts:
                named = ", ".join(conflicts)
                raise GitStateError(
                    f"cannot revert {sha[:10]} cleanly: later commits changed {named}"
                )
            if code != 0 and keep not in unmerged:
                raise GitStateError(_first_line(err, f"cannot revert {sha[:10]}"))
            self._out("checkout", "-q", "HEAD", "--", keep)
            path = self.root / keep
            write_exact(path, edit(read_exact(path)))
            return self.commit_all(message, hooks=hooks)
        except BaseException:
            self._abort_revert()
            raise


def undo_task(
    root: Path, feature_dir: Path, query: str, *, force: bool = False, store: str | None = None
) -> UndoResult:
    """Revert the task's commit as a new commit that also unticks it; the record goes back to
    pending with its attempts kept, so a later run numbers new transcripts after them."""
    plan = make_plan(root, feature_dir)
    task = find_task(plan, query)
    feature = plan.docs.name
    repo = _Reverter(root)
    repo.check_writable()
    repo.exclude(".sdd/")
    lock = take_lock(state_dir(root), feature)
    try:
        dirty = repo.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:10]) + (
                f" (and {len(dirty) - 10} more)" if len(dirty) > 10 else ""
            )
            raise GitStateError(
                f"uncommitted changes in the working tree: {shown}; commit or stash them"
            )
        records = open_store(root, store_url(root, store, plan.config.store))
        assert records is not None
        run_lock = records.lock_run(feature)
        try:
            info = landed_commit(repo, records, feature, task.id)
            tasks_rel = (root / plan.docs.tasks_path).resolve().relative_to(repo.root).as_posix()
            files = [f for f in info.files if f != tasks_rel]
            if not force:
                _refuse_later_overlap(repo, feature, info.sha, task.id, files)
            message = revert_commit_message(task.id, feature, info.subject, info.sha)
            sha = repo.revert_except(
                info.sha,
                tasks_rel,
                lambda text: set_done(text, task, False),
                message,
                hooks=plan.config.commit_hooks,
            )
            record = records.task(feature, task.id) or TaskRecord(feature, task.id)
            record.status, record.commit_sha, record.kind = "pending", "", ""
            record.message = f"undone: {info.sha[:10]} reverted by {sha[:10]}"
            records.save_task(record)
        finally:
            if run_lock is not None:
                run_lock.close()
            records.close()
    finally:
        lock.close()
    return UndoResult(feature, task.id, info.sha, sha, files)


def _refuse_later_overlap(
    repo: GitRepo, feature: str, sha: str, task_id: str, files: list[str]
) -> None:
    """A later task built on these files; reverting under it would break it silently."""
    later = set(repo.commits_since(sha))
    mine = set(files)
    for other, other_sha in reversed(repo.task_commits(feature).items()):  # oldest first
        if other_sha not in later:
            continue
        other_info = repo.commit_info(other_sha)
        shared = sorted(mine.intersection(other_info.files)) if other_info else []
        if shared:
            raise GitStateError(
                f"{other} landed later and also changed {shared[0]}; undo {other} first, "
                f"or pass --force to revert {task_id} anyway"
            )
