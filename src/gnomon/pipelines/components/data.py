"""Data components: a dataset version from a source, loaded, profiled and validated.

``ingest``, ``dataset_version`` and ``validate`` look at the world outside the pipeline (a
source, the latest version, the dataset's current schema), so they run on every run and are
never cached; they return the same version when nothing changed, so what follows them is
cached by content. ``load`` and ``statistics`` read an immutable version and are cached.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, NamedTuple

import pandas as pd

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput
from gnomon.pipelines.components._common import datasets, version_of
from gnomon.pipelines.decorators import step

_SHOWN = 5  # anomalies named in a failed validation's message


@step(cache=False)
def ingest(
    source: str,
    name: str,
    query: str | None = None,
    table: str | None = None,
    message: str = "",
) -> DatasetVersion:
    """Version what ``source`` holds as dataset ``name``; an unchanged source gives the same
    version. ``source`` is a local file or folder (versioned as it is), or what
    ``gnomon data ingest`` reads: ``s3://…`` Parquet or CSV, ``postgresql://…`` with ``table``
    or ``query``, or ``duckdb`` with ``query`` (give a query an ``ORDER BY``).

    The step's inputs are recorded with the run (and shown as params in tracking): keep a
    password out of ``source`` and give it to the workers' environment (``PGPASSWORD``,
    ``~/.pgpass``, S3's own credentials)."""
    found = datasets()
    if query is not None or table is not None or "://" in source or source == "duckdb":
        added = found.ingest(name, source, table=table, query=query, message=message)
    else:
        added = found.add(source, name, message=message)
    return added.version


@step(cache=False)
def dataset_version(ref: str) -> DatasetVersion:
    """The version ``ref`` names (``NAME`` or ``NAME@latest``: the latest, looked up on every
    run), to start a pipeline from data already versioned."""
    return version_of(ref)


@step
def load(dataset: DatasetVersion | str) -> pd.DataFrame:
    """A table version as one DataFrame. In a pipeline a reference must be pinned
    (``NAME@3``): the step is cached, so ``NAME`` alone would keep its first answer."""
    version = version_of(dataset, pinned=True)
    return datasets().load(version.ref)


@step
def statistics(dataset: DatasetVersion | str) -> dict[str, Any]:
    """The version's profile: rows, and per column its type, missing values, distinct count,
    and for numbers mean, std, quantiles and a histogram (see ``client.datasets.profile``)."""
    version = version_of(dataset, pinned=True)
    return datasets().profile(version.ref)


class Validated(NamedTuple):
    dataset: DatasetVersion
    report: dict[str, Any]


@step(cache=False)
def validate(
    dataset: DatasetVersion | str, thresholds: dict[str, float] | None = None
) -> Validated:
    """Check the version against its dataset's current schema. Anomalies fail the step (and
    so stop everything downstream), naming them; a clean version passes through as
    ``dataset``, with the report as ``report``. ``thresholds`` are those of
    ``gnomon.data.validation.Thresholds`` (``null_rate``, ``numeric_shift``,
    ``category_shift``, ``range_margin``)."""
    from gnomon.data.validation import Thresholds

    try:
        limits = Thresholds(**(thresholds or {}))
    except TypeError as exc:
        known = ", ".join(field.name for field in fields(Thresholds))
        raise InvalidInput(f"validate: {exc}; the thresholds are {known}") from None
    version = version_of(dataset)
    report = datasets().validate(version.dataset, version.ref, limits)
    if not report.ok:
        shown = "; ".join(anomaly.message for anomaly in report.anomalies[:_SHOWN])
        more = len(report.anomalies) - _SHOWN
        raise InvalidInput(
            f"{version.ref} has {len(report.anomalies)} anomalies against the schema of "
            f"{version.dataset!r}: {shown}" + (f" (and {more} more)" if more > 0 else ""),
            {"dataset": version.ref, **report.to_dict()},
        )
    return Validated(version, report.to_dict())


__all__ = ["Validated", "dataset_version", "ingest", "load", "statistics", "validate"]
