"""Saving a model into its folder and loading it back."""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._version import __version__
from gnomon.errors import AlreadyExists, InvalidInput
from gnomon.modelfolder.contract import DEFAULT_MARGIN, Contract
from gnomon.modelfolder.flavors import flavor_of, get_flavor, require_libraries
from gnomon.modelfolder.flavors.base import pin
from gnomon.modelfolder.hashing import hash_folder, verify_folder
from gnomon.modelfolder.loaded import LoadedModel
from gnomon.modelfolder.spec import ModelSpec, read_spec, write_spec

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.modelfolder.flavors.base import Flavor

# Every flavor's loader reads input through pandas, and every flavor's output is NumPy.
_ALWAYS = ("numpy", "pandas")


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    flavor: str | None = None,
    input_example: Any = None,
    output_example: Any = None,
    contract: Contract | None = None,
    requirements: list[str] | None = None,
    source_run_id: str | None = None,
    training_data: str | None = None,
    metadata: dict[str, Any] | None = None,
    pip_requirements: list[str] | None = None,
    inputs: Contract | None = None,
) -> ModelSpec:
    """Write ``model`` into a new folder at ``path`` with its ``gnomon-model.yaml``.

    The folder is written beside ``path`` and renamed into place, so it appears whole or not
    at all. Unless ``contract`` is given, the contract is inferred from ``input_example``
    (margin 0.1), its outputs from ``output_example`` or from predicting on the example with
    the freshly saved copy, which also proves the copy loads.

    Args:
        model: a scikit-learn, XGBoost, LightGBM or PyTorch model, an ONNX ModelProto or file
            path, or any object with ``predict``.
        path: the folder to create; it must not exist or must be empty.
        flavor: one of ``FLAVORS``; guessed from the model's type when omitted.
        input_example: a few training rows, in any form ``predict`` accepts.
        output_example: predictions for ``input_example``.
        contract: the contract to store instead of inferring one.
        inputs: the input columns to use instead of inferring them from ``input_example``
            (from the training dataset's schema); outputs are still inferred.
        requirements: extra pins; they replace the inferred pin of the same package.
        source_run_id: the run that trained the model.
        training_data: a reference to the training data (a dataset URI or version).
        metadata: free-form values; ``{"proba": "softmax"}`` gives a pytorch model
            ``predict_proba``; ``{"batchable": False}`` keeps the model server from gathering
            rows of concurrent requests into one call.
        pip_requirements: MLflow's name for ``requirements``; pass one or the other.

    Returns:
        The spec written to ``gnomon-model.yaml``.

    Raises:
        InvalidInput: unknown flavor, a model its flavor does not recognise, bad examples, or
            both ``requirements`` and ``pip_requirements``.
        AlreadyExists: ``path`` is a non-empty folder.

    Example:
        >>> save_model(clf, "out/model", input_example=X_train.head(100))  # doctest: +SKIP
    """
    requirements = pick_requirements(requirements, pip_requirements)
    target = Path(path)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"'{target}' already exists and is not an empty folder")
    chosen = _choose_flavor(model, flavor)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        spec = _write(model, staging, chosen, input_example, output_example, contract, requirements)
        spec = dataclasses.replace(
            spec,
            source_run_id=source_run_id,
            training_data=training_data,
            metadata=dict(metadata or {}),
        )
        spec = _with_contract(
            spec, staging, chosen, input_example, output_example, contract, inputs
        )
        write_spec(staging, spec)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return spec


def load_folder(path: str | os.PathLike[str]) -> LoadedModel:
    """Load the model folder at ``path``, after checking every file's sha256.

    Raises:
        NotFound: ``path`` holds no ``gnomon-model.yaml``.
        InvalidInput: a model file is missing, extra or changed; the YAML is invalid; or the
            flavor's library is not installed (the message names the package to install).
    """
    folder = Path(path)
    spec = read_spec(folder)
    flavor = get_flavor(spec.flavor)
    verify_folder(folder, spec.files)  # before anything is unpickled
    require_libraries(flavor)
    return LoadedModel(spec, flavor.load(folder, spec), folder)


def pick_requirements(
    requirements: list[str] | None, pip_requirements: list[str] | None
) -> list[str] | None:
    """The one of ``requirements`` and MLflow's ``pip_requirements`` that was given.

    Raises:
        InvalidInput: both were given, or a string instead of a list.
    """
    if requirements is not None and pip_requirements is not None:
        raise InvalidInput("pass requirements= or pip_requirements= (its MLflow name), not both")
    chosen = pip_requirements if requirements is None else requirements
    if isinstance(chosen, str):
        raise InvalidInput(f"requirements must be a list of strings, got the string {chosen!r}")
    return chosen


def _choose_flavor(model: Any, name: str | None) -> Flavor:
    if name is None:
        return flavor_of(model)
    chosen = get_flavor(name)
    if not chosen.matches(model):
        raise InvalidInput(f"a {type(model).__qualname__} is not a '{name}' model")
    return chosen


def _write(
    model: Any,
    folder: Path,
    flavor: Flavor,
    input_example: Any,
    output_example: Any,
    contract: Contract | None,
    requirements: list[str] | None,
) -> ModelSpec:
    example = _example_frame(input_example, contract)
    flavor.save(model, folder, example)
    return ModelSpec(
        flavor=flavor.name,
        python_version=platform.python_version(),
        requirements=merge_requirements(flavor.requirements() + pin(*_ALWAYS), requirements),
        files=hash_folder(folder),
        loader=flavor.loader(model),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        gnomon_version=__version__,
    )


def _with_contract(
    spec: ModelSpec,
    folder: Path,
    flavor: Flavor,
    input_example: Any,
    output_example: Any,
    contract: Contract | None,
    inputs: Contract | None = None,
) -> ModelSpec:
    if contract is not None or (input_example is None and inputs is None):
        return dataclasses.replace(spec, contract=contract)
    if input_example is None:
        return dataclasses.replace(spec, contract=inputs)  # no rows to predict outputs from
    from gnomon.modelfolder.infer import infer_contract, infer_outputs

    inputs = inputs or infer_contract(input_example, DEFAULT_MARGIN)
    if output_example is None:
        predictor = flavor.load(folder, spec)
        output_example = predictor.predict(_example_frame(input_example, inputs))
    # Outputs describe what the model produced (class labels, scores), not a range to tolerate:
    # no margin, or a 0/1 classifier would read as producing -1..2.
    outputs = infer_outputs(output_example, 0.0)
    return dataclasses.replace(spec, contract=dataclasses.replace(inputs, outputs=outputs))


def _example_frame(example: Any, contract: Contract | None) -> pd.DataFrame | None:
    if example is None:
        return None
    from gnomon.modelfolder.inputs import to_frame

    return to_frame(example, contract)


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def merge_requirements(pinned: list[str], extra: list[str] | None) -> list[str]:
    """``pinned`` plus ``extra``; an extra requirement replaces the pin of the same package."""
    by_name = {_package(r): r for r in pinned}
    for requirement in extra or []:
        by_name[_package(requirement)] = requirement
    return list(by_name.values())


def _package(requirement: str) -> str:
    match = _NAME.match(requirement)
    if match is None:
        raise InvalidInput(f"'{requirement}' is not a requirement")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()
