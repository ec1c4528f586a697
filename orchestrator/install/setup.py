"""`sdd init`: set sdd up in a repository, safely and repeatably.

Everything is detected and checked first (the repository, the agents, an existing config), then
planned as a list of actions, each knowing whether there is anything left to do; only then does
anything get written, in order: `.specify/sdd.yaml`, `.git/info/exclude`, and, in a project made
by `specify init` with spec-kit's CLI at hand, the extension, the workflow step type, the
`sdd-implement` workflow and the `speckit-sdd` overlay. A second run finds nothing to do;
`--dry-run` reports the plan and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestrator import paths
from orchestrator.config.load import parse_config
from orchestrator.config.model import CONFIG_PATH
from orchestrator.config.template import config_template
from orchestrator.errors import InputError
from orchestrator.git.repo import GitRepo
from orchestrator.install import shipped
from orchestrator.install.detect import Detection, detect
from orchestrator.install.specify import Specify, SpecifyCli
from orchestrator.speckit.documents import read_text, write_exact
from orchestrator.speckit.project import is_root

WORKFLOW_RUNS = ".specify/workflows/runs/"  # spec-kit's per-machine run state, like .sdd/
UNCHANGED, KEPT, SKIPPED = "unchanged", "kept", "skipped"


@dataclass(frozen=True, slots=True)
class Action:
    """One thing `sdd init` sees to; `todo` is None when there is nothing left to do."""

    what: str
    detail: str
    todo: Callable[[], None] | None = None
    word: str = "written"  # the state once done: written, added, installed, updated
    idle: str = UNCHANGED  # the state when there is nothing to do


@dataclass(frozen=True, slots=True)
class Outcome:
    what: str
    state: str  # written/added/installed/updated, "would be …" (dry run), unchanged, kept, skipped
    detail: str


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    detection: Detection
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return not self.dry_run and any(o.state in _DONE_WORDS for o in self.outcomes)

    @property
    def speckit_ready(self) -> bool:
        """sdd's extension is in the project (now or before)."""
        return any(o.what == "extension" and o.state != SKIPPED for o in self.outcomes)


_DONE_WORDS = ("written", "added", "installed", "updated")


def find_project(repo: Path | None, cwd: Path | None = None) -> Path:
    """Where to set sdd up: `repo`, else the spec-kit root above, else the current folder."""
    if repo is not None:
        root = repo.expanduser().resolve()
        if not root.is_dir():
            raise InputError(
                f"repository {'is not a directory' if root.exists() else 'not found'}: {root}"
            )
        return root
    here = (cwd or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if is_root(folder)), here)


def init_project(
    root: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    specify: str | None = None,
    runner: Callable[[str, Path], Specify] = SpecifyCli,
) -> InitResult:
    """Detect, plan and (unless `dry_run`) apply; `specify` is spec-kit's CLI, when found."""
    repo = GitRepo(root)  # not a repository: one line, nothing written
    if repo.bare:
        raise InputError(f"the repository at {repo.root} is bare: sdd needs a work tree")
    specify_dir = root / ".specify"
    if specify_dir.exists() and not specify_dir.is_dir():
        raise InputError(f"{specify_dir} is not a directory; spec-kit and sdd keep settings there")
    found = detect(root, specify)
    actions = [_config(root, found, force), _excludes(root, repo, found)]
    if not found.speckit_project:
        init = "specify init --here --integration <your agent>"
        actions.append(
            _skip("extension", f"not a spec-kit project yet: run `{init}`, then sdd init")
        )
    elif specify is None:
        hint = "spec-kit's CLI `specify` is not installed (uv tool install specify-cli)"
        actions.append(_skip("extension", f"{hint}; install it, then run sdd init again"))
    else:
        actions += _speckit(root, runner(specify, root), found, force)
    result = InitResult(root, found, dry_run)
    for action in actions:
        if action.todo is None:
            state = action.idle
        elif dry_run:
            state = f"would be {action.word}"
        else:
            action.todo()
            state = action.word
        result.outcomes.append(Outcome(action.what, state, action.detail))
    return result


# ---------------------------------------------------------------- the config


def config_text(found: Detection) -> str:
    agents = ", ".join(f"{name} ({source})" for name, source in found.agents)
    notes = {
        "verify": [f"Detected: {found.verify.why}."],
        "default_agent": [f"Agents found: {agents}."],
    }
    return config_template({"default_agent": found.default_agent, "verify": None}, notes)


def _config(root: Path, found: Detection, force: bool) -> Action:
    path = root / CONFIG_PATH
    text = config_text(found)
    parse_config(text)  # what sdd init writes must load: a failure here is a bug, not input
    names = ", ".join(name for name, _ in found.agents)
    summary = f"verify: {found.verify.why}; agents: {names}; default agent {found.default_agent}"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError(f"{CONFIG_PATH} is not a regular file; move it away, then run sdd init")

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_exact(path, text)

    if not path.exists():
        return Action("config", f"{CONFIG_PATH} ({summary})", write)
    existing = read_text(path, root)
    if existing == text:
        return Action("config", f"{CONFIG_PATH} ({summary})")
    if force:
        return Action("config", f"{CONFIG_PATH}, rewritten by --force ({summary})", write)
    try:
        parse_config(existing, CONFIG_PATH)
    except InputError as exc:
        raise InputError(f"{exc}; fix it, or rewrite the file with sdd init --force") from None
    mine = "yours, left as it is (sdd init --force rewrites it)"
    return Action("config", f"{CONFIG_PATH} is {mine}", idle=KEPT)


# ---------------------------------------------------------------- .git/info/exclude


def _excludes(root: Path, repo: GitRepo, found: Detection) -> Action:
    prefix = root.relative_to(repo.root).as_posix()
    wanted = [paths.exclude_pattern(prefix)]
    if found.speckit_project:
        wanted.append(WORKFLOW_RUNS if prefix in ("", ".") else f"{prefix}/{WORKFLOW_RUNS}")
    missing = [p for p in wanted if not repo.excludes(p)]
    detail = f"{', '.join(wanted)} in .git/info/exclude (state that is never committed)"

    def add() -> None:
        for pattern in missing:
            repo.exclude(pattern)

    return Action("exclude", detail, add if missing else None, word="added")


# ---------------------------------------------------------------- spec-kit


def _skip(what: str, why: str) -> Action:
    return Action(what, why, idle=SKIPPED)


def _install(what: str, detail: str, todo: Callable[[], None], present: bool) -> Action:
    return Action(what, detail, todo, word="updated" if present else "installed")


def _speckit(root: Path, specify: Specify, found: Detection, force: bool) -> list[Action]:
    actions: list[Action] = []
    commands = ", ".join(found.integration.command(c) for c in shipped.COMMANDS)
    ext, ext_at = shipped.extension_dir(), root / ".specify" / "extensions" / shipped.EXTENSION_ID
    tasks = found.integration.command("tasks")
    detail = f"{shipped.EXTENSION_ID}: {commands}; after {tasks} it offers to run sdd"
    if shipped.same_files(ext, ext_at) and not force:
        actions.append(Action("extension", detail))
    else:
        again = ["--force"] if ext_at.exists() else []
        todo = _call(specify, "extension", "add", "--dev", str(ext), *again)
        actions.append(_install("extension", detail, todo, ext_at.exists()))

    step, step_at = (
        shipped.step_dir(),
        root / ".specify" / "workflows" / "steps" / shipped.STEP_TYPE,
    )
    detail = f"workflow step type `{shipped.STEP_TYPE}`: a workflow step that runs sdd"
    if shipped.same_files(step, step_at) and not force:
        actions.append(Action("step", detail))
    else:
        again = ["--force"] if step_at.exists() else []
        todo = _call(
            specify, "workflow", "step", "add", shipped.STEP_TYPE, "--dev", str(step), *again
        )
        actions.append(_install("step", detail, todo, step_at.exists()))

    flow = shipped.workflow_file()
    flow_at = root / ".specify" / "workflows" / shipped.WORKFLOW_ID / "workflow.yml"
    detail = f"workflow {shipped.WORKFLOW_ID}: specify workflow run {shipped.WORKFLOW_ID}"
    if _same_file(flow, flow_at) and not force:
        actions.append(Action("workflow", detail))
    else:
        todo = _call(specify, "workflow", "add", "--dev", str(flow))
        actions.append(_install("workflow", detail, todo, flow_at.exists()))

    base = shipped.BASE_WORKFLOW
    detail = f"overlay {shipped.OVERLAY_ID}: sdd is the implement step of workflow {base}"
    if not (root / ".specify" / "workflows" / base / "workflow.yml").is_file():
        actions.append(_skip("overlay", f"{detail}; but workflow {base} is not installed"))
    elif _has_overlay(root) and not force:
        actions.append(Action("overlay", f"{detail} (left as it is, enabled or not)"))
    else:
        todo = _call(specify, "workflow", "overlay", "add", str(shipped.overlay_file()))
        actions.append(_install("overlay", detail, todo, _has_overlay(root)))
    return actions


def _call(specify: Specify, *args: str) -> Callable[[], None]:
    return lambda: specify(*args)


def _same_file(shipped_file: Path, installed: Path) -> bool:
    return installed.is_file() and installed.read_bytes() == shipped_file.read_bytes()


def _has_overlay(root: Path) -> bool:
    """Whether the project has sdd's overlay on the speckit workflow (spec-kit keeps one YAML
    file per overlay, named by the user or by spec-kit; the `id` inside is what counts)."""
    folder = root / ".specify" / "workflows" / "overlays" / shipped.BASE_WORKFLOW
    if not folder.is_dir():
        return False
    for path in folder.iterdir():
        if path.suffix in (".yml", ".yaml") and path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeError, yaml.YAMLError):
                continue
            if isinstance(data, dict) and data.get("id") == shipped.OVERLAY_ID:
                return True
    return False
