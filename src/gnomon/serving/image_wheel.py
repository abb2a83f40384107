"""The gnomon wheel an image installs: the gnomon running here, never one from a package index.

From a source checkout (an editable install, or ``src/`` on the path) the wheel is built with
the project's own build backend; from an installed wheel, the installed files are packed back
into one. Either way it is cached under a key of the version and a digest of the files, so an
unchanged gnomon is built once and a changed one is never served from the cache.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from gnomon._version import __version__
from gnomon.errors import InvalidInput, Unavailable

# Installers write these into dist-info; they describe one installation, not the wheel.
_INSTALL_ONLY = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
_EPOCH = (2020, 2, 2, 0, 0, 0)  # hatchling's fixed date: the same files make the same wheel
_BUILD_TIMEOUT = 600
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def gnomon_wheel(cache: Path) -> Path:
    """A wheel of the gnomon running here, built (or packed) once per version and content.

    Raises:
        Unavailable: building from the source checkout failed (its output is in the message).
        InvalidInput: there is neither pip nor uv to build with.
    """
    root = source_root()
    if root is not None:
        return build_from_source(root, cache)
    return repack_installed(importlib.metadata.distribution("gnomon"), cache)


def source_root() -> Path | None:
    """The project folder when gnomon runs from a source checkout (``src/gnomon``)."""
    package = Path(__file__).resolve().parents[1]  # src/gnomon/serving/image_wheel.py
    root = package.parent.parent
    if package.parent.name != "src" or not (root / "pyproject.toml").is_file():
        return None
    project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    return root if project.get("name") == "gnomon" else None


def build_from_source(root: Path, cache: Path) -> Path:
    """``pip wheel --no-deps`` of ``root`` (``uv build`` where there is no pip), cached."""
    files = [root / "pyproject.toml", *_tree(root / "src")]
    files += [p for p in root.iterdir() if p.is_file() and p.name.startswith(("README", "LICEN"))]
    version = _project_version(root)
    return _cached(cache, version, _digest(root, files), lambda out: _build(root, out))


def repack_installed(dist: importlib.metadata.Distribution, cache: Path) -> Path:
    """The installed files of ``dist`` (its package and dist-info) packed back into a wheel."""
    site = Path(str(dist.locate_file("")))
    names = sorted(
        str(path)
        for path in dist.files or []
        if path.parts[0] != ".."  # console scripts: the installer writes them again
        and "__pycache__" not in path.parts
        and not (path.parts[0].endswith(".dist-info") and path.name in _INSTALL_ONLY)
    )
    if not names:
        raise InvalidInput(f"{dist.metadata['Name']} {dist.version} lists no installed files")
    version = dist.version
    return _cached(
        cache,
        version,
        _digest(site, [site / n for n in names]),
        lambda out: _pack(site, names, out),
    )


def _tree(folder: Path) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


def _project_version(root: Path) -> str:
    found = _VERSION.search((root / "src" / "gnomon" / "_version.py").read_text())
    return found.group(1) if found else __version__


def _digest(root: Path, files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _cached(cache: Path, version: str, digest: str, make: Callable[[Path], None]) -> Path:
    folder = cache / f"{version}-{digest}"
    found = sorted(folder.glob("gnomon-*.whl")) if folder.is_dir() else []
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f".{folder.name}."))
    try:
        make(staging)
        if not any(staging.glob("gnomon-*.whl")):
            raise Unavailable(f"building the gnomon wheel left no gnomon-*.whl in {staging}")
        try:
            os.replace(staging, folder)  # a concurrent build of the same key may have won
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(folder.glob("gnomon-*.whl"))[0]


def _build(root: Path, out: Path) -> None:
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out)]
    elif uv := shutil.which("uv", path=_beside_python()):
        command = [uv, "build", "--wheel", "-q", "--out-dir", str(out)]
    else:
        raise InvalidInput(
            "cannot build a gnomon wheel: this Python has neither pip nor uv; "
            "build one and pass it with --wheel"
        )
    done = subprocess.run(
        [*command, str(root)], capture_output=True, text=True, timeout=_BUILD_TIMEOUT
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise Unavailable(f"building a gnomon wheel from {root} failed:\n{tail}")


def _beside_python() -> str:
    # A venv's uv sits beside its interpreter, which need not be on PATH (nor PATH set).
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])


def _pack(site: Path, names: list[str], out: Path) -> None:
    info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    wheel = importlib.metadata.PathDistribution(site / info)
    tags = [line.split(":", 1)[1].strip() for line in (wheel.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]  # fmt: skip
    name = f"gnomon-{wheel.version}-{tags[0] if tags else 'py3-none-any'}.whl"
    record = []
    with zipfile.ZipFile(out / name, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in names:
            data = (site / item).read_bytes()
            archive.writestr(_entry(item), data)
            sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{item},sha256={sha},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(_entry(f"{info}/RECORD"), "\n".join(record) + "\n")


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, _EPOCH)
    entry.external_attr = 0o644 << 16  # readable by the image's non-root user
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


__all__ = ["build_from_source", "gnomon_wheel", "repack_installed", "source_root"]
