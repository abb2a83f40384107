"""The artifact store on a local folder."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

from gnomon.artifacts.store import ArtifactInfo
from gnomon.errors import Conflict, InvalidInput, NotFound

# Temporary files live next to their destination so os.replace stays on one filesystem;
# listings and downloads hide them.
_TMP_PREFIX = ".gnomon-tmp-"


def clean_key(key: str, *, allow_root: bool = False) -> str:
    """Normalise ``key`` to ``a/b/c``; shared by every store so they reject the same keys.

    Raises:
        InvalidInput: the key is absolute, contains a ``..`` segment, or is empty where a
            file must be named.
    """
    segments = re.split(r"[\\/]", key)
    # Backslashes count as separators here so a key cannot climb out of the root on Windows.
    if "\0" in key or key.startswith(("/", "\\")) or PureWindowsPath(key).drive or ".." in segments:
        raise InvalidInput(
            f"artifact key {key!r} must be relative and must not contain '..'",
            details={"key": key},
        )
    cleaned = "/".join(part for part in key.split("/") if part not in ("", "."))
    if not cleaned and not allow_root:
        raise InvalidInput(f"artifact key {key!r} names no file", details={"key": key})
    return cleaned


class LocalArtifactStore:
    """Artifacts as files below ``root``; the folder is created on the first write."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).expanduser().resolve()
        self.root = self._root.as_posix()

    def uri(self, key: str) -> str:
        return self._path(clean_key(key, allow_root=True)).as_posix()

    def put_file(self, local_path: Path, key: str) -> None:
        source = _existing_file(Path(local_path))
        self._write(clean_key(key), lambda out: _copy_into(source, out))

    def put_dir(self, local_dir: Path, prefix: str) -> None:
        local_dir = Path(local_dir)
        if not local_dir.is_dir():
            raise NotFound(
                f"local folder '{local_dir}' not found", details={"path": str(local_dir)}
            )
        prefix = clean_key(prefix, allow_root=True)
        for source in sorted(p for p in local_dir.rglob("*") if p.is_file()):
            key = "/".join(filter(None, [prefix, source.relative_to(local_dir).as_posix()]))
            self._write(key, partial(_copy_into, source))

    def put_bytes(self, data: bytes, key: str) -> None:
        self._write(clean_key(key), lambda out: out.write(data))

    def get_bytes(self, key: str) -> bytes:
        key = clean_key(key)
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise _not_found(key) from exc

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        prefix = clean_key(prefix, allow_root=True)
        try:
            entries = list(os.scandir(self._path(prefix)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        infos = []
        for entry in entries:
            if entry.name.startswith(_TMP_PREFIX):
                continue
            path = f"{prefix}/{entry.name}" if prefix else entry.name
            is_dir = entry.is_dir()
            infos.append(ArtifactInfo(path, is_dir, None if is_dir else entry.stat().st_size))
        return sorted(infos, key=lambda info: info.path)

    def download(self, key: str, local_dir: Path) -> Path:
        key = clean_key(key)
        source = self._path(key)
        dest = Path(local_dir) / source.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, dest)
        elif source.is_dir():
            ignore = shutil.ignore_patterns(f"{_TMP_PREFIX}*")
            shutil.copytree(source, dest, ignore=ignore, dirs_exist_ok=True)
        else:
            raise _not_found(key)
        return dest

    def delete(self, prefix: str) -> None:
        path = self._path(clean_key(prefix))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        self._prune_empty_parents(path.parent)

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*key.split("/")) if key else self._root

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        dest = self._path(key)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(dest, fill)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise Conflict(
                f"artifact key {key!r} clashes with an existing file or folder",
                details={"key": key},
            ) from exc

    def _prune_empty_parents(self, folder: Path) -> None:
        # S3 has no empty folders; removing ours keeps listings the same on both stores.
        while folder != self._root and self._root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _atomic_write(dest: Path, fill: Callable[[BinaryIO], object]) -> None:
    tmp = dest.with_name(f"{_TMP_PREFIX}{secrets.token_hex(8)}")
    try:
        # "xb" creates the file with mode 0o666 less the umask, like a plain open() would.
        with open(tmp, "xb") as out:
            fill(out)
            out.flush()
            # Without fsync a crash right after the rename can leave an empty file behind.
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _copy_into(source: Path, out: BinaryIO) -> None:
    with open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1024 * 1024)


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise NotFound(f"local file '{path}' not found", details={"path": str(path)})
    return path


def _not_found(key: str) -> NotFound:
    return NotFound(f"artifact {key!r} not found", details={"key": key})


__all__ = ["LocalArtifactStore", "clean_key"]
