"""A deployment's prediction records and outcomes, in its workspace's serving store.

Model servers write both under ``{artifact_root}/{workspace}/serving`` (``predictions/`` and
``outcomes/``, see :func:`gnomon.serving.loading.build_app`). The SDK, the CLI and the API
server read and write the same files, so ground truth loaded in bulk from a warehouse joins
the records exactly as outcomes posted to a model server do.

Records travel between the API server and the HTTP client as Parquet, so times, nullable
versions and floats keep their types; the columns holding JSON values (inputs, outputs,
violations, outcome) travel as JSON text, named in the file's metadata, and are decoded back.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from gnomon._types import now_ms
from gnomon.artifacts import ArtifactStore, open_artifact_store
from gnomon.checks import text_problem
from gnomon.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    # What log_outcomes takes: request id → value, {"request_id", "value"} dicts, a DataFrame.
    OutcomesInput: TypeAlias = Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame

MAX_OUTCOMES = 100_000  # per SDK call: a bigger load is split by the caller
MAX_VALUE_DEPTH = 32  # lists and objects nested in one outcome value
MAX_RECORDS = 100_000  # per records request to the server
PARQUET_TYPE = "application/vnd.apache.parquet"
_JSON_COLUMNS_KEY = b"gnomon.json_columns"
_JSON_COLUMNS = ("inputs", "outputs", "violations", "outcome")

OutcomePairs = list[tuple[str, Any]]


def serving_store(
    artifact_root: str, workspace: str, s3_endpoint_url: str | None = None
) -> ArtifactStore:
    """Where the model servers of ``workspace`` (a name) keep records and outcomes."""
    root = f"{artifact_root}/{workspace}/serving"
    return open_artifact_store(root, s3_endpoint_url=s3_endpoint_url)


def check_outcomes(outcomes: object, limit: int = MAX_OUTCOMES) -> OutcomePairs:
    """``(request_id, value)`` pairs from a mapping request_id → value, a list of
    ``{"request_id", "value"}`` dicts, or a DataFrame with those columns.

    Every path that accepts outcomes (the SDK, the API server, the model server) checks them
    here, so what one accepts the others accept, and what is accepted can be written.

    Raises:
        InvalidInput: not one of those shapes, more than ``limit`` items, or an item whose
            request id is not a non-empty string, whose value is missing, nests lists and
            objects deeper than ``MAX_VALUE_DEPTH`` or cannot be written as JSON (an integer
            beyond 64 bits); the item is named by index.
    """
    count = _count(outcomes)
    if count > limit:  # before building pairs: a huge request costs nothing more
        raise InvalidInput(
            f"at most {limit} outcomes per call, got {count}: split them",
            {"limit": limit, "count": count},
        )
    pairs = _pairs(outcomes)
    for index, (request_id, value) in enumerate(pairs):
        if not isinstance(request_id, str) or not request_id or text_problem(request_id):
            raise InvalidInput(
                f"outcome {index}: request_id must be a non-empty string, got {request_id!r}",
                {"index": index},
            )
        if _missing(value):
            raise InvalidInput(
                f"outcome {index} (request {request_id!r}) has no value, got {value!r}",
                {"index": index},
            )
        _check_writable(index, request_id, value)
    return pairs


def _count(outcomes: object) -> int:
    if isinstance(outcomes, str | bytes):
        return 0  # refused by shape
    length = getattr(outcomes, "__len__", None)
    return int(length()) if callable(length) else 0


def _check_writable(index: int, request_id: str, value: object) -> None:
    """The writer stores each value as JSON text: a value it could not write would be lost
    after being acknowledged (and would fail the whole file it was written with)."""
    from gnomon.serving.columnar import json_text
    from gnomon.serving.nesting import deeper_than

    if isinstance(value, float | bool) or (isinstance(value, str) and not text_problem(value)):
        return  # the common case, always writable
    if isinstance(value, list | dict | tuple) and deeper_than(value, MAX_VALUE_DEPTH):
        raise InvalidInput(
            f"outcome {index} (request {request_id!r}): the value nests lists and objects "
            f"deeper than {MAX_VALUE_DEPTH} levels",
            {"index": index, "max_depth": MAX_VALUE_DEPTH},
        )
    try:
        json_text(value)
    except (TypeError, ValueError) as exc:  # orjson's JSONEncodeError is a TypeError
        raise InvalidInput(
            f"outcome {index} (request {request_id!r}): the value cannot be stored as JSON: {exc}",
            {"index": index},
        ) from None


def check_limit(limit: object) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput(f"limit must be a positive integer or None, got {limit!r}")
    return limit


def write_outcomes(store: ArtifactStore, deployment: str, pairs: OutcomePairs) -> int:
    """Write ``pairs`` as outcomes of ``deployment``; durable when this returns.

    Raises:
        Unavailable: the serving store refused the write.
    """
    from gnomon.serving.records import Outcome, OutcomeWriter

    if not pairs:
        return 0
    now = now_ms()
    # One batch for the whole call: a bulk load becomes one file, not one per 5,000 rows.
    writer = OutcomeWriter(store, max_batch=len(pairs))
    writer.submit([Outcome(rid, now, deployment, value) for rid, value in pairs])
    try:
        writer.close()
    except Exception as exc:  # a storage error, not the caller's: 503, never a 500
        raise Unavailable(
            f"could not write the outcomes of deployment {deployment!r}: {exc}"
        ) from exc
    return len(pairs)


def read_deployment_records(
    store: ArtifactStore, deployment: str, *, with_outcomes: bool, limit: int | None
) -> pd.DataFrame:
    """The newest ``limit`` records of ``deployment`` (all: ``None``), oldest first, with
    ``outcome`` and ``outcome_time`` (``None``/``NaT`` where none is known) when asked."""
    from gnomon.serving.records import join_outcomes, read_outcomes, read_records

    records = read_records(store, "predictions", deployment)
    if limit is not None:
        records = records.tail(limit).reset_index(drop=True)
    if not with_outcomes:
        return records
    joined = join_outcomes(records, read_outcomes(store, "outcomes", deployment))
    # The join leaves NaN where no outcome matched; None is what a missing JSON value reads as.
    joined["outcome"] = joined["outcome"].astype(object).where(joined["outcome_time"].notna(), None)
    return joined


def to_parquet(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet, its JSON columns as JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    json_columns = [name for name in _JSON_COLUMNS if name in frame.columns]
    table = pa.Table.from_pandas(frame.drop(columns=json_columns), preserve_index=False)
    for name in json_columns:
        texts = [
            None if _missing(v) else orjson.dumps(v, default=str).decode() for v in frame[name]
        ]
        table = table.append_column(name, pa.array(texts, pa.string()))
    table = table.select(list(frame.columns))
    metadata = {**(table.schema.metadata or {}), _JSON_COLUMNS_KEY: ",".join(json_columns).encode()}
    sink = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), sink)
    return sink.getvalue()


def from_parquet(data: bytes) -> pd.DataFrame:
    """The frame :func:`to_parquet` wrote, its JSON columns decoded."""
    import pandas as pd
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    frame: pd.DataFrame = table.to_pandas()
    names = (table.schema.metadata or {}).get(_JSON_COLUMNS_KEY, b"").decode()
    for name in filter(None, names.split(",")):
        texts = table.column(name).to_pylist()
        decoded = [None if text is None else orjson.loads(text) for text in texts]
        frame[name] = pd.Series(decoded, index=frame.index, dtype=object)
    return frame


def _pairs(outcomes: object) -> list[tuple[Any, Any]]:
    """The items as given, unchecked."""
    if isinstance(outcomes, Mapping):
        return list(outcomes.items())
    if _is_frame(outcomes):
        return _frame_pairs(outcomes)
    if isinstance(outcomes, Sequence) and not isinstance(outcomes, str | bytes):
        pairs: list[tuple[Any, Any]] = []
        for index, item in enumerate(outcomes):
            if not isinstance(item, Mapping):
                raise InvalidInput(
                    f'outcome {index} must be a {{"request_id": ..., "value": ...}} dict, '
                    f"got {item!r}",
                    {"index": index},
                )
            # A missing key reads as None, which the checks name like any other bad value.
            pairs.append((item.get("request_id"), item.get("value")))
        return pairs
    raise InvalidInput(
        "outcomes must be a mapping request_id → value, a list of "
        f'{{"request_id", "value"}} dicts or a DataFrame, got {type(outcomes).__name__}'
    )


def _is_frame(value: object) -> bool:
    # Checked by name so that callers passing a dict or a list never import pandas.
    return any(
        cls.__module__.startswith("pandas") and cls.__name__ == "DataFrame"
        for cls in type(value).__mro__
    )


def _frame_pairs(frame: Any) -> list[tuple[Any, Any]]:
    missing = [name for name in ("request_id", "value") if name not in frame.columns]
    if missing:
        raise InvalidInput(
            f"the outcomes frame has no {' or '.join(missing)} column "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    values = frame["value"].astype(object).where(frame["value"].notna(), None).tolist()
    return list(zip(frame["request_id"].tolist(), values, strict=True))


def _missing(value: object) -> bool:
    # Non-finite floats too: JSON has no NaN or infinity, so they would be stored as null.
    return value is None or (isinstance(value, float) and not math.isfinite(value))
