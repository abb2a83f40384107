"""Reading prediction records and outcomes back, and joining them by request id."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from urllib.parse import quote

import orjson

from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import InvalidInput
from gnomon.predictions.records import OUTCOME_COLUMNS, OUTCOMES, RECORD_COLUMNS, RECORDS
from gnomon.predictions.writer import schema

if TYPE_CHECKING:
    import pandas as pd

MAX_RECORDS = 100_000  # per records request to the API server


def read_records(
    store: ArtifactStore, prefix: str = RECORDS, deployment: str | None = None
) -> pd.DataFrame:
    """Every record under ``prefix`` (or one deployment's), sorted by time.

    ``inputs``, ``outputs`` and ``violations`` are decoded back to Python objects; ``time`` is
    a UTC timestamp.
    """
    return _read(store, prefix, deployment, RECORD_COLUMNS, ("inputs", "outputs", "violations"))


def read_outcomes(
    store: ArtifactStore, prefix: str = OUTCOMES, deployment: str | None = None
) -> pd.DataFrame:
    """Every outcome under ``prefix`` (or one deployment's), sorted by time; ``value`` decoded."""
    return _read(store, prefix, deployment, OUTCOME_COLUMNS, ("value",))


def join_outcomes(records: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """``records`` with ``outcome`` and ``outcome_time`` columns, matched on ``request_id``.

    A left join: records without an outcome get nulls. When a request id has several outcomes,
    the latest wins, so each record appears once.
    """
    latest = (
        outcomes.sort_values("time", kind="stable")
        .drop_duplicates("request_id", keep="last")
        .loc[:, ["request_id", "value", "time"]]
        .rename(columns={"value": "outcome", "time": "outcome_time"})
    )
    return records.merge(latest, on="request_id", how="left")


def read_deployment_records(
    store: ArtifactStore, deployment: str, *, with_outcomes: bool, limit: int | None
) -> pd.DataFrame:
    """The newest ``limit`` records of ``deployment`` (all: ``None``), oldest first, with
    ``outcome`` and ``outcome_time`` (``None``/``NaT`` where none is known) when asked."""
    records = read_records(store, RECORDS, deployment)
    if limit is not None:
        records = records.tail(limit).reset_index(drop=True)
    if not with_outcomes:
        return records
    joined = join_outcomes(records, read_outcomes(store, OUTCOMES, deployment))
    # The join leaves NaN where no outcome matched; None is what a missing JSON value reads as.
    joined["outcome"] = joined["outcome"].astype(object).where(joined["outcome_time"].notna(), None)
    return joined


def check_limit(limit: object) -> int | None:
    """``limit`` of :func:`read_deployment_records`, checked.

    Raises:
        InvalidInput: not a positive integer or None.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput(f"limit must be a positive integer or None, got {limit!r}")
    return limit


def _read(
    store: ArtifactStore,
    prefix: str,
    deployment: str | None,
    columns: dict[str, str],
    json_columns: tuple[str, ...],
) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = prefix.strip("/")
    if deployment is not None:
        root = f"{root}/deployment={quote(deployment, safe='')}"
    wanted = schema(columns)
    tables = [
        pq.read_table(io.BytesIO(store.get_bytes(key)), schema=wanted)
        for key in _parquet_keys(store, root)
    ]
    table = pa.concat_tables(tables) if tables else wanted.empty_table()
    # Nullable Int64 keeps model versions integers where some are missing (not float NaN).
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for column in json_columns:
        texts = table.column(column).to_pylist()
        decoded = [None if text is None else orjson.loads(text) for text in texts]
        frame[column] = pd.Series(decoded, index=frame.index, dtype=object)
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def _parquet_keys(store: ArtifactStore, prefix: str) -> list[str]:
    keys: list[str] = []
    for info in store.list(prefix):
        if info.is_dir:
            keys.extend(_parquet_keys(store, info.path))
        elif info.path.endswith(".parquet"):
            keys.append(info.path)
    return keys


__all__ = [
    "MAX_RECORDS",
    "check_limit",
    "join_outcomes",
    "read_deployment_records",
    "read_outcomes",
    "read_records",
]
