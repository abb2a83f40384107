"""Step outputs as bytes: JSON values, tables as Parquet, arrays as .npy, files as their
content, anything else pickled. The bytes are what is hashed and stored, so equal outputs
share one object and a downstream cache key changes exactly when an input's content does.

Pickled objects are only ever read back by a pipeline's own executor (the user's code on the
user's machine or cluster); the server stores their bytes and never loads them.
"""

from __future__ import annotations

import io
import json
import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnomon.errors import InvalidInput

PREVIEW = 200  # characters of a value shown in listings
TYPE_NAME = 300  # characters of a type's name kept (what the stores take)


@dataclass(frozen=True, slots=True)
class Encoded:
    kind: str  # json | parquet/pandas | parquet/arrow | parquet/polars | numpy | file | pickle
    data: bytes
    type_name: str
    preview: str
    link: str | None = None  # the gnomon object it is: "dataset:NAME@V", "model:NAME/V"


def _type_name(value: Any) -> str:
    kind = type(value)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _plain_json(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, str, int)):
        return type(value) in (type(None), bool, str, int)
    if isinstance(value, float):
        return type(value) is float and math.isfinite(value)
    if depth > 50:
        return False
    if type(value) is list:
        return all(_plain_json(item, depth + 1) for item in value)
    if type(value) is dict:
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    return False


def encode(value: Any) -> Encoded:
    if _plain_json(value):
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        return Encoded("json", text.encode(), _type_name(value), text[:PREVIEW])
    module = type(value).__module__.partition(".")[0]
    name = type(value).__name__
    if module == "pandas" and name == "DataFrame":
        return _parquet(value, "pandas", value.shape)
    if module == "pyarrow" and name == "Table":
        return _parquet(value, "arrow", (value.num_rows, value.num_columns))
    if module == "polars" and name == "DataFrame":
        return _parquet(value, "polars", value.shape)
    if module == "numpy" and name == "ndarray" and value.dtype != object:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return Encoded(
            "numpy", buffer.getvalue(), "numpy.ndarray", f"array {value.shape} {value.dtype}"
        )
    if isinstance(value, Path):
        if not value.is_file():
            raise InvalidInput(
                f"a step returned the path {str(value)[:200]!r}, which is not a file"
            )
        return Encoded("file", value.read_bytes(), "pathlib.Path", value.name[:PREVIEW])
    link = _link(value)
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return Encoded("pickle", data, _type_name(value), (link or _type_name(value))[:PREVIEW], link)


def _parquet(value: Any, family: str, shape: tuple[int, int]) -> Encoded:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if family == "pandas":
        table = pa.Table.from_pandas(value)
    elif family == "polars":
        table = value.to_arrow()
    else:
        table = value
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    rows, columns = shape
    return Encoded(
        f"parquet/{family}",
        buffer.getvalue(),
        _type_name(value),
        f"{rows} rows, {columns} columns",
    )


def _link(value: Any) -> str | None:
    kind = type(value)
    if kind.__module__ == "gnomon.data.entities" and kind.__name__ == "DatasetVersion":
        return f"dataset:{value.dataset}@{value.version}"
    if kind.__module__ == "gnomon.registry.entities" and kind.__name__ == "ModelVersion":
        return f"model:{value.model_name}/{value.version}"
    return None


def decode(kind: str, data: bytes, path: Path | None = None) -> Any:
    """The value back from its bytes; a ``file`` comes back as ``path`` (a local copy)."""
    if kind == "json":
        return json.loads(data)
    if kind.startswith("parquet/"):
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        family = kind.partition("/")[2]
        if family == "pandas":
            return table.to_pandas()
        if family == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return table
    if kind == "numpy":
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if kind == "file":
        assert path is not None
        return path
    if kind == "pickle":
        return pickle.loads(data)
    raise InvalidInput(f"unknown artifact kind {kind[:40]!r}")


__all__ = ["Encoded", "decode", "encode"]
