"""An imported MLflow model's input contract: column names and types from its signature,
ranges and category sets only from an input example large enough to show them.

MLflow enforces names and types only. A contract's ranges and category sets come from data,
and a handful of rows (MLflow's examples are often five) shows neither: the bounds of five
rows refused 558 of the 569 rows the breast-cancer model was trained on. Below
``MIN_ROWS_FOR_RANGES`` rows the contract checks names, types and nulls only, and a warning
says why.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any, Final

from gnomon.modelfolder.contract import ColumnSpec, Contract

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

MIN_ROWS_FOR_RANGES: Final = 30

# MLflow's column types (mlflow.types.DataType) as contract dtypes; binary and the nested
# types (array, object, map) have none, so a signature using them gives no contract.
_COLUMN_TYPES: Final = {
    "boolean": "bool",
    "integer": "int64",
    "long": "int64",
    "float": "float64",
    "double": "float64",
    "string": "string",
    "datetime": "datetime",
}
_FLOATS: Final = ("float64",)


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """The parts of an MLflow signature an import uses, each as MLflow wrote it (JSON)."""

    inputs: list[dict[str, Any]] | None
    outputs: list[dict[str, Any]] | None
    params: list[dict[str, Any]] | None

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "outputs": self.outputs, "params": self.params}

    def param_defaults(self) -> dict[str, Any] | None:
        """The params schema's defaults by name; ``None`` without a params schema."""
        if self.params is None:
            return None
        return {str(p.get("name")): p.get("default") for p in self.params if isinstance(p, dict)}

    def tensor_dtype(self) -> str | None:
        """The NumPy dtype of a signature taking one 2-D array, else ``None``."""
        spec = _one_tensor(self.inputs)
        return None if spec is None else str(spec.get("dtype"))


def read_signature(mlmodel: dict[str, Any]) -> Signature | None:
    """The ``signature`` of an ``MLmodel`` mapping; ``None`` when there is none.

    Raises:
        InvalidInput: a part that is not MLflow's JSON list.
    """
    from gnomon.errors import InvalidInput

    raw = mlmodel.get("signature")
    if not isinstance(raw, dict):
        return None
    parts: dict[str, list[dict[str, Any]] | None] = {}
    for key in ("inputs", "outputs", "params"):
        text = raw.get(key)
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            raise InvalidInput(f"the MLmodel signature's {key} are not JSON") from None
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            raise InvalidInput(f"the MLmodel signature's {key} are not a list of columns")
        parts[key] = value
    return Signature(parts["inputs"], parts["outputs"], parts["params"])


def contract_for(signature: Signature | None, example: pd.DataFrame | None) -> Contract | None:
    """The contract: the signature's columns, with ranges and categories when ``example``
    has at least ``MIN_ROWS_FOR_RANGES`` rows; ``None`` when neither says what the columns
    are (a warning names why)."""
    inferred = _inferred(example)
    if inferred is None:
        example = None
    enough = example is not None and len(example) >= MIN_ROWS_FOR_RANGES
    if signature is not None and signature.inputs is not None:
        typed = _typed_columns(signature.inputs)
        if typed is None:
            return None
        columns = [_merge(spec, inferred, enough) for spec in typed]
    elif inferred is not None:
        columns = [_merge(spec, inferred, enough) for spec in inferred.inputs]
    else:
        logger.warning(
            "gnomon: the MLflow model has neither a signature nor an input example: it is "
            "imported without an input contract"
        )
        return None
    if not enough:
        rows = "no input example" if example is None else f"an input example of {len(example)} rows"
        logger.warning(
            "gnomon: the MLflow model has %s, and ranges and category sets are inferred from "
            "%d rows or more: its contract checks column names, types and nulls only (add "
            "ranges with `gnomon models contract edit`)",
            rows,
            MIN_ROWS_FOR_RANGES,
        )
    return Contract(inputs=columns)


def _inferred(example: pd.DataFrame | None) -> Contract | None:
    from gnomon.errors import InvalidInput
    from gnomon.modelfolder.infer import infer_contract

    if example is None:
        return None
    try:
        return infer_contract(example)
    except (InvalidInput, TypeError, ValueError) as exc:  # nested values, unhashable cells
        logger.warning("gnomon: the MLflow model's input example is not read as rows: %s", exc)
        return None


def _typed_columns(inputs: list[dict[str, Any]]) -> list[ColumnSpec] | None:
    tensor = _one_tensor(inputs)
    if tensor is not None:
        return _tensor_columns(tensor)
    columns = []
    for column in inputs:
        name, kind = column.get("name"), column.get("type")
        dtype = _COLUMN_TYPES.get(str(kind))
        if not isinstance(name, str) or not name:
            return _no_contract("its signature has an unnamed input")
        if dtype is None:
            return _no_contract(f"input column {name!r} is of MLflow type {kind!r}")
        # MLflow accepts NaN in float columns, and null in any column it does not require.
        nullable = column.get("required") is False or dtype in _FLOATS
        columns.append(ColumnSpec(name, dtype, nullable))
    return columns


def _one_tensor(inputs: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    if not inputs or len(inputs) != 1 or inputs[0].get("type") != "tensor":
        return None
    spec = inputs[0].get("tensor-spec")
    return spec if isinstance(spec, dict) else None


def _tensor_columns(spec: dict[str, Any]) -> list[ColumnSpec] | None:
    # One 2-D array of numbers reads as columns x0, x1, ... (what gnomon names an array's).
    shape, dtype = spec.get("shape"), str(spec.get("dtype"))
    kind = "float64" if dtype.startswith("float") else "int64" if "int" in dtype else None
    if kind is None or dtype == "bool":
        return _no_contract(f"its signature takes an array of {dtype}")
    if not (isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int)):
        return _no_contract(f"its signature takes an array of shape {shape}, not rows")
    if shape[1] < 1:
        return _no_contract(f"its signature takes an array of shape {shape}, not rows")
    return [ColumnSpec(f"x{i}", kind, kind in _FLOATS) for i in range(shape[1])]


def _no_contract(why: str) -> list[ColumnSpec] | None:
    logger.warning(
        "gnomon: the MLflow model is imported without an input contract: %s, which a gnomon "
        "contract cannot express",
        why,
    )
    return None


def _merge(spec: ColumnSpec, inferred: Contract | None, enough: bool) -> ColumnSpec:
    """``spec``'s type, with what the example shows of the column when it shows enough."""
    seen = _column(inferred, spec.name)
    if seen is None:
        return _types_only(spec)
    nullable = spec.nullable or seen.nullable
    if not enough:
        return _types_only(dataclasses.replace(spec, nullable=nullable))
    numeric = ("int64", "float64")
    if spec.dtype in numeric and seen.dtype in numeric:
        return dataclasses.replace(
            spec, nullable=nullable, minimum=seen.minimum, maximum=seen.maximum
        )
    if spec.dtype in ("string", "category") and seen.dtype == "category":
        return dataclasses.replace(
            spec, dtype="category", nullable=nullable, categories=seen.categories
        )
    return dataclasses.replace(spec, nullable=nullable)


def _types_only(spec: ColumnSpec) -> ColumnSpec:
    dtype = "string" if spec.dtype == "category" else spec.dtype
    return ColumnSpec(spec.name, dtype, spec.nullable)


def _column(contract: Contract | None, name: str) -> ColumnSpec | None:
    if contract is None:
        return None
    return next((c for c in contract.inputs if c.name == name), None)
