"""Fail in one line, before printing or loading anything, when a server could not listen."""

from __future__ import annotations

import errno
import socket

from gnomon.errors import Conflict, InvalidInput


def check_bindable(host: str, port: int) -> None:
    """Bind ``host``:``port`` the way uvicorn will, then let it go.

    Like asyncio's ``create_server`` under uvicorn: every address the host resolves to, with
    ``SO_REUSEADDR`` (a port in TIME_WAIT is free, one listened on is not) and IPv6 sockets
    kept to IPv6. Port 0 asks the system for any free port and needs no check.

    Raises:
        Conflict: the port is in use.
        InvalidInput: the host does not resolve, is not this machine's, or the port is
            reserved to root.
    """
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidInput(f"cannot listen on {host!r}: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _bind_error(host, port, exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> Conflict | InvalidInput:
    if exc.errno == errno.EADDRINUSE:
        return Conflict(f"port {port} on {host} is already in use (choose another with --port)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return InvalidInput(f"cannot listen on {host}: not an address of this machine")
    return InvalidInput(f"cannot listen on port {port} on {host}: {exc.strerror}")
