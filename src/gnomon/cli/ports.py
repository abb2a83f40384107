"""Fail in one line, before printing or loading anything, when a server could not listen."""

from __future__ import annotations

import errno
import socket

from gnomon.errors import Conflict, InvalidInput


def check_bindable(host: str, port: int, workers: int = 1) -> None:
    """Bind ``host``:``port`` exactly as uvicorn will with ``workers``, then let it go.

    One worker: uvicorn serves through asyncio's ``create_server``, which binds every
    address the host resolves to, with ``SO_REUSEADDR`` (a port in TIME_WAIT is free, one
    listened on is not) and IPv6 sockets kept to IPv6. Several: uvicorn's
    ``Config.bind_socket`` binds one socket its workers share, IPv6 when the host holds a
    ``:``, else IPv4, with ``SO_REUSEADDR`` and the system's dual-stack default, so ``::``
    also takes the IPv4 port. Port 0 asks the system for any free port and needs no check.

    Raises:
        Conflict: the port is in use.
        InvalidInput: the host does not resolve, is not this machine's, or the port is
            reserved to root.
    """
    if port == 0:
        return
    if workers > 1:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        _bind(host, port, family, (host, port), v6_only=False)
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise _unresolved(host, exc) from None
    for family, _, _, _, address in addresses:
        _bind(host, port, family, address, v6_only=family == socket.AF_INET6)


def _bind(host: str, port: int, family: int, address: tuple[object, ...], *, v6_only: bool) -> None:
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6_only:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind(address)
        except socket.gaierror as exc:  # bind_socket resolves the host itself
            raise _unresolved(host, exc) from None
        except OSError as exc:
            raise _bind_error(host, port, exc) from None


def _unresolved(host: str, exc: socket.gaierror) -> InvalidInput:
    return InvalidInput(f"cannot listen on {host!r}: {exc.strerror}")


def _bind_error(host: str, port: int, exc: OSError) -> Conflict | InvalidInput:
    if exc.errno == errno.EADDRINUSE:
        return Conflict(f"port {port} on {host} is already in use (choose another with --port)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return InvalidInput(f"cannot listen on {host}: not an address of this machine")
    return InvalidInput(f"cannot listen on port {port} on {host}: {exc.strerror}")
