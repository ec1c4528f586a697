"""The path guard at volume: 10,000 seeded hostile paths per run, none may escape.

The workspace is a git worktree (so `.git` is a file), with symlinks to the outside, to the
main repository's git directory, to `/`, up the tree and in loops. Paths mix those with
look-alike names (full-width, dot leaders, long s, zero-width and combining characters), NUL,
lone surrogates, backslashes and names at and past the 255-byte limit. Every path goes through
`PathGuard.resolve`; a sample also goes through the file tools, whose output must never show
what lies outside or in `.git`/`.sdd`, and which must leave those untouched.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
import unicodedata
from pathlib import Path

from orchestrator.agent.tools.pathguard import ToolError
from orchestrator.agent.tools.toolbox import Toolbox

PATHS = 10_000
TOOL_SAMPLE = 10  # every 10th path also goes through Write, Edit, Read, Grep and Glob
SEED = 5
SECRET = "TOPSECRET-outside"
GIT_MARKER = "GITMARKER-main-git-config"
SDD_MARKER = "hello from sdd"
DENIED = (".git", ".sdd")
LOOKALIKES = [
    ".ｇｉｔ",  # full-width letters (NFKC -> .git)
    "．git",  # full-width full stop
    "\u2024git",  # one dot leader (NFKC -> .git)
    ".GIT",
    ".Git.",
    ".git ",
    ".git\u200b",  # zero-width space
    "\ufeff.git",  # BOM
    ".g\u200dit",  # zero-width joiner
    ".gıt",  # dotless i: a different name
    ".gіt",  # Cyrillic i: a different name
    ".ſdd",  # long s (casefolds to .sdd)
    ".SDD",
    ".sdd.",
    "．ｓｄｄ",
    ".e\u0301nv",  # combining accent
    "Ꮯ",
]
NAMES = [
    "..",
    ".",
    "",
    "...",
    ".git",
    ".sdd",
    "src",
    "app.py",
    "deep",
    "new",
    "x.txt",
    "outlink",
    "outfile",
    "dangling",
    "inlink",
    "infile",
    "gitlink",
    "sddlink",
    "maingit",
    "rootlink",
    "uplink",
    "escape",
    "loop",
    "config",
    "HEAD",
    "worktrees",
    "ws",
    "secret.txt",
    "state.txt",
    ".env",
    "~",
    "$HOME",
    "%2e%2e",
    "..\\..",
    "a\x00b",
    "\udc80bad",
    "\ud800",
    "x" * 255,
    "y" * 256,
    "é" * 127 + "e",  # 255 bytes
    "é" * 128,  # 256 bytes
    "ａｐｐ.py",
]
SAFE = ["src", "deep", "new", "x.txt", "app.py", "inlink", "infile", ".", "..", ".gıt", "ａｐｐ.py"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_worktree(base: Path) -> tuple[Path, Path, Path]:
    """(workspace, main repository, outside dir): the workspace is a linked worktree."""
    main, outside, ws = base / "main", base / "outside", base / "ws"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    main.mkdir()
    _git(main, "init", "-q")
    _git(
        main,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    with (main / ".git" / "config").open("a") as f:
        f.write(f"# {GIT_MARKER}\n")
    _git(main, "worktree", "add", "-q", str(ws))
    assert (ws / ".git").is_file()
    (ws / "src" / "deep").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("def hello():\n    return 'hi'\n")
    (ws / ".sdd").mkdir()
    (ws / ".sdd" / "state.txt").write_text(SDD_MARKER + "\n")
    (ws / ".env").write_text("API_KEY=hello\n")
    links = {
        "outlink": outside,
        "outfile": outside / "secret.txt",
        "dangling": outside / "missing.txt",
        "inlink": Path("src"),
        "infile": Path("src/app.py"),
        "gitlink": Path(".git"),
        "sddlink": Path(".sdd"),
        "maingit": main / ".git",
        "rootlink": Path("/"),
        "uplink": Path(".."),
        "loop": Path("loop"),
        "src/deep/escape": Path("../../.."),
    }
    for name, to in links.items():
        (ws / name).symlink_to(to)
    return ws, main, outside


def digest(*paths: Path) -> str:
    """Contents of files and directories, symlinks by target, so any change shows."""
    h = hashlib.sha256()
    for top in paths:
        for p in sorted([top, *top.rglob("*")] if top.is_dir() else [top]):
            h.update(os.fsencode(p))
            if p.is_symlink():
                h.update(os.fsencode(os.readlink(p)))
            elif p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def fold(name: str) -> str:
    name = unicodedata.normalize("NFKC", name)
    return "".join(c for c in name if unicodedata.category(c) != "Cf").casefold().rstrip(" .")


def hostile_paths(rng: random.Random, prefixes: list[str], count: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        parts = []
        benign = rng.random() < 0.3  # paths the guard should accept, to reach the tools
        for _ in range(rng.randint(1, 7)):
            pool = SAFE if benign else LOOKALIKES if rng.random() < 0.2 else NAMES
            part = rng.choice(pool)
            if rng.random() < 0.05:  # a look-alike glued to a real name
                part = rng.choice(LOOKALIKES) + "/" + rng.choice(NAMES)
            parts.append(part)
        sep = rng.choice(["/"] * 8 + ["//", "/./"])
        prefix = rng.choice(prefixes[:6] if benign else prefixes)
        seen.setdefault(prefix + sep.join(parts), None)
    return list(seen)


def escape_of(path: str, target: Path, real_root: Path, denied: list[Path]) -> str | None:
    """Why an accepted path is an escape, or None: checked on the file system, not by name."""
    if not target.is_relative_to(real_root):
        return f"{path!r} -> {target} is outside the workspace"
    if target.exists() and os.path.realpath(target) != str(target):
        return f"{path!r} -> {target} still goes through a symlink"
    rel = target.relative_to(real_root)
    if any(fold(p) in DENIED for p in rel.parts):
        return f"{path!r} -> {target} is inside {rel.parts[0]}"
    here = real_root
    for part in rel.parts:
        here = here / part
        if here.exists() and any(os.path.samefile(here, d) for d in denied):
            return f"{path!r} -> {target} is {here}, which is .git or .sdd"
    return None


def tool_leaks(tb: Toolbox, path: str) -> list[str]:
    tb.call("Write", {"file_path": path, "content": "written by the property test\n"})
    tb.call("Edit", {"file_path": path, "old_string": "TOPSECRET", "new_string": "pwned"})
    leaks = []
    for name, args in (
        ("Read", {"file_path": path}),
        ("Grep", {"pattern": "MARKER|TOPSECRET|from sdd|gitdir", "path": path}),
        ("Glob", {"pattern": "**/*", "path": path}),
    ):
        result = tb.call(name, args)
        shown = result.content
        if any(s in shown for s in (SECRET, GIT_MARKER, SDD_MARKER, "gitdir:")):
            leaks.append(f"{name} {path!r}: {shown[:200]}")
        if name == "Glob" and not result.is_error:
            for line in shown.splitlines():
                if line.startswith("/") or any(
                    fold(p) in (*DENIED, "..") for p in Path(line).parts
                ):
                    leaks.append(f"Glob {path!r} listed {line!r}")
    return leaks


def test_ten_thousand_hostile_paths_none_escapes(tmp_path: Path) -> None:
    ws, main, outside = make_worktree(tmp_path)
    real_root = ws.resolve()
    tb = Toolbox(ws, env={"PATH": os.environ["PATH"]})
    guarded = [ws / ".git", ws / ".sdd", outside, main / ".git"]
    before = digest(*guarded)
    denied = [ws / ".git", ws / ".sdd"]
    prefixes = ["", "/", "./", "../", f"{ws}/", f"{real_root}/", f"{ws}/../ws/", f"{outside}/"]
    prefixes += [f"{main}/", f"{main}/.git/", f"{tmp_path}/", "src/deep/escape/"]
    paths = hostile_paths(random.Random(SEED), prefixes, PATHS)

    started = time.monotonic()
    escapes: list[str] = []
    accepted = 0
    for n, path in enumerate(paths):
        for must_exist in (False, True):
            try:
                target = tb.guard.resolve(path, must_exist=must_exist)
            except ToolError:
                continue
            accepted += 1
            why = escape_of(path, target, real_root, denied)
            if why:
                escapes.append(why)
        if n % TOOL_SAMPLE == 0:
            escapes += tool_leaks(tb, path)
    seconds = time.monotonic() - started
    print(
        f"\npath guard: {len(paths)} paths, {accepted} resolutions accepted, "
        f"{len(paths) // TOOL_SAMPLE} through the tools, {len(escapes)} escapes, {seconds:.1f} s"
    )
    assert len(set(paths)) >= PATHS
    assert escapes == []
    assert digest(*guarded) == before
    assert accepted > PATHS // 10  # the generator also makes paths the guard must accept
