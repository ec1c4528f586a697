"""Where the records and checkpoints live, named by one URL: `--store` > `SDD_STORE` > config.

    sqlite:///.sdd/state.sqlite        the default; a relative path is from the repository root
    sqlite:////abs/path/state.sqlite   an absolute path (four slashes, as SQLAlchemy spells it)
    postgresql://user:pw@host:5432/db  one database shared by machines, repositories and features

Pure: the caller passes the environment in, and no driver is imported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from orchestrator.errors import InputError
from orchestrator.paths import DEFAULT_STORE_URL

DEFAULT = DEFAULT_STORE_URL
ENV = "SDD_STORE"
FORGET = "pass --store URL, or delete .sdd/store-url"  # a remembered store that fails
_PASSWORD_IN_NETLOC = re.compile(r"(://[^:/?#@]*:)[^@/?#]*@")
_PASSWORD_IN_QUERY = re.compile(r"(?i)((?:^|[?&\s])password=)[^&\s]*")


@dataclass(frozen=True, slots=True)
class StoreUrl:
    kind: Literal["sqlite", "postgresql"]
    url: str  # as given (for postgresql, what the driver connects to)
    path: Path | None = None  # sqlite: the file
    remembered: bool = False  # from `.sdd/store-url`, not given to this command

    @property
    def hint(self) -> str:
        """What to do when this store cannot be opened, for the end of an error line."""
        return f"; an earlier run was given this store: {FORGET}" if self.remembered else ""

    @property
    def shared(self) -> bool:
        """Other machines may drive runs in this store, so git must be checked against it."""
        return self.kind == "postgresql"

    @property
    def shown(self) -> str:
        """Safe to print: the password replaced by ***."""
        return mask(self.url)


def mask(url: str) -> str:
    return _PASSWORD_IN_QUERY.sub(r"\1***", _PASSWORD_IN_NETLOC.sub(r"\1***@", url))


def parse_store_url(text: str, root: Path, where: str = "--store", fix: str = "") -> StoreUrl:
    """A StoreUrl, or an InputError naming `where` the URL came from (password masked) and
    then `fix`, what to do about it."""
    problem = url_problem(text)
    if problem:
        raise InputError(f"{where}: {problem}" + (f"; {fix}" if fix else ""))
    url = text.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() == "sqlite":
        path = Path(rest[1:])
        return StoreUrl("sqlite", url, path if path.is_absolute() else root / path)
    return StoreUrl("postgresql", url)


def url_problem(text: str) -> str | None:
    """What is wrong with a store URL, or None; the config checks its `store:` key with it."""
    url = text.strip()
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        return (
            f"`{mask(url)}` is not a store URL "
            "(expected sqlite:///PATH or postgresql://USER@HOST/DB)"
        )
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            return (
                f"`{mask(url)}` names no file "
                "(expected sqlite:///relative/path or sqlite:////absolute/path)"
            )
        return None
    if scheme in ("postgresql", "postgres"):
        if not rest or rest.startswith("?"):
            return f"`{mask(url)}` names no database host or name"
        return None
    return f"unknown store scheme `{scheme}` in `{mask(url)}` (sqlite:///PATH or postgresql://...)"


def choose_store_url(
    root: Path, flag: str | None, env: dict[str, str] | None, configured: str | None
) -> StoreUrl:
    """The first of flag, environment and config that is set; else the SQLite default."""
    if flag:
        return parse_store_url(flag, root, "--store")
    if env and env.get(ENV, "").strip():
        return parse_store_url(env[ENV], root, ENV)
    if configured:
        return parse_store_url(configured, root, "`.specify/sdd.yaml`: store")
    return parse_store_url(DEFAULT, root, "default store")
