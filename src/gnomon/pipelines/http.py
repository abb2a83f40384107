"""HttpPipelineClient: ``client.pipelines`` over a gnomon server's REST API (the contract is
:class:`gnomon.pipelines.api.PipelinesApi`).

Steps run on the caller's machine (or Ray) and the server records them: the runner is the
same in both modes. The server's service raises the errors, which the transport turns back
into the same classes. Step outputs go to the server too (``objects()`` names it), so every
worker reaches them with nothing but the server's URL and its own login.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from gnomon.client.transport import Transport, body, key_path, segment
from gnomon.pipelines.api import Direction
from gnomon.pipelines.entities import LineageGraph, NewPipelineRun, PipelineRun, StepRun
from gnomon.pipelines.objects import SERVER_PREFIX, ObjectsAddress
from gnomon.pipelines.prediction_lineage import PredictionLineage
from gnomon.pipelines.prediction_records import check_request_id
from gnomon.pipelines.schemas import (
    CacheAsk,
    CachedOut,
    FinishRun,
    LineageOut,
    PipelineRunOut,
    PredictionLineageOut,
    RecordSteps,
    StartRun,
    StepIn,
    StepOut,
)


class HttpPipelineClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._workspace: str | None = None  # its name, asked once

    def start_run(self, new: NewPipelineRun) -> PipelineRun:
        sent = body(
            StartRun,
            pipeline=new.pipeline,
            function=new.function,
            spec=new.spec,
            params=new.params,
            executor=new.executor,  # type: ignore[arg-type]  # the model checks it
            resumed_from=new.resumed_from,
            trigger=new.trigger,
        )
        return self.transport.one("POST", "/pipeline-runs", PipelineRunOut, json=sent).entity()

    def record_steps(self, run_id: str, steps: Sequence[StepRun]) -> None:
        sent = body(RecordSteps, steps=[body(StepIn, **_step_fields(s)) for s in steps])
        self.transport.request("POST", f"{_run(run_id)}/steps", json=sent)

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> PipelineRun:
        sent = body(FinishRun, status=status, error=error)  # type: ignore[arg-type]  # checked
        path = f"{_run(run_id)}/finish"
        return self.transport.one("POST", path, PipelineRunOut, json=sent).entity()

    def get_run(self, run_id: str) -> PipelineRun:
        return self.transport.one("GET", _run(run_id), PipelineRunOut).entity()

    def list_runs(self, pipeline: str | None = None, limit: int = 100) -> list[PipelineRun]:
        params = {"pipeline": pipeline, "limit": limit}
        found = self.transport.many("GET", "/pipeline-runs", PipelineRunOut, params=params)
        return [r.entity() for r in found]

    def steps(self, run_id: str) -> list[StepRun]:
        found = self.transport.many("GET", f"{_run(run_id)}/steps", StepOut)
        return [s.entity() for s in found]

    def cached(self, keys: Sequence[str]) -> dict[str, StepRun]:
        sent = body(CacheAsk, keys=list(keys))
        found = self.transport.one("POST", "/pipeline-cache/lookup", CachedOut, json=sent)
        return {key: step.entity() for key, step in found.steps.items()}

    def recent_cache(self, pipeline: str) -> dict[str, StepRun]:
        params = {"pipeline": pipeline}
        found = self.transport.one("GET", "/pipeline-cache/recent", CachedOut, params=params)
        return {key: step.entity() for key, step in found.steps.items()}

    def objects(self) -> ObjectsAddress:
        if self._workspace is None:
            self._workspace = str(self.transport.request("GET", "/workspace")["name"])
        return ObjectsAddress(SERVER_PREFIX + self.transport.base_url, self._workspace)

    def lineage(self, ref: str, direction: Direction = "both", depth: int = 10) -> LineageGraph:
        params = {"direction": direction, "depth": depth}
        answer = self.transport.one("GET", f"/lineage/{key_path(ref)}", LineageOut, params=params)
        return answer.entity()

    def prediction_lineage(
        self,
        request_id: str,
        deployment: str | None = None,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> PredictionLineage:
        # Checked here too: a control character or '..' would not survive the URL as sent.
        path = f"/lineage/prediction/{key_path(check_request_id(request_id))}"
        params = {"deployment": deployment, "since_ms": since_ms, "until_ms": until_ms}
        return self.transport.one("GET", path, PredictionLineageOut, params=params).entity()


def _run(run_id: str) -> str:
    return f"/pipeline-runs/{segment(run_id)}"


def _step_fields(step: StepRun) -> dict[str, Any]:
    fields = asdict(step)
    del fields["run_id"]  # the URL's
    fields["artifacts"] = list(fields["artifacts"])
    return fields


__all__ = ["HttpPipelineClient"]
