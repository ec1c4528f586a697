"""The one glob dialect of sdd, for the agents' Glob and Grep tools and for config routes.

`**` matches any number of directories (`**/` also none), `*` and `?` stay inside one name,
`[abc]`/`[!abc]` are character classes and `{a,b}` alternatives. Pure, cached.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The pattern as a regex over a whole '/'-separated relative path."""
    return re.compile(f"(?s:{_translate(pattern)})\\Z")


def glob_match(pattern: str, path: str) -> bool:
    """Whether `path` matches; a pattern without `/` matches the file name alone, and a
    directory path (trailing `/`) matches the pattern written without it."""
    if "/" not in pattern.rstrip("/"):
        path = path.rstrip("/").rsplit("/", 1)[-1]
    rx = glob_regex(pattern.removeprefix("./"))
    return rx.match(path) is not None or (path.endswith("/") and rx.match(path[:-1]) is not None)


def _translate(pat: str) -> str:
    out: list[str] = []
    i = 0
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
        if c == "{" and (end := pat.find("}", i)) != -1:
            out.append("(?:" + "|".join(_translate(a) for a in pat[i + 1 : end].split(",")) + ")")
            i = end + 1
            continue
        if c == "[" and (end := pat.find("]", i + 2)) != -1:
            cls = pat[i + 1 : end].replace("\\", "\\\\")
            cls = "^" + cls[1:] if cls[0] == "!" else "\\" + cls if cls[0] == "^" else cls
            out.append(f"[{cls}]")
            i = end + 1
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return "".join(out)
