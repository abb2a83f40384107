"""``client.pipelines``: what the SDK, the CLI and the runner call, in both modes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from gnomon.pipelines.entities import LineageGraph, NewPipelineRun, PipelineRun, StepRun
from gnomon.pipelines.objects import ObjectsAddress
from gnomon.pipelines.prediction_lineage import PredictionLineage

Direction = Literal["upstream", "downstream", "both"]


class PipelinesApi(Protocol):
    def start_run(self, new: NewPipelineRun) -> PipelineRun: ...

    def record_steps(self, run_id: str, steps: Sequence[StepRun]) -> None: ...

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> PipelineRun: ...

    def get_run(self, run_id: str) -> PipelineRun: ...

    def list_runs(self, pipeline: str | None = None, limit: int = 100) -> list[PipelineRun]: ...

    def steps(self, run_id: str) -> list[StepRun]: ...

    def cached(self, keys: Sequence[str]) -> dict[str, StepRun]:
        """The step run that last computed each cache key, for the keys that have one."""
        ...

    def recent_cache(self, pipeline: str) -> dict[str, StepRun]:
        """The cache entries of the pipeline's last few runs, in one call."""
        ...

    def objects(self) -> ObjectsAddress:
        """Where this workspace's step outputs are stored (workers open it themselves)."""
        ...

    def lineage(self, ref: str, direction: Direction = "both", depth: int = 10) -> LineageGraph:
        """The graph around an object: ``run:ID``, ``step:ID``, ``artifact:DIGEST``,
        ``dataset:NAME@V``, ``model:NAME/V`` or ``deployment:NAME``."""
        ...

    def prediction_lineage(
        self,
        request_id: str,
        deployment: str | None = None,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> PredictionLineage:
        """Where the prediction ``request_id`` came from: its deployment, model version, run,
        commit, params, dataset versions and feature views (row 0's for a bare id of a
        request of several rows). ``deployment``, ``since_ms`` and ``until_ms`` narrow
        which records are searched.

        Raises:
            InvalidInput: a request id over 256 characters or with control characters.
            NotFound: no prediction record has that request id.

        Example:
            >>> client.pipelines.prediction_lineage("4f0c…").run.id  # doctest: +SKIP
        """
        ...


__all__ = ["Direction", "PipelinesApi"]
