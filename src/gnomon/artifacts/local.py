"""The artifact store on a local folder."""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import BinaryIO

from gnomon._private_files import PRIVATE_FILE, make_private_dirs
from gnomon.artifacts import nofollow
from gnomon.artifacts.keys import clean_key, join_key, shown
from gnomon.artifacts.store import UNAVAILABLE, ArtifactInfo
from gnomon.errors import Conflict, InvalidInput, NotFound, Unavailable

logger = logging.getLogger(__name__)

# Temporary files live next to their destination so os.replace stays on one filesystem;
# listings and downloads hide them.
_TMP_PREFIX = ".gnomon-tmp-"  # bulk.TMP_PREFIX too
# What a name the key chose can make the filesystem refuse: the caller's doing, not an outage.
_BAD_NAME = {errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL}


class LocalArtifactStore:
    """Artifacts as files below ``root``; the folder is created on the first write.

    Folders are created 0700 and files 0600: artifacts and prediction records are the
    owner's data, not every local user's. The store holds plain files and folders only: a
    symbolic link or special file found below the root is never followed or served (see
    ``nofollow``); meeting one is an ``InvalidInput`` naming its key. Filesystem failures
    become ``Unavailable`` without the local path, which goes to the log.
    """

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).expanduser().resolve()
        self.root = self._root.as_posix()

    def uri(self, key: str) -> str:
        key = clean_key(key, allow_root=True)
        return self._root.joinpath(*key.split("/")).as_posix() if key else self.root

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
        sources = sorted(p for p in local_dir.rglob("*") if p.is_file())
        # Every key is checked before the first write, so a bad name stores nothing.
        keys = [join_key(prefix, p.relative_to(local_dir).as_posix()) for p in sources]
        for source, key in zip(sources, keys, strict=True):
            self._write(key, partial(_copy_into, source))

    def put_files(
        self, items: Sequence[tuple[Path, str]], on_file: Callable[[int], None] | None = None
    ) -> None:
        """``put_file`` for many files, durable together with one filesystem sync."""
        from gnomon.artifacts import bulk

        cleaned = [(Path(source), clean_key(key)) for source, key in items]
        if not cleaned:
            return
        make_private_dirs(self._root)
        with self._errors(cleaned[0][1]):
            bulk.put_files(self._root, cleaned, on_file)

    def put_bytes(self, data: bytes, key: str) -> None:
        self._write(clean_key(key), lambda out: out.write(data))

    def get_bytes(self, key: str) -> bytes:
        key = clean_key(key)
        with self._errors(key), self._opened(key) as (entry, mode):
            if stat.S_ISREG(mode):
                return nofollow.read_all(entry)
        raise _not_found(key)

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        prefix = clean_key(prefix, allow_root=True)
        with self._errors(prefix):
            try:
                folder = nofollow.open_folder(self._root, _parts(prefix))
            except (FileNotFoundError, NotADirectoryError):
                return []  # absent, or a file: no children
            try:
                entries = nofollow.plain_entries(folder, prefix, _is_tmp)
                infos = [_info(prefix, entry) for entry in entries]
            finally:
                os.close(folder)
        return sorted(infos, key=lambda info: info.path)

    def download(self, key: str, local_dir: Path) -> Path:
        key = clean_key(key)
        dest = Path(local_dir) / key.rsplit("/", 1)[-1]
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._errors(key), self._opened(key) as (entry, mode):
            nofollow.copy_out(entry, mode, dest, key, _is_tmp)
        return dest

    def delete(self, prefix: str) -> None:
        key = clean_key(prefix)
        *parents, name = key.split("/")
        with self._errors(key):
            try:
                folder = nofollow.open_folder(self._root, parents)
            except (FileNotFoundError, NotADirectoryError):
                return
            try:
                nofollow.remove(folder, name)
            finally:
                os.close(folder)
        self._prune_empty(parents)

    def check_ready(self) -> None:
        # A missing root is made by the first write: the nearest folder that exists must allow it.
        existing = next(path for path in (self._root, *self._root.parents) if path.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            logger.warning("artifact root %s cannot be written (at %s)", self._root, existing)
            raise Unavailable(UNAVAILABLE)

    @contextmanager
    def _opened(self, key: str) -> Iterator[tuple[int, int]]:
        *parents, name = key.split("/")
        try:
            folder = nofollow.open_folder(self._root, parents)
            try:
                entry, mode = nofollow.open_entry(folder, name, key)
            finally:
                os.close(folder)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise _not_found(key) from exc
        try:
            yield entry, mode
        finally:
            os.close(entry)

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        *parents, name = key.split("/")
        with self._errors(key):
            try:
                make_private_dirs(self._root)
                folder = nofollow.open_folder(self._root, parents, create=True)
                try:
                    _atomic_write(folder, name, fill)
                finally:
                    os.close(folder)
            except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
                if _is_absolute(exc.filename):
                    raise  # the root itself, not a key: an outage, below
                raise Conflict(
                    f"artifact key {key!r} clashes with an existing file or folder",
                    details={"key": key},
                ) from exc

    def _prune_empty(self, parents: Sequence[str]) -> None:
        # S3 has no empty folders; removing ours keeps listings the same on both stores.
        while parents:
            *above, name = parents
            try:
                folder = nofollow.open_folder(self._root, above)
            except (OSError, nofollow.NotPlain):
                return
            try:
                os.rmdir(name, dir_fd=folder)
            except OSError:
                return
            finally:
                os.close(folder)
            parents = above

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except nofollow.NotPlain as exc:
            raise InvalidInput(
                f"artifact {exc.path!r} is a {exc.kind}; the store holds only files and "
                "folders and never follows links",
                details={"key": exc.path},
            ) from None
        except OSError as exc:
            if not self._is_store_path(exc):
                raise  # the caller's own file (the upload source, the download folder)
            if exc.errno in _BAD_NAME and not _is_absolute(exc.filename):
                raise InvalidInput(  # a name from the key, not the configured root
                    f"artifact key {shown(key)!r} is not a valid file name: {exc.strerror}",
                    details={"key": shown(key)},
                ) from exc
            logger.warning("artifact store %s failed on key %r: %s", self.root, key, exc)
            raise Unavailable(UNAVAILABLE) from exc

    def _is_store_path(self, exc: OSError) -> bool:
        # Below the root, names are relative to descriptors. An absolute path is the root, a
        # folder above it (both ours), or the caller's own file.
        if not _is_absolute(exc.filename):
            return True
        path = Path(exc.filename)
        return path == self._root or path in self._root.parents or self._root in path.parents


def _atomic_write(folder: int, name: str, fill: Callable[[BinaryIO], object]) -> None:
    tmp = f"{_TMP_PREFIX}{secrets.token_hex(8)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(tmp, flags, PRIVATE_FILE, dir_fd=folder)
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(descriptor, PRIVATE_FILE)  # 0600 whatever the umask; os.replace keeps it
            fill(out)
            out.flush()
            # Without fsync a crash right after the rename can leave an empty file behind.
            os.fsync(out.fileno())
        # Renames the name in this folder: a link at ``name`` is replaced, never followed.
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=folder)
        raise


def _copy_into(source: Path, out: BinaryIO) -> None:
    with open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1024 * 1024)


def _info(prefix: str, entry: os.DirEntry[str]) -> ArtifactInfo:
    path = f"{prefix}/{entry.name}" if prefix else entry.name
    if entry.is_dir(follow_symlinks=False):
        return ArtifactInfo(path, True, None)
    return ArtifactInfo(path, False, entry.stat(follow_symlinks=False).st_size)


def _is_absolute(filename: object) -> bool:
    return isinstance(filename, (str, os.PathLike)) and os.path.isabs(filename)


def _parts(key: str) -> list[str]:
    return key.split("/") if key else []


def _is_tmp(name: str) -> bool:
    return name.startswith(_TMP_PREFIX)


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise NotFound(f"local file '{path}' not found", details={"path": str(path)})
    return path


def _not_found(key: str) -> NotFound:
    return NotFound(f"artifact {key!r} not found", details={"key": key})


__all__ = ["LocalArtifactStore", "clean_key"]
