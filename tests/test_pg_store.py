"""A Postgres store against a real server: a whole run keeps its records and LangGraph
checkpoints there, repositories and features sharing one database never see each other's
rows, and the database lock keeps a second driver off a run."""

from __future__ import annotations

import json
import subprocess
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from support.runproc import sdd_argv, sdd_env
from test_resume import IDS, QUIET_VERIFY, git, landed_ids, make_project, write_script

from orchestrator.errors import GitStateError, SddError
from orchestrator.git.repo import GitRepo
from orchestrator.store.open import store_url
from orchestrator.store.postgres import PostgresBackend
from orchestrator.store.records import AttemptRecord, TaskRecord
from orchestrator.store.store import Store

pytestmark = pytest.mark.slow


def sdd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(sdd_argv(*args), cwd=cwd, env=sdd_env(), capture_output=True, text=True)


def test_a_run_keeps_records_and_checkpoints_in_postgres(tmp_path: Path, pg_url: str) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    script = write_script(root, latency=0)
    done = sdd(root, "run", "001", "--model", f"scripted:{script}", "--store", pg_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(landed_ids(root)) == IDS
    assert not (root / ".sdd" / "state.sqlite").exists(), "nothing goes to the SQLite default"
    key = GitRepo(root).identity()
    with psycopg.connect(pg_url) as db:
        rows = db.execute("SELECT repo, feature, task_id, status FROM sdd_tasks").fetchall()
        assert sorted(rows) == [(key, "001-calc", t, "landed") for t in IDS]
        (run_id,) = db.execute("SELECT run_id FROM sdd_runs WHERE status = 'finished'").fetchone()
        threads = {r[0] for r in db.execute("SELECT DISTINCT thread_id FROM checkpoints")}
        assert threads == {f"{key}/001-calc/{run_id}"}
    shown = sdd(root, "status", "001", "--json", "--store", pg_url)
    status = json.loads(shown.stdout)
    assert {t["task"]: t["state"] for t in status["tasks"]} == dict.fromkeys(IDS, "landed")
    again = sdd(root, "run", "001", "--model", f"scripted:{script}", "--store", pg_url)
    assert again.returncode == 0 and sorted(landed_ids(root)) == IDS, again.stdout


def test_repositories_and_features_sharing_a_database_never_collide(pg_url: str) -> None:
    url = store_url(Path("/nowhere"), pg_url)
    a_db, b_db = PostgresBackend(url, "repo-a"), PostgresBackend(url, "repo-b")
    with closing(Store(a_db)) as a, closing(Store(b_db)) as b:
        runs = {(s, f): s.new_run(f, "m") for s in (a, b) for f in ("001-x", "002-y")}
        for (store, feature), run in runs.items():
            who = f"{'a' if store is a else 'b'}:{feature}"
            store.save_task(TaskRecord(feature, "T001", run.run_id, "landed", commit_sha=who))
            store.add_attempt(AttemptRecord(feature, "T001", 1, run.run_id, "passed", who))
            store.set_expected_red(feature, {f"tests/test_{who}.py::t": "T001"})
            store.set_run_status(run.run_id, "finished", who)
        for store, feature in runs:
            who = f"{'a' if store is a else 'b'}:{feature}"
            assert store.latest_run(feature).reason == who
            assert store.tasks(feature)["T001"].commit_sha == who
            assert [r.verify_output for r in store.attempts(feature, "T001")] == [who]
            assert store.expected_red(feature) == {f"tests/test_{who}.py::t": "T001"}
        threads = {s.thread_id(r) for (s, _), r in runs.items()}
        assert len(threads) == 4
        assert a.latest_run("003-z") is None and a.tasks("003-z") == {}


def test_a_repository_is_known_by_its_first_commit_in_every_clone(tmp_path: Path) -> None:
    one = make_project(tmp_path / "one", {})
    git(tmp_path, "clone", "-q", str(one), "clone")
    git(one, "commit", "-q", "--allow-empty", "-m", "later")
    other = make_project(tmp_path / "other", {"model": "another"})
    assert GitRepo(one).identity() == GitRepo(tmp_path / "clone").identity()
    assert GitRepo(one).identity() != GitRepo(other).identity()
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{one}", "shallow")
    with pytest.raises(GitStateError, match="shallow"):
        GitRepo(tmp_path / "shallow").identity()


def test_the_database_lock_refuses_a_second_driver(tmp_path: Path, pg_url: str) -> None:
    root = make_project(tmp_path, QUIET_VERIFY)
    git(tmp_path, "clone", "-q", str(root), "elsewhere")
    elsewhere = tmp_path / "elsewhere"
    script = write_script(root, latency=0)
    url = store_url(root, pg_url)
    with closing(Store(PostgresBackend(url, GitRepo(root).identity()))) as store:
        held = store.lock_run("001-calc")
        with pytest.raises(SddError, match="another sdd is driving 001-calc"):
            store.lock_run("001-calc")
        store.lock_run("002-other").close()  # another feature is another run
        # another clone, so only the database can know: its own file lock is free
        refused = sdd(elsewhere, "run", "001", "--model", f"scripted:{script}", "--store", pg_url)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        said = " ".join(refused.stderr.split())
        assert "another sdd is driving 001-calc of this repository" in said, said
        assert "sdd run 001-calc" in said and "Traceback" not in said
        assert landed_ids(elsewhere) == []
        held.close()
    done = sdd(elsewhere, "run", "001", "--model", f"scripted:{script}", "--store", pg_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(landed_ids(elsewhere)) == IDS
