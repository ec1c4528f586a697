"""The tools an agent edits a repository with (Claude Code's names and input shapes).

Every path an agent names goes through one PathGuard: resolved with symlinks, it must stay in the
workspace and out of `.git`/`.sdd`. A failing tool call becomes an error result the model can
read; it never raises into the agent loop.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.bashtool import CommandRefused, Rule, check_command, run_command, scrubbed_env
from orchestrator.pathguard import PathGuard, ToolError

TOOL_NAMES = ("Read", "Write", "Edit", "Glob", "Grep", "Bash")
LINE_CAP = 2_000  # characters of one line that Read shows
MAX_READ_BYTES = 20_000_000
MAX_LISTED = 500  # Glob paths / Grep matches per call
__all__ = ["TOOL_NAMES", "PathGuard", "ToolError", "ToolResult", "Toolbox", "scrubbed_env"]


@dataclass(frozen=True, slots=True)
class ToolResult:
    content: str
    is_error: bool = False


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob (`**`, `*`, `?`, `{a,b}`) as a regex over '/'-separated relative paths."""
    return re.compile(f"(?s:{_translate(pattern)})\\Z")


def _translate(pat: str) -> str:
    out, i = [], 0
    while i < len(pat):
        c = pat[i]
        at_start = i == 0 or pat[i - 1] == "/"
        if at_start and pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if at_start and pat[i:] == "**":
            out.append(".*")
            i += 2
            continue
        end = pat.find("}", i) if c == "{" else -1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif end != -1:
            out.append("(?:" + "|".join(_translate(a) for a in pat[i + 1 : end].split(",")) + ")")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


_PATH = "Path of the file: relative to the repository root, or absolute inside it."
_DIR = "Directory (or, for Grep, file) to search, relative to the repository root. Default: root."


class ReadInput(_Input):
    """Read a text file; lines come back numbered like `cat -n`, long lines cut at 2000 chars."""

    file_path: str = Field(description=_PATH)
    offset: int = Field(default=1, ge=1, description="1-based line number to start at.")
    limit: int = Field(default=2000, ge=1, description="Maximum number of lines to return.")


class WriteInput(_Input):
    """Create or overwrite a file with the given content (parent directories are created)."""

    file_path: str = Field(description=_PATH)
    content: str = Field(description="The complete new content of the file.")


class EditInput(_Input):
    """Replace exact text in a file; old_string must occur once unless replace_all is true."""

    file_path: str = Field(description=_PATH)
    old_string: str = Field(description="The exact text to replace, whitespace included.")
    new_string: str = Field(description="The text to put in its place (must differ).")
    replace_all: bool = Field(default=False, description="Replace every occurrence.")


class GlobInput(_Input):
    """List files matching a glob such as `**/*.py` or `src/*.{ts,tsx}`, relative to the root."""

    pattern: str = Field(description="Glob pattern relative to `path`; `**` matches any depth.")
    path: str = Field(default=".", description=_DIR)


class GrepInput(_Input):
    """Search text files line by line with a Python regex; prints `path:line:text` per match."""

    pattern: str = Field(description="Python `re` regular expression.")
    path: str = Field(default=".", description=_DIR)
    glob: str = Field(default="", description="Only files matching this glob, e.g. `*.py`.")


class BashInput(_Input):
    """Run a bash command in the repository root (stdin is empty; stdout and stderr are
    combined; long output keeps its head and tail). Do not commit, switch branches or touch
    .git: sdd verifies and commits your change."""

    command: str = Field(description="The command to run.")
    timeout: int = Field(default=120_000, ge=1, le=600_000, description="Timeout in milliseconds.")
    description: str = Field(default="", description="Five to ten words on what it does.")


_INPUTS = (ReadInput, WriteInput, EditInput, GlobInput, GrepInput, BashInput)
_MODELS: dict[str, type[_Input]] = dict(zip(TOOL_NAMES, _INPUTS, strict=True))


def _clean_schema(node: object, top: bool = True) -> object:
    """pydantic's schema minus titles and the doc copy: the same bytes, fewer tokens."""
    if isinstance(node, dict):
        drop = {"title", "description"} if top else {"title"}
        return {k: _clean_schema(v, False) for k, v in node.items() if k not in drop}
    return node


@functools.cache
def _schemas() -> dict[str, dict]:
    return {
        name: {
            "name": name,
            "description": " ".join((model.__doc__ or "").split()),
            "input_schema": _clean_schema(model.model_json_schema()),
        }
        for name, model in _MODELS.items()
    }


def _input_error(name: str, model: type[_Input], exc: ValidationError) -> str:
    props = _schemas()[name]["input_schema"]["properties"]
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


class Toolbox:
    """The tools one agent may use in one workspace."""

    def __init__(
        self,
        root: Path,
        *,
        allowed: Sequence[str] | None = None,
        bash_timeout: float = 300,
        bash_allow: Sequence[str] = (),
        bash_deny: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        max_output: int = 30_000,
        allow_env_files: bool = False,
    ) -> None:
        self.guard = PathGuard(Path(root), allow_env_files=allow_env_files)
        wanted = set(TOOL_NAMES if allowed is None else allowed)
        self.names = tuple(n for n in TOOL_NAMES if n in wanted)
        self.bash_timeout = bash_timeout
        self.bash_allow = tuple(Rule.parse(r) for r in bash_allow)
        self.bash_deny = tuple(Rule.parse(r) for r in bash_deny)
        self.env = scrubbed_env(os.environ if env is None else env)
        self.max_output = max_output

    def schemas(self) -> list[dict]:
        """Tool definitions for the Messages API; identical for every Toolbox with these tools."""
        return [copy.deepcopy(_schemas()[n]) for n in self.names]

    def call(self, name: str, tool_input: object) -> ToolResult:
        if name not in self.names:
            known = "unknown tool" if name not in TOOL_NAMES else "tool not available to this agent"
            return ToolResult(f"{known}: {name!r} (available: {', '.join(self.names)})", True)
        if not isinstance(tool_input, dict):
            return ToolResult(
                f"{name}: input must be an object, not {type(tool_input).__name__}", True
            )
        model = _MODELS[name]
        try:
            args = model.model_validate(tool_input)
        except ValidationError as e:
            return ToolResult(_input_error(name, model, e), True)
        try:
            result = getattr(self, f"_{name.lower()}")(args)
            return result if isinstance(result, ToolResult) else ToolResult(result)
        except ToolError as e:
            return ToolResult(f"{name}: {e}", True)
        except UnicodeError as e:
            return ToolResult(f"{name}: text cannot be encoded or decoded ({e.reason})", True)
        except OSError as e:
            where = f" ({self.guard.display(Path(e.filename))})" if e.filename else ""
            return ToolResult(f"{name}: {e.strerror or e}{where}", True)
        except Exception as e:  # a tool bug must not end the agent loop; the transcript shows it
            return ToolResult(f"{name}: failed ({type(e).__name__}: {e})", True)

    def _file(self, file_path: str) -> tuple[Path, str, str]:
        """An existing text file's resolved path, display name and text."""
        path = self.guard.resolve(file_path, must_exist=True)
        if path.is_dir():
            raise ToolError(f"{file_path!r} is a directory; use Glob to list it")
        if path.stat().st_size > MAX_READ_BYTES:
            raise ToolError(f"{file_path!r} is too large; search it with Grep or Bash")
        data = path.read_bytes()
        if _is_binary(data):
            raise ToolError(f"{file_path!r} is a binary file")
        return path, self.guard.display(path), data.decode("utf-8", errors="surrogateescape")

    def _read(self, a: ReadInput) -> str:
        _, rel, text = self._file(a.file_path)
        if not text:
            return f"(the file {rel} is empty)"
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if a.offset > len(lines):
            raise ToolError(f"offset {a.offset} is past the end: {rel} has {len(lines)} lines")
        out: list[str] = []
        used = cut = 0
        for n in range(a.offset, min(len(lines), a.offset - 1 + a.limit) + 1):
            line = lines[n - 1].removesuffix("\r").encode("utf-8", "surrogateescape")
            line_text = line.decode("utf-8", errors="replace")
            if len(line_text) > LINE_CAP:
                line_text, cut = line_text[:LINE_CAP], cut + 1
            entry = f"{n:>6}\t{line_text}"
            if out and used + len(entry) > self.max_output:
                break
            out.append(entry)
            used += len(entry) + 1
        last = a.offset + len(out) - 1
        if last < len(lines):
            out.append(f"[lines {a.offset}-{last} of {len(lines)}; read on with offset={last + 1}]")
        if cut:
            out.append(f"[{cut} lines longer than {LINE_CAP} characters were cut]")
        return "\n".join(out)

    def _write(self, a: WriteInput) -> str:
        path = self.guard.resolve(a.file_path)
        if path.is_dir():
            raise ToolError(f"{a.file_path!r} is a directory")
        verb = "Overwrote" if path.exists() else "Created"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(a.content.encode("utf-8"))
        return f"{verb} {self.guard.display(path)} ({len(a.content.splitlines())} lines)"

    def _edit(self, a: EditInput) -> str:
        path, rel, text = self._file(a.file_path)
        old, new = a.old_string, a.new_string
        if not old:
            raise ToolError("old_string is empty; use Write to create or overwrite a file")
        if old == new:
            raise ToolError("old_string and new_string are the same; nothing would change")
        count = text.count(old)
        if count == 0 and "\r\n" in text and "\n" in old:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
            count = text.count(old)
        if count == 0:
            raise ToolError(f"old_string not found in {rel} (it must match exactly)")
        if count > 1 and not a.replace_all:
            raise ToolError(
                f"old_string found {count} times in {rel}; include more surrounding text to make "
                "it unique, or set replace_all"
            )
        line = text[: text.index(old)].count("\n") + 1
        text = text.replace(old, new, -1 if a.replace_all else 1)
        path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        done = count if a.replace_all else 1
        return f"Edited {rel}: replaced {done} occurrence(s), the first at line {line}"

    def _base(self, path: str, pattern_kind: str, pattern: str) -> Path:
        if not pattern or "\x00" in pattern:
            raise ToolError(f"the {pattern_kind} is empty or contains a NUL byte")
        return self.guard.resolve(path, must_exist=True)

    def _glob(self, a: GlobInput) -> str:
        base = self._base(a.path, "pattern", a.pattern)
        pattern = re.sub(r"^(\./)+", "", a.pattern)
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise ToolError("the pattern must be relative to `path` and must not contain '..'")
        if not base.is_dir():
            raise ToolError(f"{a.path!r} is not a directory")
        rx = glob_regex(pattern)
        hits = sorted(
            self.guard.display(f)
            for f in self.guard.files(base)
            if rx.match(f.relative_to(base).as_posix())
        )
        if not hits:
            return "No files matched."
        more = f"\n[{len(hits) - MAX_LISTED} more not shown; narrow the pattern]"
        return "\n".join(hits[:MAX_LISTED]) + (more if len(hits) > MAX_LISTED else "")

    def _grep(self, a: GrepInput) -> str:
        base = self._base(a.path, "pattern", a.pattern)
        try:
            rx = re.compile(a.pattern)
        except re.error as e:
            raise ToolError(f"bad regular expression {a.pattern!r}: {e}") from None
        only = glob_regex(a.glob) if a.glob else None
        out: list[str] = []
        used = 0
        for f in self.guard.files(base):
            name = f.relative_to(base).as_posix() if "/" in a.glob and f != base else f.name
            if only and not only.match(name):
                continue
            try:
                if f.stat().st_size > MAX_READ_BYTES or _is_binary(data := f.read_bytes()):
                    continue
            except OSError:
                continue
            rel = self.guard.display(f)
            for n, line in enumerate(data.decode("utf-8", errors="replace").split("\n"), 1):
                if rx.search(line):
                    out.append(f"{rel}:{n}:{line.removesuffix(chr(13))[:500]}")
                    used += len(out[-1]) + 1
                    if len(out) >= MAX_LISTED or used > self.max_output:
                        out.append("[stopped at the output limit; narrow the pattern or path]")
                        return "\n".join(out)
        return "\n".join(out) if out else "No matches."

    def _bash(self, a: BashInput) -> ToolResult:
        try:
            check_command(a.command, self.bash_allow, self.bash_deny)
        except CommandRefused as e:
            return ToolResult(f"Bash: {e}", True)
        timeout = min(a.timeout / 1000, self.bash_timeout)
        limit = self.max_output
        out, failed = run_command(a.command, self.guard.root, self.env, timeout, limit)
        return ToolResult(out, failed)
