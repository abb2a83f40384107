"""How deeply lists and objects nest in a parsed JSON value.

Depth is bounded wherever client JSON is accepted: orjson writes at most 255 levels, so a
deeper value accepted by a server would later fail the error response naming it or the
Parquet file recording it; and Python's ``json`` raises ``RecursionError`` past about 1,000.
"""

from __future__ import annotations

from typing import Any, Final

MAX_BODY_DEPTH: Final = 64  # levels in a whole model-server request body


def deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests lists, tuples and dicts more than ``limit`` levels deep
    (a scalar is 0, ``[1]`` is 1, ``{"a": [1]}`` is 2).

    Level by level rather than recursively, so a deep value cannot exhaust the stack, and
    each value is looked at once: the cost is that of one pass over the value.
    """
    level: list[Any] = [value] if isinstance(value, list | tuple | dict) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        children: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            children.extend(v for v in items if isinstance(v, list | tuple | dict))
        level = children
    return False


def brackets_at_most(body: bytes, limit: int) -> bool:
    """Whether ``body`` (JSON text) opens at most ``limit`` lists and objects in all, which
    bounds its depth without parsing it: one-row requests skip the walk of :func:`deeper_than`.
    """
    return body.count(b"[") + body.count(b"{") <= limit


__all__ = ["MAX_BODY_DEPTH", "brackets_at_most", "deeper_than"]
