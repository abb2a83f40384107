"""A model served with ``--feature-service`` answers requests that carry only entity keys:
the server adds the service's online values before the contract check and the prediction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest

import gnomon
from gnomon.config import Settings
from gnomon.features.definitions import Entity, FeatureService, FeatureView, Field, FileSource
from gnomon.serving.loading import ServeOptions, build_app
from tests.fixtures.registry import register_churn_versions
from tests.fixtures.server import run_uvicorn


@pytest.fixture
def served(gnomon_home: Path, tmp_path: Path) -> Iterator[str]:
    """``churn`` (answers x > 0) served over a feature service whose view holds x and y for
    customers 1 (x = 2) and 2 (x = -2), materialised."""
    register_churn_versions(60)
    now = datetime.now(UTC)
    rows = pd.DataFrame(
        {
            "customer_id": [1, 2, 1],
            "x": [-5.0, -2.0, 2.0],  # customer 1's newest x is 2.0
            "y": [0.0, 0.1, 0.2],
            "event_timestamp": [now - timedelta(hours=2), now - timedelta(hours=1), now],
        }
    )
    rows.to_parquet(tmp_path / "customers.parquet")
    customer = Entity("customer", ("customer_id",))
    view = FeatureView(
        "customer_xy",
        (customer,),
        FileSource(str(tmp_path / "customers.parquet")),
        (Field("x"), Field("y")),
        ttl=timedelta(days=1),
    )
    client = gnomon.get_client()
    client.feature_registry.apply(
        [customer, view, FeatureService("churn_inputs", ("customer_xy",))]
    )
    client.features.materialize(progress=False)
    options = ServeOptions("models:/churn/1", records=False, feature_service="churn_inputs")
    with run_uvicorn(build_app(options, Settings()), lifespan="on") as url:
        yield url


def test_a_request_with_only_entity_ids_is_answered_from_online_features(served: str) -> None:
    answer = httpx.post(f"{served}/predict", json=[{"customer_id": 1}, {"customer_id": 2}])
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == [1, 0]  # x = 2.0 > 0, x = -2.0 is not
    metrics = httpx.get(f"{served}/metrics").text
    age = [line for line in metrics.splitlines() if line.startswith("gnomon_feature_age_seconds{")]
    assert age and 'view="customer_xy"' in age[0]
    assert 0 <= float(age[0].split()[-1]) < 3600  # the newest value found is fresh


def test_a_request_without_the_entity_key_is_refused_naming_it(served: str) -> None:
    answer = httpx.post(f"{served}/predict", json=[{"account": 1}])
    assert answer.status_code in (400, 422)
    assert "customer_id" in answer.json()["error"]["message"]


def test_an_unknown_entity_has_no_features_and_the_contract_refuses_it(served: str) -> None:
    answer = httpx.post(f"{served}/predict", json=[{"customer_id": 404}])
    assert answer.status_code in (400, 422)
    assert "x" in answer.json()["error"]["message"]


def test_the_service_is_resolved_at_start_so_requests_read_no_definitions(served: str) -> None:
    # pruned after the start: the running server still answers as it was started
    gnomon.get_client().feature_registry.apply([], prune=True, force=True)
    answer = httpx.post(f"{served}/predict", json=[{"customer_id": 1}])
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == [1]
