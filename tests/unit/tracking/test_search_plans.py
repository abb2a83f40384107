"""SQLite's two search plans (sql.py ``_page_rows``): read from the filters' indexes, or down
the ordering's index stopping at the page. Whichever answers, the pages must be the same,
runs without the ordering's value (missing, or NaN) last, page after page."""

from __future__ import annotations

import math
import random

import pytest

from gnomon._types import Scope
from gnomon.store import driver_sql
from gnomon.store.database import Database
from gnomon.store.migrate import ensure_schema
from gnomon.tracking import sql as tracking_sql
from gnomon.tracking.entities import Metric, NewRun, RunData
from gnomon.tracking.search import build_query
from gnomon.tracking.sql import SqlTrackingStore
from gnomon.tracking.sql_search_plan import search_sql

SCOPE = Scope()
QUERIES = [
    ("metrics.acc > 0.3", ["metrics.f1 DESC"]),
    ("metrics.acc > 0.3 and params.model = 'rf'", ["metrics.f1 ASC", "params.depth DESC"]),
    ("params.model != 'lr'", ["params.depth DESC"]),
    ("", ["tags.team ASC", "metrics.acc DESC"]),
    ("tags.team IS NULL", ["metrics.f1 DESC"]),
    ("metrics.f1 IS NOT NULL", ["metrics.f1 ASC"]),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqlTrackingStore, str]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('plans') / 'gnomon.db'}")
    ensure_schema(db)
    store = SqlTrackingStore(db)
    experiment = store.create_experiment(SCOPE, "plans", "/tmp/unused")
    rng = random.Random(7)
    for i in range(240):
        run = store.create_run(SCOPE, NewRun(experiment.id, f"run-{i}", "u", 1000 + i % 40))
        points = [Metric("acc", rng.random(), 0, 1)]
        if i % 5:  # every fifth run has no f1; some have NaN, some share a value
            f1 = math.nan if i % 11 == 0 else round(rng.random(), 1)
            points.append(Metric("f1", f1, 0, 1))
        params = {"model": rng.choice(["rf", "gb", "lr"]), "depth": str(rng.randint(1, 9))}
        tags = {"team": rng.choice(["a", "b"])} if i % 3 else {}
        store.log_batch(SCOPE, run.id, RunData(points, params, tags))
    return store, experiment.id


def pages(store: SqlTrackingStore, experiment: str, flt: str, order: list[str]) -> list[str]:
    names, token = [], None
    while True:
        page = store.search_runs(SCOPE, build_query([experiment], flt, order, 7, token))
        names += [run.name for run in page]
        token = page.next_page_token
        if token is None:
            return names


@pytest.mark.parametrize(("flt", "order"), QUERIES)
def test_both_plans_give_the_same_pages(
    store: tuple[SqlTrackingStore, str], flt: str, order: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_store, experiment = store
    monkeypatch.setattr(tracking_sql, "FILTERS_FIRST_STEPS", 10**12)  # filters first, always
    expected = pages(sql_store, experiment, flt, order)
    monkeypatch.setattr(tracking_sql, "FILTERS_FIRST_STEPS", 0)  # give up on it at once
    assert pages(sql_store, experiment, flt, order) == expected
    assert len(expected) == len(set(expected)) > 7


@pytest.mark.parametrize(("flt", "order"), QUERIES)
def test_the_ordered_plan_is_a_prefix_of_the_full_order(
    store: tuple[SqlTrackingStore, str], flt: str, order: list[str]
) -> None:
    sql_store, experiment = store
    query = build_query([experiment], flt, order, 50)
    with sql_store.db.read() as conn:
        full = driver_sql.rows(conn, *search_sql(conn.dialect, SCOPE, query))
        ordered = driver_sql.rows(conn, *search_sql(conn.dialect, SCOPE, query, order_first=True))
    assert ordered and full[: len(ordered)] == ordered


def test_a_bounded_read_gives_up_and_leaves_the_transaction_usable(
    store: tuple[SqlTrackingStore, str],
) -> None:
    sql_store, experiment = store
    query = build_query([experiment], "metrics.acc > 0", ["metrics.f1 DESC"], 200)
    with sql_store.db.read() as conn:
        sql, values = search_sql(conn.dialect, SCOPE, query)
        assert driver_sql.bounded_rows(conn, sql, values, 0) is None
        assert len(driver_sql.rows(conn, sql, values)) == 201  # the page and one more
