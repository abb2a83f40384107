"""The server's edge: what is decided before the app reads a byte of a request body.

``RequestGuard`` finds the route a request is for, authenticates the caller and checks the
route's access level (its role in the request's workspace included) unless the route is
public, and holds the body to the route's declared limit. FastAPI parses a JSON body before
it runs any dependency, so without the guard an anonymous caller, or one without the role,
could make the server read and parse a body as large as the limit before ``require()``
refused it. Public routes that take a body must declare :func:`small_body`: anyone can call
them, so they never get the large limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from re import Pattern
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.errors import GnomonError, PayloadTooLarge
from gnomon.server.access import Access, admit, route_access
from gnomon.web.errors import error_response
from gnomon.web.middleware import header

BODY_KIND = "x-gnomon-body"  # the OpenAPI extension a route declares its body kind with
SMALL_BODY_LIMIT = 64 * 1024  # the body limit of public routes (login): anyone may send one


def upload_body(media_type: str) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is a file upload (the large limit), not JSON."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {BODY_KIND: "upload", "requestBody": {"required": True, "content": content}}


def small_body() -> dict[str, Any]:
    """``openapi_extra`` of a route whose JSON body is held to ``SMALL_BODY_LIMIT`` (at most
    ``GNOMON_MAX_BODY_BYTES``); every public route with a body declares it."""
    return {BODY_KIND: "small"}


def body_kind(route: APIRoute) -> str:
    """``upload``, ``small`` or ``json``: what a route declares its body to be."""
    kind = str((route.openapi_extra or {}).get(BODY_KIND))
    return kind if kind in ("upload", "small") else "json"


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One mounted route, as the guard and the OpenAPI document see it."""

    route: APIRoute
    path: str  # the full path template, converters included (/runs/{run_id}/artifacts/{path:path})
    pattern: Pattern[str]
    access: Access | None  # None: the route declares no single level (treated as non-public)

    @property
    def takes_body(self) -> bool:
        return body_kind(self.route) == "upload" or self.route.body_field is not None


class RouteTable:
    """Every route of the mounted routers, matched in the order the app matches them."""

    def __init__(self, mounted: Iterable[tuple[str, APIRouter]]) -> None:
        self.rules: list[RouteRule] = []
        for prefix, router in mounted:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    path = prefix + route.path
                    pattern = compile_path(path)[0]
                    rule = RouteRule(route, path, pattern, route_access(route))
                    _check_public_body(rule)
                    self.rules.append(rule)

    def find(self, method: str, path: str) -> RouteRule | None:
        for rule in self.rules:
            if method in (rule.route.methods or ()) and rule.pattern.match(path):
                return rule
        return None  # the app answers 404 or 405 without reading the body


def _check_public_body(rule: RouteRule) -> None:
    # Refused when the app is built, so a public route cannot take the large limits by default.
    if rule.access is Access.PUBLIC and rule.takes_body and body_kind(rule.route) != "small":
        raise TypeError(
            f"public route {rule.path!r} takes a body: declare openapi_extra=small_body()"
        )


class RequestGuard:
    """Authenticates and checks the route's access level before the body is read, then
    refuses bodies over the route's limit with 413, by ``Content-Length`` or while streaming.

    JSON routes get ``limit``; the routes that declare :func:`upload_body` get
    ``upload_limit``, those that declare :func:`small_body` the smaller of ``limit`` and
    ``SMALL_BODY_LIMIT``. The path itself never decides: a path parameter can hold any text.
    """

    def __init__(self, app: ASGIApp, table: RouteTable, limit: int, upload_limit: int) -> None:
        self.app = app
        self.table = table
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.table.find(scope["method"], scope["path"])
        if rule is not None and rule.access is not Access.PUBLIC:
            refused = await _admit(scope, rule.access)
            if refused is not None:
                await error_response(refused)(scope, receive, send)
                return
        limit = self._limit(rule.route if rule else None)
        declared = header(scope, b"content-length")
        # isascii: "²" (latin-1 0xB2) passes isdigit() but not int().
        too_large = (
            declared is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > limit
        )
        if rule is not None and rule.takes_body and too_large:
            await _too_large(limit)(scope, receive, send)
            return
        await self._limited(scope, receive, send, limit)

    def _limit(self, route: Any) -> int:
        kind = body_kind(route) if isinstance(route, APIRoute) else "json"
        if kind == "upload":
            return self.upload_limit
        return min(self.limit, SMALL_BODY_LIMIT) if kind == "small" else self.limit

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = 0
        over = replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, over, limit
            if seen == 0:  # the app has chosen its route by now: its declaration decides
                limit = self._limit(scope.get("route")) if "route" in scope else limit
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

        try:
            await self.app(scope, counting_receive, replacing_send)
        except Exception:
            if not over:
                raise
            # The app failed on its cut-off body (a route streaming it sees a disconnect).
        if over and not replaced:
            await _too_large(limit)(scope, _no_body, send)


async def _admit(scope: Scope, access: Access | None) -> GnomonError | None:
    """Authenticate the bearer token and check ``access`` (database lookups, on one worker
    thread hop); ``require()`` reuses the answer. Returns the refusal instead of raising it."""
    try:
        await run_in_threadpool(admit, Request(scope), access)
    except GnomonError as error:
        return error
    return None


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _too_large(limit: int) -> Any:
    return error_response(PayloadTooLarge(f"request body is over the limit of {limit} bytes"))
