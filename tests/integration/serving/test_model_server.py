"""The model server against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.artifacts import LocalArtifactStore
from gnomon.predictions.reading import read_records
from gnomon.predictions.records import RecordWriter
from gnomon.serving.app import ServedModel, create_serving_app
from gnomon.serving.batching import BatchConfig
from gnomon.serving.enforce import Policy
from tests.fixtures.server import run_uvicorn
from tests.fixtures.workers import scraped


@pytest.fixture(scope="module")
def training() -> tuple[pd.DataFrame, object]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "hour": rng.integers(0, 24, 300),
            "amount": rng.uniform(1.0, 500.0, 300),
            "city": rng.choice(["lyon", "oslo", "pune"], 300),
        }
    )
    label = ((frame["hour"] > 12) ^ (frame["city"] == "oslo")).astype(int)
    encode = ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")
    model = make_pipeline(encode, RandomForestClassifier(n_estimators=20, random_state=0))
    return frame, model.fit(frame, label)


def _served(training, home: Path, policy: Policy = Policy.REJECT, batching=None) -> ServedModel:  # type: ignore[no-untyped-def]
    frame, model = training
    with gnomon.start_run():
        uri = gnomon.log_model(model, "model", input_example=frame)
    version = gnomon.register_model(uri, "fraud", alias="production")
    loaded = gnomon.load_model("models:/fraud@production")
    return ServedModel(
        loaded, "fraud", version.version, "models:/fraud@production", "fraud-api", policy, batching
    )


@pytest.fixture
def server(gnomon_home: Path, training, tmp_path: Path) -> Iterator[tuple[str, LocalArtifactStore]]:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path / "serving")
    app = create_serving_app(_served(training, gnomon_home), RecordWriter(store, interval=0.05))
    with run_uvicorn(app, lifespan="on") as url:
        yield url, store


def _post(url: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(url + path, **kwargs)


def test_every_input_format_gives_the_model_answer(server, training) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    frame, model = training
    rows = frame.head(4)
    expected = model.predict(rows).tolist()
    records = rows.to_dict(orient="records")
    columns = {c: rows[c].tolist() for c in rows.columns}
    bodies = {
        "/predict": [
            {"json": {"records": records}},
            {"json": {"columns": columns}},
            {"json": {"data": rows.to_numpy().tolist()}},
            {"json": records},
            {"content": rows.to_csv(index=False), "headers": {"content-type": "text/csv"}},
        ],
        "/invocations": [
            {
                "json": {
                    "dataframe_split": {
                        "columns": list(rows.columns),
                        "data": rows.to_numpy().tolist(),
                    }
                }
            },
            {"json": {"dataframe_records": records}},
            {"json": {"instances": records}},
            {"json": {"inputs": columns}},
        ],
    }
    for path, variants in bodies.items():
        for body in variants:
            response = _post(url, path, **body)
            assert response.status_code == 200, (path, body, response.text)
            assert response.json()["predictions"] == expected
            assert response.headers["x-model-version"] == "1"


def test_contract_violations_are_422_listing_every_problem(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    bad = [
        {"hour": 77, "amount": 10.0, "city": "lyon"},
        {"hour": 3, "amount": "lots", "city": "paris"},
        {"hour": 1.5, "amount": None, "city": "oslo"},
    ]
    response = _post(url, "/predict", json={"records": bad})
    assert response.status_code == 422
    found = {
        (v["row"], v["column"], v["problem"])
        for v in response.json()["error"]["details"]["violations"]
    }
    assert found == {
        (0, "hour", "above_maximum"),
        (1, "amount", "wrong_type"),
        (1, "city", "unseen_category"),
        (2, "hour", "wrong_type"),
        (2, "amount", "null"),
    }
    missing = _post(url, "/predict", json={"records": [{"hour": 3, "amount": 1.0}]})
    assert missing.status_code == 422 and "city" in missing.text


def test_bad_requests(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    malformed = _post(
        url, "/predict", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_input"
    assert _post(url, "/predict", json={"wrong": 1}).status_code == 422
    assert httpx.get(url + "/nowhere").status_code == 404
    assert httpx.get(url + "/predict").status_code == 405


def test_request_ids_schema_and_metrics(server) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    response = _post(
        url,
        "/predict",
        json=[{"hour": 5, "amount": 9.5, "city": "pune"}],
        headers={"x-request-id": "req-42"},
    )
    assert (
        response.headers["x-request-id"] == "req-42" and response.json()["request_id"] == "req-42"
    )
    schema = httpx.get(url + "/schema").json()
    assert schema["version"] == 1 and [c["name"] for c in schema["contract"]["inputs"]] == [
        "hour",
        "amount",
        "city",
    ]
    _post(url, "/predict", json=[{"hour": 99, "amount": 9.5, "city": "pune"}])
    metrics = httpx.get(url + "/metrics").text
    assert 'gnomon_predictions_total{model="fraud",role="primary",version="1"} 1.0' in metrics
    # One request answered (the second was refused): one observation of its predict time.
    primary = {"model": "fraud", "version": "1", "role": "primary"}
    assert scraped(url + "/metrics", "gnomon_prediction_seconds_count", primary) == 1
    assert (
        scraped(url + "/metrics", "gnomon_prediction_seconds_bucket", {**primary, "le": "10.0"})
        == 1
    )
    assert 'gnomon_contract_violations_total{column="hour",problem="above_maximum"} 1.0' in metrics
    assert httpx.get(url + "/readyz").json()["status"] == "ready"


def test_concurrent_requests_each_get_their_own_answer(
    gnomon_home: Path, training, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    frame, model = training
    served = _served(training, gnomon_home, batching=BatchConfig(max_rows=16, max_wait_ms=5))
    app = create_serving_app(served, None)
    rows = frame.head(64)
    expected = model.predict_proba(rows)[:, 1]
    with run_uvicorn(app, lifespan="on") as url, ThreadPoolExecutor(16) as pool:

        def one(i: int) -> float:
            body = {"records": [rows.iloc[i].to_dict()]}
            return float(httpx.post(url + "/predict", json=body).json()["predictions"][0])

        answers = list(pool.map(one, range(64)))
    assert answers == model.predict(rows).tolist()
    assert len(expected) == 64


def test_records_are_written_and_complete_after_shutdown(
    gnomon_home: Path, training, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path / "serving")
    writer = RecordWriter(store, interval=30)  # nothing is written before shutdown
    app = create_serving_app(_served(training, gnomon_home), writer)
    ids = []
    with run_uvicorn(app, lifespan="on") as url:
        for i in range(5):
            body = {"records": [{"hour": i, "amount": 10.0 + i, "city": "lyon"}]}
            ids.append(httpx.post(url + "/predict", json=body).json()["request_id"])
    records = read_records(store)
    assert sorted(records["request_id"]) == sorted(ids)
    assert set(records["deployment"]) == {"fraud-api"} and set(records["model_version"]) == {1}
    assert records["inputs"].iloc[0]["city"] == "lyon"


def test_warn_policy_predicts_and_records_the_violation(
    gnomon_home: Path, training, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = LocalArtifactStore(tmp_path / "serving")
    app = create_serving_app(
        _served(training, gnomon_home, Policy.WARN), RecordWriter(store, interval=30)
    )
    with run_uvicorn(app, lifespan="on") as url:
        response = httpx.post(url + "/predict", json=[{"hour": 30, "amount": 5.0, "city": "oslo"}])
        assert response.status_code == 200
    (violations,) = read_records(store)["violations"]
    assert violations[0]["column"] == "hour"


def test_outcomes_join_to_predictions(gnomon_home: Path, training, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gnomon.predictions.reading import join_outcomes, read_outcomes
    from gnomon.predictions.records import OutcomeWriter

    store = LocalArtifactStore(tmp_path / "serving")
    app = create_serving_app(
        _served(training, gnomon_home),
        RecordWriter(store, interval=30),
        OutcomeWriter(store, interval=30),
    )
    with run_uvicorn(app, lifespan="on") as url:
        first = httpx.post(
            url + "/predict", json=[{"hour": 1, "amount": 2.0, "city": "oslo"}]
        ).json()
        second = httpx.post(
            url + "/predict", json=[{"hour": 2, "amount": 3.0, "city": "pune"}]
        ).json()
        accepted = httpx.post(
            url + "/outcomes", json={"request_id": first["request_id"], "value": 1}
        )
        assert accepted.status_code == 202 and accepted.json() == {"accepted": 1}
        batch = {"outcomes": [{"request_id": second["request_id"], "value": 0}]}
        assert httpx.post(url + "/outcomes", json=batch).status_code == 202
        assert httpx.post(url + "/outcomes", json={"value": 1}).status_code == 422
        assert httpx.post(url + "/outcomes", content=b"{").status_code == 400
    joined = join_outcomes(read_records(store), read_outcomes(store))
    truth = dict(zip(joined["request_id"], joined["outcome"], strict=True))
    assert truth == {first["request_id"]: 1, second["request_id"]: 0}
