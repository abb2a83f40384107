"""Runs as a pandas DataFrame, in MLflow's column convention; pandas is imported on call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gnomon._types import Page
from gnomon.errors import InvalidInput
from gnomon.tracking.entities import Run

if TYPE_CHECKING:
    import pandas as pd

ATTRIBUTE_COLUMNS = (
    "run_id",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "parent_run_id",
)


def runs_frame(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run: its attributes (times as UTC timestamps), then ``params.<key>``,
    ``metrics.<key>`` (latest values) and ``tags.<key>`` columns, each group sorted by key.
    A run lacking a key holds a missing value there."""
    import pandas as pd

    runs = list(runs)
    rows = [_row(run) for run in runs]
    keys = {group: sorted({k for run in runs for k in getattr(run, group)}) for group in _GROUPS}
    columns = [*ATTRIBUTE_COLUMNS, *(f"{g}.{k}" for g in _GROUPS for k in keys[g])]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    for key in keys["metrics"]:
        frame[f"metrics.{key}"] = frame[f"metrics.{key}"].astype("float64")
    return frame


_GROUPS = ("params", "metrics", "tags")


def _row(run: Run) -> dict[str, object]:
    row: dict[str, object] = {
        "run_id": run.id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "parent_run_id": run.parent_run_id,
    }
    for group in _GROUPS:
        row.update({f"{group}.{k}": value for k, value in getattr(run, group).items()})
    return row


class RunPage(Page[Run]):
    """A page of runs that also converts to a DataFrame."""

    __slots__ = ()

    def to_pandas(self) -> pd.DataFrame:
        """This page's runs as :func:`runs_frame` lays them out."""
        return runs_frame(self.items)

    def _repr_html_(self) -> str:  # a notebook's view: a bounded table of the runs
        from gnomon.tracking.html import runs_html

        return runs_html(self.items, more=self.next_page_token is not None)


def pick_output(page: RunPage, output: str) -> RunPage | pd.DataFrame:
    """``search_runs``' result in the form ``output`` names."""
    if output == "page":
        return page
    if output == "pandas":
        return page.to_pandas()
    raise InvalidInput(
        f"output {output!r} is not one of 'page', 'pandas'", {"field": "output", "value": output}
    )
