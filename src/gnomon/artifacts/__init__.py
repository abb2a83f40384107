"""Artifact storage: files under keys below one root, on a local folder, S3 or a plugin.

Third-party stores register a class under the entry-point group ``gnomon.artifact_stores``,
named by the URI scheme they serve; it is called with the root URI as its only argument.
"""

import functools as _functools
from collections.abc import Callable as _Callable
from importlib import import_module as _import_module
from urllib.parse import urlsplit as _urlsplit

from gnomon.artifacts.local import LocalArtifactStore
from gnomon.artifacts.store import ArtifactInfo, ArtifactStore, ReadinessProbe
from gnomon.errors import InvalidInput

ENTRY_POINT_GROUP = "gnomon.artifact_stores"

# Import strings, so choosing a backend never imports the others (s3fs is slow and optional).
_BUILTIN = {
    "file": "gnomon.artifacts.local:LocalArtifactStore",
    "s3": "gnomon.artifacts.s3:S3ArtifactStore",
}


def open_artifact_store(root: str, *, s3_endpoint_url: str | None = None) -> ArtifactStore:
    """Open the artifact store for ``root``, chosen by its URI scheme.

    Args:
        root: a local folder (a bare path or ``file://`` URI), ``s3://bucket/prefix``, or a URI
            whose scheme a plugin registered under ``gnomon.artifact_stores``.
        s3_endpoint_url: endpoint of S3-compatible storage, used for ``s3://`` roots.

    Returns:
        The store; nothing is read or written until it is used.

    Raises:
        InvalidInput: no store serves the scheme, or the root is malformed for its store.

    Example:
        >>> store = open_artifact_store("s3://models/prod", s3_endpoint_url="http://minio:9000")
    """
    scheme, sep, _ = root.partition("://")
    if not sep:
        return LocalArtifactStore(root)
    scheme = scheme.lower()
    if scheme == "file":
        return LocalArtifactStore(_file_uri_path(root))
    options = {"endpoint_url": s3_endpoint_url} if scheme == "s3" else {}
    return _store_class(scheme)(root, **options)


def _store_class(scheme: str) -> _Callable[..., ArtifactStore]:
    if scheme in _BUILTIN:
        module, _, name = _BUILTIN[scheme].partition(":")
        builtin: _Callable[..., ArtifactStore] = getattr(_import_module(module), name)
        return builtin
    # Imported here: plugins are rare, and importlib.metadata costs every process 30 ms.
    from importlib import metadata as _metadata

    for entry_point in _metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == scheme:
            plugin: _Callable[..., ArtifactStore] = entry_point.load()
            return plugin
    known = sorted({*_BUILTIN, *_metadata.entry_points(group=ENTRY_POINT_GROUP).names})
    raise InvalidInput(
        f"no artifact store for scheme {scheme!r}; known schemes: {', '.join(known)}",
        details={"scheme": scheme},
    )


def _file_uri_path(root: str) -> str:
    from urllib.request import url2pathname  # 15 ms of http.client: only for file:// roots

    parts = _urlsplit(root)
    if parts.netloc not in ("", "localhost"):
        raise InvalidInput(f"file URI {root!r} names a remote host; use a local path")
    return url2pathname(parts.path)


__all__ = [
    "ENTRY_POINT_GROUP",
    "ArtifactInfo",
    "ArtifactStore",
    "LocalArtifactStore",
    "ReadinessProbe",
    "open_artifact_store",
]


@_functools.lru_cache(maxsize=256)
def open_cached(root: str, s3_endpoint_url: str | None) -> ArtifactStore:
    """``open_artifact_store``, one store per root and endpoint per process (stores are
    thread-safe and hold clients worth reusing)."""
    return open_artifact_store(root, s3_endpoint_url=s3_endpoint_url)
