"""Monitors' latest figures as Prometheus gauges, read when ``/metrics`` is scraped.

:class:`MonitorCollector` asks a callable for each monitor's latest window at scrape time, so
it keeps no state of its own and needs no database: whoever builds it decides where the
figures come from. Every metric in :data:`METRICS` is described on every scrape, with or
without samples, so dashboards and alert rules find the names before any monitor has run.
A scrape never fails because of the figures: a figure it cannot export is skipped (and
logged once), and a callable that raises leaves that scrape without monitor samples.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("gnomon.monitoring")

WINDOW_LABELS = ("workspace", "monitor", "deployment")  # first on every figure's metric
MAX_LABEL_CHARS = 200  # callers bound label values; this keeps one bug from bloating a scrape
PREDICTION_COLUMN = "__prediction__"  # the column label of prediction drift


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One exported gauge: its Prometheus name, help and label names, in order."""

    name: str
    help: str
    labels: tuple[str, ...]


def _figure(name: str, help: str, *labels: str) -> MetricSpec:
    return MetricSpec(f"gnomon_monitor_{name}", help, (*WINDOW_LABELS, *labels))


# A figure's family → its gauge. A figure carries the labels after WINDOW_LABELS.
METRICS: Mapping[str, MetricSpec] = {
    "rows": _figure("rows", "Prediction records in the monitor's last window"),
    "drift_share": _figure("drift_share", "Share of monitored columns that drifted"),
    "dataset_drift": _figure("dataset_drift", "1 when the drift share reached the threshold"),
    "drift_score": _figure(
        "drift_score",
        f"Drift score of a column against the reference (predictions: {PREDICTION_COLUMN})",
        "column",
    ),
    "drift_detected": _figure("drift_detected", "1 when a column drifted", "column"),
    "null_rate": _figure("null_rate", "Share of a column's values missing", "column"),
    "out_of_range_rate": _figure(
        "out_of_range_rate", "Share of a column's values outside the contract's range", "column"
    ),
    "unseen_rate": _figure(
        "unseen_rate", "Share of a column's values not seen in the reference", "column"
    ),
    "type_error_rate": _figure(
        "type_error_rate", "Share of a column's values of the wrong type", "column"
    ),
    "rejected": _figure("rejected_rows", "Rows the contract refused in the last window"),
    "outlier_rate": _figure("outlier_rate", "Share of records flagged as outliers"),
    "performance": _figure(
        "performance",
        "Live performance against outcomes (arm all: every arm; segment '': not a segment)",
        "arm",
        "metric",
        "segment_column",
        "segment",
    ),
    "outcomes": _figure("outcomes", "Outcomes joined to the window's records"),
}
WINDOW_END = MetricSpec(
    "gnomon_monitor_last_window_end_seconds",
    "End of the monitor's last window, Unix time",
    WINDOW_LABELS,
)
ALERTS_FIRING = MetricSpec(
    "gnomon_alerts_firing",
    "1 for each alert rule firing now",
    ("workspace", "monitor", "rule", "severity"),
)
EXPORTED: tuple[MetricSpec, ...] = (*METRICS.values(), WINDOW_END, ALERTS_FIRING)


@dataclass(frozen=True, slots=True)
class MonitorFigure:
    """One figure of a monitor's window: a family of :data:`METRICS` and its own labels."""

    family: str
    value: float | None  # None: not computed (too little data), so not exported
    labels: tuple[tuple[str, str], ...] = ()  # e.g. (("column", "age"),)


@dataclass(frozen=True, slots=True)
class LatestFigures:
    """A monitor's latest window: its figures and the alerts firing now."""

    workspace: str
    monitor: str
    deployment: str
    window_end_ms: int
    figures: tuple[MonitorFigure, ...]
    firing: tuple[tuple[str, str], ...] = ()  # (rule name, severity)


class MonitorCollector(Collector):
    """Exports the figures ``latest`` returns, called once per scrape.

    Args:
        latest: each monitor's latest window; it may raise (the scrape then carries no
            monitor samples and the error is logged).

    Example:
        >>> registry = CollectorRegistry()
        >>> registry.register(MonitorCollector(lambda: [latest_of_churn]))  # doctest: +SKIP
        >>> generate_latest(registry)  # doctest: +SKIP
    """

    def __init__(self, latest: Callable[[], Iterable[LatestFigures]]) -> None:
        self._latest = latest
        self._logged: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        # Registering calls this, not collect(): no figures are read at registration.
        return [_family(spec) for spec in EXPORTED]

    def collect(self) -> Iterable[Metric]:
        samples = _Samples()
        try:
            for latest in self._latest():
                self._add(samples, latest)
        except Exception:
            logger.exception("reading the monitors' latest figures failed; none exported")
            samples = _Samples()  # a half-read scrape would look like series disappearing
        return samples.families()

    def _add(self, samples: _Samples, latest: LatestFigures) -> None:
        window = (latest.workspace, latest.monitor, latest.deployment)
        samples.add(WINDOW_END, window, latest.window_end_ms / 1000)
        for figure in latest.figures:
            spec = METRICS.get(figure.family)
            values = None if spec is None else _label_values(spec, figure.labels)
            if spec is None or values is None:
                self._skip(latest, figure, "of an unknown family or with the wrong labels")
                continue
            if figure.value is None:
                continue
            try:
                value = float(figure.value)
            except (TypeError, ValueError):
                self._skip(latest, figure, "not a number")
                continue
            if not samples.add(spec, (*window, *values), value):
                self._skip(latest, figure, "given twice")
        for rule, severity in latest.firing:
            samples.add(ALERTS_FIRING, (latest.workspace, latest.monitor, rule, severity), 1)

    def _skip(self, latest: LatestFigures, figure: MonitorFigure, why: str) -> None:
        # Once per kind of mistake: the same bad figure comes back on every scrape.
        names = tuple(str(name)[:MAX_LABEL_CHARS] for name, _ in figure.labels)
        key = (why, str(figure.family)[:MAX_LABEL_CHARS], *names)
        with self._lock:
            if key in self._logged:
                return
            self._logged.add(key)
        logger.warning(
            "monitor %r: figure %r with labels %s is %s: not exported",
            str(latest.monitor)[:MAX_LABEL_CHARS],
            key[1],
            list(names),
            why,
        )


class _Samples:
    """One scrape's gauges; a series given twice keeps its first value."""

    def __init__(self) -> None:
        self._families = {spec.name: _family(spec) for spec in EXPORTED}
        self._seen: set[tuple[str, ...]] = set()

    def add(self, spec: MetricSpec, values: tuple[str, ...], value: float) -> bool:
        values = tuple(str(v)[:MAX_LABEL_CHARS] for v in values)
        key = (spec.name, *values)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._families[spec.name].add_metric(values, value)
        return True

    def families(self) -> Iterator[Metric]:
        return iter(self._families.values())


def _family(spec: MetricSpec) -> GaugeMetricFamily:
    return GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)


def _label_values(spec: MetricSpec, labels: tuple[tuple[str, str], ...]) -> tuple[str, ...] | None:
    """The figure's label values in ``spec``'s order; None when its names are not the spec's."""
    own = spec.labels[len(WINDOW_LABELS) :]
    given = dict(labels)
    if len(given) != len(labels) or set(given) != set(own):
        return None
    return tuple(given[name] for name in own)


__all__ = [
    "ALERTS_FIRING",
    "EXPORTED",
    "METRICS",
    "PREDICTION_COLUMN",
    "WINDOW_END",
    "LatestFigures",
    "MetricSpec",
    "MonitorCollector",
    "MonitorFigure",
]
