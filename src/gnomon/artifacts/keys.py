"""Artifact keys: the one normal form every store writes, and the bounds every store enforces."""

from __future__ import annotations

import re
from pathlib import PureWindowsPath

from gnomon.errors import InvalidInput

# S3 allows object keys of 1024 bytes (UTF-8); Linux and macOS allow 255-byte file names. A key
# within both fits every store, and a path of unbounded length never reaches the filesystem.
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
_SHOWN_CHARS = 80  # how much of a refused key a message repeats


def clean_key(key: str, *, allow_root: bool = False) -> str:
    """Normalise ``key`` to ``a/b/c``; shared by every store so they reject the same keys.

    Raises:
        InvalidInput: the key is absolute, contains a ``..`` segment, is empty where a file
            must be named, is not valid Unicode, is over ``MAX_KEY_BYTES`` in UTF-8, or has
            a segment over ``MAX_SEGMENT_BYTES``.
    """
    segments = re.split(r"[\\/]", key)
    # Backslashes count as separators here so a key cannot climb out of the root on Windows.
    if "\0" in key or key.startswith(("/", "\\")) or PureWindowsPath(key).drive or ".." in segments:
        raise InvalidInput(
            f"artifact key {shown(key)!r} must be relative and must not contain '..'",
            details={"key": shown(key)},
        )
    parts = [part for part in key.split("/") if part not in ("", ".")]
    cleaned = "/".join(parts)
    if not cleaned and not allow_root:
        raise InvalidInput(
            f"artifact key {shown(key)!r} names no file", details={"key": shown(key)}
        )
    _check_size(key, cleaned, parts)
    return cleaned


def join_key(prefix: str, relative: str) -> str:
    """``prefix/relative`` cleaned; ``relative`` alone when ``prefix`` is the root."""
    return clean_key(f"{prefix}/{relative}" if prefix else relative)


def shown(key: str) -> str:
    """``key`` as an error message repeats it: whole when short, its start when long."""
    return key if len(key) <= _SHOWN_CHARS else f"{key[:_SHOWN_CHARS]}..."


def _check_size(key: str, cleaned: str, parts: list[str]) -> None:
    try:
        size = len(cleaned.encode())
    except UnicodeEncodeError as exc:  # a lone surrogate: no file or object name can hold it
        raise InvalidInput(
            f"artifact key {shown(key)!r} is not valid Unicode", details={"key": shown(key)}
        ) from exc
    if size > MAX_KEY_BYTES:
        raise InvalidInput(
            f"artifact key {shown(key)!r} is {size} bytes long; "
            f"keys are at most {MAX_KEY_BYTES} bytes (UTF-8)",
            details={"key": shown(key), "bytes": size, "limit": MAX_KEY_BYTES},
        )
    for part in parts:
        size = len(part.encode())
        if size > MAX_SEGMENT_BYTES:
            raise InvalidInput(
                f"artifact key {shown(key)!r} has a segment of {size} bytes; "
                f"each '/'-separated segment is at most {MAX_SEGMENT_BYTES} bytes (UTF-8)",
                details={"key": shown(key), "bytes": size, "limit": MAX_SEGMENT_BYTES},
            )


__all__ = ["MAX_KEY_BYTES", "MAX_SEGMENT_BYTES", "clean_key", "join_key", "shown"]
