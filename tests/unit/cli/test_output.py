"""Shared CLI formatting: JSON conversion (non-finite floats), times and durations."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest

from gnomon._types import Page
from gnomon.cli.output import (
    display_uri,
    format_duration,
    format_time,
    format_value,
    print_json,
    to_jsonable,
)
from gnomon.tracking.entities import Lifecycle, Metric, RunStatus


def test_non_finite_floats_become_strings_python_reads_back() -> None:
    data = to_jsonable({"a": math.nan, "b": math.inf, "c": -math.inf, "d": 0.5})
    assert data == {"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": 0.5}
    assert math.isinf(float(data["b"])) and math.isnan(float(data["a"]))


def test_print_json_is_valid_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    print_json([Metric("loss", math.nan, 3, 10), Metric("acc", 0.9)])

    def reject(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    parsed = json.loads(capsys.readouterr().out, parse_constant=reject)
    assert parsed == [
        {"key": "loss", "value": "NaN", "step": 3, "timestamp": 10},
        {"key": "acc", "value": 0.9, "step": 0, "timestamp": 0},
    ]


def test_enums_pages_and_nesting() -> None:
    page = Page([{"status": RunStatus.FINISHED, "lifecycle": Lifecycle.DELETED}], None)
    assert to_jsonable(page) == [{"status": "FINISHED", "lifecycle": "deleted"}]
    assert to_jsonable((1, [2.5, None], {"k": True})) == [1, [2.5, None], {"k": True}]


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_format_time_is_local_iso() -> None:
    ms = 1_700_000_000_123
    expected = datetime.fromtimestamp(ms / 1000).astimezone()
    assert datetime.fromisoformat(format_time(ms)) == expected.replace(microsecond=0)
    assert format_time(ms, compact=True) == expected.strftime("%Y-%m-%dT%H:%M")
    assert format_time(None) == "—"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0, "0ms"),
        (999, "999ms"),
        (1500, "1.5s"),
        (65_000, "1m 05s"),
        (3_723_000, "1h 02m"),
    ],
)
def test_format_duration(ms: int | None, text: str) -> None:
    assert format_duration(ms) == text


def test_format_value() -> None:
    assert format_value(0.123456789) == "0.123457"
    assert format_value(math.nan) == "nan"
    assert format_value("rf") == "rf"
    assert format_value(None) == "—"


def test_display_uri_hides_passwords() -> None:
    shown = display_uri("postgresql://ann:s3cret@db.example/gnomon")
    assert "s3cret" not in shown and "ann" in shown
    assert display_uri("sqlite:////tmp/gnomon.db") == "sqlite:////tmp/gnomon.db"
