"""Choosing the store: URL forms, `--store` > `SDD_STORE` > config > default, and the one-line
errors for a bad scheme, a malformed URL, an unreachable server and a wrong password."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.runproc import sdd_argv, sdd_env
from test_resume import make_project, write_script

from orchestrator.errors import InputError
from orchestrator.store.url import DEFAULT, choose_store_url, mask, parse_store_url

ROOT = Path("/repo")


def test_sqlite_paths_are_relative_to_the_repository_unless_absolute() -> None:
    assert parse_store_url(DEFAULT, ROOT).path == ROOT / ".sdd" / "state.sqlite"
    assert parse_store_url("sqlite:///db/x.sqlite", ROOT).path == ROOT / "db" / "x.sqlite"
    assert parse_store_url("sqlite:////var/sdd/x.sqlite", ROOT).path == Path("/var/sdd/x.sqlite")
    assert not parse_store_url(DEFAULT, ROOT).shared


@pytest.mark.parametrize("url", ["postgresql://u:pw@db:5432/sdd", "postgres://db/sdd"])
def test_postgres_urls_are_shared(url: str) -> None:
    store = parse_store_url(url, ROOT)
    assert store.kind == "postgresql" and store.shared and store.url == url


def test_the_password_is_masked_wherever_it_is() -> None:
    assert mask("postgresql://sdd:hunter2@db:5432/x") == "postgresql://sdd:***@db:5432/x"
    assert (
        mask("postgresql://db/x?user=a&password=hunter2") == "postgresql://db/x?user=a&password=***"
    )
    assert mask("postgresql://sdd@db/x") == "postgresql://sdd@db/x"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u:hunter2@db/x", "unknown store scheme `mysql` in `mysql://u:***@db/x`"),
        ("state.sqlite", "`state.sqlite` is not a store URL"),
        ("sqlite://", "`sqlite://` names no file"),
        ("sqlite://relative.db", "names no file"),
        ("postgresql://", "names no database host or name"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_store_url(url, ROOT)
    assert said in str(caught.value) and "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("--store: ")


def test_precedence_flag_then_environment_then_config_then_default() -> None:
    env = {"SDD_STORE": "sqlite:///from-env.sqlite"}
    config = "sqlite:///from-config.sqlite"
    pick = choose_store_url
    assert pick(ROOT, "sqlite:///flag.sqlite", env, config).path == ROOT / "flag.sqlite"
    assert pick(ROOT, None, env, config).path == ROOT / "from-env.sqlite"
    assert pick(ROOT, None, {"SDD_STORE": " "}, config).path == ROOT / "from-config.sqlite"
    assert pick(ROOT, None, {}, None).path == ROOT / ".sdd" / "state.sqlite"
    with pytest.raises(InputError, match=r"^SDD_STORE: unknown store scheme `ftp`"):
        pick(ROOT, None, {"SDD_STORE": "ftp://x"}, config)
    with pytest.raises(InputError, match=r"^`\.specify/sdd\.yaml`: store: unknown store scheme"):
        pick(ROOT, None, {}, "redis://x")


def sdd(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        sdd_argv(*args), cwd=cwd, env=sdd_env() | (env or {}), capture_output=True, text=True
    )


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_cli_refuses_an_unknown_scheme_from_the_environment(tmp_path: Path) -> None:
    root = make_project(tmp_path, {})
    said = one_line_error(sdd(root, "status", "001", env={"SDD_STORE": "mongodb://a:pw@h/x"}))
    assert "SDD_STORE: unknown store scheme `mongodb` in `mongodb://a:***@h/x`" in said


def test_cli_refuses_a_bad_store_in_config_before_writing_anything(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"store": "sqlite:relative"})
    said = one_line_error(sdd(root, "run", "001", "--model", "scripted:none.yaml"))
    assert "`.specify/sdd.yaml`: store: `sqlite:relative` is not a store URL" in said
    assert not (root / ".sdd").exists()
    good = make_project(tmp_path / "good", {})
    said = one_line_error(sdd(good, "run", "001", "--store", "ftp://h/x", "--model", "scripted:x"))
    assert "--store: unknown store scheme `ftp`" in said
    assert not (good / ".sdd").exists()
    assert not (root / ".sdd").exists()


def test_an_unreachable_server_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    root = make_project(tmp_path, {})
    url = "postgresql://sdd:hunter2@127.0.0.1:9/sdd"  # the discard port: nothing listens
    script = f"scripted:{write_script(root, latency=0)}"
    for command in (["status", "001"], ["run", "001", "--model", script]):
        said = one_line_error(sdd(root, *command, "--store", url))
        assert "cannot open the store postgresql://sdd:***@127.0.0.1:9/sdd" in said
        assert "hunter2" not in said


def test_a_wrong_password_is_one_line_with_the_password_masked(tmp_path: Path, pg_url: str) -> None:
    root = make_project(tmp_path, {})
    wrong = pg_url.replace(":s3cret-pg@", ":not-the-password@")
    said = one_line_error(sdd(root, "log", "001", "--store", wrong))
    assert "password authentication failed" in said
    assert "not-the-password" not in said and ":***@127.0.0.1" in said
