"""A registry version made from an MLflow logged model: what MLflow's REST API registers and
what ``gnomon import mlflow`` copies, recorded the same way by both."""

from __future__ import annotations

from collections.abc import Mapping

from gnomon.errors import InvalidInput
from gnomon.mlflow_compat.logged_models import LoggedModel, LoggedModelService, ModelStatus
from gnomon.registry.entities import MLFLOW_FLAVOR, MLMODEL_FILE, NewVersion


def logged_model_source(model: LoggedModel) -> str:
    """The version source that names a logged model, as MLflow 3 writes it."""
    return f"models:/{model.id}"


def mlflow_version(
    models: LoggedModelService,
    model: LoggedModel,
    *,
    source: str,
    created_by: str,
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> NewVersion:
    """The version pointing at ``model``'s sealed files, with their digests and MLmodel's as
    the spec's.

    Raises:
        InvalidInput: the model is not READY, or has no MLmodel file (not an MLflow model).
    """
    if model.status is not ModelStatus.READY:
        raise InvalidInput(f"logged model {model.id!r} is {model.status.value}, not READY")
    files = models.digests(model)
    if MLMODEL_FILE not in files:
        raise InvalidInput(f"logged model {model.id!r} has no MLmodel file: not an MLflow model")
    return NewVersion(
        source=source,
        storage_uri=model.storage_uri,
        created_by=created_by,
        run_id=model.source_run_id,
        flavor=MLFLOW_FLAVOR,
        description=description,
        tags=dict(tags or {}),
        files=files,
        spec_sha256=files[MLMODEL_FILE],  # an MLflow model's spec, as gnomon-model.yaml is ours
    )
