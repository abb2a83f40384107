"""Reading a batch job's input in chunks and writing its predictions file.

:class:`Reader` streams a Parquet file by row groups, or a CSV file by 4 MiB blocks whose
contract columns get the contract's types. :class:`Sink` writes the output beside its target
and renames it into place only when complete, with the model's ``gnomon.*`` metadata.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.modelfolder import LoadedModel

METADATA_PREFIX: Final = "gnomon."
_CSV_BLOCK_BYTES: Final = 4 << 20  # CSV types are inferred from the first block
_CSV_TYPES: Final = {"float64": pa.float64(), "string": pa.string(), "category": pa.string()}


@dataclass(frozen=True)
class Reader:
    path: Path
    schema: pa.Schema
    total_rows: int | None
    tables: Iterator[pa.Table]
    close: Callable[[], None]

    @classmethod
    def open(cls, path: Path, model: LoadedModel, chunk_rows: int) -> Reader:
        try:
            if path.suffix.lower() == ".csv":
                return cls._csv(path, model, chunk_rows)
            file = pq.ParquetFile(path)
            batches = file.iter_batches(batch_size=chunk_rows)
            tables = (pa.Table.from_batches([b]) for b in batches)
            return cls(path, file.schema_arrow, file.metadata.num_rows, tables, file.close)
        except (pa.ArrowException, OSError) as exc:
            kind = "CSV" if path.suffix.lower() == ".csv" else "Parquet"
            raise InvalidInput(f"cannot read '{path}' as {kind}: {exc}") from None

    @classmethod
    def _csv(cls, path: Path, model: LoadedModel, chunk_rows: int) -> Reader:
        # Contract columns get the contract's type rather than a guess from the first block:
        # "007" stays a string, and a float column whose first block held integers stays float.
        contract = model.contract
        specs = contract.inputs if contract is not None else []
        types = {c.name: _CSV_TYPES[c.dtype] for c in specs if c.dtype in _CSV_TYPES}
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            convert_options=pa_csv.ConvertOptions(column_types=types),
        )
        return cls(path, reader.schema, None, _gathered(reader, chunk_rows), reader.close)

    def chunks(self) -> Iterator[tuple[int, pa.Table]]:
        """(offset of the first row, table) per non-empty chunk."""
        offset = 0
        try:
            for table in self.tables:
                if table.num_rows:
                    yield offset, table
                    offset += table.num_rows
        except (pa.ArrowException, OSError) as exc:  # a bad value or block past the first
            raise InvalidInput(f"cannot read '{self.path}' past row {offset}: {exc}") from None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _gathered(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    # Whole batches, never slices: a pickled slice carries its parent's entire buffers.
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


class Sink:
    """A Parquet file written beside ``target`` and renamed onto it only when complete."""

    def __init__(self, target: Path, metadata: dict[str, str]) -> None:
        self.target = target
        self.metadata = metadata
        self.partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            schema = table.schema.with_metadata(self.metadata)  # not the input's pandas metadata
            self.writer = pq.ParquetWriter(self.partial, schema)
        schema = self.writer.schema
        if not table.schema.equals(schema):  # e.g. a chunk whose predictions came out int
            table = table.cast(schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if self.writer is not None:
                if kind is None:
                    self.writer.add_key_value_metadata({f"{METADATA_PREFIX}rows": str(self.rows)})
                self.writer.close()
            if kind is None:
                os.replace(self.partial, self.target)
        finally:
            self.partial.unlink(missing_ok=True)


__all__ = ["METADATA_PREFIX", "Reader", "Sink"]
