"""The one HTTP transport every remote client uses: auth header, workspace, retries, errors,
and the wire helpers each client would otherwise repeat (request bodies from ``schemas.py``
models, answers parsed into them, escaped path segments)."""

from __future__ import annotations

import copy
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from gnomon._types import Page
from gnomon.errors import GnomonError, InvalidInput, Unavailable, from_payload
from gnomon.logs.context import REQUEST_ID_HEADER, current
from gnomon.wire import PageOut, invalid_request

API_PREFIX = "/api/v1"
RETRY_STATUSES = frozenset({502, 503, 504})
WORKSPACE_HEADER = "X-Gnomon-Workspace"

P = ParamSpec("P")
M = TypeVar("M", bound=BaseModel)


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
        self.workspace: str | None = None  # set on a view from in_workspace()
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

    def in_workspace(self, workspace: str | None) -> Transport:
        """This transport acting in ``workspace`` (``None``: its own) unless a call names
        another; it shares the connection pool, so closing either closes both."""
        if workspace is None:
            return self
        view = copy.copy(self)
        view.workspace = workspace
        return view

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

        ``json`` is a JSON value or a request model of ``schemas.py`` (sent whole, nulls
        included: a required field may be null). ``workspace`` overrides the transport's
        default workspace for this call.
        """
        if isinstance(json, BaseModel):
            json = json.model_dump(mode="json")
        headers = self._headers(headers, workspace)
        response = self._send(
            method, path, json=json, params=params, content=content, headers=headers
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def one(
        self,
        method: str,
        path: str,
        out: type[M],
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        workspace: str | None = None,
    ) -> M:
        """Send a request (as :meth:`request`) and parse the answer as the wire model ``out``."""
        answer = self.request(
            method,
            path,
            json=json,
            params=params,
            content=content,
            headers=headers,
            workspace=workspace,
        )
        return _parsed(out, answer, f"{method} {path}")

    def page(
        self,
        path: str,
        item: type[M],
        *,
        params: Mapping[str, Any] | None = None,
        workspace: str | None = None,
    ) -> Page[M]:
        """``GET`` one page of a listing (a ``PageOut``), its items parsed as ``item``."""
        where = f"GET {path}"
        answer = _parsed(
            PageOut[Any], self.request("GET", path, params=params, workspace=workspace), where
        )
        items = [_parsed(item, value, where) for value in answer.items]
        return Page(items, answer.next_page_token)

    def many(
        self,
        method: str,
        path: str,
        item: type[M],
        *,
        params: Mapping[str, Any] | None = None,
        workspace: str | None = None,
    ) -> list[M]:
        """Send a request whose answer is a JSON list, each item parsed as ``item``."""
        where = f"{method} {path}"
        answer = self.request(method, path, params=params, workspace=workspace)
        if not isinstance(answer, list):
            raise _mismatch(where, "the answer is not a list")
        return [_parsed(item, value, where) for value in answer]

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        workspace: str | None = None,
    ) -> Iterator[httpx.Response]:
        """A streamed response (downloads); errors are raised before the body is read. A
        connection lost on the way, before or while the caller reads the body, is
        ``Unavailable``, as for every other call (not retried: part may have been used)."""
        headers = self._headers(None, workspace)
        try:
            with self._http.stream(
                method, path, params=_clean(params), headers=headers
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                yield response
        except httpx.TransportError as exc:
            message = f"lost the gnomon server {self.base_url} during a download: {exc}"
            raise Unavailable(message, {"transient": True}) from exc

    def upload(self, path: str, local_file: Path, workspace: str | None = None) -> Any:
        """Stream a file as the request body (not retried: the body is consumed once)."""
        headers = self._headers(None, workspace)
        with open(local_file, "rb") as body:
            response = self._send("PUT", path, content=body, headers=headers, retry=False)
        return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()

    def _headers(
        self, headers: Mapping[str, str] | None, workspace: str | None
    ) -> dict[str, str] | None:
        headers = _with_workspace(headers, self.workspace if workspace is None else workspace)
        context = current()
        if context is None:
            return headers
        # Sent from a request or worker step: the server's log lines carry the same id.
        return {REQUEST_ID_HEADER: context.request_id, **(headers or {})}

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


def body(model: Callable[P, M], /, *args: P.args, **kwargs: P.kwargs) -> M:
    """A request model of ``schemas.py``, checked here as the server would check it: a value
    it refuses is the ``InvalidInput`` the server would answer (422, naming the field),
    raised before anything is sent."""
    try:
        return model(*args, **kwargs)
    except ValidationError as exc:
        raise invalid_request(exc.errors()) from None


def segment(value: str) -> str:
    """``value`` as one path segment: every '/', '%', '?', '#' and space escaped.

    Raises:
        InvalidInput: ``.`` or ``..``, which URL normalisation would turn into another path.
    """
    _no_dots(value)
    return quote(value, safe="")


def key_path(key: str) -> str:
    """``key`` for a ``{key:path}`` route: escaped, its '/' kept as separators.

    Raises:
        InvalidInput: a ``.`` or ``..`` segment, which would name another path.
    """
    for part in key.split("/"):
        _no_dots(part)
    return quote(key, safe="/")


def _no_dots(value: str) -> None:
    if value in (".", ".."):
        raise InvalidInput(f"{value!r} cannot name anything: it is a relative path step")


def _parsed(model: type[M], answer: Any, where: str) -> M:
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        raise _mismatch(where, exc.errors()[0]["msg"]) from None


def _mismatch(where: str, problem: str) -> GnomonError:
    return GnomonError(
        f"the server's answer to {where} is not what this client reads "
        f"(a version mismatch?): {problem}"
    )


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
