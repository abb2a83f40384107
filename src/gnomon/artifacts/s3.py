"""The artifact store on S3 or an S3-compatible service (MinIO, Ceph, moto), through s3fs.

Writes need no temporary object: a PUT, and the completion of a multipart upload, replace the
object in one step, so a reader sees the old object or the whole new one.
"""

from __future__ import annotations

import builtins
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gnomon.artifacts.keys import MAX_KEY_BYTES, clean_key, join_key, shown
from gnomon.artifacts.store import UNAVAILABLE, ArtifactInfo
from gnomon.errors import InvalidInput, NotFound, Unavailable

logger = logging.getLogger(__name__)
_MIN_PART_SIZE = 5 * 2**20  # S3 rejects smaller parts, except the last one
_MAX_PARTS = 10_000


class S3ArtifactStore:
    """Artifacts as objects below ``s3://bucket/prefix``.

    Errors that reach a caller never name the bucket, the prefix or the endpoint (a missing
    bucket or an unreachable endpoint is ``Unavailable``); those go to the log.

    Args:
        root: ``s3://bucket`` or ``s3://bucket/prefix``.
        endpoint_url: endpoint of S3-compatible storage; ``None`` means AWS.
        part_size: bytes per multipart-upload part; files of two parts or more are uploaded in
            parts. ``None`` keeps s3fs's default (50 MiB).

    Raises:
        InvalidInput: the root is not an ``s3://`` URI, or s3fs is not installed.
    """

    def __init__(
        self, root: str, endpoint_url: str | None = None, *, part_size: int | None = None
    ) -> None:
        bucket, prefix = _split_root(root)
        if part_size is not None and part_size < _MIN_PART_SIZE:
            raise InvalidInput(f"part_size {part_size} is below S3's minimum of {_MIN_PART_SIZE}")
        self.root = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self._bucket = bucket
        self._base = f"{bucket}/{prefix}" if prefix else bucket
        self._endpoint = endpoint_url or "AWS S3"
        self._part_size = part_size
        self._fs, self._unreachable = _filesystem(endpoint_url)

    def uri(self, key: str) -> str:
        return f"s3://{self._path(clean_key(key, allow_root=True))}"

    def put_file(self, local_path: Path, key: str) -> None:
        local_path = Path(local_path)
        if not local_path.is_file():
            raise NotFound(
                f"local file '{local_path}' not found", details={"path": str(local_path)}
            )
        path = self._path(clean_key(key))
        with self._errors():
            self._fs.put_file(str(local_path), path, **self._upload_kw(local_path.stat().st_size))

    def put_dir(self, local_dir: Path, prefix: str) -> None:
        local_dir = Path(local_dir)
        if not local_dir.is_dir():
            raise NotFound(
                f"local folder '{local_dir}' not found", details={"path": str(local_dir)}
            )
        prefix = clean_key(prefix, allow_root=True)
        sources = sorted(p for p in local_dir.rglob("*") if p.is_file())
        if not sources:
            return
        # Every key is checked before the first upload, so a bad name stores nothing.
        paths = [self._path(join_key(prefix, p.relative_to(local_dir).as_posix())) for p in sources]
        largest = max(p.stat().st_size for p in sources)
        with self._errors():
            # One call so s3fs uploads the files concurrently.
            self._fs.put([str(p) for p in sources], paths, **self._upload_kw(largest))

    def put_bytes(self, data: bytes, key: str) -> None:
        path = self._path(clean_key(key))
        with self._errors():
            self._fs.pipe_file(path, data, **self._upload_kw(len(data)))

    def get_bytes(self, key: str) -> bytes:
        key = clean_key(key)
        with self._errors(_not_found(key)):
            data: bytes = self._fs.cat_file(self._path(key))
        return data

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        prefix = clean_key(prefix, allow_root=True)
        try:
            with self._errors(_not_found(prefix)):
                entries = self._fs.ls(self._path(prefix), detail=True)
        except NotFound:
            return []
        infos: dict[str, ArtifactInfo] = {}
        for entry in entries:
            path = self._key_of(entry["name"])
            # s3fs lists a file key as the file itself, and folder markers as their own child.
            if path == prefix:
                continue
            is_dir = entry["type"] == "directory"
            infos[path] = ArtifactInfo(path, is_dir, None if is_dir else int(entry["size"]))
        return sorted(infos.values(), key=lambda info: info.path)

    def download(self, key: str, local_dir: Path) -> Path:
        key = clean_key(key)
        found = self._find(key)
        if not found:
            raise _not_found(key)
        dest = Path(local_dir) / key.rsplit("/", 1)[-1]
        path = self._path(key)
        if found == [path]:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with self._errors(_not_found(key)):
                self._fs.get_file(path, str(dest))
            return dest
        # clean_key refuses a stored name with '..' that would land outside local_dir.
        local = [str(dest.joinpath(*clean_key(name[len(path) + 1 :]).split("/"))) for name in found]
        with self._errors(_not_found(key)):
            self._fs.get(found, local)
        return dest

    def delete(self, prefix: str) -> None:
        found = self._find(clean_key(prefix))
        if found:
            with self._errors(_not_found(prefix)):
                self._fs.rm(found)

    # builtins.list: inside this class body, plain ``list`` is the method above.
    def _find(self, key: str) -> builtins.list[str]:
        """Object names below ``key``, or ``[key]`` when it is a file; ``[]`` when absent."""
        try:
            with self._errors(_not_found(key)):
                names: builtins.list[str] = self._fs.find(self._path(key))
        except NotFound:
            return []
        return [name for name in names if not name.endswith("/")]

    def check_ready(self) -> None:
        """Raises ``Unavailable`` unless the bucket exists and these credentials may use it
        (one HEAD request)."""
        with self._errors():
            self._fs.info(self._bucket)

    def _path(self, key: str) -> str:
        path = f"{self._base}/{key}" if key else self._base
        size = len(path.encode()) - len(self._bucket) - 1
        if size > MAX_KEY_BYTES:  # below the root's own prefix, a shorter key may not fit
            raise InvalidInput(
                f"artifact key {shown(key)!r} makes an S3 object key of {size} bytes; "
                f"S3 allows {MAX_KEY_BYTES}",
                details={"key": shown(key), "bytes": size, "limit": MAX_KEY_BYTES},
            )
        return path

    def _key_of(self, name: str) -> str:
        return name.rstrip("/")[len(self._base) + 1 :]

    def _upload_kw(self, size: int) -> dict[str, Any]:
        if self._part_size is None:
            return {}
        return {"chunksize": max(self._part_size, math.ceil(size / _MAX_PARTS))}

    @contextmanager
    def _errors(self, missing: NotFound | None = None) -> Iterator[None]:
        """Translate s3fs errors; ``missing`` is raised when S3 answers 404, which without one
        (a write) means the bucket is missing."""
        try:
            yield
        except FileNotFoundError as exc:
            if missing is not None:
                raise missing from exc
            logger.warning("artifact store %s on %s: no such bucket", self.root, self._endpoint)
            raise Unavailable(UNAVAILABLE) from exc
        except self._unreachable as exc:
            logger.warning(
                "artifact store %s on %s cannot be used: %s", self.root, self._endpoint, exc
            )
            raise Unavailable(UNAVAILABLE) from exc


def _split_root(root: str) -> tuple[str, str]:
    parts = urlsplit(root)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidInput(f"S3 artifact root {root!r} must look like s3://bucket/prefix")
    return parts.netloc, clean_key(parts.path.lstrip("/"), allow_root=True)


def _filesystem(endpoint_url: str | None) -> tuple[Any, tuple[type[BaseException], ...]]:
    try:
        import s3fs
        from botocore import exceptions as boto
    except ImportError as exc:
        raise InvalidInput(
            "S3 artifact storage needs the s3 extra: pip install 'gnomon[s3]'"
        ) from exc
    client_kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    # Other processes write the same prefix, so no listing cached here can be trusted: s3fs
    # would otherwise answer ls/info from its cache, which it never expires, and that cache is
    # shared by every S3FileSystem built with the same arguments.
    fs = s3fs.S3FileSystem(client_kwargs=client_kwargs, use_listings_cache=False)
    # OSError covers PermissionError (how s3fs reports refused credentials: a backend problem,
    # not a gnomon permission), ConnectionError, TimeoutError, and the plain OSError s3fs
    # raises for an S3 error it has no Python class for (SlowDown, InternalError...).
    unreachable = (boto.ConnectionError, boto.HTTPClientError, boto.NoCredentialsError, OSError)
    return fs, unreachable


def _not_found(key: str) -> NotFound:
    return NotFound(f"artifact {key!r} not found", details={"key": key})


__all__ = ["S3ArtifactStore"]
