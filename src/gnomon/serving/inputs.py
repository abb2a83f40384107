"""Reading a prediction request's body into a DataFrame, before the contract is checked.

``POST /predict`` (:func:`parse_body`) takes JSON in one of these shapes, or CSV with a header
row when the content type is ``text/csv``:

- ``{"records": [{"hour": 5, "city": "lyon"}, ...]}``, or a bare list of records (or of
  positional rows, as ``data``);
- ``{"columns": {"hour": [5, 6], "city": ["lyon", "oslo"]}}``;
- ``{"data": [[5, "lyon"], ...]}``: rows whose values are named by position from the model's
  input columns (with ``"columns": [...]`` beside ``data``, from those);
- ``{"hour": 5, "city": "lyon"}``: one record.

``POST /invocations`` (:func:`parse_invocation`) takes MLflow's scoring formats, so MLflow
clients keep working: ``dataframe_split``, ``dataframe_records``, ``instances`` and ``inputs``,
with optional inference ``params`` beside them (:mod:`gnomon.serving.params`), or CSV. Its
content type is checked as MLflow's scoring server checks it (:func:`invocation_media`).

Values are kept as they came (a column may hold objects): checking types is
:mod:`gnomon.serving.enforce`'s job. A body that is not JSON at all, or nests lists and objects
deeper than ``MAX_BODY_DEPTH``, raises :class:`~gnomon.errors.InvalidInput` with
``details["malformed"]`` (the server answers 400); any other problem raises it plainly (422).

A request may name at most ``max_columns`` columns (the server allows the model's inputs and a
few more) and carry at most ``max_rows`` rows: both are counted on the parsed JSON (or the CSV
text), before any DataFrame is built, since building one with half a million columns or a
million rows takes seconds that a refusal should not cost.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any, Final, NamedTuple

import orjson
import pandas as pd

from gnomon.errors import InvalidInput
from gnomon.modelfolder.contract import MAX_COLUMNS  # also the widest a contract may be
from gnomon.nesting import MAX_BODY_DEPTH, brackets_at_most, deeper_than
from gnomon.serving.errors import UnsupportedMediaType
from gnomon.serving.params import check_params

MAX_ROWS: Final = 10_000

PREDICT_SHAPES: Final = (
    '{"records": [{...}, ...]}, {"columns": {"name": [...], ...}}, {"data": [[...], ...]}, '
    "a list of records, or one record object"
)
INVOCATION_SHAPES: Final = (
    '{"dataframe_split": {"columns": [...], "data": [[...], ...]}}, '
    '{"dataframe_records": [{...}, ...]}, {"instances": [...]} or {"inputs": ...}'
)
_INVOCATION_KEYS: Final = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON_TYPE: Final = "application/json"
CSV_TYPE: Final = "text/csv"
INVOCATION_TYPES: Final = (JSON_TYPE, CSV_TYPE)


class Invocation(NamedTuple):
    """An ``/invocations`` body: its rows, and the inference params sent beside them."""

    frame: pd.DataFrame
    params: dict[str, Any] | None


class _Bounds(NamedTuple):
    """The most rows and distinct columns one request may carry."""

    rows: int
    columns: int


def parse_body(
    body: bytes,
    content_type: str | None,
    columns: list[str] | None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> pd.DataFrame:
    """Read a ``POST /predict`` body.

    Args:
        body: the raw request body.
        content_type: the request's ``Content-Type``; ``text/csv`` reads CSV, anything else JSON.
        columns: the model's input columns in contract order, naming positional rows.
        max_rows: the most rows one request may carry.
        max_columns: the most distinct columns one request may name.

    Raises:
        InvalidInput: malformed or too deeply nested JSON, or malformed CSV
            (``details["malformed"]``), a shape not listed above, no rows, more than
            ``max_rows`` (``details["max_rows"]``) or more than ``max_columns``
            (``details["columns"]``, the count).
    """
    bounds = _Bounds(max_rows, max_columns)
    if _is_csv(content_type):
        return _from_csv(body, bounds)
    return _limited(_predict_frame(load_json(body), columns, bounds), max_rows)


def parse_invocation(
    body: bytes,
    content_type: str | None,
    columns: list[str] | None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> Invocation:
    """Read a ``POST /invocations`` body in one of MLflow's scoring formats, or CSV.

    Args and Raises: as :func:`parse_body`; the JSON must be an object with exactly one of
    ``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs``, and may hold
    ``params`` beside it (checked by :func:`gnomon.serving.params.check_params`). Also
    raises :class:`~gnomon.serving.errors.UnsupportedMediaType` (415) for a content type
    :func:`invocation_media` refuses.
    """
    bounds = _Bounds(max_rows, max_columns)
    if invocation_media(content_type) == CSV_TYPE:
        return Invocation(_from_csv(body, bounds), None)  # CSV carries no params (as MLflow)
    payload = load_json(body)
    params = None
    if isinstance(payload, dict) and "params" in payload:
        params = check_params(payload["params"])
        payload = {key: value for key, value in payload.items() if key != "params"}
    frame = _limited(_invocation_frame(payload, columns, bounds), max_rows)
    return Invocation(frame, params)


def parse_invocations(
    body: bytes,
    content_type: str | None,
    columns: list[str] | None,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> pd.DataFrame:
    """The rows of an ``/invocations`` body, for a caller that cannot hand params on.

    Args and Raises: as :func:`parse_invocation`; a body with params is refused.
    """
    frame, params = parse_invocation(body, content_type, columns, max_rows, max_columns)
    if params is not None:
        raise InvalidInput("inference params are not supported here; send the inputs alone")
    return frame


def invocation_media(content_type: str | None) -> str:
    """The media type of an ``/invocations`` body, checked as MLflow's scoring server checks
    it: ``application/json`` or ``text/csv``, whose only parameter may be ``charset=utf-8``.
    A body without a content type is read as JSON (MLflow fails on one with a 500).

    Raises:
        UnsupportedMediaType: another media type, charset or parameter (415), naming it and
            what is accepted.
    """
    if content_type is None:
        return JSON_TYPE
    media, *parameters = (part.strip() for part in content_type.split(";"))
    media = media.lower()  # media types are case-insensitive (RFC 9110), unlike in MLflow
    shown = content_type[:200]
    accepted = {"accepted": list(INVOCATION_TYPES)}
    if media not in INVOCATION_TYPES:
        raise UnsupportedMediaType(
            f"/invocations does not read content type {shown!r}: send application/json "
            "(MLflow's scoring formats) or text/csv",
            {"content_type": shown, **accepted},
        )
    for parameter in filter(None, parameters):
        name, _, value = (part.strip().lower() for part in parameter.partition("="))
        if name != "charset":
            raise UnsupportedMediaType(
                f"content type parameter {name!r} of {shown!r} is not understood: "
                f"/invocations reads {media} with at most charset=utf-8",
                {"content_type": shown, **accepted},
            )
        if value.strip('"') != "utf-8":
            raise UnsupportedMediaType(
                f"/invocations reads UTF-8 only; {shown!r} names another charset",
                {"content_type": shown, **accepted},
            )
    return media


def _has_lone_surrogate(body: bytes, payload: Any) -> bool:
    # Only a \\uXXXX escape can produce one (UTF-8 bytes cannot), so most bodies skip the check.
    if b"\\ud" not in body.lower():
        return False
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _is_csv(content_type: str | None) -> bool:
    if content_type is None:
        return False
    return content_type.split(";")[0].strip().lower() == "text/csv"


def load_json(body: bytes) -> Any:
    """A JSON body as Python values, as every body of the model server is read.

    Raises:
        InvalidInput: an empty body (422), or (``details["malformed"]``, 400) one that is
            not JSON or nests lists and objects deeper than ``MAX_BODY_DEPTH`` levels.
    """
    if not body.strip():
        raise InvalidInput("the request body is empty")
    lenient = False
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:  # Python's json.dumps (so MLflow's client) writes NaN and Infinity; orjson refuses
            payload = json.loads(body)
            lenient = True
        except (ValueError, RecursionError):  # RecursionError: nested past Python's stack
            message = f"the request body is not valid JSON: {exc}"
            raise InvalidInput(message, {"malformed": True}) from None
    # Counting brackets is a C scan: a one-row request never pays for the walk.
    if not brackets_at_most(body, MAX_BODY_DEPTH) and deeper_than(payload, MAX_BODY_DEPTH):
        raise InvalidInput(
            f"the request body nests lists and objects deeper than {MAX_BODY_DEPTH} levels",
            {"malformed": True, "max_depth": MAX_BODY_DEPTH},
        )
    if lenient and _has_lone_surrogate(body, payload):
        # orjson refuses "\ud800"; json takes it, and pandas, Parquet and every log line
        # would then fail on text that is not Unicode.
        raise InvalidInput(
            "the request body holds a lone surrogate escape (\\ud800-\\udfff): "
            "text must be valid Unicode",
            {"malformed": True},
        )
    return payload


def _predict_frame(payload: Any, columns: list[str] | None, bounds: _Bounds) -> pd.DataFrame:
    if isinstance(payload, list):
        return _from_list(payload, columns, PREDICT_SHAPES, bounds)
    if not isinstance(payload, dict):
        raise _shape_error(PREDICT_SHAPES)
    keys = set(payload)
    if keys == {"records"}:
        return _from_records(payload["records"], PREDICT_SHAPES, bounds)
    if keys == {"columns"}:
        return _from_columns(payload["columns"], PREDICT_SHAPES, bounds)
    if keys in ({"data"}, {"columns", "data"}):
        return _from_split(payload, columns, PREDICT_SHAPES, bounds)
    return _from_record(payload, PREDICT_SHAPES, bounds)


def _invocation_frame(payload: Any, columns: list[str] | None, bounds: _Bounds) -> pd.DataFrame:
    keys = set(payload) if isinstance(payload, dict) else set()
    if len(keys) != 1 or not keys <= set(_INVOCATION_KEYS):
        raise _shape_error(INVOCATION_SHAPES)
    (key,) = keys
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or not {"data"} <= set(value) <= {
            "columns",
            "data",
            "index",
        }:
            raise _shape_error(INVOCATION_SHAPES)
        return _from_split(value, columns, INVOCATION_SHAPES, bounds)
    if key == "dataframe_records":
        return _from_records(value, INVOCATION_SHAPES, bounds)
    if key == "inputs" and isinstance(value, dict):
        return _from_inputs_dict(value, bounds)
    return _from_list(value, columns, INVOCATION_SHAPES, bounds)


def _from_inputs_dict(value: dict[str, Any], bounds: _Bounds) -> pd.DataFrame:
    if value and all(isinstance(v, list) for v in value.values()):
        return _from_columns(value, INVOCATION_SHAPES, bounds)
    return _from_record(value, INVOCATION_SHAPES, bounds)


def _from_record(record: dict[str, Any], shapes: str, bounds: _Bounds) -> pd.DataFrame:
    """One record: an object whose values are all scalars (a list would be a wrapper's typo)."""
    if record and not any(isinstance(v, list | dict) for v in record.values()):
        _check_width(len(record), bounds.columns)
        return pd.DataFrame([record])
    raise _shape_error(shapes)


def _from_list(rows: Any, columns: list[str] | None, shapes: str, bounds: _Bounds) -> pd.DataFrame:
    """A list of records, of positional rows or, for a one-column model, of values."""
    if not isinstance(rows, list):
        raise _shape_error(shapes)
    _check_rows(len(rows), bounds)
    if all(isinstance(row, dict) for row in rows):
        return _from_records(rows, shapes, bounds)
    if all(isinstance(row, list) for row in rows):
        return _from_rows(rows, columns, bounds)
    if columns is not None and len(columns) == 1 and not any(isinstance(r, dict) for r in rows):
        return pd.DataFrame({columns[0]: rows})
    raise _shape_error(shapes)


def _from_records(records: Any, shapes: str, bounds: _Bounds) -> pd.DataFrame:
    if not isinstance(records, list):
        raise _shape_error(shapes)
    _check_rows(len(records), bounds)  # before any walk over them
    if not all(isinstance(r, dict) for r in records):
        raise _shape_error(shapes)
    _check_width(_record_width(records), bounds.columns)
    fast = _float_records(records)
    return fast if fast is not None else pd.DataFrame(records)


def _record_width(records: list[dict[str, Any]]) -> int:
    """The columns a frame of ``records`` would have: the union of their keys."""
    if len(records) == 1:  # the hot path: one request, one row
        return len(records[0])
    names: set[str] = set()
    for record in records:
        names.update(record)
    return len(names)


def _check_rows(count: int, bounds: _Bounds) -> None:
    if not count:
        raise InvalidInput("the input has no rows")
    if count > bounds.rows:
        raise _too_many_rows(bounds.rows)


def _too_many_rows(max_rows: int) -> InvalidInput:
    return InvalidInput(
        f"the input has more than {max_rows} rows; split it into smaller requests",
        {"max_rows": max_rows},
    )


def _check_width(count: int, width: int) -> None:
    if count > width:
        raise InvalidInput(
            f"the request names {count} columns; this model reads at most {width} "
            "(its inputs and a few more): send only the model's columns",
            {"columns": count, "max_columns": width},
        )


def _float_records(records: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Records whose values are all floats under the same keys, as one float64 block: what
    ``pd.DataFrame(records)`` builds, at a quarter of its cost (the common case of a numeric
    model; anything else returns None and takes the general path)."""
    import numpy as np

    keys = list(records[0])
    rows = []
    for record in records:
        if list(record) != keys:
            return None
        values = list(record.values())
        if not all(type(v) is float for v in values):
            return None
        rows.append(values)
    return pd.DataFrame(np.array(rows, dtype=np.float64), columns=keys)


def _from_columns(data: Any, shapes: str, bounds: _Bounds) -> pd.DataFrame:
    if (
        not isinstance(data, dict)
        or not data
        or not all(isinstance(v, list) for v in data.values())
    ):
        raise _shape_error(shapes)
    _check_width(len(data), bounds.columns)
    lengths = {name: len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInput(f"columns have different lengths: {lengths}", {"lengths": lengths})
    _check_rows(len(next(iter(data.values()))), bounds)
    return pd.DataFrame(data)


def _from_split(
    split: dict[str, Any], columns: list[str] | None, shapes: str, bounds: _Bounds
) -> pd.DataFrame:
    rows, names = split["data"], split.get("columns", columns)
    if not isinstance(rows, list):
        raise _shape_error(shapes)
    _check_rows(len(rows), bounds)  # before any walk over them
    if not all(isinstance(row, list) for row in rows):
        raise _shape_error(shapes)
    if names is not None and not isinstance(names, list):
        raise _shape_error(shapes)
    if names is not None:
        _check_width(len(names), bounds.columns)
    return _from_rows(rows, [str(n) for n in names] if names is not None else None, bounds)


def _from_rows(rows: list[list[Any]], columns: list[str] | None, bounds: _Bounds) -> pd.DataFrame:
    if columns is None:
        _check_width(len(rows[0]), bounds.columns)
    names = columns if columns is not None else [f"x{i}" for i in range(len(rows[0]))]
    if len(set(names)) != len(names):  # which of two "a" columns would the model read?
        repeated = sorted(n for n, seen in Counter(names).items() if seen > 1)[:5]
        raise InvalidInput(f"the columns name {repeated} more than once", {"columns": repeated})
    for index, row in enumerate(rows):
        if len(row) != len(names):
            raise InvalidInput(
                f"row {index} has {len(row)} values; expected {len(names)}, for {names}",
                {"row": index, "columns": names},
            )
    return pd.DataFrame(rows, columns=names)


def _from_csv(body: bytes, bounds: _Bounds) -> pd.DataFrame:
    _check_width(_csv_width(body), bounds.columns)
    if _csv_longer_than(body, bounds.rows):
        raise _too_many_rows(bounds.rows)
    try:
        frame = pd.read_csv(io.BytesIO(body), nrows=bounds.rows + 1)
    except pd.errors.EmptyDataError:
        raise InvalidInput("the CSV body is empty; send a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        message = f"the request body is not valid CSV: {exc}"
        raise InvalidInput(message, {"malformed": True}) from None
    return _limited(frame, bounds.rows)


def _csv_longer_than(body: bytes, max_rows: int) -> bool:
    """Whether the CSV holds more than ``max_rows`` data rows, counted by the csv module
    (a quoted line break is not a row) before pandas builds anything."""
    # Each row takes two bytes at least and ends in a line break but the last: a body too
    # short, or with too few breaks, cannot hold that many (so a small one is never read twice).
    if len(body) <= 2 * max_rows:
        return False
    if max(body.count(b"\n"), body.count(b"\r")) < max_rows:
        return False
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", errors="replace", newline="")
    rows = -1  # the header row
    try:
        for row in csv.reader(text):
            rows += bool(row)  # pandas skips blank lines
            if rows > max_rows:
                return True
    except csv.Error as exc:
        raise _malformed_csv(exc) from None
    return False


def _csv_width(body: bytes) -> int:
    """The header row's field count, read by the csv module (which stops at the end of the
    header, quoted line breaks included) before pandas parses anything."""
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", errors="replace", newline="")
    try:
        for row in csv.reader(text):
            if row:  # pandas skips blank lines before the header too
                return len(row)
    except csv.Error as exc:
        # Not "width unknown": pandas reads what csv refuses (a field over 128 KiB), and would
        # then build every column the bound is there to refuse.
        raise _malformed_csv(exc) from None
    return 0


def _malformed_csv(exc: csv.Error) -> InvalidInput:
    return InvalidInput(f"the CSV body cannot be read: {exc}", {"malformed": True})


def _limited(frame: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    if len(frame) == 0:
        raise InvalidInput("the input has no rows")
    if len(frame) > max_rows:  # counted before the frame was built: a safety net
        raise _too_many_rows(max_rows)
    return frame


def _shape_error(shapes: str) -> InvalidInput:
    return InvalidInput(f"cannot read the request body; send JSON as {shapes}", {"shapes": shapes})


__all__ = [
    "INVOCATION_SHAPES",
    "INVOCATION_TYPES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "PREDICT_SHAPES",
    "Invocation",
    "invocation_media",
    "load_json",
    "parse_body",
    "parse_invocation",
    "parse_invocations",
]
