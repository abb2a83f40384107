"""Reading an MLflow SQL store (``sqlite:///mlflow.db``, ``postgresql://…``): the tables
``experiments``, ``experiment_tags``, ``runs``, ``params``, ``tags`` and ``metrics``.

Only columns every MLflow schema since 1.x has are read. A NaN point is a row with
``is_nan`` set (its value 0); ±inf are stored as ±DBL_MAX and read back as ±inf. A SQLite
file is opened read-only, so an import never changes the store it reads.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from gnomon.errors import InvalidInput, NotFound, Unavailable
from gnomon.mlflow_compat.import_sources import (
    PARENT_TAG,
    SourceExperiment,
    SourcePoint,
    SourceRun,
    SourceRunData,
    restore_infinity,
)

_REQUIRED = ("experiments", "runs", "params", "metrics", "tags")

experiments = sa.table(
    "experiments",
    sa.column("experiment_id"),
    sa.column("name"),
    sa.column("lifecycle_stage"),
)
experiment_tags = sa.table(
    "experiment_tags", sa.column("key"), sa.column("value"), sa.column("experiment_id")
)
runs = sa.table(
    "runs",
    sa.column("run_uuid"),
    sa.column("name"),
    sa.column("user_id"),
    sa.column("status"),
    sa.column("start_time"),
    sa.column("end_time"),
    sa.column("lifecycle_stage"),
    sa.column("artifact_uri"),
    sa.column("experiment_id"),
)
params = sa.table("params", sa.column("key"), sa.column("value"), sa.column("run_uuid"))
tags = sa.table("tags", sa.column("key"), sa.column("value"), sa.column("run_uuid"))
metrics = sa.table(
    "metrics",
    sa.column("key"),
    sa.column("value"),
    sa.column("timestamp"),
    sa.column("step"),
    sa.column("is_nan"),
    sa.column("run_uuid"),
)

# Built once: a 10,000-run import runs each 10,000 times.
_RUN: sa.BindParameter[str] = sa.bindparam("run")
_PARAMS = sa.select(params.c.key, params.c.value).where(params.c.run_uuid == _RUN)
_TAGS = sa.select(tags.c.key, tags.c.value).where(tags.c.run_uuid == _RUN)
_METRICS = (
    sa.select(metrics.c.key, metrics.c.value, metrics.c.step, metrics.c.timestamp, metrics.c.is_nan)
    .where(metrics.c.run_uuid == _RUN)
    .order_by(metrics.c.key, metrics.c.step, metrics.c.timestamp, metrics.c.value)
)


class SqlStoreSource:
    """An MLflow tracking database, read-only."""

    def __init__(self, uri: str) -> None:
        self.engine, self.uri = _engine(uri)
        try:
            with self._reading():
                present = set(sa.inspect(self.engine).get_table_names())
        except Unavailable:
            self.engine.dispose()
            raise
        missing = [name for name in _REQUIRED if name not in present]
        if missing:
            self.engine.dispose()
            raise InvalidInput(
                f"{self.uri} is not an MLflow tracking database: no table {', '.join(missing)}"
            )
        self._has_experiment_tags = "experiment_tags" in present

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for row in self._rows(sa.select(experiments).order_by(experiments.c.experiment_id)):
            experiment_id = str(row.experiment_id)
            found.append(
                SourceExperiment(
                    experiment_id,
                    row.name,
                    row.lifecycle_stage == "deleted",
                    self._experiment_tags(row.experiment_id),
                )
            )
        return found

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        query = (
            sa.select(runs)
            .where(runs.c.experiment_id == int(experiment.id))
            .order_by(runs.c.start_time, runs.c.run_uuid)
        )
        parents = dict(
            self._rows(
                sa.select(tags.c.run_uuid, tags.c.value)
                .select_from(tags.join(runs, runs.c.run_uuid == tags.c.run_uuid))
                .where(tags.c.key == PARENT_TAG, runs.c.experiment_id == int(experiment.id))
            )
        )
        return [_run(row, experiment.id, parents.get(row.run_uuid)) for row in self._rows(query)]

    def run_data(self, run: SourceRun) -> SourceRunData:
        data = SourceRunData()
        with self._reading(), self.engine.connect() as conn:
            one_run = {"run": run.id}
            data.params.update((k, value or "") for k, value in conn.execute(_PARAMS, one_run))
            data.tags.update((k, value or "") for k, value in conn.execute(_TAGS, one_run))
            for key, value, step, timestamp, is_nan in conn.execute(_METRICS, one_run):
                number = math.nan if is_nan else restore_infinity(float(value))
                data.metrics.append(SourcePoint(key, number, int(step or 0), int(timestamp or 0)))
        return data

    def close(self) -> None:
        self.engine.dispose()

    def _experiment_tags(self, experiment_id: Any) -> dict[str, str]:
        if not self._has_experiment_tags:
            return {}
        c = experiment_tags.c
        query = sa.select(c.key, c.value).where(c.experiment_id == experiment_id)
        return {key: value or "" for key, value in self._rows(query)}

    def _rows(self, query: sa.Select[Any]) -> list[Any]:
        with self._reading(), self.engine.connect() as conn:
            return list(conn.execute(query))

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A lost connection or a changed schema as one ``Unavailable`` naming the store."""
        try:
            yield
        except SQLAlchemyError as exc:
            why = getattr(exc, "orig", None) or exc
            raise Unavailable(f"cannot read the MLflow database {self.uri}: {why}") from None


def _run(row: Any, experiment_id: str, parent_id: str | None) -> SourceRun:
    return SourceRun(
        id=row.run_uuid,
        experiment_id=experiment_id,
        name=row.name or None,
        status=row.status or "RUNNING",
        start_time=row.start_time,
        end_time=row.end_time,
        user=row.user_id or None,
        deleted=row.lifecycle_stage == "deleted",
        artifact_uri=row.artifact_uri or None,
        parent_id=parent_id,
    )


def _engine(uri: str) -> tuple[Engine, str]:
    """The engine, and the URI as shown to people (no password)."""
    try:
        url = make_url(uri)
    except ArgumentError:
        raise InvalidInput(f"invalid database URI {uri!r}") from None
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.database or "")
    shown = url.render_as_string(hide_password=True)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the driver gnomon ships
    try:
        return sa.create_engine(url), shown
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise InvalidInput(f"cannot open {shown}: its database driver is missing ({exc})") from None


def _sqlite_engine(database: str) -> tuple[Engine, str]:
    path = Path(database).expanduser()
    if database in ("", ":memory:") or not path.is_file():
        raise NotFound(f"MLflow database file {database!r} not found")
    path = path.resolve()
    target = f"{path.as_uri()}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(target, uri=True, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
    return engine, f"sqlite:///{path}"
