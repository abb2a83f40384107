"""Reading an MLflow SQL store (``sqlite:///mlflow.db``, ``postgresql://…``): the tables
``experiments``, ``experiment_tags``, ``runs``, ``params``, ``tags`` and ``metrics``.

Only columns every MLflow schema since 1.x has are read. A NaN point is a row with
``is_nan`` set (its value 0); ±inf are stored as ±DBL_MAX and read back as ±inf. A SQLite
file is opened read-only, so an import never changes the store it reads. SQLite keeps whatever
a hand-edited row holds (text where MLflow writes a number, NULL for an id): such a row, or
value, is listed in the summary with the reason and the rest is imported.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from gnomon.errors import InvalidInput, NotFound, Unavailable
from gnomon.mlflow_compat.import_confined import ConfinedFolder
from gnomon.mlflow_compat.import_sources import (
    PARENT_TAG,
    SourceExperiment,
    SourcePoint,
    SourceRun,
    SourceRunData,
    restore_infinity,
    text_or_none,
    whole_number,
)
from gnomon.mlflow_compat.import_summary import Skipped

T = TypeVar("T")
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
        self.tables = frozenset(present)
        self.folder: ConfinedFolder | None = None  # a database has none: see --artifacts-root
        self.problems: list[Skipped] = []
        self._keys: dict[str, Any] = {}  # experiment id -> the value its rows hold

    def experiments(self) -> list[SourceExperiment]:
        found = []
        for row in self._rows(sa.select(experiments).order_by(experiments.c.experiment_id)):
            if row.experiment_id is None:
                self._problem("experiment", f"experiment {row.name!r}", "its experiment_id is NULL")
                continue
            experiment_id = str(row.experiment_id)
            if not isinstance(row.name, str) or not row.name:
                reason = f"its name is {row.name!r}, not text; its runs are left out"
                self._problem("experiment", f"experiment {experiment_id}", reason)
                continue
            self._keys[experiment_id] = row.experiment_id
            deleted = row.lifecycle_stage == "deleted"
            tags = self._experiment_tags(row.experiment_id)
            found.append(SourceExperiment(experiment_id, row.name, deleted, tags))
        return found

    def runs(self, experiment: SourceExperiment) -> list[SourceRun]:
        key = self._keys[experiment.id]  # as stored: SQLite may hold text where MLflow writes ints
        query = (
            sa.select(runs)
            .where(runs.c.experiment_id == key)
            .order_by(runs.c.start_time, runs.c.run_uuid)
        )
        parents = dict(
            self._rows(
                sa.select(tags.c.run_uuid, tags.c.value)
                .select_from(tags.join(runs, runs.c.run_uuid == tags.c.run_uuid))
                .where(tags.c.key == PARENT_TAG, runs.c.experiment_id == key)
            )
        )
        found = (self._run(row, experiment, parents) for row in self._rows(query))
        return [run for run in found if run is not None]

    def run_data(self, run: SourceRun) -> SourceRunData:
        data = SourceRunData()
        with self._reading(), self.engine.connect() as conn:
            one_run = {"run": run.id}
            for key, value in conn.execute(_PARAMS, one_run):
                _take_text(data, "param", key, value, data.params)
            for key, value in conn.execute(_TAGS, one_run):
                _take_text(data, "tag", key, value, data.tags)
            for row in conn.execute(_METRICS, one_run):
                _take_point(data, *row)
        return data

    def close(self) -> None:
        self.engine.dispose()

    def read(self, query: str) -> list[Any]:
        """The rows of a plain query (the registry reader's); a failure as ``Unavailable``."""
        with self._reading(), self.engine.connect() as conn:
            return list(conn.execute(sa.text(query)))

    def _experiment_tags(self, experiment_id: Any) -> dict[str, str]:
        if not self._has_experiment_tags:
            return {}
        c = experiment_tags.c
        query = sa.select(c.key, c.value).where(c.experiment_id == experiment_id)
        return {key: value or "" for key, value in self._rows(query)}

    def _run(
        self, row: Any, experiment: SourceExperiment, parents: dict[Any, Any]
    ) -> SourceRun | None:
        run_id = row.run_uuid
        if not isinstance(run_id, str) or not run_id:
            where = f"a run of experiment {experiment.name!r}"
            self._problem("run", where, f"its run_uuid is {run_id!r}, not a run id")
            return None

        def value(what: str, found: Any, convert: Callable[[Any], T | None]) -> T | None:
            try:
                return convert(found)
            except ValueError as exc:
                self._problem(what, f"run {run_id}", str(exc))
                return None

        parent = parents.get(run_id)
        return SourceRun(
            id=run_id,
            experiment_id=experiment.id,
            name=value("run name", row.name, text_or_none) or None,
            status=str(row.status or "RUNNING"),
            start_time=value("start time", row.start_time, whole_number),
            end_time=value("end time", row.end_time, whole_number),
            user=value("user", row.user_id, text_or_none) or None,
            deleted=row.lifecycle_stage == "deleted",
            artifact_uri=value("artifact_uri", row.artifact_uri, text_or_none) or None,
            parent_id=parent if isinstance(parent, str) and parent else None,
        )

    def _problem(self, kind: str, subject: str, reason: str) -> None:
        self.problems.append(Skipped(kind, subject, reason))

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


def _take_text(data: SourceRunData, kind: str, key: Any, value: Any, into: dict[str, str]) -> None:
    try:
        into[_key(key)] = text_or_none(value) or ""
    except ValueError as exc:
        data.problems.append((kind, repr(key), str(exc)))


def _take_point(
    data: SourceRunData, key: Any, value: Any, step: Any, timestamp: Any, is_nan: Any
) -> None:
    try:
        if is_nan:
            number = math.nan
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = restore_infinity(float(value))
        else:
            raise ValueError(f"value is not a number: {value!r}")
        point = SourcePoint(
            _key(key), number, whole_number(step) or 0, whole_number(timestamp) or 0
        )
    except ValueError as exc:
        data.problems.append(("metric point", f"metric {key!r}", str(exc)))
        return
    data.metrics.append(point)


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"key is not text: {key!r}")
    return key


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
