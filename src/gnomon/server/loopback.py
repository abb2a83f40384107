"""Under ``--no-auth`` (and ``gnomon ui``) every caller is an administrator, trusted for
reaching a loopback port. A web page of another site whose domain is re-pointed at 127.0.0.1
(DNS rebinding) reaches it too, as the same origin; only the ``Host`` it must send tells it
apart. So such a server answers only requests addressed to a loopback name."""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from gnomon.errors import InvalidInput
from gnomon.web.errors import error_response
from gnomon.web.middleware import header


def is_loopback(host: str) -> bool:
    """Whether an address to bind (``localhost``, ``127.x``, ``::1``) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_name(host: str) -> bool:
    """Whether a ``Host`` header names this machine: ``localhost``, ``127.x``, ``[::1]``."""
    if host.startswith("["):  # [::1] or [::1]:port
        name = host[1 : host.find("]")] if "]" in host else ""
    else:  # name or name:port (a bare IPv6 address has several colons)
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return is_loopback(name.lower())


class LoopbackHostOnly:
    """Refuses (400) an HTTP request whose ``Host`` is not a loopback name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not loopback_name(header(scope, b"host") or ""):
            refused = InvalidInput(
                "this server has no login and answers only to a loopback address "
                "(http://127.0.0.1:PORT or http://localhost:PORT)"
            )
            await error_response(refused, 400)(scope, receive, send)
            return
        await self.app(scope, receive, send)
