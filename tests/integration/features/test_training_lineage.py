"""A training frame built inside a run: the run records the views it read and their
versions, and ``save_as`` keeps the frame as a dataset version made by that run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

import gnomon
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource


def test_a_run_records_the_views_it_read_and_the_frame_is_kept(
    gnomon_home: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    source = pd.DataFrame({"store": [1, 2], "sales": [10.0, 20.0], "event_timestamp": [now] * 2})
    source.to_parquet(tmp_path / "sales.parquet")
    store = Entity("store", ("store",))
    view = FeatureView(
        "store_sales", (store,), FileSource(str(tmp_path / "sales.parquet")), (Field("sales"),)
    )
    client = gnomon.get_client()
    client.feature_registry.apply([store, view])
    client.feature_registry.apply([store, view.__class__(**{**_fields(view), "description": "v2"})])
    asked = pd.DataFrame({"store": [2, 1], "event_timestamp": [now + timedelta(seconds=1)] * 2})
    with gnomon.start_run() as run:
        frame = gnomon.get_training_frame(asked, ["store_sales"], save_as="sales-training")
    assert frame["sales"].tolist() == [20.0, 10.0]
    assert client.get_run(run.id).tags["gnomon.features.store_sales"] == "2"
    version = client.datasets.version("sales-training")
    assert version.run_id == run.id
    assert gnomon.load_dataset("sales-training")["sales"].tolist() == [20.0, 10.0]


def _fields(view: FeatureView) -> dict[str, object]:
    return {name: getattr(view, name) for name in view.__dataclass_fields__}
