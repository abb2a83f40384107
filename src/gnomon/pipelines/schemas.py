"""Pipeline wire models: defined once, used by the server routes and the HTTP client.

Request models bound every field (the columns' lengths, the service's batch sizes); answers
are plain, since what they carry was checked on its way in (or written embedded, where a
SQLite column holds a longer string than PostgreSQL would). Specs, params and step errors
travel as JSON, checked by the service's size limits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Ge, Le, MaxLen
from pydantic import AfterValidator, Field, Strict, StringConstraints

from gnomon.checks import INT64_MAX
from gnomon.pipelines.entities import (
    LineageGraph,
    LineageNode,
    NewPipelineRun,
    PipelineRun,
    StepArtifact,
    StepRun,
    StepStatus,
)
from gnomon.pipelines.prediction_lineage import (
    CodeVersion,
    DataInput,
    ModelOrigin,
    PredictionLineage,
    RunOrigin,
)
from gnomon.pipelines.service import MAX_STEPS_PER_CALL
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.wire import Text, Wire, WireJson, WireMillis, check_text

MAX_ARTIFACTS = 10_000  # inputs and outputs of one step
MAX_PARAMS = 10_000  # value inputs of one step, or parameters of one run
MAX_OBJECTS_ASKED = 1_000  # objects one "which are missing" request names (each is a lookup)
MAX_ERROR_CHARS = 20_000

Name = Annotated[Text, MaxLen(NAME_LENGTH)]
Id = Annotated[Text, MaxLen(32)]
Key = Annotated[Text, MaxLen(1000)]
# The pattern before the text check, so that the OpenAPI document shows it.
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$"), AfterValidator(check_text)]
Count = Annotated[int, Strict(), Ge(0), Le(2**31 - 1)]  # an Integer column
Size = Annotated[int, Strict(), Ge(0), Le(INT64_MAX)]
Params = Annotated[dict[Key, WireJson], MaxLen(MAX_PARAMS)]


# -- requests ---------------------------------------------------------------------------------


class StartRun(Wire):
    pipeline: Name
    function: Annotated[Text, MaxLen(1000)]
    spec: Annotated[dict[Key, WireJson], MaxLen(MAX_PARAMS)]
    params: Params
    executor: Literal["local", "ray", "argo", "kfp"]
    resumed_from: Id | None = None
    trigger: Annotated[Text, MaxLen(600)] = "manual"

    def entity(self) -> NewPipelineRun:
        return NewPipelineRun(
            self.pipeline,
            self.function,
            self.spec,
            self.params,
            self.executor,
            self.resumed_from,
            self.trigger,
        )


class ArtifactIn(Wire):
    name: Name
    direction: Literal["in", "out"]
    digest: Digest
    kind: Annotated[Text, MaxLen(32)]
    type_name: Annotated[Text, MaxLen(300)] = ""
    size: Size = 0
    preview: Annotated[Text, MaxLen(300)] = ""
    link: Annotated[Text, MaxLen(600)] | None = None

    def entity(self) -> StepArtifact:
        return StepArtifact(**self.model_dump())


class StepIn(Wire):
    id: Id
    node: Name
    step: Name
    status: StepStatus
    cache_key: Annotated[Text, MaxLen(64)] | None
    attempts: Count
    started_ms: WireMillis
    ended_ms: WireMillis
    cached_from: Id | None = None
    error: Annotated[dict[Key, WireJson], MaxLen(100)] | None = None
    logs_digest: Digest | None = None
    tracking_run_id: Id | None = None
    params: Params = Field(default_factory=dict)
    artifacts: Annotated[list[ArtifactIn], MaxLen(MAX_ARTIFACTS)] = Field(default_factory=list)

    def entity(self, run_id: str) -> StepRun:
        fields = self.model_dump(exclude={"artifacts"})
        artifacts = tuple(a.entity() for a in self.artifacts)
        return StepRun(run_id=run_id, artifacts=artifacts, **fields)


class RecordSteps(Wire):
    steps: Annotated[list[StepIn], MaxLen(MAX_STEPS_PER_CALL)]


class FinishRun(Wire):
    status: Literal["succeeded", "failed"]
    error: Annotated[Text, MaxLen(MAX_ERROR_CHARS)] | None = None


class CacheAsk(Wire):
    keys: Annotated[list[Annotated[Text, MaxLen(64)]], MaxLen(MAX_STEPS_PER_CALL)]


class ObjectAsk(Wire):
    digest: Digest
    size: Size


class MissingAsk(Wire):
    objects: Annotated[list[ObjectAsk], MaxLen(MAX_OBJECTS_ASKED)]


# -- answers ----------------------------------------------------------------------------------


class PipelineRunOut(Wire):
    id: str
    pipeline: str
    function: str
    params: dict[str, Any]
    status: Literal["running", "succeeded", "failed"]
    executor: str
    tracking_run_id: str | None
    created_by: str
    started_ms: int
    ended_ms: int | None = None
    resumed_from: str | None = None
    trigger: str = "manual"
    error: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, run: PipelineRun) -> PipelineRunOut:
        return cls.model_validate(run, from_attributes=True)

    def entity(self) -> PipelineRun:
        return PipelineRun(**self.model_dump())


class ArtifactOut(Wire):
    name: str
    direction: Literal["in", "out"]
    digest: str
    kind: str
    type_name: str = ""
    size: int = 0
    preview: str = ""
    link: str | None = None

    def entity(self) -> StepArtifact:
        return StepArtifact(**self.model_dump())


class StepOut(Wire):
    id: str
    run_id: str
    node: str
    step: str
    status: StepStatus
    cache_key: str | None
    attempts: int
    started_ms: int
    ended_ms: int
    cached_from: str | None = None
    error: dict[str, Any] | None = None
    logs_digest: str | None = None
    tracking_run_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    artifacts: list[ArtifactOut] = Field(default_factory=list)

    @classmethod
    def of(cls, step: StepRun) -> StepOut:
        return cls.model_validate(step, from_attributes=True)

    def entity(self) -> StepRun:
        fields = self.model_dump(exclude={"artifacts"})
        return StepRun(artifacts=tuple(a.entity() for a in self.artifacts), **fields)


class CachedOut(Wire):
    steps: dict[str, StepOut]  # by cache key, for the keys that have one


class MissingOut(Wire):
    missing: list[str]


class LineageNodeOut(Wire):
    id: str
    kind: str
    label: str
    details: dict[str, Any] = Field(default_factory=dict)

    def entity(self) -> LineageNode:
        return LineageNode(self.id, self.kind, self.label, self.details)


class LineageOut(Wire):
    root: str
    nodes: list[LineageNodeOut]
    edges: list[tuple[str, str]]
    truncated: bool = False

    @classmethod
    def of(cls, graph: LineageGraph) -> LineageOut:
        return cls.model_validate(graph, from_attributes=True)

    def entity(self) -> LineageGraph:
        nodes = tuple(n.entity() for n in self.nodes)
        return LineageGraph(self.root, nodes, tuple(self.edges), self.truncated)


class ModelOriginOut(Wire):
    name: str
    version: int | None
    aliases: list[str] = Field(default_factory=list)
    flavor: str = ""
    source: str = ""


class RunOriginOut(Wire):
    id: str
    experiment_id: str
    experiment: str
    name: str
    status: str


class CodeVersionOut(Wire):
    commit: str = ""
    branch: str = ""
    remote: str = ""
    dirty: bool | None = None


class DataInputOut(Wire):
    ref: str
    role: str


class PredictionLineageOut(Wire):
    request_id: str
    time_ms: int
    deployment: str
    role: str
    latency_ms: float
    model: ModelOriginOut
    run: RunOriginOut | None = None
    code: CodeVersionOut | None = None
    params: dict[str, str] = Field(default_factory=dict)
    data: list[DataInputOut] = Field(default_factory=list)
    features: dict[str, str] = Field(default_factory=dict)
    pipeline_run_id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: Any = None
    rows: int = 1
    notes: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, lineage: PredictionLineage) -> PredictionLineageOut:
        return cls.model_validate(lineage, from_attributes=True)

    def entity(self) -> PredictionLineage:
        fields = self.model_dump(exclude={"model", "run", "code", "data", "notes"})
        return PredictionLineage(
            model=ModelOrigin(**{**self.model.model_dump(), "aliases": tuple(self.model.aliases)}),
            run=None if self.run is None else RunOrigin(**self.run.model_dump()),
            code=None if self.code is None else CodeVersion(**self.code.model_dump()),
            data=tuple(DataInput(d.ref, d.role) for d in self.data),
            notes=tuple(self.notes),
            **fields,
        )


__all__ = [
    "ArtifactIn",
    "ArtifactOut",
    "CacheAsk",
    "CachedOut",
    "CodeVersionOut",
    "DataInputOut",
    "FinishRun",
    "LineageNodeOut",
    "LineageOut",
    "MissingAsk",
    "MissingOut",
    "ModelOriginOut",
    "ObjectAsk",
    "PipelineRunOut",
    "PredictionLineageOut",
    "RecordSteps",
    "RunOriginOut",
    "StartRun",
    "StepIn",
    "StepOut",
]
