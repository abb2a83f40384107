"""HttpObjects: step outputs kept by a gnomon server, as the runner and its workers see them.

A worker process opens them from an ``ObjectsAddress`` (``gnomon+https://server``) with its
own settings: the token comes from ``GNOMON_TOKEN`` or the saved login of that machine, never
from the address, which is pickled to every worker. Every object read is checked against its
digest here too; the server never decodes one.
"""

from __future__ import annotations

from pathlib import Path

from gnomon._private_files import make_private_dirs
from gnomon.client.transport import Transport, body
from gnomon.errors import NotFound
from gnomon.pipelines.objects import LocalObjects, _check, digest_of, verified
from gnomon.pipelines.schemas import MissingAsk, MissingOut, ObjectAsk

ASK_FIRST_BYTES = 1 << 20  # an output this large is only sent when the server lacks it


class HttpObjects:
    def __init__(self, server: str, workspace: str, transport: Transport | None = None) -> None:
        from gnomon.config import Settings

        settings = Settings()
        if transport is None:
            from gnomon.client.credentials import token_for

            transport = Transport(
                server,
                token=settings.token or token_for(settings.home, server),
                workspace=workspace,
                ca_bundle=settings.ca_bundle,
                backoff=settings.retry_backoff_seconds,
            )
        self.transport = transport
        self.cache_root = Path(settings.home) / "pipeline-objects"
        self.known: set[tuple[str, int]] = set()  # stored on the server: objects never change

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        if (digest, len(data)) in self.known:
            return digest
        if len(data) < ASK_FIRST_BYTES or not self.exists(digest, len(data)):
            headers = {"Content-Type": "application/octet-stream"}
            self.transport.request("PUT", _path(digest), content=data, headers=headers)
        self.known.add((digest, len(data)))
        return digest

    def put_fresh(self, data: bytes) -> tuple[str, bool]:
        return self.put(data), False  # the server's other clients may have stored it

    def get(self, digest: str) -> bytes:
        with self.transport.stream("GET", _path(_check(digest))) as response:
            data = response.read()
        verified(digest, data)
        self.known.add((digest, len(data)))
        return data

    def exists(self, digest: str, size: int) -> bool:
        try:
            _check(digest)
        except NotFound:
            return False
        if (digest, size) in self.known:
            return True
        ask = body(MissingAsk, objects=[body(ObjectAsk, digest=digest, size=size)])
        answer = self.transport.one("POST", "/pipeline-objects/missing", MissingOut, json=ask)
        if answer.missing:
            return False
        self.known.add((digest, size))
        return True

    def local_file(self, digest: str) -> Path:
        make_private_dirs(self.cache_root)
        local = LocalObjects(self.cache_root)
        if not local.has(digest):
            local.put(self.get(digest))
        return local.path(digest)

    def sync(self) -> None:
        return None  # the server stored each object durably before it answered


def _path(digest: str) -> str:
    return f"/pipeline-objects/{digest}"


__all__ = ["HttpObjects"]
