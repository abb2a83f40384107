"""Whose ``X-Forwarded-For`` both servers believe: only the proxies the operator lists.

uvicorn, left to itself, takes the client address from ``X-Forwarded-For`` whenever the peer
is on loopback. Then any local process, or a proxy that passes the header on unchanged, could
pick the address that the per-address login limit counts and the audit log records.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from gnomon.errors import InvalidInput


def proxy_options(forwarded_allow_ips: str | None) -> dict[str, Any]:
    """uvicorn's options for ``--forwarded-allow-ips``: a comma-separated list of addresses
    and networks (or ``*``) whose proxy headers are trusted; none when unset or empty.

    Raises:
        InvalidInput: an entry is neither an IP address, a network nor ``*``.
    """
    entries = [entry.strip() for entry in (forwarded_allow_ips or "").split(",")]
    entries = [entry for entry in entries if entry]
    if not entries:
        return {"proxy_headers": False}
    if "*" in entries:
        return {"proxy_headers": True, "forwarded_allow_ips": "*"}
    for entry in entries:
        _check(entry)
    return {"proxy_headers": True, "forwarded_allow_ips": entries}


def _check(entry: str) -> None:
    # Parsed as uvicorn parses them: it would keep anything else as a literal that matches
    # no peer, silently trusting nobody.
    try:
        if "/" in entry:
            ipaddress.ip_network(entry)
        else:
            ipaddress.ip_address(entry)
    except ValueError as exc:
        raise InvalidInput(
            f"--forwarded-allow-ips entry {entry!r} is not an IP address, a network "
            "(host bits zero, as in 10.0.0.0/8) or '*'",
            details={"forwarded_allow_ips": entry},
        ) from exc


__all__ = ["proxy_options"]
