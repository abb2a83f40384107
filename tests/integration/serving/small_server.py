"""A small model served in-process, for the model server's limit and acceptance tests."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from gnomon.models import LoadedModel, load_model, save_model
from gnomon.serving.app import ServedModel, create_serving_app
from gnomon.serving.enforce import Policy
from tests.fixtures.server import run_uvicorn

INPUTS = ["a", "b", "c", "d"]


def save_small_model(folder: str) -> LoadedModel:
    """A linear regression on four float columns in [0, 1], saved and loaded as a folder."""
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame(np.random.default_rng(0).uniform(0, 1, (50, 4)), columns=INPUTS)
    save_model(LinearRegression().fit(frame, frame.sum(axis=1)), folder, input_example=frame)
    return load_model(folder)


@contextmanager
def serve_small(
    model: LoadedModel, policy: Policy = Policy.REJECT, **app_options: Any
) -> Iterator[str]:
    """``model`` behind a real uvicorn on 127.0.0.1, unbatched; yields the base URL."""
    served = ServedModel(model, "small", 1, "models:/small/1", "small-api", policy, None)
    with run_uvicorn(create_serving_app(served, **app_options), lifespan="on") as url:
        yield url


def row(value: float = 0.5) -> dict[str, float]:
    return dict.fromkeys(INPUTS, value)


def raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers) then ``body`` on a socket of its own and read
    the answer, which may come before the body is finished (or without it ever being sent)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head + b"\r\nHost: 127.0.0.1\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()
