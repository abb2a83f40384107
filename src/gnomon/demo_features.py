"""The demo's feature store: the tumour measurements as a feature view keyed by patient, a
point-in-time training frame, materialisation, and the production model answering requests
that carry only a patient id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

import gnomon

ENTITY = "patient"
VIEW = "tumour_measures"
SERVICE = "demo-classifier-inputs"
ASKED = 3  # patients asked for by id alone


@dataclass(frozen=True, slots=True)
class FeatureDemo:
    view: str
    source_rows: int
    training_rows: int
    training_nulls: int  # feature cells with no value as of their row's time
    entities_online: int
    by_id: list[tuple[int, Any]]  # (patient id, the model's answer from its id alone)
    by_rows: list[Any]  # the answers for the same patients sent in full: the same


def run_features(measures: pd.DataFrame, model_uri: str) -> FeatureDemo:
    """``measures``: one row per patient (its index is the id), the model's input columns."""
    from gnomon.config import Settings
    from gnomon.features.definitions import Entity, FeatureService, FeatureView, Field, FileSource
    from gnomon.serving.loading import ServeOptions, build_app
    from gnomon.serving.local import run_in_thread

    client = gnomon.get_client()
    now = datetime.now(UTC).replace(microsecond=0)
    source = _source(measures, now)
    path = client.settings.home / "demo" / "features" / "tumour_measures.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    source.to_parquet(path)
    patient = Entity(ENTITY, ("patient_id",), "a patient whose tumour was measured")
    columns = list(measures.columns)
    view = FeatureView(
        VIEW,
        (patient,),
        FileSource(str(path)),
        tuple(Field(c) for c in columns),
        ttl=timedelta(days=30),
    )
    client.feature_registry.apply([patient, view, FeatureService(SERVICE, (VIEW,))], force=True)
    # As of a week ago the first patients had only their earlier measurement, and the rest
    # none at all: the frame says so, row by row.
    ids = measures.index[: 2 * ASKED].tolist()
    asked = pd.DataFrame(
        {
            "patient_id": ids * 2,
            "event_timestamp": [now - timedelta(days=7)] * len(ids) + [now] * len(ids),
        }
    )
    frame = gnomon.get_training_frame(asked, service=SERVICE)
    nulls = int(frame[columns].isna().sum().sum())
    done = client.features.materialize(progress=False)
    chosen = ids[:ASKED]
    full = measures.loc[chosen].to_dict(orient="records")
    options = ServeOptions(model_uri, records=False, feature_service=SERVICE)
    import httpx

    with run_in_thread(build_app(options, Settings())) as url, httpx.Client() as http:
        answers = http.post(f"{url}/predict", json=[{"patient_id": i} for i in chosen]).json()
    plain = ServeOptions(model_uri, records=False)
    with run_in_thread(build_app(plain, Settings())) as url, httpx.Client() as http:
        direct = http.post(f"{url}/predict", json={"records": full}).json()
    return FeatureDemo(
        VIEW,
        len(source),
        len(frame),
        nulls,
        sum(m.entities_written for m in done),
        list(zip(chosen, answers["predictions"], strict=True)),
        direct["predictions"],
    )


def _source(measures: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Each patient measured an hour ago; the first few also measured ten days ago, with
    values a tenth smaller (what a training set as of a week ago must see)."""
    latest = measures.assign(
        patient_id=measures.index.astype("int64"), event_timestamp=now - timedelta(hours=1)
    )
    earlier = latest.head(ASKED).copy()
    numeric = list(measures.columns)
    earlier[numeric] = earlier[numeric] * 0.9
    earlier["event_timestamp"] = now - timedelta(days=10)
    return pd.concat([earlier, latest], ignore_index=True)
