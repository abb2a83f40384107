"""The one HTTP transport every remote store uses: auth header, workspace, retries, errors."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from gnomon.errors import GnomonError, InvalidInput, Unavailable, from_payload

API_PREFIX = "/api/v1"
RETRY_STATUSES = frozenset({502, 503, 504})
WORKSPACE_HEADER = "X-Gnomon-Workspace"


class Transport:
    """JSON over HTTP(S) to a gnomon server.

    Retries with exponential backoff on connection errors and 502/503/504, never on a 4xx. A
    server error body becomes the same ``GnomonError`` subclass the server raised.

    What callers that retry longer (the SDK's log buffer) may rely on: an unreachable server
    is ``Unavailable`` (with ``details["transient"] = False`` when retrying cannot help, as
    for a refused certificate), and a 429 carries ``details["retry_after"]`` in seconds.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        workspace: str = "default",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.2,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        headers = {WORKSPACE_HEADER: workspace, "User-Agent": "gnomon-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        verify: Any = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
        # Small requests must not wait on Nagle + delayed ACK (tens of ms per call).
        transport = http_transport or httpx.HTTPTransport(
            verify=verify, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        workspace: str | None = None,
    ) -> Any:
        """Send a request and return the decoded JSON body (``None`` for 204).

        ``workspace`` overrides the transport's default workspace for this call.
        """
        headers = _with_workspace(headers, workspace)
        response = self._send(
            method, path, json=json, params=params, content=content, headers=headers
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        workspace: str | None = None,
    ) -> Iterator[httpx.Response]:
        """A streamed response (downloads); errors are raised before the body is read."""
        headers = _with_workspace(None, workspace)
        with self._http.stream(method, path, params=_clean(params), headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            yield response

    def upload(self, path: str, local_file: Path, workspace: str | None = None) -> Any:
        """Stream a file as the request body (not retried: the body is consumed once)."""
        headers = _with_workspace(None, workspace)
        with open(local_file, "rb") as body:
            response = self._send("PUT", path, content=body, headers=headers, retry=False)
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> httpx.Response:
        kwargs["params"] = _clean(kwargs.get("params"))
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # A certificate the client refuses will not become valid by retrying.
                refused = "CERTIFICATE_VERIFY_FAILED" in str(exc)
                if last or refused:
                    message = f"cannot reach gnomon server {self.base_url}: {exc}"
                    raise Unavailable(message, {"transient": not refused}) from exc
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    if response.status_code >= 400:
                        raise _error(response)
                    return response
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def _with_workspace(
    headers: Mapping[str, str] | None, workspace: str | None
) -> dict[str, str] | None:
    if workspace is None:
        return dict(headers) if headers else None
    return {**(headers or {}), WORKSPACE_HEADER: workspace}


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _error(response: httpx.Response) -> GnomonError:
    error = _decoded(response)
    if response.status_code == 429:  # "come back later", whatever class the body names
        error.details.setdefault("retry_after", _retry_after(response))
    return error


def _decoded(response: httpx.Response) -> GnomonError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return from_payload(payload)
    if response.status_code == 429:
        return Unavailable(f"gnomon server {response.url.host} answered 429 (too many requests)")
    if response.status_code == 413:
        from gnomon.errors import PayloadTooLarge

        return PayloadTooLarge(f"the server refused the body as too large ({response.status_code})")
    if response.status_code >= 500:
        return Unavailable(f"gnomon server answered {response.status_code}")
    return InvalidInput(f"gnomon server answered {response.status_code}: {response.text[:200]}")


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a ``Retry-After`` header (an HTTP date counts as 1 s); 1 s if absent."""
    try:
        return max(float(response.headers.get("retry-after", "1")), 0.0)
    except ValueError:
        return 1.0
