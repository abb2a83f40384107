"""A table version's profile (EDA): per column its counts, missing values, statistics and a
histogram or top values, and the Pearson correlations of its numeric columns.

Everything runs as Arrow compute and NumPy kernels over whole columns (or row chunks of
the correlation matrix): no Python loop over rows. The work is bounded: ``BINS`` histogram
bins, ``TOP`` values, ``MAX_CORRELATED`` columns in the matrix. A profile is stored beside
the version's manifest (``profiles/<digest>.json``) the first time it is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gnomon.data.entities import DatasetKind
from gnomon.data.schema import NUMERIC, logical_type
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from gnomon._types import Scope
    from gnomon.data.service import DatasetService

FORMAT = 1  # a stored profile of another format is computed again
BINS = 30
TOP = 20
MAX_CORRELATED = 50
MAX_VALUE_CHARS = 200
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TEMPORAL = ("timestamp", "date")
_CHUNK_ROWS = 1 << 16  # rows per step of the correlation sums: memory stays bounded


def version_profile(service: DatasetService, scope: Scope, ref: str) -> dict[str, Any]:
    """The profile of table version ``ref``: read from the artifact store, or computed and
    stored there on first request.

    Raises:
        NotFound: the dataset or version.
        InvalidInput: the version holds files that are not tables.
    """
    version = service.version(scope, ref)
    if version.kind is not DatasetKind.TABLE:
        raise InvalidInput(
            f"{version.ref} holds files that are not tables: it has no profile",
            {"ref": version.ref},
        )
    objects = service.objects(scope)
    found = objects.profile(version.manifest_digest)
    if found is None or found.get("format") != FORMAT:
        found = profile_table(service.read_table(scope, version.ref))
        objects.put_profile(version.manifest_digest, found)
    return {"ref": version.ref, **found}


def comparison(service: DatasetService, scope: Scope, ref: str, other: str) -> dict[str, Any]:
    """Two versions' profiles, and their shared numeric columns' histograms on the same bins
    (read from both tables: each profile's own bins span only its own range)."""
    first = version_profile(service, scope, ref)
    second = version_profile(service, scope, other)
    shared = [
        name
        for name in numeric_columns(first)
        if name in numeric_columns(second) and _has_values(first, second, name)
    ]
    histograms: dict[str, Any] = {}
    if shared:
        before = service.read_table(scope, first["ref"]).select(shared)
        after = service.read_table(scope, second["ref"]).select(shared)
        histograms = {name: shared_histogram(before[name], after[name]) for name in shared}
    return {"profile": first, "compare": second, "histograms": histograms}


def numeric_columns(profile: dict[str, Any]) -> list[str]:
    return [c["name"] for c in profile["columns"] if c["type"] in NUMERIC]


def _has_values(first: dict[str, Any], second: dict[str, Any], name: str) -> bool:
    def count(profile: dict[str, Any]) -> int:
        return next(int(c["count"]) for c in profile["columns"] if c["name"] == name)

    return count(first) > 0 and count(second) > 0


def profile_table(table: pa.Table) -> dict[str, Any]:
    """The profile of ``table`` as JSON-ready values (no NaN: a missing figure is None)."""
    columns = [column_profile(name, table.column(name)) for name in table.column_names]
    numeric = [c for c in columns if c["type"] in NUMERIC and c["count"] > 0]
    correlated = numeric[:MAX_CORRELATED]
    return {
        "format": FORMAT,
        "rows": table.num_rows,
        "columns": columns,
        "correlations": correlations(
            table, [c["name"] for c in correlated], [c["mean"] for c in correlated]
        ),
        "limits": {
            "bins": BINS,
            "top": TOP,
            "correlated_columns": MAX_CORRELATED,
            "numeric_columns": len(numeric),
        },
    }


def column_profile(name: str, values: pa.ChunkedArray) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = logical_type(values.type)
    rows = len(values)
    column: dict[str, Any] = {"name": name, "type": kind, "arrow_type": str(values.type)}
    if pa.types.is_dictionary(values.type):  # the kernels below take plain values
        values = pc.cast(values, values.type.value_type)
    present = values.drop_null() if values.null_count else values
    if kind in NUMERIC:
        import numpy as np

        numbers = _with_nan(present)
        nan = int(np.count_nonzero(np.isnan(numbers)))  # missing to pandas, as nulls are
        finite = np.sort(numbers[np.isfinite(numbers)])  # one sort: range, quantiles, distinct
        column.update(numeric_profile(finite, integer=kind == "integer"))
        column["infinite"] = len(present) - nan - finite.size
        missing = rows - len(present) + nan
    else:
        missing = rows - len(present)
        column["count"] = len(present)
        if kind in (*TEMPORAL, "binary"):  # top_values counts text's; lists are not hashed
            column["distinct"] = pc.count_distinct(present).as_py()
        if kind in TEMPORAL and len(present):
            low, high = (pc.min_max(present)[key].as_py() for key in ("min", "max"))
            column.update(min=low.isoformat(), max=high.isoformat())
        if kind in ("string", "boolean"):
            column.update(top_values(present))
        if kind == "string":
            column.update(_lengths(present))
    column.update(missing=missing, missing_fraction=missing / rows if rows else 0.0)
    return column


def as_floats(values: pa.ChunkedArray) -> np.ndarray:
    """The column's numbers as float64, with nulls, NaN and infinities left out."""
    import numpy as np

    array = _with_nan(values)
    finite: np.ndarray = array[np.isfinite(array)]
    return finite


def numeric_profile(x: np.ndarray, *, integer: bool) -> dict[str, Any]:
    """Count, distinct values, mean, sample standard deviation (as pandas: ddof 1), range,
    exact quantiles, zeros and a histogram of the finite values ``x``, sorted."""
    import numpy as np

    figures: dict[str, Any] = {
        "count": int(x.size),
        "distinct": int(np.count_nonzero(np.diff(x))) + 1 if x.size else 0,
        "mean": None,
        "std": None,
        "min": None,
        "max": None,
        "quantiles": None,
        "zeros": int(np.count_nonzero(x == 0)),
        "histogram": None,
    }
    if not x.size:
        return figures
    low, high = float(x[0]), float(x[-1])
    cuts = _sorted_quantiles(x)
    figures.update(
        mean=_finite(float(x.mean())),
        std=_finite(float(x.std(ddof=1))) if x.size > 1 else None,
        min=low,
        max=high,
        quantiles={_label(q): float(v) for q, v in zip(QUANTILES, cuts, strict=True)},
        histogram=histogram(x, bin_edges(low, high, integer=integer)),
    )
    return figures


def _sorted_quantiles(x: np.ndarray) -> np.ndarray:
    """``QUANTILES`` of sorted ``x`` by linear interpolation (NumPy's and pandas' default)."""
    import numpy as np

    position = np.asarray(QUANTILES) * (x.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, x.size - 1)
    return x[below] + (x[above] - x[below]) * (position - below)  # type: ignore[no-any-return]


def bin_edges(low: float, high: float, *, integer: bool) -> tuple[float, float, int]:
    """(start, stop, bins): unit bins around each integer of a narrow integer range, else
    ``BINS`` equal bins (one around a constant)."""
    if integer and high - low + 1 <= BINS:
        return low - 0.5, high + 0.5, int(high - low + 1)
    if low == high:
        return low - 0.5, high + 0.5, 1
    return low, high, BINS


def histogram(x: np.ndarray, edges: tuple[float, float, int]) -> dict[str, Any]:
    import numpy as np

    start, stop, bins = edges
    counts, bounds = np.histogram(x, bins=bins, range=(start, stop))
    return {"edges": [float(b) for b in bounds], "counts": [int(c) for c in counts]}


def shared_histogram(first: pa.ChunkedArray, second: pa.ChunkedArray) -> dict[str, Any]:
    """Both columns' histograms on the same bins, spanning both ranges."""
    import pyarrow as pa

    x, y = as_floats(first), as_floats(second)
    integer = all(pa.types.is_integer(c.type) for c in (first, second))
    low = min(float(x.min()), float(y.min()))
    high = max(float(x.max()), float(y.max()))
    edges = bin_edges(low, high, integer=integer)
    one, two = histogram(x, edges), histogram(y, edges)
    return {"edges": one["edges"], "counts": [one["counts"], two["counts"]]}


def top_values(present: pa.ChunkedArray) -> dict[str, Any]:
    """The ``TOP`` most frequent values (as text; booleans as Arrow writes them), how many
    rows hold any other value, and how many distinct values there are."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(present):
        return {"top": [], "other": 0, "distinct": 0}
    counted = pc.value_counts(pc.cast(present, pa.string()))
    counts = counted.field("counts").to_numpy()
    keep = min(TOP, counts.size)
    best = np.argpartition(-counts, keep - 1)[:keep]
    best = best[np.lexsort((best, -counts[best]))]  # by count, then first seen
    values = counted.field("values").take(pa.array(best)).to_pylist()
    top = [
        {"value": str(v)[:MAX_VALUE_CHARS], "count": int(c)}
        for v, c in zip(values, counts[best], strict=True)
    ]
    other = int(counts.sum() - counts[best].sum())
    return {"top": top, "other": other, "distinct": int(counts.size)}


def _lengths(present: pa.ChunkedArray) -> dict[str, Any]:
    import pyarrow.compute as pc

    if not len(present):
        return {"length": None}
    lengths = pc.utf8_length(present)
    low, high = (pc.min_max(lengths)[key].as_py() for key in ("min", "max"))
    return {"length": {"min": low, "mean": pc.mean(lengths).as_py(), "max": high}}


def correlations(table: pa.Table, names: Sequence[str], means: Sequence[float]) -> dict[str, Any]:
    """Pearson correlations of ``names``, over the rows where both columns hold a number
    (pairwise, as pandas ``DataFrame.corr``). Sums of the centred values are added up over
    row chunks with matrix products; None where a pair has under two rows or no spread."""
    import numpy as np

    k = len(names)
    if k < 2:
        return {"columns": list(names), "matrix": [[1.0]] if k else []}
    centre = np.asarray(means, dtype=np.float64)
    pairs = np.zeros((k, k))
    sums, squares, products = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    for start in range(0, table.num_rows, _CHUNK_ROWS):
        chunk = table.slice(start, _CHUNK_ROWS)
        x = np.column_stack([_with_nan(chunk.column(name)) for name in names])
        x -= centre
        valid = np.isfinite(x)
        if valid.all():  # every pair sees every row: column sums, one product
            pairs += len(x)
            sums += x.sum(axis=0)[:, None]
            squares += (x * x).sum(axis=0)[:, None]
        else:
            x[~valid] = 0.0
            weight = valid.astype(np.float64)
            pairs += weight.T @ weight
            sums += x.T @ weight  # [i, j]: column i's values on the rows where j has one too
            squares += (x * x).T @ weight
        products += x.T @ x
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = products - sums * sums.T / pairs
        spread = (squares - sums**2 / pairs) * (squares.T - sums.T**2 / pairs)
        r = np.clip(cov / np.sqrt(spread), -1.0, 1.0)
    r[(pairs < 2) | ~(spread > 0)] = np.nan
    matrix = [[None if math.isnan(v) else float(v) for v in row] for row in r.tolist()]
    return {"columns": list(names), "matrix": matrix}


def _with_nan(values: pa.ChunkedArray) -> np.ndarray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(array, dtype=np.float64)


def _label(q: float) -> str:
    return f"p{round(q * 100):02d}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
