"""Finding the project and the feature as spec-kit does, and reading its documents strictly."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.speckit.documents import decode_text, load_feature
from orchestrator.speckit.project import (
    find_root,
    list_features,
    match_branch,
    match_name,
    resolve_feature,
    split_name,
)

NO_ENV: dict[str, str] = {}


def make_project(root: Path, *features: str, old_layout: bool = False) -> Path:
    """A spec-kit project with the given feature folders (paths relative to root)."""
    marker = root / ("memory" if old_layout else ".specify/memory") / "constitution.md"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("# Constitution\n\nTests first.\n", encoding="utf-8")
    for rel in features:
        write_docs(root / rel)
    return root


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in ("spec.md", "plan.md", "tasks.md"):
        (folder / doc).write_text(f"# {doc} of {folder.name}\n", encoding="utf-8")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def message(excinfo: pytest.ExceptionInfo[InputError]) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------- find_root


def test_find_root_explicit_repo(tmp_path: Path) -> None:
    make_project(tmp_path)
    assert find_root(tmp_path, env=NO_ENV) == tmp_path.resolve()


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("missing", r"^repository not found: .*/nowhere$"),
        ("empty", r"^no \.specify/ in .*/nowhere: run `specify init` or `sdd init` there$"),
        ("file", r"^repository is not a directory: .*/nowhere$"),
    ],
)
def test_find_root_explicit_repo_errors(tmp_path: Path, layout: str, expected: str) -> None:
    target = tmp_path / "nowhere"
    if layout == "empty":
        target.mkdir()
    elif layout == "file":
        target.write_text("x")
    with pytest.raises(InputError) as excinfo:
        find_root(target, env=NO_ENV)
    assert re.match(expected, message(excinfo))


def test_find_root_old_layout(tmp_path: Path) -> None:
    make_project(tmp_path, old_layout=True)
    assert not (tmp_path / ".specify").exists()
    assert find_root(tmp_path, env=NO_ENV) == tmp_path.resolve()
    assert find_root(start=tmp_path / "src", env=NO_ENV) == tmp_path.resolve()


def test_find_root_walks_up_to_the_nearest_project(tmp_path: Path) -> None:
    outer = make_project(tmp_path)
    inner = make_project(tmp_path / "phase-3")
    deep = inner / "app" / "api"
    deep.mkdir(parents=True)
    assert find_root(start=deep, env=NO_ENV) == inner.resolve()
    (outer / "docs").mkdir()
    assert find_root(start=outer / "docs", env=NO_ENV) == outer.resolve()


def test_find_root_walks_up_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    monkeypatch.delenv("SPECIFY_INIT_DIR", raising=False)
    assert find_root() == tmp_path.resolve()


def test_find_root_without_project(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        find_root(start=tmp_path, env=NO_ENV)
    assert "no .specify/ in" in message(excinfo)
    assert "--repo" in message(excinfo)


def test_specify_init_dir_overrides_the_walk(tmp_path: Path) -> None:
    here = make_project(tmp_path / "a")
    there = make_project(tmp_path / "b")
    env = {"SPECIFY_INIT_DIR": str(there)}
    assert find_root(start=here, env=env) == there.resolve()
    assert find_root(here, env=env) == here.resolve()  # an explicit --repo still wins
    with pytest.raises(InputError, match="repository not found"):
        find_root(start=here, env={"SPECIFY_INIT_DIR": str(tmp_path / "gone")})


# ---------------------------------------------------------------- naming (pure)

NAMES = ["001-todo-api", "002-user-auth", "1-x", "20260319-143022-search", "main"]


@pytest.mark.parametrize(
    ("folder", "parts"),
    [
        ("001-todo-api", ("001", "todo-api")),
        ("1-project-init", ("1", "project-init")),
        ("20260319-143022-user-auth", ("20260319-143022", "user-auth")),
        ("main", (None, "main")),
        ("001", (None, "001")),
    ],
)
def test_split_name(folder: str, parts: tuple[str | None, str]) -> None:
    assert split_name(folder) == parts


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("001-todo-api", ["001-todo-api"]),
        ("1", ["001-todo-api", "1-x"]),
        ("001", ["001-todo-api", "1-x"]),
        ("2", ["002-user-auth"]),
        ("0002", ["002-user-auth"]),
        ("todo-api", ["001-todo-api"]),
        ("x", ["1-x"]),
        ("search", ["20260319-143022-search"]),
        ("20260319-143022", ["20260319-143022-search"]),
        ("main", ["main"]),
        ("3", []),
        ("todo", []),
    ],
)
def test_match_name(query: str, expected: list[str]) -> None:
    assert match_name(query, NAMES) == expected


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("001-todo-api", ["001-todo-api"]),
        ("002-fix-login", ["002-user-auth"]),
        ("user/app/002-user-auth", ["002-user-auth"]),
        ("user/app/002-other", ["002-user-auth"]),
        ("main", ["main"]),
        ("feature/login", []),
        ("003-new", []),
    ],
)
def test_match_branch(branch: str, expected: list[str]) -> None:
    assert match_branch(branch, NAMES) == expected


# ---------------------------------------------------------------- resolve_feature


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(
        tmp_path, "specs/001-todo-api", "specs/002-user-auth", "specs/20260319-143022-search"
    ).resolve()


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("001-todo-api", "001-todo-api"),
        ("001", "001-todo-api"),
        ("1", "001-todo-api"),
        ("todo-api", "001-todo-api"),
        ("2", "002-user-auth"),
        ("user-auth", "002-user-auth"),
        ("search", "20260319-143022-search"),
        ("20260319-143022", "20260319-143022-search"),
        ("specs/002-user-auth", "002-user-auth"),
        ("specs/002-user-auth/", "002-user-auth"),
        ("./specs/002-user-auth", "002-user-auth"),
    ],
)
def test_resolve_by_name(project: Path, name: str, folder: str) -> None:
    assert resolve_feature(project, name, env=NO_ENV) == project / "specs" / folder


def test_resolve_by_absolute_path(project: Path) -> None:
    target = project / "specs" / "002-user-auth"
    assert resolve_feature(project, str(target), env=NO_ENV) == target


def test_a_path_outside_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere" / "001-x"
    write_docs(elsewhere)
    with pytest.raises(InputError, match="outside the project root"):
        resolve_feature(project, str(elsewhere), env=NO_ENV)


def test_specs_features_layout(tmp_path: Path) -> None:
    root = make_project(tmp_path, "specs/features/002-uv-fastapi-backend", "specs/001-a").resolve()
    assert [p.relative_to(root).as_posix() for p in list_features(root)] == [
        "specs/001-a",
        "specs/features/002-uv-fastapi-backend",
    ]
    for name in ("2", "uv-fastapi-backend", "002-uv-fastapi-backend"):
        found = resolve_feature(root, name, env=NO_ENV)
        assert found == root / "specs/features/002-uv-fastapi-backend"


def test_ambiguous_number_lists_the_candidates(tmp_path: Path) -> None:
    root = make_project(tmp_path, "specs/001-a", "specs/001-b", "specs/1-c", "specs/002-d")
    with pytest.raises(InputError) as excinfo:
        resolve_feature(root, "1", env=NO_ENV)
    text = message(excinfo)
    assert "feature `1` is ambiguous" in text
    assert "specs/001-a, specs/001-b, specs/1-c" in text
    assert "002-d" not in text


def test_same_folder_name_in_two_places_is_ambiguous(tmp_path: Path) -> None:
    root = make_project(tmp_path, "specs/001-a", "specs/features/001-a")
    with pytest.raises(InputError, match="specs/001-a, specs/features/001-a"):
        resolve_feature(root, "001-a", env=NO_ENV)
    assert resolve_feature(root, "specs/features/001-a", env=NO_ENV).parent.name == "features"


def test_unknown_feature_lists_the_existing_ones(project: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_feature(project, "payments", env=NO_ENV)
    text = message(excinfo)
    assert text.startswith("feature `payments` not found")
    assert "features: 001-todo-api, 002-user-auth, 20260319-143022-search" in text


def test_unknown_feature_when_there_are_none(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    with pytest.raises(InputError, match=r"there are no features under .*specs yet"):
        resolve_feature(root, "001", env=NO_ENV)


def test_env_feature_directory(project: Path) -> None:
    env = {"SPECIFY_FEATURE_DIRECTORY": "specs/002-user-auth"}
    assert resolve_feature(project, None, env=env) == project / "specs/002-user-auth"
    env = {"SPECIFY_FEATURE_DIRECTORY": str(project / "specs/001-todo-api")}
    assert resolve_feature(project, None, env=env) == project / "specs/001-todo-api"
    env = {"SPECIFY_FEATURE_DIRECTORY": "specs/009-gone"}
    with pytest.raises(InputError, match="SPECIFY_FEATURE_DIRECTORY points to specs/009-gone"):
        resolve_feature(project, None, env=env)


def test_an_explicit_name_beats_the_environment(project: Path) -> None:
    env = {"SPECIFY_FEATURE_DIRECTORY": "specs/002-user-auth"}
    assert resolve_feature(project, "1", env=env) == project / "specs/001-todo-api"


def test_feature_json(project: Path) -> None:
    pointer = project / ".specify" / "feature.json"
    pointer.write_text(json.dumps({"feature_directory": "specs/002-user-auth"}))
    assert resolve_feature(project, None, env=NO_ENV) == project / "specs/002-user-auth"
    pointer.write_text(json.dumps({"feature_directory": str(project / "specs/001-todo-api")}))
    assert resolve_feature(project, None, env=NO_ENV) == project / "specs/001-todo-api"
    env = {"SPECIFY_FEATURE_DIRECTORY": "specs/002-user-auth"}
    assert resolve_feature(project, None, env=env) == project / "specs/002-user-auth"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"feature_directory": "specs/001-todo-api",\n', r"feature\.json line 2: invalid JSON"),
        ('{"feature_directory": "specs/404-gone"}', r"feature\.json points to specs/404-gone"),
        ('{"feature_directory": 3}', r"feature_directory must be a string"),
    ],
)
def test_broken_feature_json(project: Path, content: str, expected: str) -> None:
    (project / ".specify" / "feature.json").write_text(content)
    with pytest.raises(InputError, match=expected):
        resolve_feature(project, None, env=NO_ENV)


def test_nothing_names_a_feature(project: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        resolve_feature(project, None, env=NO_ENV)
    text = message(excinfo)
    assert text.startswith("which feature?")
    assert "SPECIFY_FEATURE_DIRECTORY" in text
    assert "001-todo-api" in text


@pytest.mark.parametrize(
    ("branch", "folder"),
    [
        ("001-todo-api", "001-todo-api"),
        ("002-login-fix", "002-user-auth"),
        ("alice/app/001-todo-api", "001-todo-api"),
        ("20260319-143022-search", "20260319-143022-search"),
    ],
)
def test_resolve_by_git_branch(project: Path, branch: str, folder: str) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "checkout", "-q", "-b", branch)  # an unborn branch: no commit needed
    assert resolve_feature(project, None, env=NO_ENV) == project / "specs" / folder
    (project / ".specify" / "feature.json").write_text(
        '{"feature_directory": "specs/002-user-auth"}'
    )
    assert resolve_feature(project, None, env=NO_ENV) == project / "specs/002-user-auth"


def test_branch_in_a_committed_repo_and_ambiguity(tmp_path: Path) -> None:
    root = make_project(tmp_path, "specs/003-a", "specs/003-b").resolve()
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "add", ".")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "init")
    with pytest.raises(InputError, match="the current branch `main` names none"):
        resolve_feature(root, None, env=NO_ENV)
    git(root, "checkout", "-q", "-b", "003-c")
    with pytest.raises(
        InputError, match="`003-c` is ambiguous: it matches specs/003-a, specs/003-b"
    ):
        resolve_feature(root, None, env=NO_ENV)
    git(root, "checkout", "-q", "--detach")
    with pytest.raises(InputError, match="which feature"):
        resolve_feature(root, None, env=NO_ENV)


def test_the_only_feature_needs_no_name(tmp_path: Path) -> None:
    root = make_project(tmp_path, "specs/001-todo").resolve()
    git(root, "init", "-q", "-b", "main")  # `main` names no feature: the only one it is
    assert resolve_feature(root, None, env=NO_ENV) == root / "specs/001-todo"
    with pytest.raises(InputError, match="SPECIFY_FEATURE `002-x` names none"):
        resolve_feature(root, None, env={"SPECIFY_FEATURE": "002-x"})  # a name given is kept
    (root / "specs" / "002-other").mkdir()
    with pytest.raises(InputError, match="the current branch `main` names none"):
        resolve_feature(root, None, env=NO_ENV)


def test_specify_feature_env_names_it_like_a_branch(project: Path) -> None:
    assert resolve_feature(project, None, env={"SPECIFY_FEATURE": "002-x"}).name == "002-user-auth"


# ---------------------------------------------------------------- load_feature


def test_load_feature_reads_every_document(project: Path) -> None:
    feature = project / "specs/001-todo-api"
    (feature / "research.md").write_text("# Research\n")
    (feature / "data-model.md").write_text("# Data model\n")
    (feature / "quickstart.md").write_text("# Quickstart\n")
    contracts = feature / "contracts"
    (contracts / "v1").mkdir(parents=True)
    (contracts / "openapi.yaml").write_text("openapi: 3.1.0\n")
    (contracts / "v1" / "todos.md").write_text("GET /todos\n")
    (contracts / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (contracts / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    docs = load_feature(project, feature)
    assert docs.name == "001-todo-api"
    assert docs.dir == feature
    assert docs.spec == "# spec.md of 001-todo-api\n"
    assert docs.plan == "# plan.md of 001-todo-api\n"
    assert docs.tasks == "# tasks.md of 001-todo-api\n"
    assert docs.tasks_path == feature / "tasks.md"
    assert docs.constitution == "# Constitution\n\nTests first.\n"
    assert docs.constitution_path == project / ".specify/memory/constitution.md"
    assert (docs.research, docs.data_model, docs.quickstart) == (
        "# Research\n",
        "# Data model\n",
        "# Quickstart\n",
    )
    assert docs.contracts == {"openapi.yaml": "openapi: 3.1.0\n", "v1/todos.md": "GET /todos\n"}


def test_optional_documents_absent(project: Path) -> None:
    docs = load_feature(project, project / "specs/002-user-auth")
    assert (docs.research, docs.data_model, docs.quickstart, docs.contracts) == (
        None,
        None,
        None,
        {},
    )


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (
            [".specify/memory/constitution.md", "memory/constitution.md"],
            ".specify/memory/constitution.md",
        ),
        (["memory/constitution.md", "CONSTITUTION.md"], "memory/constitution.md"),
        (["CONSTITUTION.md"], "CONSTITUTION.md"),
        ([], None),
    ],
)
def test_constitution_lookup_order(
    tmp_path: Path, present: list[str], expected: str | None
) -> None:
    root = tmp_path.resolve()
    (root / ".specify").mkdir()
    write_docs(root / "specs/001-a")
    for rel in present:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"from {rel}\n")
    docs = load_feature(root, root / "specs/001-a")
    if expected is None:
        assert (docs.constitution, docs.constitution_path) == ("", None)
    else:
        assert (docs.constitution, docs.constitution_path) == (
            f"from {expected}\n",
            root / expected,
        )


def test_missing_documents_are_named(project: Path) -> None:
    feature = project / "specs/001-todo-api"
    (feature / "plan.md").unlink()
    (feature / "tasks.md").unlink()
    with pytest.raises(InputError) as excinfo:
        load_feature(project, feature)
    text = message(excinfo)
    assert text.startswith("missing specs/001-todo-api/plan.md, specs/001-todo-api/tasks.md:")
    assert "spec.md," not in text.split(":")[0]


@pytest.mark.parametrize(
    ("doc", "data", "expected"),
    [
        ("tasks.md", b"- [ ]\0 T001", "tasks.md is binary, not text (NUL byte at offset 5)"),
        (
            "tasks.md",
            "T001 café".encode("latin-1"),
            "tasks.md is not UTF-8 text (byte 0xe9 at offset 8)",
        ),
        (
            "spec.md",
            b"\xff\xfe# s\0p\0e\0c\0",
            "spec.md is binary, not text (NUL byte at offset 5)",
        ),
        ("research.md", b"ok\n\x81", "research.md is not UTF-8 text (byte 0x81 at offset 3)"),
        (
            "contracts/api.yaml",
            b"name: \xe9",
            "contracts/api.yaml is not UTF-8 text (byte 0xe9 at offset 6)",
        ),
    ],
)
def test_documents_must_be_utf8_text(project: Path, doc: str, data: bytes, expected: str) -> None:
    feature = project / "specs/001-todo-api"
    (feature / doc).parent.mkdir(exist_ok=True)
    (feature / doc).write_bytes(data)
    with pytest.raises(InputError) as excinfo:
        load_feature(project, feature)
    assert message(excinfo) == f"specs/001-todo-api/{expected}"


def test_bom_is_stripped_and_line_endings_kept(project: Path) -> None:
    feature = project / "specs/001-todo-api"
    (feature / "tasks.md").write_bytes(b"\xef\xbb\xbf# Tasks\r\n- [ ] T001 Do it\r\n")
    (project / ".specify/memory/constitution.md").write_bytes(b"\xef\xbb\xbfRules\n")
    docs = load_feature(project, feature)
    assert docs.tasks == "# Tasks\r\n- [ ] T001 Do it\r\n"
    assert docs.constitution == "Rules\n"


def test_a_broken_constitution_is_named(project: Path) -> None:
    (project / ".specify/memory/constitution.md").write_bytes(b"\xc3(")
    with pytest.raises(InputError, match=r"^\.specify/memory/constitution\.md is not UTF-8"):
        load_feature(project, project / "specs/001-todo-api")


def test_unreadable_documents(project: Path) -> None:
    feature = project / "specs/001-todo-api"
    (feature / "tasks.md").unlink()
    (feature / "tasks.md").mkdir()
    with pytest.raises(InputError, match=r"^specs/001-todo-api/tasks\.md is a folder, not a file$"):
        load_feature(project, feature)
    (feature / "tasks.md").rmdir()
    (feature / "tasks.md").symlink_to("tasks.md")  # a loop: the OS refuses to open it
    with pytest.raises(InputError, match=r"^cannot read specs/001-todo-api/tasks\.md: "):
        load_feature(project, feature)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(project: Path) -> None:
    feature = project / "specs/001-todo-api"
    (feature / "plan.md").chmod(0)
    try:
        with pytest.raises(
            InputError, match=r"^cannot read specs/001-todo-api/plan\.md: Permission"
        ):
            load_feature(project, feature)
    finally:
        (feature / "plan.md").chmod(0o644)


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"plain", "plain"), (b"\xef\xbb\xbfbom", "bom"), ("ü✓".encode(), "ü✓"), (b"", "")],
)
def test_decode_text(data: bytes, text: str) -> None:
    assert decode_text(data, "x") == text


# ---------------------------------------------------------------- a project made by spec-kit


def specify_executable() -> str | None:
    beside = Path(sys.executable).parent / "specify"
    return str(beside) if beside.is_file() else shutil.which("specify")


HELLO_TASKS = """\
## Phase 1: Setup (Shared Infrastructure)

- [ ] T001 Create the project layout: app/__init__.py, tests/__init__.py
- [ ] T002 [P] Add pyproject.toml with FastAPI and pytest dependencies

## Phase 2: User Story 1 - Say hello (Priority: P1) 🎯 MVP

- [ ] T003 [P] [US1] Write the failing contract test in tests/test_hello.py
- [ ] T004 [US1] Implement GET /hello returning {"message": "hello"} in app/main.py
- [ ] T005 [US1] Return 422 for an empty ?name= in app/main.py

## Phase 3: Polish & Cross-Cutting Concerns

- [ ] T006 Document the endpoint in README.md
"""


def clean_env() -> dict[str, str]:
    """The environment without spec-kit's overrides, so the tools see only the tmp project."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPECIFY_")} | {"NO_COLOR": "1"}


def fill(template: str) -> str:
    return (
        template.replace("[FEATURE NAME]", "Hello API")
        .replace("[###-feature-name]", "001-hello-api")
        .replace("[DATE]", "2026-01-01")
        .replace("$ARGUMENTS", "a GET /hello endpoint")
    )


def test_project_made_by_specify_cli(tmp_path: Path) -> None:
    specify = specify_executable()
    if specify is None:
        pytest.skip("the spec-kit CLI (`specify`, PyPI specify-cli) is not installed")
    root = tmp_path.resolve()
    subprocess.run(
        [
            specify,
            "init",
            "--here",
            "--force",
            "--non-interactive",
            "--integration",
            "claude",
            "--ignore-agent-tools",
        ],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=120,
        env=clean_env(),
    )
    templates = root / ".specify" / "templates"
    feature = root / "specs" / "001-hello-api"
    feature.mkdir(parents=True)
    spec = fill((templates / "spec-template.md").read_text(encoding="utf-8"))
    plan = fill((templates / "plan-template.md").read_text(encoding="utf-8"))
    head = fill((templates / "tasks-template.md").read_text(encoding="utf-8"))
    head = head[: head.index("## Phase 1:")]  # the header, without the template's sample tasks
    (feature / "spec.md").write_text(spec, encoding="utf-8")
    (feature / "plan.md").write_text(plan, encoding="utf-8")
    (feature / "tasks.md").write_text(head + HELLO_TASKS, encoding="utf-8")
    (root / ".specify" / "feature.json").write_text('{"feature_directory": "specs/001-hello-api"}')

    assert find_root(start=feature, env=NO_ENV) == root
    assert find_root(root, env=NO_ENV) == root
    for name in ("001-hello-api", "1", "hello-api", "specs/001-hello-api", None):
        assert resolve_feature(root, name, env=NO_ENV) == feature
    docs = load_feature(root, feature)
    assert docs.name == "001-hello-api"
    assert docs.spec.startswith("# Feature Specification: Hello API")
    assert docs.plan == plan
    assert re.findall(r"^- \[ \] (T\d{3})", docs.tasks, re.M) == [f"T00{i}" for i in range(1, 7)]
    assert docs.constitution_path == root / ".specify/memory/constitution.md"
    assert docs.constitution == docs.constitution_path.read_text(encoding="utf-8")
    assert docs.constitution.strip()

    # spec-kit's own resolver, from the scripts `specify init` installed, agrees with ours.
    script = root / ".specify/scripts/bash/check-prerequisites.sh"
    done = subprocess.run(
        ["bash", str(script), "--json", "--require-tasks", "--include-tasks"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )
    paths = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(paths["FEATURE_DIR"]).resolve() == feature
    assert "tasks.md" in paths["AVAILABLE_DOCS"]
