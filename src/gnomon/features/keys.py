"""Dense integer codes for an entity frame's join keys, and the same codes for a source's keys
(-1 where the frame does not ask for them), so that the ``arrow`` plan of the point-in-time
join (``offline_arrow.py``) works on NumPy integers.

Integer keys spanning a range not much wider than the frame are looked up in a table indexed
by the key; other keys (text, sparse integers) through a hash of the frame's distinct values
(``pyarrow.compute.index_in``). Several keys are combined in mixed radix, then made dense.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

TABLE_SLACK = 4  # a table of up to 4 entries per frame row (plus TABLE_MIN) is worth it
TABLE_MIN = 1 << 16


class _Coder(Protocol):
    size: int

    def codes(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray: ...


class KeyCoder:
    """Codes 0..size-1 for the frame's key combinations."""

    def __init__(self, columns: list[_Coder], known: np.ndarray | None) -> None:
        self.columns, self.known = columns, known
        self.size = len(known) if known is not None else columns[0].size

    @classmethod
    def build(
        cls, frame: list[pa.ChunkedArray], source_types: list[pa.DataType]
    ) -> KeyCoder | None:
        """The coder of the frame's key columns, or None where a key's types on the two sides
        are not both integers (64-bit unsigned only with itself) or both text, or the keys'
        combinations would not fit 62 bits."""
        import numpy as np
        import pyarrow as pa

        coders: list[_Coder] = []
        for column, source in zip(frame, source_types, strict=True):
            kind = _compared_as(column.type, source)
            if kind is None:
                return None
            try:
                coders.append(_coder(column.cast(kind), kind))
            except pa.ArrowInvalid:  # floats that are not whole numbers
                return None
        if math.prod(c.size for c in coders) >= 2**62:
            return None
        if len(coders) == 1:
            return cls(coders, None)
        combined = cls(coders, None)._combined(frame)
        return cls(coders, np.unique(combined[combined >= 0]))

    def codes(self, columns: list[pa.Array | pa.ChunkedArray]) -> np.ndarray:
        """Each row's code: -1 where a key is null or not one of the frame's."""
        return self._dense(self._combined(columns))

    def _combined(self, columns: list[pa.Array | pa.ChunkedArray]) -> np.ndarray:
        import numpy as np

        combined = self.columns[0].codes(columns[0])
        for coder, column in zip(self.columns[1:], columns[1:], strict=True):
            code = coder.codes(column)
            combined = np.where((combined >= 0) & (code >= 0), combined * coder.size + code, -1)
        return combined

    def _dense(self, combined: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.known is None:
            return combined
        if not len(self.known):
            return np.full_like(combined, -1)
        at = np.searchsorted(self.known, combined).clip(max=len(self.known) - 1)
        return np.where((combined >= 0) & (self.known[at] == combined), at, -1)


class _Table:
    """Integer keys looked up in a table indexed by ``key - low``."""

    def __init__(self, low: int, high: int, table: np.ndarray) -> None:
        self.low, self.high, self.table = low, high, table
        self.size = int(table.max()) + 1 if len(table) else 0

    def codes(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        import numpy as np

        values, valid = _integers(column)
        # unsigned, a key below ``low`` is past the table's end too (no wrap: |low| < 2**62)
        offset = (values - self.low).view(np.uint64)
        inside = offset < len(self.table)
        if valid is not None:
            inside &= valid
        found = self.table.take(offset.view(np.int64), mode="clip")
        return np.where(inside, found, -1)


class _Hashed:
    """Keys looked up in a hash of the frame's distinct values."""

    def __init__(self, distinct: pa.Array, kind: pa.DataType) -> None:
        self.distinct, self.kind, self.size = distinct, kind, len(distinct)

    def codes(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        import numpy as np
        import pyarrow.compute as pc

        found = pc.index_in(column.cast(self.kind), value_set=self.distinct)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _coder(column: pa.ChunkedArray, kind: pa.DataType) -> _Coder:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == pa.int64():
        values, valid = _integers(column)
        values = values if valid is None else values[valid]
        if len(values):
            low, high = int(values.min()), int(values.max())
            small = low > -(2**62) and high < 2**62  # see _Table.codes
            if small and high - low < TABLE_SLACK * len(column) + TABLE_MIN:
                present = np.zeros(high - low + 1, dtype=bool)
                present[values - low] = True
                table = np.where(present, np.cumsum(present) - 1, -1)
                return _Table(low, high, table)
    return _Hashed(pc.drop_null(pc.unique(column)), kind)


def _integers(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """An integer column's values as int64 (0 where null) and which are not null (None:
    all)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.cast(pa.int64())
    if not column.null_count:
        return np.asarray(column.to_numpy(), dtype=np.int64), None
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pc.fill_null(column, 0).to_numpy(), dtype=np.int64), valid


def _compared_as(frame: pa.DataType, source: pa.DataType) -> pa.DataType | None:
    """The type both sides' keys are compared as: integers as int64 (uint64 only with
    itself; the frame's may be floats holding whole numbers), text as large_string; None
    otherwise (DuckDB then decides)."""
    import pyarrow as pa

    if pa.types.is_floating(frame) and pa.types.is_integer(source):
        frame = pa.int64()  # pandas' integers with nulls: cast, where all are whole numbers
    if pa.types.is_integer(frame) and pa.types.is_integer(source):
        unsigned = [t == pa.uint64() for t in (frame, source)]
        if any(unsigned):
            return pa.uint64() if all(unsigned) else None
        return pa.int64()
    text = (pa.string(), pa.large_string())
    if frame in text and source in text:
        return pa.large_string()
    return None
