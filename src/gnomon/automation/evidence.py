"""Live evidence for a rollout stage: the deployment's records since the stage began, per
arm, read in DuckDB from the hour partitions the window overlaps.

Per arm (the primary, and the candidate's canary or shadow answers): how many answered, how
many failed (a record without an answer), the p50 and p99 latency, and, where outcomes came
back, the gate's metric on them (accuracy for a classifier, RMSE for a regressor). A
shadow's answers are also compared with the primary's for the same request: the share that
agree (the same label; for a regressor, within 10% of the primary's value).

The gate and the smoke test read the deployment's live answers the same way
(:func:`live_inputs`): the window's partitions only, and only the columns they need.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson

from gnomon.artifacts.store import ArtifactStore
from gnomon.monitoring.records import (
    HOUR_MS,
    in_memory_duckdb,
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
# Outcomes come back after their answers, so up to now; a writer's clock a little ahead
# puts some in the next hour's partition.
OUTCOME_SKEW_MS = HOUR_MS

if TYPE_CHECKING:
    import duckdb


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
    keys = partition_files(store, RECORDS, deployment, start_ms, end_ms)
    if not keys:
        return Evidence(start_ms, end_ms, ArmFigures(), ArmFigures())
    with in_memory_duckdb() as con:
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
        _outcomes_view(con, store, deployment, start_ms, end_ms)
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


def live_inputs(
    store: ArtifactStore,
    deployment: str,
    start_ms: int,
    end_ms: int,
    limit: int,
    *,
    labelled: bool,
) -> tuple[list[Any], list[Any]]:
    """The inputs of the newest ``limit`` live answers of [start_ms, end_ms) (a shadow's
    copies left out), oldest first; with ``labelled``, only those whose outcome came back,
    and their outcomes (the latest per request id), else an empty list of outcomes."""
    keys = partition_files(store, RECORDS, deployment, start_ms, end_ms)
    if not keys:
        return [], []
    with in_memory_duckdb() as con:
        source_view(con, store, keys, ["request_id", "time", "role", "inputs"], "raw")
        outcome, joined = "NULL", ""
        if labelled:
            _outcomes_view(con, store, deployment, start_ms, end_ms)
            outcome, joined = "o.value", "JOIN outcomes o USING (request_id)"
        rows = con.execute(
            f"SELECT r.inputs, {outcome} FROM raw r {joined} "
            f"WHERE epoch_ms(r.time) >= {int(start_ms)} AND epoch_ms(r.time) < {int(end_ms)} "
            "AND r.role <> 'shadow' AND r.inputs IS NOT NULL "
            f"ORDER BY r.time DESC LIMIT {int(limit)}"
        ).fetchall()
    rows.reverse()
    inputs = [orjson.loads(text) for text, _ in rows]
    if not labelled:
        return inputs, []
    return inputs, [None if value is None else orjson.loads(value) for _, value in rows]


def _outcomes_view(
    con: duckdb.DuckDBPyConnection,
    store: ArtifactStore,
    deployment: str,
    start_ms: int,
    end_ms: int,
) -> None:
    """View ``outcomes``: the latest outcome per request id received since ``start_ms``, as
    JSON text (``value``), a number and a label."""
    keys = partition_files(store, OUTCOMES, deployment, start_ms, end_ms + OUTCOME_SKEW_MS)
    latest = "SELECT NULL::VARCHAR AS request_id, NULL::VARCHAR AS value"
    if keys:
        source_view(con, store, keys, ["request_id", "time", "value"], "outcome_raw")
        latest = (
            "SELECT request_id, value FROM outcome_raw QUALIFY row_number() OVER "
            "(PARTITION BY request_id ORDER BY time DESC) = 1"
        )
    con.execute(
        f"CREATE VIEW outcomes AS SELECT request_id, value, {number_sql('value')} AS number, "
        f"{label_sql('value')} AS text FROM ({latest})"
    )


__all__ = ["OUTCOME_SKEW_MS", "ArmFigures", "Evidence", "gather", "live_inputs"]
