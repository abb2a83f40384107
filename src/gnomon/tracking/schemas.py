"""Tracking wire models: defined once, used by the server routes and the HTTP store.

NaN and ±inf travel as the strings "NaN", "Infinity" and "-Infinity" (plain JSON has no
literal for them) and are read back as floats.
"""

from __future__ import annotations

from pydantic import Field

from gnomon.tracking.entities import Experiment, Lifecycle, Metric, Run, RunStatus
from gnomon.tracking.search import DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT
from gnomon.wire import Wire


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
    key: str
    value: float
    step: int = 0
    timestamp: int = 0

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
    name: str


class RenameExperiment(Wire):
    name: str


class CreateRun(Wire):
    experiment_id: str
    name: str | None = None
    description: str = ""
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    user: str | None = None
    start_time: int | None = None


class UpdateRun(Wire):
    name: str | None = None
    description: str | None = None
    status: RunStatus | None = None
    end_time: int | None = None


class LogBatch(Wire):
    metrics: list[MetricWire] = Field(default_factory=list, max_length=100_000)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)


class SearchRuns(Wire):
    experiment_ids: list[str] = Field(min_length=1)
    filter: str = ""
    order_by: list[str] = Field(default_factory=list)
    max_results: int = Field(default=DEFAULT_MAX_RESULTS, ge=1, le=MAX_RESULTS_LIMIT)
    page_token: str | None = None
    include_deleted: bool = False


class ArtifactOut(Wire):
    path: str
    is_dir: bool
    size: int | None = None
