from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import pytest

from gnomon.errors import InvalidInput
from gnomon.nesting import MAX_BODY_DEPTH
from gnomon.serving.inputs import parse_body, parse_invocations

COLUMNS = ["hour", "city"]
EXPECTED = pd.DataFrame({"hour": [5, 6], "city": ["lyon", "oslo"]})
RECORDS = [{"hour": 5, "city": "lyon"}, {"hour": 6, "city": "oslo"}]
ROWS = [[5, "lyon"], [6, "oslo"]]


def _json(payload: Any) -> bytes:
    return orjson.dumps(payload)


def _assert_expected(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), EXPECTED)


@pytest.mark.parametrize(
    "payload",
    [
        {"records": RECORDS},
        {"columns": {"hour": [5, 6], "city": ["lyon", "oslo"]}},
        {"data": ROWS},
        {"columns": COLUMNS, "data": ROWS},
        RECORDS,
        ROWS,
    ],
    ids=["records", "columns", "data", "split", "bare-records", "bare-rows"],
)
def test_predict_json_shapes_give_the_same_frame(payload: Any) -> None:
    _assert_expected(parse_body(_json(payload), "application/json", COLUMNS))


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
        {"dataframe_split": {"data": ROWS, "index": [0, 1]}},
        {"dataframe_records": RECORDS},
        {"instances": RECORDS},
        {"instances": ROWS},
        {"inputs": {"hour": [5, 6], "city": ["lyon", "oslo"]}},
        {"inputs": RECORDS},
        {"inputs": ROWS},
    ],
    ids=[
        "split",
        "split-no-columns",
        "records",
        "instances-records",
        "instances-rows",
        "inputs-columns",
        "inputs-records",
        "inputs-rows",
    ],
)
def test_invocations_mlflow_formats_give_the_same_frame(payload: Any) -> None:
    _assert_expected(parse_invocations(_json(payload), "application/json", COLUMNS))


@pytest.mark.parametrize("parse", [parse_body, parse_invocations])
def test_csv_with_header(parse: Any) -> None:
    body = b"hour,city\n5,lyon\n6,oslo\n"
    _assert_expected(parse(body, "text/csv; charset=utf-8", COLUMNS))


def test_single_record_object() -> None:
    frame = parse_body(_json({"hour": 5, "city": "lyon"}), None, COLUMNS)
    pd.testing.assert_frame_equal(frame, EXPECTED.iloc[:1])


def test_inputs_single_record_and_single_column_instances() -> None:
    frame = parse_invocations(_json({"inputs": {"hour": 5, "city": "lyon"}}), None, COLUMNS)
    pd.testing.assert_frame_equal(frame, EXPECTED.iloc[:1])
    frame = parse_invocations(_json({"instances": [5, 6]}), None, ["hour"])
    pd.testing.assert_frame_equal(frame, EXPECTED[["hour"]])


def test_values_are_kept_as_they_came() -> None:
    records = [{"hour": "5", "city": 3}, {"hour": 1.5, "city": None}, {"hour": True}]
    frame = parse_body(_json({"records": records}), None, COLUMNS)
    assert frame["hour"].tolist() == ["5", 1.5, True]
    assert frame["city"].iloc[0] == 3


def test_rows_without_columns_are_named_by_position() -> None:
    frame = parse_body(_json({"data": ROWS}), None, None)
    assert list(frame.columns) == ["x0", "x1"]


def test_nan_written_by_python_json_is_read() -> None:
    frame = parse_invocations(b'{"dataframe_records": [{"hour": NaN}]}', None, ["hour"])
    assert frame["hour"].isna().all()


@pytest.mark.parametrize("parse", [parse_body, parse_invocations])
@pytest.mark.parametrize("body", [b"{not json", b'{"records": [', b"\xff\xfe"])
def test_malformed_json_is_flagged(parse: Any, body: bytes) -> None:
    with pytest.raises(InvalidInput, match="not valid JSON") as caught:
        parse(body, "application/json", COLUMNS)
    assert caught.value.details == {"malformed": True}


def test_malformed_csv_is_flagged() -> None:
    with pytest.raises(InvalidInput, match="not valid CSV") as caught:
        parse_body(b"hour,city\n5,lyon\n6,oslo,x,y\n", "text/csv", COLUMNS)
    assert caught.value.details == {"malformed": True}


@pytest.mark.parametrize(
    "payload",
    [
        5,
        "records",
        {"records": 5},
        {"records": [1, 2]},
        {"columns": [1, 2]},
        {"data": [1, 2]},
        {"hour": [5, 6]},
        {"hour": 5, "nested": {"a": 1}},
        [{"hour": 5}, [5]],
        [5, 6],
    ],
)
def test_predict_unknown_shapes_name_the_accepted_ones(payload: Any) -> None:
    with pytest.raises(InvalidInput, match="send JSON as") as caught:
        parse_body(_json(payload), None, COLUMNS)
    assert "malformed" not in caught.value.details
    assert '{"records"' in caught.value.message


@pytest.mark.parametrize(
    "payload",
    [
        RECORDS,
        {"records": RECORDS},
        {"dataframe_split": ROWS},
        {"dataframe_split": {"columns": COLUMNS}},
        {"dataframe_split": {"columns": "hour", "data": ROWS}},
        {"dataframe_records": ROWS},
        {"instances": 5},
        {"instances": RECORDS, "inputs": RECORDS},
        {"inputs": {"hour": [5], "city": "lyon"}},
    ],
)
def test_invocations_unknown_shapes_name_the_accepted_ones(payload: Any) -> None:
    with pytest.raises(InvalidInput, match="dataframe_split"):
        parse_invocations(_json(payload), None, COLUMNS)


def test_invocations_params_are_refused() -> None:
    with pytest.raises(InvalidInput, match="params are not supported"):
        parse_invocations(_json({"inputs": RECORDS, "params": {"k": 1}}), None, COLUMNS)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"  ", "application/json"),
        (_json({"records": []}), None),
        (_json([]), None),
        (_json({"columns": {"hour": []}}), None),
        (_json({"data": []}), None),
        (b"hour,city\n", "text/csv"),
        (b"", "text/csv"),
    ],
)
def test_empty_input_is_refused(body: bytes, content_type: str | None) -> None:
    with pytest.raises(InvalidInput, match=r"empty|no rows") as caught:
        parse_body(body, content_type, COLUMNS)
    assert "malformed" not in caught.value.details


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_json({"records": RECORDS * 2}), None),
        (_json({"columns": {"hour": [1, 2, 3]}}), None),
        (_json({"data": ROWS * 2}), None),
        (b"hour\n1\n2\n3\n", "text/csv"),
    ],
)
def test_too_many_rows_are_refused(body: bytes, content_type: str | None) -> None:
    with pytest.raises(InvalidInput, match="more than 2 rows") as caught:
        parse_body(body, content_type, COLUMNS, max_rows=2)
    assert caught.value.details == {"max_rows": 2}


def test_invocations_too_many_rows() -> None:
    with pytest.raises(InvalidInput, match="more than 1 rows"):
        parse_invocations(_json({"instances": RECORDS}), None, COLUMNS, max_rows=1)


def test_rows_of_the_wrong_width_are_refused() -> None:
    with pytest.raises(InvalidInput, match="row 1 has 1 values; expected 2") as caught:
        parse_body(_json({"data": [[5, "lyon"], [6]]}), None, COLUMNS)
    assert caught.value.details == {"row": 1, "columns": COLUMNS}


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(InvalidInput, match="different lengths"):
        parse_body(_json({"columns": {"hour": [5, 6], "city": ["lyon"]}}), None, COLUMNS)


# -- bounds on width and depth (counted before any frame is built) ----------------------------

WIDE = [f"c{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("parse", "body", "content_type"),
    [
        (parse_body, _json({"records": [dict.fromkeys(WIDE, 1)]}), None),
        (parse_body, _json([{"c0": 1, "c1": 1, "c2": 1}, {"c3": 1, "c4": 1}]), None),
        (parse_body, _json(dict.fromkeys(WIDE, 1)), None),
        (parse_body, _json({"columns": {c: [1] for c in WIDE}}), None),
        (parse_body, _json({"columns": WIDE, "data": [[1] * 5]}), None),
        (parse_body, _json({"data": [[1] * 5]}), None),
        (parse_body, b"c0,c1,c2,c3,c4\n1,1,1,1,1\n", "text/csv"),
        (parse_body, b'\n\n"c0\nstill c0",c1,c2,c3,c4\n1,1,1,1,1\n', "text/csv"),
        (parse_invocations, _json({"dataframe_split": {"columns": WIDE, "data": [[1] * 5]}}), None),
        (parse_invocations, _json({"dataframe_records": [dict.fromkeys(WIDE, 1)]}), None),
        (parse_invocations, _json({"inputs": {c: [1] for c in WIDE}}), None),
    ],
)
def test_more_columns_than_allowed_are_refused_with_the_count(
    parse: Any, body: bytes, content_type: str | None
) -> None:
    with pytest.raises(InvalidInput, match="names 5 columns; this model reads at most 4") as caught:
        parse(body, content_type, None, max_columns=4)
    assert caught.value.details == {"columns": 5, "max_columns": 4}
    assert len(parse(body, content_type, None, max_columns=5).columns) == 5


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


@pytest.mark.parametrize("parse", [parse_body, parse_invocations])
@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 1, 2_000, 200_000])
def test_deeply_nested_json_is_malformed(parse: Any, depth: int) -> None:
    # Past orjson's limit Python's json took over and raised RecursionError (a 503).
    body = b'{"instances": [{"hour": ' + _nested(depth) + b"}]}"
    with pytest.raises(InvalidInput, match=r"not valid JSON|deeper than") as caught:
        parse(body, None, COLUMNS)
    assert caught.value.details["malformed"] is True


def test_nesting_within_the_bound_is_read() -> None:
    body = b'{"instances": [{"hour": ' + _nested(MAX_BODY_DEPTH - 3) + b"}]}"
    assert len(parse_invocations(body, None, COLUMNS)) == 1


@pytest.fixture
def frames_built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every DataFrame constructed (read_csv builds one too) while the test runs."""
    built: list[int] = []
    init = pd.DataFrame.__init__

    def counting(self: pd.DataFrame, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "__init__", counting)
    return built


def _bodies(rows: int) -> dict[str, tuple[bytes, str | None, bool]]:
    """A body of ``rows`` rows in every shape: (body, content type, whether for /invocations)."""
    records = [{"hour": i, "city": "lyon"} for i in range(rows)]
    values = [[i, "lyon"] for i in range(rows)]
    hours = list(range(rows))
    csv_text = "hour,city\n" + "".join(f'{i},"ly\non"\n' for i in range(rows))
    return {
        "records": (_json({"records": records}), None, False),
        "float-records": (_json([{"a": 0.5, "b": 0.5}] * rows), None, False),
        "bare-rows": (_json(values), None, False),
        "columns": (_json({"columns": {"hour": hours, "city": ["lyon"] * rows}}), None, False),
        "data": (_json({"data": values}), None, False),
        "csv": (csv_text.encode(), "text/csv", False),
        "dataframe_split": (_json({"dataframe_split": {"data": values}}), None, True),
        "dataframe_records": (_json({"dataframe_records": records}), None, True),
        "instances": (_json({"instances": records}), None, True),
        "inputs-list": (_json({"inputs": values}), None, True),
        "inputs-columns": (_json({"inputs": {"hour": hours}}), None, True),
        "one-column-values": (_json({"instances": hours}), None, True),
    }


def _parse(body: bytes, content_type: str | None, invocations: bool, max_rows: int) -> Any:
    parse = parse_invocations if invocations else parse_body
    columns = ["hour"] if body.startswith(b'{"instances":[0') else COLUMNS
    return parse(body, content_type, columns, max_rows=max_rows)


@pytest.mark.parametrize("shape", sorted(_bodies(1)))
def test_too_many_rows_are_refused_before_any_frame_is_built(
    shape: str, frames_built: list[int]
) -> None:
    # The reported attack: a million two-value rows took 4 s of CPU to become a frame, only
    # to be refused for having more than 10,000 rows. Counting them costs nothing.
    body, content_type, invocations = _bodies(200)[shape]
    with pytest.raises(InvalidInput, match="more than 199 rows") as caught:
        _parse(body, content_type, invocations, max_rows=199)
    assert caught.value.details == {"max_rows": 199}
    assert frames_built == [], "a frame was built before the row count was checked"
    # The same body within the limit is read (and builds its frame): the counter works.
    assert len(_parse(body, content_type, invocations, max_rows=200)) == 200
    assert frames_built


def test_quoted_line_breaks_are_not_counted_as_csv_rows() -> None:
    body = b'hour,city\n1,"a\n\n\nb"\n2,"c\r\nd"\n'
    assert len(parse_body(body, "text/csv", COLUMNS, max_rows=2)) == 2


def test_a_csv_header_the_csv_module_cannot_read_is_malformed_not_unbounded() -> None:
    # csv refuses a field over 128 KiB; pandas would read it and then build every column
    # the width bound is there to refuse, so the body is refused as malformed (400).
    header = "x" * 140_000 + "," + ",".join(f"c{i}" for i in range(5_000))
    body = (header + "\n" + ",".join("0" for _ in range(5_001)) + "\n").encode()
    for parse in (parse_body, parse_invocations):
        with pytest.raises(InvalidInput, match="CSV body cannot be read") as caught:
            parse(body, "text/csv", ["a", "b"], max_columns=34)
        assert caught.value.details["malformed"] is True


def test_a_column_named_twice_is_refused() -> None:
    body = orjson.dumps({"dataframe_split": {"columns": ["a", "b", "a"], "data": [[1, 2, 3]]}})
    with pytest.raises(InvalidInput, match=r"the columns name \['a'\] more than once"):
        parse_invocations(body, "application/json", ["a", "b"])
