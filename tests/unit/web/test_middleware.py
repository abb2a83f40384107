"""Request metrics are labelled by method only for the standard methods: whatever method a
client makes up, and an HTTP parser lets through, shares one label, so it cannot add series."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry
from starlette.types import Message, Receive, Scope, Send

from gnomon.web.middleware import METHODS, HttpMetrics, ObservabilityMiddleware

MADE_UP = ["BREW", "get", "PROPFIND", "X" * 200, "M\u00e9THOD", *[f"SCAN{n}" for n in range(100)]]


async def _not_allowed(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 405, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _call(app: ObservabilityMiddleware, method: str) -> int:
    """One raw ASGI request with ``method``; the status answered."""
    scope: Scope = {"type": "http", "method": method, "path": "/x", "headers": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status: int = sent[0]["status"]
    return status


def _method_labels(registry: CollectorRegistry) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == "gnomon_http_requests_total":
                counts[sample.labels["method"]] = sample.value
    return counts


def test_made_up_methods_share_one_label() -> None:
    registry = CollectorRegistry()
    app = ObservabilityMiddleware(_not_allowed, HttpMetrics(registry))
    for method in MADE_UP:
        assert _call(app, method) == 405
    for method in METHODS:
        _call(app, method)
    counts = _method_labels(registry)
    assert counts == {"other": len(MADE_UP)} | {method: 1.0 for method in METHODS}
