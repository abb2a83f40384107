"""The UI's form posts: origin and CSRF checked and size bounded before the body is read,
then parsed as ``application/x-www-form-urlencoded`` (the only kind the pages send)."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from gnomon.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from gnomon.ui.session import Viewer, viewer

FORM_LIMIT = 16 * 1024  # a login or an alias: a few short fields
MAX_FIELDS = 32


def check_origin(request: Request) -> None:
    """A browser sends ``Origin`` with every POST: it must name this server.

    Raises:
        PermissionDenied: the form was posted from another site.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-site post (those always carry Origin)
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise PermissionDenied(f"form posted from another site ({origin[:100]})")


async def read_form(request: Request, limit: int = FORM_LIMIT) -> dict[str, str]:
    """The posted fields (the last value of a repeated one).

    Raises:
        PayloadTooLarge: the body is over ``limit`` bytes, by its header or as it streams.
        InvalidInput: it is not a URL-encoded form, or has too many fields.
    """
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidInput("expected a form (application/x-www-form-urlencoded)")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"form is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"form is over the limit of {limit} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"unreadable form: {exc}") from None
    return dict(pairs)


def check_csrf(fields: dict[str, str], expected: str) -> None:
    """Raises ``PermissionDenied`` unless the form carries the session's CSRF token."""
    if not hmac.compare_digest(fields.get("csrf", "").encode(), expected.encode()):
        raise PermissionDenied("the form has expired or was not sent by this page; reload it")


async def editor_form(request: Request) -> tuple[Viewer, dict[str, str]]:
    """An editor's posted form: the viewer is found before the body is read (an anonymous
    post reads nothing), then origin, form, CSRF token and role are checked.

    Raises:
        LoginNeeded, PermissionDenied, PayloadTooLarge, InvalidInput: as the checks above.
    """
    current = await run_in_threadpool(viewer, request)
    check_origin(request)
    fields = await read_form(request)
    check_csrf(fields, current.csrf)
    current.require_editor()
    return current, fields


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this server, else ``default``: a redirect after login
    never leads to another site (``//evil``, ``/\\evil`` and schemes are refused)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 for c in target) or len(target) > 2000:
        return default
    return target
