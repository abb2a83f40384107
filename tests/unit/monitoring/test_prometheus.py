"""The monitors' gauges as a scrape of a real registry reports them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gnomon.monitoring.prometheus import (
    ALERTS_FIRING,
    EXPORTED,
    METRICS,
    WINDOW_END,
    LatestFigures,
    MonitorCollector,
    MonitorFigure,
)

Sample = tuple[str, dict[str, str], float]
WINDOW = {"workspace": "acme", "monitor": "churn-drift", "deployment": "churn-api"}


def _scrape(latest: Callable[[], Iterable[LatestFigures]]) -> tuple[set[str], list[Sample]]:
    """The metric names described and the samples of one scrape."""
    registry = CollectorRegistry()
    registry.register(MonitorCollector(latest))
    text = generate_latest(registry).decode()
    families = list(text_string_to_metric_families(text))
    samples = [(s.name, s.labels, s.value) for f in families for s in f.samples]
    return {f.name for f in families}, samples


def _latest(*figures: MonitorFigure, firing: tuple[tuple[str, str], ...] = ()) -> LatestFigures:
    return LatestFigures("acme", "churn-drift", "churn-api", 1_700_000_000_000, figures, firing)


def test_every_metric_is_described_before_any_monitor_ran() -> None:
    names, samples = _scrape(lambda: [])
    assert names == {spec.name for spec in EXPORTED}
    assert len(names) == len(METRICS) + 2 and samples == []


def test_registering_reads_no_figures() -> None:
    def latest() -> list[LatestFigures]:
        raise AssertionError("read at registration")

    CollectorRegistry(auto_describe=True).register(MonitorCollector(latest))


def test_each_family_is_exported_under_its_name_with_its_labels() -> None:
    own = {
        "column": "age",
        "arm": "canary",
        "metric": "f1",
        "segment_column": "",
        "segment": "",
    }
    figures = [
        MonitorFigure(family, 0.25, tuple((name, own[name]) for name in spec.labels[3:]))
        for family, spec in METRICS.items()
    ]
    _, samples = _scrape(lambda: [_latest(*figures, firing=(("drift-high", "critical"),))])
    for family, spec in METRICS.items():
        labels = {**WINDOW, **{name: own[name] for name in spec.labels[3:]}}
        assert (spec.name, labels, 0.25) in samples, family
    assert (WINDOW_END.name, WINDOW, 1_700_000_000.0) in samples
    alert = {"workspace": "acme", "monitor": "churn-drift", "rule": "drift-high"}
    assert (ALERTS_FIRING.name, {**alert, "severity": "critical"}, 1.0) in samples
    assert len(samples) == len(METRICS) + 2


def test_figures_not_computed_are_not_exported() -> None:
    figures = (
        MonitorFigure("drift_score", None, (("column", "age"),)),
        MonitorFigure("drift_score", 0.3, (("column", "__prediction__"),)),
    )
    _, samples = _scrape(lambda: [_latest(*figures)])
    scores = [s for s in samples if s[0] == "gnomon_monitor_drift_score"]
    assert scores == [("gnomon_monitor_drift_score", {**WINDOW, "column": "__prediction__"}, 0.3)]


def test_performance_labels_are_put_in_order_whatever_order_they_come_in() -> None:
    labels = (("segment", "fr"), ("metric", "auc"), ("arm", "all"), ("segment_column", "country"))
    _, samples = _scrape(lambda: [_latest(MonitorFigure("performance", 0.91, labels))])
    expected = {**WINDOW, "arm": "all", "metric": "auc", "segment_column": "country"}
    assert ("gnomon_monitor_performance", {**expected, "segment": "fr"}, 0.91) in samples


def test_unknown_families_and_wrong_labels_are_skipped_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = (
        MonitorFigure("drift_magic", 1.0),
        MonitorFigure("drift_score", 1.0),  # no column
        MonitorFigure("null_rate", 1.0, (("column", "a"), ("column", "b"))),
        MonitorFigure("rows", 1.0, (("column", "age"),)),
        MonitorFigure("rows", "many"),  # type: ignore[arg-type]
    )
    latest = [_latest(*bad, MonitorFigure("rows", 120))]
    registry = CollectorRegistry()
    registry.register(MonitorCollector(lambda: latest))
    with caplog.at_level(logging.WARNING, logger="gnomon.monitoring"):
        scrapes = [generate_latest(registry).decode() for _ in range(3)]
    assert len(caplog.records) == len(bad)
    assert "'drift_magic'" in caplog.text and "not a number" in caplog.text
    assert scrapes[0] == scrapes[2]
    samples = [s for f in text_string_to_metric_families(scrapes[0]) for s in f.samples]
    assert {s.name for s in samples} == {"gnomon_monitor_rows", WINDOW_END.name}
    assert [s.value for s in samples if s.name == "gnomon_monitor_rows"] == [120.0]


def test_a_failing_source_exports_nothing_but_still_describes_every_metric(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def latest() -> Iterable[LatestFigures]:
        yield _latest(MonitorFigure("rows", 5))
        raise ConnectionError("database gone")

    with caplog.at_level(logging.ERROR, logger="gnomon.monitoring"):
        names, samples = _scrape(latest)
    assert names == {spec.name for spec in EXPORTED} and samples == []
    assert "database gone" in caplog.text


def test_label_values_are_cut_to_200_characters_and_a_series_given_twice_keeps_its_first() -> None:
    long = "c" * 5000
    figures = (
        MonitorFigure("null_rate", 0.1, (("column", long),)),
        MonitorFigure("null_rate", 0.9, (("column", long + "x"),)),  # the same once cut
    )
    _, samples = _scrape(lambda: [_latest(*figures)])
    rates = [s for s in samples if s[0] == "gnomon_monitor_null_rate"]
    assert rates == [("gnomon_monitor_null_rate", {**WINDOW, "column": "c" * 200}, 0.1)]


def test_several_monitors_each_get_their_own_series() -> None:
    other = LatestFigures("acme", "fraud-quality", "fraud-api", 2_000, (MonitorFigure("rows", 7),))
    _, samples = _scrape(lambda: [_latest(MonitorFigure("rows", 3)), other])
    rows = {s[1]["monitor"]: s[2] for s in samples if s[0] == "gnomon_monitor_rows"}
    assert rows == {"churn-drift": 3.0, "fraud-quality": 7.0}
    ends = {s[1]["monitor"]: s[2] for s in samples if s[0] == WINDOW_END.name}
    assert ends == {"churn-drift": 1_700_000_000.0, "fraud-quality": 2.0}
