"""Task records -> dependency graph: who waits for whom, what is ready, which tasks form waves.

The rules, in the order they apply:

* Derived order. Tasks fall into *groups* in file order: a maximal run of consecutive `[P]`
  tasks inside one phase is one group, any other task is a group of its own. Every task waits for
  the whole previous group, so each phase waits for all of the phase before it.
* Explicit `depends_on` edges are added as written. An edge to a LATER task must not turn into a
  cycle with the derived order, so the depending task leaves its own group and joins the group of
  its dependency, where it runs after that dependency (alongside the group's other tasks), and
  the next group waits for it. Tasks depending on a moved task move with it. Only a cycle made of
  explicit edges alone is an error.
* Same-file conflicts, because `[P]` is often wrong: two tasks naming the same file never run
  together. Inside a group the later one waits for the earlier one; the group's order puts
  explicit dependencies first and is file order otherwise. Paths compare case-sensitively after
  normalisation (`./a//b.py` == `a/b.py`); a path ending in `/` is a directory and conflicts with
  everything under it. `a/b` without the slash is a file name: exact match only.
* Done tasks (ticked, or passed in `done`) count as landed. A group starts only when every
  earlier group is finished, so a task ticked out of order does not let later phases overtake
  an unfinished earlier one.

Groups act as barrier nodes: building, `waves()` and `ready()` are linear in tasks + edges even
between two big parallel groups; `deps()` lists the previous group only when asked.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Sequence
from typing import NoReturn

from orchestrator.errors import TaskParseError
from orchestrator.speckit.tasks import Task

EXPLICIT = "explicit dependency"


def normalize_path(path: str) -> str:
    """`./a//b.py` -> `a/b.py`; a trailing `/` (a directory) is kept."""
    norm = posixpath.normpath(path)
    return norm + "/" if path.endswith("/") and not norm.endswith("/") and norm != "." else norm


def _ancestors(path: str) -> list[str]:
    """The directories strictly above `path`: `a/b/c.py` -> `["a/", "a/b/"]`."""
    out: list[str] = []
    acc = ""
    for part in path.rstrip("/").split("/")[:-1]:
        acc += part + "/"
        out.append(acc)
    return out


class TaskGraph:
    """The scheduling view of one tasks.md; build it with `build_graph`."""

    __slots__ = (
        "_explicit",
        "_files",
        "_group",
        "_groups",
        "_index",
        "_phase",
        "_preds",
        "_ticked",
        "notes",
        "order",
    )

    def __init__(
        self,
        tasks: Sequence[Task],
        explicit: list[list[int]],
        groups: list[list[int]],
        files: list[list[str]],
        notes: list[str],
    ) -> None:
        self.order: list[str] = [t.id for t in tasks]
        self.notes = notes  # forward dependencies that moved a task, for `sdd plan`
        self._index = {tid: i for i, tid in enumerate(self.order)}
        self._phase = [t.phase for t in tasks]
        self._ticked = frozenset(i for i, t in enumerate(tasks) if t.done)
        self._explicit = explicit
        self._groups = groups  # members of each group, dependencies before dependants
        self._files = files  # normalised paths per task
        self._group = [0] * len(tasks)
        for g, members in enumerate(groups):
            for t in members:
                self._group[t] = g
        # The plan's view: explicit and same-file predecessors with the reason, done or not.
        self._preds: list[dict[int, str]] = [dict.fromkeys(d, EXPLICIT) for d in explicit]
        for members in groups:
            for pred, succ, outer, inner in _conflicts(members, files):
                self._preds[succ].setdefault(pred, _why(outer, inner))

    def deps(self, task_id: str) -> tuple[str, ...]:
        """Every direct predecessor, explicit and derived, in file order."""
        return tuple(self.reasons(task_id))

    def reasons(self, task_id: str) -> dict[str, str]:
        """Direct predecessor -> why it must land first, in file order."""
        i = self._index[task_id]
        why = dict(self._preds[i])
        g = self._group[i]
        if g > 0:
            for p in self._groups[g - 1]:
                why.setdefault(
                    p, "earlier phase" if self._phase[p] != self._phase[i] else "task order"
                )
        return {self.order[p]: why[p] for p in sorted(why)}

    def waves(self, done: Collection[str] = ()) -> list[list[str]]:
        """The not-done tasks in waves; a wave's tasks may run together, in file order."""
        landed = self._landed(done)
        wave: dict[int, int] = {}
        start = 0  # first wave in which everything of the groups so far has landed
        for members in self._groups:
            finish = start
            for t, preds in self._waiting(members, landed):
                w = start
                for p in preds:
                    if p not in landed and wave[p] >= w:
                        w = wave[p] + 1
                wave[t] = w
                finish = max(finish, w + 1)
            start = finish
        out: list[list[str]] = [[] for _ in range(start)]
        for t in sorted(wave):
            out[wave[t]].append(self.order[t])
        return out

    def ready(self, done: Collection[str], running: Collection[str] = ()) -> list[str]:
        """Tasks that may start now (same as the first wave, less the running ones)."""
        landed = self._landed(done)
        busy = set(running)
        for members in self._groups:
            waiting = self._waiting(members, landed)
            if waiting:
                ok = [
                    t
                    for t, preds in waiting
                    if self.order[t] not in busy and all(p in landed for p in preds)
                ]
                return [self.order[t] for t in sorted(ok)]
        return []

    def _landed(self, done: Iterable[str]) -> set[int]:
        index = self._index
        return {index[d] for d in done if d in index} | self._ticked

    def _waiting(self, members: list[int], landed: set[int]) -> list[tuple[int, Collection[int]]]:
        """A group's unlanded tasks in order, each with its direct explicit and same-file preds.

        Conflicts are recomputed among the unlanded tasks only: a landed task in the middle of
        a same-file chain must not let the tasks on either side of it run together.
        """
        live = [t for t in members if t not in landed]
        if len(live) == len(members):
            return [(t, self._preds[t]) for t in live]
        preds: dict[int, list[int]] = {t: list(self._explicit[t]) for t in live}
        for pred, succ, _, _ in _conflicts(live, self._files):
            preds[succ].append(pred)
        return [(t, preds[t]) for t in live]


def build_graph(tasks: Sequence[Task]) -> TaskGraph:
    """Check ids and dependencies, then derive the groups; see the module docstring."""
    tasks = list(tasks)
    index = _index_ids(tasks)
    explicit = [_explicit(t, index) for t in tasks]
    topo = _explicit_order(tasks, explicit)

    group = _home_groups(tasks)
    buckets: list[list[int]] = [[] for _ in range(group[-1] + 1 if group else 0)]
    for t in topo:  # dependencies come first, so a move carries its dependants along
        for d in explicit[t]:
            group[t] = max(group[t], group[d])
        buckets[group[t]].append(t)
    notes = [
        _forward_note(tasks[t], tasks[d]) for t in range(len(tasks)) for d in explicit[t] if d > t
    ]
    files = [list(dict.fromkeys(normalize_path(f) for f in t.files if f.strip())) for t in tasks]
    return TaskGraph(tasks, explicit, [b for b in buckets if b], files, notes)


def _forward_note(task: Task, dep: Task) -> str:
    """A dependency on a later task; one in a later phase moves the task out of its phase."""
    where = (
        f"which is in a later phase (line {dep.line}); {task.id} moves out of its phase to run "
        "after it"
        if dep.phase > task.phase
        else f"which comes later (line {dep.line}); {task.id} runs after it"
    )
    return f"{task.id} (line {task.line}) depends on {dep.id}, {where}"


def _index_ids(tasks: list[Task]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, t in enumerate(tasks):
        if t.id in index:
            first = tasks[index[t.id]]
            raise TaskParseError(
                f"{t.id} appears twice: line {first.line} and line {t.line}", t.line
            )
        index[t.id] = i
    return index


def _explicit(task: Task, index: dict[str, int]) -> list[int]:
    out: dict[int, None] = {}
    for dep in task.depends_on:
        if dep not in index:
            raise TaskParseError(f"{task.id} depends on {dep}, which is not in tasks.md", task.line)
        if dep == task.id:
            raise TaskParseError(f"{task.id} depends on itself", task.line)
        out[index[dep]] = None
    return list(out)


def _explicit_order(tasks: list[Task], explicit: list[list[int]]) -> list[int]:
    """File order, except that each task comes after its explicit dependencies."""
    state = [0] * len(tasks)  # 0 unseen, 1 on the stack, 2 placed
    order: list[int] = []
    for root in range(len(tasks)):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(explicit[root]))]
        while stack:
            node, deps = stack[-1]
            for d in deps:
                if state[d] == 1:
                    path = [n for n, _ in stack]
                    _raise_cycle(tasks, [*path[path.index(d) :], d])
                if state[d] == 0:
                    state[d] = 1
                    stack.append((d, iter(explicit[d])))
                    break
            else:
                state[node] = 2
                order.append(node)
                stack.pop()
    return order


def _raise_cycle(tasks: list[Task], cycle: list[int]) -> NoReturn:
    chain = " -> ".join(f"{tasks[i].id} (line {tasks[i].line})" for i in cycle[:-1])
    first = tasks[cycle[0]]
    raise TaskParseError(
        f"dependency cycle: {chain} -> {first.id}; each task depends on the next", first.line
    )


def _home_groups(tasks: list[Task]) -> list[int]:
    """Group index per task from file order, phases and `[P]` runs alone."""
    out: list[int] = []
    g = -1
    prev: Task | None = None
    for t in tasks:
        if prev is None or not (t.parallel and prev.parallel and t.phase == prev.phase):
            g += 1
        out.append(g)
        prev = t
    return out


def _why(outer: str, inner: str) -> str:
    if outer != inner:
        return f"{outer} contains {inner}"
    return f"same directory {outer}" if outer.endswith("/") else f"same file {outer}"


def _conflicts(members: list[int], files: list[list[str]]) -> list[tuple[int, int, str, str]]:
    """(earlier, later, outer path, inner path) for tasks of one group touching the same path.

    Each path keeps only its latest toucher, and each directory the touchers under it since the
    last task naming the directory itself, so the work is linear in the paths named.
    """
    last_file: dict[str, int] = {}
    last_dir: dict[str, int] = {}
    under: dict[str, list[tuple[int, str]]] = {}
    edges: list[tuple[int, int, str, str]] = []
    if len(members) < 2:
        return edges
    for t in members:
        named = [(path, path.endswith("/"), _ancestors(path)) for path in files[t]]
        for path, is_dir, ancestors in named:
            if is_dir:
                for u, q in under.pop(path, ()):
                    edges.append((u, t, path, q))
            elif path in last_file:
                edges.append((last_file[path], t, path, path))
            for anc in ancestors:
                if anc in last_dir:
                    edges.append((last_dir[anc], t, anc, path))
        for path, is_dir, ancestors in named:
            if is_dir:
                last_dir[path] = t
                under[path] = [(t, path)]
            else:
                last_file[path] = t
            for anc in ancestors:
                under.setdefault(anc, []).append((t, path))
    return edges
