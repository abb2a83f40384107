"""A model's input contract from its training data rather than from a few example rows.

``log_model(..., training_data="transactions@3")`` takes ranges and categories from that
version's schema, inferred over the whole training set, and records the version as the
run's training input. A DataFrame given as ``training_data`` is read whole the same way.
A contract inferred from a small example keeps types and categories but no ranges: a few
rows' minimum and maximum would refuse honest traffic.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput, NotFound
from gnomon.modelfolder.contract import DEFAULT_MARGIN, MAX_CATEGORIES, ColumnSpec, Contract

if TYPE_CHECKING:
    from gnomon.data.api import DatasetsApi
    from gnomon.data.schema import ColumnSchema, DatasetSchema

SMALL_EXAMPLE_ROWS = 300  # below this, an example's extremes say little about the range


class SmallExampleWarning(UserWarning):
    """A contract left without ranges: its example had too few rows to show them."""


@dataclass(frozen=True, slots=True)
class DataContract:
    inputs: Contract | None  # None: let the example speak, as before
    training_data: str | None  # what the model's spec records


def contract_for(
    datasets: DatasetsApi | None, run_id: str, training_data: Any, input_example: Any
) -> DataContract:
    """The input columns ``log_model`` stores, and the ``training_data`` it records.
    ``datasets`` is None where the store offers none (a server, for now)."""
    if training_data is not None and not isinstance(training_data, str):
        return DataContract(_from_frame(training_data, input_example), _describe(training_data))
    version = _dataset_version(datasets, training_data)
    if datasets is not None and version is not None:
        schema = _with_edits(datasets.described(version).schema, datasets, version)
        datasets.log_input(run_id, version, "training")
        return DataContract(from_schema(schema, input_example), version)
    return DataContract(_small_example(input_example), training_data)


def _with_edits(schema: DatasetSchema, datasets: DatasetsApi, version: str) -> DatasetSchema:
    """The version's own statistics, with what people set in the dataset's schema on top."""
    owned = {c.name: c for c in datasets.schema(version.rpartition("@")[0]).columns}
    columns = []
    for column in schema.columns:
        edits = owned.get(column.name)
        if edits is not None and edits.edited:
            column = replace(column, **{f: getattr(edits, f) for f in edits.edited})
            column = replace(column, edited=edits.edited)
        columns.append(column)
    return replace(schema, columns=tuple(columns))


def _dataset_version(datasets: DatasetsApi | None, training_data: str | None) -> str | None:
    """``training_data``'s version ref when it names a table version of this workspace."""
    if datasets is None or not training_data or "\n" in training_data:
        return None
    if len(training_data) > 600:
        return None
    try:
        version = datasets.version(training_data)
        datasets.described(version.ref)
    except (NotFound, InvalidInput):
        return None  # free text ("crm-export-2026-11"), or a version of other files
    return str(version.ref)


def from_schema(schema: DatasetSchema, example: Any) -> Contract:
    """Columns of ``example`` (else every column of the schema), specified by the schema."""
    names = _example_columns(example) or [column.name for column in schema.columns]
    known = {column.name: column for column in schema.columns}
    guessed = _guess(example, [name for name in names if name not in known])
    specs = [_spec(known[name]) if name in known else guessed[name] for name in names]
    return Contract(inputs=specs, margin=DEFAULT_MARGIN)


def _spec(column: ColumnSchema) -> ColumnSpec:
    if column.type == "boolean":
        return ColumnSpec(column.name, "bool", column.nullable)
    if column.type in ("timestamp", "date"):
        return ColumnSpec(column.name, "datetime", column.nullable)
    if column.type in ("integer", "float"):
        low, high = _bounds(column)
        dtype = "int64" if column.type == "integer" else "float64"
        return ColumnSpec(column.name, dtype, column.nullable, low, high)
    if column.type == "string" and column.categories and len(column.categories) <= MAX_CATEGORIES:
        return ColumnSpec(
            column.name, "category", column.nullable, categories=sorted(column.categories)
        )
    return ColumnSpec(column.name, "string", column.nullable)


def _bounds(column: ColumnSchema) -> tuple[float | None, float | None]:
    low = column.min if isinstance(column.min, float | int) else None
    high = column.max if isinstance(column.max, float | int) else None
    if low is None or high is None:
        return low, high
    span = high - low if high > low else max(abs(high), 1.0)
    if "min" not in column.edited:  # a bound a person set applies as set
        low -= DEFAULT_MARGIN * span
    if "max" not in column.edited:
        high += DEFAULT_MARGIN * span
    if column.type == "integer":
        return math.floor(low), math.ceil(high)
    return low, high


def _from_frame(frame: Any, example: Any) -> Contract:
    from gnomon.modelfolder.infer import infer_contract

    whole = infer_contract(frame, DEFAULT_MARGIN)
    names = _example_columns(example)
    if not names:
        return whole
    by_name = {spec.name: spec for spec in whole.inputs}
    guessed = _guess(example, [name for name in names if name not in by_name])
    return replace(whole, inputs=[by_name.get(name) or guessed[name] for name in names])


def _small_example(example: Any) -> Contract | None:
    from gnomon.modelfolder.infer import infer_contract
    from gnomon.modelfolder.inputs import to_frame

    if example is None:
        return None
    rows = len(to_frame(example))
    if rows >= SMALL_EXAMPLE_ROWS:
        return None
    warnings.warn(
        f"the input contract is inferred from {rows} example rows: it keeps their types and "
        f"categories but no ranges, which {rows} rows cannot show. Pass "
        "training_data='NAME@VERSION' (a dataset version) or the whole training DataFrame "
        "to have ranges, or set them in the contract.",
        SmallExampleWarning,
        stacklevel=4,  # the caller of log_model
    )
    inferred = infer_contract(example, DEFAULT_MARGIN)
    return replace(
        inferred, inputs=[replace(s, minimum=None, maximum=None) for s in inferred.inputs]
    )


def _example_columns(example: Any) -> list[str]:
    if example is None:
        return []
    from gnomon.modelfolder.inputs import to_frame

    return [str(name) for name in to_frame(example).columns]


def _guess(example: Any, names: list[str]) -> dict[str, ColumnSpec]:
    """Columns the training data lacks (features made after it): from the example alone."""
    if not names:
        return {}
    from gnomon.modelfolder.infer import columns_of
    from gnomon.modelfolder.inputs import to_frame

    frame = to_frame(example)[names]
    return {spec.name: replace(spec, minimum=None, maximum=None) for spec in columns_of(frame, 0)}


def _describe(data: Any) -> str:
    shape = getattr(data, "shape", None)
    kind = type(data).__name__
    return f"{kind} {shape[0]}x{shape[1]}" if shape and len(shape) == 2 else kind
