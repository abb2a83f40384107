"""Prediction records built column-wise from whole requests, for :mod:`gnomon.predictions.records`.

The writer thread turns a partition's queued requests into one Arrow table: a frame's values
come out in one NumPy call, each row's JSON is written into one shared buffer that becomes the
Arrow column, and the other columns are plain lists. The values are the ones
``DataFrame.to_dict(orient="records")`` gives, so a record reads back the same whether it was
submitted as a :class:`~gnomon.predictions.entities.PredictionRecord` or as a request.

JSON is written by orjson: NaN and infinities become ``null`` (JSON has no NaN), numpy values
are written as numbers or lists, and anything else unknown as its ``str()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from gnomon.predictions.entities import AnsweredRequest

if TYPE_CHECKING:
    import pandas as pd

_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_text(value: Any) -> str:
    """``value`` as JSON text, the way every JSON column of a record is written."""
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS).decode()


def _json_default(value: Any) -> Any:
    for method in ("tolist", "item"):  # numpy and pandas values orjson does not know natively
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    return str(value)


class Queued(NamedTuple):
    """An answered request waiting for the writer thread, and how many of its rows count."""

    request: AnsweredRequest
    rows: int
    skip: int = 0  # leading rows dropped by max_queue

    @property  # the partition it is written to, with time_ms
    def deployment(self) -> str:
        return self.request.deployment

    @property
    def time_ms(self) -> int:
        return self.request.time_ms


class JsonColumn:
    """A string column of JSON texts written into one buffer, so no object per row survives.

    Keeping a bytes object per row alive costs several times the encoding itself (measured:
    ~6 µs against ~1.5 µs a row of 20 numbers); appending to one bytearray does not.
    """

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = [0]

    def __len__(self) -> int:
        return len(self._ends) - 1

    def extend(self, values: Iterable[Any]) -> None:
        data, ends = self._data, self._ends
        for value in values:
            data += orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS)
            ends.append(len(data))

    def extend_records(self, names: list[Any], rows: Iterable[Sequence[Any]]) -> None:
        """A JSON object per row, keyed by ``names``."""
        data, ends = self._data, self._ends
        for row in rows:
            record = dict(zip(names, row, strict=True))
            data += orjson.dumps(record, default=_json_default, option=_JSON_OPTIONS)
            ends.append(len(data))

    def truncate(self, length: int) -> None:
        del self._data[self._ends[length] :]
        del self._ends[length + 1 :]

    def array(self) -> Any:
        import numpy as np
        import pyarrow as pa

        # pa.string() has int32 offsets: a batch over 2 GiB of JSON raises OverflowError here.
        offsets = np.asarray(self._ends, dtype=np.int32)
        return pa.StringArray.from_buffers(
            len(self), pa.py_buffer(offsets), pa.py_buffer(self._data)
        )


TYPED_PREFIX = "in."  # a typed copy of input ``x`` is the column ``in.x``, beside the JSON


class TypedInputs:
    """A typed copy of each input column, so readers (monitors) need not parse the JSON.

    Values are kept as the JSON has them, in one list per column, padded with None where a
    request lacked the column. A column whose values do not make one Arrow type (numbers
    and text mixed in a ``warn`` request) is left out of the file: its JSON says it all.
    """

    __slots__ = ("_columns", "rows")

    def __init__(self) -> None:
        self._columns: dict[Any, list[Any]] = {}
        self.rows = 0

    def extend(self, names: list[Any], rows: list[Sequence[Any]]) -> None:
        count = len(rows)
        by_column = zip(*rows, strict=True) if names and rows else ()
        for name, values in zip(names, by_column, strict=False):
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = [None] * self.rows
            column.extend(values)
        self.rows += count
        for column in self._columns.values():
            if len(column) < self.rows:
                column.extend([None] * (self.rows - len(column)))

    def arrays(self) -> dict[str, Any]:
        import pyarrow as pa

        found = {}
        for name, values in self._columns.items():
            if not isinstance(name, str):
                continue
            try:
                array = pa.array(values, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                continue  # mixed types: the JSON alone has them
            kind = array.type
            if any(
                test(kind)
                for test in (
                    pa.types.is_integer,
                    pa.types.is_floating,
                    pa.types.is_string,
                    pa.types.is_boolean,
                )
            ):
                found[TYPED_PREFIX + name] = array
        return found


class RecordColumns:
    """One partition's record columns: JSON appended a request at a time, the rest at the end."""

    def __init__(self, deployment: str) -> None:
        self.deployment = deployment
        self.rows = 0
        self._queued: list[Queued] = []
        self._typed = TypedInputs()
        self._inputs = JsonColumn()
        self._outputs = JsonColumn()
        self._violations: dict[int, str] = {}  # by row; most requests have none
        # Column names by id(frame.columns): requests share their contract's Index, and the
        # frames stay alive (so their ids unique) while this is built.
        self._names: dict[int, list[Any]] = {}

    def add(self, queued: Queued) -> None:
        """Append ``queued``'s rows; on error nothing of it is kept."""
        request, start, stop = queued.request, queued.skip, queued.rows
        frame = request.frame
        if len(frame) != stop:  # rows were counted from the outputs, on the request path
            raise ValueError(f"{len(frame)} input rows but {stop} outputs")
        outputs = _as_list(request.outputs)
        violations = _row_violations(request.violations, start, stop)
        names = self._names.get(id(frame.columns))
        if names is None:
            names = self._names[id(frame.columns)] = frame.columns.tolist()
        done, rows = self.rows, stop - start
        values = list(_frame_rows(frame.iloc[start:] if start else frame))
        try:
            self._inputs.extend_records(names, values)
            self._outputs.extend(outputs[start:] if start else outputs)
        except Exception:
            self._inputs.truncate(done)
            self._outputs.truncate(done)
            raise
        self._typed.extend(names, values)
        self._violations.update({done + offset: text for offset, text in violations.items()})
        self._queued.append(queued)
        self.rows += rows

    def table(self, schema: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        if not self._queued:
            return schema.empty_table()
        requests = [queued.request for queued in self._queued]
        stops = [queued.rows for queued in self._queued]
        columns = {
            "time": pa.array([r.time_ms for r in requests], schema.field("time").type),
            "model_name": pa.array([r.model_name for r in requests], pa.string()),
            "model_version": pa.array([r.model_version for r in requests], pa.int64()),
            "role": pa.array([r.role for r in requests], pa.string()),
            "latency_ms": pa.array(
                np.divide([r.latency_ms for r in requests], stops), pa.float64()
            ),
        }
        if self.rows != len(requests):  # requests of several rows: repeat their values
            kept = [queued.rows - queued.skip for queued in self._queued]
            index = pa.array(np.repeat(np.arange(len(kept)), kept))
            columns = {name: values.take(index) for name, values in columns.items()}
        if max(stops) > 1:
            ids = list(chain.from_iterable(map(_row_ids, self._queued)))
        else:
            ids = [r.request_id for r in requests]
        columns["request_id"] = pa.array(ids, pa.string())
        columns["deployment"] = pa.repeat(pa.scalar(self.deployment, pa.string()), self.rows)
        columns["inputs"] = self._inputs.array()
        columns["outputs"] = self._outputs.array()
        found = self._violations
        columns["violations"] = (
            pa.array([found.get(row) for row in range(self.rows)], pa.string())
            if found
            else pa.nulls(self.rows, pa.string())
        )
        table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
        for name, array in self._typed.arrays().items():
            table = table.append_column(name, array)
        return table


def _row_ids(queued: Queued) -> list[str]:
    request_id = queued.request.request_id
    if queued.rows == 1:
        return [request_id]
    return [f"{request_id}:{row}" for row in range(queued.skip, queued.rows)]


def _frame_rows(frame: pd.DataFrame) -> Iterable[Sequence[Any]]:
    """The frame's rows, holding the Python values ``frame.to_dict(orient="records")`` does."""
    import numpy as np

    # Private, like enforce's helpers: frame.dtypes builds a Series (~20 µs, more than the rest
    # for a one-row frame). Without it every frame takes the column-by-column path.
    blocks: Any = getattr(getattr(frame, "_mgr", None), "blocks", ())
    if len(blocks) == 1:
        dtype = blocks[0].dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            rows: list[list[Any]] = frame.to_numpy().tolist()  # one dtype, so no upcast
            return rows
    if not len(frame.columns):
        return [()] * len(frame)
    return zip(*_frame_columns(frame), strict=True)


def _frame_columns(frame: pd.DataFrame) -> list[list[Any]]:
    # Series iteration gives what to_dict does (numbers as Python numbers, Timestamps,
    # categories' values); to_dict then boxes the values of object and extension columns.
    arrays = getattr(frame, "_iter_column_arrays", None)  # skips a Series per column (~10 µs)
    found = (
        [(series.dtype, list(series)) for _, series in frame.items()]
        if arrays is None
        else [(values.dtype, _as_list(values)) for values in arrays()]
    )
    return [
        [_native(value) for value in values] if _boxed(dtype) else values for dtype, values in found
    ]


def _boxed(dtype: Any) -> bool:
    import numpy as np

    # to_dict's test: object, or an extension dtype (Int64 yields pd.NA, boxed to None).
    return not isinstance(dtype, np.dtype) or dtype.kind == "O"


def _as_list(values: Any) -> list[Any]:
    if isinstance(values, list):
        return values
    # ndarray.tolist gives Python numbers (as Series iteration does); extension arrays iterate.
    tolist = getattr(values, "tolist", None)
    listed: list[Any] = tolist() if callable(tolist) else list(values)
    return listed


_PLAIN = frozenset({str, int, float, bool, type(None), list, dict})


def _native(value: Any) -> Any:
    """A value of an object column as ``to_dict`` gives it (pandas' ``maybe_box_native``)."""
    if type(value) in _PLAIN:
        return value
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_bool, is_float, is_integer

    if is_float(value):
        return float(value)
    if is_integer(value):
        return int(value)
    if is_bool(value):
        return bool(value)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    return None if value is pd.NA else value


def _row_violations(
    violations: list[dict[str, Any]] | None, start: int, stop: int
) -> dict[int, str]:
    """Each kept row's violations as JSON, by offset from ``start``; rows without are left out."""
    if not violations:
        return {}
    by_row: dict[Any, list[dict[str, Any]]] = {}
    for violation in violations:
        by_row.setdefault(violation["row"], []).append(violation)
    return {row - start: json_text(by_row[row]) for row in range(start, stop) if row in by_row}


__all__ = ["TYPED_PREFIX", "JsonColumn", "Queued", "RecordColumns", "TypedInputs", "json_text"]
