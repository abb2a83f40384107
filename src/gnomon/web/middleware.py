"""ASGI middleware of both servers: request ids, their log context and access line, and
Prometheus metrics.

Body limits are each server's own: ``server/guard.py`` and ``serving/limits.py``.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.logs.context import log_context, new_request_id
from gnomon.web.request_log import log_answer

REQUEST_ID_HEADER = b"x-request-id"
API_PREFIX = "/api/v1"  # the API server's routes: their metric labels keep it
# Methods labelled by name; any other shares one label, whatever the HTTP parser lets through.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


class HttpMetrics:
    """Request counts and latency by route template and status, and requests in flight.

    With several workers, ``/metrics`` sums them all (:mod:`gnomon.web.prometheus`).
    """

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
            "gnomon_http_requests_in_flight",
            "HTTP requests being answered",
            registry=registry,
            multiprocess_mode="livesum",  # with several workers: theirs added, live ones only
        )


class ObservabilityMiddleware:
    """Gives each request an id (honouring X-Request-ID) and a log context holding it, records
    its metrics and logs its answer (:mod:`gnomon.web.request_log`).

    ``workspace`` is the id every request's lines carry (a model server's); the API server
    notes each caller's own once it is admitted.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, workspace: str | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.workspace = workspace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or new_request_id()
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
        with log_context(request_id, workspace=self.workspace):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self.metrics.in_flight.dec()
                seconds = time.perf_counter() - started
                route = _route_template(scope)
                method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(seconds)
                log_answer(scope, status, route, seconds)


def _incoming_id(scope: Scope) -> str | None:
    value = header(scope, REQUEST_ID_HEADER)
    # Echo a client's id only when it is short and printable: it lands in logs.
    if value and len(value) <= 128 and value.isprintable():
        return value
    return None


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded as latin-1."""
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
