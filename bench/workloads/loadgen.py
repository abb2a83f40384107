"""A bounded closed-loop HTTP load generator for W3: ``connections`` keep-alive connections on
loopback, each sending one request, waiting for its answer, then sending the next, for a fixed
duration. Plain asyncio streams with hand-written HTTP/1.1 (a few tens of microseconds of client
CPU per request, against ~0.5 ms for httpx), so the client is not the bottleneck on 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

READ_TIMEOUT_S = 30.0


@dataclass(slots=True)
class Load:
    """What the connections measured: latencies (ms) of good answers, error count, bodies."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    answers: dict[int, bytes] = field(default_factory=dict)  # body index -> first answer
    first: float = 0.0
    last: float = 0.0

    def fail(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        elapsed = max(self.last - self.first, 1e-9)
        ordered = sorted(self.latencies_ms)
        p99 = ordered[min(done - 1, int(done * 0.99))] if done else None
        return {
            "requests_per_s": round(done / elapsed, 1) if done else 0.0,
            "p50_ms": round(statistics.median(ordered), 2) if done else None,
            "p99_ms": round(p99, 2) if p99 is not None else None,
            "errors": self.errors,
            "requests": done,
            "measured_s": round(elapsed, 2),
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    raise ValueError("response without a length")


def _request(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("latin-1") + body


async def _connection(
    index: int,
    url: str,
    bodies: Sequence[bytes],
    warm_until: float,
    stop_at: float,
    load: Load,
) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [_request(f"{host}:{port}", parts.path, body) for body in bodies]
    position = (index * len(bodies)) // 16 % len(bodies)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while (now := time.perf_counter()) < stop_at:
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            writer.write(requests[position])
            status, body = await asyncio.wait_for(_read_response(reader), READ_TIMEOUT_S)
            finished = time.perf_counter()
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError) as exc:
            if now >= warm_until:
                load.fail(type(exc).__name__)
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        if started >= warm_until and finished <= stop_at:
            if status == 200:
                load.latencies_ms.append((finished - started) * 1000)
                load.last = max(load.last, finished)
                load.answers.setdefault(position, body)
            else:
                load.fail(f"http {status}")
        position = (position + 1) % len(bodies)
    if writer is not None:
        writer.close()


async def _run(
    url: str, bodies: Sequence[bytes], connections: int, duration_s: float, warmup_s: float
) -> Load:
    load = Load()
    start = time.perf_counter()
    load.first = start + warmup_s
    load.last = load.first
    warm_until, stop_at = start + warmup_s, start + warmup_s + duration_s
    await asyncio.gather(
        *(_connection(i, url, bodies, warm_until, stop_at, load) for i in range(connections))
    )
    return load


def run(
    url: str,
    bodies: Sequence[bytes],
    *,
    connections: int = 16,
    duration_s: float = 20.0,
    warmup_s: float = 2.0,
) -> Load:
    """POST ``bodies`` in turn to ``url`` from ``connections`` closed loops: ``warmup_s``
    unmeasured, then ``duration_s`` measured (requests started and answered in that window)."""
    return asyncio.run(_run(url, bodies, connections, duration_s, warmup_s))


def predictions(body: bytes) -> list[Any]:
    """The ``predictions`` list of a JSON answer (gnomon, MLflow and the floor all use it)."""
    payload = json.loads(body)
    values = payload["predictions"] if isinstance(payload, dict) else payload
    return list(values)
