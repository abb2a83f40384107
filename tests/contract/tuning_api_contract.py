"""The TuningApi contract (``client.tuning``), one suite for embedded and remote mode: studies,
and the journal Optuna replays, with every refusal leaving nothing written."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from gnomon._types import Scope
from gnomon.errors import AlreadyExists, InvalidInput, NotFound
from gnomon.tuning.api import MAX_LOG_BYTES, MAX_LOGS_PER_APPEND, TuningApi
from gnomon.tuning.journal import storage
from gnomon.tuning.service import TuningService
from gnomon.tuning.sql import SqlTuningStore
from tests.fixtures.api_modes import Target


def op(n: int) -> dict[str, Any]:
    return {"op_code": 2, "worker_id": "w", "study_id": 0, "user_attr": {"n": n}}


class TuningApiContract:
    __test__ = False

    @pytest.fixture
    def api(self, target: Target) -> TuningApi:
        return target.client.tuning  # type: ignore[no-any-return]

    def test_create_get_list_and_delete(self, api: TuningApi) -> None:
        first = api.create_study("rf", ["maximize"], settings={"sampler": "tpe"})
        second = api.create_study("gbm", ["minimize", "maximize"])
        assert (first.name, first.directions, first.settings) == (
            "rf",
            ("maximize",),
            {"sampler": "tpe"},
        )
        assert second.multi_objective and first.logs == 0
        assert api.get_study("rf") == first == api.get_study(first.id)
        assert [s.name for s in api.list_studies()] == ["gbm", "rf"]
        api.delete_study("rf")
        with pytest.raises(NotFound, match="no study 'rf'"):
            api.get_study("rf")
        assert [s.name for s in api.list_studies()] == ["gbm"]

    def test_study_errors(self, api: TuningApi) -> None:
        api.create_study("rf", ["minimize"])
        with pytest.raises(AlreadyExists, match="study 'rf' already exists"):
            api.create_study("rf", ["minimize"])
        for bad in ("a/b", " rf", ".", "x" * 129):
            with pytest.raises(InvalidInput):
                api.create_study(bad, ["minimize"])
        with pytest.raises(InvalidInput, match="minimize"):
            api.create_study("sideways", ["sideways"])
        with pytest.raises(NotFound):
            api.delete_study("missing")
        assert [s.name for s in api.list_studies()] == ["rf"]

    def test_journal_appends_in_order_and_reads_from_a_number(self, api: TuningApi) -> None:
        study = api.create_study("rf", ["minimize"])
        assert api.append_logs(study.id, [op(0), op(1)]) == 0
        assert api.append_logs(study.id, [op(2)]) == 2
        assert [log["user_attr"]["n"] for log in api.read_logs(study.id, 0)] == [0, 1, 2]
        assert [log["user_attr"]["n"] for log in api.read_logs(study.id, 1, limit=1)] == [1]
        assert api.read_logs(study.id, 3) == []
        assert api.get_study("rf").logs == 3
        api.delete_study(study.id)  # with its journal
        with pytest.raises(NotFound):
            api.read_logs(study.id, 0)

    def test_bad_logs_are_refused_and_nothing_is_written(self, api: TuningApi) -> None:
        study = api.create_study("rf", ["minimize"])
        api.append_logs(study.id, [op(0)])
        bad_batches: list[list[Any]] = [
            [op(1), {"worker_id": "w"}],  # no operation
            [{"op_code": 99}],  # no operation Optuna knows: every replay would stop
            [{"op_code": True}],
            [{"op_code": 2, "blob": "x" * MAX_LOG_BYTES}],
            [op(1)] * (MAX_LOGS_PER_APPEND + 1),
        ]
        for batch in bad_batches:
            with pytest.raises(InvalidInput):
                api.append_logs(study.id, batch)
        assert len(api.read_logs(study.id, 0)) == 1 and api.get_study("rf").logs == 1
        with pytest.raises(NotFound):
            api.append_logs("0" * 32, [op(0)])
        with pytest.raises(NotFound):
            api.read_logs("0" * 32, 0)

    def test_another_workspace_never_sees_the_study(self, api: TuningApi, target: Target) -> None:
        study = api.create_study("rf", ["minimize"])
        other = TuningService(SqlTuningStore(target.registry.store.db))  # type: ignore[attr-defined]
        stranger = Scope("someone-elses", "mallory")
        for reach in (
            lambda: other.get_study(stranger, study.id),
            lambda: other.get_study(stranger, "rf"),
            lambda: other.read_logs(stranger, study.id, 0),
            lambda: other.append_logs(stranger, study.id, [op(0)]),
            lambda: other.delete_study(stranger, study.id),
        ):
            with pytest.raises(NotFound):
                reach()
        assert api.get_study("rf").logs == 0

    def test_optuna_replays_the_journal(self, api: TuningApi) -> None:
        study = api.create_study("quadratic", ["minimize"])
        made = optuna.create_study(study_name="quadratic", storage=storage(api, study.id))
        made.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=5)
        again = optuna.load_study(study_name="quadratic", storage=storage(api, study.id))
        trials = again.get_trials()
        assert [t.number for t in trials] == [0, 1, 2, 3, 4]
        assert again.best_value == min(t.value for t in trials)
