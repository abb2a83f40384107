"""What the model page shows of one version: its contract (read from the registry's copy of
``gnomon-model.yaml``), its source run with that run's latest metrics, and the data it was
trained on. One version per page view: each contract is a file read from storage."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from gnomon.data.entities import RunInput
from gnomon.data.service import DatasetService
from gnomon.errors import GnomonError, NotFound
from gnomon.modelfolder.contract import Contract
from gnomon.registry.entities import ModelVersion
from gnomon.registry.registration import Registrar
from gnomon.tracking.entities import Run
from gnomon.tracking.service import TrackingService
from gnomon.ui.common import service
from gnomon.ui.session import Viewer

MAX_METRICS_SHOWN = 100
MAX_CONTRACT_COLUMNS = 500  # a contract may list 4,096: the rest are counted, not drawn


@dataclass(frozen=True, slots=True)
class VersionDetail:
    """``spec_error`` says why no contract could be read (the page still shows the rest);
    ``training`` is the spec's ``training_data`` as ``(dataset, version)`` when it names a
    version, ``training_text`` when it is only a description."""

    version: ModelVersion
    contract: Contract | None = None
    spec_error: str = ""
    training: tuple[str, int] | None = None
    training_text: str = ""
    run: Run | None = None
    run_missing: bool = False
    metrics: list[tuple[str, float]] = field(default_factory=list)
    inputs: list[RunInput] = field(default_factory=list)


def version_detail(request: Request, viewer: Viewer, version: ModelVersion) -> VersionDetail:
    """Everything the page says about ``version``; a missing run or unreadable spec is
    reported in the result, never raised."""
    contract, spec_error, training_data = _spec(request, viewer, version)
    training, training_text = _training(training_data)
    run, missing = _run(request, viewer, version.run_id)
    metrics = sorted((run.metrics if run else {}).items())[:MAX_METRICS_SHOWN]
    named = None if training is None else f"{training[0]}@{training[1]}"
    inputs = [i for i in _inputs(request, viewer, run) if i.ref != named]  # said once
    return VersionDetail(
        version,
        contract,
        spec_error,
        training,
        training_text,
        run,
        missing,
        metrics,
        inputs,
    )


def _spec(
    request: Request, viewer: Viewer, version: ModelVersion
) -> tuple[Contract | None, str, str | None]:
    registrar = service(request, Registrar)
    try:
        spec = registrar.read_model_spec(viewer.scope, version.model_name, version.version)
    except GnomonError as exc:  # no recorded digest, a tampered or missing file
        return None, exc.message, None
    return spec.contract, "", spec.training_data


def _training(text: str | None) -> tuple[tuple[str, int] | None, str]:
    """``"transactions@3"`` names a dataset version (a link); other text only describes."""
    if not text:
        return None, ""
    name, _, number = text.rpartition("@")
    if name and number.isascii() and number.isdigit() and 0 < int(number) < 2**31:
        return (name, int(number)), ""
    return None, text


def _run(request: Request, viewer: Viewer, run_id: str | None) -> tuple[Run | None, bool]:
    if run_id is None:
        return None, False
    try:
        return service(request, TrackingService).get_run(viewer.scope, run_id), False
    except NotFound:  # deleted for good since: the version outlives its run
        return None, True


def _inputs(request: Request, viewer: Viewer, run: Run | None) -> list[RunInput]:
    datasets = request.app.state.services.find(DatasetService)
    if run is None or datasets is None:
        return []
    return list(datasets.inputs(viewer.scope, run.id))
