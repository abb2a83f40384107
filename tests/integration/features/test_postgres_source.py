"""A feature view over a PostgreSQL query: read in chunks, joined point in time, and
materialised like any other source."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

import gnomon
from gnomon.features.definitions import Entity, FeatureView, Field, PostgresSource


def test_a_postgres_query_is_a_source(gnomon_home: Path, postgres_uri: str) -> None:
    import psycopg

    uri = postgres_uri.replace("postgresql+psycopg://", "postgresql://")
    table = f"accounts_{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (account_id bigint, balance double precision, "
            "event_timestamp timestamptz)"
        )
        rows = [(1, 10.0, now - timedelta(days=2)), (1, 15.0, now), (2, 7.0, now)]
        with conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", rows)
    account = Entity("account", ("account_id",))
    view = FeatureView(
        "balances",
        (account,),
        PostgresSource(uri, f"SELECT account_id, balance, event_timestamp FROM {table}"),
        (Field("balance"),),
    )
    client = gnomon.get_client()
    client.feature_registry.apply([account, view])
    asked = pd.DataFrame(
        {"account_id": [1, 1, 2], "event_timestamp": [now - timedelta(days=1), now, now]}
    )
    frame = gnomon.get_training_frame(asked, ["balances"])
    assert frame["balance"].tolist() == [10.0, 15.0, 7.0]
    client.features.materialize(progress=False)
    online = gnomon.get_online_features({"account_id": [2, 1]}, ["balances:balance"])
    assert online["balance"] == [7.0, 15.0]
