"""The Bash tool's policy: which commands an agent may run (pure).

The rules are a policy for a cooperating agent, not a sandbox: they keep it away from what only
sdd may do (commits, moving HEAD, .git/.sdd), while every task is still verified and reset to its
base by sdd. When in doubt (unparseable quoting, odd constructs) a command is refused.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.errors import InputError


class CommandRefused(Exception):
    """The command breaks a rule; the message names the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    """An allow/deny rule, Claude Code's form: `Bash(pytest:*)`, `Bash(npm run test)`, `pytest`."""

    text: str
    kind: str  # any | prefix | exact | wildcard
    words: tuple[str, ...] = ()
    reason: str = ""

    @classmethod
    def parse(cls, text: str, reason: str = "") -> Rule:
        s = text.strip()
        m = re.fullmatch(r"Bash(?:\((.*)\))?", s, re.DOTALL)
        if m is None and re.match(r"[A-Za-z_]+\(", s):
            raise InputError(f"bash rule {text!r} is not a Bash(...) rule")
        inner = s if m is None else (m.group(1) or "*").strip()
        if inner in ("*", ":*"):
            return cls(text, "any", (), reason)
        kind = "prefix" if m is None else "exact"
        if m is not None and inner.endswith(":*"):
            kind, inner = "prefix", inner[:-2]
        elif m is not None and "*" in inner:
            return cls(text, "wildcard", (inner,), reason)
        try:
            words = tuple(shlex.split(inner))
        except ValueError as e:
            raise InputError(f"bash rule {text!r} cannot be parsed: {e}") from None
        if not words:
            raise InputError(f"bash rule {text!r} is empty")
        return cls(text, kind, words, reason)

    def matches(self, argv: Sequence[str], *, anywhere: bool = False) -> bool:
        """Whether argv (or, for deny rules, any tail of it) is what this rule names."""
        starts = range(len(argv)) if anywhere else range(min(1, len(argv)))
        return any(self._matches_at(tuple(argv[i:])) for i in starts)

    def _matches_at(self, argv: tuple[str, ...]) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "exact":
            return argv == self.words
        if self.kind == "prefix":
            return argv[: len(self.words)] == self.words
        parts = (re.escape(p) for p in self.words[0].split("*"))
        return re.fullmatch(".*".join(parts), " ".join(argv), re.DOTALL) is not None

    def __str__(self) -> str:
        return f"{self.text!r} ({self.reason})" if self.reason else repr(self.text)


_HISTORY = "only sdd moves HEAD or changes history"
_GIT_DENY = {
    "commit": "only sdd commits",
    "push": "sdd never pushes",
    "checkout": _HISTORY,
    "switch": _HISTORY,
    "rebase": _HISTORY,
    "merge": _HISTORY,
    "pull": _HISTORY,
    "cherry-pick": _HISTORY,
    "revert": _HISTORY,
    "am": _HISTORY,
    "update-ref": _HISTORY,
    "stash": "it would hide changes from sdd",
    "clean": "it deletes files sdd did not review",
}
_GIT_OPTS_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"}
_SPECIAL_PATH = re.compile(r"(?<![\w.-])\.(git|sdd)(?![\w.-])", re.IGNORECASE)


def _git_rule(argv: Sequence[str]) -> Rule | None:
    """The default git rule a command breaks, wherever `git` appears in it (env, xargs, ...)."""
    for i, word in enumerate(argv):
        if os.path.basename(word) != "git":
            continue
        rest = list(argv[i + 1 :])
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in _GIT_OPTS_WITH_VALUE else rest[1:]
        if not rest:
            continue
        if rest[0] in _GIT_DENY:
            return Rule(f"git {rest[0]}", "prefix", ("git", rest[0]), _GIT_DENY[rest[0]])
        if rest[0] == "reset" and "--hard" in rest:
            return Rule("git reset --hard", "prefix", ("git", "reset", "--hard"), _HISTORY)
    return None


_PUNCT = "();<>|&\n"
_REDIRECT = re.compile(r"&?>>?|<<?<?|[<>]&|>\||<>")
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
_KEYWORDS |= {"time", "coproc", "[[", "]]"}
_NO_COMMAND = {"for", "case", "select", "function", "esac"}
_SHELLS = {"bash", "sh", "dash", "zsh", "ksh"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _substitutions(text: str) -> list[str]:
    """Bodies of `...` and $(...), even quoted ones: checking more can only refuse more."""
    found = re.findall(r"`([^`]*)`", text)
    start = text.find("$(")
    while start != -1:
        depth, i = 0, start + 1
        while i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        found.append(text[start + 2 : i])
        start = text.find("$(", i)
    return found


def _clean(words: list[str]) -> list[str]:
    """A segment's argv: no comment, redirections, leading keywords or VAR=value assignments."""
    argv: list[str] = []
    skip_next = False
    for w in words:
        if skip_next:
            skip_next = False
        elif w.startswith("#"):
            break
        elif _REDIRECT.fullmatch(w):
            skip_next = True
            if argv and argv[-1].isdigit():
                argv.pop()
        else:
            argv.append(w)
    while argv and (argv[0] in _KEYWORDS or _ASSIGNMENT.match(argv[0])):
        argv.pop(0)
    return [] if argv and argv[0] in _NO_COMMAND else argv


def subcommands(command: str, _depth: int = 0) -> list[list[str]]:
    """Every simple command in a compound one, nested ones (`$(...)`, `bash -c`, eval) included.

    Raises CommandRefused when the command cannot be parsed with confidence.
    """
    if _depth > 8:
        raise CommandRefused("commands are nested too deeply to check")
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars=_PUNCT)
    lexer.whitespace_split = True
    lexer.whitespace = " \t\r"
    lexer.commenters = ""
    segments: list[list[str]] = [[]]
    try:
        for word in lexer:
            if all(c in _PUNCT for c in word) and not _REDIRECT.fullmatch(word):
                segments.append([])
            else:
                segments[-1].append(word)
    except ValueError as e:
        raise CommandRefused(f"cannot parse the command ({e}); simplify its quoting") from None
    result = []
    for argv in (_clean(s) for s in segments):
        if not argv:
            continue
        result.append(argv)
        for i, word in enumerate(argv):
            if word == "eval":
                result += subcommands(" ".join(argv[i + 1 :]), _depth + 1)
            elif os.path.basename(word) in _SHELLS:
                flags = argv[i + 1 : i + 2]
                if flags and re.fullmatch(r"-[a-z]*c[a-z]*", flags[0]) and i + 2 < len(argv):
                    result += subcommands(argv[i + 2], _depth + 1)
    for inner in _substitutions(command):
        result += subcommands(inner, _depth + 1)
    return result


def check_command(command: str, allow: Sequence[Rule], deny: Sequence[Rule]) -> None:
    """Raise CommandRefused unless every sub-command passes: deny rules win, then allow rules."""
    if not command.strip():
        raise CommandRefused("the command is empty")
    m = _SPECIAL_PATH.search(command)
    if m:
        name = f".{m.group(1).lower()}/"
        raise CommandRefused(f"refused by deny rule '{name}' (only sdd touches {name})")
    argvs = subcommands(command)
    for argv in argvs:
        rule = _git_rule(argv) or next((r for r in deny if r.matches(argv, anywhere=True)), None)
        if rule:
            raise CommandRefused(f"refused by deny rule {rule}")
    if allow:
        for argv in argvs:
            if not any(r.matches(argv) for r in allow):
                rules = ", ".join(repr(r.text) for r in allow)
                raise CommandRefused(
                    f"refused: {shlex.join(argv)!r} matches no allow rule ({rules})"
                )
