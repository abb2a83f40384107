"""Pages as HTML: the Jinja2 environment (autoescaped), the security headers every page gets,
and the route class that answers a failure with an error page instead of JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gnomon._types import DEFAULT_WORKSPACE
from gnomon._version import __version__
from gnomon.errors import GnomonError
from gnomon.tracking.html import format_value
from gnomon.ui.session import SESSION_COOKIE, LoginNeeded, Viewer
from gnomon.wire import invalid_request

logger = logging.getLogger("gnomon.ui")

# Scripts and styles from this server only (the chart library included): no inline script,
# no CDN. uPlot sizes its canvas through element.style, which style-src does not govern.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}

templates = Environment(
    loader=PackageLoader("gnomon.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(ms: int | None) -> str:
    """Milliseconds since the epoch as a UTC time a person reads."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def segment(value: Any) -> str:
    """A name as one path segment of a link (``/`` and ``?`` included, encoded)."""
    return quote(str(value), safe="")


# A metric as a person reads it (at most 6 significant digits): as the notebook tables show it.
templates.filters.update(when=when, duration=duration, number=format_value, segment=segment)
templates.globals.update(version=__version__)


def href(viewer: Viewer | None, target: str, **query: Any) -> str:
    """A link on this server: the query (empty values left out) and, outside the default
    workspace, the workspace, so that a copied link opens the same page for someone else."""
    params = {k: v for k, v in query.items() if v not in (None, "", [], ())}
    if viewer is not None and viewer.workspace != DEFAULT_WORKSPACE:
        params.setdefault("workspace", viewer.workspace)
    return f"{target}?{urlencode(params, doseq=True)}" if params else target


def page(
    request: Request, template: str, viewer: Viewer | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` rendered for ``viewer``, with the security headers."""
    html = templates.get_template(template).render(
        request=request,
        viewer=viewer,
        href=lambda target, **q: href(viewer, target, **q),
        **context,
    )
    return HTMLResponse(html, status, headers=HEADERS)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return page(request, "error.html", None, status, title=title, message=message)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/login?" + urlencode({"next": target}), 303, headers=HEADERS)
    if SESSION_COOKIE in request.cookies:  # a dead session: forget it (never one not sent)
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class PageRoute(APIRoute):
    """A UI route: errors become pages with the error's status, never JSON or a traceback;
    a missing or expired session becomes a redirect to the login form."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded:
                if request.method != "GET":
                    return error_page(request, 401, "Not logged in", "Log in and try again.")
                return login_redirect(request)
            except RequestValidationError as exc:
                error = invalid_request(exc.errors())
                return error_page(request, 400, "Bad request", error.message)
            except GnomonError as exc:
                return error_page(request, exc.status, _TITLES.get(exc.status, "Error"), str(exc))
            except Exception:
                logger.exception("page %s failed", request.url.path)
                return error_page(request, 500, "Error", "The page failed; the server logged why.")

        return answer


_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Invalid input",
    413: "Too large",
    429: "Too many attempts",
}
