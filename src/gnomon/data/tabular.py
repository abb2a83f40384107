"""What a table file (Parquet or CSV) holds: its rows and column types, read with PyArrow in
batches so a file larger than memory is never loaded whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnomon.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TableInfo:
    rows: int
    columns: dict[str, str]  # name -> Arrow type


def table_info(path: Path, shown_as: str) -> TableInfo:
    """Rows and columns of the Parquet or CSV file at ``path`` (``shown_as`` names it).

    Raises:
        InvalidInput: the file does not parse, with the line where CSV parsing stopped.
    """
    import pyarrow as pa

    try:
        if path.name.lower().endswith(".parquet") or shown_as.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            return TableInfo(parquet.metadata.num_rows, _columns(parquet.schema_arrow))
        return _csv_info(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InvalidInput(
            f"table {shown_as!r} cannot be read: {exc}", {"path": shown_as}
        ) from None


def _csv_info(path: Path) -> TableInfo:
    import pyarrow.csv as csv

    reader = csv.open_csv(path)
    rows = 0
    for batch in reader:
        rows += batch.num_rows
    return TableInfo(rows, _columns(reader.schema))


def _columns(schema: object) -> dict[str, str]:
    return {field.name: str(field.type) for field in schema}  # type: ignore[attr-defined]
