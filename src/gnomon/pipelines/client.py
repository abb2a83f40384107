"""PipelineClient: ``client.pipelines`` embedded, the service bound to the client's scope."""

from __future__ import annotations

from collections.abc import Sequence

from gnomon._types import Scope
from gnomon.config import Settings
from gnomon.pipelines.api import Direction
from gnomon.pipelines.entities import LineageGraph, NewPipelineRun, PipelineRun, StepRun
from gnomon.pipelines.lineage import LineageService
from gnomon.pipelines.objects import ObjectsAddress
from gnomon.pipelines.prediction_lineage import PredictionLineage, PredictionLineageService
from gnomon.pipelines.service import PipelineService


class PipelineClient:
    def __init__(
        self,
        service: PipelineService,
        lineage: LineageService,
        scope: Scope,
        settings: Settings,
        predictions: PredictionLineageService,
    ) -> None:
        self.service = service
        self.lineage_service = lineage
        self.predictions = predictions
        self.scope = scope
        self.settings = settings

    def start_run(self, new: NewPipelineRun) -> PipelineRun:
        return self.service.start_run(self.scope, new)

    def record_steps(self, run_id: str, steps: Sequence[StepRun]) -> None:
        self.service.record_steps(self.scope, run_id, steps)

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> PipelineRun:
        return self.service.finish_run(self.scope, run_id, status, error)

    def get_run(self, run_id: str) -> PipelineRun:
        return self.service.get_run(self.scope, run_id)

    def list_runs(self, pipeline: str | None = None, limit: int = 100) -> list[PipelineRun]:
        return self.service.list_runs(self.scope, pipeline, limit)

    def steps(self, run_id: str) -> list[StepRun]:
        return self.service.steps(self.scope, run_id)

    def cached(self, keys: Sequence[str]) -> dict[str, StepRun]:
        return self.service.cached(self.scope, keys)

    def recent_cache(self, pipeline: str) -> dict[str, StepRun]:
        return self.service.recent_cache(self.scope, pipeline)

    def objects(self) -> ObjectsAddress:
        return ObjectsAddress(
            self.settings.artifact_root, self.scope.workspace, self.settings.s3_endpoint_url
        )

    def lineage(self, ref: str, direction: Direction = "both", depth: int = 10) -> LineageGraph:
        return self.lineage_service.graph(self.scope, ref, direction, depth)

    def prediction_lineage(
        self,
        request_id: str,
        deployment: str | None = None,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> PredictionLineage:
        return self.predictions.lineage(self.scope, request_id, deployment, since_ms, until_ms)
