"""The error body every gnomon server writes: ``{"error": {"code", "message", "details"}}``,
never a traceback.

Each server decides what an unexpected exception becomes (the API server a 500, the model
server a 503) and logs it; both write the answer here.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import Response

from gnomon.errors import GnomonError


def error_response(
    error: GnomonError, status: int | None = None, *, request_id: str | None = None
) -> Response:
    """``error`` as JSON, with ``status`` (default: the error's own) and ``Retry-After`` when
    the error says when to come back; ``request_id`` is added to the body when given."""
    payload = error.to_payload()
    if request_id is not None:
        payload["error"]["request_id"] = request_id
    retry = error.details.get("retry_after")
    retry_known = isinstance(retry, int) and not isinstance(retry, bool)
    headers = {"retry-after": str(retry)} if retry_known else None
    return Response(_encoded(payload), status or error.status, headers, "application/json")


def _encoded(payload: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(payload, default=str)
    except TypeError:  # a lone surrogate or an integer beyond 64 bits in the message or details
        safe = _encodable(payload)
        return json.dumps(safe, default=str, ensure_ascii=False, separators=(",", ":")).encode()


def _encodable(value: Any) -> Any:
    """``value`` with every string encodable as UTF-8: a lone surrogate (from a client's
    JSON escape or a non-UTF-8 file name) is written as ``\\udXXX`` instead of crashing the
    handler that reports the error."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


__all__ = ["error_response"]
