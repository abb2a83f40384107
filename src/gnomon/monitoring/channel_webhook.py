"""Webhook delivery: one POST of the event's JSON, to an address checked before connecting.

The host is resolved here, not by the HTTP client, and the request goes to the address that
was checked (the ``Host`` header and TLS's server name keep the URL's host, so virtual hosts
and certificates work as usual). A name that resolves to a public address when checked and a
private one when connecting (DNS rebinding) therefore cannot reach the private one.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

from gnomon.logs.context import REQUEST_ID_HEADER, current
from gnomon.monitoring.channel_specs import AttemptFailed, WebhookChannel

USER_AGENT = "gnomon-alerts"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def post(channel: WebhookChannel, body: bytes, *, allow_private: bool) -> None:
    """POST ``body`` to the channel's URL; return on a 2xx answer.

    Args:
        allow_private: ``False`` refuses a host that resolves to any loopback, private,
            link-local, multicast or reserved address (a server's guard against requests
            forged into its own network).

    Raises:
        AttemptFailed: no 2xx answer; ``retry`` for network errors and 5xx answers.
    """
    url = httpx.URL(channel.url)
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = resolve(url.raw_host.decode("ascii"), port)
    if not allow_private:
        refuse_private(url.host, addresses)
    context = current()  # the monitor run or request that fired: the receiver may quote it
    headers = {
        **({REQUEST_ID_HEADER: context.request_id} if context is not None else {}),
        **channel.headers,
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    # trust_env=False: no proxy from the environment (it would connect instead of us) and no
    # .netrc credentials added to a request whose host a user chose.
    with httpx.Client(timeout=channel.timeout_s, follow_redirects=False, trust_env=False) as client:
        status = _first_answer(client, url, addresses, body, headers, extensions)
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise AttemptFailed(f"HTTP {status}: redirects are not followed", retry=False)
    raise AttemptFailed(f"HTTP {status}", retry=status >= 500)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order.

    Raises:
        AttemptFailed: the name does not resolve (retried: DNS may be down for a moment).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AttemptFailed(f"cannot resolve host {host!r}: {exc}", retry=True) from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])  # drop a scope id
        if address not in found:
            found.append(address)
    return found


def refuse_private(host: str, addresses: list[IPAddress]) -> None:
    """Raises AttemptFailed (not retried) if any of ``addresses`` is not a public one."""
    for address in addresses:
        kind = private_kind(address)
        if kind:
            raise AttemptFailed(
                f"host {host!r} resolves to {address}, a {kind} address: this server "
                "delivers alerts to public addresses only",
                retry=False,
            )


def private_kind(address: IPAddress) -> str | None:
    """``"loopback"``, ``"private"``, ... for an address no server should post to, else None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # The specific kinds first: Python also counts loopback and link-local as private.
    for kind in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def _first_answer(
    client: httpx.Client,
    url: httpx.URL,
    addresses: list[IPAddress],
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> int:
    """The status of the first address that answers; the next address is tried only when a
    connection could not be made (``localhost`` may resolve to ``::1`` first)."""
    for index, address in enumerate(addresses):
        pinned = url.copy_with(host=str(address))
        try:
            # stream: the status is all we need, so a huge answer body is never read.
            with client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response:
                return response.status_code
        except httpx.ConnectError as exc:
            if index == len(addresses) - 1:
                raise AttemptFailed(f"cannot connect: {exc}", retry=True) from None
        except httpx.TransportError as exc:  # timeouts, a dropped connection, a bad answer
            raise AttemptFailed(f"{type(exc).__name__}: {exc}", retry=True) from None
    raise AttemptFailed("the host resolves to no address", retry=True)
