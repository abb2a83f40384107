"""What a monitor compares live records with, found and read once per run.

A ``training`` reference is the dataset version the deployment's primary model was trained
on: its ``gnomon-model.yaml`` names it (``training_data="transactions@3"``), or its source
run recorded it as a ``training`` input. A ``dataset`` reference names a version itself; a
``records`` reference is a span of the deployment's own records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope
from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import InvalidInput, NotFound
from gnomon.modelfolder.contract import ColumnSpec
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.records import Watched, input_column, read_records

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.registry.registration import Registrar

MAX_REFERENCE_ROWS = 5_000_000  # a bigger reference is sampled down to this many rows


@dataclass(frozen=True, slots=True)
class Primary:
    """The model the deployment's primary arm serves now, and its input contract."""

    model: str
    version: int
    columns: tuple[ColumnSpec, ...]
    training_data: str | None
    run_id: str | None


def primary_of(
    scope: Scope, deployments: DeploymentService, registrar: Registrar, deployment: str
) -> Primary:
    """Raises ``NotFound`` for an unknown deployment."""
    _, arms = deployments.resolve(scope, deployment)
    arm = next(a for a in arms if a.arm.role.value == "primary")
    spec = registrar.read_model_spec(scope, arm.arm.model, arm.version)
    columns = tuple(spec.contract.inputs) if spec.contract is not None else ()
    version = registrar.registry.get_version(scope, arm.arm.model, arm.version)
    return Primary(arm.arm.model, arm.version, columns, spec.training_data, version.run_id)


def training_ref(scope: Scope, primary: Primary, datasets: DatasetService | None) -> str:
    """The dataset version ``NAME@V`` the primary model was trained on.

    Raises:
        InvalidInput: the model records none.
    """
    if datasets is not None:
        text = primary.training_data or ""
        name, _, number = text.rpartition("@")
        if name and number.isascii() and number.isdigit():
            return text
        if primary.run_id is not None:
            inputs = [i for i in datasets.inputs(scope, primary.run_id) if i.context == "training"]
            if inputs:
                return inputs[-1].ref
    raise InvalidInput(
        f"model {primary.model!r} version {primary.version} records no training dataset "
        "version: give the monitor a reference (dataset:NAME@V or records:START..END)",
        {"model": primary.model, "version": primary.version},
    )


def reference_table(
    scope: Scope,
    spec: MonitorSpec,
    primary: Primary,
    datasets: DatasetService | None,
    predictions: ArtifactStore,
    watched: Sequence[Watched],
) -> tuple[pa.Table, str, pa.Table | None]:
    """The reference rows (a column per input), what they are in words (``transactions@3``)
    and, for a records reference, the records themselves (their predictions)."""
    reference = spec.reference
    if reference.kind == "records":
        import pyarrow as pa

        assert reference.start_ms is not None and reference.end_ms is not None
        records = read_records(
            predictions, spec.deployment, reference.start_ms, reference.end_ms, watched
        )
        if records.num_rows == 0:
            raise InvalidInput(
                f"the reference holds no records of deployment {spec.deployment!r} "
                f"between {reference.start_ms} and {reference.end_ms}",
                {"reference": str(reference)},
            )
        inputs = pa.table({c.name: records.column(input_column(c.name)) for c in watched})
        return inputs, str(reference), records
    if datasets is None:
        raise NotFound("datasets are not available here: use a records reference")
    ref = (
        reference.dataset if reference.kind == "dataset" else training_ref(scope, primary, datasets)
    )
    assert ref is not None
    return datasets.read_table(scope, ref), ref, None


def check_columns(table: pa.Table, wanted: Sequence[str], what: str) -> None:
    """Raises ``InvalidInput`` naming the columns of ``wanted`` that ``table`` lacks."""
    missing = [name for name in wanted if name not in table.column_names]
    if missing:
        shown = ", ".join(repr(n) for n in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise InvalidInput(
            f"{what} lacks the monitored column{'s' if len(missing) > 1 else ''} {shown}",
            {"missing": missing[:100]},
        )


def arrays(
    table: pa.Table, watched: Sequence[Watched], column_of: Callable[[str], str] = str
) -> dict[str, Any]:
    """Each watched column (found in ``table`` as ``column_of(name)``): numbers as NumPy
    floats (NaN for nulls); text as it is (Arrow), other categories as NumPy text spelled as
    the records' JSON spells them (``true``, ``3``), so categories compare."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    out: dict[str, np.ndarray] = {}
    for column in watched:
        values = table.column(column_of(column.name))
        if column.numeric:
            kind = values.type
            tests = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
            if not (pa.types.is_boolean(kind) or any(test(kind) for test in tests)):
                out[column.name] = np.full(table.num_rows, np.nan)  # text: no number in it
                continue
            floats = pc.cast(values, pa.float64(), safe=False)
            out[column.name] = floats.to_numpy(zero_copy_only=False).astype(float)
        elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            out[column.name] = values  # already as the records spell it: no copy to Python
        else:
            out[column.name] = np.array([_text(v) for v in values.to_pylist()], dtype=object)
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def sample(table: pa.Table, limit: int = MAX_REFERENCE_ROWS) -> pa.Table:
    """At most ``limit`` rows, drawn evenly with a fixed seed (the same on every run)."""
    import numpy as np

    if table.num_rows <= limit:
        return table
    rows = np.sort(np.random.default_rng(0).choice(table.num_rows, limit, replace=False))
    return table.take(rows)


def kinds(watched: Sequence[Watched]) -> Mapping[str, str]:
    return {c.name: "numeric" if c.numeric else "categorical" for c in watched}


__all__ = [
    "Primary",
    "arrays",
    "check_columns",
    "kinds",
    "primary_of",
    "reference_table",
    "sample",
    "training_ref",
]
