"""Tracking wire models: defined once, used by the server routes and the HTTP store.

NaN and ±inf travel as the strings "NaN", "Infinity" and "-Infinity" (plain JSON has no
literal for them) and are read back as floats. Request fields use the checked types of
``gnomon.wire``: a bool is not a metric value, and no integer exceeds what a column holds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gnomon.tracking.entities import Experiment, Lifecycle, Metric, Run, RunStatus
from gnomon.tracking.search import (
    DEFAULT_MAX_RESULTS,
    MAX_EXPERIMENTS,
    MAX_RESULTS_LIMIT,
    MAX_SEARCH_TERMS,
)
from gnomon.wire import Text, Wire, WireBool, WireFloat, WireInt, WireMillis

MAX_BATCH_METRICS = 100_000
MAX_BATCH_ENTRIES = 100_000  # params, and tags, in one batch or one new run


class ExperimentOut(Wire):
    id: str
    name: str
    workspace_id: str
    lifecycle: Lifecycle
    artifact_location: str
    created_time: int
    updated_time: int

    def entity(self) -> Experiment:
        return Experiment(**self.model_dump())


class MetricWire(Wire):
    key: Text
    value: WireFloat
    step: WireInt = 0
    timestamp: WireInt = 0  # 0: the server's time

    def entity(self) -> Metric:
        return Metric(self.key, self.value, self.step, self.timestamp)


class RunOut(Wire):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    artifact_uri: str
    description: str
    parent_run_id: str | None
    lifecycle: Lifecycle
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]

    def entity(self) -> Run:
        return Run(**self.model_dump())


class CreateExperiment(Wire):
    name: Text


class RenameExperiment(Wire):
    name: Text


class CreateRun(Wire):
    experiment_id: Text
    name: Text | None = None
    description: Text = ""
    parent_run_id: Text | None = None
    tags: dict[Text, Text] = Field(default_factory=dict, max_length=MAX_BATCH_ENTRIES)
    user: Text | None = None
    start_time: WireMillis | None = None


class UpdateRun(Wire):
    name: Text | None = None
    description: Text | None = None
    status: RunStatus | None = None
    end_time: WireMillis | None = None


class LogBatch(Wire):
    metrics: list[MetricWire] = Field(default_factory=list, max_length=MAX_BATCH_METRICS)
    params: dict[Text, Text] = Field(default_factory=dict, max_length=MAX_BATCH_ENTRIES)
    tags: dict[Text, Text] = Field(default_factory=dict, max_length=MAX_BATCH_ENTRIES)


class SearchRuns(Wire):
    experiment_ids: list[Text] = Field(min_length=1, max_length=MAX_EXPERIMENTS)
    filter: Text = ""
    order_by: list[Text] = Field(default_factory=list, max_length=MAX_SEARCH_TERMS)
    max_results: Annotated[WireInt, Field(ge=1, le=MAX_RESULTS_LIMIT)] = DEFAULT_MAX_RESULTS
    page_token: Text | None = None
    include_deleted: WireBool = False


class ArtifactOut(Wire):
    path: str
    is_dir: bool
    size: int | None = None
