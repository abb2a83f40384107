"""Attacks on the model server's reading of requests: oversized, wide and deeply nested bodies,
and a large request holding up the others. Each against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pandas as pd
import pytest

from gnomon.artifacts import LocalArtifactStore
from gnomon.modelfolder import LoadedModel
from gnomon.nesting import MAX_BODY_DEPTH
from gnomon.predictions.records import OutcomeWriter
from gnomon.serving import app as serving_app
from gnomon.serving.enforce import Policy
from gnomon.serving.inputs import MAX_ROWS, parse_body
from gnomon.serving.limits import BodyLimits
from gnomon.serving.routing import EXTRA_COLUMNS
from tests.integration.serving.small_server import INPUTS, raw_request, row, serve_small

LIMIT = 4096
SMALL = BodyLimits(body_bytes=LIMIT, other_bytes=256)
BODY_ROUTES = ["/predict", "/invocations", "/outcomes"]


@pytest.fixture
def outcomes(tmp_path: Path) -> OutcomeWriter:
    return OutcomeWriter(LocalArtifactStore(tmp_path), interval=3600)


@pytest.mark.parametrize("path", [*BODY_ROUTES, "/healthz", "/nowhere"])
def test_a_declared_body_over_the_limit_is_413_before_any_of_it_is_read(
    small_model: LoadedModel, outcomes: OutcomeWriter, path: str
) -> None:
    # The body is announced (1 GB) but never sent: only an answer that reads none of it
    # can come back. Before the fix the server waited to buffer it all.
    method = b"POST" if path in BODY_ROUTES else b"GET"
    head = method + b" " + path.encode() + b" HTTP/1.1\r\nContent-Length: 1000000000"
    with serve_small(small_model, outcomes=outcomes, limits=SMALL) as url:
        status, body = raw_request(url, head)
    assert status == 413
    error = orjson.loads(body)["error"]
    assert error["code"] == "payload_too_large" and path in error["message"]
    assert error["details"]["limit"] == (LIMIT if path in BODY_ROUTES else 256)


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_streamed_body_is_cut_off_at_the_limit(
    small_model: LoadedModel, outcomes: OutcomeWriter, path: str
) -> None:
    # Chunked, with no Content-Length: twice the limit is sent and the body never ends, so
    # the 413 proves the server stopped reading at the limit instead of buffering it all.
    chunk = b" " * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(2 * LIMIT // 1024))
    head = b"POST " + path.encode() + b" HTTP/1.1\r\nTransfer-Encoding: chunked"
    with serve_small(small_model, outcomes=outcomes, limits=SMALL) as url:
        status, answer = raw_request(url, head, body)
    assert status == 413
    assert f"over the limit of {LIMIT} bytes" in orjson.loads(answer)["error"]["message"]


def test_a_body_of_exactly_the_limit_is_read(small_model: LoadedModel) -> None:
    body = orjson.dumps([row()])
    body += b" " * (LIMIT - len(body))
    with serve_small(small_model, limits=SMALL) as url:
        fits = httpx.post(url + "/predict", content=body)
        over = httpx.post(url + "/predict", content=body + b" ")
    assert fits.status_code == 200 and len(fits.json()["predictions"]) == 1
    assert over.status_code == 413


def test_a_wide_request_is_refused_naming_its_column_count(small_model: LoadedModel) -> None:
    # The reported attack: a 9 MB record of 500,000 columns, which kept the event loop busy
    # 12-17 s building a frame and listing each unknown column.
    wide = b"{" + b",".join(b'"c%d":0.5' % i for i in range(500_000)) + b"}"
    assert len(wide) > 6_000_000
    with serve_small(small_model) as url:
        response = httpx.post(url + "/predict", content=wide, timeout=60)
        assert httpx.post(url + "/predict", json=[row()]).status_code == 200
    assert response.status_code == 422
    error = response.json()["error"]
    assert "500000 columns" in error["message"]
    assert error["details"] == {"columns": 500_000, "max_columns": len(INPUTS) + EXTRA_COLUMNS}


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/predict", "records"),
        ("/predict", "columns"),
        ("/predict", "split"),
        ("/predict", "csv"),
        ("/invocations", "dataframe_split"),
        ("/invocations", "instances"),
    ],
)
def test_every_body_shape_is_bounded_in_columns(
    small_model: LoadedModel, path: str, shape: str
) -> None:
    names = [f"c{i}" for i in range(2_000)]
    records = [dict.fromkeys(names, 0.5), dict.fromkeys(names, 0.25)]
    bodies: dict[str, dict[str, Any]] = {
        "records": {"json": {"records": records}},
        "columns": {"json": {"columns": {n: [0.5] for n in names}}},
        "split": {"json": {"columns": names, "data": [[0.5] * len(names)]}},
        "csv": {
            "content": ",".join(names) + "\n" + ",".join(["0.5"] * len(names)),
            "headers": {"content-type": "text/csv"},
        },
        "dataframe_split": {
            "json": {"dataframe_split": {"columns": names, "data": [[0.5] * len(names)]}}
        },
        "instances": {"json": {"instances": records}},
    }
    with serve_small(small_model) as url:
        response = httpx.post(url + path, **bodies[shape])
    assert response.status_code == 422
    assert response.json()["error"]["details"]["columns"] == 2_000


def test_records_with_different_keys_are_counted_together(small_model: LoadedModel) -> None:
    # Each record is narrow; together they would make a frame of 2,000 columns.
    records = [{**row(), f"extra{i}": 1.0} for i in range(2_000)]
    with serve_small(small_model, Policy.WARN) as url:
        response = httpx.post(url + "/predict", json={"records": records})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["columns"] == len(INPUTS) + 2_000


def test_the_allowance_lets_a_few_extra_fields_through_under_warn(
    small_model: LoadedModel,
) -> None:
    extras = {f"extra{i}": 1.0 for i in range(EXTRA_COLUMNS)}
    with serve_small(small_model, Policy.WARN) as url:
        allowed = httpx.post(url + "/predict", json=[{**row(), **extras}])
        wider = httpx.post(url + "/predict", json=[{**row(), **extras, "one_more": 1.0}])
    assert allowed.status_code == 200
    assert wider.status_code == 422
    assert wider.json()["error"]["details"]["columns"] == len(INPUTS) + EXTRA_COLUMNS + 1


def test_a_large_request_does_not_hold_up_small_ones(
    small_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parsing is held (as a slow parse of a large body would hold it) until a small request
    # has been answered. Were it on the event loop, the small request could not be answered
    # and would time out.
    parsing, release = threading.Event(), threading.Event()

    def slow_parse(body: bytes, *args: object, **kwargs: object) -> object:
        if len(body) > BodyLimits().inline_bytes:
            parsing.set()
            release.wait(30)
        return parse_body(body, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(serving_app, "parse_body", slow_parse)
    large = orjson.dumps({"records": [row(i / 4000) for i in range(4000)]})
    assert len(large) > BodyLimits().inline_bytes
    with serve_small(small_model) as url, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.post, url + "/predict", content=large, timeout=60)
        assert parsing.wait(30)
        small = httpx.post(url + "/predict", json=[row()], timeout=10)
        large_done_first = pending.done()
        release.set()
        answered = pending.result()
    assert small.status_code == 200 and not large_done_first
    assert answered.status_code == 200 and len(answered.json()["predictions"]) == 4000


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 10, 100_000])
def test_deeply_nested_json_is_400_on_every_body_route(
    small_model: LoadedModel, outcomes: OutcomeWriter, path: str, depth: int
) -> None:
    # 100,000 levels made Python's json fallback raise RecursionError: a 503. Fewer levels
    # parsed, then broke the error response or the record naming the value.
    value = _nested(depth)
    body = {
        "/predict": b'{"records": [{"a": ' + value + b"}]}",
        "/invocations": b'{"instances": [{"a": ' + value + b"}]}",
        "/outcomes": b'{"request_id": "r1", "value": ' + value + b"}",
    }[path]
    with serve_small(small_model, outcomes=outcomes) as url:
        response = httpx.post(url + path, content=body)
        assert httpx.post(url + "/predict", json=[row()]).status_code == 200  # still serving
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert re.search(r"not valid JSON: .*depth|deeper than 64 levels", message), message


def test_violation_labels_stay_bounded(small_model: LoadedModel) -> None:
    # Each unknown column name used to become a series of its own, for the process's life.
    with serve_small(small_model) as url:
        for i in range(50):
            httpx.post(url + "/predict", json=[{**row(), f"probe{i}": 1.0}])
        long_name = "x" * 20_000
        refused = httpx.post(url + "/predict", json=[{**row(), long_name: 1.0}])
        httpx.post(url + "/predict", json=[{**row(), "a": 7.0}])  # a real violation
        httpx.get(url + "/" + "y" * 20_000)
        metrics = httpx.get(url + "/metrics").text
    assert refused.status_code == 422
    series = re.findall(r"^gnomon_contract_violations_total\{(.*)\} (\S+)$", metrics, re.M)
    assert sorted(series) == [
        ('column="<unknown>",problem="unknown_column"', "51.0"),
        ('column="a",problem="above_maximum"', "1.0"),
    ]
    labels = re.findall(r'="((?:[^"\\]|\\.)*)"', metrics)
    assert labels and max(len(value) for value in labels) <= 64


def test_a_body_of_many_rows_is_refused_before_a_frame_is_built(
    small_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reported attack: 10 MB of a million two-value rows kept a worker busy 4 s building
    # a frame before it was refused for having more than 10,000 rows (a fifth of it here).
    body = b'{"data":[' + b",".join([b"[0.5,0.5]"] * 200_000) + b"]}"
    built: list[int] = []
    init = pd.DataFrame.__init__

    def counting(self: pd.DataFrame, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        init(self, *args, **kwargs)

    with serve_small(small_model) as url:
        monkeypatch.setattr(pd.DataFrame, "__init__", counting)
        response = httpx.post(url + "/predict", content=body, timeout=60)
        refused_building = len(built)
        assert httpx.post(url + "/predict", json=[row()]).status_code == 200
    assert response.status_code == 422
    error = response.json()["error"]
    assert f"more than {MAX_ROWS} rows" in error["message"]
    assert error["details"] == {"max_rows": MAX_ROWS}
    assert refused_building == 0, "a frame was built before the rows were counted"
    assert built, "the one-row request built its frame: the counter works"
