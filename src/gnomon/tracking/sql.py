"""SqlTrackingStore: the tracking store over SQLite or PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Dialect, Table, func, select, update

from gnomon._types import (
    Page,
    Scope,
    new_id,
    now_ms,
)
from gnomon.errors import AlreadyExists, Conflict, NotFound
from gnomon.store import driver_sql
from gnomon.store.database import Database
from gnomon.store.paging import cut_page, fetch_page
from gnomon.tracking import sql_packs
from gnomon.tracking.entities import (
    Experiment,
    FinishedRun,
    Lifecycle,
    Metric,
    NewRun,
    Run,
    RunData,
    RunStatus,
    RunUpdate,
)
from gnomon.tracking.search import RunQuery
from gnomon.tracking.series import (
    ExperimentActivity,
    MetricSeries,
    bucket_width,
    min_max_points,
)
from gnomon.tracking.sql_replay import Point, unstored_points
from gnomon.tracking.sql_run_data import SQLITE_JSON, RunRow, load_page, load_runs, to_run
from gnomon.tracking.sql_search import orders_by_a_value
from gnomon.tracking.sql_search_plan import search_sql
from gnomon.tracking.tables import experiments, latest_metrics, metrics, params, runs, tags


class SqlTrackingStore:
    """Tracking store in the metadata database; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, scope: Scope, name: str, artifact_root: str) -> Experiment:
        experiment_id = new_id()
        now = now_ms()
        values = {
            "id": experiment_id,
            "workspace_id": scope.workspace,
            "name": name,
            "lifecycle": Lifecycle.ACTIVE.value,
            "artifact_location": f"{artifact_root.rstrip('/')}/{experiment_id}",
            "created_time": now,
            "updated_time": now,
        }
        with self.db.write() as conn:
            self._check_name_free(conn, scope, name)
            conn.execute(experiments.insert().values(**values))
        return _to_experiment(SimpleNamespace(**values))

    def get_experiment(self, scope: Scope, experiment_id: str) -> Experiment:
        with self.db.read() as conn:
            return self._experiment(conn, scope, experiment_id)

    def get_experiment_by_name(self, scope: Scope, name: str) -> Experiment:
        with self.db.read() as conn:
            found = conn.exec_driver_sql(
                driver_sql.select_by(conn.dialect, experiments, ("workspace_id", "name")),
                (scope.workspace, name),
            )
            row = found.first()
        if row is None:
            raise NotFound(f"experiment {name!r} not found")
        return _to_experiment(row)

    def list_experiments(
        self,
        scope: Scope,
        lifecycle: Lifecycle | None = Lifecycle.ACTIVE,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        query = select(experiments).where(experiments.c.workspace_id == scope.workspace)
        if lifecycle is not None:
            query = query.where(experiments.c.lifecycle == lifecycle.value)
        query = query.order_by(experiments.c.name)
        with self.db.read() as conn:
            rows, token = fetch_page(conn, query, max_results, page_token)
        return Page([_to_experiment(row) for row in rows], token)

    def rename_experiment(self, scope: Scope, experiment_id: str, new_name: str) -> Experiment:
        with self.db.write() as conn:
            current = self._experiment(conn, scope, experiment_id)
            if current.name == new_name:
                return current
            self._check_name_free(conn, scope, new_name)
            now = now_ms()
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id)
                .values(name=new_name, updated_time=now)
            )
        return replace(current, name=new_name, updated_time=now)

    def set_experiment_lifecycle(
        self, scope: Scope, experiment_id: str, lifecycle: Lifecycle
    ) -> Experiment:
        now = now_ms()
        with self.db.write() as conn:
            current = self._experiment(conn, scope, experiment_id)
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id)
                .values(lifecycle=lifecycle.value, updated_time=now)
            )
        return replace(current, lifecycle=lifecycle, updated_time=now)

    # -- runs --------------------------------------------------------------------------------

    def create_run(self, scope: Scope, run: NewRun) -> Run:
        run_id = new_id()
        with self.db.write() as conn:
            experiment = self._experiment(conn, scope, run.experiment_id)
            if experiment.lifecycle is Lifecycle.DELETED:
                raise Conflict(f"experiment {experiment.name!r} is deleted; restore it first")
            if run.parent_run_id is not None:
                self._run_row(conn, scope, run.parent_run_id)
            values = {
                "id": run_id,
                "workspace_id": scope.workspace,
                "experiment_id": run.experiment_id,
                "name": run.name,
                "description": run.description,
                "status": RunStatus.RUNNING.value,
                "lifecycle": Lifecycle.ACTIVE.value,
                "user": run.user,
                "start_time": run.start_time,
                "end_time": None,
                "parent_run_id": run.parent_run_id,
                "artifact_uri": f"{experiment.artifact_location}/{run_id}/artifacts",
            }
            row = RunRow(**values)  # the table's columns in order, to the driver as they are
            conn.exec_driver_sql(driver_sql.insert(conn.dialect, runs, row._fields), row)
            if run.tags:
                conn.execute(tags.insert(), _kv_rows(run_id, run.tags))
        # Everything a new run holds is known here: no need to read it back.
        return to_run(SimpleNamespace(**values), {}, dict(run.tags), {})

    def add_finished_runs(self, scope: Scope, finished: Sequence[FinishedRun]) -> list[str]:
        """Runs that already ended, with their data, in one transaction (executemany)."""
        if not finished:
            return []
        ids = [new_id() for _ in finished]
        run_rows, tag_rows, param_rows, points = [], [], [], []
        with self.db.write() as conn:
            experiment = self._experiment(conn, scope, finished[0].run.experiment_id)
            for run_id, item in zip(ids, finished, strict=True):
                new = item.run
                run_rows.append(
                    {
                        "id": run_id,
                        "workspace_id": scope.workspace,
                        "experiment_id": experiment.id,
                        "name": new.name,
                        "description": new.description,
                        "status": item.status.value,
                        "lifecycle": Lifecycle.ACTIVE.value,
                        "user": new.user,
                        "start_time": new.start_time,
                        "end_time": item.end_time,
                        "parent_run_id": new.parent_run_id,
                        "artifact_uri": f"{experiment.artifact_location}/{run_id}/artifacts",
                    }
                )
                tag_rows += _kv_rows(run_id, {**new.tags, **item.data.tags})
                param_rows += _kv_rows(run_id, item.data.params)
                points += [
                    (run_id, m.key, m.step, m.timestamp, None if math.isnan(m.value) else m.value)
                    for m in item.data.metrics
                ]
            conn.execute(runs.insert(), run_rows)
            if tag_rows:
                conn.execute(tags.insert(), tag_rows)
            if param_rows:
                conn.execute(params.insert(), param_rows)
            if points:
                driver_sql.insert_rows(conn, metrics, _POINT_COLUMNS, points)
                latest: dict[tuple[str, str], Point] = {}
                for point in points:
                    seen = latest.get((point[0], point[1]))
                    if seen is None or (point[2], point[3]) >= (seen[2], seen[3]):
                        latest[(point[0], point[1])] = point
                conn.execute(
                    latest_metrics.insert(),
                    [dict(zip(_POINT_COLUMNS, p, strict=True)) for p in latest.values()],
                )
                sql_packs.insert_packs(conn, sql_packs.pack_points(conn.dialect, points))
        return ids

    def get_run(self, scope: Scope, run_id: str) -> Run:
        with self.db.read() as conn:
            return load_runs(conn, [self._run_row(conn, scope, run_id)])[0]

    def update_run(self, scope: Scope, run_id: str, update_: RunUpdate) -> Run:
        values: dict[str, Any] = {}
        if update_.name is not None:
            values["name"] = update_.name
        if update_.description is not None:
            values["description"] = update_.description
        if update_.status is not None:
            values["status"] = update_.status.value
            values["end_time"] = (
                None if update_.status is RunStatus.RUNNING else (update_.end_time or now_ms())
            )
        return self._update_run(scope, run_id, values)

    def set_run_lifecycle(self, scope: Scope, run_id: str, lifecycle: Lifecycle) -> Run:
        return self._update_run(scope, run_id, {"lifecycle": lifecycle.value})

    # -- logging -----------------------------------------------------------------------------

    def log_batch(self, scope: Scope, run_id: str, data: RunData) -> None:
        if not data:
            return
        with self.db.write() as conn:
            self._check_running(conn, scope, run_id, "FOR SHARE")
            self._write_data(conn, run_id, data)

    def log_batch_and_end(
        self, scope: Scope, run_id: str, data: RunData, status: RunStatus
    ) -> None:
        """``log_batch``, then end the run ``status``, in one transaction: the SDK's last
        batch of a run. A run whose points all came in this batch is packed from them."""
        with self.db.write() as conn:
            # Locked on PostgreSQL: a batch (FOR SHARE) or another end waits for this one;
            # a foreign key's check on the run (a child run, a logged model) need not.
            self._check_running(conn, scope, run_id, "FOR NO KEY UPDATE")
            points = self._write_data(conn, run_id, data)
            conn.exec_driver_sql(
                _end_sql(conn.dialect), (status.value, now_ms(), run_id, scope.workspace)
            )
            if points is None:
                sql_packs.pack_run(conn, run_id)
            else:
                sql_packs.insert_packs(conn, sql_packs.pack_points(conn.dialect, points))

    def _check_running(self, conn: Connection, scope: Scope, run_id: str, lock: str) -> None:
        status = self._run_status(conn, scope, run_id, lock)
        if status != RunStatus.RUNNING.value:
            raise Conflict(f"run {run_id!r} is {status}; only a RUNNING run can log")

    def _write_data(self, conn: Connection, run_id: str, data: RunData) -> list[Point] | None:
        """Write ``data``; returns its points when the run had none before: all it has."""
        if data.params:
            self._write_params(conn, run_id, data.params)
        if data.tags:
            _write_pairs(conn, tags, run_id, data.tags, _REPLACE)
        return self._write_metrics(conn, run_id, data.metrics)

    def get_metric_history(self, scope: Scope, run_id: str, key: str) -> list[Metric]:
        with self.db.read() as conn:
            packed = driver_sql.rows(
                conn, sql_packs.packed_history_sql(conn.dialect), (run_id, scope.workspace, key)
            )
            if packed:
                return sql_packs.unpack(key, *packed[0])
            owned, points = _history_sql(conn.dialect)
            rows = driver_sql.rows(conn, points, (run_id, scope.workspace, key))
            # No points: a run without this metric, or no run of this workspace at all.
            if not rows and conn.exec_driver_sql(owned, (run_id, scope.workspace)).first() is None:
                raise NotFound(f"run {run_id!r} not found")
        nan = math.nan
        return [Metric(key, nan if v is None else v, s, t) for v, s, t in rows]

    def experiment_activity(
        self, scope: Scope, experiment_ids: Sequence[str]
    ) -> list[ExperimentActivity]:
        if not experiment_ids:
            return []
        last = func.max(func.coalesce(runs.c.end_time, runs.c.start_time))
        query = (
            select(runs.c.experiment_id, func.count(), last)
            .where(runs.c.workspace_id == scope.workspace)
            .where(runs.c.experiment_id.in_(list(experiment_ids)))
            .where(runs.c.lifecycle == Lifecycle.ACTIVE.value)
            .group_by(runs.c.experiment_id)
        )
        with self.db.read() as conn:
            found = {row[0]: (row[1], row[2]) for row in conn.execute(query)}
        return [ExperimentActivity(i, *found.get(i, (0, None))) for i in experiment_ids]

    def metric_series(
        self,
        scope: Scope,
        run_id: str,
        key: str,
        max_points: int,
        steps: tuple[int | None, int | None] = (None, None),
    ) -> MetricSeries:
        owned = (metrics.c.run_id == run_id) & (metrics.c.key == key)
        if steps[0] is not None:
            owned &= metrics.c.step >= steps[0]
        if steps[1] is not None:
            owned &= metrics.c.step <= steps[1]
        # The ends are two index seeks, and the count stops past max_points: counting a
        # 100,000-point series in full cost a scan of its own (the buckets count it).
        lowest = select(func.min(metrics.c.step)).where(owned).scalar_subquery()
        highest = select(func.max(metrics.c.step)).where(owned).scalar_subquery()
        some = select(metrics.c.step).where(owned).limit(max_points + 1).subquery()
        span = select(lowest, highest, select(func.count()).select_from(some).scalar_subquery())
        with self.db.read() as conn:
            self._run_row(conn, scope, run_id)  # NotFound unless the workspace's
            first, last, total = conn.execute(span).one()
            if not total:
                return MetricSeries(key, [], [], 0)
            if total <= max_points:
                points = select(metrics.c.step, metrics.c.value).where(owned)
                rows = conn.execute(points.order_by(metrics.c.step, metrics.c.timestamp)).all()
                return MetricSeries(key, [r[0] for r in rows], [r[1] for r in rows], total)
            width = bucket_width(first, last, max_points)
            bucket = (metrics.c.step - first) // width  # SQLAlchemy 2: "/" is true division
            grouped = (
                select(
                    func.min(metrics.c.step),
                    func.max(metrics.c.step),
                    func.min(metrics.c.value),
                    func.max(metrics.c.value),
                    func.count(),
                )
                .where(owned)
                .group_by(bucket)
                .order_by(func.min(metrics.c.step))
            )
            buckets = conn.execute(grouped).all()
        xs, ys = min_max_points([tuple(row[:4]) for row in buckets])
        return MetricSeries(key, xs, ys, sum(row[4] for row in buckets))

    def search_runs(self, scope: Scope, query: RunQuery) -> Page[Run]:
        if not query.experiment_ids:
            return Page([], None)
        ids_only = self.db.is_sqlite and SQLITE_JSON
        with self.db.read() as conn:
            rows, token = cut_page(
                self._page_rows(conn, scope, query, ids_only),
                query.max_results,
                query.page_token,
            )
            if ids_only:
                found = load_page(conn, [row[0] for row in rows])
            else:
                found = load_runs(conn, [RunRow._make(row) for row in rows])
        return Page(found, token)

    # -- helpers -----------------------------------------------------------------------------

    def _update_run(self, scope: Scope, run_id: str, values: dict[str, Any]) -> Run:
        with self.db.write() as conn:
            # Locked on PostgreSQL: two calls ending one run see each other's status, and a
            # batch being written (it holds a share lock) lands before the run is packed.
            row = self._run_row(conn, scope, run_id, lock=True)
            if values:
                conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
            status = values.get("status", row.status)
            if status != row.status and RunStatus.RUNNING.value in (status, row.status):
                if status == RunStatus.RUNNING.value:
                    sql_packs.drop_packs(conn, run_id)  # its series may grow again
                else:
                    sql_packs.pack_run(conn, run_id)  # ended: its series are final
            # What was written is known: the row as updated, without reading it back.
            return load_runs(conn, [row._replace(**values)])[0]

    def _write_params(self, conn: Connection, run_id: str, new: dict[str, str]) -> None:
        # Insert first, then compare the keys that were already there. Reading first would
        # miss a concurrent writer's uncommitted row on PostgreSQL, and both writers would
        # "win"; the insert waits for that writer instead, and the read after it sees its row.
        inserted = {key for (key,) in _write_pairs(conn, params, run_id, new, _KEEP)}
        existing = [key for key in new if key not in inserted]
        if not existing:
            return
        stored = dict(
            conn.execute(
                select(params.c.key, params.c.value).where(
                    params.c.run_id == run_id, params.c.key.in_(existing)
                )
            ).all()
        )
        for key in existing:
            if stored.get(key) != new[key]:
                raise Conflict(
                    f"param {key!r} of run {run_id!r} is already {stored.get(key)!r}; "
                    f"cannot change it to {new[key]!r} (params are immutable)",
                    {"key": key, "stored": stored.get(key), "new": new[key]},
                )

    def _write_metrics(
        self, conn: Connection, run_id: str, points: Sequence[Metric]
    ) -> list[Point] | None:
        """Write ``points``; returns their rows when the run had no points before."""
        if not points:
            return None
        first = not driver_sql.rows(conn, _any_point_sql(conn.dialect), (run_id,))
        isnan = math.isnan
        rows = [
            (run_id, m.key, m.step, m.timestamp, None if isnan(m.value) else m.value)
            for m in points
        ]
        if not first:  # a retried batch must not double points
            rows = unstored_points(conn, run_id, rows)
            if not rows:
                return None
        # Plain tuples straight to the driver: SQLAlchemy's per-row parameter handling cost
        # more than SQLite's insert itself.
        driver_sql.insert_rows(conn, metrics, _POINT_COLUMNS, rows)
        latest: dict[str, Point] = {}
        for row in rows:
            seen = latest.get(row[1])
            if seen is None or (row[2], row[3]) >= (seen[2], seen[3]):
                latest[row[1]] = row
        conn.exec_driver_sql(_latest_upsert_sql(conn.dialect), list(latest.values()))
        return rows if first else None

    def _check_name_free(self, conn: Connection, scope: Scope, name: str) -> None:
        row = conn.execute(
            select(experiments.c.lifecycle).where(
                experiments.c.workspace_id == scope.workspace, experiments.c.name == name
            )
        ).first()
        if row is not None:
            hint = (
                " (it is deleted: restore it or pick another name)"
                if row.lifecycle == "deleted"
                else ""
            )
            raise AlreadyExists(f"experiment {name!r} already exists{hint}")

    def _experiment(self, conn: Connection, scope: Scope, experiment_id: str) -> Experiment:
        # every run start: plain text
        sql = driver_sql.select_by(conn.dialect, experiments, ("id", "workspace_id"))
        row = conn.exec_driver_sql(sql, (experiment_id, scope.workspace)).first()
        if row is None:
            raise NotFound(f"experiment {experiment_id!r} not found")
        return _to_experiment(row)

    def _run_row(
        self, conn: Connection, scope: Scope, run_id: str, *, lock: bool = False
    ) -> RunRow:
        # plain text: Core cost three times the read
        suffix = "FOR UPDATE" if lock else ""
        sql = driver_sql.select_by(conn.dialect, runs, ("id", "workspace_id"), suffix)
        found = driver_sql.rows(conn, sql, (run_id, scope.workspace))
        if not found:
            raise NotFound(f"run {run_id!r} not found")
        return RunRow._make(found[0])

    def _run_status(self, conn: Connection, scope: Scope, run_id: str, lock: str) -> str:
        """The status of the workspace's run, locked on PostgreSQL (``FOR SHARE``: the run
        cannot end, and pack its series, while a batch is being written into it)."""
        sql = driver_sql.select_by(conn.dialect, runs, ("id", "workspace_id"), lock, ("status",))
        found = driver_sql.rows(conn, sql, (run_id, scope.workspace))
        if not found:
            raise NotFound(f"run {run_id!r} not found")
        return str(found[0][0])

    def _page_rows(
        self, conn: Connection, scope: Scope, query: RunQuery, ids_only: bool
    ) -> list[tuple[Any, ...]]:
        """One page of runs (``max_results + 1`` rows, for the next-page check): every
        column, or only the id.

        A search ordered by a metric, param or tag has two good plans: from the filters'
        indexes (fast when they match few runs) or down the ordering's index, stopping at
        the page's end (fast when they match many: at 100,000 runs, 2 ms against 60).
        PostgreSQL's planner weighs both with its statistics. SQLite's always picks the
        first, so it is tried with a bounded amount of work, then the second likewise, and
        the first again without a bound when neither settled the page.
        """
        sql, values = search_sql(conn.dialect, scope, query, ids_only=ids_only)
        if not (self.db.is_sqlite and orders_by_a_value(query)):
            return driver_sql.rows(conn, sql, values)
        rows = driver_sql.bounded_rows(conn, sql, values, FILTERS_FIRST_STEPS)
        if rows is not None:
            return rows
        ordered, ordered_values = search_sql(
            conn.dialect, scope, query, order_first=True, ids_only=ids_only
        )
        rows = driver_sql.bounded_rows(conn, ordered, ordered_values, ORDER_FIRST_STEPS)
        if rows is not None and len(rows) > query.max_results:
            return rows  # a full page of runs that have the value: it sorts before the rest
        return driver_sql.rows(conn, sql, values)


# SQLite instructions each search plan may take before the other is tried (see _page_rows),
# about 10 microseconds per thousand: a selective filter settles in a few thousand, W2's 2,000
# runs in 16,000 (in order: 39,000, as fast), and W2L's 100,000 runs read from the filters
# in 650,000 (in order: 35,000).
FILTERS_FIRST_STEPS = 20_000
ORDER_FIRST_STEPS = 500_000


# What a (run_id, key, value) row does when the key is there: a param stays (and its key is
# not returned, so that the caller compares the values), a tag takes the new value.
_KEEP, _REPLACE = "keep", "replace"


def _write_pairs(
    conn: Connection, table: Table, run_id: str, pairs: dict[str, str], conflict: str
) -> list[tuple[Any, ...]]:
    """Insert ``pairs`` as (run_id, key, value) rows in multi-row statements (on every
    dialect: RETURNING needs one statement, not executemany), as plain SQL: Core compiled
    each upsert once per process (a millisecond of the first run) and bound its rows slower.
    Returns the keys inserted when ``conflict`` is ``_KEEP``."""
    rows = [(run_id, key, value) for key, value in pairs.items()]
    inserted: list[tuple[Any, ...]] = []
    for chunk in driver_sql.multi_row_chunks(rows):
        sql = _pairs_sql(conn.dialect, table, len(chunk), conflict)
        values = tuple(itertools.chain.from_iterable(chunk))
        if conflict == _KEEP:
            inserted += driver_sql.rows(conn, sql, values)
        else:
            conn.exec_driver_sql(sql, values)
    return inserted


@functools.lru_cache(maxsize=64)
def _pairs_sql(dialect: Dialect, table: Table, count: int, conflict: str) -> str:
    key, value = (
        dialect.identifier_preparer.quote("key"),
        dialect.identifier_preparer.quote("value"),
    )
    insert = driver_sql.insert(dialect, table, ("run_id", "key", "value"), count)
    if conflict == _KEEP:
        return f"{insert} ON CONFLICT (run_id, {key}) DO NOTHING RETURNING {key}"
    return f"{insert} ON CONFLICT (run_id, {key}) DO UPDATE SET {value} = excluded.{value}"


@functools.lru_cache(maxsize=4)
def _end_sql(dialect: Dialect) -> str:
    m = driver_sql.marker(dialect)
    return f"UPDATE runs SET status = {m}, end_time = {m} WHERE id = {m} AND workspace_id = {m}"


@functools.lru_cache(maxsize=4)
def _any_point_sql(dialect: Dialect) -> str:
    return f"SELECT 1 FROM metrics WHERE run_id = {driver_sql.marker(dialect)} LIMIT 1"


@functools.lru_cache(maxsize=4)
def _latest_upsert_sql(dialect: Dialect) -> str:
    """Each key's latest point replaces the stored one unless that is later (executemany of
    ``_POINT_COLUMNS`` tuples; SQLAlchemy's per-row parameter handling cost more)."""
    insert = driver_sql.insert(dialect, latest_metrics, _POINT_COLUMNS)
    key, stamp = (
        dialect.identifier_preparer.quote("key"),
        dialect.identifier_preparer.quote("timestamp"),
    )
    return (
        f"{insert} ON CONFLICT (run_id, {key}) DO UPDATE SET value = excluded.value, "
        f"step = excluded.step, {stamp} = excluded.{stamp} "
        f"WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
        f"AND excluded.{stamp} >= latest_metrics.{stamp})"
    )


@functools.lru_cache(maxsize=4)
def _history_sql(dialect: Dialect) -> tuple[str, str]:
    """Whether the run is the workspace's, and the points of one key of the workspace's run
    in step order (one statement: the ownership check rides on the read)."""
    m, q = driver_sql.marker(dialect), dialect.identifier_preparer.quote
    owned = f"SELECT 1 FROM runs WHERE id = {m} AND workspace_id = {m}"
    points = (
        f"SELECT p.value, p.step, p.{q('timestamp')} FROM runs AS r "
        f"JOIN metrics AS p ON p.run_id = r.id "
        f"WHERE r.id = {m} AND r.workspace_id = {m} AND p.{q('key')} = {m} "
        f"ORDER BY p.step, p.{q('timestamp')}, p.value"  # ties as a pack holds them
    )
    return owned, points


_POINT_COLUMNS = ("run_id", "key", "step", "timestamp", "value")


def _kv_rows(run_id: str, values: dict[str, str]) -> list[dict[str, str]]:
    return [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]


def _to_experiment(row: Any) -> Experiment:
    return Experiment(
        id=row.id,
        name=row.name,
        workspace_id=row.workspace_id,
        lifecycle=Lifecycle(row.lifecycle),
        artifact_location=row.artifact_location,
        created_time=row.created_time,
        updated_time=row.updated_time,
    )
