"""Live evidence for a rollout stage: the deployment's records since the stage began, per
arm, read in DuckDB from the hour partitions the window overlaps.

Per arm (the primary, and the candidate's canary or shadow answers): how many answered, how
many failed (a record without an answer), the p50 and p99 latency, and, where outcomes came
back, the gate's metric on them (accuracy for a classifier, RMSE for a regressor). A
shadow's answers are also compared with the primary's for the same request: the share that
agree (the same label; for a regressor, within 10% of the primary's value).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gnomon.artifacts.store import ArtifactStore
from gnomon.monitoring.records import (
    label_sql,
    number_sql,
    partition_files,
    source_view,
    sql_literal,
)
from gnomon.predictions.records import OUTCOMES, RECORDS

_FAILED = "(outputs IS NULL OR outputs = 'null')"
_COLUMNS = ["request_id", "time", "role", "model_name", "model_version", "latency_ms", "outputs"]
REGRESSION_AGREEMENT = 0.10  # a shadow's value within this share of the primary's agrees


@dataclass(frozen=True, slots=True)
class ArmFigures:
    answered: int = 0
    failed: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    labelled: int = 0
    metric: float | None = None  # on outcomes: accuracy or rmse

    @property
    def error_rate(self) -> float:
        return self.failed / self.answered if self.answered else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_rate": round(self.error_rate, 6)}


@dataclass(frozen=True, slots=True)
class Evidence:
    start_ms: int
    end_ms: int
    primary: ArmFigures
    candidate: ArmFigures
    compared: int = 0  # shadow answers matched with the primary's
    agreement: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_ms": [self.start_ms, self.end_ms],
            "primary": self.primary.to_dict(),
            "candidate": self.candidate.to_dict(),
            "compared": self.compared,
            "agreement": self.agreement,
        }


def gather(
    store: ArtifactStore,
    deployment: str,
    model: str,
    candidate_version: int,
    start_ms: int,
    end_ms: int,
    model_type: str = "classifier",
) -> Evidence:
    """The evidence of [start_ms, end_ms): the primary's answers and the candidate's."""
    import duckdb

    keys = partition_files(store, RECORDS, deployment, start_ms, end_ms)
    if not keys:
        return Evidence(start_ms, end_ms, ArmFigures(), ArmFigures())
    outcome_keys = partition_files(store, OUTCOMES, deployment, start_ms, end_ms + 86_400_000)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        source_view(con, store, keys, _COLUMNS, "raw")
        span = f"epoch_ms(time) >= {int(start_ms)} AND epoch_ms(time) < {int(end_ms)}"
        is_candidate = (
            f"(model_name = {sql_literal(model)} AND model_version = {int(candidate_version)} "
            "AND role <> 'primary')"
        )
        con.execute(
            f"CREATE VIEW records AS SELECT request_id, role, latency_ms, {_FAILED} AS failed, "
            f"{number_sql('outputs')} AS value, {label_sql('outputs')} AS label, "
            f"CASE WHEN role = 'primary' THEN 'primary' WHEN {is_candidate} THEN 'candidate' "
            f"END AS arm FROM raw WHERE {span}"
        )
        outcomes = (
            "SELECT NULL::VARCHAR AS request_id, NULL::DOUBLE AS number, NULL::VARCHAR AS text"
        )
        if outcome_keys:
            source_view(con, store, outcome_keys, ["request_id", "time", "value"], "outcome_raw")
            outcomes = (
                f"SELECT request_id, {number_sql('value')} AS number, {label_sql('value')} AS text "
                "FROM outcome_raw QUALIFY row_number() OVER "
                "(PARTITION BY request_id ORDER BY time DESC) = 1"
            )
        con.execute(f"CREATE VIEW outcomes AS {outcomes}")
        metric = (
            "avg(CASE WHEN r.label = o.text THEN 1.0 ELSE 0.0 END)"
            if model_type == "classifier"
            else "sqrt(avg((r.value - o.number) * (r.value - o.number)))"
        )
        labelled = "o.text IS NOT NULL AND NOT r.failed"
        rows = con.sql(
            "SELECT r.arm, count(*), count(*) FILTER (WHERE r.failed), "
            "quantile_cont(r.latency_ms, 0.5), quantile_cont(r.latency_ms, 0.99), "
            f"count(*) FILTER (WHERE {labelled}), {metric} FILTER (WHERE {labelled}) "
            "FROM records r LEFT JOIN outcomes o USING (request_id) "
            "WHERE r.arm IS NOT NULL GROUP BY r.arm"
        ).fetchall()
        agree = (
            "p.label = s.label"
            if model_type == "classifier"
            else f"abs(s.value - p.value) <= {REGRESSION_AGREEMENT} * greatest(abs(p.value), 1e-12)"
        )
        compared, agreed = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {agree}) FROM records s "
            "JOIN records p ON s.request_id = p.request_id AND p.arm = 'primary' "
            "WHERE s.arm = 'candidate' AND s.role = 'shadow' AND NOT s.failed AND NOT p.failed"
        ).fetchall()[0]
    finally:
        con.close()
    arms = {
        arm: ArmFigures(n, failed, p50, p99, labelled_n, value)
        for arm, n, failed, p50, p99, labelled_n, value in rows
    }
    agreement = agreed / compared if compared else None
    return Evidence(
        start_ms,
        end_ms,
        arms.get("primary", ArmFigures()),
        arms.get("candidate", ArmFigures()),
        compared,
        agreement,
    )


__all__ = ["ArmFigures", "Evidence", "gather"]
