"""Data quality of live inputs, per column: nulls, values outside the contract's range,
categories the contract does not list, values of the wrong type, and the rows the model
server recorded contract violations for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gnomon.modelfolder.contract import ColumnSpec
from gnomon.monitoring.entities import Figure, figure
from gnomon.monitoring.records import input_column, type_error_column

if TYPE_CHECKING:
    import pyarrow as pa


def quality(table: pa.Table, specs: Sequence[ColumnSpec]) -> tuple[list[Figure], dict[str, Any]]:
    """Rates per column over the window's rows (None when the window has none)."""
    import numpy as np
    import pyarrow.compute as pc

    rows = table.num_rows
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    for index, spec in enumerate(specs):
        column = table.column(input_column(spec.name))
        nulls = column.null_count
        wrong = int(pc.sum(table.column(type_error_column(index))).as_py() or 0)
        out_of_range = unseen = 0
        if spec.minimum is not None or spec.maximum is not None:
            values = column.to_numpy(zero_copy_only=False).astype(float)
            lo = -np.inf if spec.minimum is None else spec.minimum
            hi = np.inf if spec.maximum is None else spec.maximum
            with np.errstate(invalid="ignore"):
                out_of_range = int(np.count_nonzero((values < lo) | (values > hi)))
        if spec.categories is not None:
            known = pa_array([str(c) for c in spec.categories])
            present = pc.is_valid(column)
            unseen = int(pc.sum(pc.and_(present, pc.invert(pc.is_in(column, known)))).as_py() or 0)
        counts = {
            "nulls": nulls - wrong,
            "out_of_range": out_of_range,
            "unseen": unseen,
            "type_errors": wrong,
        }
        details[spec.name] = counts
        for key, family in (
            ("nulls", "null_rate"),
            ("out_of_range", "out_of_range_rate"),
            ("unseen", "unseen_rate"),
            ("type_errors", "type_error_rate"),
        ):
            rate = counts[key] / rows if rows else None
            figures.append(figure(f"quality.{family}.{spec.name}", rate, family, column=spec.name))
    rejected = int(pc.sum(table.column("rejected")).as_py() or 0) if rows else 0
    figures.append(figure("quality.rejected", float(rejected), "rejected"))
    return figures, {"columns": details, "rejected": rejected}


def pa_array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.string())


__all__ = ["quality"]
