"""A cut-short conversation's files kept in the store and written back in another clone:
real git repositories (a clone of the first stands for the other machine), the journal in a
real SQLite store, and `rejoin` deciding whether the conversation goes on."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from support.repo import commit_tree, git

from orchestrator.git.repo import GitRepo
from orchestrator.run.delta import decode, encode
from orchestrator.run.journal import (
    StoreJournal,
    end_conversation,
    open_conversation,
    rejoin,
    tree_state,
)
from orchestrator.run.treefiles import without_modes
from orchestrator.run.workspace import Workspace
from orchestrator.store.sqlite import SqliteBackend
from orchestrator.store.store import Store

FEATURE = "001-x"
BIG = "".join(f"line {k}: {'x' * 40}\n" for k in range(4_000)).encode()  # ~190 KB


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"", b""),
        (b"", b"new\n"),
        (b"a\nb\nc\n", b"a\nB\nc"),
        (b"no newline", b"no newline at all"),
        (b"\x00\xff\r\n\x01", b"\x00\xfe\r\n\x01\n"),
        (BIG, BIG.replace(b"line 2000:", b"LINE 2000:")),
    ],
)
def test_a_change_rebuilds_the_new_content(old: bytes, new: bytes) -> None:
    assert decode(old, encode(old, new)) == new


def test_random_changes_rebuild_exactly() -> None:
    rng = random.Random(5)
    for _ in range(200):
        old = bytes(rng.choice(b"ab\n\r") for _ in range(rng.randint(0, 60)))
        new = bytes(rng.choice(b"abc\n") for _ in range(rng.randint(0, 60)))
        assert decode(old, encode(old, new)) == new


def test_a_damaged_change_is_refused() -> None:
    with pytest.raises(ValueError):
        decode(b"a\n", b"not zlib")
    with pytest.raises(ValueError):
        decode(b"", encode(b"a\nb\n", b"a\nb\nc\n"))  # copies lines its parent lacks


def make_origin(tmp_path: Path) -> Path:
    root = tmp_path / "a"
    (root / "src").mkdir(parents=True)
    (root / "src" / "big.txt").write_bytes(BIG)
    (root / "src" / "gone.txt").write_text("to delete\n")
    (root / "run.sh").write_text("#!/bin/sh\necho one\n")
    (root / "run.sh").chmod(0o755)
    (root / ".gitignore").write_text("out/\n")
    commit_tree(root)
    return root


def workspace(root: Path) -> Workspace:
    return Workspace(root, GitRepo(root), "tasks.md")


def record(tmp_path: Path, root: Path) -> tuple[Store, dict[str, str]]:
    """Clone A's attempt: an Edit of a big file, a new file, a deletion, a symlink, a script
    edited, each step recorded; the conversation is then cut short."""
    store = Store(SqliteBackend(tmp_path / "state.sqlite"))
    ws = workspace(root)
    journal = StoreJournal(store, FEATURE, "T001", ws, GitRepo(root).head(), ())
    step = {"id": "t1", "content": "ok", "is_error": False, "wrote": True}
    big = root / "src" / "big.txt"
    big.write_bytes(BIG.replace(b"line 10:", b"LINE 10:"))
    journal.add("result", step)
    big.write_bytes(big.read_bytes().replace(b"line 3000:", b"LINE 3000:"))
    (root / "src" / "new" / "mod.py").parent.mkdir()
    (root / "src" / "new" / "mod.py").write_text("value = 1\n")
    (root / "src" / "gone.txt").unlink()
    (root / "src" / "link").symlink_to("big.txt")
    (root / "run.sh").write_text("#!/bin/sh\necho two\n")
    journal.add("result", step)
    return store, tree_state(ws)


def clone(tmp_path: Path, origin: Path) -> Path:
    git(tmp_path, "clone", "-q", str(origin), "b")
    return tmp_path / "b"


def test_a_clean_clone_gets_the_recorded_files_back(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store, tree = record(tmp_path, origin)
    assert set(tree) == {"src/big.txt", "src/new/mod.py", "src/gone.txt", "src/link", "run.sh"}
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and found.tree() == tree
    notes: list[str] = []
    why = rejoin(store, FEATURE, "T001", found, workspace(b), GitRepo(b).head(), notes.append)
    assert why == ""
    assert tree_state(workspace(b)) == tree
    assert (b / "src" / "big.txt").read_bytes() == (origin / "src" / "big.txt").read_bytes()
    assert (b / "src" / "link").is_symlink() and not (b / "src" / "gone.txt").exists()
    assert (b / "run.sh").stat().st_mode & 0o111, "a tracked script keeps its mode"
    assert git(b, "diff", "--stat") == git(origin, "diff", "--stat")
    assert notes == [f"T001: wrote back its 5 files from the store (recorded in {found.where})"]


def test_an_edit_of_a_big_file_costs_about_what_it_changed(tmp_path: Path) -> None:
    store, _ = record(tmp_path, make_origin(tmp_path))
    sizes = {d: len(data) for d, (_, data) in store.blobs(FEATURE, "T001").items()}
    assert len(sizes) == 4  # big.txt twice, mod.py, run.sh; no content for a link or a deletion
    assert max(sizes.values()) < 200, sizes  # against 190 KB of file


def test_this_clone_reset_since_gets_its_files_back(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    store, tree = record(tmp_path, origin)
    git(origin, "stash", "-u", "-q")
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None
    ws = workspace(origin)
    assert rejoin(store, FEATURE, "T001", found, ws, GitRepo(origin).head(), print) == ""
    assert tree_state(ws) == tree


def test_a_change_of_its_own_is_never_written_over(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store, _ = record(tmp_path, origin)
    (b / "src" / "big.txt").write_text("mine\n")
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None
    why = rejoin(store, FEATURE, "T001", found, workspace(b), GitRepo(b).head(), print)
    assert why.startswith("its uncommitted changes are in another work tree ("), why
    assert (b / "src" / "big.txt").read_text() == "mine\n"
    assert git(b, "status", "--porcelain") == " M src/big.txt\n"


@pytest.mark.parametrize("damage", ["corrupt", "missing", "folder"])
def test_a_restore_that_cannot_complete_leaves_the_tree_clean(tmp_path: Path, damage: str) -> None:
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store, tree = record(tmp_path, origin)
    db = sqlite3.connect(tmp_path / "state.sqlite")
    mod = tree["src/new/mod.py"]
    if damage == "corrupt":
        db.execute("UPDATE sdd_blobs SET data = ? WHERE digest = ?", (b"garbage", mod))
    elif damage == "missing":
        db.execute("DELETE FROM sdd_blobs WHERE digest = ?", (mod,))
    else:  # an ignored folder where the attempt had a file: found only while writing
        (b / "src" / "link" / "out").mkdir(parents=True)
        (b / ".git" / "info" / "exclude").write_text("src/link/\n")
    db.commit()
    db.close()
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None
    why = rejoin(store, FEATURE, "T001", found, workspace(b), GitRepo(b).head(), print)
    said = {
        "corrupt": f"the stored file {mod} is damaged",
        "missing": f"a file it wrote ({mod}) is not in the store",
        "folder": "writing its files back failed (link is a folder here)",
    }[damage]
    assert why.startswith("its files could not be restored from the store: " + said), why
    assert git(b, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_file_holding_a_secret_is_never_kept(tmp_path: Path) -> None:
    root = make_origin(tmp_path)
    store = Store(SqliteBackend(tmp_path / "state.sqlite"))
    secret = "sk-ant-test-secret-0123456789abcdef"
    journal = StoreJournal(store, FEATURE, "T001", workspace(root), GitRepo(root).head(), (secret,))
    (root / "conf.py").write_text(f"KEY = '{secret}'\n")
    (root / "ok.py").write_text("fine = 1\n")
    journal.add("result", {"id": "t1", "content": "ok", "is_error": False, "wrote": True})
    tree = tree_state(workspace(root))
    kept = store.blobs(FEATURE, "T001")
    assert set(kept) == {tree["ok.py"]}
    assert all(secret.encode() not in data for _, data in kept.values())


def step(journal: StoreJournal) -> None:
    journal.add("result", {"id": "t", "content": "ok", "is_error": False, "wrote": True})


def test_a_file_made_executable_is_written_back_executable(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store = Store(SqliteBackend(tmp_path / "state.sqlite"))
    ws = workspace(origin)
    journal = StoreJournal(store, FEATURE, "T001", ws, GitRepo(origin).head(), ())
    (origin / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    step(journal)
    before = tree_state(ws)
    (origin / "tool.sh").chmod(0o755)  # `chmod +x` alone is a change of the tree
    (origin / "run.sh").chmod(0o644)  # and so is a tracked script made plain
    step(journal)
    tree = tree_state(ws)
    assert tree["tool.sh"] == before["tool.sh"] + "+x" and not tree["run.sh"].endswith("+x")
    assert open_conversation(store, FEATURE, "T001").tree() == tree  # type: ignore[union-attr]
    kept = {d[:16] for d in tree.values()}  # tool.sh once: its mode is no new content
    assert set(store.blobs(FEATURE, "T001")) == kept and len(kept) == 2
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and found.modes
    assert rejoin(store, FEATURE, "T001", found, workspace(b), GitRepo(b).head(), print) == ""
    assert tree_state(workspace(b)) == tree
    assert (b / "tool.sh").stat().st_mode & 0o777 == 0o755
    assert not (b / "run.sh").stat().st_mode & 0o111
    git(origin, "add", "-A")
    git(b, "add", "-A")
    assert git(b, "write-tree") == git(origin, "write-tree"), "the same tree, modes included"


def test_a_conversation_recorded_without_modes_still_goes_on(tmp_path: Path) -> None:
    """A store written before the steps named modes: its trees name none, and a tracked
    script edited there is written back (keeping its mode) and goes on without them."""
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store, tree = record(tmp_path, origin)
    assert tree["run.sh"].endswith("+x")
    convo, steps = store.conversation(FEATURE, "T001")
    for seq, (kind, data) in enumerate(steps):  # as plain JSON, as such a store holds them
        old = data.replace(',"modes":true', "").replace("+x", "")
        store.add_step(FEATURE, "T001", convo, seq, kind, old)
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and not found.modes and found.tree()["run.sh"] == tree["run.sh"][:16]
    assert without_modes({"l": "link:a+x", "f": "0123456789abcdef+x"}) == {
        "l": "link:a+x",  # a symlink's target is kept as it is
        "f": "0123456789abcdef",
    }
    ws = workspace(b)
    assert rejoin(store, FEATURE, "T001", found, ws, GitRepo(b).head(), print) == ""
    assert (b / "run.sh").stat().st_mode & 0o111
    assert git(b, "diff", "--stat") == git(origin, "diff", "--stat")
    journal = StoreJournal(store, FEATURE, "T001", ws, GitRepo(b).head(), (), found)
    assert journal.untouched()
    (b / "run.sh").write_text("#!/bin/sh\necho three\n")
    step(journal)
    again = open_conversation(store, FEATURE, "T001")
    assert again is not None and again.tree()["run.sh"] == tree_state(ws)["run.sh"][:16]


@pytest.mark.parametrize("resumed", [False, True], ids=["same run", "resumed between"])
def test_a_file_kept_again_after_a_step_that_could_not_keep_it(
    tmp_path: Path, resumed: bool
) -> None:
    """A step whose file held a secret could not keep it; the next step whose file is
    keepable again keeps it as a change from content the store holds, so a resume
    elsewhere after that step writes it back (only the steps in between could not)."""
    origin = make_origin(tmp_path)
    b = clone(tmp_path, origin)
    store = Store(SqliteBackend(tmp_path / "state.sqlite"))
    secret = "sk-ant-test-secret-0123456789abcdef"
    ws, base = workspace(origin), GitRepo(origin).head()
    journal = StoreJournal(store, FEATURE, "T001", ws, base, (secret,))
    conf = origin / "conf.py"
    conf.write_text("KEY = None\n")
    step(journal)
    conf.write_text(f"KEY = '{secret}'\n")
    step(journal)
    skipped = open_conversation(store, FEATURE, "T001")
    assert skipped is not None and skipped.tree()["conf.py"] not in store.blobs(FEATURE, "T001")
    if resumed:  # a resume in this tree goes on from the step that could not keep it
        journal = StoreJournal(store, FEATURE, "T001", ws, base, (secret,), skipped)
    conf.write_text("KEY = os.environ['KEY']\n")
    step(journal)
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None
    assert rejoin(store, FEATURE, "T001", found, workspace(b), GitRepo(b).head(), print) == ""
    assert (b / "conf.py").read_text() == "KEY = os.environ['KEY']\n"


def test_a_tasks_files_are_dropped_when_its_conversation_ends(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    store, tree = record(tmp_path, origin)
    ws, base = workspace(origin), GitRepo(origin).head()
    whole = {tree[p][:16] for p in ("src/big.txt", "src/new/mod.py", "run.sh")}  # from base
    other = StoreJournal(store, FEATURE, "T002", ws, base, ())
    step(other)
    found = open_conversation(store, FEATURE, "T001")
    assert found is not None and store.blobs(FEATURE, "T001")
    journal = StoreJournal(store, FEATURE, "T001", ws, base, (), found)
    journal.end("landed")
    assert store.blobs(FEATURE, "T001") == {}, "landed: nothing of it is needed any more"
    assert set(store.blobs(FEATURE, "T002")) == whole, "another task's open conversation keeps its"
    assert store.conversation(FEATURE, "T001")[1][-1][0] == "end", "its transcript stays"
    second = StoreJournal(store, FEATURE, "T001", ws, base, ())
    step(second)
    kept = store.blobs(FEATURE, "T001")
    assert set(kept) == whole, "the same contents again, kept anew for the new conversation"
    store.drop_blobs(FEATURE, "T001")
    store.drop_blobs(FEATURE)
    assert store.blobs(FEATURE, "T001") == kept, "an open conversation keeps its files"
    started_over = open_conversation(store, FEATURE, "T001")
    assert started_over is not None
    end_conversation(store, FEATURE, "T001", started_over, "its base moved")
    assert store.blobs(FEATURE, "T001") == {}


def test_files_an_ended_conversation_left_are_dropped(tmp_path: Path) -> None:
    """A store whose rows outlived their conversation (written before files were dropped, or
    a kill between the end and the drop): the next conversation of the task, or the next run
    of the feature, drops them; an open conversation's stay."""
    origin = make_origin(tmp_path)
    store, _ = record(tmp_path, origin)
    ws, base = workspace(origin), GitRepo(origin).head()
    step(StoreJournal(store, FEATURE, "T002", ws, base, ()))
    for task in ("T001", "T002"):
        found = open_conversation(store, FEATURE, task)
        assert found is not None
        store.add_step(FEATURE, task, found.convo, len(found.steps), "end", "{}")  # no drop
    third = StoreJournal(store, FEATURE, "T003", ws, base, ())
    step(third)
    assert all(store.blobs(FEATURE, t) for t in ("T001", "T002", "T003"))
    StoreJournal(store, FEATURE, "T002", ws, base, ())  # T002 begins again
    assert store.blobs(FEATURE, "T002") == {} and store.blobs(FEATURE, "T001")
    store.drop_blobs(FEATURE)  # as a run opens
    assert store.blobs(FEATURE, "T001") == {}
    assert store.blobs(FEATURE, "T003"), "T003's conversation is open"
