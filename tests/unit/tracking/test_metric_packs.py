"""Packed series on SQLite: a run's packs appear when it ends and go when it runs again,
runs recorded already ended are packed as they are stored, and a series read from rows (no
pack: a run ended before packs existed, or too long to pack) reads the same."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import delete, event, func, select

from gnomon._types import Scope, now_ms
from gnomon.errors import Conflict
from gnomon.store.database import Database
from gnomon.tracking import sql_packs
from gnomon.tracking.entities import FinishedRun, Metric, NewRun, RunData, RunStatus, RunUpdate
from gnomon.tracking.sql import SqlTrackingStore
from gnomon.tracking.tables import metric_packs
from tests.fixtures.databases import fresh_workspace

SCOPE = Scope()


@pytest.fixture
def store(sqlite_db: Database) -> SqlTrackingStore:
    return SqlTrackingStore(sqlite_db)


def _packed(store: SqlTrackingStore, run_id: str) -> dict[str, int]:
    query = select(metric_packs.c.key, metric_packs.c.points).where(metric_packs.c.run_id == run_id)
    with store.db.read() as conn:
        return {key: points for key, points in conn.execute(query)}


def _run(
    store: SqlTrackingStore, points: list[Metric], experiment_name: str = "e", scope: Scope = SCOPE
) -> str:
    experiment = store.create_experiment(scope, experiment_name, "/tmp/packs")
    run = store.create_run(scope, NewRun(experiment.id, "r", "ann", now_ms()))
    store.log_batch(scope, run.id, RunData(points))
    return run.id


def _statements_of_ending(store: SqlTrackingStore, run_id: str) -> list[str]:
    """The SQL that ending ``run_id`` ran."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.db.engine, "before_cursor_execute", count)
    try:
        store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.FINISHED))
    finally:
        event.remove(store.db.engine, "before_cursor_execute", count)
    return statements


def _same(a: list[Metric], b: list[Metric]) -> bool:
    def plain(points: list[Metric]) -> list[tuple[object, ...]]:
        return [(p.key, repr(p.value), p.step, p.timestamp) for p in points]

    return plain(a) == plain(b)


def test_a_run_is_packed_when_it_ends_and_unpacked_when_it_runs_again(
    store: SqlTrackingStore,
) -> None:
    points = [Metric("loss", 1 / (s + 1), s, 100 + s) for s in range(50)]
    run_id = _run(store, [*points, Metric("acc", math.nan, 0, 1)])
    assert _packed(store, run_id) == {}
    rows = store.get_metric_history(SCOPE, run_id, "loss")
    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.FINISHED))
    assert _packed(store, run_id) == {"loss": 50, "acc": 1}
    assert _same(store.get_metric_history(SCOPE, run_id, "loss"), rows)
    assert math.isnan(store.get_metric_history(SCOPE, run_id, "acc")[0].value)

    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.RUNNING))
    assert _packed(store, run_id) == {}
    store.log_batch(SCOPE, run_id, RunData([Metric("loss", 0.0, 50, 150)]))
    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.KILLED))
    assert _packed(store, run_id)["loss"] == 51
    with store.db.write() as conn:  # the run ends for good: its rows go with it
        conn.exec_driver_sql("DELETE FROM runs WHERE id = ?", (run_id,))
    assert _packed(store, run_id) == {}


def test_runs_recorded_already_ended_are_packed_as_they_are_stored(
    store: SqlTrackingStore,
) -> None:
    parent = _run(store, [])
    experiment_id = store.get_run(SCOPE, parent).experiment_id
    steps = [
        FinishedRun(
            NewRun(experiment_id, f"step-{i}", "ann", now_ms(), parent_run_id=parent),
            RunStatus.FINISHED,
            now_ms(),
            RunData([Metric("rows", float(s * i), s, 10 - s) for s in (3, 1, 2)]),
        )
        for i in range(3)
    ]
    ids = store.add_finished_runs(SCOPE, steps)
    for i, run_id in enumerate(ids):
        assert _packed(store, run_id) == {"rows": 3}
        history = store.get_metric_history(SCOPE, run_id, "rows")
        assert [(p.step, p.value) for p in history] == [(1, i), (2, 2 * i), (3, 3 * i)]


def test_a_series_without_a_pack_reads_from_its_rows(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_packs, "MAX_PACKED_POINTS", 10)  # "long" from 11 points
    run_id = _run(
        store,
        [Metric("long", float(s), s, 1) for s in range(11)] + [Metric("short", 1.0, 0, 1)],
    )
    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.FINISHED))
    assert _packed(store, run_id) == {"short": 1}
    assert [p.value for p in store.get_metric_history(SCOPE, run_id, "long")] == list(
        map(float, range(11))
    )
    with store.db.write() as conn:  # as a run that ended before packs existed
        conn.execute(delete(metric_packs))
        assert conn.execute(select(func.count()).select_from(metric_packs)).scalar() == 0
    assert [p.value for p in store.get_metric_history(SCOPE, run_id, "short")] == [1.0]


def test_ending_a_very_large_run_packs_only_what_its_budget_allows(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_packs, "PACK_BUDGET", 5)
    run_id = _run(store, [Metric(k, float(s), s, 1) for k in ("a", "b") for s in range(5)])
    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.FINISHED))
    assert len(_packed(store, run_id)) == 1  # the budget ran out after the first key read
    for key in ("a", "b"):
        assert [p.value for p in store.get_metric_history(SCOPE, run_id, key)] == [
            0.0, 1.0, 2.0, 3.0, 4.0
        ]  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest) -> tuple[SqlTrackingStore, Scope]:
    if request.param == "sqlite":
        return SqlTrackingStore(request.getfixturevalue("sqlite_db")), SCOPE
    db = request.getfixturevalue("postgres_db")
    return SqlTrackingStore(db), fresh_workspace(db)


def test_a_run_recorded_ended_reads_as_its_rows_do(
    any_store: tuple[SqlTrackingStore, Scope],
) -> None:
    # Ties on (step, timestamp) come back in the rows' order (the index's: by value, NaN's
    # NULL first on SQLite and last on PostgreSQL), and -0.0 as the rows hold it.
    store, scope = any_store
    experiment = store.create_experiment(scope, "e", "/tmp/packs")
    parent = store.create_run(scope, NewRun(experiment.id, "p", "ann", now_ms()))
    logged = [Metric("m", 2.0, 1, 1), Metric("m", math.nan, 1, 1), Metric("m", 1.0, 1, 1),
              Metric("m", -0.0, 0, 1), Metric("m", math.inf, 1, 1)]  # fmt: skip
    step = NewRun(experiment.id, "s", "ann", now_ms(), parent_run_id=parent.id)
    [run_id] = store.add_finished_runs(
        scope, [FinishedRun(step, RunStatus.FINISHED, 5, RunData(logged))]
    )

    def history() -> list[tuple[object, ...]]:
        points = store.get_metric_history(scope, run_id, "m")
        return [(repr(p.value), p.step, p.timestamp) for p in points]

    assert _packed(store, run_id) == {"m": 5}
    packed = history()
    with store.db.write() as conn:  # as a run that ended before packs existed
        conn.execute(delete(metric_packs).where(metric_packs.c.run_id == run_id))
    assert packed == history()


def test_ending_a_run_of_many_keys_reads_a_bounded_number_of_them(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key costs a query whatever its points: a run of a million one-point keys must not
    # hold the write lock for a million queries. A key read counts as 100 points.
    monkeypatch.setattr(sql_packs, "PACK_BUDGET", 10_000)
    run_id = _run(store, [Metric(f"k{i:04d}", float(i), 0, 1) for i in range(1_000)])
    statements = _statements_of_ending(store, run_id)
    # One read of the whole run first (too many keys for its budget), then key by key.
    assert len([s for s in statements if "FROM metrics" in s]) <= 1 + 10_000 // 100
    assert len(_packed(store, run_id)) == 10_000 // 100
    for i in (0, 999):
        assert [p.value for p in store.get_metric_history(SCOPE, run_id, f"k{i:04d}")] == [i]


def test_ending_a_run_of_a_few_series_reads_its_points_once(store: SqlTrackingStore) -> None:
    points = [Metric(k, float(s), s, 1) for s in range(100) for k in ("b", "a", "c")]
    run_id = _run(store, points)
    statements = _statements_of_ending(store, run_id)
    assert len([s for s in statements if "FROM metrics" in s]) == 1
    assert _packed(store, run_id) == {"a": 100, "b": 100, "c": 100}
    history = store.get_metric_history(SCOPE, run_id, "b")
    assert [(p.step, p.value) for p in history] == [(s, float(s)) for s in range(100)]


def _packs(store: SqlTrackingStore, run_id: str) -> list[tuple[object, ...]]:
    columns = (metric_packs.c.key, metric_packs.c.points, metric_packs.c.step_bytes)
    query = select(*columns, metric_packs.c.time_bytes, metric_packs.c.value_bytes)
    with store.db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(query.where(metric_packs.c.run_id == run_id)))


@pytest.mark.parametrize("earlier", [False, True])
def test_a_last_batch_that_ends_its_run_packs_as_ending_it_later_does(
    any_store: tuple[SqlTrackingStore, Scope], earlier: bool
) -> None:
    # Ties on (step, timestamp), NaN, -0.0, and keys out of order: the packs made from the
    # batch in memory must be byte for byte those read back from the rows.
    store, scope = any_store
    points = [Metric(k, v, s, t) for s, t in ((1, 5), (0, 9), (1, 5)) for k, v in
              (("b", -0.0), ("a", math.nan), ("a", 2.0), ("b", 1.5))]  # fmt: skip
    first, last = (points[:5], points[5:]) if earlier else ([], points)
    both = []
    for ending in (False, True):
        run_id = _run(store, first, f"e{ending}", scope)
        if ending:
            store.log_batch_and_end(scope, run_id, RunData(last, {"p": "1"}), RunStatus.FAILED)
        else:
            store.log_batch(scope, run_id, RunData(last, {"p": "1"}))
            store.update_run(scope, run_id, RunUpdate(status=RunStatus.FAILED))
        run = store.get_run(scope, run_id)
        assert run.status is RunStatus.FAILED and run.end_time is not None
        assert run.params == {"p": "1"}
        both.append(_packs(store, run_id))
    assert both[0] == both[1] and len(both[0]) == 2


def test_a_last_batch_for_a_run_that_ended_writes_nothing(store: SqlTrackingStore) -> None:
    run_id = _run(store, [])
    store.update_run(SCOPE, run_id, RunUpdate(status=RunStatus.FINISHED))
    with pytest.raises(Conflict, match="FINISHED"):
        store.log_batch_and_end(
            SCOPE, run_id, RunData([Metric("m", 1.0)], {"p": "1"}), RunStatus.KILLED
        )
    run = store.get_run(SCOPE, run_id)
    assert (run.status, run.params, run.metrics) == (RunStatus.FINISHED, {}, {})
