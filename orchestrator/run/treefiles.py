"""The files of a task's work tree kept beside its conversation, so a clone that lacks them
(another machine, or this tree cleaned since) can rebuild the tree the steps recorded, and the
conversation goes on instead of starting over.

When a step records a changed `tree`, each file whose content changed is kept once per digest,
as its change from the file's previous kept content, else from the base commit's, else from
nothing (`delta`): an Edit of a large file costs about what the Edit said. Deleted files,
symlinks and the executable bit (git's mode 100755) are in the digests themselves. A file
holding one of the run's secrets (an API key) is never kept, nor one over 8 MB: a resume that
would need that step's tree starts over, and the file's next keepable content is kept as a
change from one the store holds, never from the one it lacks. A restore checks everything
before it writes anything (each file rebuilt in memory and matched with its digest), checks
each file again on disk, and leaves the tree clean at its base when it cannot complete.
The files are needed only while the conversation is open: they are dropped when it ends.
"""

from __future__ import annotations

import stat
from pathlib import Path, PurePosixPath

from orchestrator.agent.transcript import find_secret
from orchestrator.run.delta import decode, encode, short_digest
from orchestrator.run.footprint import digest
from orchestrator.run.workspace import Workspace
from orchestrator.store.store import Store

EXEC = "+x"  # after a file's digest: it is executable (git's mode 100755)
_X = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
_MAX_CHAIN = 100_000  # more parents than any conversation makes: the store is damaged
MAX_FILE = 8 << 20  # bytes; a larger file (generated, most likely) is not kept


class Unrestorable(Exception):
    """The recorded tree cannot be rebuilt here; the message says why, in a few words."""


def is_content(d: str) -> bool:
    """A digest of a file's content (not '-', a deleted file, nor a symlink's target)."""
    return d != "-" and not d.startswith("link:")


def file_state(path: Path) -> str:
    """A file as a step's `tree` names it: 64 bits of its content's digest, then `+x` when
    it is executable (as git tells one: its owner may run it); `-` when it does not exist,
    `link:<target>` for a symlink."""
    d = digest(path)
    if not is_content(d):
        return d
    try:
        return d[:16] + (EXEC if path.stat().st_mode & stat.S_IXUSR else "")
    except OSError:
        return "-"


def content_digest(d: str) -> str:
    """The digest of a file's content alone (what its kept content is keyed by)."""
    return d.removesuffix(EXEC) if is_content(d) else d


def without_modes(tree: dict[str, str]) -> dict[str, str]:
    """A tree as a conversation begun before the steps recorded modes names it."""
    return {path: content_digest(d) for path, d in tree.items()}


def _read(path: Path) -> bytes | None:
    try:
        return None if path.is_symlink() or not path.is_file() else path.read_bytes()
    except OSError:
        return None


class Keeper:
    """Keeps the content of each file a task's steps record, in the store, once per digest."""

    def __init__(
        self,
        store: Store,
        feature: str,
        task_id: str,
        ws: Workspace,
        base: str,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._store, self._feature, self._task = store, feature, task_id
        self._ws, self._base, self._secrets = ws, base, secrets
        self._last: dict[str, tuple[str, bytes]] = {}  # path -> its last kept (digest, content)

    def seed(self, tree: dict[str, str]) -> None:
        """Going on with a recorded tree: its files on disk are the parents of their next
        change, those that still match their digest and were kept (a file that could not be
        kept is no parent: its next change is kept whole)."""
        kept = self._store.blobs(self._feature, self._task) if tree else {}
        for path, state in tree.items():
            d = content_digest(state)
            content = _read(self._ws.repo.root / path) if d in kept else None
            if content is not None and short_digest(content) == d:
                self._last[path] = (d, content)

    def keep(self, tree: dict[str, str]) -> None:
        """Keep each file of `tree` (paths from the top -> digest) not kept yet."""
        for path, state in sorted(tree.items()):
            d, last = content_digest(state), self._last.get(path)
            if not is_content(d) or (last and last[0] == d):
                continue
            content = _read(self._ws.repo.root / path)
            if content is None or len(content) > MAX_FILE or short_digest(content) != d:
                continue  # changed again since it was read: the next step keeps it
            if find_secret(content.decode("utf-8", "replace"), self._secrets):
                continue  # never in the store: a resume elsewhere starts over instead
            parent, old = last if last else self._at_base(path)
            self._store.add_blob(self._feature, self._task, d, parent, encode(old, content))
            self._last[path] = (d, content)

    def _at_base(self, path: str) -> tuple[str, bytes]:
        content = self._ws.repo.git.blob(f"{self._base}:{path}")
        return (f"git:{self._base}:{path}", content) if content is not None else ("", b"")


def restore(
    store: Store,
    feature: str,
    task_id: str,
    ws: Workspace,
    base: str,
    tree: dict[str, str],
    modes: bool = True,
) -> str:
    """Write the files `tree` records into this tree, clean at `base`; '' when each one reads
    back as recorded, else why not (and what was written is taken back). Without `modes`
    (a tree recorded before they were), a file keeps the mode it has here."""
    try:
        for path in tree:
            _check_path(path)
        blobs = store.blobs(feature, task_id)
        memo: dict[str, bytes] = {}
        wanted = {p: content_digest(d) for p, d in tree.items() if is_content(d)}
        contents = {p: _content(blobs, d, ws, memo) for p, d in wanted.items()}
    except Unrestorable as exc:
        return str(exc)
    root, written = ws.repo.root, []
    try:
        for path, d in sorted(tree.items()):
            written.append(path)
            _put(root / path, d, contents.get(path, b""), modes)
            got = file_state(root / path)
            if (got if modes else content_digest(got)) != d:
                raise Unrestorable(f"{path} does not read back as written")
    except (OSError, Unrestorable) as exc:
        ws.repo.restore_paths(base, written)
        return f"writing its files back failed ({exc})"
    return ""


def _check_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or ".." in parts or parts[0] == ".git":
        raise Unrestorable(f"the store names a file outside the work tree ({path})")


def _content(
    blobs: dict[str, tuple[str, bytes]], d: str, ws: Workspace, memo: dict[str, bytes]
) -> bytes:
    """The content of digest `d`, rebuilt from its chain of changes and checked."""
    chain: list[str] = []
    at = d
    while at and not at.startswith("git:") and at not in memo:
        if at not in blobs:
            raise Unrestorable(f"a file it wrote ({at}) is not in the store")
        if len(chain) > _MAX_CHAIN or at in chain:
            raise Unrestorable(f"the stored changes of {d} loop")
        chain.append(at)
        at = blobs[at][0]
    if at in memo:
        content = memo[at]
    elif at:
        found = ws.repo.git.blob(at.removeprefix("git:"))
        if found is None:
            raise Unrestorable(f"{at.removeprefix('git:')} is not in this clone")
        content = found
    else:
        content = b""
    for key in reversed(chain):
        try:
            content = decode(content, blobs[key][1])
        except ValueError as exc:
            raise Unrestorable(f"the stored file {key} is damaged ({exc})") from None
        if short_digest(content) != key:
            raise Unrestorable(f"the stored file {key} is damaged (its digest differs)")
        memo[key] = content
    return content


def _put(path: Path, d: str, content: bytes, modes: bool) -> None:
    """One recorded file in place: a regular file is written over, then made executable or
    not as recorded (read and write bits as they are here)."""
    if path.is_symlink() or (path.exists() and not (path.is_file() and is_content(d))):
        if path.is_dir() and not path.is_symlink():
            raise Unrestorable(f"{path.name} is a folder here")
        path.unlink()
    if d == "-":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if d.startswith("link:"):
        path.symlink_to(d.removeprefix("link:"))
    else:
        path.write_bytes(content)
        if modes:
            mode = stat.S_IMODE(path.stat().st_mode) & ~_X
            path.chmod(mode | (mode & 0o444) >> 2 if d.endswith(EXEC) else mode)
