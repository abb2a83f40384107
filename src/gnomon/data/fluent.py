"""``gnomon.log_dataset`` and ``gnomon.load_dataset``: datasets from a script or notebook,
through the same client as the fluent tracking calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnomon.data.entities import DatasetVersion
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.data.api import DatasetsApi


def _datasets() -> DatasetsApi:
    from gnomon.tracking.fluent import get_client

    client = get_client()
    try:
        return client.datasets  # type: ignore[attr-defined, no-any-return]
    except AttributeError:
        raise InvalidInput("this GNOMON_URI offers no datasets") from None


def _active_run_id() -> str | None:
    from gnomon.tracking.fluent import active_run

    run = active_run()
    return run.id if run is not None else None


def log_dataset(data: Any, name: str, *, message: str = "") -> DatasetVersion:
    """Version a pandas, Polars or Arrow table (stored as one Parquet file) or a file or
    folder path as dataset ``name``; the same content again returns the same version. Inside
    a run, a new version names that run as the one that produced it.

    Example:
        >>> version = gnomon.log_dataset(frame, "transactions")
        >>> version.ref
        'transactions@1'
    """
    return _datasets().log(data, name, message=message, run_id=_active_run_id()).version


def load_dataset(ref: str, *, context: str = "input") -> pd.DataFrame:
    """A table version (``"transactions@3"``, or ``"transactions"`` for the latest) as a
    DataFrame; inside a run, the run records that version as an input (``context``).
    Raises ``InvalidInput`` for a version of files that are not tables."""
    datasets = _datasets()
    version = datasets.version(ref)
    frame = datasets.load(version.ref)
    if (run_id := _active_run_id()) is not None:
        datasets.log_input(run_id, version.ref, context)
    return frame


def log_input(ref: str, *, context: str = "input") -> DatasetVersion:
    """Record that the active run used dataset version ``ref`` (read some other way: a
    checkout, a path). Raises ``InvalidInput`` outside a run."""
    run_id = _active_run_id()
    if run_id is None:
        raise InvalidInput("log_input records an input of the active run: start a run first")
    return _datasets().log_input(run_id, ref, context)
