"""The model server's Prometheus metrics: the HTTP ones both servers keep, and its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from gnomon.serving.enforce import Violation
from gnomon.web.middleware import HttpMetrics

UNKNOWN_COLUMN = "<unknown>"  # the violations metric's label for every column not in a contract


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
