"""``MlflowErrorShape``: errors on MLflow's paths carry MLflow's fields too.

MLflow's client reads a failed call's ``error_code`` and ``message`` (it takes
``RESOURCE_DOES_NOT_EXIST`` from ``get-by-name`` to mean "create it"). gnomon's error body is
``{"error": {...}}``; on MLflow's paths this adds the two top-level fields MLflow reads,
whoever wrote the error (a route, the request guard, the error boundary).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MLFLOW_PATHS = ("/api/2.0/mlflow", "/api/3.0/mlflow")  # -artifacts too
MAX_ERROR_BODY = 256 * 1024  # an error body larger than this is passed on untouched

# gnomon's error codes as MLflow's (its databricks_pb2.ErrorCode names).
CODES = {
    "not_found": "RESOURCE_DOES_NOT_EXIST",
    "already_exists": "RESOURCE_ALREADY_EXISTS",
    "invalid_input": "INVALID_PARAMETER_VALUE",
    "conflict": "INVALID_STATE",
    "unauthenticated": "UNAUTHENTICATED",
    "permission_denied": "PERMISSION_DENIED",
    "payload_too_large": "REQUEST_LIMIT_EXCEEDED",
    "rate_limited": "REQUEST_LIMIT_EXCEEDED",
    "unavailable": "TEMPORARILY_UNAVAILABLE",
}


def mlflow_error(body: bytes) -> bytes:
    """``body`` with ``error_code`` and ``message`` added, when it is gnomon's error."""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return body
    code = str(error.get("code", ""))
    payload["error_code"] = CODES.get(code, "INTERNAL_ERROR")
    if code == "not_found" and str(error.get("message", "")).startswith("no route"):
        payload["error_code"] = "ENDPOINT_NOT_FOUND"
    payload["message"] = error.get("message", "")
    return orjson.dumps(payload)


class MlflowErrorShape:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(MLFLOW_PATHS):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def reshaping_send(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                    return
                start = message  # held until the whole (small) error body is here
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if message.get("more_body", False) and size <= MAX_ERROR_BODY:
                return
            body = b"".join(chunks)
            if not message.get("more_body", False):
                body = mlflow_error(body)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            if not message.get("more_body", False):
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            start = None
            await send({"type": "http.response.body", "body": body, **_more(message)})

        await self.app(scope, receive, reshaping_send)


def _more(message: Message) -> dict[str, Any]:
    return {"more_body": True} if message.get("more_body", False) else {}
