"""One log line per answered request, for both servers, and what a request is about.

The line is ``gnomon.access``'s at level info (``GNOMON_LOG_LEVEL=info``); a successful health
probe or ``/metrics`` scrape at debug, so that probes every few seconds do not bury the rest.
It is written inside the request's log context, so it carries the request id, and the user,
workspace and object once the server has learnt them.
"""

from __future__ import annotations

import logging

from starlette.types import Scope

access_logger = logging.getLogger("gnomon.access")
PROBES = frozenset({"/healthz", "/readyz", "/metrics", "/ping", "/health"})
MAX_OBJECT = 300  # characters: an artifact path may be long


def log_answer(scope: Scope, status: int, route: str, seconds: float) -> None:
    """The access line of a request answered with ``status`` after ``seconds``; ``route`` is
    its route template (as the metrics label it)."""
    path = scope["path"]
    level = logging.DEBUG if path in PROBES and status < 400 else logging.INFO
    if not access_logger.isEnabledFor(level):
        return
    shown = path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
    client = scope.get("client")
    milliseconds = round(seconds * 1000, 3)
    http = {
        "method": scope["method"],
        "path": shown,  # without the query string, where secrets are sometimes put
        "route": route,
        "status": status,
        "duration_ms": milliseconds,
        "client": client[0] if client else None,
    }
    access_logger.log(
        level,
        "%s %s %d %.1f ms",
        scope["method"],
        shown,
        status,
        milliseconds,
        extra={"http": http},
    )


def object_of(scope: Scope) -> str | None:
    """What a routed request is about: the collection its path names before the first
    parameter, then each parameter's value (``runs/3f2a``, ``models/churn/versions/3`` is
    ``models/churn/3``); None before routing or for a route without parameters."""
    params = scope.get("path_params")
    template = getattr(scope.get("route"), "path", None)
    if not params or not isinstance(template, str):
        return None
    segments = template.strip("/").split("/")
    first = next((i for i, part in enumerate(segments) if part.startswith("{")), 0)
    kind = segments[first - 1] if first > 0 else ""
    named = "/".join([kind, *(str(value) for value in params.values())])
    return named[:MAX_OBJECT]


__all__ = ["PROBES", "log_answer", "object_of"]
