"""Turning an MLflow model folder (its ``MLmodel`` file) into a gnomon model folder, faithfully:
the same predictions as MLflow's pyfunc, a contract from its signature, its requirements, and
its lineage. MLflow itself is not imported (a custom PythonModel's own pickle may import it).

The gnomon folder keeps what MLflow wrote under ``mlflow/``: the ``MLmodel`` file, the
signature as JSON, ``requirements.txt``, and, for a PythonModel, its pickle and artifacts.
Its ``metadata`` has an ``mlflow`` entry, and :func:`convert_mlflow_model` returns the tags
the registered version gets (``mlflow.run_id``, ``mlflow.model_uuid``, ...).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from gnomon.errors import InvalidInput, NotFound
from gnomon.registry.mlflow_import_loaders import (
    FILES_FOLDER,
    MlflowModel,
    inside,
    kept,
    read_model,
)
from gnomon.registry.mlflow_import_signature import Signature, contract_for, read_signature

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder import ModelSpec

logger = logging.getLogger(__name__)

SIGNATURE_FILE: Final = f"{FILES_FOLDER}/signature.json"
# MLmodel fields recorded as version tags (``mlflow.<name>``) and in the spec's metadata.
_LINEAGE: Final = ("run_id", "model_uuid", "model_id", "mlflow_version", "utc_time_created")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_MLFLOW_PACKAGES: Final = ("mlflow", "mlflow-skinny")


def convert_mlflow_model(source: Path, target: Path) -> dict[str, str]:
    """Write the MLflow model folder ``source`` as a new gnomon model folder ``target``.

    Returns:
        The tags for the version it becomes: ``mlflow.run_id``, ``mlflow.model_uuid``,
        ``mlflow.flavor`` and the others the ``MLmodel`` file has.

    Raises:
        NotFound: ``source`` has no ``MLmodel`` file.
        InvalidInput: what cannot be imported, in one line naming why.
        UserCodeError: a custom model's own code raised while loading or predicting.
    """
    from gnomon.modelfolder import save_model

    mlmodel = read_mlmodel(source)
    signature = read_signature(mlmodel)
    found = read_model(source, mlmodel, signature)
    example = read_input_example(source, mlmodel)
    contract = contract_for(signature, example)
    save_model(found.model, target, flavor=found.flavor, contract=contract)
    _keep_mlflow_files(source, target, found, signature)
    lineage = {k: str(mlmodel[k]) for k in _LINEAGE if mlmodel.get(k)}
    lineage["flavor"] = found.source_flavor
    recorded = {**lineage, "signature_file": SIGNATURE_FILE} if signature else lineage
    spec = _finish_spec(source, target, mlmodel, found, recorded)
    if contract is not None and example is not None:
        _record_outputs(target, spec, example)
    return {f"mlflow.{key}": value for key, value in lineage.items()}


def read_mlmodel(folder: Path) -> dict[str, Any]:
    """The ``MLmodel`` file of an MLflow model folder, as a mapping.

    Raises:
        NotFound: there is no ``MLmodel`` file.
        InvalidInput: it is not YAML holding a mapping.
    """
    import yaml

    file = folder / "MLmodel"
    if not file.is_file():
        raise NotFound(f"no MLmodel file in {str(folder)!r}: not an MLflow model folder")
    try:
        spec = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the MLmodel file in {str(folder)!r} is not YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise InvalidInput(f"the MLmodel file in {str(folder)!r} does not hold a mapping")
    return spec


def read_input_example(folder: Path, mlmodel: dict[str, Any]) -> pd.DataFrame | None:
    """The saved input example as rows; ``None`` when there is none or it is not a table
    (a JSON object, a sparse matrix, a dict of arrays)."""
    import pandas as pd

    info = mlmodel.get("saved_input_example_info") or {}
    path = info.get("artifact_path") if isinstance(info, dict) else None
    if not path or not inside(folder, path, "the input example").is_file():
        return None
    try:
        raw = json.loads((folder / path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("gnomon: the MLflow input example %r is not JSON: %s", path, exc)
        return None
    if info.get("params") and isinstance(raw, dict) and "inputs" in raw:
        raw = raw["inputs"]  # an example saved with params: {"inputs": ..., "params": ...}
    if isinstance(raw, dict) and "dataframe_split" in raw:
        raw = raw["dataframe_split"]
    if isinstance(raw, dict) and "data" in raw:
        frame = pd.DataFrame(raw["data"], columns=raw.get("columns"))
    elif isinstance(raw, list) and raw and all(isinstance(r, dict) for r in raw):
        frame = pd.DataFrame(raw)
    elif isinstance(raw, list) and raw and all(isinstance(r, list) for r in raw):
        frame = pd.DataFrame(raw)  # an array: its columns are named as gnomon names them
    else:
        return None
    if list(frame.columns) == list(range(frame.shape[1])):
        frame.columns = [f"x{i}" for i in range(frame.shape[1])]
    return frame


def _keep_mlflow_files(
    source: Path, target: Path, found: MlflowModel, signature: Signature | None
) -> None:
    kept_folder = target / FILES_FOLDER
    kept_folder.mkdir()
    for name in ("MLmodel", "requirements.txt"):
        if (source / name).is_file():
            shutil.copyfile(source / name, kept_folder / name)
    if signature is not None:
        (target / SIGNATURE_FILE).write_text(json.dumps(signature.to_dict(), indent=2) + "\n")
    for path in found.files:
        origin, copy = source / path, target / kept(path)
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            # links are copied as the files they point at; artifacts may overlap
            shutil.copytree(origin, copy, dirs_exist_ok=True)
        else:
            shutil.copyfile(origin, copy)


def _finish_spec(
    source: Path,
    target: Path,
    mlmodel: dict[str, Any],
    found: MlflowModel,
    lineage: dict[str, str],
) -> ModelSpec:
    from gnomon.modelfolder import read_spec, write_spec
    from gnomon.modelfolder.hashing import hash_folder

    spec = read_spec(target)
    requirements = _requirements(source, spec.requirements, found, mlmodel)
    metadata = {**spec.metadata, "mlflow": lineage}
    spec = dataclasses.replace(
        spec, files=hash_folder(target), requirements=requirements, metadata=metadata
    )
    write_spec(target, spec)
    return spec


def _requirements(
    source: Path, pinned: list[str], found: MlflowModel, mlmodel: dict[str, Any]
) -> list[str]:
    """MLflow's requirements as it wrote them, except that gnomon's pins win for the packages
    gnomon itself wrote the model's files with; ``mlflow`` only where the model needs it."""
    written = read_requirements(source)
    if found.needs_mlflow:
        if not any(_package(r) in _MLFLOW_PACKAGES for r in written):
            version = mlmodel.get("mlflow_version")
            written.append(f"mlflow=={version}" if version else "mlflow")
    else:  # gnomon's own flavors load the model without MLflow
        written = [r for r in written if _package(r) not in _MLFLOW_PACKAGES]
    from gnomon.modelfolder.flavors.base import pin

    pinned = pinned + pin(*found.pickled_with)
    ours = {_package(r) for r in pinned}
    return pinned + [r for r in written if _package(r) not in ours]


def read_requirements(folder: Path) -> list[str]:
    """The requirement lines of the folder's ``requirements.txt`` (pip options such as
    ``-r`` or ``--index-url`` are left out, with a warning)."""
    file = folder / "requirements.txt"
    if not file.is_file():
        return []
    found = []
    for line in file.read_text(encoding="utf-8").splitlines():
        text = re.sub(r"(^|\s)#.*$", "", line).strip()
        if text.startswith("-"):
            logger.warning("gnomon: requirements.txt line %r is a pip option: left out", text)
        elif text and _NAME.match(text):
            found.append(text)
    return found


def _package(requirement: str) -> str:
    match = _NAME.match(requirement)
    name = match.group(1) if match else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


def _record_outputs(target: Path, spec: ModelSpec, example: pd.DataFrame) -> None:
    """The contract's outputs, from the imported model's predictions on the example: this
    also proves the gnomon folder loads and predicts before it is registered."""
    from gnomon.modelfolder import load_folder, write_spec
    from gnomon.modelfolder.infer import infer_outputs

    if spec.contract is None:
        return
    names = spec.contract.input_names
    missing = [c for c in names if c not in example.columns]
    if missing:
        logger.warning("gnomon: the input example lacks %s: the contract lists no outputs", missing)
        return
    predictions = load_folder(target).predict(example[names])
    try:
        outputs = infer_outputs(predictions, 0.0)
    except (InvalidInput, TypeError, ValueError) as exc:  # nested or unhashable answers
        logger.warning("gnomon: the contract lists no outputs: %s", exc)
        return
    contract = dataclasses.replace(spec.contract, outputs=outputs)
    write_spec(target, dataclasses.replace(spec, contract=contract))
