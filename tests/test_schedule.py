"""The scheduler on hand-built Task records: groups, phases, conflicts, explicit edges, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.errors import TaskParseError
from orchestrator.plan.graph import build_graph, normalize_path
from orchestrator.speckit.tasks import Task


def tasks(*specs: tuple) -> list[Task]:
    """(id, phase, parallel, files, depends_on[, done]) -> Tasks on lines 10, 11, 12 …"""
    out = []
    for n, spec in enumerate(specs):
        tid, phase, par, files, deps, *rest = spec
        out.append(
            Task(
                id=tid,
                description=f"task {tid}",
                line=10 + n,
                phase=phase,
                parallel=par,
                files=tuple(files),
                depends_on=tuple(deps),
                done=bool(rest and rest[0]),
            )
        )
    return out


V1 = tasks(
    # Phase 3.1 Setup
    ("T001", 0, False, ["pyproject.toml"], []),
    ("T002", 0, True, [".ruff.toml"], []),
    ("T003", 0, True, ["Makefile"], []),
    # Phase 3.2 Tests First
    ("T004", 1, True, ["tests/contract/test_create.py"], []),
    ("T005", 1, True, ["tests/contract/test_list.py"], []),
    ("T006", 1, True, ["tests/integration/test_flow.py"], []),
    # Phase 3.3 Core
    ("T007", 2, True, ["src/models/task.py"], []),
    ("T008", 2, True, ["src/models/user.py"], []),
    ("T009", 2, False, ["src/services/tasks.py"], []),
    ("T010", 2, False, ["src/api/routes.py"], []),
    ("T011", 2, False, ["src/api/routes.py"], []),
    # Phase 3.5 Polish
    ("T012", 3, True, ["tests/unit/test_validation.py"], []),
    ("T013", 3, True, ["docs/api.md"], []),
)


def test_v1_shape_waves_follow_phases_and_parallel_runs() -> None:
    g = build_graph(V1)
    assert g.order == [t.id for t in V1]
    assert g.waves() == [
        ["T001"],
        ["T002", "T003"],
        ["T004", "T005", "T006"],
        ["T007", "T008"],
        ["T009"],
        ["T010"],
        ["T011"],
        ["T012", "T013"],
    ]
    assert g.deps("T001") == ()
    assert g.deps("T004") == ("T002", "T003")  # the whole previous group, in file order
    assert g.deps("T009") == ("T007", "T008")
    assert g.reasons("T004") == {"T002": "earlier phase", "T003": "earlier phase"}
    assert g.reasons("T009") == {"T007": "task order", "T008": "task order"}


V2 = tasks(
    # Phase 1 Setup
    ("T001", 0, False, ["backend/"], []),
    ("T002", 0, True, ["backend/pyproject.toml"], []),
    # Phase 2 Foundational
    ("T003", 1, False, ["backend/app/db.py"], []),
    ("T004", 1, True, ["backend/app/config.py"], []),
    ("T005", 1, True, ["backend/app/main.py"], []),
    # Phase 3 US1
    ("T006", 2, True, ["backend/tests/test_create.py"], []),
    ("T007", 2, True, ["backend/app/models.py"], []),
    ("T008", 2, False, ["backend/app/routes.py"], ["T007"]),
    # Phase 4 US2: a [P] run right after a phase heading is a new group
    ("T009", 3, True, ["backend/tests/test_list.py"], []),
    ("T010", 3, True, ["backend/app/routes.py"], []),
    # Phase 5 Polish
    ("T011", 4, False, ["README.md"], []),
)


def test_v2_shape_story_phases_run_one_after_another() -> None:
    g = build_graph(V2)
    assert g.waves() == [
        ["T001"],
        ["T002"],
        ["T003"],
        ["T004", "T005"],
        ["T006", "T007"],
        ["T008"],
        ["T009", "T010"],
        ["T011"],
    ]
    assert g.deps("T008") == ("T006", "T007")
    assert g.reasons("T008")["T007"] == "explicit dependency"
    assert g.ready(set()) == ["T001"]
    assert g.ready({"T001"}) == ["T002"]
    assert g.ready({"T001", "T002", "T003"}) == ["T004", "T005"]


def test_same_file_splits_a_wrong_parallel_group() -> None:
    ts = tasks(
        ("T001", 0, True, ["tests/conftest.py", "tests/test_a.py"], []),
        ("T002", 0, True, ["tests/test_b.py"], []),
        ("T003", 0, True, ["./tests/conftest.py", "tests/test_c.py"], []),
        ("T004", 0, True, ["tests//conftest.py"], []),
        ("T005", 0, True, ["tests/Conftest.py"], []),  # case-sensitive: another file
    )
    g = build_graph(ts)
    assert g.waves() == [["T001", "T002", "T005"], ["T003"], ["T004"]]
    assert g.reasons("T003") == {"T001": "same file tests/conftest.py"}
    assert g.deps("T004") == ("T003",)  # the latest toucher; T001 is reached through T003
    assert g.ready(set()) == ["T001", "T002", "T005"]
    assert g.ready({"T001"}) == ["T002", "T003", "T005"]


@pytest.mark.parametrize(
    ("first", "second", "conflict"),
    [
        ("src/models/", "src/models/user.py", True),
        ("src/models/user.py", "src/models/", True),
        ("src/", "src/models/", True),
        ("src/models/", "./src/", True),
        ("src/models/", "src/models/", True),
        ("src/models", "src/models/user.py", False),  # no slash: a file name, exact match only
        ("src/models/", "src/modelsx/a.py", False),
        ("src/a.py", "src/b.py", False),
    ],
)
def test_directory_conflicts(first: str, second: str, conflict: bool) -> None:
    g = build_graph(tasks(("T001", 0, True, [first], []), ("T002", 0, True, [second], [])))
    assert g.waves() == ([["T001"], ["T002"]] if conflict else [["T001", "T002"]])


def test_directory_waits_for_every_earlier_task_under_it() -> None:
    ts = tasks(
        ("T001", 0, True, ["pkg/a.py"], []),
        ("T002", 0, True, ["pkg/sub/b.py"], []),
        ("T003", 0, True, ["other.py"], []),
        ("T004", 0, True, ["pkg/"], []),
        ("T005", 0, True, ["pkg/sub/c.py"], []),
    )
    g = build_graph(ts)
    assert g.waves() == [["T001", "T002", "T003"], ["T004"], ["T005"]]
    assert g.reasons("T004") == {
        "T001": "pkg/ contains pkg/a.py",
        "T002": "pkg/ contains pkg/sub/b.py",
    }
    assert g.reasons("T005") == {"T004": "pkg/ contains pkg/sub/c.py"}


def test_normalize_path() -> None:
    assert normalize_path("./a//b.py") == "a/b.py"
    assert normalize_path("a/./b/") == "a/b/"
    assert normalize_path("a/b/../c.py") == "a/c.py"
    assert normalize_path("A/b.py") != normalize_path("a/b.py")


def test_backward_explicit_dependency_inside_parallel_group() -> None:
    ts = tasks(
        ("T001", 0, True, ["a.py"], []),
        ("T002", 0, True, ["b.py"], ["T001", "T001"]),
        ("T003", 0, True, ["c.py"], []),
    )
    g = build_graph(ts)
    assert g.waves() == [["T001", "T003"], ["T002"]]
    assert g.deps("T002") == ("T001",)
    assert g.notes == []


def test_forward_dependency_moves_the_task_after_its_dependency() -> None:
    ts = tasks(
        ("T001", 0, False, ["setup.py"], []),
        ("T002", 0, False, ["conftest.py"], ["T005"]),  # forward, into phase 1
        ("T003", 0, False, ["x.py"], ["T002"]),  # depends on a moved task: moves too
        ("T004", 0, False, ["y.py"], []),
        ("T005", 1, True, ["fixtures.py"], []),
        ("T006", 1, True, ["z.py"], []),
        ("T007", 2, False, ["w.py"], []),
    )
    g = build_graph(ts)
    assert g.waves() == [["T001"], ["T004"], ["T005", "T006"], ["T002"], ["T003"], ["T007"]]
    assert g.deps("T002") == ("T004", "T005")  # T004: the group before T005's group
    assert g.deps("T004") == ("T001",)  # T004 no longer waits for the moved tasks
    assert g.deps("T007") == ("T002", "T003", "T005", "T006")  # the next phase waits for them
    assert len(g.notes) == 1
    assert "T002 (line 11) depends on T005, which is in a later phase (line 14)" in g.notes[0]


def test_forward_dependency_inside_a_group_reorders_even_against_a_file_conflict() -> None:
    ts = tasks(
        ("T001", 0, True, ["shared.py"], ["T003"]),
        ("T002", 0, True, ["other.py"], []),
        ("T003", 0, True, ["shared.py"], []),
    )
    g = build_graph(ts)
    assert g.waves() == [["T002", "T003"], ["T001"]]
    assert g.reasons("T001") == {"T003": "explicit dependency"}
    assert g.deps("T003") == ()


def test_done_tasks_count_as_landed() -> None:
    ts = tasks(
        ("T001", 0, False, [], [], True),
        ("T002", 0, True, ["a.py"], [], True),
        ("T003", 0, True, ["b.py"], []),
        ("T004", 1, False, [], ["T002"]),
    )
    g = build_graph(ts)
    assert g.waves() == [["T003"], ["T004"]]
    assert g.ready(()) == ["T003"]
    assert g.ready({"T003"}) == ["T004"]
    assert g.waves({"T003", "T004"}) == []
    assert g.ready({"T003", "T004"}) == []
    assert g.waves({"T003", "not-a-task"}) == [["T004"]]


def test_a_landed_task_inside_a_same_file_chain_keeps_its_neighbours_apart() -> None:
    ts = tasks(
        ("T001", 0, True, ["a.py"], []),
        ("T002", 0, True, ["a.py"], []),
        ("T003", 0, True, ["a.py"], []),
        ("T004", 0, True, ["b.py"], []),
    )
    g = build_graph(ts)
    assert g.deps("T003") == ("T002",)
    assert g.waves({"T002"}) == [["T001", "T004"], ["T003"]]
    assert g.ready({"T002"}) == ["T001", "T004"]


def test_a_task_ticked_out_of_order_does_not_open_the_next_phase() -> None:
    ts = tasks(
        ("T001", 0, False, [], []),
        ("T002", 0, False, [], [], True),
        ("T003", 1, False, [], []),
    )
    g = build_graph(ts)
    assert g.deps("T003") == ("T002",)
    assert g.ready(()) == ["T001"]
    assert g.waves() == [["T001"], ["T003"]]


def test_ready_skips_running_tasks_and_waits_for_them() -> None:
    ts = tasks(
        ("T001", 0, True, ["a.py"], []),
        ("T002", 0, True, ["b.py"], []),
        ("T003", 0, True, ["a.py"], []),
        ("T004", 1, False, [], []),
    )
    g = build_graph(ts)
    assert g.ready((), running={"T001"}) == ["T002"]
    assert g.ready({"T002"}, running={"T001"}) == []
    assert g.ready({"T001"}, running={"T002"}) == ["T003"]
    assert g.ready({"T001", "T002", "T003"}) == ["T004"]


def test_empty_list() -> None:
    g = build_graph([])
    assert g.order == []
    assert g.waves() == []
    assert g.ready(()) == []


def test_unknown_dependency_names_the_line() -> None:
    ts = tasks(("T001", 0, False, [], []), ("T005", 0, False, [], ["T001", "T099"]))
    with pytest.raises(TaskParseError) as err:
        build_graph(ts)
    assert str(err.value) == "line 11: T005 depends on T099, which is not in tasks.md"
    assert err.value.line == 11


def test_cycle_names_its_tasks_and_lines() -> None:
    ts = tasks(
        ("T001", 0, False, [], []),
        ("T002", 0, False, [], ["T004"]),
        ("T003", 0, False, [], []),
        ("T004", 1, False, [], ["T006"]),
        ("T005", 1, False, [], []),
        ("T006", 1, False, [], ["T002"]),
    )
    with pytest.raises(TaskParseError) as err:
        build_graph(ts)
    msg = str(err.value)
    assert msg.startswith("line 11: dependency cycle: ")
    for part in ("T002 (line 11)", "T004 (line 13)", "T006 (line 15)"):
        assert part in msg
    assert "T001" not in msg and "T005" not in msg


def test_self_dependency_is_an_error() -> None:
    with pytest.raises(TaskParseError, match="line 10: T001 depends on itself"):
        build_graph(tasks(("T001", 0, False, [], ["T001"])))


def test_duplicate_ids_name_both_lines() -> None:
    ts = tasks(("T001", 0, False, [], []), ("T002", 0, False, [], []), ("T001", 1, False, [], []))
    with pytest.raises(TaskParseError) as err:
        build_graph(ts)
    assert str(err.value) == "line 12: T001 appears twice: line 10 and line 12"


# Invariants on random lists: explicit edges only point at tasks earlier in a random rank, so
# they never form a cycle of their own, but they point forward in file order freely.
@st.composite
def random_lists(draw: st.DrawFn) -> tuple[list[Task], set[str]]:
    n = draw(st.integers(0, 24))
    rank = draw(st.permutations(range(n)))
    phase = 0
    out: list[Task] = []
    for i in range(n):
        phase += draw(st.sampled_from([0, 0, 0, 1]))
        files = draw(
            st.lists(st.sampled_from(["a.py", "./a.py", "b.py", "d/", "d/c.py"]), max_size=2)
        )
        earlier = [j for j in range(n) if rank[j] < rank[i]]
        deps = draw(st.lists(st.sampled_from(earlier), max_size=2)) if earlier else []
        out.append(
            Task(
                id=f"T{i:03d}",
                description="",
                line=i + 1,
                phase=phase,
                parallel=draw(st.booleans()),
                files=tuple(files),
                depends_on=tuple(f"T{j:03d}" for j in deps),
                done=draw(st.booleans()) and draw(st.booleans()),
            )
        )
    done = set(draw(st.lists(st.sampled_from([t.id for t in out]), max_size=5))) if out else set()
    return out, done


def _touch(a: Task, b: Task) -> bool:
    fa = {normalize_path(f) for f in a.files}
    fb = {normalize_path(f) for f in b.files}
    return (
        bool(fa & fb)
        or any(x.endswith("/") and y.startswith(x) for x in fa for y in fb)
        or any(y.endswith("/") and x.startswith(y) for x in fa for y in fb)
    )


@settings(max_examples=200, deadline=None)
@given(random_lists())
def test_invariants_on_random_lists(case: tuple[list[Task], set[str]]) -> None:
    ts, done = case
    g = build_graph(ts)
    landed = done | {t.id for t in ts if t.done}
    waves = g.waves(done)
    wave_of = {tid: k for k, wave in enumerate(waves) for tid in wave}
    by_id = {t.id: t for t in ts}

    assert sorted(wave_of) == sorted(t.id for t in ts if t.id not in landed)
    assert all(wave == sorted(wave, key=g.order.index) for wave in waves)
    assert g.ready(done) == (waves[0] if waves else [])
    for t in ts:
        deps = g.deps(t.id)
        assert set(t.depends_on) <= set(deps)
        assert list(deps) == sorted(set(deps), key=g.order.index)
        if t.id in wave_of:
            assert all(wave_of[d] < wave_of[t.id] for d in deps if d not in landed)
    for wave in waves:
        for i, a in enumerate(wave):
            for b in wave[i + 1 :]:
                assert not _touch(by_id[a], by_id[b]), (a, b)
    if not any(d > t.id for t in ts for d in t.depends_on):  # no task moved: phases in order
        for a in wave_of:
            for b in wave_of:
                if by_id[a].phase < by_id[b].phase:
                    assert wave_of[a] < wave_of[b]
