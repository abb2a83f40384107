"""`gnomon serve` with JSON logs, as a real process: each answer, errors included, has one
access line under the id the client got back, naming the model version that answered; a
model that fails is one ERROR line with its traceback inside the JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

import gnomon
from tests.fixtures.log_lines import access_line, json_env, json_lines, running
from tests.fixtures.processes import free_port


def _picky_model() -> Any:
    """Answers x > 0, except for rows with x over 100: values no JSON writer knows, so the
    server fails on them (a class defined here, so cloudpickle stores it by value)."""

    class Opaque:
        pass

    class Picky:
        def predict(self, frame: pd.DataFrame) -> Any:
            if (frame["x"] > 100).any():
                return np.array([Opaque() for _ in range(len(frame))], dtype=object)
            return (frame["x"] > 0).astype(int).to_numpy()

    return Picky()


def _register(name: str) -> None:
    frame = pd.DataFrame({"x": [0.5, -1.0, 2.0], "y": [1.0, 0.0, 3.0]})
    with gnomon.start_run():
        uri = gnomon.log_model(_picky_model(), "model", input_example=frame)
    gnomon.register_model(uri, name, alias="production")
    gnomon.flush()


def test_every_model_server_line_is_json(gnomon_home: Path, tmp_path: Path) -> None:
    _register("picky")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = json_env(GNOMON_HOME=str(gnomon_home))
    args = ["serve", "models:/picky@production", "--port", str(port)]
    with (
        running(args, env, tmp_path, f"{url}/healthz") as output,
        httpx.Client(base_url=url) as http,
    ):
        answered = http.post(
            "/predict", json=[{"x": 1.0, "y": 0.0}], headers={"X-Request-ID": "c-1"}
        )
        malformed = http.post(
            "/predict", content=b"{not json", headers={"content-type": "application/json"}
        )
        refused = http.post("/predict", json=[{"x": "text", "y": 0.0}])
        failed = http.post("/predict", json=[{"x": 500.0, "y": 0.0}])
        unrouted = http.get("/nowhere")
    statuses = [r.status_code for r in (answered, malformed, refused, failed, unrouted)]
    assert statuses == [200, 400, 422, 503, 404]

    lines = json_lines(output.stderr, "serve")
    served = access_line(lines, answered)
    assert served["request_id"] == "c-1" and served["object"] == "models/picky/1"
    assert served["workspace"] == "default"
    assert access_line(lines, refused)["object"] == "models/picky/1"
    for response in (malformed, unrouted):
        assert access_line(lines, response)["level"] == "INFO"

    request_id = failed.headers["x-request-id"]
    assert request_id in failed.json()["error"]["message"]  # the client quotes it
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0]["request_id"] == request_id
    assert errors[0]["object"] == "models/picky/1" and errors[0]["logger"] == "gnomon.serving"
    exception = errors[0]["exception"]
    assert exception["type"] == "TypeError" and "Opaque" in exception["message"]
    assert "Traceback (most recent call last):" in exception["stack"]
    assert access_line(lines, failed)["http"]["status"] == 503
