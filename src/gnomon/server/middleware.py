"""ASGI middleware: request ids, Prometheus metrics, and the body size limit."""

from __future__ import annotations

import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.errors import PayloadTooLarge
from gnomon.server.errors import error_response

REQUEST_ID_HEADER = b"x-request-id"
API_PREFIX = "/api/v1"


class HttpMetrics:
    """Request counts and latency by route template and status, and requests in flight."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "gnomon_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "gnomon_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=registry,
        )
        self.in_flight = Gauge(
            "gnomon_http_requests_in_flight", "HTTP requests being answered", registry=registry
        )


class ObservabilityMiddleware:
    """Gives each request an id (honouring X-Request-ID) and records its metrics."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID_HEADER, request_id.encode()))
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.in_flight.dec()
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


class BodyLimitMiddleware:
    """Refuses bodies over ``limit`` bytes with 413, by Content-Length or while streaming.

    File uploads (run artifacts, model imports) have their own, larger ``upload_limit``.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if _is_upload(scope["path"]) else self.limit
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0
        over = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    # Stop reading; whatever the app answers is replaced by the 413 below
                    # (FastAPI would otherwise report a generic body-parsing error).
                    return {"type": "http.disconnect"}
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal replaced
            if not over:
                await send(message)
            elif not replaced and message["type"] == "http.response.start":
                replaced = True
                await _too_large(limit)(scope, _no_body, send)

        await self.app(scope, counting_receive, replacing_send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _is_upload(path: str) -> bool:
    return "/artifacts/" in path or (
        path.startswith(API_PREFIX + "/models/") and path.endswith("/import")
    )


def _too_large(limit: int) -> Any:
    return error_response(PayloadTooLarge(f"request body is over the limit of {limit} bytes"))


def _incoming_id(scope: Scope) -> str | None:
    value = _header(scope, REQUEST_ID_HEADER)
    # Echo a client's id only when it is short and printable: it lands in logs.
    if value and len(value) <= 128 and value.isprintable():
        return value
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths share one label, so scanners cannot blow up the metric's cardinality.
    if not path:
        return "<unmatched>"
    # Routers included under a prefix report their own path: put the prefix back.
    if scope["path"].startswith(API_PREFIX + "/") and not path.startswith(API_PREFIX):
        return API_PREFIX + str(path)
    return str(path)
