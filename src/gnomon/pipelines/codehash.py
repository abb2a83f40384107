"""What makes a step's code and declared environment part of its cache key."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import xxhash


def code_hash(fn: Callable[..., Any]) -> str:
    """A hash of the function's source (its bytecode where the source is not available)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        source = repr((code.co_code, code.co_consts)) if code is not None else repr(fn)
    return xxhash.xxh3_64_hexdigest(f"{fn.__module__}:{fn.__qualname__}\n{source}".encode())


def environment(packages: Sequence[str]) -> dict[str, str]:
    """The installed version of each declared package (``"absent"`` when it is not installed)."""
    from importlib import metadata  # here: it costs 40 ms to import, most steps declare none

    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


__all__ = ["code_hash", "environment"]
