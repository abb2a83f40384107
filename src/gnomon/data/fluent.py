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
        raise InvalidInput(
            "datasets are not offered through a server yet: use an embedded GNOMON_URI"
        ) from None


def log_dataset(data: Any, name: str, *, message: str = "") -> DatasetVersion:
    """Version a pandas, Polars or Arrow table (stored as one Parquet file) or a file or
    folder path as dataset ``name``; the same content again returns the same version.

    Example:
        >>> version = gnomon.log_dataset(frame, "transactions")
        >>> version.ref
        'transactions@1'
    """
    return _datasets().log(data, name, message=message).version


def load_dataset(ref: str) -> pd.DataFrame:
    """A table version (``"transactions@3"``, or ``"transactions"`` for the latest) as a
    DataFrame. Raises ``InvalidInput`` for a version of files that are not tables."""
    return _datasets().load(ref)
