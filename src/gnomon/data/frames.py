"""Tables in and out of dataset versions: what ``log`` writes and ``load`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TABLE_FILE = "data.parquet"


def to_arrow(data: Any) -> pa.Table:
    """A pandas or Polars DataFrame, or an Arrow table, as an Arrow table."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    module = type(data).__module__.split(".", 1)[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()
    raise InvalidInput(
        f"log_dataset takes a pandas, Polars or Arrow table or a path, got {type(data).__name__}"
    )


def write_table(table: pa.Table, folder: Path) -> Path:
    """Write ``table`` as one Parquet file; the same table gives the same bytes each time."""
    import pyarrow.parquet as pq

    path = folder / TABLE_FILE
    pq.write_table(table, path, compression="zstd")
    return path


def read_tables(folder: Path, paths: list[str]) -> pd.DataFrame:
    """Every Parquet or CSV file of a checked-out version, in path order, as one frame."""
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    tables = []
    for relative in paths:
        local = folder / relative
        if relative.lower().endswith(".parquet"):
            tables.append(pq.read_table(local))
        elif relative.lower().endswith(".csv"):
            tables.append(csv.read_csv(local))
        else:
            raise InvalidInput(f"file {relative!r} is not a table: check the version out instead")
    try:
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"the version's tables do not share one schema: {exc}") from None
