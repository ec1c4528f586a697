"""The file tools: Read, Write, Edit, Glob and Grep, every path through one PathGuard.

A call that cannot be done as asked raises ToolError; the toolbox turns it into an error
result the model can read.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.agent.tools.inputs import EditInput, GlobInput, GrepInput, ReadInput, WriteInput
from orchestrator.agent.tools.pathguard import PathGuard, ToolError
from orchestrator.globs import glob_regex
from orchestrator.regular import NotRegular, read_regular

LINE_CAP = 2_000  # characters of one line that Read shows
MAX_READ_BYTES = 20_000_000
MAX_LISTED = 500  # Glob paths / Grep matches per call


def _is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def _read_regular(path: Path, name: str, limit: int = MAX_READ_BYTES) -> bytes:
    """A regular file's bytes, at most `limit`; a FIFO, device or socket is refused before
    anything is read (it could block forever, or never end)."""
    try:
        return read_regular(path, limit)
    except NotRegular as e:
        if e.kind == "directory":
            raise ToolError(f"{name!r} is a directory; use Glob to list it") from None
        if e.kind == "too-large":
            raise ToolError(f"{name!r} is too large; search it with Grep or Bash") from None
        raise ToolError(f"{name!r} is not a regular file (a device, FIFO or socket)") from None


class FileTools:
    """The file tools over one workspace; `max_output` caps what one call returns."""

    def __init__(self, guard: PathGuard, max_output: int) -> None:
        self.guard, self.max_output = guard, max_output

    def _file(self, file_path: str) -> tuple[Path, str, str]:
        """An existing text file's resolved path, display name and text."""
        path = self.guard.resolve(file_path, must_exist=True)
        data = _read_regular(path, file_path)
        if _is_binary(data):
            raise ToolError(f"{file_path!r} is a binary file")
        return path, self.guard.display(path), data.decode("utf-8", errors="surrogateescape")

    def read(self, a: ReadInput) -> str:
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

    def write(self, a: WriteInput) -> str:
        path = self.guard.resolve(a.file_path)
        if path.is_dir():
            raise ToolError(f"{a.file_path!r} is a directory")
        if path.exists() and not path.is_file():
            raise ToolError(f"{a.file_path!r} is not a regular file (a device, FIFO or socket)")
        verb = "Overwrote" if path.exists() else "Created"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(a.content.encode("utf-8"))
        return f"{verb} {self.guard.display(path)} ({len(a.content.splitlines())} lines)"

    def edit(self, a: EditInput) -> str:
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

    def glob(self, a: GlobInput) -> str:
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

    def grep(self, a: GrepInput) -> str:
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
                if _is_binary(data := _read_regular(f, f.name)):
                    continue
            except (OSError, ToolError):
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
