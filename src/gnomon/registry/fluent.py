"""``gnomon.log_model``, ``gnomon.load_model`` and ``gnomon.register_model``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon.modelfolder.spec import MODEL_FILE
from gnomon.registry.entities import MLMODEL_FILE
from gnomon.registry.uris import RUNS_SCHEME, RunModelUri, parse_run_uri
from gnomon.tracking import fluent

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract, LoadedModel
    from gnomon.registry.entities import ModelVersion
    from gnomon.sdk import Client

LOGGED_MODELS_TAG = "gnomon.logged_models"


def log_model(
    model: Any,
    name: str = "model",
    *,
    flavor: str | None = None,
    input_example: Any = None,
    output_example: Any = None,
    contract: Contract | None = None,
    requirements: list[str] | None = None,
    pip_requirements: list[str] | None = None,
    training_data: Any = None,
    metadata: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
) -> str:
    """Save ``model`` as a gnomon model folder in the active run's artifacts under ``name``;
    returns its ``runs:/<run id>/<name>`` URI (and registers it when
    ``registered_model_name`` is given).

    The input contract's columns are ``input_example``'s. With ``training_data`` naming a
    dataset version (``"transactions@3"``), their ranges and categories come from that
    version's schema, inferred over the whole training set, and the run records the version
    as its training input; a DataFrame as ``training_data`` is read whole the same way. An
    example alone of under 300 rows gives types and categories but no ranges (with a
    warning). Any other ``training_data`` text is kept as a description. ``metadata`` is
    stored in ``gnomon-model.yaml``: ``{"batchable": False}`` keeps the model server from
    gathering concurrent requests into one call, ``{"proba": "softmax"}`` (or
    ``"sigmoid"``) gives a PyTorch model ``predict_proba``. The other options are
    ``save_model``'s: ``flavor`` (guessed from the model's type when omitted),
    ``requirements`` or its MLflow name ``pip_requirements`` (pins that replace the
    inferred pin of the same package), ``contract`` and ``output_example``.

    Once stored, the folder is hashed by the side that stored it (the server, in remote
    mode) and the digests are recorded: ``runs:/`` loads and registrations are checked
    against them, and the run's artifacts under ``name`` can never be written again.

    Raises:
        Conflict: the run already logged a model under ``name``, or is not RUNNING.
        InvalidInput: an unknown flavor or one that does not fit the model, bad examples,
            or both ``requirements`` and ``pip_requirements``.

    Example:
        >>> with gnomon.start_run():
        ...     gnomon.log_model(clf, "model", input_example=X_train)
    """
    from gnomon.modelfolder.folder import pick_requirements, save_model
    from gnomon.registry.contract_from_data import DataContract, contract_for

    requirements = pick_requirements(requirements, pip_requirements)  # before a run starts
    run = fluent._current()
    if contract is None:
        datasets = getattr(run.client, "datasets", None)  # None: not offered by this store
        data = contract_for(datasets, run.id, training_data, input_example)
    else:
        data = DataContract(None, training_data if isinstance(training_data, str) else None)
    clean = name.strip("/")
    parent, _, leaf = clean.rpartition("/")
    with tempfile.TemporaryDirectory(prefix="gnomon-model-") as tmp:
        folder = Path(tmp) / leaf
        save_model(
            model,
            folder,
            flavor=flavor,
            input_example=input_example,
            output_example=output_example,
            contract=contract,
            requirements=requirements,
            source_run_id=run.id,
            training_data=data.training_data,
            metadata=metadata,
            inputs=data.inputs,
        )
        run.client.log_artifact(run.id, folder, parent or None)
    run.client.registry.record_logged_model(run.id, clean)
    logged = run.client.get_run(run.id).tags.get(LOGGED_MODELS_TAG, "")
    names = [n for n in logged.split(",") if n]
    if clean not in names:
        # Written at once, not through the buffer: the next log_model reads it back.
        run.client.set_tag(run.id, LOGGED_MODELS_TAG, ",".join([*names, clean]))
    uri = str(RunModelUri(run.id, clean))
    if registered_model_name is not None:
        register_model(uri, registered_model_name)
    return uri


def load_model(uri: str, client: Client | None = None) -> LoadedModel:
    """Load a model by ``runs:/<run id>/<path>``, ``models:/<name>/<version>``,
    ``models:/<name>@<alias>`` or a local folder. A logged or registered model's files are
    checked against the digests the database recorded when it was stored before anything
    is unpickled; a local folder against its own ``gnomon-model.yaml``.

    Raises:
        NotFound: the run, model, version or alias does not exist.
        InvalidInput: a malformed URI, a tampered file, or the flavor's library missing.
    """
    from gnomon.modelfolder import load_folder

    client = client or fluent.get_client()
    with tempfile.TemporaryDirectory(prefix="gnomon-load-") as tmp:
        local = fetch_model(uri, Path(tmp), client)
        return load_folder(local)


def fetch_model(uri: str, dst: Path, client: Client) -> Path:
    """Copy the model folder ``uri`` names into ``dst``; returns the local folder. A
    ``runs:/`` or ``models:/`` folder is checked against its recorded digests.

    Raises:
        NotFound: the run, model, version, alias or recorded model does not exist.
        InvalidInput: a file differs from what was recorded.
    """
    if uri.startswith(RUNS_SCHEME):
        from gnomon.modelfolder.hashing import verify_recorded

        source = parse_run_uri(uri)
        record = client.registry.get_logged_model(source.run_id, source.path)
        folder = client.download_artifacts(source.run_id, source.path, dst)
        verify_recorded(folder, record.files, record.spec_sha256)
        return folder
    if uri.startswith("models:/"):
        folder = client.registry.download_version(uri, dst)
        if (folder / MLMODEL_FILE).is_file() and not (folder / MODEL_FILE).is_file():
            # Registered through MLflow's API: converted here, in the caller's process (the
            # server never loads a model), as `gnomon models import-mlflow` converts one.
            from gnomon.registry.mlflow_import import convert_mlflow_model

            converted = dst / f"{folder.name}-gnomon"
            convert_mlflow_model(folder, converted)
            return converted
        return folder
    local = Path(uri)
    if local.is_dir():
        return local
    from gnomon.errors import InvalidInput

    raise InvalidInput(
        f"cannot load {uri!r}: expected runs:/<run id>/<path>, models:/<name>/<version>, "
        "models:/<name>@<alias> or a local model folder"
    )


def register_model(
    source: str,
    name: str,
    *,
    description: str = "",
    tags: dict[str, Any] | None = None,
    alias: str | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """Register the model logged at ``source`` (``runs:/…``) as the next version of ``name``
    (created if needed), optionally pointing ``alias`` at it.

    Example:
        >>> version = gnomon.register_model(f"runs:/{run.id}/model", "churn", alias="staging")
    """
    client = client or fluent.get_client()
    return client.registry.register(source, name, description=description, tags=tags, alias=alias)
