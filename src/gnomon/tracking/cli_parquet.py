"""The first rows of a Parquet table for ``runs artifacts show``, read within bounds.

A Parquet file can expand far beyond its size: a compressed cell of repeated characters, a
value repeated through its dictionary or its prefix encoding, a list whose lengths are
run-length encoded. So the footer is read first and the table refused when the columns shown
hold too much in the row groups that would be read; only those columns and row groups are
decoded, strings are kept as dictionaries, rows are decoded a batch at a time within a budget,
and each cell is cut short before anything is printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon.cli.output import format_value

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

MAX_COLUMNS = 20
# Bytes the shown columns hold, uncompressed, in the row groups read; and bytes decoded.
MAX_DECODED_BYTES = 32 * 1024 * 1024
# Values of the shown list and map columns in the row groups read (one row can hold them all).
MAX_NESTED_VALUES = 100_000
MAX_CELL_CHARS = 200
_BATCH_ROWS = 20
_DELTA = frozenset({"DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY"})


class TooLarge(ValueError):
    """The table would take too much to decode; the message says what."""


@dataclass(frozen=True, slots=True)
class TablePreview:
    names: list[str]  # every column's name
    header: list[str]  # the shown columns' names, cut
    rows: list[list[str]]  # cells as text, cut
    total_rows: int


def first_rows(data: bytes, rows: int) -> TablePreview:
    """The first ``rows`` rows of the first ``MAX_COLUMNS`` columns, as cut text.

    Raises:
        TooLarge: the footer or the decoded rows are over the bounds above.
        pyarrow.ArrowException, OSError: the bytes are not a Parquet file.
    """
    import io

    import pyarrow.parquet as pq

    footer = pq.ParquetFile(io.BytesIO(data))
    names = footer.schema_arrow.names
    shown = names[:MAX_COLUMNS]
    groups = _first_row_groups(footer.metadata, rows)
    _check_footer(footer, groups, shown)
    table = pq.ParquetFile(io.BytesIO(data), read_dictionary=_dictionary_leaves(footer, groups))
    batches = table.iter_batches(
        batch_size=min(rows, _BATCH_ROWS), row_groups=groups, columns=shown
    )
    found: list[list[str]] = []
    decoded = 0
    header = [_cut(name) for name in shown]
    for batch in batches:
        decoded += _decoded_bytes(batch)
        if decoded > MAX_DECODED_BYTES:
            raise TooLarge(f"decodes to over {MAX_DECODED_BYTES // 2**20} MiB in its first rows")
        header = [_cut(name) for name in batch.schema.names]
        columns = [_cells(batch.column(i)) for i in range(batch.num_columns)]
        found += [list(cells) for cells in zip(*columns, strict=True)][: rows - len(found)]
        if len(found) >= rows:
            break
    return TablePreview(names, header, found, footer.metadata.num_rows)


def _first_row_groups(metadata: pq.FileMetaData, rows: int) -> list[int]:
    """The row groups that hold the first ``rows`` rows (at most ``rows`` groups)."""
    groups: list[int] = []
    covered = 0
    for index in range(min(metadata.num_row_groups, rows)):
        if covered >= rows:
            break
        groups.append(index)
        covered += metadata.row_group(index).num_rows
    return groups


def _dictionary_leaves(footer: pq.ParquetFile, groups: list[int]) -> list[str]:
    """The string columns to read as dictionaries: a long value used in every row is then
    decoded once, not per row. pyarrow cannot for the delta encodings, which are decoded a
    batch at a time within the budget instead."""
    schema = footer.schema
    leaves = []
    for j in range(len(schema)):
        encodings = {e for i in groups for e in footer.metadata.row_group(i).column(j).encodings}
        if schema.column(j).physical_type == "BYTE_ARRAY" and not _DELTA & encodings:
            leaves.append(schema.column(j).path)
    return leaves


def _check_footer(footer: pq.ParquetFile, groups: list[int], shown: list[str]) -> None:
    schema = footer.schema
    # A leaf column belongs to a shown column when its path starts with the column's name
    # (a name with a dot in it may count a neighbour too: more counted, never less).
    leaves = [
        j
        for j in range(len(schema))
        if any(
            schema.column(j).path == n or schema.column(j).path.startswith(f"{n}.") for n in shown
        )
    ]
    size = nested = 0
    for index in groups:
        group = footer.metadata.row_group(index)
        for j in leaves:
            column = group.column(j)
            size += column.total_uncompressed_size
            if schema.column(j).max_repetition_level > 0:
                nested += column.num_values
    if size > MAX_DECODED_BYTES:
        raise TooLarge(
            f"holds {size / 2**20:.1f} MiB uncompressed in the columns and rows shown; "
            f"show reads up to {MAX_DECODED_BYTES // 2**20} MiB"
        )
    if nested > MAX_NESTED_VALUES:
        raise TooLarge(
            f"holds {nested} list or map values in the rows shown; show reads up to "
            f"{MAX_NESTED_VALUES}"
        )


def _decoded_bytes(batch: pa.RecordBatch) -> int:
    # Buffers leave dictionaries out: a row group's dictionary is shared by its batches, and
    # its size was checked in the footer.
    return sum(b.size for column in batch.columns for b in column.buffers() if b is not None)


def _cells(column: pa.Array) -> list[str]:
    return [_cell(value) for value in _shortened(column).to_pylist()]


def _shortened(array: pa.Array) -> pa.Array:
    """``array`` with every string and binary value cut, so none is copied whole into Python.

    Lists, maps and structs are rebuilt around their shortened children.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        return pa.DictionaryArray.from_arrays(array.indices, _shortened(array.dictionary))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.utf8_slice_codeunits(array, 0, MAX_CELL_CHARS + 1)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pc.binary_slice(array, 0, MAX_CELL_CHARS + 1)
    if pa.types.is_struct(kind):
        children = [_shortened(child) for child in array.flatten()]  # flatten: slice-aware
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(kind), mask=mask)
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind)):
        return array
    offsets = array.offsets
    if array.null_count:  # a null offset makes a null list; a mask cannot go with a slice
        nulls = pa.concat_arrays([array.is_null(), pa.array([False])])
        offsets = pc.if_else(nulls, pa.scalar(None, offsets.type), offsets)
    if pa.types.is_map(kind):
        return pa.MapArray.from_arrays(offsets, _shortened(array.keys), _shortened(array.items))
    return type(array).from_arrays(offsets, _shortened(array.values))


def _cell(value: Any) -> str:
    return _cut(format_value(value) if isinstance(value, float | None) else str(value))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARS else f"{text[: MAX_CELL_CHARS - 1]}…"
