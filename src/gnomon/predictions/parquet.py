"""Records as they travel between the API server and the HTTP client: Parquet, so times,
nullable versions and floats keep their types. The columns holding JSON values (inputs,
outputs, violations, outcome) travel as JSON text, named in the file's metadata, and are
decoded back."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import orjson

from gnomon.predictions.outcomes import missing

if TYPE_CHECKING:
    import pandas as pd

PARQUET_TYPE = "application/vnd.apache.parquet"
_JSON_COLUMNS_KEY = b"gnomon.json_columns"
_JSON_COLUMNS = ("inputs", "outputs", "violations", "outcome")


def to_parquet(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet, its JSON columns as JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    json_columns = [name for name in _JSON_COLUMNS if name in frame.columns]
    table = pa.Table.from_pandas(frame.drop(columns=json_columns), preserve_index=False)
    for name in json_columns:
        texts = [None if missing(v) else orjson.dumps(v, default=str).decode() for v in frame[name]]
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


__all__ = ["PARQUET_TYPE", "from_parquet", "to_parquet"]
