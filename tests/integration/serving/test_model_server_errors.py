"""An unexpected exception in the model server is answered with the 503 error body and the
request id, and the client keeps its keep-alive connection (uvicorn drops it when an
exception escapes the app). Against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from gnomon.artifacts import LocalArtifactStore
from gnomon.modelfolder import LoadedModel
from gnomon.predictions.reading import read_records
from gnomon.predictions.records import RecordWriter
from gnomon.serving import answering
from tests.integration.serving.small_server import row, serve_small


class Secret:
    """A value no JSON writer knows; its text must never reach a client."""

    def __repr__(self) -> str:
        return "secret internals: /etc/gnomon.conf"


def _fail(*_: Any, **__: Any) -> Any:
    raise RuntimeError("secret internals: /etc/gnomon.conf")


class BrokenRecords(RecordWriter):
    def submit_request(self, *args: Any, **kwargs: Any) -> None:
        _fail()


@contextmanager
def _failing(
    where: str, model: LoadedModel, tmp_path: Path, patch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A server whose predict path fails unexpectedly in ``where``; yields its base URL."""
    options: dict[str, Any] = {}
    if where == "answer":  # the model answers with values that cannot be written as JSON
        patch.setattr(model, "predict", lambda frame: np.array([Secret()] * len(frame)))
    elif where == "check":  # checking the input against the contract fails
        patch.setattr(answering, "enforce", _fail)
    else:  # handing the answer to the prediction records fails
        options["records"] = BrokenRecords(LocalArtifactStore(tmp_path), interval=3600)
    with serve_small(model, **options) as url:
        yield url


def _port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


@pytest.mark.parametrize("where", ["answer", "check", "record"])
def test_an_unexpected_error_is_a_503_and_keeps_the_connection(
    small_model: LoadedModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    # The reported attack: a lone surrogate in a /predict body failed deep in the server; the
    # 503 went out without x-request-id and the exception then escaped, so uvicorn closed the
    # keep-alive connection. Any unexpected failure does the same: here, three of them.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with (
        _failing(where, small_model, tmp_path, monkeypatch) as url,
        httpx.Client(base_url=url, limits=limits) as http,
    ):
        ports = [_port(http.get("/healthz"))]
        with caplog.at_level(logging.ERROR, logger="gnomon.serving"):
            failed = http.post("/predict", json=[row()], headers={"X-Request-ID": "req-503"})
        ports.append(_port(failed))
        after = http.get("/healthz")
        ports.append(_port(after))
    assert failed.status_code == 503
    assert failed.headers["x-request-id"] == "req-503"
    error = failed.json()["error"]
    assert error["code"] == "unavailable" and error["request_id"] == "req-503"
    assert error["message"] == "internal error; quote request id req-503"
    assert "secret" not in failed.text and "Traceback" not in failed.text
    logged = [r for r in caplog.records if r.exc_info and "req-503" in r.getMessage()]
    assert logged, "the error was not logged with its traceback"
    assert after.status_code == 200
    assert ports[0] == ports[1] == ports[2], "the connection was not reused"


def test_an_answer_the_model_fails_is_recorded_without_outputs(
    small_model: LoadedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rollout counts each arm's failures from the records (as a failed shadow's are): a
    # failed answer of a live arm must be there too, with no outputs.
    monkeypatch.setattr(small_model, "predict", _fail)
    store = LocalArtifactStore(tmp_path)
    with serve_small(small_model, records=RecordWriter(store, interval=3600)) as url:
        failed = httpx.post(
            f"{url}/predict", json=[row(), row(0.2)], headers={"X-Request-ID": "req-failed"}
        )
    assert failed.status_code == 503
    found = read_records(store)  # written when the server stopped
    assert list(found["request_id"]) == ["req-failed:0", "req-failed:1"]
    assert list(found["outputs"]) == [None, None]
    assert set(found["role"]) == {"primary"} and found["inputs"][1]["a"] == 0.2
