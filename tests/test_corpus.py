"""Ground truth: every real tasks.md in the spec-kit corpus parses to the counts in SOURCES.md.

The corpus lives beside the repository (`<parent>/shared/corpus`, as in CI). Checkbox files must
match SOURCES.md's "task lines" and "done" columns; heading, bare, bold and table files the
count after the slash. Files without task IDs must be refused naming their first task-like line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.corpus import find_corpus

from orchestrator.errors import TaskParseError
from orchestrator.speckit.tasks import TaskList, parse_tasks
from orchestrator.speckit.ticks import set_done

FOUND = find_corpus()
if FOUND is None:
    pytest.skip(
        "spec-kit corpus not found (CI lays shared/corpus beside the repo; or set SDD_CORPUS)",
        allow_module_level=True,
    )
CORPUS: Path = FOUND

# feature folder -> (tasks, done) from SOURCES.md, each checked against the file by hand.
COUNTS: dict[str, tuple[int, int]] = {
    "Changsik00__fastapi-with-speck-kit/001-setup-clean-architecture-env": (7, 7),
    "JoeyLearnsToCode__prompt-studio/001-prompt-studio": (124, 85),
    "MUmerRazzaq__task-api/001-task-api": (80, 75),
    "Muhammad-Azan-1__Speckit-5-phase-hackhtone/002-uv-fastapi-backend": (48, 45),
    "Muhammad-Azan-1__Speckit-5-phase-hackhtone/1-project-init": (36, 36),
    "bmeurant__sdd/001-task-crud-operations": (28, 28),
    "esinclair__SpecDriven/main": (175, 171),
    "goaikit__aikit/002-rust-spec-kit-complete": (137, 133),
    "hspark1212__chemeleon2/001-this-repository-was": (33, 33),
    "ifLabX__agentifui-pro/001-fastapi-pg-orm": (34, 34),
    "ifLabX__agentifui-pro/003-api-uv-run": (15, 0),  # `### T001:` headings
    "ifLabX__agentifui-pro/004-refactor-spec-md": (26, 0),  # `### T001 [P]` headings
    "ifLabX__agentifui-pro/005-integrate-mypy-for": (36, 0),
    "ll7__robot_sf_ll7/120-social-navigation-benchmark-plan": (72, 65),  # 5 of the 72 are [~]
    "ll7__robot_sf_ll7/124-title-accelerate-slow": (30, 0),  # bare `T001.` lines
    # SOURCES.md says 35; the file has 38 `**T0xx …**:` entries (T001-T038), 23 marked [X].
    "ll7__robot_sf_ll7/130-improve-environment-factory": (38, 23),
    "ll7__robot_sf_ll7/144-implement-metrics-from": (35, 0),  # heading tasks
    "ll7__robot_sf_ll7/339-extend-occupancy-grid": (118, 116),
    "schoolboyqueue__autospec/002-go-binary-migration": (170, 170),
    "schoolboyqueue__autospec/004-workflow-progress-indicators": (88, 0),
    "sheenalunatics__kb_speckit_demo/001-kanban-board": (138, 27),
    "tayyabfayyaz__hakathon_2/003-fastapi-tasks-api": (51, 0),
}
# feature folder -> (line, message) of the TaskParseError the file must raise.
REFUSED: dict[str, tuple[int, str]] = {
    "Changsik00__fastapi-with-speck-kit/011-auth-jwt": (3, "no task IDs found"),
    "JoeyLearnsToCode__prompt-studio/003-i18n": (23, "no task IDs found"),
    "ll7__robot_sf_ll7/126-title-integrate-plots": (11, "no task IDs found"),
    # 51 table rows, 50 distinct IDs: T052A is listed twice.
    "ll7__robot_sf_ll7/127-enhance-benchmark-visual": (107, "T052A on lines 87 and 107"),
}
FEATURES = sorted(str(p.parent.relative_to(CORPUS)) for p in CORPUS.glob("*/*/tasks.md"))


def read(feature: str) -> str:
    return (CORPUS / feature / "tasks.md").read_text(encoding="utf-8")


def load(feature: str) -> TaskList:
    return parse_tasks(read(feature))


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted([*COUNTS, *REFUSED]) == FEATURES


@pytest.mark.parametrize("feature", FEATURES)
def test_corpus_file(feature: str) -> None:
    text = read(feature)
    if feature in REFUSED:
        line, message = REFUSED[feature]
        with pytest.raises(TaskParseError, match=re.escape(message)) as err:
            parse_tasks(text)
        assert err.value.line == line
        return
    tl = parse_tasks(text)
    assert (len(tl.tasks), sum(t.done for t in tl.tasks)) == COUNTS[feature]
    lines = text.splitlines()
    for task in tl.tasks:
        assert re.search(rf"(?<!\w){task.id}(?!\w)", lines[task.line - 1]), task
        assert 0 <= task.phase < len(tl.phases)
    assert [t.line for t in tl.tasks] == sorted(t.line for t in tl.tasks)


@pytest.mark.parametrize("feature", sorted(COUNTS))
def test_corpus_set_done_flips_one_task_only(feature: str) -> None:
    text = read(feature)
    tl = parse_tasks(text)
    for task in (tl.tasks[0], tl.tasks[len(tl.tasks) // 2], tl.tasks[-1]):
        flipped = set_done(text, task, not task.done)
        old, new = text.splitlines(keepends=True), flipped.splitlines(keepends=True)
        assert [k for k, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [
            task.line - 1
        ]
        after = {t.id: t for t in parse_tasks(flipped).tasks}
        assert after[task.id].done is not task.done
        assert sum(t.done for t in after.values()) == sum(t.done for t in tl.tasks) + (
            -1 if task.done else 1
        )
        back = set_done(flipped, after[task.id], task.done)
        if task.mark in (" ", "x", "X"):
            assert back == text
        else:  # `**T001** [X]:` unticked and ticked again reads `**T001 [X]**:`
            assert parse_tasks(back).tasks == tl.tasks


def tasks_of(feature: str) -> dict:
    return {t.id: t for t in load(feature).tasks}


def test_chemeleon2_suffixed_ids_and_requires() -> None:
    got = tasks_of("hspark1212__chemeleon2/001-this-repository-was")
    assert got["T008a"].parallel and got["T008a"].done
    assert "T012a" in got
    assert got["T016"].depends_on == ("T008",)  # `- **Dependency**: Requires T008 (…)`
    assert got["T021"].depends_on == ("T008", "T008a", "T009", "T010", "T011")  # T008-T011


def test_ll7_124_trailing_parallel_and_depends_brackets() -> None:
    got = tasks_of("ll7__robot_sf_ll7/124-title-accelerate-slow")
    assert got["T002"].parallel and not got["T001"].parallel
    assert got["T009"].depends_on == ("T004", "T005", "T006")
    assert got["T024"].depends_on == ()  # [Depends: code tasks]
    assert got["T003"].description == "Create `tests/perf_utils/__init__.py` (module marker)."
    assert got["T003"].files == ("tests/perf_utils/__init__.py",)


def test_kanban_route_paths() -> None:
    got = tasks_of("sheenalunatics__kb_speckit_demo/001-kanban-board")
    assert "src/app/api/tasks/[id]/history/route.ts" in got["T109"].files
    assert got["T025"].files == ("src/app/api/tasks/route.ts",)  # not /api/tasks
    assert got["T072"].files == ()  # "Update PATCH /api/tasks/[id] …" names a route


def test_prompt_studio_003_priorities_are_not_parallel() -> None:
    text = read("JoeyLearnsToCode__prompt-studio/003-i18n")
    with_ids = re.sub(r"^### Task (\d)\.(\d):", r"### T0\1\2:", text, flags=re.M)
    tl = parse_tasks(with_ids)
    assert len(tl.tasks) == 23  # 23 headings; their 52 ID-less checkboxes are not tasks
    assert not any(t.parallel for t in tl.tasks)
    assert tl.tasks[0].description == "创建 i18n 目录结构和类型定义 [P0]"
    assert [(p.number, p.title) for p in tl.phases][:2] == [
        ("1", "基础设施搭建（2-3天）"),
        ("2", "翻译数据准备（3-4天）"),
    ]


def test_iflabx_001_template_note_and_checklists_are_not_tasks() -> None:
    text = read("ifLabX__agentifui-pro/001-fastapi-pg-orm")
    lines = text.splitlines()
    assert lines[197].startswith("- [P] tasks")
    tl = parse_tasks(text)
    assert all(lines[t.line - 1].lstrip().startswith(("- [x]", "- [X]")) for t in tl.tasks)
    assert 198 not in {t.line for t in tl.tasks}
    assert tl.phases[2].title == "Core Configuration ✅ COMPLETED"


def test_mumerrazzaq_fenced_task_lines_are_not_tasks() -> None:
    text = read("MUmerRazzaq__task-api/001-task-api")
    assert 'Task T018: "Write contract test' in text
    tl = parse_tasks(text)
    t018 = next(t for t in tl.tasks if t.id == "T018")
    assert text.splitlines()[t018.line - 1].startswith("- [")
    assert t018.section.startswith("Tests for User Story 1")
    # "Tasks T011-T014, T016-T017 can run in parallel after T008-T010"
    assert next(t for t in tl.tasks if t.id == "T016").depends_on == ("T008", "T009", "T010")


def test_ll7_120_partial_marks_and_prose_dependencies() -> None:
    tl = load("ll7__robot_sf_ll7/120-social-navigation-benchmark-plan")
    got = {t.id: t for t in tl.tasks}
    assert [t.id for t in tl.tasks if t.mark == "~"] == ["T016", "T017", "T018", "T019", "T020"]
    assert not any(t.done for t in tl.tasks if t.mark == "~")
    assert got["T061"].depends_on == ("T035", "T036")
    assert got["T030"].depends_on == ()  # "T010–T020 must run (and fail) before T030+"
    assert [p.number for p in tl.phases][-3:] == ["3.13", "3.12", "3.14"]


def test_ll7_130_bold_completion_and_deps() -> None:
    got = tasks_of("ll7__robot_sf_ll7/130-improve-environment-factory")
    assert got["T002"].done and got["T002"].parallel
    assert got["T007"].done  # [X, superseded in Robot SF 2.0]
    assert not got["T016"].done and got["T016"].parallel
    assert not got["T029"].done and got["T029"].description.startswith("(CRITICAL")
    assert got["T015"].depends_on == ("T001", "T011")
    assert got["T001"].depends_on == ()  # Deps: None.


def test_ll7_144_heading_tasks() -> None:
    tl = load("ll7__robot_sf_ll7/144-implement-metrics-from")
    got = {t.id: t for t in tl.tasks}
    assert got["T003"].parallel and not got["T001"].parallel
    assert got["T003"].section == "NHT Metrics (Navigation/Hard Task)"
    assert got["T004"].depends_on == ("T005", "T006", "T007")
    assert got["T022"].depends_on == tuple(f"T{k:03d}" for k in range(3, 22))
    assert got["T001"].files == ("robot_sf/benchmark/metrics.py",)


def test_iflabx_003_and_004_heading_tasks() -> None:
    got = tasks_of("ifLabX__agentifui-pro/003-api-uv-run")
    assert got["T005"].parallel and got["T011"].depends_on == ("T001",)
    assert "api/pyproject.toml" in got["T001"].files
    got = tasks_of("ifLabX__agentifui-pro/004-refactor-spec-md")
    assert got["T006"].depends_on == ("T004", "T005")  # "- T006 depends on T004, T005 (…)"
    assert got["T023"].depends_on[:2] == ("T014", "T015")  # **Prerequisites**: … (T014-T021)


def test_template_variants() -> None:
    got = tasks_of("Changsik00__fastapi-with-speck-kit/001-setup-clean-architecture-env")
    assert got["T007"].depends_on == ("T006",)  # "the test (T006) should be written before …"
    assert load("bmeurant__sdd/001-task-crud-operations").phases[-1].number == "N"
    azan = load("Muhammad-Azan-1__Speckit-5-phase-hackhtone/1-project-init")
    assert azan.phases[0].title == "Setup"  # the Dependencies section before it is no phase
    autospec = tasks_of("schoolboyqueue__autospec/002-go-binary-migration")
    assert not any("y/N" in f for t in autospec.values() for f in t.files)
    progress = tasks_of("schoolboyqueue__autospec/004-workflow-progress-indicators")
    assert not any("OK" in f or "Total" in f for t in progress.values() for f in t.files)
    assert not {"T085", "T086", "T087", "T088"} & set(tasks_of("esinclair__SpecDriven/main"))
