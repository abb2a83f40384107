"""Where one prediction came from: deployment → model version → run → commit, data versions,
feature views and params, in one answer.

The prediction is found by its request id in the workspace's prediction records
(:mod:`gnomon.pipelines.prediction_records`), then followed through the registry and
tracking. A request of several rows is recorded as ``<id>:0``, ``<id>:1``…; asked for the
bare ``<id>``, the answer is row 0's, with ``rows`` saying how many there were: one model
version answered them all, so their lineage is the same and only inputs and outputs differ
(ask for ``<id>:<n>`` to see another row's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gnomon import checks
from gnomon.errors import NotFound
from gnomon.pipelines.later import DatasetsAndRegistry
from gnomon.pipelines.prediction_records import check_request_id, find_records

if TYPE_CHECKING:  # the API Protocol imports the entities: no SQL for them
    from gnomon._types import Scope
    from gnomon.artifacts.store import ArtifactStore
    from gnomon.data.service import DatasetService
    from gnomon.predictions.entities import PredictionRecord
    from gnomon.registry.entities import ModelVersion
    from gnomon.registry.service import RegistryService
    from gnomon.tracking.entities import Run
    from gnomon.tracking.service import TrackingService

FEATURES_TAG = "gnomon.features."  # + view: its version, set by get_training_frame in a run
PIPELINE_RUN_TAG = "gnomon.pipeline.run"  # on versions the register component made (and runs)
GIT_TAG = "gnomon.git."  # commit, branch, remote, dirty: tracking.capture


@dataclass(frozen=True, slots=True)
class ModelOrigin:
    """The model version that answered; ``version`` is None for a model served from a folder,
    and ``aliases`` are those pointing at it now (not when it answered)."""

    name: str
    version: int | None
    aliases: tuple[str, ...] = ()
    flavor: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class RunOrigin:
    """The tracking run that produced the model version."""

    id: str
    experiment_id: str
    experiment: str
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class CodeVersion:
    """The git state the run recorded when it started (empty strings: not recorded)."""

    commit: str = ""
    branch: str = ""
    remote: str = ""
    dirty: bool | None = None


@dataclass(frozen=True, slots=True)
class DataInput:
    """A dataset version the run used, and in what role (``training``, ``evaluation``...)."""

    ref: str
    role: str


@dataclass(frozen=True, slots=True)
class PredictionLineage:
    """One prediction and everything it came from.

    ``rows`` is how many rows the request had (1 for one row or an exact ``<id>:<n>``);
    ``notes`` say what could not be followed (a deleted version, a run without git state)
    and which other models answered the same request (shadows).
    """

    request_id: str
    time_ms: int
    deployment: str
    role: str
    latency_ms: float
    model: ModelOrigin
    run: RunOrigin | None = None
    code: CodeVersion | None = None
    params: dict[str, str] = field(default_factory=dict)
    data: tuple[DataInput, ...] = ()
    features: dict[str, str] = field(default_factory=dict)
    pipeline_run_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    rows: int = 1
    notes: tuple[str, ...] = ()


class PredictionLineageService(DatasetsAndRegistry):
    """Follows a prediction record back through the registry, tracking and datasets.

    ``records`` gives a workspace's predictions store (where its model servers write).
    """

    def __init__(
        self,
        records: Callable[[Scope], ArtifactStore],
        tracking: TrackingService,
        datasets: Callable[[], DatasetService | None],
        registry: Callable[[], RegistryService],
    ) -> None:
        self.records = records
        self.tracking = tracking
        self._datasets = datasets  # both looked up on first use (later.py)
        self._registry = registry

    def lineage(
        self,
        scope: Scope,
        request_id: str,
        deployment: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> PredictionLineage:
        """The lineage of the prediction ``request_id`` answered (its row 0, for a bare id
        of a request of several rows).

        Args:
            deployment: only look in this deployment's records.
            since_ms, until_ms: only look in the hours overlapping [since_ms, until_ms).

        Raises:
            InvalidInput: a request id over 256 characters or with control characters,
                a bad deployment name or time.
            NotFound: no record has the request id (where it was looked for).
        """
        request_id = check_request_id(request_id)
        if deployment is not None:
            deployment = checks.text("deployment", deployment)
        since = None if since_ms is None else checks.millis("since_ms", since_ms)
        until = None if until_ms is None else checks.millis("until_ms", until_ms)
        found = find_records(self.records(scope), request_id, deployment, since, until)
        if found is None:
            where = "" if deployment is None else f" of deployment {checks.shown(deployment)}"
            raise NotFound(
                f"no prediction record{where} has request id {checks.shown(request_id)}",
                {"request_id": checks.shown(request_id)},
            )
        record, others = found.records[0], found.records[1:]
        notes = [f"{o.role} {_model_label(o)} also answered it" for o in others]
        if found.ids > 1:
            notes.append(
                f"the request had {found.ids} rows, all answered by this model; this is "
                f"{record.request_id} (ask for {request_id}:N for row N)"
            )
        return self._follow(scope, record, found.ids, notes)

    def _follow(
        self, scope: Scope, record: PredictionRecord, rows: int, notes: list[str]
    ) -> PredictionLineage:
        version = self._version(scope, record, notes)
        run = self._run(scope, version, notes)
        origin = ModelOrigin(record.model_name, record.model_version)
        if version is not None:
            origin = ModelOrigin(
                version.model_name,
                version.version,
                tuple(version.aliases),
                version.flavor,
                version.source,
            )
        pipeline_run = (version.tags if version else {}).get(PIPELINE_RUN_TAG) or (
            run.tags.get(PIPELINE_RUN_TAG) if run else None
        )
        code = None if run is None else _code(run, notes)
        return PredictionLineage(
            request_id=record.request_id,
            time_ms=record.time_ms,
            deployment=record.deployment,
            role=record.role,
            latency_ms=record.latency_ms,
            model=origin,
            run=None if run is None else self._run_origin(scope, run),
            code=code,
            params=dict(run.params) if run else {},
            data=self._data(scope, run),
            features=_features(run),
            pipeline_run_id=pipeline_run,
            inputs=record.inputs,
            outputs=record.outputs,
            rows=rows,
            notes=tuple(notes),
        )

    def _version(
        self, scope: Scope, record: PredictionRecord, notes: list[str]
    ) -> ModelVersion | None:
        if record.model_version is None:
            notes.append(f"model {record.model_name!r} was served from a folder, not the registry")
            return None
        try:
            return self.registry.get_version(scope, record.model_name, record.model_version)
        except NotFound:
            notes.append(f"{_model_label(record)} is no longer in the registry")
            return None

    def _run(self, scope: Scope, version: ModelVersion | None, notes: list[str]) -> Run | None:
        if version is None:
            return None
        if not version.run_id:
            notes.append(f"{version.model_name} v{version.version} names no run")
            return None
        try:
            return self.tracking.get_run(scope, version.run_id)
        except NotFound:
            notes.append(f"run {version.run_id} that produced it is gone")
            return None

    def _run_origin(self, scope: Scope, run: Run) -> RunOrigin:
        try:
            experiment = self.tracking.get_experiment(scope, run.experiment_id).name
        except NotFound:
            experiment = ""
        return RunOrigin(run.id, run.experiment_id, experiment, run.name, run.status.value)

    def _data(self, scope: Scope, run: Run | None) -> tuple[DataInput, ...]:
        if run is None or self.datasets is None:
            return ()
        return tuple(DataInput(i.ref, i.context) for i in self.datasets.inputs(scope, run.id))


def _code(run: Run, notes: list[str]) -> CodeVersion | None:
    tags = run.tags
    if not any(key.startswith(GIT_TAG) for key in tags):
        notes.append("the run recorded no git state (not started in a git repository)")
        return None
    dirty = tags.get(GIT_TAG + "dirty")
    return CodeVersion(
        tags.get(GIT_TAG + "commit", ""),
        tags.get(GIT_TAG + "branch", ""),
        tags.get(GIT_TAG + "remote", ""),
        None if dirty is None else dirty == "true",
    )


def _features(run: Run | None) -> dict[str, str]:
    if run is None:
        return {}
    return {
        key.removeprefix(FEATURES_TAG): value
        for key, value in sorted(run.tags.items())
        if key.startswith(FEATURES_TAG)
    }


def _model_label(record: PredictionRecord) -> str:
    version = "" if record.model_version is None else f" v{record.model_version}"
    return f"{record.model_name}{version}"


__all__ = [
    "CodeVersion",
    "DataInput",
    "ModelOrigin",
    "PredictionLineage",
    "PredictionLineageService",
    "RunOrigin",
]
