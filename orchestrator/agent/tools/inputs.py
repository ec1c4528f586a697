"""The tools' names and input shapes, as Claude Code spells them, and their JSON schemas for
the Messages API (built once; identical bytes for every request, so they cache)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TOOL_NAMES = ("Read", "Write", "Edit", "Glob", "Grep", "Bash")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


_PATH = "Path of the file: relative to the repository root, or absolute inside it."
_DIR = "Directory (or, for Grep, file) to search, relative to the repository root. Default: root."


class ReadInput(Input):
    """Read a text file; lines come back numbered like `cat -n`, long lines cut at 2000 chars."""

    file_path: str = Field(description=_PATH)
    offset: int = Field(default=1, ge=1, description="1-based line number to start at.")
    limit: int = Field(default=2000, ge=1, description="Maximum number of lines to return.")


class WriteInput(Input):
    """Create or overwrite a file with the given content (parent directories are created)."""

    file_path: str = Field(description=_PATH)
    content: str = Field(description="The complete new content of the file.")


class EditInput(Input):
    """Replace exact text in a file; old_string must occur once unless replace_all is true."""

    file_path: str = Field(description=_PATH)
    old_string: str = Field(description="The exact text to replace, whitespace included.")
    new_string: str = Field(description="The text to put in its place (must differ).")
    replace_all: bool = Field(default=False, description="Replace every occurrence.")


class GlobInput(Input):
    """List files matching a glob such as `**/*.py` or `src/*.{ts,tsx}`, relative to the root."""

    pattern: str = Field(description="Glob pattern relative to `path`; `**` matches any depth.")
    path: str = Field(default=".", description=_DIR)


class GrepInput(Input):
    """Search text files line by line with a Python regex; prints `path:line:text` per match."""

    pattern: str = Field(description="Python `re` regular expression.")
    path: str = Field(default=".", description=_DIR)
    glob: str = Field(default="", description="Only files matching this glob, e.g. `*.py`.")


class BashInput(Input):
    """Run a bash command in the repository root (stdin is empty; stdout and stderr are
    combined; long output keeps its head and tail). Do not commit, switch branches or touch
    .git: sdd verifies and commits your change."""

    command: str = Field(description="The command to run.")
    timeout: int = Field(default=120_000, ge=1, le=600_000, description="Timeout in milliseconds.")
    description: str = Field(default="", description="Five to ten words on what it does.")


INPUTS = (ReadInput, WriteInput, EditInput, GlobInput, GrepInput, BashInput)
MODELS: dict[str, type[Input]] = dict(zip(TOOL_NAMES, INPUTS, strict=True))


def _clean_schema(node: object, top: bool = True) -> object:
    """pydantic's schema minus titles and the doc copy: the same bytes, fewer tokens."""
    if isinstance(node, dict):
        drop = {"title", "description"} if top else {"title"}
        return {k: _clean_schema(v, False) for k, v in node.items() if k not in drop}
    return node


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    return {
        name: {
            "name": name,
            "description": " ".join((model.__doc__ or "").split()),
            "input_schema": _clean_schema(model.model_json_schema()),
        }
        for name, model in MODELS.items()
    }


def input_error(name: str, model: type[Input], exc: ValidationError) -> str:
    props = schemas()[name]["input_schema"]["properties"]
    msgs = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err["loc"]) or "input"
        want = props.get(field, {}).get("type", "value")
        if err["type"] == "missing":
            msgs.append(f"{field} is required ({want})")
        elif err["type"] == "extra_forbidden":
            msgs.append(f"unknown field {field!r} (fields: {', '.join(model.model_fields)})")
        elif err["type"].endswith("_type"):
            msgs.append(f"{field} must be of type {want}, not {type(err['input']).__name__}")
        else:
            msgs.append(f"{field}: {err['msg']}")
    return f"{name}: " + "; ".join(msgs)
