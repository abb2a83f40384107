"""MLflow's REST JSON (its protobuf messages as JSON, snake_case fields) to and from gnomon's
entities, for the MLflow-compatible routes.

Answers write int64 fields as numbers and non-finite doubles as "NaN", "Infinity" and
"-Infinity", as MLflow's server does.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from gnomon.errors import InvalidInput
from gnomon.tracking.entities import Experiment, Lifecycle, Metric, Run, RunStatus
from gnomon.wire import MAX_RESULTS_LIMIT, Text, WireFloat, WireInt

# MLflow's proxied-artifact scheme: its client turns mlflow-artifacts:/<path> into
# <tracking URI>/api/2.0/mlflow-artifacts/artifacts/<path>.
ARTIFACTS_SCHEME = "mlflow-artifacts:"
RUN_ARTIFACTS = "artifacts"  # <experiment id>/<run id>/artifacts/<key>, as MLflow lays it out
PARENT_TAG = "mlflow.parentRunId"
MAX_LIST_ITEMS = 1_000  # metrics, params or tags in one request: MLflow's log-batch limit


# MLflow's client writes int64 fields as JSON numbers and doubles as numbers or "NaN",
# "Infinity" and "-Infinity": gnomon's strict wire types read exactly that.
Int64 = WireInt
Double = WireFloat


class Body(BaseModel):
    """A request message. Unknown fields are ignored, as MLflow's server ignores them: its
    client sends fields newer than any server (``run_uuid`` beside ``run_id``, dataset and
    model links)."""

    model_config = ConfigDict(extra="ignore")


class KeyValue(Body):
    key: Text
    value: Text = ""


class MetricIn(Body):
    key: Text
    value: Double
    timestamp: Int64 = 0
    step: Int64 = 0


def run_id_of(run_id: str | None, run_uuid: str | None) -> str:
    """MLflow sends a run's id as ``run_id`` and, for old servers, ``run_uuid``."""
    found = run_id or run_uuid
    if not found:
        raise InvalidInput("run_id is required")
    return found


def as_dict(items: list[KeyValue]) -> dict[str, str]:
    return {item.key: item.value for item in items}


def metrics_of(items: list[MetricIn]) -> list[Metric]:
    return [Metric(m.key, m.value, m.step, m.timestamp) for m in items]


def max_results(value: int | None, default: int) -> int:
    if value is None or value == 0:
        return default
    if not 1 <= value <= MAX_RESULTS_LIMIT:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_LIMIT:,}, not {value}")
    return value


MaxResults = Annotated[Int64 | None, Field(default=None)]
ViewType = Text | WireInt | None  # MLflow's ViewType by name, or by number (older clients)

# -- answers ---------------------------------------------------------------------------------


def answer(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def page_answer(key: str, items: list[Any], token: str | None) -> Response:
    """A page as MLflow answers one: the items under ``key``, and the next page's token
    only when there is one."""
    return answer({key: items, **({"next_page_token": token} if token else {})})


def equality_filter(text: str, fields: tuple[str, ...], what: str) -> dict[str, str]:
    """The ``field = '…'`` terms, joined by AND, of a filter MLflow's client sends for
    ``what``; by field. Any other term is refused, not ignored."""
    found: dict[str, str] = {}
    terms = re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE) if text.strip() else []
    for term in terms:
        match = _EQUALS.fullmatch(term)
        if match is None or match.group(1).lower() not in fields:
            shown = " and ".join(f"{field} = '…'" for field in fields)
            raise InvalidInput(f"{what} are filtered by {shown} only, not {term.strip()!r}")
        found[match.group(1).lower()] = match.group(2)
    return found


_EQUALS = re.compile(r"\s*(\w+)\s*=\s*'([^']*)'\s*")


def number(value: float) -> float | str:
    """A double as MLflow's JSON writes it: non-finite values as strings."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": experiment.id,
        "name": experiment.name,
        "artifact_location": f"{ARTIFACTS_SCHEME}/{experiment.id}",
        "lifecycle_stage": experiment.lifecycle.value,
        "creation_time": experiment.created_time,
        "last_update_time": experiment.updated_time,
        "tags": [],
    }


def run_info_json(run: Run) -> dict[str, Any]:
    info = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": run.experiment_id,
        "user_id": run.user,
        "status": run.status.value,
        "start_time": run.start_time,
        "artifact_uri": f"{ARTIFACTS_SCHEME}/{run.experiment_id}/{run.id}/{RUN_ARTIFACTS}",
        "lifecycle_stage": run.lifecycle.value,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: Run) -> dict[str, Any]:
    """A run as MLflow's ``Run`` message. gnomon's run carries the latest value of each
    metric, not its step and time: those are left out (MLflow's client reads them as 0)."""
    metrics = [{"key": key, "value": number(value)} for key, value in run.metrics.items()]
    tags = dict(run.tags)
    if run.parent_run_id is not None:
        tags.setdefault(PARENT_TAG, run.parent_run_id)
    tags.setdefault("mlflow.runName", run.name)
    tags.setdefault("mlflow.user", run.user)
    return {
        "info": run_info_json(run),
        "data": {
            "metrics": metrics,
            "params": [{"key": k, "value": v} for k, v in run.params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        },
        "inputs": {},
        "outputs": {},
    }


def metric_json(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": number(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


STATUSES = {status.value: status for status in RunStatus}
VIEW_TYPES = {"ACTIVE_ONLY": Lifecycle.ACTIVE, "DELETED_ONLY": Lifecycle.DELETED, "ALL": None}
VIEW_NUMBERS = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}


def view_type(value: str | int | None) -> str:
    """MLflow's ViewType, sent by name (or, by older clients, by number)."""
    if value is None:
        return "ACTIVE_ONLY"
    name = VIEW_NUMBERS.get(value) if isinstance(value, int) else value
    if name not in VIEW_TYPES:
        raise InvalidInput(
            f"view type {value!r} is not one of {', '.join(VIEW_TYPES)} (or 1, 2, 3)"
        )
    return name
