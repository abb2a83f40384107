"""The monitor report page: well-formed, self-contained, escaped, bounded, and charting what
the windows hold. Windows are built by hand around real drift reports."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from gnomon.monitoring.drift import Reference, drift_report
from gnomon.monitoring.entities import Figure, Monitor, MonitorSpec, WindowResult, figure
from gnomon.monitoring.report_html import (
    MAX_COLUMNS,
    MAX_SEGMENTS,
    MAX_WINDOWS,
    POLICY,
    report_html,
)
from gnomon.monitoring.report_svg import number

HOUR = 3_600_000
HOSTILE_COLUMN = "<img src=x onerror=alert(1)>"
HOSTILE_CATEGORY = "</style><script>"
VOID = {"meta", "br", "hr", "img", "input", "link"}
LINE_CHARTS = {"drift-share", "drift-score", "prediction-drift", "rejected", "outlier-rate"}


class Page(HTMLParser):
    """The page's tags, checked to nest properly, its text, and per chart its points."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.values: list[tuple[str, str]] = []  # every attribute's name and value
        self.style = ""
        self.text: list[str] = []
        self.charts: list[dict[str, Any]] = []  # kind, name, points per series
        self.rows: list[dict[str, Any]] = []  # table class, row class, cell texts
        self._table: list[str] = []
        self.feed(html)
        self.close()
        assert self.open == [], f"unclosed tags {self.open}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handle_startendtag(tag, attrs)
        if tag not in VOID:
            self.open.append(tag)
        classes = (found.get("class") or "").split()
        if tag == "svg":
            self.charts.append(
                {
                    "kind": classes[1],
                    "name": found.get("data-name", found.get("data-column")),
                    "points": [],
                }
            )
        elif tag == "g" and "series" in classes:
            self.charts[-1]["points"].append(0)
        elif tag == "circle" and "point" in classes:
            self.charts[-1]["points"][-1] += 1
        elif tag == "table":
            self._table.append(found.get("class") or "")
        elif tag == "tr":
            self.rows.append({"table": self._table[-1], "class": found.get("class"), "cells": []})
        elif tag == "td":
            self.rows[-1]["cells"].append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.values += [(name, value or "") for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag == "table":
            self._table.pop()

    def handle_data(self, data: str) -> None:
        if "style" in self.open:
            self.style += data
        else:
            self.text.append(data)
        if "td" in self.open and self.rows and self.rows[-1]["cells"]:
            self.rows[-1]["cells"][-1] += data

    def table(self, kind: str) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["table"] == kind and row["cells"]]

    def charts_of(self, kind: str) -> list[dict[str, Any]]:
        return [chart for chart in self.charts if chart["kind"] == kind]


def monitor(name: str = "web-drift", **spec: Any) -> Monitor:
    return Monitor("m-1", "ws-1", name, MonitorSpec("web", **spec), 0, "ada", 0)


def reference_data(columns: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {  # a column that stays first, so drifting ones must be moved up
        "plan": rng.choice(["basic", "pro", HOSTILE_CATEGORY], 400),
        "age": rng.normal(40, 10, 400),
        HOSTILE_COLUMN: rng.normal(0, 1, 400),
    }
    for index in range(columns):
        data[f"extra{index}"] = rng.normal(0, 1, 400)
    return data


def window(
    reference: Reference,
    hour: int,
    *,
    shift: float = 0.0,
    rows: int = 300,
    extra: int = 0,
    details: Mapping[str, Any] | None = None,
    figures: Sequence[Figure] = (),
) -> WindowResult:
    """A window whose ``age`` and hostile column are shifted by ``shift``, with the figures and
    details the monitor writes for drift; ``rows == 0`` gives an empty window."""
    start, end = hour * HOUR, (hour + 1) * HOUR
    if rows == 0:
        return WindowResult("web-drift", start, end, 0, (figure("rows", 0.0, "rows"),), {}, end)
    rng = np.random.default_rng(hour + 1)
    current: dict[str, Any] = {
        "plan": rng.choice(["basic", "pro", HOSTILE_CATEGORY], rows),
        "age": rng.normal(40 + shift, 10, rows),
        HOSTILE_COLUMN: rng.normal(shift / 10, 1, rows),
    }
    for index in range(extra):
        current[f"extra{index}"] = rng.normal(0, 1, rows)
    report = drift_report(reference, current)
    found = [figure("rows", float(rows), "rows"), figure("drift.share", report.drift_share, "s")]
    for column in report.columns:
        detected = None if column.status == "insufficient" else float(column.status == "drift")
        found += [
            figure(f"drift.score.{column.column}", column.statistic, "drift_score"),
            figure(f"drift.detected.{column.column}", detected, "drift_detected"),
        ]
    return WindowResult(
        "web-drift",
        start,
        end,
        rows,
        (*found, *figures),
        {"drift": report.to_dict(), **(details or {})},
        end,
    )


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference.from_columns(reference_data())


def external_references(page: Page) -> list[str]:
    """Attribute values and style rules that would load something (an SVG's ``xmlns`` names
    a namespace, loads nothing)."""
    loading = re.compile(r"^\s*(?:https?:|//|data:)|url\(|@import", re.IGNORECASE)
    found = [v for n, v in page.values if not n.startswith("xmlns") and loading.search(v)]
    return found + re.findall(r"url\(|@import|https?:", page.style)


def test_the_page_is_well_formed_and_self_contained(reference: Reference) -> None:
    windows = [window(reference, hour, shift=hour * 4.0) for hour in range(4)]
    html = report_html(monitor(), windows)
    page = Page(html)
    assert "<script" not in html.lower() and "script" not in page.tags
    assert not page.tags & {"img", "iframe", "link", "object", "embed", "image", "use"}
    assert not page.attributes & {"src", "href", "xlink:href", "srcset", "action"}
    assert external_references(page) == []
    assert f'content="{POLICY}"' in html and POLICY == (
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert html.startswith("<!doctype html>")
    text = "".join(page.text)
    assert "web-drift" in text and "training" in text and "1h" in text
    assert "1970-01-01T00:00:00Z to 1970-01-01T04:00:00Z" in text


def test_drifted_columns_come_first_and_stand_out(reference: Reference) -> None:
    html = report_html(monitor(), [window(reference, 0, shift=30.0)])
    page = Page(html)
    rows = page.table("drift")
    assert [row["cells"][0] for row in rows] == ["age", HOSTILE_COLUMN, "plan"]
    assert [row["cells"][-1] for row in rows] == ["drift", "drift", "ok"]
    drifted = {row["cells"][0] for row in rows if row["class"] == "drift"}
    assert drifted == {"age", HOSTILE_COLUMN}
    assert {row["cells"][0] for row in rows if row["class"] != "drift"} == {"plan"}
    assert [chart["name"] for chart in page.charts_of("drift-score")][:2] == [
        "age",
        HOSTILE_COLUMN,
    ]
    # Each column's reference and current histograms, both drawn.
    histograms = page.charts_of("histogram")
    assert [chart["name"] for chart in histograms] == ["age", HOSTILE_COLUMN]
    assert html.count('class="series-0"') >= 3 and html.count('class="series-1"') >= 3
    assert [chart["name"] for chart in page.charts_of("categories")] == ["plan"]
    assert "dataset drift: yes" in "".join(page.text)


def test_hostile_names_and_categories_stay_text(reference: Reference) -> None:
    outliers = {
        "rate": 0.5,
        "threshold": 3.0,
        "top": [{"request_id": "<iframe src=//x>", "score": 7.5, "values": {HOSTILE_COLUMN: 9.0}}],
    }
    hostile = monitor("<i>m</i>", description="<svg onload=alert(3)>")
    html = report_html(hostile, [window(reference, 0, shift=30.0, details={"outliers": outliers})])
    page = Page(html)
    for raw in (HOSTILE_COLUMN, HOSTILE_CATEGORY, "<iframe", "<i>m</i>", "<svg onload"):
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/style&gt;&lt;script&gt;" in html
    assert not page.tags & {"img", "script", "iframe", "i"}
    assert "onerror" not in page.attributes and "onload" not in page.attributes
    assert external_references(page) == []
    text = "".join(page.text)
    for shown in (HOSTILE_COLUMN, HOSTILE_CATEGORY, "<iframe src=//x>", "<i>m</i>"):
        assert shown in text


def test_no_windows_show_an_empty_state() -> None:
    html = report_html(monitor(), [])
    page = Page(html)
    assert "No window has been evaluated yet" in "".join(page.text)
    assert page.charts == [] and "<h2>" not in html
    assert external_references(page) == []


def test_windows_without_rows_are_gaps_and_the_latest_with_rows_is_detailed(
    reference: Reference,
) -> None:
    windows = [
        window(reference, 0, shift=30.0),
        window(reference, 1, rows=0),
        window(reference, 2, rows=0),
    ]
    page = Page(report_html(monitor(), windows))
    share = page.charts_of("drift-share")
    assert share[0]["points"] == [3]
    assert "1970-01-01T00:00:00Z to 1970-01-01T01:00:00Z, 300 rows" in "".join(page.text)
    assert len(page.table("drift")) == 3
    only_empty = Page(report_html(monitor(), windows[1:]))
    assert only_empty.charts_of("drift-share")[0]["points"] == [2]
    assert only_empty.table("drift") == [] and only_empty.charts_of("drift-score") == []
    assert "No window has records yet." in "".join(only_empty.text)


def test_every_line_chart_has_one_point_per_window(reference: Reference) -> None:
    extra = [figure("outliers.rate", 0.01, "outlier_rate"), figure("quality.rejected", 2.0, "r")]
    details = {
        "outliers": {"rate": 0.01, "threshold": 3.0, "top": []},
        "quality": {"columns": {}, "rejected": 2},
    }
    windows = [
        window(reference, hour, shift=hour * 3.0, figures=extra, details=details)
        for hour in range(7)
    ]
    windows.insert(3, window(reference, 99, rows=0))  # given out of order on purpose
    page = Page(report_html(monitor(), windows))
    lines = [chart for chart in page.charts if chart["kind"] in LINE_CHARTS]
    assert {chart["kind"] for chart in lines} == {
        "drift-share",
        "drift-score",
        "rejected",
        "outlier-rate",
    }
    assert len(page.charts_of("drift-score")) == 3
    for chart in lines:
        assert chart["points"] == [len(windows)], chart


def test_at_most_the_newest_windows_are_charted(reference: Reference) -> None:
    windows = [window(reference, hour, rows=0) for hour in range(MAX_WINDOWS + 30)]
    windows.append(window(reference, MAX_WINDOWS + 30))
    html = report_html(monitor(), windows)
    page = Page(html)
    assert page.charts_of("drift-share")[0]["points"] == [MAX_WINDOWS]
    text = "".join(page.text)
    assert f"{MAX_WINDOWS + 31} (the newest {MAX_WINDOWS} are charted)" in text
    assert "1970-01-01T00:00:00Z to" in text  # the summary's span still covers them all


def test_at_most_fifty_columns_are_shown_in_full() -> None:
    wide = Reference.from_columns(reference_data(columns=MAX_COLUMNS + 7))
    page = Page(report_html(monitor(), [window(wide, 0, extra=MAX_COLUMNS + 7)]))
    assert len(page.table("drift")) == MAX_COLUMNS
    assert len(page.charts_of("drift-score")) == MAX_COLUMNS
    assert len(page.charts_of("histogram")) + len(page.charts_of("categories")) == MAX_COLUMNS
    assert "".join(page.text).count("10 more columns left out.") == 2


def test_figures_have_four_significant_digits_and_missing_ones_a_dash() -> None:
    assert number(0.123456) == "0.1235"
    assert number(123456.7) == "1.235e+05"
    assert number(2.0) == "2" and number(1234) == "1,234"
    assert number(None) == "—" and number(float("nan")) == "—"
    assert number("<b>") == "&lt;b&gt;"


def performance_details(segments: int = 3) -> dict[str, Any]:
    values = {f"s{index}": 0.5 + index / (2 * segments) for index in range(segments)}
    values["<u>worst</u>"] = 0.1
    return {
        "task": "classification",
        "outcomes": 400,
        "overall": {"accuracy": 0.8, "f1": 0.75},
        "arms": {
            "primary": {"version": 3, "outcomes": 400, "metrics": {"accuracy": 0.8, "f1": 0.75}},
            "shadow": {"version": 4, "outcomes": 400, "metrics": {"accuracy": 0.9, "f1": None}},
        },
        "segment": "country",
        "segments": {
            name: {"outcomes": 10, "metrics": {"accuracy": value, "f1": 0.5}}
            for name, value in values.items()
        },
    }


def test_performance_shows_arms_side_by_side_and_worse_segments_first(
    reference: Reference,
) -> None:
    def metrics(f1: float | None) -> list[Figure]:
        return [figure("performance.accuracy", 0.8, "p"), figure("performance.f1", f1, "p")]

    details = {"performance": performance_details()}
    windows = [
        window(reference, 0, figures=metrics(None)),  # f1 not computable: a gap
        window(reference, 1, figures=metrics(0.75), details=details),
    ]
    html = report_html(monitor(), windows)
    page = Page(html)
    arms = {row["cells"][0]: row["cells"][1:] for row in page.table("arms")}
    assert arms["version"] == ["—", "3", "4"]
    assert arms["accuracy"] == ["0.8", "0.8", "0.9"] and arms["f1"] == ["0.75", "0.75", "—"]
    assert '<td class="best">0.9</td>' in html
    segments = page.table("segments")
    assert segments[0]["cells"][0] == "<u>worst</u>" and segments[0]["class"] == "worse"
    assert [row["cells"][2] for row in segments] == ["0.1", "0.5", "0.6667", "0.8333"]
    assert [row["class"] for row in segments] == ["worse", "worse", "worse", ""]
    assert html.count('class="bar worse"') == 3 and html.count('class="bar"') == 1
    chart = page.charts_of("performance")[0]
    assert chart["points"] == [2, 2]  # accuracy and f1, each a point per window
    assert html.count('class="point missing"') == 1
    assert "<u>" not in html


def test_at_most_twenty_segments_are_shown(reference: Reference) -> None:
    details = {"performance": performance_details(segments=MAX_SEGMENTS + 5)}
    page = Page(report_html(monitor(), [window(reference, 0, details=details)]))
    assert len(page.table("segments")) == MAX_SEGMENTS
    assert "6 more segments left out." in "".join(page.text)


def test_quality_outliers_and_prediction_drift_of_the_latest_window(
    reference: Reference,
) -> None:
    predictions = Reference.from_columns({"__prediction__": np.arange(200.0)})
    prediction_drift = drift_report(predictions, {"__prediction__": np.arange(200.0) + 150})
    details = {
        "quality": {
            "columns": {
                "age": {"nulls": 0, "out_of_range": 0, "unseen": 0, "type_errors": 0},
                "plan": {"nulls": 3, "out_of_range": 0, "unseen": 30, "type_errors": 0},
            },
            "rejected": 4,
        },
        "outliers": {
            "rate": 0.02,
            "threshold": 3.123456,
            "top": [
                {
                    "request_id": "req-1",
                    "score": 8.765432,
                    "values": {f"c{i}": float(i) for i in range(12)},
                }
            ],
        },
        "prediction_drift": prediction_drift.to_dict(),
    }
    figures = [figure("drift.prediction.score", 0.75, "drift_score")]
    page = Page(report_html(monitor(), [window(reference, 0, details=details, figures=figures)]))
    quality = page.table("quality")
    assert quality[0]["cells"] == ["plan", "3 (1%)", "0", "30 (10%)", "0"]
    assert quality[1]["cells"] == ["age", "0", "0", "0", "0"]
    text = "".join(page.text)
    assert "4 rows were rejected" in text and "(3.123)" in text
    top = page.table("outliers")
    assert top[0]["cells"][:2] == ["req-1", "8.765"]
    assert top[0]["cells"][2].endswith("c9 = 9, and 2 more")
    assert page.charts_of("prediction-drift")[0]["points"] == [1]
    assert [chart["name"] for chart in page.charts_of("histogram")][-1] == "prediction"
