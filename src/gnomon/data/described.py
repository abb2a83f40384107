"""What a table version is: its inferred schema and how it compares with the dataset's own.

``describe`` runs before a table version is recorded, so a file that does not parse refuses
the version; the result is stored beside the manifest (``stats/<digest>.json``) and the first
table version's schema becomes the dataset's. Parquet is read one column at a time, so a
version larger than memory is described in the memory of its largest column; CSV has no
columns to read apart and is read whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.data.budget import check_parquet
from gnomon.data.schema import DatasetSchema, infer
from gnomon.data.validation import Thresholds, ValidationReport, validate_columns

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Described:
    schema: DatasetSchema  # inferred from this version
    validation: ValidationReport | None  # against the dataset's schema, when it had one

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema.to_dict(),
            "validation": None if self.validation is None else self.validation.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Described:
        report = data.get("validation")
        return cls(
            DatasetSchema.from_dict(data["schema"]),
            None if report is None else ValidationReport.from_dict(report),
        )


class ParquetColumns:
    """Parquet files as columns read one at a time (types promoted across files)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        import pyarrow as pa
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        from gnomon.errors import InvalidInput

        for path in paths:  # before a column is decoded: a small file can decode huge
            check_parquet(path, path.name)
        try:
            schema = pa.unify_schemas(
                [pq.read_schema(path) for path in paths], promote_options="permissive"
            )
            self.rows = sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            raise InvalidInput(f"the version's Parquet files cannot be read: {exc}") from None
        self.names: list[str] = list(schema.names)
        self._dataset = ds.dataset([str(path) for path in paths], schema=schema, format="parquet")

    def column(self, name: str) -> pa.ChunkedArray:
        return self._dataset.to_table(columns=[name]).column(name)


class TableColumns:
    def __init__(self, table: pa.Table) -> None:
        self.names: list[str] = list(table.column_names)
        self.rows = table.num_rows
        self._table = table

    def column(self, name: str) -> pa.ChunkedArray:
        return self._table.column(name)


def local_columns(files: Sequence[tuple[Path, str]]) -> ParquetColumns | TableColumns:
    """The table files ``(local path, path in the version)``, as columns to read."""
    if all(shown.lower().endswith(".parquet") for _, shown in files):
        return ParquetColumns([local for local, _ in files])
    return TableColumns(read_local(files))


def read_local(files: Sequence[tuple[Path, str]]) -> pa.Table:
    """The table files ``(local path, path in the version)`` as one Arrow table."""
    import pyarrow as pa

    from gnomon.data.frames import read_file
    from gnomon.errors import InvalidInput

    tables = [read_file(local, shown) for local, shown in files]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"the version's tables do not share one schema: {exc}") from None


def describe(columns: ParquetColumns | TableColumns, current: DatasetSchema | None) -> Described:
    pairs = ((name, columns.column(name)) for name in columns.names)
    inferred = infer(pairs, columns.rows)
    if current is None:
        return Described(inferred, None)
    report = validate_columns(columns.names, columns.rows, columns.column, current, Thresholds())
    return Described(inferred, report)
