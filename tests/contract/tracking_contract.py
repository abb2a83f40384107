"""The TrackingStore contract, one suite for every implementation (SQLite, PostgreSQL, HTTP).

Subclasses supply ``store`` (a TrackingStore), ``scope`` (a workspace of its own) and
``other_scope`` (a second workspace on the same database).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from gnomon._types import Scope, now_ms
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from gnomon.tracking.entities import Lifecycle, Metric, NewRun, RunData, RunStatus, RunUpdate
from gnomon.tracking.search import build_query
from gnomon.tracking.store import TrackingStore

ROOT = "/tmp/gnomon-contract-artifacts"


def new_run(store: TrackingStore, scope: Scope, experiment_id: str, name: str = "r", **kw: object):
    spec = NewRun(experiment_id=experiment_id, name=name, user="ann", start_time=now_ms(), **kw)
    return store.create_run(scope, spec)


class TrackingStoreContract:
    __test__ = False

    # -- experiments -------------------------------------------------------------------------

    def test_create_and_get_experiment(self, store: TrackingStore, scope: Scope) -> None:
        created = store.create_experiment(scope, "churn", ROOT)
        assert created.name == "churn"
        assert created.lifecycle is Lifecycle.ACTIVE
        # Under the root the store chose (the server picks its own): <root>/<experiment id>.
        assert created.artifact_location.endswith(f"/{created.id}")
        assert store.get_experiment(scope, created.id) == created
        assert store.get_experiment_by_name(scope, "churn") == created

    def test_duplicate_experiment_name(self, store: TrackingStore, scope: Scope) -> None:
        store.create_experiment(scope, "churn", ROOT)
        with pytest.raises(AlreadyExists, match="'churn' already exists"):
            store.create_experiment(scope, "churn", ROOT)

    def test_deleted_experiment_keeps_its_name(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "churn", ROOT)
        store.set_experiment_lifecycle(scope, exp.id, Lifecycle.DELETED)
        with pytest.raises(AlreadyExists, match="deleted"):
            store.create_experiment(scope, "churn", ROOT)
        restored = store.set_experiment_lifecycle(scope, exp.id, Lifecycle.ACTIVE)
        assert restored.lifecycle is Lifecycle.ACTIVE

    def test_unknown_experiment(self, store: TrackingStore, scope: Scope) -> None:
        with pytest.raises(NotFound, match="'nope'"):
            store.get_experiment(scope, "nope")
        with pytest.raises(NotFound, match="'ghost'"):
            store.get_experiment_by_name(scope, "ghost")
        with pytest.raises(NotFound):
            store.rename_experiment(scope, "nope", "x")
        with pytest.raises(NotFound):
            store.set_experiment_lifecycle(scope, "nope", Lifecycle.DELETED)

    def test_list_experiments_pages_and_lifecycle(self, store: TrackingStore, scope: Scope) -> None:
        ids = {name: store.create_experiment(scope, name, ROOT).id for name in "edcba"}
        store.set_experiment_lifecycle(scope, ids["c"], Lifecycle.DELETED)
        first = store.list_experiments(scope, max_results=2)
        assert [e.name for e in first] == ["a", "b"]
        second = store.list_experiments(scope, max_results=2, page_token=first.next_page_token)
        assert [e.name for e in second] == ["d", "e"]
        assert second.next_page_token is None
        everything = store.list_experiments(scope, lifecycle=None)
        assert [e.name for e in everything] == ["a", "b", "c", "d", "e"]
        deleted = store.list_experiments(scope, lifecycle=Lifecycle.DELETED)
        assert [e.name for e in deleted] == ["c"]

    def test_bad_page_token(self, store: TrackingStore, scope: Scope) -> None:
        with pytest.raises(InvalidInput, match="page token"):
            store.list_experiments(scope, page_token="garbage!")

    def test_rename_experiment(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "old", ROOT)
        store.create_experiment(scope, "taken", ROOT)
        assert store.rename_experiment(scope, exp.id, "new").name == "new"
        assert store.get_experiment_by_name(scope, "new").id == exp.id
        with pytest.raises(NotFound):
            store.get_experiment_by_name(scope, "old")
        with pytest.raises(AlreadyExists, match="'taken'"):
            store.rename_experiment(scope, exp.id, "taken")

    def test_same_name_in_two_workspaces(
        self, store: TrackingStore, scope: Scope, other_scope: Scope
    ) -> None:
        mine = store.create_experiment(scope, "churn", ROOT)
        theirs = store.create_experiment(other_scope, "churn", ROOT)
        assert mine.id != theirs.id
        assert store.get_experiment_by_name(other_scope, "churn").id == theirs.id

    # -- runs --------------------------------------------------------------------------------

    def test_create_and_get_run(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id, "first", tags={"team": "growth"}, description="d")
        assert run.status is RunStatus.RUNNING
        assert run.end_time is None
        assert run.tags == {"team": "growth"}
        assert run.description == "d"
        assert run.artifact_uri == f"{exp.artifact_location}/{run.id}/artifacts"
        assert store.get_run(scope, run.id) == run

    def test_nested_run(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        parent = new_run(store, scope, exp.id)
        child = new_run(store, scope, exp.id, parent_run_id=parent.id)
        assert child.parent_run_id == parent.id
        with pytest.raises(NotFound, match="'missing'"):
            new_run(store, scope, exp.id, parent_run_id="missing")

    def test_run_in_unknown_or_deleted_experiment(self, store: TrackingStore, scope: Scope) -> None:
        with pytest.raises(NotFound):
            new_run(store, scope, "nope")
        exp = store.create_experiment(scope, "e", ROOT)
        store.set_experiment_lifecycle(scope, exp.id, Lifecycle.DELETED)
        with pytest.raises(Conflict, match="deleted"):
            new_run(store, scope, exp.id)

    def test_end_and_resume_run(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        ended = store.update_run(scope, run.id, RunUpdate(status=RunStatus.FAILED, end_time=123))
        assert (ended.status, ended.end_time) == (RunStatus.FAILED, 123)
        resumed = store.update_run(scope, run.id, RunUpdate(status=RunStatus.RUNNING))
        assert (resumed.status, resumed.end_time) == (RunStatus.RUNNING, None)
        renamed = store.update_run(scope, run.id, RunUpdate(name="n2", description="why"))
        assert (renamed.name, renamed.description) == ("n2", "why")

    def test_run_of_another_workspace_is_not_found(
        self, store: TrackingStore, scope: Scope, other_scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        with pytest.raises(NotFound):
            store.get_run(other_scope, run.id)
        with pytest.raises(NotFound):
            store.get_experiment(other_scope, exp.id)
        with pytest.raises(NotFound):
            store.log_batch(other_scope, run.id, RunData(params={"a": "1"}))
        with pytest.raises(NotFound):
            new_run(store, other_scope, exp.id)
        assert store.get_run(scope, run.id).params == {}

    def test_delete_and_restore_run(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        assert (
            store.set_run_lifecycle(scope, run.id, Lifecycle.DELETED).lifecycle is Lifecycle.DELETED
        )
        assert (
            store.set_run_lifecycle(scope, run.id, Lifecycle.ACTIVE).lifecycle is Lifecycle.ACTIVE
        )
        with pytest.raises(NotFound):
            store.set_run_lifecycle(scope, "nope", Lifecycle.DELETED)

    # -- logging -----------------------------------------------------------------------------

    def test_log_batch_round_trip(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        points = [Metric("loss", 1.0 / (s + 1), s, 1000 + s) for s in range(5)]
        store.log_batch(scope, run.id, RunData(points, {"depth": "8"}, {"stage": "baseline"}))
        got = store.get_run(scope, run.id)
        assert got.params == {"depth": "8"}
        assert got.tags == {"stage": "baseline"}
        assert got.metrics == {"loss": pytest.approx(0.2)}
        assert store.get_metric_history(scope, run.id, "loss") == points

    def test_nan_and_infinity_are_faithful(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        values = [math.nan, math.inf, -math.inf, -0.5]
        store.log_batch(
            scope, run.id, RunData([Metric(f"m{i}", v, 0, 1) for i, v in enumerate(values)])
        )
        store.log_batch(
            scope, run.id, RunData([Metric("s", v, i, 1) for i, v in enumerate(values)])
        )
        got = store.get_run(scope, run.id).metrics
        assert math.isnan(got["m0"])
        assert (got["m1"], got["m2"], got["m3"]) == (math.inf, -math.inf, -0.5)
        history = [m.value for m in store.get_metric_history(scope, run.id, "s")]
        assert math.isnan(history[0]) and history[1:] == [math.inf, -math.inf, -0.5]

    def test_latest_metric_is_highest_step_then_newest(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        store.log_batch(scope, run.id, RunData([Metric("acc", 0.9, 10, 100)]))
        store.log_batch(scope, run.id, RunData([Metric("acc", 0.1, 3, 999)]))  # older step
        assert store.get_run(scope, run.id).metrics["acc"] == 0.9
        store.log_batch(scope, run.id, RunData([Metric("acc", 0.95, 10, 200)]))  # same, newer
        store.log_batch(
            scope, run.id, RunData([Metric("acc", 0.5, 11, 5), Metric("acc", 0.6, 11, 4)])
        )
        assert store.get_run(scope, run.id).metrics["acc"] == 0.5

    def test_param_values_are_immutable(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        store.log_batch(scope, run.id, RunData(params={"depth": "8"}))
        store.log_batch(scope, run.id, RunData(params={"depth": "8"}))  # same value: fine
        batch = RunData([Metric("loss", 1.0, 0, 1)], {"depth": "9", "lr": "0.1"}, {"t": "x"})
        with pytest.raises(Conflict, match=r"'depth'.*'8'.*'9'"):
            store.log_batch(scope, run.id, batch)
        got = store.get_run(scope, run.id)
        assert (got.params, got.metrics, got.tags) == ({"depth": "8"}, {}, {})

    def test_logging_to_ended_run_is_a_conflict(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        store.update_run(scope, run.id, RunUpdate(status=RunStatus.FINISHED))
        with pytest.raises(Conflict, match="FINISHED"):
            store.log_batch(scope, run.id, RunData([Metric("loss", 1.0, 0, 1)]))
        assert store.get_metric_history(scope, run.id, "loss") == []

    def test_history_reads_the_same_once_the_run_ends_and_after_it_runs_again(
        self, store: TrackingStore, scope: Scope, other_scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run, neighbour = new_run(store, scope, exp.id), new_run(store, scope, exp.id, "n")
        # Steps out of order, a tie on (step, timestamp) order, NaN and infinities, two keys.
        logged = [Metric("loss", v, s, t) for v, s, t in [(0.5, 2, 20), (math.nan, 0, 5),
                  (math.inf, 1, 9), (0.25, 1, 7), (-math.inf, 3, 1), (2**-1074, 4, 2)]]  # fmt: skip
        store.log_batch(scope, run.id, RunData([*logged, Metric("acc", 0.75, 0, 1)]))
        store.log_batch(scope, neighbour.id, RunData([Metric("loss", 9.0, 0, 1)]))

        def history(key: str = "loss") -> list[tuple[object, ...]]:
            points = store.get_metric_history(scope, run.id, key)
            return [
                ("nan" if math.isnan(p.value) else p.value, p.step, p.timestamp) for p in points
            ]

        running = history()
        assert [p[1:] for p in running] == [(0, 5), (1, 7), (1, 9), (2, 20), (3, 1), (4, 2)]
        store.update_run(scope, run.id, RunUpdate(status=RunStatus.FINISHED))
        assert history() == running and history("acc") == [(0.75, 0, 1)]
        assert history("nothing") == []
        store.update_run(scope, run.id, RunUpdate(status=RunStatus.KILLED))  # ended to ended
        assert history() == running
        store.update_run(scope, run.id, RunUpdate(status=RunStatus.RUNNING))
        store.log_batch(scope, run.id, RunData([Metric("loss", 0.125, 1, 8)]))
        grown = history()
        assert grown == [*running[:2], (0.125, 1, 8), *running[2:]]
        store.update_run(scope, run.id, RunUpdate(status=RunStatus.FAILED))
        assert history() == grown
        [other] = store.get_metric_history(scope, neighbour.id, "loss")
        assert other.value == 9.0
        with pytest.raises(NotFound):
            store.get_metric_history(other_scope, run.id, "loss")

    def test_a_run_ended_by_two_callers_at_once_reads_its_history(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        runs = [new_run(store, scope, exp.id, f"r{i}") for i in range(4)]
        points = [Metric("loss", 1 / (s + 1), s, 1000 + s) for s in range(20)]
        for run in runs:
            store.log_batch(scope, run.id, RunData(points))
        end = RunUpdate(status=RunStatus.FINISHED)
        with ThreadPoolExecutor(8) as pool:  # a retried end racing its original, per run
            list(pool.map(lambda run: store.update_run(scope, run.id, end), runs * 2))
        for run in runs:
            assert store.get_metric_history(scope, run.id, "loss") == points

    def test_unknown_run(self, store: TrackingStore, scope: Scope) -> None:
        with pytest.raises(NotFound, match="'ghost'"):
            store.get_run(scope, "ghost")
        with pytest.raises(NotFound):
            store.log_batch(scope, "ghost", RunData(params={"a": "1"}))
        with pytest.raises(NotFound):
            store.get_metric_history(scope, "ghost", "loss")
        with pytest.raises(NotFound):
            store.update_run(scope, "ghost", RunUpdate(name="x"))

    def test_history_of_unknown_key_is_empty(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        assert store.get_metric_history(scope, run.id, "nothing") == []

    # -- what dashboards read -----------------------------------------------------------------

    def test_metric_series_is_every_point_up_to_the_limit(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        points = [Metric("loss", 1 / (s + 1), s, s) for s in range(20)]
        store.log_batch(scope, run.id, RunData(points))
        series = store.metric_series(scope, run.id, "loss", 20)
        assert series.steps == list(range(20))
        assert series.values == [p.value for p in points]
        assert not series.downsampled
        ranged = store.metric_series(scope, run.id, "loss", 20, (5, 9))
        assert ranged.steps == [5, 6, 7, 8, 9] and ranged.total == 5
        assert store.metric_series(scope, run.id, "other", 20).steps == []

    def test_a_long_series_is_cut_keeping_its_extremes(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        exp = store.create_experiment(scope, "e", ROOT)
        run = new_run(store, scope, exp.id)
        points = [Metric("loss", 100.0 - s / 10, s, s) for s in range(1000)]
        points[437] = Metric("loss", 500.0, 437, 437)  # a spike a plain stride would miss
        points[811] = Metric("loss", -50.0, 811, 811)
        store.log_batch(scope, run.id, RunData(points))
        series = store.metric_series(scope, run.id, "loss", 100)
        assert series.downsampled
        assert series.total == 1000
        assert len(series.steps) <= 100
        assert series.steps == sorted(series.steps)
        assert 500.0 in series.values and -50.0 in series.values
        assert series.steps[0] == 0 and series.steps[-1] == 999
        assert series.values[0] == 100.0  # a falling curve starts at its top, no sawtooth

    def test_metric_series_of_a_run_elsewhere_is_not_found(
        self, store: TrackingStore, scope: Scope, other_scope: Scope
    ) -> None:
        exp = store.create_experiment(other_scope, "e", ROOT)
        run = new_run(store, other_scope, exp.id)
        with pytest.raises(NotFound):
            store.metric_series(scope, run.id, "loss", 10)
        with pytest.raises(NotFound):
            store.metric_series(scope, "ghost", "loss", 10)

    def test_experiment_activity_counts_active_runs(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        busy = store.create_experiment(scope, "busy", ROOT)
        idle = store.create_experiment(scope, "idle", ROOT)
        runs = [new_run(store, scope, busy.id, f"r{i}") for i in range(3)]
        store.set_run_lifecycle(scope, runs[0].id, Lifecycle.DELETED)
        ended = store.update_run(
            scope, runs[1].id, RunUpdate(status=RunStatus.FINISHED, end_time=now_ms() + 5_000)
        )
        found = store.experiment_activity(scope, [idle.id, busy.id, "ghost"])
        assert [(a.experiment_id, a.runs) for a in found] == [
            (idle.id, 0),
            (busy.id, 2),
            ("ghost", 0),
        ]
        assert found[0].last_activity is None
        assert found[1].last_activity == ended.end_time

    # -- search ------------------------------------------------------------------------------

    def _population(self, store: TrackingStore, scope: Scope) -> tuple[str, dict[str, str]]:
        exp = store.create_experiment(scope, "search", ROOT)
        ids = {}
        table = [
            ("rf-1", "rf", 0.95, 0.90, "1"),
            ("rf-2", "rf", 0.85, 0.80, "2"),
            ("rf-3", "rf", 0.97, None, "3"),
            ("gb-1", "gb", 0.92, 0.93, "1"),
            ("lr-1", "lr", 0.70, 0.60, "2"),
        ]
        for offset, (name, model, acc, f1, depth) in enumerate(table):
            spec = NewRun(exp.id, name, "ann", 1_000 + offset, tags={"team": f"t{offset % 2}"})
            run = store.create_run(scope, spec)
            points = [Metric("acc", acc, 0, 1)] + ([Metric("f1", f1, 0, 1)] if f1 else [])
            store.log_batch(scope, run.id, RunData(points, {"model": model, "depth": depth}))
            ids[name] = run.id
        store.update_run(scope, ids["lr-1"], RunUpdate(status=RunStatus.FINISHED))
        return exp.id, ids

    def _names(
        self, store: TrackingStore, scope: Scope, exp_id: str, flt: str, order=None
    ) -> list[str]:
        page = store.search_runs(scope, build_query([exp_id], flt, order))
        return [run.name for run in page]

    def test_search_issue_query(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, _ = self._population(store, scope)
        names = self._names(
            store, scope, exp_id, "metrics.acc > 0.9 and params.model = 'rf'", ["metrics.f1 DESC"]
        )
        assert names == ["rf-1", "rf-3"]  # rf-3 has no f1: sorts last

    @pytest.mark.parametrize(
        ("flt", "expected"),
        [
            ("metrics.acc >= 0.92", {"rf-1", "rf-3", "gb-1"}),
            ("metrics.acc < 0.85", {"lr-1"}),
            ("metrics.acc != 0.95", {"rf-2", "rf-3", "gb-1", "lr-1"}),
            ("params.model != 'rf'", {"gb-1", "lr-1"}),
            ("params.model IN ('gb', 'lr')", {"gb-1", "lr-1"}),
            ("params.depth NOT IN ('1')", {"rf-2", "rf-3", "lr-1"}),
            ("tags.team = 't1'", {"rf-2", "gb-1"}),
            ("attributes.name LIKE 'rf-%'", {"rf-1", "rf-2", "rf-3"}),
            ("name ILIKE 'GB%'", {"gb-1"}),
            ("status = 'FINISHED'", {"lr-1"}),
            ("status IN ('running')", {"rf-1", "rf-2", "rf-3", "gb-1"}),
            ("start_time >= 1003", {"gb-1", "lr-1"}),
            ("metrics.f1 > 0 and params.depth = '1' and tags.team = 't0'", {"rf-1"}),
            ("metrics.missing > 0", set()),
            ("metrics.f1 IS NULL", {"rf-3"}),
            ("metrics.f1 is not null and params.model = 'rf'", {"rf-1", "rf-2"}),
            ("tags.team IS NULL", set()),
            ("params.missing IS NULL and tags.team = 't0'", {"rf-1", "rf-3", "lr-1"}),
            ("parent_run_id IS NULL", {"rf-1", "rf-2", "rf-3", "gb-1", "lr-1"}),
        ],
    )
    def test_search_filters(
        self, store: TrackingStore, scope: Scope, flt: str, expected: set[str]
    ) -> None:
        exp_id, _ = self._population(store, scope)
        assert set(self._names(store, scope, exp_id, flt)) == expected

    def test_search_over_no_experiment_finds_nothing(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        self._population(store, scope)
        page = store.search_runs(scope, build_query([], "metrics.acc > 0"))
        assert (list(page), page.next_page_token) == ([], None)

    def test_search_by_run_id(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, ids = self._population(store, scope)
        flt = f"run_id IN ('{ids['rf-2']}', '{ids['lr-1']}')"
        assert set(self._names(store, scope, exp_id, flt)) == {"rf-2", "lr-1"}

    def test_search_by_parent(self, store: TrackingStore, scope: Scope) -> None:
        exp = store.create_experiment(scope, "sweep", ROOT)
        sweep = new_run(store, scope, exp.id, "sweep")
        other = new_run(store, scope, exp.id, "other")
        trials = [new_run(store, scope, exp.id, f"t{i}", parent_run_id=sweep.id) for i in (0, 1)]
        new_run(store, scope, exp.id, "t1-fold", parent_run_id=trials[1].id)
        new_run(store, scope, exp.id, "o0", parent_run_id=other.id)
        children = {
            f"parent_run_id = '{sweep.id}'": {"t0", "t1"},
            f"attributes.parent_run_id IN ('{trials[1].id}', '{other.id}')": {"t1-fold", "o0"},
            # A run without a parent has no value to differ: != leaves it out, like a metric.
            f"parent_run_id != '{sweep.id}'": {"t1-fold", "o0"},
            "parent_run_id IS NULL": {"sweep", "other"},
            "parent_run_id IS NOT NULL and name LIKE 't%'": {"t0", "t1", "t1-fold"},
            f"tags.mlflow.parentRunId = '{sweep.id}'": {"t0", "t1"},
        }
        for flt, expected in children.items():
            assert set(self._names(store, scope, exp.id, flt)) == expected, flt
        ordered = self._names(store, scope, exp.id, "name LIKE 't%'", ["parent_run_id DESC"])
        assert ordered.index("t1-fold") == (0 if trials[1].id > sweep.id else 2)

    def test_search_ordering(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, _ = self._population(store, scope)
        assert self._names(store, scope, exp_id, "", ["metrics.acc ASC"])[0] == "lr-1"
        assert self._names(store, scope, exp_id, "", ["params.model", "metrics.acc DESC"]) == [
            "gb-1",
            "lr-1",
            "rf-3",
            "rf-1",
            "rf-2",
        ]
        # Default: newest start time first.
        assert self._names(store, scope, exp_id, "")[0] == "lr-1"

    def test_search_pages_cover_everything_once(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, ids = self._population(store, scope)
        seen, token = [], None
        while True:
            page = store.search_runs(scope, build_query([exp_id], None, ["metrics.acc"], 2, token))
            seen += [run.id for run in page]
            token = page.next_page_token
            if token is None:
                break
        assert sorted(seen) == sorted(ids.values())

    def test_search_returns_full_runs(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, ids = self._population(store, scope)
        (run,) = store.search_runs(scope, build_query([exp_id], "name = 'gb-1'"))
        assert run == store.get_run(scope, ids["gb-1"])

    def test_search_gives_every_value_back_exactly(
        self, store: TrackingStore, scope: Scope
    ) -> None:
        # SQLite hands a search page over as JSON: text must survive escaping, and numbers
        # JSON would round (0.1 + 0.2, subnormals) must come back bit for bit.
        exp = store.create_experiment(scope, "e", ROOT)
        parent = new_run(store, scope, exp.id, "parent")
        run = new_run(store, scope, exp.id, 'odd "name" \\ é', parent_run_id=parent.id)
        text = 'quote " backslash \\ newline \n tab \t nul-free ☃ 𝄞 {"json": [1]} null'
        numbers = [0.1 + 0.2, 5e-324, 1.7976931348623157e308, -2.5e-310, math.nan, 1 / 3]
        store.log_batch(
            scope,
            run.id,
            RunData(
                [Metric(f"m{i}", v, 0, 1) for i, v in enumerate(numbers)],
                {"text": text, "number": "0.30000000000000004", "empty": ""},
                {"text": text, "null": "null"},
            ),
        )
        (found,) = store.search_runs(scope, build_query([exp.id], f"run_id = '{run.id}'"))
        stored = store.get_run(scope, run.id)
        assert replace(found, metrics={}) == replace(stored, metrics={})
        assert found.name == run.name and found.parent_run_id == parent.id
        assert found.params == {"text": text, "number": "0.30000000000000004", "empty": ""}
        assert found.tags["text"] == text and found.tags["null"] == "null"
        got = [found.metrics[f"m{i}"] for i in range(len(numbers))]
        assert got[:4] + got[5:] == numbers[:4] + numbers[5:] and math.isnan(got[4])

    def test_search_skips_deleted(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, ids = self._population(store, scope)
        store.set_run_lifecycle(scope, ids["rf-1"], Lifecycle.DELETED)
        assert "rf-1" not in self._names(store, scope, exp_id, "")
        everything = store.search_runs(scope, build_query([exp_id], include_deleted=True))
        assert len(everything) == 5
        store.set_experiment_lifecycle(scope, exp_id, Lifecycle.DELETED)
        assert self._names(store, scope, exp_id, "") == []

    def test_search_is_scoped_to_workspace(
        self, store: TrackingStore, scope: Scope, other_scope: Scope
    ) -> None:
        exp_id, _ = self._population(store, scope)
        assert len(store.search_runs(other_scope, build_query([exp_id]))) == 0

    def test_search_across_experiments(self, store: TrackingStore, scope: Scope) -> None:
        exp_id, _ = self._population(store, scope)
        other = store.create_experiment(scope, "other", ROOT)
        new_run(store, scope, other.id, "lonely")
        page = store.search_runs(scope, build_query([exp_id, other.id], "name LIKE '%l%'"))
        assert {run.name for run in page} == {"lr-1", "lonely"}
