"""How much memory a Parquet file takes once decoded, told before it is decoded.

A few kilobytes of Parquet can hold a million copies of one long string (dictionary
encoding, then compression): decoding it for a schema, a profile or a check would take
gigabytes. Text columns are read dictionary-encoded first (the dictionary and the indices:
small), which gives their decoded size exactly; fixed-width columns are rows times width.
"""

from __future__ import annotations

from pathlib import Path

from gnomon.errors import InvalidInput

MAX_DECODED_BYTES = 4 * 1024**3  # one table (or one file of a version) read whole


def check_parquet(path: Path, shown: str, limit: int | None = None) -> None:
    """Raises ``InvalidInput`` naming ``shown`` when the file decodes past ``limit`` bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    limit = MAX_DECODED_BYTES if limit is None else limit
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"table {shown!r} does not parse: {exc}", {"path": shown}) from None
    rows = parquet.metadata.num_rows
    total = 0
    for index, field in enumerate(parquet.schema_arrow):
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if _is_text(kind):
            total += _text_bytes(path, field.name, pc) + rows * 8  # values and offsets
        elif width := _bit_width(kind):
            total += rows * max(1, width // 8)
        else:  # nested and other types: what the writer says the pages hold, decompressed
            meta = parquet.metadata
            total += sum(
                meta.row_group(group).column(index).total_uncompressed_size
                for group in range(meta.num_row_groups)
                if index < meta.row_group(group).num_columns
            )
        if total > limit:
            raise InvalidInput(
                f"table {shown!r} decodes to more than {_size(limit)} (column "
                f"{field.name!r} passes it): too large to describe, profile or check here",
                {"path": shown, "column": field.name},
            )


def _is_text(kind: object) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind)  # type: ignore[arg-type]
        or pa.types.is_large_string(kind)  # type: ignore[arg-type]
        or pa.types.is_binary(kind)  # type: ignore[arg-type]
        or pa.types.is_large_binary(kind)  # type: ignore[arg-type]
    )


def _text_bytes(path: Path, name: str, pc: object) -> int:
    """The decoded size of a text column, read as a dictionary (unique values only)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=[name], read_dictionary=[name])
    size = 0
    for chunk in table.column(name).chunks:
        lengths = pc.binary_length(chunk.dictionary)  # type: ignore[attr-defined]
        size += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0  # type: ignore[attr-defined]
    return int(size)


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def _bit_width(kind: object) -> int:
    try:
        return int(kind.bit_width)  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # "Non-fixed width type": lists, structs...
        return 0
