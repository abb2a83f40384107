"""Checking views' sources against their declared schemas before an apply writes them: DuckDB
reads only each source's schema (a Parquet footer, a CSV sample) and the columns must be
there, with types that hold the declared dtypes. PostgreSQL sources are not checked: reading
one means running its query."""

from __future__ import annotations

from collections.abc import Iterable

from gnomon.errors import GnomonError, InvalidInput
from gnomon.features.definitions import FeatureView, PostgresSource
from gnomon.features.plan import MAX_PROBLEMS, shown
from gnomon.features.sources import DatasetFiles
from gnomon.features.specs import Catalog

_INTEGERS = (
    *("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"),
    *("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"),
)
_NUMBERS = (*_INTEGERS, "FLOAT", "DOUBLE", "DECIMAL")
# A declared dtype -> the DuckDB column types (by prefix) that hold it without loss of meaning.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "float64": _NUMBERS,
    "float32": _NUMBERS,
    "int64": _INTEGERS,
    "int32": _INTEGERS,
    "bool": ("BOOLEAN",),
    "string": ("VARCHAR",),
    "timestamp": ("TIMESTAMP", "DATE"),
}


def check_sources(
    catalog: Catalog, views: Iterable[str], dataset_files: DatasetFiles | None
) -> None:
    """Raises ``InvalidInput`` naming every missing or mistyped column of ``views``' sources,
    and every source that cannot be read."""
    import duckdb

    from gnomon.features.sources import register_source

    problems: list[str] = []
    with duckdb.connect() as con:
        for name in views:
            view = catalog.views[name]
            if isinstance(view.source, PostgresSource):
                continue
            try:
                relation = register_source(
                    con, view, catalog.join_keys(view), dataset_files=dataset_files
                )
                described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            except GnomonError as exc:
                problems.append(exc.message)
                continue
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0]
                problems.append(f"the source of feature view '{name}' cannot be read: {reason}")
                continue
            problems += mistyped(view, {row[0]: str(row[1]) for row in described})
    if problems:
        raise InvalidInput(shown(problems), {"problems": problems[:MAX_PROBLEMS]})


def mistyped(view: FeatureView, types: dict[str, str]) -> list[str]:
    """A problem for each feature whose source column cannot hold its declared dtype."""
    wrong = [
        f"{f.name} is {types[f.name]}, declared {f.dtype}"
        for f in view.schema
        if f.name in types and not _holds(types[f.name].upper(), f.dtype)
    ]
    if not wrong:
        return []
    return [f"the source of feature view '{view.name}' has mistyped columns: {', '.join(wrong)}"]


def _holds(column_type: str, dtype: str) -> bool:
    return "[" not in column_type and column_type.startswith(ACCEPTED[dtype])
