"""Real Python environments for projects under test, made offline and fast.

A project gets its own `python -m venv`, and packages are installed the way an installer does
it, by unpacking wheels into its site-packages and byte-compiling them: pytest and its
dependencies come as wheels rebuilt from the distributions installed here (their files and
metadata, a fresh RECORD), and a module only that environment has (`calcdep`) as a wheel made
on the spot. The same wheelhouse serves uv (`find-links`, `no-index`), so a uv project locks
and syncs without a network.
"""

from __future__ import annotations

import base64
import compileall
import hashlib
import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

PYTEST_DISTS = ("pytest", "pluggy", "iniconfig", "packaging", "pygments")
_SKIP = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
_PYTEST_NAMES = ("pytest", "_pytest", "py.py")
# pytest loads four of pygments' 500 lexer modules: the others are left uncompiled
_NOT_IMPORTED = re.compile(r"/pygments/lexers/(?!(__init__|_mapping|python|diff)\.py$)")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(dest: Path, dist: str, version: str, files: Mapping[str, bytes]) -> Path:
    info = f"{dist}-{version}.dist-info"
    wheel = dest / f"{dist.lower()}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        lines = []
        for name, data in files.items():
            z.writestr(name, data)
            lines.append(_record_line(name, data))
        z.writestr(f"{info}/RECORD", "\n".join([*lines, f"{info}/RECORD,,"]) + "\n")
    return wheel


def wheel_from_installed(name: str, dest: Path) -> Path:
    """A wheel of an installed distribution: its files as installed (console scripts left to
    the installer, which makes them from entry_points.txt)."""
    dist = md.distribution(name)
    base = Path(str(dist.locate_file("")))
    files: dict[str, bytes] = {}
    for f in dist.files or []:
        if ".." in f.parts or "__pycache__" in f.parts or f.name in _SKIP:
            continue
        files[f.as_posix()] = (base / f).read_bytes()
    info = next(p for p in files if p.split("/")[0].endswith(".dist-info")).split("/")[0]
    stem = info.removesuffix(".dist-info")
    return _write_wheel(dest, stem.rsplit("-", 1)[0], dist.version, files)


def make_wheel(dest: Path, name: str, version: str, modules: Mapping[str, str]) -> Path:
    """A wheel of a tiny pure-Python distribution holding `modules` (file name -> source)."""
    info = f"{name}-{version}.dist-info"
    files = {m: src.encode() for m, src in modules.items()}
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: sdd-tests\nRoot-Is-Purelib: true\n"
    files[f"{info}/WHEEL"] += b"Tag: py3-none-any\n"
    return _write_wheel(dest, name, version, files)


def wheelhouse(dest: Path, extra: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """pytest's wheels, and one wheel per `extra` distribution (name -> its modules)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PYTEST_DISTS:
        wheel_from_installed(name, dest)
    for name, modules in (extra or {}).items():
        make_wheel(dest, name, "1.0", modules)
    return dest


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def _installed(wheels: Sequence[Path]) -> Path:
    """The wheels unpacked and byte-compiled (as pip leaves them), once per set of wheels: each
    venv copies this, so its pytest is not compiled again on every verification (those run
    with PYTHONDONTWRITEBYTECODE)."""
    key = hashlib.sha256("\n".join(sorted(str(w) for w in wheels)).encode()).hexdigest()[:12]
    site = wheels[0].parent.parent / f"site-{key}"
    if not site.is_dir():
        part = site.with_name(site.name + ".part")
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as z:
                z.extractall(part)
        part.rename(site)
        compileall.compile_dir(site, quiet=1, rx=_NOT_IMPORTED)
    return site


def make_venv(venv: Path, wheels: Sequence[Path] = ()) -> Path:
    """`python -m venv` (no pip: nothing here downloads), then the wheels installed into it."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    if wheels:
        # copy2 keeps the sources' mtimes, which their bytecode is checked against
        shutil.copytree(_installed(wheels), site_packages(venv), dirs_exist_ok=True)
    return venv / "bin" / "python"


def python_without_pytest(where: Path) -> Path:
    """An interpreter that imports everything sdd needs but not pytest: a venv whose site
    is this one's site-packages minus pytest (linked entry by entry)."""
    here = Path(next(p for p in sys.path if p.endswith("site-packages")))
    shown = where / "site"
    shown.mkdir(parents=True)
    for entry in here.iterdir():
        low = entry.name.lower()
        if low in _PYTEST_NAMES or low.startswith(("pytest", "_pytest")):
            continue
        (shown / entry.name).symlink_to(entry)
    python = make_venv(where / "venv")
    pth = site_packages(where / "venv") / "sdd_site.pth"
    pth.write_text(f"import site; site.addsitedir({str(shown)!r})\n")
    return python


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
