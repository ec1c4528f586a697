"""tasks.md parser: each notation, each "not a task" case, phases, errors and set_done edits."""

from __future__ import annotations

from textwrap import dedent

import pytest

from orchestrator.errors import TaskParseError
from orchestrator.speckit.tasks import Phase, Task, parse_tasks
from orchestrator.speckit.ticks import set_done

ANCHOR = "- [ ] T900 Anchor task\n\n"


def parse(md: str):
    return parse_tasks(dedent(md))


def one(md: str) -> Task:
    tasks = parse(md).tasks
    assert len(tasks) == 1, [t.id for t in tasks]
    return tasks[0]


def deps(md: str) -> dict[str, tuple[str, ...]]:
    return {t.id: t.depends_on for t in parse(md).tasks if t.depends_on}


# --- one task line -> its fields -------------------------------------------------------------

LINES = [
    ("- [ ] T001 Create project structure", dict(id="T001", mark=" ", done=False)),
    ("- [x] T002 Done lower", dict(mark="x", done=True, description="Done lower")),
    ("- [X] T002 Done upper", dict(mark="X", done=True)),
    ("- [~] T016 Resume test - skipped (complex)", dict(mark="~", done=False)),
    ("- [ ] T003 [P] Configure linting", dict(parallel=True, description="Configure linting")),
    (
        "- [ ] T012 [P] [US1] Create User model in src/models/user.py",
        dict(parallel=True, story="US1", files=("src/models/user.py",)),
    ),
    ("- [ ] T012 [US2] [P] Labels in any order", dict(parallel=True, story="US2")),
    ("- [ ] **T001** Add mypy to dev deps", dict(id="T001", description="Add mypy to dev deps")),
    (
        "- [ ] **T004 [P]** Contract test: config",
        dict(parallel=True, description="Contract test: config"),
    ),
    ("- [x] **T008a [P]** Configure pyright", dict(id="T008a", parallel=True, done=True)),
    ("- [ ] T040A Split timing", dict(id="T040A")),
    ("- [ ] T1000 Four digits", dict(id="T1000")),
    ("- [ ] T000 Phase zero", dict(id="T000")),
    ("- [ ] [T001] [P] Bracketed ID", dict(id="T001", parallel=True, description="Bracketed ID")),
    ("- [ ] T001: Colon after the ID", dict(description="Colon after the ID")),
    (
        "- [ ] T005 Capture fields (a, b). [P]",
        dict(parallel=True, description="Capture fields (a, b)."),
    ),
    (
        "- [ ] T006 Task 1.1 priority [P0]",
        dict(parallel=False, description="Task 1.1 priority [P0]"),
    ),
    ("- [ ] T007 Ask `Continue? [y/N]`", dict(parallel=False, files=())),
    ("* [ ] T008 Star bullet", dict(id="T008")),
    ("1. [x] T009 Ordered item", dict(id="T009", done=True)),
    ("- [ ] T010 Hook <!-- id: 2 -->", dict(description="Hook")),
    ("- [ ] T011 创建 `src/i18n/types.ts` 定义类型", dict(files=("src/i18n/types.ts",))),
    (
        "- [ ] T012 Define policy for suppressing\n  no-finding results in src/policy.py",
        dict(description="Define policy for suppressing no-finding results in src/policy.py"),
    ),
]


@pytest.mark.parametrize(("md", "want"), LINES, ids=[m.splitlines()[0][:40] for m, _ in LINES])
def test_task_line(md: str, want: dict) -> None:
    task = one(md)
    assert {k: getattr(task, k) for k in want} == want


# --- things that look like tasks but are not --------------------------------------------------

NOT_TASKS = {
    "backtick fence": "```bash\n- [ ] T001 Inside a fence\n```\n",
    "tilde fence": "~~~\n- [x] T001 Inside a fence\n~~~\n",
    "parallel example": '## Parallel Example\n\n```bash\nTask T018: "Write contract test"\n```\n',
    "ID-less checklist": "- [ ] All contracts have corresponding tests\n",
    "ID at the end": "- [ ] All contract tests pass (T028)\n",
    "template note": "- [P] tasks = different files, no dependencies\n",
    "HTML comment": "<!--\n- [ ] T001 Sample task to replace\n-->\n",
    "indented code": "Text.\n\n    - [ ] T001 Indented code block\n",
    "bullet without checkbox": "- T001 blocks T002\n",
    "prose mention": "See T001 for details.\n",
    "bold prose": "**T022 blocks all of Phase 6**: no cleanup before the checkpoint\n",
    "range checkbox": "- [~] T062-T067 DROPPED\n",
    "ID-less sub-bullet": "- [ ] T901 Parent\n  - [x] Child step without ID\n",
    "acceptance list": "### T902: Heading task\n\n**Acceptance**:\n- [X] Fields added\n",
    "task-word heading": "### Task 1.1: Not an ID\n",
    "summary line beside checkboxes": "## Summary\n\nT900: anchor task recap\n",
    "summary table beside checkboxes": "| ID | Task |\n|--|--|\n| T900 | Anchor recap |\n",
}


@pytest.mark.parametrize("snippet", NOT_TASKS.values(), ids=NOT_TASKS.keys())
def test_not_a_task(snippet: str) -> None:
    ids = [t.id for t in parse_tasks(ANCHOR + snippet).tasks]
    assert ids == ["T900"] + [i for i in ("T901", "T902") if i in snippet]


# --- task forms without a checkbox ------------------------------------------------------------


def test_heading_tasks_with_fields() -> None:
    tl = parse(
        """\
        ## Phase 1: Setup

        ### T001: [Setup] Extend EpisodeData
        **File**: `robot_sf/benchmark/metrics.py`
        **Dependencies**: None
        **Parallelizable**: No

        ### T002 [P] Create core/ directory structure
        **Dependencies**: T001

        #### T003: [US1] Implement success_rate
        **Parallelizable**: Yes [P]
        **Priority**: HIGH (depends on T002 greenlet)

        ```python
        # depends on T999 inside code is not read
        ```
        """
    )
    t1, t2, t3 = tl.tasks
    assert (t1.id, t1.mark, t1.done, t1.parallel, t1.depends_on) == ("T001", "", False, False, ())
    assert t1.description == "[Setup] Extend EpisodeData"
    assert t1.files == ("robot_sf/benchmark/metrics.py",)
    assert (t2.parallel, t2.depends_on, t2.files) == (True, ("T001",), ("core/",))
    assert (t3.story, t3.parallel, t3.depends_on) == ("US1", True, ("T002",))
    assert [t.line for t in tl.tasks] == [3, 8, 11]
    assert any("headings" in w for w in tl.warnings)


def test_bare_and_bold_lines() -> None:
    tl = parse(
        """\
        ### Shared Helpers
        T003. Create `tests/perf_utils/__init__.py` (module marker). [P]
        T005. Implement reporting. [Depends: T003 T004]
        T004 [X]. Implement policy

        **T001** [X]: Create baseline script `scripts/baseline.py`.
        Deps: None.
        Accept: File created.

        **T002 [P] [X]**: Add test `tests/test_sig.py`.
        Deps: T001.

        **T007 [X, superseded in 2.0]**: Create the mapper.
        Deps: T006, T003.

        **T029 (CRITICAL)**: Reinstate shim.
        """
    )
    got = {t.id: t for t in tl.tasks}
    assert list(got) == ["T003", "T005", "T004", "T001", "T002", "T007", "T029"]
    assert got["T003"].parallel and got["T003"].description.endswith("(module marker).")
    assert got["T003"].section == "Shared Helpers"
    assert got["T005"].depends_on == ("T003", "T004")
    assert got["T005"].description == "Implement reporting. [Depends: T003 T004]"
    assert got["T004"].done and got["T004"].description == "Implement policy"
    assert (
        got["T001"].done
        and got["T001"].description == "Create baseline script `scripts/baseline.py`."
    )
    assert (got["T002"].done, got["T002"].parallel, got["T002"].depends_on) == (
        True,
        True,
        ("T001",),
    )
    assert got["T007"].done and got["T007"].depends_on == ("T006", "T003")
    assert not got["T029"].done and got["T029"].description == "(CRITICAL) Reinstate shim."
    assert {t.mark for t in tl.tasks} == {""}
    assert [t.line for t in tl.tasks] == [2, 3, 4, 6, 10, 13, 16]


def test_table_rows() -> None:
    tl = parse(
        """\
        ### Setup & Constants
        | ID | Task | Details / File Paths | Depends | Parallel | Status |
        |----|------|----------------------|---------|----------|--------|
        | T001 | Create constants | `robot_sf/visual_constants.py` with enums | - | [P] | Done |
        | T002 | Add usage | Update `robot_sf/visuals.py` | T001 |  | Done (2025-09-22) |
        | T040A | Split timing | Refine T040: separate timing | T040 | [P] | Not started |
        | T010 | Test schema | `tests/test_schema.py` | contracts schema | [P] | In progress |

        | FR | Coverage Tasks |
        |----|----------------|
        | FR-001 | T001 T002 |
        """
    )
    got = {t.id: t for t in tl.tasks}
    assert list(got) == ["T001", "T002", "T040A", "T010"]
    assert [got[i].done for i in got] == [True, True, False, False]
    assert [got[i].parallel for i in got] == [True, False, True, True]
    assert got["T001"].files == ("robot_sf/visual_constants.py",)
    assert got["T002"].depends_on == ("T001",)
    assert got["T040A"].depends_on == ("T040",)  # unknown IDs stay for the scheduler
    assert got["T010"].depends_on == ()
    assert (got["T001"].description, got["T001"].section, got["T001"].line) == (
        "Create constants",
        "Setup & Constants",
        4,
    )


# --- dependencies ---------------------------------------------------------------------------

DEPENDENCIES = {
    "template inline": (
        "- [ ] T012 A\n- [ ] T013 B\n- [ ] T014 C (depends on T012, T013)\n",
        {"T014": ("T012", "T013")},
    ),
    "bracket list": ("T004. A\nT005. B [Depends: T004 T005 T006]\n", {"T005": ("T004", "T006")}),
    "continuation line": ("**T001**: A\n\n**T002**: B\nDeps: T001.\n", {"T002": ("T001",)}),
    "none and dash": ("**T001**: A\nDeps: None.\n\n**T002**: B\nDeps: -\n", {}),
    "sub-bullet requires": (
        "- [x] **T008** A\n- [x] **T016** B\n  - Run `ruff format .`\n"
        "  - **Dependency**: Requires T008 (Ruff configuration)\n",
        {"T016": ("T008",)},
    ),
    "depends mid-line": ("- [ ] T004 A\n- [ ] T005 B. Depends: T004\n", {"T005": ("T004",)}),
    "requires inline": ("- [ ] T001 A\n- [ ] T002 B, requires T001\n", {"T002": ("T001",)}),
    "range uses existing IDs": (
        "- [ ] T010 A\n- [ ] T011 B\n- [ ] T011a C\n- [ ] T013 D\n"
        "- [ ] T020 E (depends on T010-T013)\n",
        {"T020": ("T010", "T011", "T011a", "T013")},
    ),
    "en dash range in file order": (
        "- [ ] T013 A\n- [ ] T010 B\n- [ ] T020 C (depends on T010–T013)\n",
        {"T020": ("T013", "T010")},
    ),
    "own ID dropped, order kept, no duplicates": (
        "- [ ] T002 A\n- [ ] T001 B\n- [ ] T003 C (depends on T002, T003, T001, T002)\n",
        {"T003": ("T002", "T001")},
    ),
    "unknown ID kept": ("- [ ] T001 A (depends on T999)\n", {"T001": ("T999",)}),
    "not read inside a task's code block": (
        "- [ ] T001 A\n- [ ] T002 B\n\n  ```\n  depends on T001\n  ```\n",
        {},
    ),
    "v1 blocks lines": (
        "- [ ] T006 A\n- [ ] T007 B\n- [ ] T010 C\n\n## Dependencies\n- T006 blocks T007, T010\n",
        {"T007": ("T006",), "T010": ("T006",)},
    ),
    "v1 before prose": (
        "- [ ] T004 A\n- [ ] T005 B\n- [ ] T008 C\n- [ ] T009 D\n\n## Dependencies\n"
        "- Tests (T004-T005) before implementation (T008-T009)\n"
        "- Implementation before polish (T010-T012)\n",
        {"T008": ("T004", "T005"), "T009": ("T004", "T005")},
    ),
    "depends-on prose with a side remark": (
        "- [ ] T004 A\n- [ ] T005 B\n- [ ] T006 C\n\n## Dependencies\n"
        "- T006 depends on T004, T005 (needs to know what to export)\n",
        {"T006": ("T004", "T005")},
    ),
    "bold label that states the edge": (
        "- [ ] T019 A\n- [ ] T020 B\n\n## Dependencies\n"
        "- **T019 (test suite) blocks T020**: Tests must pass before any cleanup\n",
        {"T020": ("T019",)},
    ),
    "open range and two relations are ignored": (
        "- [ ] T010 A\n- [ ] T030 B\n- [ ] T050 C\n- [ ] T052 D\n\n## Dependencies Summary\n"
        "- T010 must run before T030+ (schemas).\n"
        "- Metrics (T050) before SNQI (T052) and aggregation depends on metrics (T030).\n",
        {},
    ),
    "no edges from examples or notes": (
        "- [ ] T001 A\n- [ ] T002 B\n\n## Dependencies\n\n### Parallel Example\n"
        "T001 blocks T002\n\n## Notes\n- T001 before T002\n",
        {},
    ),
    "phase prose has no IDs": (
        "- [ ] T001 A\n\n## Dependencies & Execution Order\n"
        "- **Foundational (Phase 2)**: Depends on Setup completion - BLOCKS all user stories\n",
        {},
    ),
}


@pytest.mark.parametrize(("md", "want"), DEPENDENCIES.values(), ids=DEPENDENCIES.keys())
def test_dependencies(md: str, want: dict) -> None:
    assert deps(md) == want


# --- file paths -------------------------------------------------------------------------------

PATHS = [
    ("Create User model in src/models/user.py", ["src/models/user.py"]),
    ("Add fixture to `tests/conftest.py`.", ["tests/conftest.py"]),
    ("Create src/app/api/tasks/[id]/history/route.ts", ["src/app/api/tasks/[id]/history/route.ts"]),
    ("Create PATCH /api/tasks/[id]/route.ts API route", ["/api/tasks/[id]/route.ts"]),
    ("Update PATCH /api/tasks/[id] and GET /api/tasks route", []),
    ("Create `api/` with config/, database/ subdirectories", ["api/", "config/", "database/"]),
    (
        "Add `.mypy_cache/` and .gitignore and .env.example",
        [".mypy_cache/", ".gitignore", ".env.example"],
    ),
    ("Update pyproject.toml (see (docs/setup.md)).", ["pyproject.toml", "docs/setup.md"]),
    ("See https://example.com/docs/a.md and http://localhost:8000/health", []),
    ('Prompt "Continue anyway? [y/N]" and print ([OK], [FAIL]) [N/Total]', []),
    ("Reshape [C,H,W] into [0,1] for I/O and/or read/write", []),
    ("Use Next.js, Node.js and Dexie.js with mypy 1.8.0, e.g. etc.", []),
    ("Run `uv sync`, `make_*_env`, `time.perf_counter` and `has_pygame()`", []),
    (
        "Create dirs cmd/autospec/, internal/{cli,config}/",
        ["cmd/autospec/", "internal/{cli,config}/"],
    ),
    ("Test `tests/visuals/test_x.py::test_path` passes", ["tests/visuals/test_x.py"]),
    ("Set permission for all .sh files and .zip assets", []),
    ("配置 ESLint 和 Prettier (.eslintrc.js, .prettierrc)", [".eslintrc.js", ".prettierrc"]),
    ("Create `app/domain/models` package and Dockerfile", ["app/domain/models", "Dockerfile"]),
    ("Run `pytest tests/contract/ -v`", ["tests/contract/"]),
    ("Write `video_<episode_id>.mp4` to results/", ["results/"]),
]


@pytest.mark.parametrize(("text", "want"), PATHS, ids=[t[:40] for t, _ in PATHS])
def test_files(text: str, want: list[str]) -> None:
    assert one(f"- [ ] T001 {text}").files == tuple(want)


# --- phases and sections ----------------------------------------------------------------------

PHASES = [
    (
        "## Phase 3.2: Tests First (TDD) ⚠️ MUST COMPLETE BEFORE 3.3",
        ("3.2", "Tests First (TDD) ⚠️ MUST COMPLETE BEFORE 3.3"),
    ),
    (
        "## Phase 3: User Story 1 - Title (Priority: P1) 🎯 MVP",
        ("3", "User Story 1 - Title (Priority: P1) 🎯 MVP"),
    ),
    ("## Phase 3.3: Core Configuration ✅ COMPLETED", ("3.3", "Core Configuration ✅ COMPLETED")),
    ("## Phase N: Polish & Cross-Cutting Concerns", ("N", "Polish & Cross-Cutting Concerns")),
    ("## Phase 1 - Setup", ("1", "Setup")),
    ("### Phase 2 (Foundational)", ("2", "(Foundational)")),
    ("## 第一阶段：基础设施搭建（2-3天）", ("1", "基础设施搭建（2-3天）")),
    ("## 第十二阶段：收尾", ("12", "收尾")),
]


@pytest.mark.parametrize(("heading", "want"), PHASES, ids=[h for h, _ in PHASES])
def test_phase_heading(heading: str, want: tuple[str, str]) -> None:
    tl = parse_tasks(f"{heading}\n\n- [ ] T001 Task\n")
    assert tl.phases == [Phase(0, *want, 1)]
    assert tl.tasks[0].phase == 0


def test_implicit_phase_sections_and_lines() -> None:
    tl = parse(
        """\
        # Tasks: Feature

        - [ ] T001 Before any phase

        ## Phase 1: Setup

        **Purpose**: setup
        ---

        - [ ] T002 In phase one

        ## Phase 3: User Story 1 - Title (Priority: P1)

        ### Tests for User Story 1 (OPTIONAL) ⚠️

        > **NOTE: Write these tests FIRST**

        - [ ] T003 [P] [US1] Contract test
        ### Implementation for User Story 1
        - [ ] T004 [US1] Model

        ## Phase 4: Polish
        - [ ] T005 Docs
        """
    )
    assert tl.phases == [
        Phase(0, "", "", 0),
        Phase(1, "1", "Setup", 5),
        Phase(2, "3", "User Story 1 - Title (Priority: P1)", 12),
        Phase(3, "4", "Polish", 22),
    ]
    got = [(t.id, t.phase, t.line, t.section) for t in tl.tasks]
    assert got == [
        ("T001", 0, 3, ""),
        ("T002", 1, 10, ""),
        ("T003", 2, 18, "Tests for User Story 1 (OPTIONAL) ⚠️"),
        ("T004", 2, 20, "Implementation for User Story 1"),
        ("T005", 3, 23, ""),
    ]


def test_no_implicit_phase_when_every_task_has_one() -> None:
    tl = parse_tasks("# Tasks\n\n## Dependencies\n- none\n\n## Phase 1: Setup\n- [ ] T001 A\n")
    assert tl.phases == [Phase(0, "1", "Setup", 6)]
    assert tl.tasks[0].phase == 0


def test_h1_and_nested_phase_like_headings_are_not_phases() -> None:
    tl = parse_tasks("# Phase 2 Tasks: Plots\n\n## Phase 1: A\n\n### Phase 1 notes\n- [ ] T001 A\n")
    assert [p.title for p in tl.phases] == ["A"]
    assert tl.tasks[0].section == "Phase 1 notes"


# --- robustness -------------------------------------------------------------------------------


def test_front_matter_bom_crlf_comments_and_breaks() -> None:
    text = (
        '\ufeff---\r\ndescription: "Task list"\r\n---\r\n# Tasks\r\n<!-- sample:\r\n'
        "- [ ] T099 Sample -->\r\n\r\n## Phase 1: Setup\r\n- [ ] T001 First in src/a.py\r\n"
        "______________________________________________________________________\r\n\r\n"
        "- [X] T002 Second\r\n---\r\n- [ ] T003 Third"
    )
    tl = parse_tasks(text)
    assert [(t.id, t.line, t.done) for t in tl.tasks] == [
        ("T001", 9, False),
        ("T002", 12, True),
        ("T003", 14, False),
    ]
    assert tl.tasks[0].files == ("src/a.py",)
    assert tl.phases == [Phase(0, "1", "Setup", 8)]


def test_sub_bullets_and_nested_tasks() -> None:
    tl = parse(
        """\
        - [ ] **T001** Add mypy in `api/pyproject.toml`

          - Add `"mypy>=1.8.0"` to the dev group
          - Deps: T000
            - [x] T002 Nested task with its own ID (depends on T001)
          - Verify: `uv run mypy --version`
        - [ ] T000 Zero
        """
    )
    got = {t.id: t for t in tl.tasks}
    assert list(got) == ["T001", "T002", "T000"]
    assert got["T001"].depends_on == ("T000",)
    assert got["T001"].description == "Add mypy in `api/pyproject.toml`"
    assert got["T002"].depends_on == ("T001",) and got["T002"].done
    assert got["T002"].line == 5


# --- errors -----------------------------------------------------------------------------------

ERRORS = [
    ("", None, "no tasks found: expected lines like `- [ ] T001"),
    ("# Tasks\n\nNothing here yet.\n", None, "no tasks found"),
    ("# Tasks\n\n- [ ] All contracts have tests\n", 3, "no task IDs found"),
    ("# T\n\n1. [X] Inject hook [P]\n", 3, "`1. [X] Inject hook [P]` looks like a task"),
    ("## 第一阶段：x\n\n### Task 1.1: 创建目录 [P0]\n- [x] 子任务\n", 3, "no task IDs found"),
    ("```\n- [ ] T001 fenced only\n```\n", None, "no tasks found"),
    ("- [ ] T001 A\n- [ ] T002 B\n- [x] T001 C\n", 3, "duplicate task ID T001 on lines 1 and 3"),
]


@pytest.mark.parametrize(("text", "line", "message"), ERRORS, ids=[e[2][:30] for e in ERRORS])
def test_errors(text: str, line: int | None, message: str) -> None:
    with pytest.raises(TaskParseError) as err:
        parse_tasks(text)
    assert err.value.line == line
    assert message in str(err.value)
    if line:
        assert str(err.value).startswith(f"line {line}: ")


# --- set_done ---------------------------------------------------------------------------------


def changed_lines(a: str, b: str) -> list[int]:
    """1-based numbers of the lines that differ; line count and line endings must match."""
    old, new = a.splitlines(keepends=True), b.splitlines(keepends=True)
    return [k + 1 for k, (x, y) in enumerate(zip(old, new, strict=True)) if x != y]


FORMS = {
    "checkbox": (
        "## Phase 1: A\n- [ ] T001 First\n- [ ] T002 Second\n",
        "T002",
        "- [X] T002 Second",
    ),
    "checkbox ordered": ("1. [ ] T001 First\n2. [ ] T002 Second\n", "T001", "1. [X] T001 First"),
    "partial": ("- [~] T001 First - skipped\n", "T001", "- [X] T001 First - skipped"),
    "heading": (
        "### T001: Add greenlet\n**Dependencies**: None\n",
        "T001",
        "### T001 [X]: Add greenlet",
    ),
    "bare": ("T001. Capture baseline\nT002. Next [P]\n", "T002", "T002 [X]. Next [P]"),
    "bold": ("**T018**: Create guide\nDeps: T011.\n", "T018", "**T018 [X]**: Create guide"),
    "bold with labels": ("**T016 [P]**: Add test\n", "T016", "**T016 [P] [X]**: Add test"),
    "table": (
        "| ID | Task | Status |\n|---|---|---|\n| T050A | Test guard |  Not started |\n",
        "T050A",
        "| T050A | Test guard |  Done |",
    ),
}


@pytest.mark.parametrize(("text", "tid", "ticked"), FORMS.values(), ids=FORMS.keys())
def test_set_done_round_trip(text: str, tid: str, ticked: str) -> None:
    before = {t.id: t for t in parse_tasks(text).tasks}
    done_text = set_done(text, before[tid], True)
    assert ticked in done_text.splitlines()
    after = {t.id: t for t in parse_tasks(done_text).tasks}
    assert after[tid].done
    assert {i: t for i, t in after.items() if i != tid} == {
        i: t for i, t in before.items() if i != tid
    }
    assert changed_lines(text, done_text) == [before[tid].line]
    if before[tid].mark != "~":
        assert set_done(done_text, after[tid], False) == text
    assert set_done(done_text, after[tid], True) == done_text


def test_set_done_keeps_crlf_bom_and_missing_final_newline() -> None:
    text = "\ufeff- [ ] T001 One\r\n- [x] T002 Two\r\n\r\n- [ ] T003 Three"
    tl = parse_tasks(text)
    first = set_done(text, tl.tasks[0], True)
    assert first == "\ufeff- [x] T001 One\r\n- [x] T002 Two\r\n\r\n- [ ] T003 Three"
    last = set_done(text, tl.tasks[2], True)
    assert last == "\ufeff- [ ] T001 One\r\n- [x] T002 Two\r\n\r\n- [x] T003 Three"


@pytest.mark.parametrize(
    ("others", "mark"),
    [("- [x] T002 B\n- [x] T003 C\n- [X] T004 D\n", "x"), ("- [X] T002 B\n", "X"), ("", "X")],
)
def test_set_done_follows_the_file_style(others: str, mark: str) -> None:
    text = "- [ ] T001 A\n" + others
    assert set_done(text, parse_tasks(text).tasks[0], True).startswith(f"- [{mark}] T001 A\n")


def test_set_done_finds_the_task_by_id_after_edits_above_it() -> None:
    text = "- [ ] T001 A\n- [ ] T002 B\n"
    stale = parse_tasks(text).tasks[1]
    edited = "# Tasks\n\nIntro.\n\n" + text
    assert set_done(edited, stale, True) == "# Tasks\n\nIntro.\n\n- [ ] T001 A\n- [X] T002 B\n"


def test_set_done_refuses_what_it_cannot_tick() -> None:
    text = "- [ ] T001 A\n"
    ghost = Task(id="T777", description="gone", line=1, phase=0)
    with pytest.raises(TaskParseError, match=r"T777 is no longer in tasks\.md"):
        set_done(text, ghost, True)
    table = "| ID | Task |\n|---|---|\n| T001 | A |\n"
    with pytest.raises(TaskParseError, match="without a Status column"):
        set_done(table, parse_tasks(table).tasks[0], True)
    short = "| ID | Task | Status |\n|---|---|---|\n| T001 | A |\n"
    with pytest.raises(TaskParseError, match="no Status cell"):
        set_done(short, parse_tasks(short).tasks[0], True)


def test_set_done_unticks_a_superseded_bold_mark() -> None:
    text = "**T007 [X, superseded in 2.0]**: Create the mapper.\n"
    undone = set_done(text, parse_tasks(text).tasks[0], False)
    assert undone == "**T007 [superseded in 2.0]**: Create the mapper.\n"
    assert not parse_tasks(undone).tasks[0].done


# --- scale ------------------------------------------------------------------------------------


def big_tasks_md(n: int) -> str:
    out = ["---", 'description: "generated"', "---", "# Tasks: big", ""]
    for k in range(1, n + 1):
        if k % 100 == 1:
            out += ["", f"## Phase {k // 100 + 1}: User Story {k // 100 + 1}", "", "### Tests", ""]
        dep = (
            f" (depends on T{k - 1:05d}, T{max(k - 3, 1):05d}-T{max(k - 2, 1):05d})"
            if k > 1
            else ""
        )
        mark = "X" if k % 3 else " "
        out.append(f"- [{mark}] T{k:05d} [P] [US1] Implement thing {k} in src/pkg/mod_{k}.py{dep}")
        if k % 10 == 0:
            out.append(f"  - Deps: T{max(k - 5, 1):05d}")
    return "\n".join(out) + "\n"


def test_ten_thousand_tasks_parse_whole() -> None:
    """Scale without losing tasks, phases or dependency notes (speed is bench/bench_plan.py's)."""
    tl = parse_tasks(big_tasks_md(10_000))
    assert len(tl.tasks) == 10_000 and len(tl.phases) == 100
    assert tl.tasks[-1].depends_on == ("T09999", "T09997", "T09998", "T09995")


@pytest.mark.slow
def test_set_done_quick_path_equals_the_careful_path_on_every_corpus_checkbox() -> None:
    """Landing ticks a task without re-parsing; it must edit exactly what a full parse would."""
    from support.corpus import find_corpus

    from orchestrator.speckit import ticks

    corpus = find_corpus()
    files = sorted(corpus.glob("*/*/tasks.md")) if corpus else []
    if not files:
        pytest.skip("the spec-kit corpus is not beside the repository")
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            tasks = parse_tasks(text).tasks
        except TaskParseError:
            continue
        for task in tasks[:40]:
            quick = ticks._quick_tick(text, task, not task.done)
            if quick is None:
                continue
            assert quick == ticks._reparse_and_set(text, task, not task.done)
            checked += 1
    assert checked > 300
