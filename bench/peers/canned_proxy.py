"""A proxy that answers each (method, path) with the first answer the real server gave.

Pointing MLflow's client at it measures the client's own cost per call, with a server that
takes no time: the floor under any server's figure through that client, and so the largest
ratio a server can show through it (MLflow's server figure over this floor).

Runs inside the MLflow peer venv next to the peer scripts; standard library only.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as MLflow's pooled session expects
    disable_nagle_algorithm = True  # headers and body go as two writes: no 40 ms ACK stall
    upstream = ""
    answers: ClassVar[dict[tuple[str, str], tuple[int, str, bytes]]] = {}

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = (self.command, self.path.split("?", 1)[0])
        if key not in self.answers:
            self.answers[key] = self._forward(body)
        status, content_type, payload = self.answers[key]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes) -> tuple[int, str, bytes]:
        request = urllib.request.Request(
            self.upstream + self.path,
            data=body if self.command != "GET" else None,
            method=self.command,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.headers.get("Content-Type", ""), answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers.get("Content-Type", ""), refused.read()

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def canned(upstream: str) -> Iterator[str]:
    """The proxy's URL while the block runs; first answers come from ``upstream``."""
    handler = type("Handler", (_Handler,), {"upstream": upstream.rstrip("/"), "answers": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
