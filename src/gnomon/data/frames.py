"""Tables in and out of dataset versions: what ``log`` writes and ``load`` reads."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.data.budget import check_parquet
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
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


@contextmanager
def staged(data: Any) -> Iterator[tuple[Path, dict[str, str]]]:
    """What ``log`` versions: a path as it is, or a table written as one Parquet file in a
    temporary folder (removed after the block); and the source to record with it."""
    if isinstance(data, str | Path):
        yield Path(data), {"path": str(Path(data).resolve())}
        return
    table = to_arrow(data)
    with tempfile.TemporaryDirectory(prefix="gnomon-dataset-") as folder:
        yield write_table(table, Path(folder)), {"kind": "table", "rows": str(table.num_rows)}


def write_table(table: pa.Table, folder: Path) -> Path:
    """Write ``table`` as one Parquet file; the same table gives the same bytes each time."""
    import pyarrow.parquet as pq

    path = folder / TABLE_FILE
    pq.write_table(table, path, compression="zstd")
    return path


def read_file(path: Path, shown_as: str) -> pa.Table:
    """One Parquet or CSV file as an Arrow table.

    Raises:
        InvalidInput: not a table file, or one that does not parse (for CSV, with the line).
    """
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    lower = shown_as.lower()
    try:
        if lower.endswith(".parquet"):
            check_parquet(path, shown_as)  # before a decode that could take gigabytes
            return pq.read_table(path)
        if lower.endswith(".csv"):
            return csv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        where = csv_error_line(path) if lower.endswith(".csv") else None
        at = f" at line {where}" if where else ""
        raise InvalidInput(
            f"table {shown_as!r} does not parse{at}: {exc}", {"path": shown_as, "line": where}
        ) from None
    raise InvalidInput(f"file {shown_as!r} is not a table (Parquet or CSV)", {"path": shown_as})


def csv_error_line(path: Path) -> int | None:
    """The first line whose field count differs from the header's (the error path only)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return None
            for row in reader:
                if row and len(row) != len(header):
                    return reader.line_num
    except csv.Error:
        return None
    return None
