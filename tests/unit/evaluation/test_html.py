"""The notebook view of an evaluation: values escaped, tables bounded, directions right."""

from __future__ import annotations

import math
import re

import pandas as pd

from gnomon.evaluation import EvaluationResult, judge
from gnomon.tracking.html import MAX_ROWS

HOSTILE = "<script>alert(1)</script>"


def result(**changes: object) -> EvaluationResult:
    fields: dict[str, object] = {
        "run_id": "r1",
        "model_type": "regressor",
        "rows": 500,
        "metrics": {"rmse": 2.0, "mae": 1.5, "r2": 0.8},
    }
    fields.update(changes)
    return EvaluationResult(**fields)  # type: ignore[arg-type]


def cells(html: str, first: str) -> list[str]:
    """The cell texts of the table row whose first cell is ``first``."""
    row = re.search(rf"<tr><td[^>]*>{re.escape(first)}</td>(.*?)</tr>", html)
    assert row is not None, first
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1))


def test_hostile_model_segment_and_metric_values_are_escaped() -> None:
    verdict = judge({HOSTILE: 1.0}, {HOSTILE: {"min_value": 2.0}})
    segments = pd.DataFrame({"region": [HOSTILE, "<img src=x onerror=alert(1)>"], "count": [3, 2]})
    html = result(
        model=HOSTILE,
        baseline="models:/churn@<b>prod</b>",
        verdict=verdict,
        segments=segments,
        notes=[f"note {HOSTILE}"],
    )._repr_html_()
    for raw in ("<script", "<img", "<b>prod"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "models:/churn@&lt;b&gt;prod&lt;/b&gt;" in html
    assert "FAILED" in html  # the verdict, shown beside what was evaluated


def test_the_output_is_bounded() -> None:
    long = "a" * 10_000
    segments = pd.DataFrame({"region": [f"{i}{long}" for i in range(120)], "count": 1})
    for extra in range(30):
        segments[f"metric_{extra}"] = 0.5
    html = result(model=long, segments=segments, notes=[long])._repr_html_()
    assert len(html) < 150_000  # 120 segments of 10,000 characters would be 1.2 MB
    assert "a" * 1_000 not in html  # every value cut
    assert f"{120 - MAX_ROWS} more segments not shown (of 120)" in html
    assert "16 more columns not shown (of 32)" in html


def test_better_by_follows_each_metrics_direction() -> None:
    base = {"rmse": 3.0, "mae": 1.0, "r2": math.nan}
    html = result(baseline_metrics=base, baseline="in-memory LinearRegression")._repr_html_()
    assert cells(html, "rmse") == ["2", "3", "1"]  # rmse fell by 1: better
    assert cells(html, "mae") == ["1.5", "1", "-0.5"]  # mae rose: worse
    assert cells(html, "r2") == ["0.8", "nan", "nan"]
