"""The model server's Prometheus metrics: the HTTP ones both servers keep, and its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gnomon.serving.enforce import Violation
from gnomon.web.middleware import HttpMetrics

UNKNOWN_COLUMN = "<unknown>"  # the violations metric's label for every column not in a contract
# Seconds, from a small model's 0.5 ms to a large one's 10 s.
PREDICT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServingMetrics(HttpMetrics):
    """The API server's HTTP metrics, and the model server's own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.predictions = Counter(
            "gnomon_predictions_total",
            "Rows predicted",
            ["model", "version", "role"],
            registry=registry,
        )
        self.prediction_seconds = Histogram(
            "gnomon_prediction_seconds",
            "Time an arm's model took to predict a request's rows (a batched arm's includes "
            "the wait for its batch)",
            ["model", "version", "role"],
            buckets=PREDICT_BUCKETS,
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "gnomon_shadow_dropped_total",
            "Shadow copies dropped because the shadow fell behind",
            registry=registry,
        )
        self.reloads = Counter(
            "gnomon_route_reloads_total",
            "Route table reloads after a deployment changed, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.errors = Counter(
            "gnomon_prediction_errors_total", "Failed predict calls", ["kind"], registry=registry
        )
        self.violations = Counter(
            "gnomon_contract_violations_total",
            f"Contract violations in requests (columns the contract lacks: {UNKNOWN_COLUMN})",
            ["column", "problem"],
            registry=registry,
        )
        self.records_dropped = Counter(
            "gnomon_records_dropped_total",
            "Prediction records dropped: the writer fell behind or could not write them",
            registry=registry,
        )
        self.outcomes_dropped = Counter(
            "gnomon_outcomes_dropped_total",
            "Accepted outcomes dropped because they could not be built into a file",
            registry=registry,
        )

        # Views are the feature service's: a fixed set, named by the operator, not clients.
        self.feature_stale = Counter(
            "gnomon_feature_stale_total",
            "Online feature values found but older than their view's TTL (served as missing)",
            ["view"],
            registry=registry,
        )
        self.feature_age = Gauge(
            "gnomon_feature_age_seconds",
            "Age of the newest online value a request of this view found (its freshness)",
            ["view"],
            registry=registry,
        )

    def observe_features(self, view: str, stale: int, newest_ms: int | None, now_ms: int) -> None:
        """One view's online read while enriching a request."""
        if stale:
            self.feature_stale.labels(view).inc(stale)
        if newest_ms is not None:
            self.feature_age.labels(view).set(max(0.0, (now_ms - newest_ms) / 1000))

    def count_violations(self, violations: list[Violation]) -> None:
        # Labels only ever take the contract's column names: a column the contract lacks is
        # named by the client, and each new name would be a new series kept for the process's
        # life.
        counts: dict[tuple[str, str], int] = {}
        for violation in violations:
            column = UNKNOWN_COLUMN if violation.problem == "unknown_column" else violation.column
            key = (column, violation.problem)
            counts[key] = counts.get(key, 0) + 1
        for (column, problem), count in counts.items():
            self.violations.labels(column, problem).inc(count)


__all__ = ["UNKNOWN_COLUMN", "ServingMetrics"]
