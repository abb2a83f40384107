"""A small model for the model server tests: served in-process, or registered for `gnomon serve`."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from gnomon.modelfolder import LoadedModel, load_folder, save_model
from gnomon.serving.app import ServedModel, create_serving_app
from gnomon.serving.enforce import Policy
from tests.fixtures.server import run_uvicorn

INPUTS = ["a", "b", "c", "d"]


def save_small_model(folder: str) -> LoadedModel:
    """A linear regression on four float columns in [0, 1], saved and loaded as a folder."""
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame(np.random.default_rng(0).uniform(0, 1, (50, 4)), columns=INPUTS)
    save_model(LinearRegression().fit(frame, frame.sum(axis=1)), folder, input_example=frame)
    return load_folder(folder)


@contextmanager
def serve_small(
    model: LoadedModel, policy: Policy = Policy.REJECT, **app_options: Any
) -> Iterator[str]:
    """``model`` behind a real uvicorn on 127.0.0.1, unbatched; yields the base URL."""
    served = ServedModel(model, "small", 1, "models:/small/1", "small-api", policy, None)
    with run_uvicorn(create_serving_app(served, **app_options), lifespan="on") as url:
        yield url


def register_classifier(name: str) -> None:
    """A logistic regression on columns x and y (1 when x > 0), logged in a run and
    registered as ``name`` with the alias ``production``: what `gnomon serve` tests serve."""
    from sklearn.linear_model import LogisticRegression

    import gnomon

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    model = LogisticRegression().fit(frame, (frame["x"] > 0).astype(int))
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    gnomon.register_model(uri, name, alias="production")
    gnomon.flush()


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
